"""The result store: append-only, consolidated table, claims, torn lines, old folders."""

import json
import multiprocessing
import os
import stat

import pandas as pd
import pytest

from benchbase.results import store as store_module
from benchbase.results.claims import Claims
from benchbase.results.record import COLUMNS, FORMAT_VERSION
from benchbase.results.store import ResultStore, read_table


def _row(key, status="ok", **extra):
    """A result row as a trial leaves it (an ok one with its result)."""
    result = {"params": "{}", "test_accuracy": 0.5} if status == "ok" else {}
    return {"trial_key": key, "algorithm": "A", "dataset": "d", "protocol": "official",
            "seed": 0, "status": status, **result, **extra}


def test_append_persists_each_row_and_consolidate_writes_the_table(tmp_path):
    store = ResultStore(tmp_path / "out")
    store.append(_row("k1", test_accuracy=0.5))
    store.append(_row("k2", status="error", error="boom"))
    assert [r["trial_key"] for r in store.rows()] == ["k1", "k2"]
    assert not store.table_path.exists()  # appending leaves the table alone
    store.consolidate()
    table = store.frame()
    assert list(table.columns) == list(COLUMNS)
    assert store.table_path.read_text().splitlines()[0].startswith("trial_key,")
    assert set(store.finished()) == {"k1"}  # failed trials are retried


def _fill(store, n):
    line = json.dumps(_row("k", test_accuracy=0.5, environment="x" * 2000)) + "\n"
    store.folder.mkdir(parents=True, exist_ok=True)
    store.log_path.write_text(line * n)


@pytest.mark.parametrize("existing", [10, 10_000])
def test_appending_reads_one_byte_and_rewrites_nothing_however_long_the_log(
        tmp_path, monkeypatch, existing):
    store = ResultStore(tmp_path)
    _fill(store, existing)
    read = []
    real_pread = os.pread
    monkeypatch.setattr(store_module.os, "pread",
                        lambda fd, n, at: read.append(n) or real_pread(fd, n, at))

    def refuse(*args, **kwargs):
        raise AssertionError("append must not read the log or write the table")

    monkeypatch.setattr(store_module, "atomic_writer", refuse)
    monkeypatch.setattr(store_module, "_read_jsonl", refuse)
    store.append(_row("new"))
    assert read == [1]  # the torn-line check: the log's last byte
    assert store.log_path.read_bytes().endswith(b'"trial_key": "new"}\n')


def test_a_torn_last_line_is_truncated_before_the_next_append(tmp_path):
    store = ResultStore(tmp_path)
    store.append(_row("k1"))
    with open(store.log_path, "a") as log:
        log.write('{"trial_key": "k2", "sta')  # a run killed mid-write
    with pytest.warns(UserWarning, match=r"trials\.jsonl: removed a torn last line "
                      r"\(24 bytes\)"):
        store.append(_row("k3"))
    lines = store.log_path.read_text().splitlines()
    assert [json.loads(line)["trial_key"] for line in lines] == ["k1", "k3"]
    store.consolidate()
    assert list(read_table(tmp_path)["trial_key"]) == ["k1", "k3"]


def test_torn_last_line_is_ignored_with_a_warning(tmp_path):
    store = ResultStore(tmp_path)
    store.append(_row("k1"))
    with open(store.log_path, "a") as log:
        log.write('{"trial_key": "k2", "sta')  # a crash mid-write
    with pytest.warns(UserWarning, match="trials.jsonl:2: ignoring an unreadable line"):
        assert [row["trial_key"] for row in store.rows()] == ["k1"]
    assert set(store.finished()) == {"k1"}  # a line without its end is not read yet


def test_latest_attempt_of_a_trial_wins(tmp_path):
    store = ResultStore(tmp_path)
    store.append(_row("k1", status="error", error="first try"))
    store.append(_row("k1", test_accuracy=0.9))
    frame = store.frame()
    assert len(frame) == 1 and frame.loc[0, "status"] == "ok"
    assert json.loads(store.log_path.read_text().splitlines()[0])["error"] == "first try"


def test_read_table_sees_every_logged_trial_when_the_table_is_stale(tmp_path):
    store = ResultStore(tmp_path)
    store.append(_row("k1", test_accuracy=0.5))
    store.consolidate()
    store.append(_row("k2", test_accuracy=0.75))  # a run killed before consolidating
    table = read_table(tmp_path)
    assert list(table["trial_key"]) == ["k1", "k2"]
    assert table["test_accuracy"].tolist() == [0.5, 0.75]
    store.consolidate()
    assert table.equals(read_table(tmp_path))  # the log and the table read alike
    (tmp_path / "results.csv").unlink()  # killed during its first trial's run
    assert list(read_table(tmp_path)["trial_key"]) == ["k1", "k2"]


def test_old_result_folders_read_in_the_current_format(tmp_path):
    old_columns = [c for c in COLUMNS if c not in ("threads", "concurrency", "executor",
                                                   "artifacts_sha256", "environment",
                                                   "format_version", "selection_rule")]
    pd.DataFrame([{**dict.fromkeys(old_columns, ""), **_row("k1")}]).to_csv(
        tmp_path / "results.csv", index=False)
    table = read_table(tmp_path)  # no log: the table, upgraded
    assert list(table.columns) == list(COLUMNS) and table.loc[0, "test_accuracy"] == 0.5
    assert table.loc[0, "format_version"] == FORMAT_VERSION
    (tmp_path / "trials.jsonl").write_text(json.dumps(_row("k1")) + "\n")
    (tmp_path / "results.csv").unlink()
    table = read_table(tmp_path)  # an old log: the new columns are empty
    assert table.loc[0, "executor"] == "" and pd.isna(table.loc[0, "concurrency"])


def test_files_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        store = ResultStore(tmp_path / "out")
        store.start_run({"run_id": "r"})
        store.append(_row("k1"), {"y": [1, 2]})
        assert store.claims.claim("k1")
        store.consolidate()
        store.claims.release_all()
    finally:
        os.umask(previous)
    names = ["trials.jsonl", "results.csv", "runs.jsonl", ".claims", "artifacts/k1.npz"]
    modes = {name: stat.S_IMODE((tmp_path / "out" / name).stat().st_mode) for name in names}
    assert set(modes.values()) == {0o640}, modes


def _try_claim(folder, key, answer):
    answer.put(Claims(folder).claim(key))


def _claim_in_another_process(folder, key):
    answer = multiprocessing.get_context("spawn").SimpleQueue()
    process = multiprocessing.get_context("spawn").Process(
        target=_try_claim, args=(folder, key, answer))
    process.start()
    process.join(60)
    return answer.get()


def test_a_claimed_trial_is_refused_to_other_processes_until_released(tmp_path):
    claims = Claims(tmp_path)
    assert claims.claim("k1")
    assert _claim_in_another_process(tmp_path, "k1") is False
    assert _claim_in_another_process(tmp_path, "k2") is True
    claims.release("k1")
    assert _claim_in_another_process(tmp_path, "k1") is True
    assert claims.claim("k1")
    claims.release_all()  # what a dying process's kernel does too
    assert _claim_in_another_process(tmp_path, "k1") is True


def test_new_rows_follows_the_log_and_waits_for_a_line_being_written(tmp_path):
    store, other = ResultStore(tmp_path), ResultStore(tmp_path)
    assert store.new_rows() == []
    other.append(_row("k1"))
    assert [r["trial_key"] for r in store.new_rows()] == ["k1"]
    line = json.dumps(_row("k2"))
    with open(store.log_path, "a") as log:
        log.write(line[:20])  # another run, mid-write
        log.flush()
        assert store.new_rows() == []
        log.write(line[20:] + "\n")
    assert [r["trial_key"] for r in store.new_rows()] == ["k2"]
    assert [r["trial_key"] for r in store.new_rows(from_start=True)] == ["k1", "k2"]
