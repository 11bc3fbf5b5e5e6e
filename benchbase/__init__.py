"""benchbase: benchmark the ELM and autoencoder families on image classification.

Plugin authors need only what this module exports::

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
    "SuiteSpec",
    "__version__",
    "hookimpl",
]
