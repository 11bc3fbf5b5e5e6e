"""benchbase's built-in suites, registered as a third-party plugin would ship its own.

``quick`` is what a bare ``benchbase run`` does; ``paper``, ``full`` and
``ddae-ablation`` are the published comparisons (``reports/``). Each is a TOML
file beside this module (package data).
"""

from __future__ import annotations

from importlib.resources import files

import benchbase

SUITES = ("quick", "paper", "full", "ddae-ablation")


@benchbase.hookimpl
def benchbase_register_suites():
    folder = files("benchbase_suites")
    return [benchbase.SuiteSpec(name, folder / f"{name}.toml") for name in SUITES]
