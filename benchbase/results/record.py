"""What a trial leaves: its status, its typed result, and the one stored row built from them.

A trial's process returns a ``TrialResult`` (``benchbase.trial.evaluate``); its
executor wraps it in an ``Outcome`` (``ok``, or a failure status and message);
the orchestrator turns the planned trial's fields, the outcome and what it
measured itself (host, threads, concurrency, wall time) into the stored row
with ``make_row``, the only place a row is assembled. ``COLUMNS`` documents
every column; ``benchbase.results.format`` versions them.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any

import numpy as np


class Status(str, enum.Enum):
    """How a trial ended; the stored value is the lowercase word."""

    OK = "ok"
    #: The plugin raised, or returned invalid predictions.
    ERROR = "error"
    #: Killed at its timeout.
    TIMEOUT = "timeout"
    #: Its process died without a result.
    CRASHED = "crashed"
    #: Over the memory limit, or a MemoryError.
    MEMORY = "memory"
    #: Cut off: what ran it went away (a Dask scheduler); no plugin failed.
    LOST = "lost"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


@dataclasses.dataclass(frozen=True)
class Accuracies:
    """Fractions of correct predictions, computed by the harness from checked
    predictions (never from a plugin's own ``score``)."""

    train: float
    test: float
    #: Of the chosen parameters on the validation split; None when nothing was chosen.
    validation: float | None = None


@dataclasses.dataclass(frozen=True)
class Timings:
    """Seconds of a trial's stages (``benchbase.timing``), and how many of the
    host's CPUs other processes kept busy meanwhile (None: not measurable)."""

    select_seconds: float
    select_other_cpus: float | None
    fit_seconds: float
    fit_cpu_seconds: float
    fit_other_cpus: float | None
    predict_seconds: float
    predict_cpu_seconds: float


@dataclasses.dataclass(frozen=True)
class SelectionSummary:
    """How the final parameters were chosen."""

    #: "grid", "halving", or "" when there was nothing to choose.
    strategy: str
    #: The rule that ran (``benchbase.trial.selection.SelectionRule.identity()``);
    #: empty when there was nothing to choose.
    rule: Mapping[str, Any]
    n_candidates: int


@dataclasses.dataclass(frozen=True)
class TrialResult:
    """Everything a finished trial measured, as its process returns it."""

    #: The final model's parameters (selected and fixed).
    params: Mapping[str, Any]
    #: What the final model says about its fit (its ``fit_info_``).
    fit_info: Mapping[str, Any]
    accuracy: Accuracies
    timings: Timings
    selection: SelectionSummary
    #: BLAS threads in use.
    blas_threads: int | None
    #: Peak resident memory of the process that ran the trial, MiB.
    peak_rss_mb: float
    #: ``benchbase.results.provenance.environment()`` of that process.
    environment: Mapping[str, Any]
    #: Arrays kept beside the row (``benchbase.results.artifacts``).
    artifacts: Mapping[str, np.ndarray]

    def fields(self) -> dict[str, Any]:
        """The row's columns this result fills (its artifacts go to their own file)."""
        return {
            "params": dumps(self.params),
            "fit_info": dumps(self.fit_info),
            "train_accuracy": self.accuracy.train,
            "test_accuracy": self.accuracy.test,
            "val_accuracy": self.accuracy.validation,
            **dataclasses.asdict(self.timings),
            "selection": self.selection.strategy,
            "selection_rule": dumps(self.selection.rule) if self.selection.rule else "",
            "n_candidates": self.selection.n_candidates,
            "blas_threads": self.blas_threads,
            "peak_rss_mb": self.peak_rss_mb,
            "environment": dumps(self.environment),
        }


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a trial's process ended: ``ok`` with its result, or a failure status
    with a message."""

    status: Status
    result: TrialResult | None = None
    error: str = ""
    #: What the trial printed (stdout and stderr, bounded: ``benchbase.execution.output``).
    output: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        if (self.status is Status.OK) != (self.result is not None):
            raise ValueError("an ok outcome carries a result, a failed one none")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def dumps(obj: Mapping[str, Any]) -> str:
    """A mapping as the row stores it: sorted JSON (NumPy scalars as numbers,
    anything else unserializable by its repr)."""
    return json.dumps({k: _jsonable(v) for k, v in obj.items()}, sort_keys=True,
                      default=repr)


#: The folder of a results folder holding what each trial printed.
LOGS_FOLDER = "logs"
#: Lines of a trial's output that a failed row's error ends with.
OUTPUT_TAIL_LINES = 20


def error_text(outcome: Outcome) -> str:
    """A failed trial's error, followed by the last lines it printed."""
    kept = [line for line in outcome.output.splitlines() if line.strip()]
    if outcome.status is Status.OK or not kept:
        return outcome.error
    return (f"{outcome.error}\n--- the trial's last output lines ---\n"
            + "\n".join(kept[-OUTPUT_TAIL_LINES:]))


def make_row(planned: Mapping[str, Any], outcome: Outcome, measured: Mapping[str, Any]
             ) -> tuple[dict[str, Any], Mapping[str, np.ndarray] | None]:
    """The stored row of a finished trial, and its artifacts (None if it failed).

    ``planned``: the fields known before it ran (``benchbase.plan``); ``measured``:
    what the orchestrator saw (host, threads, concurrency, executor, times). A
    field given by two of these is a bug, refused rather than overwritten.
    """
    result = outcome.result
    log = f"{LOGS_FOLDER}/{planned['trial_key']}.log" if outcome.output else ""
    parts = (planned, measured,
             {"status": outcome.status.value, "error": error_text(outcome), "log": log,
              "format_version": FORMAT_VERSION},
             result.fields() if result is not None else {})
    row: dict[str, Any] = {}
    for part in parts:
        twice = sorted(row.keys() & part.keys())
        if twice:
            raise ValueError(f"result row: {', '.join(twice)} given twice")
        row.update(part)
    unknown = sorted(set(row) - set(COLUMNS))
    if unknown:
        raise ValueError(f"result row has undocumented columns: {unknown}")
    return row, (result.artifacts if result is not None else None)


#: The version of ``COLUMNS``: bumped whenever a column is added, removed or
#: changes meaning, with the step that upgrades older rows in
#: ``benchbase.results.format.upgrade``. Rows without ``format_version`` are 1.
FORMAT_VERSION = 3

#: Columns of a result row (``trials.jsonl``, ``results.csv``), in order, with
#: their meaning.
COLUMNS: dict[str, str] = {
    "trial_key": "stable hash of what identifies the trial: algorithm, dataset, protocol, "
                 "seed, fixed parameters, search space, plugin version and, where it is "
                 "not the full grid, the selection rule (benchbase.trial.task.trial_key)",
    "format_version": "the version of this row's format (benchbase.results.format); "
                      "older rows are upgraded when read",
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
                 "(successive halving: the best on ever more rows; "
                 "benchbase.trial.selection), or empty when there was nothing to choose",
    "selection_rule": "JSON: the selection rule's name, version and settings "
                      "(benchbase.trial.selection.SelectionRule); version 0: a row from "
                      "before rules were versioned; empty when nothing was chosen",
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
              "timeout, crashed (its process died), memory (over the memory limit, "
              "or MemoryError) or lost (cut off: what ran it went away, e.g. a Dask "
              "scheduler; run again to complete it)",
    "error": "the error message when status is not ok, followed by the last lines "
             "the trial printed",
    "log": "logs/<trial_key>.log: what the trial printed to stdout and stderr (its "
           "first and last kilobytes where it printed more); empty: nothing",
    "plugin": "distribution and version of the algorithm's plugin",
    "benchbase_version": "version of benchbase that ran the trial",
    "started_at": "UTC time the trial started (ISO 8601)",
    "run_id": "the run that made the row (its command line is in runs.jsonl)",
    "host": "host name of the machine the trial ran on",
    "environment": "JSON: the trial process's machine and software: CPU, cores, "
                   "memory, OS, Python, library versions, BLAS libraries and "
                   "threads, GPU, git commit (benchbase.results.provenance)",
    "artifacts_sha256": "sha256 of artifacts/<trial_key>.npz: test labels and "
                        "predictions, every candidate's validation score, the "
                        "algorithm's own arrays (empty: none kept)",
}

#: The columns holding a JSON object.
JSON_COLUMNS = tuple(name for name, about in COLUMNS.items() if about.startswith("JSON"))

#: The columns holding text (JSON included); the others hold numbers.
TEXT_COLUMNS = frozenset({
    "trial_key", "algorithm", "family", "dataset", "protocol", "subset_hash",
    "params", "search_space", "fit_info", "status", "error", "plugin",
    "benchbase_version", "started_at", "run_id", "host", "environment",
    "artifacts_sha256", "executor", "selection", "selection_rule", "variant", "log",
})
