# PYTHON_ARGCOMPLETE_OK
"""The ``benchbase`` command line: run, report, list, data."""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import benchbase
from benchbase import exits
from benchbase.datacli import add_data_parser
from benchbase.execution import DEFAULT_TIMEOUT_S, ExecutorOptionError
from benchbase.exits import UsageError
from benchbase.plugins import Catalog, PluginError, UnknownNameError, load_catalog
from benchbase.runner import check_params
from benchbase.selection import HALVING_MIN_SAMPLES, STRATEGIES
from benchbase.specs import DataContext
from benchbase.store import ResultStore
from benchbase.suites import Overrides, Suite, SuiteError, parse_seeds, plan_suite
from benchbase.summary import display_table, name_variants, summarize

#: What a bare ``benchbase run`` runs.
DEFAULT_SUITE = "quick"


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise UsageError("expected a comma-separated list of names")
    return names


def _value(text: str) -> Any:
    """A Python literal (100, 1e-3, None, [1, 2]) or, failing that, the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare word such as float32


def _parse_params(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``ALGO:NAME=VALUE`` items -> {algorithm: {name: value}}."""
    params: dict[str, dict[str, Any]] = {}
    for item in items:
        target, sep, value = item.partition("=")
        algorithm, colon, name = target.partition(":")
        if not (sep and colon and algorithm and name):
            raise UsageError(f"--param {item!r}: expected ALGORITHM:NAME=VALUE, "
                             "e.g. KELM:C=100")
        params.setdefault(algorithm, {})[name] = _value(value)
    return params


def _report_problems(catalog: Catalog) -> None:
    for problem in catalog.problems:
        print(f"benchbase: warning: {problem}", file=sys.stderr)


#: Failed trials listed by name at the end of a run; the table has them all.
FAILURES_SHOWN = 10


class Terminated(Exception):
    """SIGTERM arrived: stop like Ctrl-C (running trials killed, table saved)."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated


def _timeout(text: str) -> float:
    if text.strip().lower() == "none":
        return math.inf
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds or 'none', got {text!r}") from None


def _executor_choice(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The executor's name and factory options from the command line."""
    name = args.executor
    if args.isolation is not None:
        print("benchbase: warning: --isolation is deprecated; use --executor "
              "process (the default) or --executor inline", file=sys.stderr)
        implied = {"process": "process", "none": "inline"}[args.isolation]
        if name is not None and name != implied:
            raise UsageError(f"--isolation {args.isolation} contradicts --executor {name}")
        name = implied
    options: dict[str, Any] = {}
    for flag, option in (("jobs", "jobs"), ("scheduler", "scheduler"),
                         ("dask_workers", "workers")):
        value = getattr(args, flag)
        if value is not None:
            options[option] = value
    if name is None:
        name = "dask" if {"scheduler", "workers"} & set(options) else "process"
    for item in args.executor_option:
        option, sep, value = item.partition("=")
        if not (sep and option):
            raise UsageError(f"--executor-option {item!r}: expected NAME=VALUE")
        options[option] = _value(value)
    return name, options


def _check_counts(args: argparse.Namespace) -> None:
    for flag in ("threads", "jobs", "dask_workers"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be >= 1, got {value}")
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError(f"--timeout must be > 0 seconds (or 'none'), got {args.timeout:g}")
    if args.memory_limit is not None and not args.memory_limit > 0:
        raise UsageError(f"--memory-limit must be > 0 MiB, got {args.memory_limit:g}")


def _print_failures(rows: list[dict[str, Any]], store: ResultStore) -> None:
    failed = [row for row in rows if row["status"] != "ok"]
    if not failed:
        return
    print(f"\nfailed trials (every error: the status and error columns of "
          f"{store.table_path}, or `benchbase report {store.folder}`):")
    for row in failed[:FAILURES_SHOWN]:
        error = "".join(str(row.get("error", "")).strip().splitlines()[:1])
        print(f"  {row['algorithm']} on {row['dataset']} ({row['protocol']}, seed "
              f"{row['seed']}): {row['status']}: {error}")
    if len(failed) > FAILURES_SHOWN:
        print(f"  ... and {len(failed) - FAILURES_SHOWN} more")


def _algorithm_names(catalog: Catalog, text: str | None) -> tuple[str, ...] | None:
    """Names as registered (typed in any case); an unknown one is a usage error."""
    names = _names(text)
    return None if names is None else tuple(
        dict.fromkeys(catalog.algorithms.canonical(name) for name in names))


def _dataset_names(catalog: Catalog, text: str | None) -> tuple[str, ...] | None:
    """Registered names as registered; others (``idx:PATH``) must resolve."""
    names = _names(text)
    if names is None:
        return None
    resolved = []
    for name in names:
        if name in catalog.datasets:
            resolved.append(catalog.datasets.canonical(name))
        else:
            catalog.dataset(name)  # a plugin makes it, or UnknownNameError
            resolved.append(name)
    return tuple(dict.fromkeys(resolved))


def _seeds(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return parse_seeds(text, "--seeds")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _data_dir(path: str | None) -> str | None:
    if path is not None and not Path(path).is_dir():
        raise UsageError(f"--data-dir {path}: no such folder")
    return path


def _suite_trials(catalog: Catalog, suite: Suite, args: argparse.Namespace) -> list:
    """The trials of ``suite`` with the command line's overrides, refusing
    unavailable algorithms it names."""
    params = {catalog.algorithms.canonical(name): values
              for name, values in _parse_params(args.param).items()}
    overrides = Overrides(
        algorithms=_algorithm_names(catalog, args.algorithms),
        datasets=_dataset_names(catalog, args.datasets),
        protocol=args.protocol, seeds=_seeds(args.seeds), params=params)
    available = catalog.available_algorithms()
    embedded = [spec.name for spec in catalog.datasets.specs() if spec.embedded]
    try:
        trials = plan_suite(suite, available, embedded, overrides)
    except SuiteError as exc:
        raise UsageError(str(exc)) from None
    running = {trial.algorithm for trial in trials}
    if not trials:
        raise UsageError(f"suite {suite.name!r} has no trial to run: no algorithm is "
                         "available (see `benchbase list`)")
    for name in running - set(available):
        catalog.algorithm(name)  # PluginError: unavailable, with what to install
    for name in params:
        if name not in running:
            raise UsageError(f"--param names {name!r}, which is not being run")
    for trial in trials:
        try:
            check_params(catalog.algorithm(trial.algorithm), trial.fixed_params)
        except ValueError as exc:  # a parameter name the estimator does not have
            raise UsageError(str(exc)) from None
    return trials


def _left_out_note(catalog: Catalog, suite: Suite, args: argparse.Namespace) -> str | None:
    """Which unavailable algorithms a run leaves out, and what to install for
    them; None where every algorithm it runs was named (nothing is left out)."""
    takes_all = not args.algorithms and any(experiment.algorithms is None
                                            for experiment in suite.experiments)
    if not takes_all:
        return None
    available = set(catalog.available_algorithms())
    left_out = [name for name in catalog.algorithms if name not in available]
    if not left_out:
        return None
    hints = sorted({catalog.algorithms.get(name).install_hint for name in left_out})
    return (f"{', '.join(left_out)} unavailable and left out "
            f"({'; '.join(hint for hint in hints if hint) or 'see `benchbase list`'})")


def _print_plan(catalog: Catalog, trials: list, options, store: ResultStore,
                timings: dict[tuple, float] | None = None,
                timings_from: str | None = None) -> None:
    from benchbase.orchestrator import plan

    the_plan = plan(catalog, trials, options.data_context, options.selection)
    finished = {row["trial_key"] for row in store.new_rows(from_start=True)
                if row.get("status") == "ok"}
    for item in the_plan.trials:
        candidates = math.prod(len(values) for values in item.task.grid.values())
        state = "done" if item.key in finished else "to run"
        print(f"{item.trial.label()}: {candidates} candidate(s) by "
              f"{item.task.strategy if candidates > 1 else 'none'}; {state} "
              f"[{item.key}]")
    todo = sum(item.key not in finished for item in the_plan.trials)
    print(f"\n{len(the_plan.trials)} trials, {todo} to run, into {store.folder}")
    if timings is not None:
        _print_estimate([item.trial for item in the_plan.trials
                         if item.key not in finished], timings, timings_from)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _timings(args: argparse.Namespace) -> dict[tuple, float] | None:
    """The trial times of ``--timings-from`` (refused without ``--dry-run``)."""
    if args.timings_from is None:
        return None
    if not args.dry_run:
        raise UsageError("--timings-from estimates a plan's wall time: it needs --dry-run")
    from benchbase.schedule import measured_seconds
    from benchbase.store import read_table

    try:
        return measured_seconds(read_table(args.timings_from))
    except (OSError, ValueError) as exc:
        raise UsageError(f"--timings-from: {exc}") from None


def _print_estimate(trials: list, measured: dict[tuple, float], folder: str) -> None:
    from benchbase.schedule import estimate

    found = estimate(trials, measured)
    print(f"\nExpected wall time of the {found.trials} trials to run, from the trial "
          f"times in {folder} ({found.trials - len(found.unmeasured)} measured; "
          f"longest {_duration(found.longest_s)}, {_duration(found.total_s)} in all):")
    if found.total_s:
        print("  " + ", ".join(f"{n} slot{'s' if n > 1 else ''}: {_duration(wall)}"
                               for n, wall in found.by_slots.items()))
    if found.unmeasured:
        print(f"  not measured there, left out: {', '.join(found.unmeasured[:5])}"
              + (f" and {len(found.unmeasured) - 5} more" if len(found.unmeasured) > 5
                 else ""))


def cmd_run(args: argparse.Namespace) -> int:
    from benchbase.orchestrator import RunOptions, run_trials
    from benchbase.progress import ProgressReport

    catalog = load_catalog()
    _report_problems(catalog)
    try:
        suite = catalog.suite(args.suite or DEFAULT_SUITE)
    except SuiteError as exc:
        raise UsageError(str(exc)) from None
    _check_counts(args)
    timings = _timings(args)
    trials = _suite_trials(catalog, suite, args)
    executor, executor_options = _executor_choice(args)
    options = RunOptions(
        threads=args.threads,
        timeout=args.timeout if args.timeout is not None else suite.timeout,
        memory_limit_mb=args.memory_limit,
        executor=executor,
        executor_options=executor_options,
        oversubscribe=args.oversubscribe,
        data_context=DataContext(data_dir=_data_dir(args.data_dir),
                                 allow_download=not args.offline),
        selection=args.selection,
    )
    store = ResultStore(args.out or default_out(suite))
    note = _left_out_note(catalog, suite, args)
    if note:
        print(f"benchbase: note: {note}", file=sys.stderr)
    if args.dry_run:
        _print_plan(catalog, trials, options, store, timings, args.timings_from)
        return 0
    progress = ProgressReport(len(trials))
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:  # only the main thread may handle signals
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        rows = run_trials(catalog, trials, store, options, progress=progress)
    except ExecutorOptionError as exc:
        raise UsageError(str(exc)) from None
    except Terminated:
        rows = None
    finally:
        progress.close()  # before any message below its status line
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    if rows is None:
        print(f"benchbase: terminated; finished trials are saved in {store.table_path}",
              file=sys.stderr)
        return exits.TERMINATED

    table = display_table(summarize(name_variants(store.frame(rows))))
    print()
    print(table.to_string(index=False) if not table.empty else "no trial succeeded")
    failed = sum(row["status"] != "ok" for row in rows)
    print(f"\n{len(rows)} trials, {failed} failed; results in {store.table_path}")
    _print_failures(rows, store)
    return exits.FAILED if failed else exits.OK


def default_out(suite: Suite) -> str:
    """``results`` for the default suite, ``results/NAME`` for the others."""
    return "results" if suite.name == DEFAULT_SUITE else str(Path("results") / suite.name)


def cmd_report(args: argparse.Namespace) -> int:
    from benchbase.report import build_report, check_formats, read_results

    try:
        formats = check_formats(_names(args.format))
    except ValueError as exc:
        raise UsageError(f"--format: {exc}") from None
    try:
        results = read_results(args.results)
    except FileNotFoundError as exc:  # a folder or table that is not there
        raise UsageError(str(exc)) from None
    if args.headline:  # refused before any work, not after
        from benchbase.report.headline import find_headline, update_headline

        for file in args.headline:
            try:
                find_headline(file, args.results)
            except (OSError, ValueError) as exc:
                raise UsageError(f"--headline: {exc}") from None
    catalog = load_catalog()
    _report_problems(catalog)
    written = build_report(results, args.out, formats, args.title, catalog)
    for path in written:
        print(path)
    for file in args.headline:
        print(f"{file} (headline {update_headline(file, args.results)})")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from benchbase.report.compare import Threshold, compare_folders, markdown, regressions

    try:
        thresholds = [Threshold.parse(text) for text in args.fail_on]
        table, notes = compare_folders(args.before, args.after)
    except (ValueError, OSError) as exc:  # nothing to compare is a usage error here
        raise UsageError(str(exc)) from None
    print(markdown(table, notes, args.before, args.after), end="")
    found = regressions(table, thresholds)
    for line in found:
        print(f"REGRESSION: {line}")
    return exits.FAILED if found else exits.OK


def _listing(catalog: Catalog) -> dict[str, Any]:
    from benchbase.plugins import missing_requirements

    def origin(registry, name):
        info = registry.plugin_of(name)
        return {"plugin": info.name, "distribution": info.distribution,
                "version": info.version}

    def availability(spec) -> dict[str, Any]:
        missing = missing_requirements(spec)
        return {"available": not missing, "missing": missing,
                "install_hint": spec.install_hint if missing else ""}

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


def _print_columns(title: str, rows: list[list[str]]) -> None:
    """A heading, then rows whose columns line up however long the names."""
    print(f"{title}:")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        print("  " + "  ".join(cells).rstrip())


def _source(entry: dict[str, Any]) -> str:
    return f"({entry['distribution']} {entry['version']})"


def _state(entry: dict[str, Any]) -> str:
    if entry.get("available", True):
        return ""
    return (f"[unavailable: missing {', '.join(entry['missing'])}; "
            f"{entry['install_hint'] or 'see its plugin'}]")


def cmd_list(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    listing = _listing(catalog)
    if args.json:
        print(json.dumps(listing, indent=2))
        return exits.OK
    _report_problems(catalog)
    _print_columns("Algorithms", [
        [a["name"], a["family"], a["description"], _source(a), _state(a)]
        for a in listing["algorithms"]])
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchbase",
        description="Benchmark ELM-family and autoencoder classifiers on image data.",
    )
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {benchbase.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser(
        "run", help="run a suite (default: quick) and print a summary",
        description="Run a suite of trials (algorithms × datasets × seeds; `benchbase "
        "list` shows the suites). Parameters are chosen on a validation split of the "
        "training data; the test data are used once. Finished trials in --out are "
        "skipped. The options below replace the suite's values in every experiment.",
    )
    run.add_argument("suite", nargs="?", metavar="SUITE",
                     help=f"a suite's name or a path to a suite file (.toml); default "
                     f"{DEFAULT_SUITE}: every available algorithm on the embedded "
                     "datasets, 3 seeds")
    run.add_argument("--algorithms", metavar="A,B",
                     help="comma-separated names, any case (default: the suite's; "
                     "quick: every available one)")
    run.add_argument("--datasets", metavar="D,E",
                     help="comma-separated names or idx:PATH (default: the suite's; "
                     "quick: the embedded ones)")
    run.add_argument("--protocol", default=None,
                     help="official, paper, or subset:TRAIN/TEST (default: the suite's)")
    run.add_argument("--seeds", default=None, metavar="N|A,B|A-B",
                     help="a count (seeds 0..N-1), a list (0,3,7) or a range (10-14); "
                     "default: the suite's")
    run.add_argument("--param", action="append", default=[],
                     metavar="ALGO:NAME=VALUE",
                     help="fix a parameter (removes it from the search); repeatable")
    run.add_argument("--selection", choices=STRATEGIES, default="auto",
                     help="how candidates are scored on validation data: grid (each on "
                     "the whole fit split), halving (successive halving), auto (default: "
                     f"halving from {HALVING_MIN_SAMPLES:,} fit samples)")
    run.add_argument("--out", default=None,
                     help=f"results folder (default ./results for {DEFAULT_SUITE}, "
                     "./results/SUITE for the others)")
    run.add_argument("--dry-run", action="store_true",
                     help="print the trial plan (and what is already done) and exit")
    run.add_argument("--timings-from", metavar="RESULTS_DIR", default=None,
                     help="with --dry-run: the plan's expected wall time on 1, 2, 4, ... "
                     "slots (jobs or Dask worker threads), from the trial times of an "
                     "earlier run in RESULTS_DIR")
    run.add_argument("--executor", default=None, metavar="NAME",
                     help="how trials run: process (default: each in its own process "
                     "here), inline (in this process, for debugging), dask (a Dask "
                     "cluster; implied by --scheduler or --dask-workers), or a plugin's "
                     "(see `benchbase list`)")
    run.add_argument("--jobs", type=int, default=None, metavar="N",
                     help="trials at once (process executor; default 1)")
    run.add_argument("--threads", type=int, default=None, metavar="N",
                     help="BLAS/torch/Numba threads per trial (default: the host's cores "
                     "divided by the trials it runs at once)")
    run.add_argument("--oversubscribe", action="store_true",
                     help="allow trials at once × threads above a host's cores")
    run.add_argument("--timeout", type=_timeout, default=None, metavar="SECONDS",
                     help="seconds before a trial is killed and recorded as timeout "
                     f"(default {DEFAULT_TIMEOUT_S:.0f} = {DEFAULT_TIMEOUT_S / 3600:g} h; "
                     "'none': never; not with --executor inline)")
    run.add_argument("--memory-limit", type=float, default=None, metavar="MIB",
                     help="private resident memory (MiB) above which a trial is killed "
                     "and recorded as memory (Linux)")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="a Dask scheduler's address (tcp://host:8786) to run trials on")
    run.add_argument("--dask-workers", type=int, default=None, metavar="N",
                     help="start a local Dask cluster of N workers to run trials on")
    run.add_argument("--executor-option", action="append", default=[],
                     metavar="NAME=VALUE", help="an option of the executor; repeatable")
    run.add_argument("--isolation", choices=("process", "none"), default=None,
                     help="deprecated: use --executor process or --executor inline")
    run.add_argument("--data-dir", default=None,
                     help="folder holding DATASET/FILE (searched before BENCHBASE_DATA "
                     "and the cache)")
    run.add_argument("--offline", action="store_true",
                     help="never download dataset files")
    run.set_defaults(handler=cmd_run)

    report = sub.add_parser(
        "report", help="write an HTML and/or Markdown report of results folders",
        description="Compare algorithms across results folders: accuracy (mean ± std "
        "over seeds), runtime, the parameters chosen on validation for each seed, "
        "failed trials and provenance, with figures.",
    )
    report.add_argument("results", nargs="+", metavar="RESULTS_DIR",
                        help="output folder(s) of `benchbase run`")
    report.add_argument("--out", default="report",
                        help="folder for report.html, report.md and figures/ "
                        "(default ./report)")
    report.add_argument("--format", default="html,md", metavar="html,md",
                        help="comma-separated: html (self-contained), md "
                        "(figures as SVG files); default both")
    report.add_argument("--title", help="the report's heading (default: benchbase report)")
    report.add_argument("--headline", metavar="FILE", action="append", default=[],
                        help="also rewrite FILE's headline table made from these folders "
                             "(between '<!-- headline NAME: FOLDERS -->' and "
                             "'<!-- end headline NAME -->'; repeatable)")
    report.set_defaults(handler=cmd_report)

    compare = sub.add_parser(
        "compare", help="compare two runs of the same trials; fail on a regression",
        description="Match the trials of two results folders on algorithm, dataset, "
        "protocol, seed and fixed parameters (not on the plugin's version), and print "
        "per algorithm the test accuracy and fit time before and after, with paired "
        f"tests. Exit status: {exits.OK} no regression beyond --fail-on, "
        f"{exits.FAILED} a regression, {exits.USAGE} a usage error (bad "
        "option, unreadable folder, no trial in common).",
    )
    compare.add_argument("before", metavar="BEFORE", help="results folder of the baseline")
    compare.add_argument("after", metavar="AFTER", help="results folder to check")
    compare.add_argument("--fail-on", action="append", default=[],
                         metavar="accuracy:POINTS|time:PERCENT%",
                         help="exit 1 when a group's mean test accuracy drops by more than "
                         "POINTS, or its mean fit time grows by more than PERCENT; "
                         "repeatable")
    compare.set_defaults(handler=cmd_compare)

    lister = sub.add_parser("list", help="list algorithms, datasets and plugins",
                            description="List what the installed plugins provide.")
    lister.add_argument("--json", action="store_true", help="machine-readable output")
    lister.set_defaults(handler=cmd_list)

    add_data_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    _enable_completion(parser)
    args = parser.parse_args(argv)  # a usage error exits with exits.USAGE here
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        _discard_stdout()
        return exits.OK
    except (UsageError, UnknownNameError, SuiteError) as exc:
        print(f"benchbase: error: {exc}", file=sys.stderr)
        return exits.USAGE
    except (PluginError, ValueError, OSError) as exc:
        print(f"benchbase: error: {exc}", file=sys.stderr)
        return exits.FAILED
    except KeyboardInterrupt:
        print("benchbase: interrupted; finished trials are saved", file=sys.stderr)
        return exits.INTERRUPTED


def _enable_completion(parser: argparse.ArgumentParser) -> None:
    """Shell completion when argcomplete is installed (``pip install
    'benchbase-suite[completion]'``); it acts only when the shell asks."""
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def _discard_stdout() -> None:
    """``benchbase list | head -1``: the reader left, which is no error. What is
    still buffered goes nowhere (flushing it at exit would print a traceback)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
