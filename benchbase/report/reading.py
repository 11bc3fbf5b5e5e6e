"""Reading results folders: their tables, their runs, and their trials' artifacts."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from benchbase.report.document import Notice
from benchbase.report.tables import minute
from benchbase.results import artifacts
from benchbase.results.artifacts import ArtifactError
from benchbase.results.format import upgrade_artifacts
from benchbase.results.store import ResultStore, read_table
from benchbase.results.summary import name_variants
from benchbase.trial.splits import validation_size


def read_folder(folder: str | os.PathLike[str]) -> pd.DataFrame:
    """One folder's rows (in the current format) with a ``source`` column."""
    return name_variants(read_table(folder)).assign(source=str(folder))


def read_results(folders: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
    """The rows of every folder's results.csv, with a ``source`` column (the folder).

    Refuses, naming the path: a missing folder or table, missing columns, a
    trial present in two folders with the same start (a folder given twice or
    copied: it would count twice), and no rows at all.
    """
    if not folders:
        raise ValueError("no results folder given")
    results = pd.concat([read_folder(folder) for folder in folders], ignore_index=True)
    _refuse_shared_trials(results)
    if results.empty:
        raise ValueError(f"no trials in {', '.join(map(str, folders))}")
    return results


def _refuse_shared_trials(results: pd.DataFrame) -> None:
    # A table holds each trial once (the store keeps its last attempt), so the
    # same trial started at the same moment in two folders is a folder given
    # twice or copied into another. Started at another moment, it is the
    # trial run again into another folder (on other code or another machine):
    # ``latest_trials`` compares the later row and names the earlier one.
    repeated = results[results.duplicated(["trial_key", "started_at"], keep=False)]
    if not repeated.empty:
        key = repeated["trial_key"].iloc[0]
        folders = repeated.loc[repeated["trial_key"] == key, "source"]
        raise ValueError(
            f"{repeated['trial_key'].nunique()} trial(s) appear in more than one "
            f"folder (e.g. trial {key} in {' and '.join(folders)}); pass each "
            "results folder once")


#: What makes two rows the same measurement: a rerun under a new trial key
#: (new code, a new selection rule) measures it again.
MEASUREMENT = ["algorithm", "dataset", "protocol", "seed"]


def latest_trials(results: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the latest row of each algorithm × dataset × protocol × seed, the rows
    they supersede). Pairing and means assume one trial per seed; an older row
    of the same measurement stays in its folder and is named, not compared."""
    # By position: a caller's frame may repeat index labels.
    order = results.reset_index(drop=True).sort_values("started_at", kind="stable")
    stale = order.duplicated(MEASUREMENT, keep="last").sort_index().to_numpy()
    return results[~stale], results[stale]


def superseded_notices(superseded: pd.DataFrame, latest: pd.DataFrame) -> list[Notice]:
    """One notice naming the rows ``latest_trials`` set aside (none if none)."""
    if superseded.empty:
        return []
    newer = latest.set_index(MEASUREMENT)["started_at"]
    examples = [f"{row.algorithm} on {row.dataset} ({row.protocol}, seed {row.seed}) "
                f"started {minute(row.started_at)}, rerun "
                f"{minute(newer[tuple(row[MEASUREMENT])])}"
                for _, row in superseded.head(3).iterrows()]
    more = f" and {len(superseded) - 3} more" if len(superseded) > 3 else ""
    return [Notice(
        f"{len(superseded)} trial(s) were measured again (under a new trial key, or "
        "in another folder) "
        f"({'; '.join(examples)}{more}); only the latest row of each algorithm, "
        "dataset, protocol and seed is compared. The older rows stay in their folders.")]


def unreadable_notices(results: pd.DataFrame) -> list[Notice]:
    """A notice for each source folder whose log has lines no row could be read
    from: those trials are missing from the report."""
    notices = []
    for source in sorted(set(results["source"])) if "source" in results else []:
        store = ResultStore(source)
        lines = store.unreadable()
        if lines:
            shown = "; ".join(f"line {number}: {why}" for number, why in lines[:3])
            more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
            notices.append(Notice(
                f"{len(lines)} line(s) of {store.log_path} could not be read as a result "
                f"row ({shown}{more}); their trials are not in this report."))
    return notices


def runs(results: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Each source folder's ``runs.jsonl`` records (empty for older folders)."""
    if "source" not in results:
        return {}
    return {source: ResultStore(source).runs() for source in sorted(set(results["source"]))}


def suite_settings(runs: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The report settings (``focus``, ``rope``) the runs' suites recorded: for
    each, the latest run's that names one (none for runs of older benchbase)."""
    settings: dict[str, Any] = {}
    records = sorted((run for found in runs.values() for run in found),
                     key=lambda run: str(run.get("started_at", "")))
    for run in records:
        suite = run.get("suite") or {}
        settings.update({key: suite[key] for key in ("focus", "rope")
                         if suite.get(key) is not None})
    return settings


class ArtifactLoader:
    """Loads result rows' artifacts on demand, once each, remembering failures.

    ``load(row)`` returns the arrays or raises ``ArtifactError``; ``arrays(rows)``
    returns those that load and ``explain(rows)`` says in one sentence what is
    missing, for sections to print instead of failing.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], dict[str, np.ndarray] | ArtifactError] = {}

    def load(self, row: Mapping[str, Any]) -> dict[str, np.ndarray]:
        key = (str(row.get("source", "")), str(row["trial_key"]))
        if key not in self._cache:
            try:
                if not key[0]:
                    raise ArtifactError(f"trial {key[1]}: no results folder to read "
                                        "its artifacts from")
                found = artifacts.load(key[0], key[1], str(row["artifacts_sha256"]))
                n_train = int(row["n_train"])
                self._cache[key] = upgrade_artifacts(
                    found, n_train - validation_size(n_train))
            except ArtifactError as exc:
                self._cache[key] = exc
        found = self._cache[key]
        if isinstance(found, ArtifactError):
            raise found
        return found

    def arrays(self, rows: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
        """trial_key -> arrays, for the rows whose artifacts load."""
        loaded = {}
        for row in _records(rows):
            try:
                loaded[row["trial_key"]] = self.load(row)
            except ArtifactError:
                continue
        return loaded

    def explain(self, rows: pd.DataFrame) -> str:
        """Why some rows' artifacts are unavailable ("" when all load)."""
        reasons: Counter[str] = Counter()
        for row in _records(rows):
            try:
                self.load(row)
            except ArtifactError as exc:
                reasons[_reason(row, exc)] += 1
        return "; ".join(f"{count} of {len(rows)} trials {reason}"
                         for reason, count in sorted(reasons.items()))


def _reason(row: Mapping[str, Any], error: ArtifactError) -> str:
    if not row["artifacts_sha256"]:
        return "record no artifacts (written by a benchbase that did not store them)"
    return f"have artifacts that cannot be used (e.g. {error})"


def _records(rows: pd.DataFrame) -> Iterable[dict[str, Any]]:
    return rows.to_dict("records")
