"""The result store: append-only, atomic table, resumable."""

import json

import pytest

from benchbase.store import COLUMNS, ResultStore


def _row(key, status="ok", **extra):
    return {"trial_key": key, "algorithm": "A", "status": status, **extra}


def test_append_persists_each_row_and_rewrites_the_table(tmp_path):
    store = ResultStore(tmp_path / "out")
    store.append(_row("k1", test_accuracy=0.5))
    store.append(_row("k2", status="error", error="boom"))
    assert [r["trial_key"] for r in store.rows()] == ["k1", "k2"]
    table = store.frame()
    assert list(table.columns) == list(COLUMNS)
    assert store.table_path.read_text().splitlines()[0].startswith("trial_key,")
    assert store.finished_keys() == {"k1"}  # failed trials are retried


def test_undocumented_columns_are_refused(tmp_path):
    with pytest.raises(ValueError, match="undocumented columns: \\['surprise'\\]"):
        ResultStore(tmp_path).append(_row("k", surprise=1))


def test_torn_last_line_is_ignored_with_a_warning(tmp_path):
    store = ResultStore(tmp_path)
    store.append(_row("k1"))
    with open(store.log_path, "a") as log:
        log.write('{"trial_key": "k2", "sta')  # a crash mid-write
    with pytest.warns(UserWarning, match="trials.jsonl:2: ignoring an unreadable line"):
        assert store.finished_keys() == {"k1"}


def test_latest_attempt_of_a_trial_wins(tmp_path):
    store = ResultStore(tmp_path)
    store.append(_row("k1", status="error", error="first try"))
    store.append(_row("k1", test_accuracy=0.9))
    frame = store.frame()
    assert len(frame) == 1 and frame.loc[0, "status"] == "ok"
    assert json.loads(store.log_path.read_text().splitlines()[0])["error"] == "first try"
