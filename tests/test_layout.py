"""The layout is the map of a trial's path: checked, so it stays readable."""

import ast
from collections import Counter
from pathlib import Path

import benchbase

PACKAGE = Path(benchbase.__file__).resolve().parent
#: Subpackages, in the order a trial passes through them (README, "Layout").
SUBPACKAGES = ["cli", "plan", "trial", "execution", "results", "report", "data", "numerics"]


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_two_modules_share_a_file_name():
    names = Counter(path.name for path in _modules() if path.name != "__init__.py")
    assert [name for name, count in names.items() if count > 1] == []


def test_the_top_level_holds_few_modules_and_the_stage_packages():
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top
    packages = sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))
    assert packages == sorted(SUBPACKAGES)


def test_every_package_says_what_it_holds():
    for init in PACKAGE.rglob("__init__.py"):
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), init


def test_the_core_never_imports_the_plugins_numerics():
    """Kernels, ridge solvers and devices are the algorithm plugins' (shared
    through ``benchbase.numerics``); the harness must not depend on them."""
    numerics = PACKAGE / "numerics"
    offenders = {str(path.relative_to(PACKAGE)): sorted(
                     name for name in _imports(path) if name.startswith("benchbase.numerics"))
                 for path in _modules() if numerics not in path.parents}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_core_names_no_builtin_plugin():
    plugins = ("benchbase_elm", "benchbase_ae", "benchbase_datasets", "benchbase_suites")
    offenders = {str(path.relative_to(PACKAGE)): sorted(
                     name for name in _imports(path) if name.startswith(plugins))
                 for path in _modules()}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_what_runs_in_a_trial_does_not_reach_back_into_planning_or_execution():
    """Data flow one way: a trial's own code needs nothing of the stages that
    plan and run it (nor of the command line or the reports)."""
    later = ("benchbase.plan", "benchbase.execution", "benchbase.cli", "benchbase.report")
    offenders = {str(path.relative_to(PACKAGE)): sorted(
                     name for name in _imports(path) if name.startswith(later))
                 for path in (PACKAGE / "trial").rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_results_need_no_other_stage():
    """A results folder is read without planning, running or reporting code."""
    others = ("benchbase.plan", "benchbase.trial", "benchbase.execution", "benchbase.cli",
              "benchbase.report")
    offenders = {str(path.relative_to(PACKAGE)): sorted(
                     name for name in _imports(path) if name.startswith(others))
                 for path in (PACKAGE / "results").rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}
