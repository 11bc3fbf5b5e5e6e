"""What every command shares: reading names and values typed on the command line,
and printing the plugin catalog's problems."""

from __future__ import annotations

import ast
import sys
from typing import Any

from benchbase.cli.exits import UsageError
from benchbase.plugins import Catalog, load_catalog


def names(text: str | None) -> list[str] | None:
    """A comma-separated list of names (None when the option was not given)."""
    if text is None:
        return None
    found = [name.strip() for name in text.split(",") if name.strip()]
    if not found:
        raise UsageError("expected a comma-separated list of names")
    return found


def value(text: str) -> Any:
    """A Python literal (100, 1e-3, None, [1, 2]) or, failing that, the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare word such as float32


def command_catalog(warn: bool = True) -> Catalog:
    """Every plugin, loaded for a command: warns about those that failed to load
    (unless not ``warn``) and refreshes shell completion's cached names."""
    from benchbase.cli.completion import remember_names

    catalog = load_catalog()
    if warn:
        report_problems(catalog)
    remember_names(catalog)
    return catalog


def report_problems(catalog: Catalog) -> None:
    """Warn about every plugin that failed to load (the others still work)."""
    for problem in catalog.problems:
        print(f"benchbase: warning: {problem}", file=sys.stderr)
