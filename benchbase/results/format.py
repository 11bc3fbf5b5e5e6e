"""Versioned results: every stored row and run record says its format, and older
ones are upgraded in one place when read.

``FORMAT_VERSION`` (``benchbase.results.record``) counts changes to the columns.
Readers see only current rows: ``read_table`` and the store pass every row through
``upgrade``, every run record through ``upgrade_run``, and the report's artifact
loader passes artifacts through ``upgrade_artifacts``; no reader needs to know
what an older benchbase wrote. A row keeps its ``trial_key`` (its artifacts are
filed under it), so an upgraded folder still resolves every artifact.

Versions:

1. (no ``format_version`` field) everything written before the field existed,
   including rows older than some columns (``variant``, ``selection``,
   ``trial_seconds``, ``concurrency``, ``executor``, the ``*_other_cpus``
   columns, ``artifacts_sha256``) and trial keys that named selection rules in
   words;
2. ``format_version`` and ``selection_rule`` added; trial keys name selection
   rules by name, version and settings;
3. ``log`` added (a trial's output, kept in ``logs/``); a failed row's
   ``error`` ends with the last lines the trial printed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from benchbase.results.record import COLUMNS, FORMAT_VERSION, TEXT_COLUMNS, Status

#: What a row must hold to be a result row at all, in any version.
REQUIRED = ("trial_key", "algorithm", "dataset", "protocol", "seed", "status")
#: What an ``ok`` row holds besides, in any version: the result itself.
RESULT_FIELDS = ("params", "test_accuracy")
#: What every results table (``results.csv``) has had as columns.
TABLE_COLUMNS = REQUIRED + RESULT_FIELDS


class FormatError(ValueError):
    """A row or record that is no result of any known format (the message says why)."""


def upgrade(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` in the current format: every column present (empty text, or None
    for a number it did not record), older fields brought up to date."""
    version = _version(row)
    missing = [name for name in REQUIRED if _absent(row.get(name))]
    if missing:
        raise FormatError(f"not a result row: no {', '.join(missing)}")
    if str(row["status"]) not in {status.value for status in Status}:
        raise FormatError(f"trial {row['trial_key']}: unknown status {row['status']!r}")
    if row["status"] == Status.OK:
        missing = [name for name in RESULT_FIELDS if _absent(row.get(name))]
        if missing:
            raise FormatError(f"trial {row['trial_key']}: an ok row without "
                              f"{', '.join(missing)}")
    upgraded = {name: row.get(name, "" if name in TEXT_COLUMNS else None)
                for name in COLUMNS}
    for name in TEXT_COLUMNS:  # a CSV reads an empty cell as NaN
        if _absent(upgraded[name]):
            upgraded[name] = ""
    if version < 2:
        _to_version_2(upgraded, row)
    # Version 3 only added ``log``, empty for older rows: nothing to change.
    upgraded["format_version"] = FORMAT_VERSION
    return upgraded


def _to_version_2(upgraded: dict[str, Any], row: Mapping[str, Any]) -> None:
    if "selection" not in row:  # before successive halving every search was a grid
        chose = (upgraded["n_candidates"] or 0) > 1 and upgraded["status"] == Status.OK
        upgraded["selection"] = "grid" if chose else ""
    if upgraded["selection"]:
        # The full grid never changed; halving's rules were not versioned then.
        version = 1 if upgraded["selection"] == "grid" else 0
        upgraded["selection_rule"] = json.dumps(
            {"name": upgraded["selection"], "version": version}, sort_keys=True)


def check_columns(columns: Iterable[str]) -> None:
    """Refuse a table whose header lacks a column every format has had."""
    missing = [name for name in TABLE_COLUMNS if name not in set(columns)]
    if missing:
        raise FormatError(f"missing column(s) {', '.join(missing)}")


def upgrade_run(record: Mapping[str, Any]) -> dict[str, Any]:
    """A ``runs.jsonl`` record in the current format."""
    _version(record)
    return {**record, "format_version": FORMAT_VERSION}


def upgrade_artifacts(arrays: Mapping[str, np.ndarray], n_fit: int) -> dict[str, np.ndarray]:
    """A trial's artifacts with every array the harness stores today.

    ``n_fit`` is the trial's fit-split size: artifacts older than successive
    halving scored every candidate on all of it and did not say so.
    """
    upgraded = dict(arrays)
    scores = np.asarray(upgraded.get("val_scores", []), dtype=np.float64)
    if "val_samples" not in upgraded:
        upgraded["val_samples"] = np.full(len(scores), n_fit, dtype=np.int64)
    if "val_history" not in upgraded:
        upgraded["val_history"] = np.column_stack(
            [np.arange(len(scores)), upgraded["val_samples"], scores]).reshape(-1, 3)
    return upgraded


def _version(record: Mapping[str, Any]) -> int:
    value = record.get("format_version")
    if _absent(value):
        return 1
    try:
        version = int(value)
    except (TypeError, ValueError):
        raise FormatError(f"format_version {value!r} is not a number") from None
    if version > FORMAT_VERSION:
        raise FormatError(f"format_version {version} is newer than this benchbase reads "
                          f"({FORMAT_VERSION}); upgrade benchbase")
    return version


def _absent(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))
