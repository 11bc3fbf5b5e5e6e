"""The plugin surface stays documented and tested.

Every hook in ``benchbase/hookspecs.py`` must have a section in
``docs/plugins.md`` headed by its signature, saying when it is called and what
to return, with an example; and a test whose name holds the hook's name
(``test_hook_<hook name>``, ``test_<hook name>_...``) somewhere under
``tests/``. Every field a plugin can set is documented, and every example on
the page runs as a plugin. A hook added later is held to the
same rules without editing this file.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import types
from pathlib import Path

import pytest

import benchbase
import benchbase.testing
from benchbase import DataContext, hookspecs
from benchbase.data import FileSource, FileSpec
from benchbase.plugins import PluginInfo, load_catalog

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "plugins.md").read_text()
HOOKS = sorted(name for name, value in vars(hookspecs).items()
               if callable(value) and hasattr(value, "benchbase_spec"))
SPECS = [benchbase.AlgorithmSpec, benchbase.DatasetSpec, benchbase.Dataset,
         benchbase.DataContext, FileSource, FileSpec, benchbase.ReportSection,
         benchbase.ReferenceSpec, benchbase.ExecutorSpec, benchbase.SuiteSpec,
         benchbase.DatasetForm]


def _annotation(value) -> str:
    return value if isinstance(value, str) else inspect.formatannotation(value)


def signature(hook) -> str:
    """``name(arg: type, ...) -> type`` as hookspecs.py declares it."""
    sig = inspect.signature(hook)
    params = ", ".join(
        p.name if p.annotation is p.empty else f"{p.name}: {_annotation(p.annotation)}"
        for p in sig.parameters.values())
    returns = ("" if sig.return_annotation is sig.empty
               else f" -> {_annotation(sig.return_annotation)}")
    return f"{hook.__name__}({params}){returns}"


def section(heading: str) -> str:
    """The text under the heading line ``heading`` up to the next heading."""
    lines = DOC.splitlines()
    assert heading in lines, f"docs/plugins.md has no heading {heading!r}"
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")),
               len(lines))
    return "\n".join(lines[start:end])


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_there_are_hooks():
    assert {"benchbase_register_algorithms", "benchbase_register_datasets",
            "benchbase_resolve_dataset", "benchbase_report_sections",
            "benchbase_report_references"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook):
    text = section(f"### `{signature(getattr(hookspecs, hook))}`")
    assert "**When it is called:**" in text and "**What to return:**" in text
    examples = python_blocks(text)
    assert any("@benchbase.hookimpl" in block and f"def {hook}(" in block
               for block in examples), f"the {hook} section has no example implementing it"


def _test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
    return names


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    assert any(name.startswith("test_") and hook in name for name in _test_names()), (
        f"no test under tests/ names {hook}")


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.__name__)
def test_every_field_a_plugin_sets_is_documented(spec):
    rows = [line for line in section(f"### `{spec.__name__}`").splitlines()
            if line.startswith("| ")]
    for field in dataclasses.fields(spec):
        assert any(f"`{field.name}`" in row for row in rows), (
            f"docs/plugins.md: the {spec.__name__} table lacks `{field.name}`")


def test_the_grid_scorer_protocol_is_documented():
    text = section("### `GridScorer`")
    keywords = [name for name, p in inspect.signature(benchbase.GridScorer.__call__)
                .parameters.items() if p.kind is p.KEYWORD_ONLY]
    assert f"score_grid(*, {', '.join(keywords)})" in text
    for name in keywords:
        assert f"`{name}`" in text


def _example_plugins() -> list[tuple[PluginInfo, types.ModuleType]]:
    plugins = []
    for number, source in enumerate(python_blocks(DOC)):
        if "@benchbase.hookimpl" not in source:
            continue
        module = types.ModuleType(f"plugins_md_example_{number}")
        module.__file__ = str(ROOT / "docs" / f"{module.__name__}.py")  # as if a file
        exec(compile(source, f"docs/plugins.md example {number}", "exec"), module.__dict__)
        plugins.append((PluginInfo(module.__name__, module.__name__, "docs", "0"), module))
    return plugins


def test_the_examples_run_as_plugins(monkeypatch):
    plugins = _example_plugins()
    catalog = load_catalog(extra=plugins)
    assert not catalog.problems, catalog.problems
    ours = {info.name for info, _ in plugins}
    algorithms = [name for name in catalog.algorithms
                  if catalog.algorithms.plugin_of(name).name in ours]
    datasets = [name for name in catalog.datasets
                if catalog.datasets.plugin_of(name).name in ours]
    assert algorithms and datasets
    # Checked the way a plugin author would check them (the conformance helper
    # sees the examples as if they were installed).
    monkeypatch.setattr(benchbase.testing, "load_catalog", lambda: catalog)
    for name in algorithms:
        benchbase.testing.check_algorithm(name)
    for name in datasets:
        assert isinstance(catalog.dataset(name).load(DataContext()), benchbase.Dataset)
    resolved = catalog.dataset("blobs-3")  # the resolver example's names
    assert resolved.load(DataContext()).n_features == 16
