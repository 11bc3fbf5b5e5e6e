"""benchbase: benchmark the ELM and autoencoder families on image classification.

From Python: ``benchbase.run(...)``, ``benchbase.load(folder)`` and their
``benchbase.Results`` (``benchbase.api``). Plugin authors need only what this
module exports::

    import benchbase

    @benchbase.hookimpl
    def benchbase_register_algorithms():
        return [benchbase.AlgorithmSpec(name="MyAlgo", family="mine", factory=MyClassifier)]
"""

from __future__ import annotations

import importlib.metadata

import pluggy

from benchbase.specs import (
    AlgorithmSpec,
    DataContext,
    Dataset,
    DatasetForm,
    DatasetSpec,
    ExecutorSpec,
    GridScorer,
    ReferenceSpec,
    ReportSection,
    SuiteSpec,
)

#: The distribution name (``benchbase`` itself is taken on the package index).
DISTRIBUTION = "benchbase-suite"

try:
    __version__ = importlib.metadata.version(DISTRIBUTION)
except importlib.metadata.PackageNotFoundError:  # a bare checkout, not installed
    __version__ = "0+unknown"

hookimpl = pluggy.HookimplMarker("benchbase")

#: The Python API (``benchbase.api``), imported on first use: it needs pandas,
#: which ``benchbase --version`` and a plugin's import should not pay for.
_API = ("Results", "load", "run")


def __getattr__(name: str):
    if name in _API:
        from benchbase import api

        return getattr(api, name)
    raise AttributeError(f"module 'benchbase' has no attribute {name!r}")

__all__ = [
    "DISTRIBUTION",
    "AlgorithmSpec",
    "DataContext",
    "Dataset",
    "DatasetForm",
    "DatasetSpec",
    "ExecutorSpec",
    "GridScorer",
    "ReferenceSpec",
    "ReportSection",
    "Results",
    "SuiteSpec",
    "__version__",
    "hookimpl",
    "load",
    "run",
]
