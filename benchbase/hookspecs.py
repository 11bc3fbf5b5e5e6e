"""Every benchbase hook, in one place.

Hooks discover things: each returns a list of specs that the core gathers into
a registry. Training a model is never a hook (a hook call fans out to every
plugin); it is a method of the estimator an ``AlgorithmSpec`` points to.

Plugins implement these with ``@benchbase.hookimpl`` in a module named by an
entry point in the ``benchbase`` group. Each hook is documented with its
signature, when it is called, what to return and an example in
docs/plugins.md, and tested by a test whose name holds the hook's name;
tests/test_plugin_docs.py fails for a hook added here without both.
"""

from __future__ import annotations

import pluggy

from benchbase.specs import (
    AlgorithmSpec,
    DatasetForm,
    DatasetSpec,
    ExecutorSpec,
    ReferenceSpec,
    ReportSection,
    SuiteSpec,
)

hookspec = pluggy.HookspecMarker("benchbase")


@hookspec
def benchbase_register_algorithms() -> list[AlgorithmSpec]:
    """Return the algorithms this plugin adds (a list of ``AlgorithmSpec``)."""


@hookspec
def benchbase_register_datasets() -> list[DatasetSpec]:
    """Return the datasets this plugin adds (a list of ``DatasetSpec``)."""


@hookspec(firstresult=True)
def benchbase_resolve_dataset(name: str) -> DatasetSpec | None:
    """Make a dataset from a name no plugin registered (e.g. ``idx:/path/to/dir``).

    Return None when the name is not yours; the first non-None answer wins.
    """


@hookspec
def benchbase_register_dataset_forms() -> list[DatasetForm]:
    """Return the kinds of dataset names your ``benchbase_resolve_dataset``
    answers (a list of ``DatasetForm``), for ``benchbase list`` to show."""


@hookspec
def benchbase_register_executors() -> list[ExecutorSpec]:
    """Return the executors this plugin adds (a list of ``ExecutorSpec``): ways to
    run trials, chosen with ``benchbase run --executor NAME``
    (``benchbase.execution`` describes what an executor does)."""


@hookspec
def benchbase_report_sections() -> list[ReportSection]:
    """Return the report sections this plugin adds (a list of ``ReportSection``).

    Called when a report is built, never during a run, so a section may import
    plotting libraries inside its ``render``.
    """


@hookspec
def benchbase_report_references() -> list[ReferenceSpec]:
    """Return published results to show beside ours (a list of ``ReferenceSpec``:
    TOML files, typically shipped as package data)."""


@hookspec
def benchbase_register_suites() -> list[SuiteSpec]:
    """Return the suites this plugin adds (a list of ``SuiteSpec``: TOML files,
    typically shipped as package data), run with ``benchbase run NAME``."""
