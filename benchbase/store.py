"""The result store: one folder, one append-only log, one derived table.

* ``trials.jsonl``: one JSON object per finished trial (ok or failed), appended
  and fsync'ed as soon as the trial ends, under an exclusive lock (``flock``)
  so that two runs into one folder never interleave lines. Appending costs the
  same at the first trial and the ten-thousandth: the table is not touched. A
  run killed mid-write can leave a torn last line; the next append truncates
  it first (with a warning), so no row is ever glued onto it.
* ``results.csv``: the latest row of each trial as a table (``COLUMNS``),
  rewritten atomically from the log when a run ends, is interrupted, or
  terminated. ``read_table`` reads the log instead when the table is missing
  or older than the log (a run was killed), so no finished trial is missed.
* ``artifacts/<trial_key>.npz``: the trial's arrays (``benchbase.artifacts``),
  in place before the row that records their digest is appended.
* ``runs.jsonl``: one line per run: its id, command line and the machine and
  software of the process that ran it (``benchbase.provenance``).
* ``.claims``: trial claims. A run claims a trial (a POSIX record lock on one
  byte of this file, at an offset derived from the trial's key) before
  running it and releases it when the row is saved; the kernel drops the
  claims of a process that dies, so none outlives its run. Two runs into one
  folder thus share out the work instead of doing it twice.

Every file is created with the user's umask. A later run with the same
output folder skips trials whose key already has an ``ok`` row; failed
trials are tried again.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import json
import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from benchbase import artifacts
from benchbase.fsutil import atomic_writer

LOG_NAME = "trials.jsonl"
TABLE_NAME = "results.csv"
RUNS_NAME = "runs.jsonl"
CLAIMS_NAME = ".claims"

#: Columns of results.csv, in order, with their meaning.
COLUMNS: dict[str, str] = {
    "trial_key": "stable hash of algorithm, dataset, protocol, seed, fixed "
                 "parameters, search space and plugin version",
    "algorithm": "algorithm name",
    "variant": "which of a suite's swept settings the trial ran (e.g. keep_prob=0.5, "
               "mask=batch); empty outside sweeps. Reports show it as ALGORITHM[VARIANT]",
    "family": "algorithm family (ELM, AE, ...)",
    "dataset": "dataset name",
    "protocol": "official, paper or subset:TRAIN/TEST",
    "seed": "repetition seed: drives subsets, the validation split and random_state",
    "subset_hash": "hash of the train/test row indices used",
    "n_train": "training samples (validation is carved from these)",
    "n_test": "test samples",
    "params": "JSON: the parameters of the final model (selected + fixed)",
    "search_space": "JSON: the grid explored on the validation split",
    "n_candidates": "grid points in the search (all scored on validation data)",
    "selection": "how they were scored: grid (each on the whole fit split), halving "
                 "(successive halving: the best on ever more rows; benchbase.selection), "
                 "or empty when there was nothing to choose",
    "fit_info": "JSON: what the final model reports about its fit (its fit_info_ "
                "attribute, e.g. KELM's solver and number of centres)",
    "val_accuracy": "validation accuracy of the selected parameters",
    "train_accuracy": "accuracy of the final model on its training data",
    "test_accuracy": "accuracy on the test data (evaluated once)",
    "fit_seconds": "wall seconds of the final fit",
    "fit_cpu_seconds": "CPU seconds (all threads) of the final fit",
    "predict_seconds": "wall seconds to predict the test data",
    "predict_cpu_seconds": "CPU seconds to predict the test data",
    "select_seconds": "wall seconds of model selection (all candidates)",
    "trial_seconds": "wall seconds of the whole trial as the orchestrator saw it, from "
                     "its start on a worker to its result (process start, data, "
                     "selection, fit, prediction): what a schedule of trials adds up",
    "peak_rss_mb": "peak resident memory of the trial's process, MiB "
                   "(interpreter, data and model)",
    "blas_threads": "BLAS threads in use",
    "threads": "BLAS/OpenMP, torch and Numba threads the trial was given",
    "concurrency": "the most trials of this run that ran at once on this trial's host "
                   "while it ran, itself included: timings with concurrency > 1 "
                   "shared the machine and are not comparable with serial ones",
    "select_other_cpus": "mean number of the host's CPUs that other processes kept "
                         "busy during model selection (other trials, runs and users, "
                         "and the trial's own child processes; Linux /proc/stat; "
                         "empty elsewhere or under one second): from about 0.5 on, "
                         "the timing shared the machine",
    "fit_other_cpus": "the same during the final fit",
    "executor": "how the trial was run: process, inline, dask or a plugin's executor",
    "status": "ok, error (the plugin raised or returned invalid predictions), "
              "timeout, crashed (its process died) or memory (over the memory limit, "
              "or MemoryError)",
    "error": "the error message when status is not ok",
    "plugin": "distribution and version of the algorithm's plugin",
    "benchbase_version": "version of benchbase that ran the trial",
    "started_at": "UTC time the trial started (ISO 8601)",
    "run_id": "the run that made the row (its command line is in runs.jsonl)",
    "host": "host name of the machine the trial ran on",
    "environment": "JSON: the trial process's machine and software: CPU, cores, "
                   "memory, OS, Python, library versions, BLAS libraries and "
                   "threads, GPU, git commit (benchbase.provenance)",
    "artifacts_sha256": "sha256 of artifacts/<trial_key>.npz: test labels and "
                        "predictions, every candidate's validation score, the "
                        "algorithm's own arrays (empty: none kept)",
}

#: The columns holding text (JSON included); the others hold numbers.
TEXT_COLUMNS = frozenset({
    "trial_key", "algorithm", "family", "dataset", "protocol", "subset_hash",
    "params", "search_space", "fit_info", "status", "error", "plugin",
    "benchbase_version", "started_at", "run_id", "host", "environment",
    "artifacts_sha256", "executor", "selection", "variant",
})


def read_table(folder: str | os.PathLike[str]) -> pd.DataFrame:
    """The results table of a results folder; empty text cells read as ``""``.

    That is ``results.csv``, or the rows of ``trials.jsonl`` when the table is
    missing or older than the log (a run killed before it could rewrite the
    table), parsed the same way. Raises FileNotFoundError or ValueError naming
    the path when the folder or its results are missing or unreadable.
    Columns are returned as found (a table written by an older version may
    lack some of ``COLUMNS``).
    """
    folder = Path(folder)
    path, log = folder / TABLE_NAME, folder / LOG_NAME
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such results folder")
    source: Path | io.StringIO = path
    if log.is_file() and not _table_is_current(path, log):
        path = log
        source = io.StringIO(ResultStore(folder).frame().to_csv(index=False))
    elif not path.is_file():
        raise FileNotFoundError(f"{folder}: no {TABLE_NAME} here; is it an output "
                                "folder of `benchbase run`?")
    try:
        # Only empty cells are missing: an error message "None" stays text.
        frame = pd.read_csv(source, dtype={name: str for name in TEXT_COLUMNS},
                            keep_default_na=False, na_values=[""])
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable results table ({exc})") from None
    text = [name for name in frame.columns if name in TEXT_COLUMNS]
    frame[text] = frame[text].fillna("")
    return frame


def _table_is_current(table: Path, log: Path) -> bool:
    """Whether the table was written after the log's last append.

    ``consolidate`` holds the log's lock while it reads the log and writes
    the table, so an append lands after the table or not at all; an equal
    time (file times are coarse) counts as stale, which costs a re-read only.
    """
    try:
        return table.stat().st_mtime_ns > log.stat().st_mtime_ns
    except FileNotFoundError:
        return False


def _parse_lines(data: bytes, path: Path, first_number: int) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(data.splitlines(), first_number):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except (json.JSONDecodeError, UnicodeDecodeError):
            warnings.warn(
                f"{path}:{number}: ignoring an unreadable line (an interrupted write?)",
                stacklevel=3,
            )
    return records


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return _parse_lines(path.read_bytes(), path, 1)


def _repair_tail(log: IO[bytes], path: Path) -> None:
    """Truncate a torn last line (no newline: its write was interrupted)."""
    fd = log.fileno()
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    end = size
    while end > 0:  # find the last complete line, reading backwards
        start = max(0, end - 65536)
        newline = os.pread(fd, end - start, start).rfind(b"\n")
        if newline >= 0:
            end = start + newline + 1
            break
        end = start
    os.ftruncate(fd, end)
    warnings.warn(f"{path}: removed a torn last line ({size - end} bytes) left by an "
                  "interrupted run", stacklevel=4)


def _claim_offset(trial_key: str) -> int:
    """A byte of the claims file for the trial (60 bits: collisions are harmless,
    they only keep two trials from running at the same time in two runs)."""
    return int(hashlib.sha256(trial_key.encode()).hexdigest()[:15], 16)


class ResultStore:
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.log_path = self.folder / LOG_NAME
        self.table_path = self.folder / TABLE_NAME
        self._offset = 0  # bytes of the log new_rows() has read
        self._lines = 0
        self._claims: IO[bytes] | None = None

    def rows(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.log_path)

    def new_rows(self, from_start: bool = False) -> list[dict[str, Any]]:
        """The rows appended since the last call (every row, the first time or
        ``from_start``), by this run or another; a line still being written
        waits for the next call."""
        if from_start:
            self._offset = self._lines = 0
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._offset)
                data = log.read()
        except FileNotFoundError:
            return []
        complete = data[:data.rfind(b"\n") + 1]
        self._offset += len(complete)
        rows = _parse_lines(complete, self.log_path, self._lines + 1)
        self._lines += complete.count(b"\n")
        return rows

    def finished(self) -> dict[str, dict[str, Any]]:
        """trial_key -> row of every trial that finished ``ok``."""
        return {row["trial_key"]: row for row in self.rows() if row.get("status") == "ok"}

    def finished_keys(self) -> set[str]:
        return set(self.finished())

    def append(self, row: dict[str, Any],
               arrays: Mapping[str, np.ndarray] | None = None) -> None:
        """Persist a finished trial: its artifacts first (if any), then its row."""
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"result row has undocumented columns: {sorted(unknown)}")
        if arrays is not None:
            row["artifacts_sha256"] = artifacts.write(self.folder, row["trial_key"], arrays)
        self._append_line(self.log_path, row)

    def start_run(self, record: dict[str, Any]) -> None:
        """Record a run's command line and machine (``provenance.run_record``)."""
        self._append_line(self.folder / RUNS_NAME, record)

    def runs(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.folder / RUNS_NAME)

    def artifacts(self, row: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The arrays of a row's trial, checked against the digest it recorded."""
        return artifacts.load(self.folder, row["trial_key"],
                              row.get("artifacts_sha256") or "")

    def _append_line(self, path: Path, record: Mapping[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, sort_keys=True, allow_nan=True) + "\n").encode()
        with open(path, "a+b") as log:
            fcntl.flock(log, fcntl.LOCK_EX)  # released by close
            _repair_tail(log, path)
            log.write(line)
            log.flush()
            os.fsync(log.fileno())

    def claim(self, trial_key: str) -> bool:
        """Reserve a trial for this process: False while another process has it.

        Claims are POSIX record locks, owned by the process: closing any other
        descriptor of the claims file in this process would drop them all, so
        only this object opens it (one claiming store per folder and process).
        """
        if self._claims is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._claims = open(self.folder / CLAIMS_NAME, "ab")  # held until release_all
        try:
            fcntl.lockf(self._claims, fcntl.LOCK_EX | fcntl.LOCK_NB, 1,
                        _claim_offset(trial_key))
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EAGAIN):
                return False
            raise
        return True

    def release(self, trial_key: str) -> None:
        if self._claims is not None:
            fcntl.lockf(self._claims, fcntl.LOCK_UN, 1, _claim_offset(trial_key))

    def release_all(self) -> None:
        if self._claims is not None:
            self._claims.close()
            self._claims = None

    def frame(self, rows: Iterable[dict[str, Any]] | None = None) -> pd.DataFrame:
        """The latest row of each trial as a DataFrame with ``COLUMNS``."""
        rows = self.rows() if rows is None else list(rows)
        frame = pd.DataFrame(rows, columns=list(COLUMNS))
        # A retried trial appears several times; the last attempt wins.
        return frame.drop_duplicates("trial_key", keep="last").reset_index(drop=True)

    def consolidate(self) -> None:
        """Rewrite ``results.csv`` from the log (atomically; the log stays locked
        meanwhile, so the table is never older than a row it lacks)."""
        if not self.log_path.exists():
            return
        with open(self.log_path, "rb") as log:
            fcntl.flock(log, fcntl.LOCK_SH)
            frame = self.frame()
            with atomic_writer(self.table_path, encoding="utf-8", newline="") as out:
                frame.to_csv(out, index=False)
