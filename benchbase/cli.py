"""The ``benchbase`` command line: run, report, list, data."""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Sequence
from typing import Any

import benchbase
from benchbase.datacli import add_data_parser
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


def _parse_params(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``ALGO:NAME=VALUE`` items -> {algorithm: {name: value}}."""
    params: dict[str, dict[str, Any]] = {}
    for item in items:
        target, sep, value = item.partition("=")
        algorithm, colon, name = target.partition(":")
        if not (sep and colon and algorithm and name):
            raise UsageError(f"--param {item!r}: expected ALGORITHM:NAME=VALUE, "
                             "e.g. KELM:C=100")
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parsed = value  # a bare word such as float32
        params.setdefault(algorithm, {})[name] = parsed
    return params


def _report_problems(catalog: Catalog) -> None:
    for problem in catalog.problems:
        print(f"benchbase: warning: {problem}", file=sys.stderr)


def _progress(event: str, index: int, total: int, trial, row) -> None:
    prefix = f"[{index}/{total}] {trial.label()}"
    if event == "skip":
        print(f"{prefix}: already done, skipped", file=sys.stderr)
    elif event == "start":
        print(f"{prefix} ...", file=sys.stderr, flush=True)
    elif row["status"] == "ok":
        print(f"{prefix}: test {100 * row['test_accuracy']:.2f}%, "
              f"fit {row['fit_seconds']:.2f}s, select {row['select_seconds']:.1f}s",
              file=sys.stderr)
    else:
        print(f"{prefix}: {row['status'].upper()}: {row['error']}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from benchbase.runner import RunOptions, plan_trials, run_trials

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
    params = _parse_params(args.param)
    for name in params:
        if name not in algorithms:
            raise UsageError(f"--param names {name!r}, which is not being run")
    try:
        protocol = Protocol.parse(args.protocol)
        options = RunOptions(
            threads=args.threads or RunOptions().threads,
            timeout=args.timeout,
            isolation=args.isolation,
            data_context=DataContext(data_dir=args.data_dir,
                                     allow_download=not args.offline),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    trials = plan_trials(algorithms, datasets, protocol, range(args.seeds), params)
    store = ResultStore(args.out)
    rows = run_trials(catalog, trials, store, options, progress=_progress)

    table = display_table(summarize(store.frame(rows)))
    print()
    print(table.to_string(index=False) if not table.empty else "no trial succeeded")
    failed = sum(row["status"] != "ok" for row in rows)
    print(f"\n{len(rows)} trials, {failed} failed; results in {store.table_path}")
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
    plugins = [
        {"name": info.name, "module": info.module,
         "distribution": info.distribution, "version": info.version}
        for info in catalog.plugins
    ]
    problems = [str(problem) for problem in catalog.problems]
    return {"algorithms": algorithms, "datasets": datasets, "plugins": plugins,
            "problems": problems}


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
    run.add_argument("--threads", type=int, default=None,
                     help="BLAS/torch threads per trial (default: all cores)")
    run.add_argument("--timeout", type=float, default=None,
                     help="seconds before a trial is killed and recorded as timeout")
    run.add_argument("--isolation", choices=("process", "none"), default="process",
                     help="run each trial in its own process (default) or inline")
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
