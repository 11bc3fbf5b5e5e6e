"""``benchbase run``: a suite's trials, planned, then run (or only shown)."""

from __future__ import annotations

import argparse
import dataclasses
import math
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchbase.cli import args as cli_args
from benchbase.cli import exits
from benchbase.cli.completion import completer
from benchbase.cli.exits import UsageError
from benchbase.execution.limits import DEFAULT_TIMEOUT_S, Limits, OptionError
from benchbase.plugins import Catalog
from benchbase.results.record import Status
from benchbase.specs import DataContext
from benchbase.trial.selection import HALVING_MIN_SAMPLES, STRATEGIES

if TYPE_CHECKING:  # the planner and the store load pandas: imported where they run
    from benchbase.plan.suites import Suite
    from benchbase.results.store import ResultStore

#: What a bare ``benchbase run`` runs.
DEFAULT_SUITE = "quick"
#: Failed trials listed by name at the end of a run; the table has them all.
FAILURES_SHOWN = 10
#: The command-line flag of each run option an ``OptionError`` may name.
FLAGS = {"threads": "--threads", "timeout": "--timeout", "memory_limit_mb": "--memory-limit",
         "jobs": "--jobs", "workers": "--dask-workers", "scheduler": "--scheduler"}


class Terminated(Exception):
    """SIGTERM arrived: stop like Ctrl-C (running trials killed, table saved)."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated


def usage_error(exc: OptionError) -> UsageError:
    """An option error as the command line names it (``--jobs must be >= 1``)."""
    if not exc.option:
        return UsageError(exc.detail)
    flag = FLAGS.get(exc.option, f"--executor-option {exc.option}")
    return UsageError(f"{flag} {exc.detail}")


def _timeout(text: str) -> float:
    if text.strip().lower() == "none":
        return math.inf
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds or 'none', got {text!r}") from None


def _parse_params(items: list[str]) -> dict[str, dict[str, Any]]:
    """``ALGO:NAME=VALUE`` items -> {algorithm: {name: value}}."""
    params: dict[str, dict[str, Any]] = {}
    for item in items:
        target, sep, text = item.partition("=")
        algorithm, colon, name = target.partition(":")
        if not (sep and colon and algorithm and name):
            raise UsageError(f"--param {item!r}: expected ALGORITHM:NAME=VALUE, "
                             "e.g. KELM:C=100")
        params.setdefault(algorithm, {})[name] = cli_args.value(text)
    return params


def _executor_choice(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The executor's name and factory options from the command line."""
    options: dict[str, Any] = {}
    for flag, option in (("jobs", "jobs"), ("scheduler", "scheduler"),
                         ("dask_workers", "workers")):
        given = getattr(args, flag)
        if given is not None:
            options[option] = given
    name = args.executor or ("dask" if {"scheduler", "workers"} & set(options) else "process")
    for item in args.executor_option:
        option, sep, text = item.partition("=")
        if not (sep and option):
            raise UsageError(f"--executor-option {item!r}: expected NAME=VALUE")
        options[option] = cli_args.value(text)
    return name, options


def _algorithm_names(catalog: Catalog, text: str | None) -> tuple[str, ...] | None:
    """Names as registered (typed in any case); an unknown one is a usage error."""
    found = cli_args.names(text)
    return None if found is None else tuple(
        dict.fromkeys(catalog.algorithms.canonical(name) for name in found))


def _dataset_names(catalog: Catalog, text: str | None) -> tuple[str, ...] | None:
    """Registered names as registered; others (``idx:PATH``) must resolve."""
    found = cli_args.names(text)
    if found is None:
        return None
    resolved = []
    for name in found:
        if name in catalog.datasets:
            resolved.append(catalog.datasets.canonical(name))
        else:
            catalog.dataset(name)  # a plugin makes it, or UnknownNameError
            resolved.append(name)
    return tuple(dict.fromkeys(resolved))


def _seeds(text: str | None) -> tuple[int, ...] | None:
    from benchbase.plan.suites import parse_seeds

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
    from benchbase.plan.suites import Overrides, SuiteError, plan_suite

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


def _print_plan(the_plan, store: ResultStore, timings: dict[tuple, float] | None,
                timings_from: str | None) -> None:
    finished = store.finished()
    for item in the_plan.trials:
        candidates = math.prod(len(values) for values in item.task.grid.values())
        state = "done" if item.key in finished else "to run"
        print(f"{item.trial.label()}: {candidates} candidate(s) by "
              f"{item.task.rule.strategy if candidates > 1 else 'none'}; {state} "
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


def _measured_before(args: argparse.Namespace
                     ) -> tuple[dict[tuple, float] | None, dict[tuple, float]]:
    """The trial times (None without the option) and peak memory of
    ``--timings-from``'s rows."""
    if args.timings_from is None:
        return None, {}
    from benchbase.plan.schedule import measured_peak_mb, measured_seconds
    from benchbase.results.store import read_table

    try:
        rows = read_table(args.timings_from)
        return measured_seconds(rows), measured_peak_mb(rows)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--timings-from: {exc}") from None


def _print_estimate(trials: list, measured: dict[tuple, float], folder: str) -> None:
    from benchbase.plan.schedule import estimate

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


def _print_failures(rows: list[dict[str, Any]], store: ResultStore) -> None:
    failed = [row for row in rows if row["status"] != Status.OK]
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


def default_out(suite: Suite) -> str:
    """``results`` for the default suite, ``results/NAME`` for the others."""
    return "results" if suite.name == DEFAULT_SUITE else str(Path("results") / suite.name)


@dataclasses.dataclass
class RunOutcome:
    """What a run left: its results folder, the rows of the trials it ran (none
    for a dry run, None where SIGTERM stopped it) and the schedule model's note."""

    store: ResultStore
    rows: list[dict[str, Any]] | None
    schedule_note: str | None = None


def run_suite(args: argparse.Namespace) -> RunOutcome:
    """Plan and run what ``args`` (the ``run`` parser's) asks for; a dry run
    prints the plan. The command line and ``benchbase.run`` share it."""
    from benchbase.cli.progress import ProgressReport
    from benchbase.execution.orchestrator import RunOptions, make_executor, run_plan
    from benchbase.plan.planner import plan
    from benchbase.plan.suites import SuiteError
    from benchbase.results.store import ResultStore
    from benchbase.trial.estimator import ParameterError

    catalog = cli_args.command_catalog()
    try:
        suite = catalog.suite(args.suite or DEFAULT_SUITE)
    except SuiteError as exc:
        raise UsageError(str(exc)) from None
    executor_name, executor_options = _executor_choice(args)
    try:
        limits = Limits(threads=args.threads,
                        timeout=args.timeout if args.timeout is not None else suite.timeout,
                        memory_limit_mb=args.memory_limit,
                        oversubscribe=args.oversubscribe)
        executor = make_executor(catalog.executor(executor_name), executor_options)
    except OptionError as exc:
        raise usage_error(exc) from None
    timings, peaks = _measured_before(args)
    trials = _suite_trials(catalog, suite, args)
    options = RunOptions(
        limits=limits, executor=executor_name, executor_options=executor_options,
        # A dry run only looks: it reads files already here, never downloads.
        data_context=DataContext(data_dir=_data_dir(args.data_dir),
                                 allow_download=not (args.offline or args.dry_run)),
        selection=args.selection, timings={**suite.timings, **(timings or {})},
        peak_memory_mb={**suite.peak_memory_mb, **peaks}, suite=suite.report_settings())
    store = ResultStore(args.out or default_out(suite))
    if not args.dry_run:
        try:
            store.check_writable()
        except PermissionError as exc:
            raise UsageError(str(exc)) from None
    note = _left_out_note(catalog, suite, args)
    if note:
        print(f"benchbase: note: {note}", file=sys.stderr)
    try:
        the_plan = plan(catalog, trials, options.data_context, options.selection)
    except ParameterError as exc:  # a parameter name the estimator does not have
        raise UsageError(str(exc)) from None
    if args.dry_run:
        _print_plan(the_plan, store, timings, args.timings_from)
        return RunOutcome(store, [])
    progress = ProgressReport(len(trials))
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:  # only the main thread may handle signals
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        rows = run_plan(the_plan, store, executor, options, progress=progress)
    except OptionError as exc:
        raise usage_error(exc) from None
    except Terminated:
        rows = None
    finally:
        progress.close()  # before any message below its status line
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    return RunOutcome(store, rows, progress.schedule_note() if rows is not None else None)


def cmd_run(args: argparse.Namespace) -> int:
    from benchbase.results.summary import display_table, name_variants, summarize

    outcome = run_suite(args)
    store, rows = outcome.store, outcome.rows
    if args.dry_run:
        return exits.OK
    if rows is None:
        print(f"benchbase: terminated; finished trials are saved in {store.table_path}",
              file=sys.stderr)
        return exits.TERMINATED

    table = display_table(summarize(name_variants(store.frame(rows))))
    print()
    print(table.to_string(index=False) if not table.empty else "no trial succeeded")
    failed = sum(row["status"] != Status.OK for row in rows)
    print(f"\n{len(rows)} trials, {failed} failed; results in {store.table_path}")
    _print_failures(rows, store)
    if outcome.schedule_note:
        print(outcome.schedule_note)
    return exits.FAILED if failed else exits.OK


def add_run_parser(sub) -> None:
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
                     "datasets, 3 seeds").completer = completer("suites")
    run.add_argument("--algorithms", metavar="A,B",
                     help="comma-separated names, any case (default: the suite's; "
                     "quick: every available one)"
                     ).completer = completer("algorithms", comma_separated=True)
    run.add_argument("--datasets", metavar="D,E",
                     help="comma-separated names or idx:PATH (default: the suite's; "
                     "quick: the embedded ones)"
                     ).completer = completer("datasets", comma_separated=True)
    run.add_argument("--protocol", default=None,
                     help="official, paper, or subset:TRAIN/TEST (default: the suite's)")
    run.add_argument("--seeds", default=None, metavar="N|A,B|A-B",
                     help="a count (seeds 0..N-1), a list (0,3,7) or a range (10-14); "
                     "default: the suite's")
    run.add_argument("--param", action="append", default=[],
                     metavar="ALGO:NAME=VALUE",
                     help="fix a parameter (removes it from the search); repeatable "
                     "(default: none fixed beyond the suite's)")
    run.add_argument("--selection", choices=STRATEGIES, default="auto",
                     help="how candidates are scored on validation data: grid (each on "
                     "the whole fit split), halving (successive halving), auto (default: "
                     f"halving from {HALVING_MIN_SAMPLES:,} fit samples)")
    run.add_argument("--out", default=None,
                     help=f"results folder (default ./results for {DEFAULT_SUITE}, "
                     "./results/SUITE for the others)")
    run.add_argument("--dry-run", action="store_true",
                     help="print the trial plan (and what is already done) and exit; "
                     "reads dataset files already here, never downloads (default: run it)")
    run.add_argument("--timings-from", metavar="RESULTS_DIR", default=None,
                     help="trial times of an earlier run in RESULTS_DIR: the trials "
                     "expected to take longest start first, and --dry-run shows the "
                     "plan's expected wall time on 1, 2, 4, ... slots (jobs or Dask "
                     "worker threads); with --jobs, a trial starts beside others only "
                     "if their kinds' peak memory measured there fits the machine's "
                     "(default: the --out folder's own earlier trials, "
                     "then the suite's stored times, then a size-based guess)")
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
                     help="allow trials at once × threads above a host's cores (default: "
                     "refused)")
    run.add_argument("--timeout", type=_timeout, default=None, metavar="SECONDS",
                     help="seconds before a trial is killed and recorded as timeout; "
                     "'none': never; not with --executor inline (default: the suite's "
                     f"timeout, else {DEFAULT_TIMEOUT_S:.0f} = {DEFAULT_TIMEOUT_S / 3600:g} h)")
    run.add_argument("--memory-limit", type=float, default=None, metavar="MIB",
                     help="private resident memory (MiB) above which a trial is killed "
                     "and recorded as memory (Linux; default: no limit)")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="a Dask scheduler's address (tcp://host:8786) to run trials on "
                     "(default: none; trials run here)")
    run.add_argument("--dask-workers", type=int, default=None, metavar="N",
                     help="start a local Dask cluster of N workers to run trials on "
                     "(default: none)")
    run.add_argument("--executor-option", action="append", default=[],
                     metavar="NAME=VALUE", help="an option of the executor; repeatable "
                     "(default: the executor's own defaults)")
    run.add_argument("--data-dir", default=None, metavar="DIR",
                     help="folder holding DATASET/FILE, searched first (default: none; "
                     "BENCHBASE_DATA, then the cache)")
    run.add_argument("--offline", action="store_true",
                     help="never download dataset files (default: download a missing "
                     "file into the cache, checking its digest)")
    run.set_defaults(handler=cmd_run)
