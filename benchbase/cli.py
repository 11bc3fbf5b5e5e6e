"""The ``benchbase`` command line: run, report, list, data."""

from __future__ import annotations

import argparse
import ast
import json
import math
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

import benchbase
from benchbase.datacli import add_data_parser
from benchbase.execution import DEFAULT_TIMEOUT_S, ExecutorOptionError
from benchbase.plugins import Catalog, PluginError, UnknownNameError, load_catalog
from benchbase.specs import DataContext
from benchbase.splits import Protocol
from benchbase.store import ResultStore
from benchbase.summary import display_table, summarize

DEFAULT_SEEDS = 3


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit code 2."""


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


def cmd_run(args: argparse.Namespace) -> int:
    from benchbase.orchestrator import RunOptions, plan_trials, run_trials
    from benchbase.progress import ProgressReport

    catalog = load_catalog()
    _report_problems(catalog)
    algorithms = _names(args.algorithms) or catalog.available_algorithms()
    datasets = _names(args.datasets) or [
        spec.name for spec in catalog.datasets.specs() if spec.embedded
    ]
    if not algorithms:
        raise UsageError("no algorithm is available (see `benchbase list`)")
    if not datasets:
        raise UsageError("no dataset given and no embedded default registered")
    if args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1, got {args.seeds}")
    _check_counts(args)
    params = _parse_params(args.param)
    for name in params:
        if name not in algorithms:
            raise UsageError(f"--param names {name!r}, which is not being run")
    executor, executor_options = _executor_choice(args)
    try:
        protocol = Protocol.parse(args.protocol)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    options = RunOptions(
        threads=args.threads,
        timeout=args.timeout,
        memory_limit_mb=args.memory_limit,
        executor=executor,
        executor_options=executor_options,
        oversubscribe=args.oversubscribe,
        data_context=DataContext(data_dir=args.data_dir, allow_download=not args.offline),
    )
    trials = plan_trials(algorithms, datasets, protocol, range(args.seeds), params)
    store = ResultStore(args.out)
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
        return 128 + signal.SIGTERM

    table = display_table(summarize(store.frame(rows)))
    print()
    print(table.to_string(index=False) if not table.empty else "no trial succeeded")
    failed = sum(row["status"] != "ok" for row in rows)
    print(f"\n{len(rows)} trials, {failed} failed; results in {store.table_path}")
    _print_failures(rows, store)
    return 1 if failed else 0


def cmd_report(args: argparse.Namespace) -> int:
    from benchbase.report import build_report, check_formats, read_results

    try:
        formats = check_formats(_names(args.format))
    except ValueError as exc:
        raise UsageError(f"--format: {exc}") from None
    catalog = load_catalog()
    _report_problems(catalog)
    written = build_report(read_results(args.results), args.out, formats, args.title,
                           catalog)
    for path in written:
        print(path)
    return 0


#: ``benchbase compare`` exit codes.
COMPARE_OK, COMPARE_REGRESSION, COMPARE_USAGE = 0, 1, 2


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
    return COMPARE_REGRESSION if found else COMPARE_OK


def _listing(catalog: Catalog) -> dict[str, Any]:
    def origin(registry, name):
        info = registry.plugin_of(name)
        return {"plugin": info.name, "distribution": info.distribution,
                "version": info.version}

    from benchbase.plugins import missing_requirements

    algorithms = []
    for spec in catalog.algorithms.specs():
        missing = missing_requirements(spec)
        algorithms.append({
            "name": spec.name, "family": spec.family,
            "description": spec.description,
            "available": not missing,
            "missing": missing,
            "install_hint": spec.install_hint if missing else "",
            **origin(catalog.algorithms, spec.name),
        })
    datasets = [
        {"name": spec.name, "description": spec.description,
         "embedded": spec.embedded, **origin(catalog.datasets, spec.name)}
        for spec in catalog.datasets.specs()
    ]
    executors = [
        {"name": spec.name, "description": spec.description,
         "available": not missing_requirements(spec),
         "install_hint": spec.install_hint if missing_requirements(spec) else "",
         **origin(catalog.executors, spec.name)}
        for spec in catalog.executors.specs()
    ]
    plugins = [
        {"name": info.name, "module": info.module,
         "distribution": info.distribution, "version": info.version}
        for info in catalog.plugins
    ]
    problems = [str(problem) for problem in catalog.problems]
    return {"algorithms": algorithms, "datasets": datasets, "executors": executors,
            "plugins": plugins, "problems": problems}


def cmd_list(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    listing = _listing(catalog)
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    _report_problems(catalog)
    print("Algorithms:")
    for algo in listing["algorithms"]:
        state = "" if algo["available"] else (
            f"  [unavailable: missing {', '.join(algo['missing'])}; "
            f"{algo['install_hint']}]")
        print(f"  {algo['name']:<8} {algo['family']:<5} {algo['description']}"
              f"  ({algo['distribution']} {algo['version']}){state}")
    print("Datasets:")
    for data in listing["datasets"]:
        tag = " [embedded]" if data["embedded"] else ""
        print(f"  {data['name']:<14} {data['description']}{tag}"
              f"  ({data['distribution']} {data['version']})")
    print("Executors:")
    for executor in listing["executors"]:
        state = "" if executor["available"] else (
            f"  [unavailable: {executor['install_hint']}]")
        print(f"  {executor['name']:<8} {executor['description']}"
              f"  ({executor['distribution']} {executor['version']}){state}")
    print("Plugins:")
    for plugin in listing["plugins"]:
        print(f"  {plugin['name']:<10} {plugin['module']:<32} "
              f"{plugin['distribution']} {plugin['version']}")
    return 0


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
        "run", help="run a benchmark grid and print a summary",
        description="Run algorithms × datasets × seeds. Parameters are chosen on a "
        "validation split of the training data; the test data are used once. "
        "Finished trials in --out are skipped.",
    )
    run.add_argument("--algorithms", metavar="A,B",
                     help="comma-separated names (default: every available one)")
    run.add_argument("--datasets", metavar="D,E",
                     help="comma-separated names (default: the embedded ones)")
    run.add_argument("--protocol", default="official",
                     help="official (default), paper, or subset:TRAIN/TEST")
    run.add_argument("--seeds", type=int, default=DEFAULT_SEEDS,
                     help=f"repetitions, seeds 0..N-1 (default {DEFAULT_SEEDS})")
    run.add_argument("--param", action="append", default=[],
                     metavar="ALGO:NAME=VALUE",
                     help="fix a parameter (removes it from the search); repeatable")
    run.add_argument("--out", default="results",
                     help="results folder (default ./results)")
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
                     help="resident memory (MiB) above which a trial is killed and "
                     "recorded as memory (Linux)")
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
    report.set_defaults(handler=cmd_report)

    compare = sub.add_parser(
        "compare", help="compare two runs of the same trials; fail on a regression",
        description="Match the trials of two results folders on algorithm, dataset, "
        "protocol, seed and fixed parameters (not on the plugin's version), and print "
        "per algorithm the test accuracy and fit time before and after, with paired "
        f"tests. Exit status: {COMPARE_OK} no regression beyond --fail-on, "
        f"{COMPARE_REGRESSION} a regression, {COMPARE_USAGE} a usage error (bad "
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
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (UsageError, UnknownNameError) as exc:
        print(f"benchbase: error: {exc}", file=sys.stderr)
        return 2
    except (PluginError, ValueError, OSError) as exc:
        print(f"benchbase: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("benchbase: interrupted; finished trials are saved", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
