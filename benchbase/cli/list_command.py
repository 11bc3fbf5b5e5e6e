"""``benchbase list``: what the installed plugins provide, and where it comes from."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
from typing import Any

from benchbase.cli import args as cli_args
from benchbase.cli import exits
from benchbase.plugins import (
    Catalog,
    missing_accelerators,
    missing_requirements,
)
from benchbase.specs import AlgorithmSpec


def _listing(catalog: Catalog) -> dict[str, Any]:
    from benchbase.plan.suites import SuiteError

    def origin(registry, name):
        info = registry.plugin_of(name)
        return {"plugin": info.name, "distribution": info.distribution,
                "version": info.version}

    def availability(spec) -> dict[str, Any]:
        missing = missing_requirements(spec)
        slower = missing_accelerators(spec) if isinstance(spec, AlgorithmSpec) else {}
        return {"available": not missing, "missing": missing,
                "missing_accelerators": slower,
                "install_hint": spec.install_hint if missing or slower else ""}

    suites = []
    for name in catalog.suites:
        entry = {"name": name, "description": "", "problem": "",
                 **origin(catalog.suites, name)}
        try:
            entry["description"] = catalog.suite(name).description
        except SuiteError as exc:  # listed, not fatal: `run NAME` shows the error
            entry["problem"] = str(exc)
        suites.append(entry)
    return {
        "algorithms": [{"name": spec.name, "family": spec.family,
                        "description": spec.description, **availability(spec),
                        **origin(catalog.algorithms, spec.name)}
                       for spec in catalog.algorithms.specs()],
        "datasets": [{"name": spec.name, "description": spec.description,
                      "embedded": spec.embedded, **origin(catalog.datasets, spec.name)}
                     for spec in catalog.datasets.specs()],
        "dataset_forms": [{"pattern": form.pattern, "description": form.description,
                           **origin(catalog.dataset_forms, form.name)}
                          for form in catalog.dataset_forms.specs()],
        "suites": suites,
        "executors": [{"name": spec.name, "description": spec.description,
                       **availability(spec), **origin(catalog.executors, spec.name)}
                      for spec in catalog.executors.specs()],
        "plugins": [{"name": info.name, "module": info.module,
                     "distribution": info.distribution, "version": info.version}
                    for info in catalog.plugins],
        "problems": [str(problem) for problem in catalog.problems],
    }


def _terminal_width() -> int | None:
    """The terminal's columns; for a pipe or file, ``COLUMNS`` if set, else no limit."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else None


def _print_columns(title: str, rows: list[list[str]], wrap: int = 1) -> None:
    """A heading, then rows whose columns line up however long the names. Where
    a row is wider than the terminal, column ``wrap`` is wrapped, and the cells
    after it follow it on its last line or on lines of their own."""
    print(f"{title}:")
    if not rows:
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    width = _terminal_width()
    fits = width is None or 2 + sum(widths) + 2 * (len(widths) - 1) <= width
    for row in rows:
        if fits:
            cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
            print("  " + "  ".join(cells).rstrip())
            continue
        lead = "  " + "".join(cell.ljust(w + 2)
                              for cell, w in zip(row[:wrap], widths[:wrap], strict=True))
        room = max(width - len(lead), 20)
        lines = textwrap.wrap(row[wrap], room, break_on_hyphens=False) or [""]
        for cell in filter(None, row[wrap + 1:]):  # after the text, or below it
            if len(lines[-1]) + 2 + len(cell) <= room:
                lines[-1] += "  " + cell
            else:
                lines += textwrap.wrap(cell, room, break_on_hyphens=False)
        print(lead + lines[0])
        for line in lines[1:]:
            print(" " * len(lead) + line)


def _source(entry: dict[str, Any]) -> str:
    return f"({entry['distribution']} {entry['version']})"


def _state(entry: dict[str, Any]) -> str:
    hint = entry.get("install_hint") or "see its plugin"
    if not entry.get("available", True):
        return f"[unavailable: missing {', '.join(entry['missing'])}; {hint}]"
    slower = entry.get("missing_accelerators")
    if slower:
        return ("[slower: missing " + "; ".join(f"{name} ({what})" for name, what
                                                in slower.items()) + f"; {hint}]")
    return ""


def cmd_list(args: argparse.Namespace) -> int:
    catalog = cli_args.command_catalog(warn=not args.json)
    listing = _listing(catalog)
    if args.json:
        print(json.dumps(listing, indent=2))
        return exits.OK
    _print_columns("Algorithms", [
        [a["name"], a["family"], a["description"], _source(a), _state(a)]
        for a in listing["algorithms"]], wrap=2)
    _print_columns("Datasets", [
        [d["name"], d["description"] + (" [embedded]" if d["embedded"] else ""),
         _source(d)] for d in listing["datasets"]]
        + [[f["pattern"], f["description"], _source(f)] for f in listing["dataset_forms"]])
    _print_columns("Suites (benchbase run NAME)", [
        [s["name"], s["description"] or f"[unreadable: {s['problem']}]", _source(s)]
        for s in listing["suites"]])
    _print_columns("Executors", [
        [e["name"], e["description"], _source(e), _state(e)] for e in listing["executors"]])
    _print_columns("Plugins", [
        [p["name"], p["module"], f"{p['distribution']} {p['version']}"]
        for p in listing["plugins"]])
    return exits.OK



def add_list_parser(sub) -> None:
    lister = sub.add_parser("list", help="list algorithms, datasets and plugins",
                            description="List what the installed plugins provide.")
    lister.add_argument("--json", action="store_true", help="machine-readable output")
    lister.set_defaults(handler=cmd_list)
