"""The result store: one folder, one append-only log, one derived table.

* ``trials.jsonl``: one JSON object per finished trial (ok or failed), appended
  and fsync'ed as soon as the trial ends, under an exclusive lock (``flock``)
  so that two runs into one folder never interleave lines. Appending costs the
  same at the first trial and the ten-thousandth: the table is not touched. A
  run killed mid-write can leave a torn last line; the next append truncates
  it first (with a warning), so no row is ever glued onto it.
* ``results.csv``: the latest row of each trial as a table (``COLUMNS``),
  rewritten atomically from the log when a run ends, is interrupted, or
  terminated: for people and other programs. ``read_table`` reads the log,
  which is always current (a killed run leaves an older table).
* ``artifacts/<trial_key>.npz``: the trial's arrays (``benchbase.results.artifacts``),
  in place before the row that records their digest is appended.
* ``logs/<trial_key>.log``: what the trial printed (stdout and stderr, bounded),
  written before its row.
* ``runs.jsonl``: one line per run: its id, command line and the machine and
  software of the process that ran it (``benchbase.results.provenance``).
* ``.claims``: which trials a running run holds (``benchbase.results.claims``).

Every file is created with the user's umask. A later run with the same
output folder skips trials whose key already has an ``ok`` row; failed
trials are tried again. Every row and run record read back goes through
``benchbase.results.format``, so readers see the current format only.
"""

from __future__ import annotations

import errno
import fcntl
import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from benchbase.fsutil import atomic_writer
from benchbase.results import artifacts
from benchbase.results.claims import Claims
from benchbase.results.format import FormatError, check_columns, upgrade, upgrade_run
from benchbase.results.record import COLUMNS, FORMAT_VERSION, TEXT_COLUMNS, Status

LOG_NAME = "trials.jsonl"
TABLE_NAME = "results.csv"
RUNS_NAME = "runs.jsonl"


def read_table(folder: str | os.PathLike[str]) -> pd.DataFrame:
    """The results of a results folder as a table in the current format: the
    latest row of each trial, every column present, empty text cells ``""``.

    Read from ``trials.jsonl`` (the log, always current; a table is rewritten
    only when a run ends), or from ``results.csv`` where a folder has only the
    table. Raises FileNotFoundError or ValueError naming the path when the
    folder or its results are missing or unreadable.
    """
    folder = Path(folder)
    table, log = folder / TABLE_NAME, folder / LOG_NAME
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such results folder")
    if log.is_file():
        return typed_frame(ResultStore(folder).frame())
    if not table.is_file():
        raise FileNotFoundError(f"{folder}: no {TABLE_NAME} here; is it an output "
                                "folder of `benchbase run`?")
    try:
        found = pd.read_csv(table, dtype={name: str for name in TEXT_COLUMNS},
                            keep_default_na=False, na_values=[""])
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{table}: not a readable results table ({exc})") from None
    try:
        check_columns(found.columns)
        rows = [upgrade(row) for row in found.to_dict("records")]
    except FormatError as exc:
        raise ValueError(f"{table}: {exc}") from None
    return typed_frame(latest(rows))


def latest(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The latest row of each trial (a retried trial appears several times; the
    last attempt wins) as a DataFrame with ``COLUMNS``."""
    frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    return frame.drop_duplicates("trial_key", keep="last").reset_index(drop=True)


def typed_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the types a saved table reads back with: text columns as
    text (empty cells ``""``), the others as numbers (empty cells NaN)."""
    buffer = io.StringIO(frame.to_csv(index=False))
    # Only empty cells are missing: an error message "None" stays text.
    typed = pd.read_csv(buffer, dtype={name: str for name in TEXT_COLUMNS},
                        keep_default_na=False, na_values=[""])
    text = [name for name in typed.columns if name in TEXT_COLUMNS]
    typed[text] = typed[text].fillna("")
    return typed


def _parse_lines(data: bytes, first_number: int,
                 read: Callable[[dict[str, Any]], dict[str, Any]]
                 ) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """The records of ``data``'s lines, each through ``read`` (an upgrade), and
    the (line number, reason) of each line that could not be read."""
    records, unreadable = [], []
    for number, line in enumerate(data.splitlines(), first_number):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            unreadable.append((number, "not JSON: an interrupted write?"))
            continue
        if not isinstance(record, dict):
            unreadable.append((number, "not a JSON object"))
            continue
        try:
            records.append(read(record))
        except FormatError as exc:
            unreadable.append((number, str(exc)))
    return records, unreadable


def _warn_unreadable(path: Path, unreadable: list[tuple[int, str]]) -> None:
    for number, why in unreadable:
        warnings.warn(f"{path}:{number}: ignoring an unreadable line ({why})", stacklevel=3)


def _read_jsonl(path: Path, read: Callable[[dict[str, Any]], dict[str, Any]]
                ) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records, unreadable = _parse_lines(path.read_bytes(), 1, read)
    _warn_unreadable(path, unreadable)
    return records


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


class ResultStore:
    """One results folder: its log, table, run records, artifacts and claims."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.log_path = self.folder / LOG_NAME
        self.table_path = self.folder / TABLE_NAME
        self.claims = Claims(self.folder)
        self._offset = 0  # bytes of the log new_rows() has read
        self._lines = 0

    def check_writable(self) -> None:
        """Refuse, before any work, a folder results cannot be written to
        (``PermissionError`` naming it): the folder, or the nearest folder above
        it that exists, must take a new entry, and an existing log an append.
        Nothing is left behind."""
        existing = self.folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        try:
            if not existing.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
            with tempfile.TemporaryDirectory(dir=existing):
                pass
            if self.log_path.exists():
                with open(self.log_path, "ab"):
                    pass
        except OSError as exc:
            raise PermissionError(f"results folder {self.folder} cannot be written "
                                  f"({exc.strerror or exc})") from None

    def rows(self) -> list[dict[str, Any]]:
        """Every row of the log, in the current format."""
        return _read_jsonl(self.log_path, upgrade)

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
        rows, unreadable = _parse_lines(complete, self._lines + 1, upgrade)
        _warn_unreadable(self.log_path, unreadable)
        self._lines += complete.count(b"\n")
        return rows

    def unreadable(self) -> list[tuple[int, str]]:
        """(line number, reason) of each line of the log that no row could be
        read from (a report says so; reading the rows warns)."""
        if not self.log_path.exists():
            return []
        return _parse_lines(self.log_path.read_bytes(), 1, upgrade)[1]

    def finished(self) -> dict[str, dict[str, Any]]:
        """trial_key -> row of every trial that finished ``ok``, read afresh; later
        ``new_rows`` calls return only the rows appended after this one."""
        return {row["trial_key"]: row for row in self.new_rows(from_start=True)
                if row["status"] == Status.OK}

    def append(self, row: dict[str, Any],
               arrays: Mapping[str, np.ndarray] | None = None, output: str = "") -> None:
        """Persist a finished trial (a ``benchbase.results.record.make_row`` row):
        its artifacts and output (to the row's ``log`` path) first, then its row."""
        if arrays is not None:
            row["artifacts_sha256"] = artifacts.write(self.folder, row["trial_key"], arrays)
        if row.get("log"):
            with atomic_writer(self.folder / row["log"], encoding="utf-8") as out:
                out.write(output)
        self._append_line(self.log_path, row)

    def start_run(self, record: dict[str, Any]) -> None:
        """Record a run's command line and machine (``provenance.run_record``)."""
        self._append_line(self.folder / RUNS_NAME,
                          {**record, "format_version": FORMAT_VERSION})

    def runs(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.folder / RUNS_NAME, upgrade_run)

    def _append_line(self, path: Path, record: Mapping[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, sort_keys=True, allow_nan=True) + "\n").encode()
        with open(path, "a+b") as log:
            fcntl.flock(log, fcntl.LOCK_EX)  # released by close
            _repair_tail(log, path)
            log.write(line)
            log.flush()
            os.fsync(log.fileno())

    def frame(self, rows: Iterable[dict[str, Any]] | None = None) -> pd.DataFrame:
        """The latest row of each trial (of ``rows``, or of the log) as a DataFrame
        with ``COLUMNS``."""
        return latest(self.rows() if rows is None else rows)

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
