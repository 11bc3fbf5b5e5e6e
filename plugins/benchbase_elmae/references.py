"""The ELM autoencoders' published MNIST results, shown beside ours in reports
(package data: one TOML file per paper, each with its citation)."""

from __future__ import annotations

from importlib.resources import files

import benchbase


@benchbase.hookimpl
def benchbase_report_references():
    folder = files("benchbase_elmae")
    return [benchbase.ReferenceSpec("kasun-2013", folder / "kasun-2013.toml"),
            benchbase.ReferenceSpec("tang-2016", folder / "tang-2016.toml")]
