"""Published results on these datasets, shown beside ours in every report.

``pan-zhao-tables.toml`` (package data): Tables 3.1 (USPS) and 3.2 (MNIST,
random 6,000 / 1,000) of the paper benchbase reproduces, with its citation.
"""

from __future__ import annotations

from importlib.resources import files

import benchbase


@benchbase.hookimpl
def benchbase_report_references():
    return [benchbase.ReferenceSpec(
        "pan-zhao", files("benchbase_datasets") / "pan-zhao-tables.toml")]
