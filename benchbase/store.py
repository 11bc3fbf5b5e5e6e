"""The result store: one folder, one append-only log, one derived table.

* ``trials.jsonl``: one JSON object per finished trial (ok or failed), appended
  and fsync'ed as soon as the trial ends. A crash can at worst leave a torn
  last line, which is ignored (with a warning) when reading.
* ``results.csv``: the same rows as a table, rewritten atomically (temp file +
  rename) after each trial. ``COLUMNS`` documents its columns.
* ``artifacts/<trial_key>.npz``: the trial's arrays (``benchbase.artifacts``),
  in place before the row that records their digest is appended.
* ``runs.jsonl``: one line per run: its id, command line and the machine and
  software of the process that ran it (``benchbase.provenance``).

A later run with the same output folder skips trials whose key already has an
``ok`` row; failed trials are tried again.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchbase import artifacts
from benchbase.fsutil import atomic_writer

LOG_NAME = "trials.jsonl"
TABLE_NAME = "results.csv"
RUNS_NAME = "runs.jsonl"

#: Columns of results.csv, in order, with their meaning.
COLUMNS: dict[str, str] = {
    "trial_key": "stable hash of algorithm, dataset, protocol, seed, fixed "
                 "parameters, search space and plugin version",
    "algorithm": "algorithm name",
    "family": "algorithm family (ELM, AE, ...)",
    "dataset": "dataset name",
    "protocol": "official, paper or subset:TRAIN/TEST",
    "seed": "repetition seed: drives subsets, the validation split and random_state",
    "subset_hash": "hash of the train/test row indices used",
    "n_train": "training samples (validation is carved from these)",
    "n_test": "test samples",
    "params": "JSON: the parameters of the final model (selected + fixed)",
    "search_space": "JSON: the grid explored on the validation split",
    "n_candidates": "grid points evaluated during selection",
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
    "peak_rss_mb": "peak resident memory of the trial's process, MiB "
                   "(interpreter, data and model)",
    "blas_threads": "BLAS threads in use",
    "status": "ok, error, timeout or crashed",
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
    "artifacts_sha256",
})


def read_table(folder: str | os.PathLike[str]) -> pd.DataFrame:
    """The ``results.csv`` of a results folder; empty text cells read as ``""``.

    Raises FileNotFoundError or ValueError naming the path when the folder or
    its table is missing or unreadable. Columns are returned as found (a
    table written by an older version may lack some of ``COLUMNS``).
    """
    folder = Path(folder)
    path = folder / TABLE_NAME
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such results folder")
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: no {TABLE_NAME} here; is it an output "
                                "folder of `benchbase run`?")
    try:
        # Only empty cells are missing: an error message "None" stays text.
        frame = pd.read_csv(path, dtype={name: str for name in TEXT_COLUMNS},
                            keep_default_na=False, na_values=[""])
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable results table ({exc})") from None
    text = [name for name in frame.columns if name in TEXT_COLUMNS]
    frame[text] = frame[text].fillna("")
    return frame


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records = []
    with open(path, encoding="utf-8") as log:
        for number, line in enumerate(log, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                warnings.warn(
                    f"{path}:{number}: ignoring an unreadable line (an interrupted write?)",
                    stacklevel=3,
                )
    return records


class ResultStore:
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.log_path = self.folder / LOG_NAME
        self.table_path = self.folder / TABLE_NAME

    def rows(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.log_path)

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
        self.write_table()

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
        line = json.dumps(record, sort_keys=True, allow_nan=True) + "\n"
        with open(path, "a", encoding="utf-8") as log:
            log.write(line)
            log.flush()
            os.fsync(log.fileno())

    def frame(self, rows: Iterable[dict[str, Any]] | None = None) -> pd.DataFrame:
        """The latest row of each trial as a DataFrame with ``COLUMNS``."""
        rows = self.rows() if rows is None else list(rows)
        frame = pd.DataFrame(rows, columns=list(COLUMNS))
        # A retried trial appears several times; the last attempt wins.
        return frame.drop_duplicates("trial_key", keep="last").reset_index(drop=True)

    def write_table(self) -> None:
        frame = self.frame()
        with atomic_writer(self.table_path, encoding="utf-8", newline="") as out:
            frame.to_csv(out, index=False)
