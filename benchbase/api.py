"""benchbase from Python: ``run`` a suite, ``load`` a results folder, and the
``Results`` of one (a table, a summary, a report, a comparison).

    import benchbase

    results = benchbase.run(algorithms=["KELM", "ELM"], datasets="digits", seeds=3,
                            out="results/try")
    results.summary()                  # one row per algorithm and dataset
    frame = results.to_pandas()        # one row per trial, nested fields as columns

``run`` takes what ``benchbase run`` takes, by the same names (``seeds=3`` is
seeds 0–2, ``seeds=[0, 4]`` those two) and runs the same code. A script needs
no ``if __name__ == "__main__":`` guard on Linux (trials start from a fork
server that does not import the script).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd


class Results:
    """The trials of one results folder (its latest row of each trial)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        from benchbase.results.store import read_table

        self.folder = Path(folder)
        self.rows = read_table(self.folder)  # FileNotFoundError / ValueError name it

    def __repr__(self) -> str:
        return f"<benchbase.Results {self.folder}: {self._counts()}>"

    def __len__(self) -> int:
        return len(self.rows)

    def _counts(self) -> str:
        from benchbase.results.record import Status

        failed = int((self.rows["status"] != Status.OK).sum())
        return f"{len(self.rows)} trials, {failed} failed"

    def to_pandas(self) -> pd.DataFrame:
        """One row per trial; each JSON field (params, fit_info, environment, …)
        spread into columns named ``field.key`` (nested keys joined by dots)."""
        from benchbase.results.record import JSON_COLUMNS

        parts = [self.rows.drop(columns=[c for c in JSON_COLUMNS if c in self.rows])]
        for column in JSON_COLUMNS:
            if column not in self.rows:
                continue
            values = [json.loads(text) if text else {} for text in self.rows[column]]
            spread = pd.json_normalize(
                [value if isinstance(value, dict) else {"value": value}
                 for value in values], sep=".")
            spread.columns = [f"{column}.{name}" for name in spread.columns]
            parts.append(spread.set_axis(self.rows.index))
        return pd.concat(parts, axis=1)

    def summary(self) -> pd.DataFrame:
        """Per algorithm and dataset: mean test accuracy ± std over seeds, fit
        time (the table ``benchbase run`` prints)."""
        from benchbase.results.summary import display_table, name_variants, summarize

        return display_table(summarize(name_variants(self.rows)))

    def report(self, out: str | os.PathLike[str], formats: Iterable[str] = ("html", "md"),
               title: str | None = None, rope: float | None = None,
               focus: str | None = None) -> list[Path]:
        """Write ``report.html`` and/or ``report.md`` into ``out`` (as
        ``benchbase report``; ``rope`` and ``focus``: its ``--rope`` and
        ``--focus``); the paths written."""
        from benchbase.plugins import load_catalog
        from benchbase.report.build import build_report, check_formats
        from benchbase.report.reading import read_results

        return build_report(read_results([self.folder]), out, check_formats(formats),
                            title, load_catalog(), rope=rope, focus=focus)

    def compare(self, other: Results | str | os.PathLike[str]) -> pd.DataFrame:
        """These trials against ``other``'s, matched as ``benchbase compare BEFORE
        AFTER`` matches them (this folder is BEFORE): one row per algorithm,
        dataset and protocol; the notes (unmatched trials, another machine) in
        ``.attrs["notes"]``."""
        from benchbase.report.compare import compare_folders

        after = other.folder if isinstance(other, Results) else Path(other)
        table, notes = compare_folders(self.folder, after)
        table.attrs["notes"] = notes
        return table

    def _repr_html_(self) -> str:
        return (f"<p><b>benchbase results</b> {self.folder}: {self._counts()}</p>"
                + self.summary().to_html(index=False))


def load(folder: str | os.PathLike[str]) -> Results:
    """The results folder of an earlier run (``trials.jsonl`` or ``results.csv``)."""
    return Results(folder)


def _names(value: str | Iterable[str] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)


def _seeds(value: int | str | Sequence[int] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return ",".join(str(int(seed)) for seed in value)


def _run_argv(suite: str | None, options: Mapping[str, Any]) -> list[str]:
    """The ``benchbase run`` command line that asks for the same run."""
    argv = [str(suite)] if suite is not None else []
    params = options.pop("params") or {}
    executor_options = options.pop("executor_options") or {}
    text = {"algorithms": _names(options.pop("algorithms")),
            "datasets": _names(options.pop("datasets")),
            "seeds": _seeds(options.pop("seeds"))}
    timeout = options.pop("timeout")
    if timeout is not None:
        text["timeout"] = "none" if timeout == math.inf else str(timeout)
    for name, value in {**text, **options}.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value is not None and value is not False:
            argv += [flag, str(value)]
    for algorithm, values in params.items():
        for name, value in values.items():
            argv += ["--param", f"{algorithm}:{name}={value!r}"]
    for name, value in executor_options.items():
        argv += ["--executor-option", f"{name}={value!r}"]
    return argv


def run(suite: str | os.PathLike[str] | None = None, *,
        algorithms: str | Iterable[str] | None = None,
        datasets: str | Iterable[str] | None = None,
        protocol: str | None = None,
        seeds: int | str | Sequence[int] | None = None,
        params: Mapping[str, Mapping[str, Any]] | None = None,
        selection: str | None = None,
        out: str | os.PathLike[str] | None = None,
        timings_from: str | os.PathLike[str] | None = None,
        executor: str | None = None,
        jobs: int | None = None,
        threads: int | None = None,
        oversubscribe: bool = False,
        timeout: float | None = None,
        memory_limit: float | None = None,
        scheduler: str | None = None,
        dask_workers: int | None = None,
        executor_options: Mapping[str, Any] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        offline: bool = False) -> Results:
    """Run a suite (default ``quick``) as ``benchbase run`` does, and return
    its results folder's ``Results`` (finished trials found there are skipped).

    Every argument is the option of the same name (``params={"KELM": {"C":
    100}}`` is ``--param KELM:C=100``; ``timeout=math.inf`` is ``--timeout
    none``); progress goes to stderr. A usage mistake raises ValueError with the
    command line's message; a SIGTERM raises ``benchbase.cli.run_command.Terminated``.
    Failed trials are rows with their status and error, as on the command line.
    """
    from benchbase.cli.exits import UsageError
    from benchbase.cli.main import build_parser
    from benchbase.cli.run_command import Terminated, run_suite
    from benchbase.plugins import UnknownNameError

    options = dict(
        algorithms=algorithms, datasets=datasets, protocol=protocol, seeds=seeds,
        params=params, selection=selection, out=out, timings_from=timings_from,
        executor=executor, jobs=jobs, threads=threads, oversubscribe=oversubscribe,
        timeout=timeout, memory_limit=memory_limit, scheduler=scheduler,
        dask_workers=dask_workers, executor_options=executor_options, data_dir=data_dir,
        offline=offline)
    argv = ["run", *_run_argv(None if suite is None else str(suite), options)]
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            args = build_parser().parse_args(argv)
    except SystemExit:  # argparse's own usage error: its last line says which
        raise ValueError(errors.getvalue().strip().splitlines()[-1]) from None
    try:
        outcome = run_suite(args)
    except (UsageError, UnknownNameError) as exc:
        raise ValueError(str(exc)) from None
    if outcome.rows is None:
        raise Terminated
    return Results(outcome.store.folder)
