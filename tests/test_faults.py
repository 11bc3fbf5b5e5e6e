"""Hostile plugins: every fault becomes a failed row with a clear message, and the run goes on.

The faults run under the default ``process`` executor: each trial in its own
process, so a hang in C code, an abort or a memory hog costs only its trial.
"""

import json
import os
import re
import subprocess
import sys
import time

import pytest
from doubles import CHATTER_BYTES, DAEMON, IN_OWN_SESSION, SPAWNED, run_rows
from processes import gone, running_command

from benchbase.execution import isolation, limits


@pytest.mark.parametrize(("fault", "options", "status", "message"), [
    ("HangsInC", {"timeout": 2}, "timeout", "no result after 2 s; the trial was killed"),
    ("Aborts", {}, "crashed", r"died \(signal 6, SIGABRT\) without a result"),
    ("HogsMemory", {"memory_limit_mb": 300}, "memory",
     r"private memory reached \d+ MiB, over the limit of 300 MiB"),
    ("RaisesMemoryError", {}, "memory", "MemoryError: Unable to allocate"),
    ("ColumnVector", {}, "error",
     r"predict\(\) returned an array of shape \((\d+), 1\) for \1 samples; "
     r"expected shape \(\1,\)"),
    ("TooShort", {}, "error", r"returned an array of shape \((\d+),\) for \d+ samples"),
    ("Floats", {}, "error",
     r"predict\(\) returned float64 values; expected labels of the training data's "
     r"kind \(int64\)"),
    ("Strings", {}, "error", r"returned <U21 values; expected labels"),
    ("UnknownLabels", {}, "error",
     r"returned labels that are not classes of the training data: 100, 101, 102, 103 "
     r"\(classes: 0, 1, 2, 3\)"),
    ("NoRandomState", {}, "error",
     r"algorithm 'NoRandomState': its factory cannot be called with the harness's "
     r"arguments \['random_state'\] \(TypeError: .*random_state"),
])
def test_a_fault_is_a_failed_row_and_the_run_goes_on(catalog, tmp_path, fault, options,
                                                       status, message):
    rows = run_rows(catalog, tmp_path, [fault, "Spy"], **options)
    assert [row["status"] for row in rows] == [status, "ok"]
    assert re.search(message, rows[0]["error"]), rows[0]["error"]
    assert rows[1]["test_accuracy"] == 1.0
    saved = [json.loads(line) for line in (tmp_path / "trials.jsonl").read_text().splitlines()]
    # Saved as they finish (the longest expected starts first): compare by name.
    assert {row["algorithm"]: row["status"] for row in saved} == {fault: status, "Spy": "ok"}


# A process holding 256 MiB (touched) forks a child that reports its pid,
# then writes to every inherited page when told. (In a subprocess: pytest's
# process has threads, and os.fork() there is an error from Python 3.12 on.)
FORKS_A_CHILD = """
import os, sys
block = bytearray(b"\\1" * 2**28)
pid = os.fork()
if pid == 0:
    print(os.getpid(), flush=True)
    sys.stdin.readline()
    block[::4096] = b"\\2" * len(range(0, len(block), 4096))
    print("written", flush=True)
    sys.stdin.readline()
    os._exit(0)
os.waitpid(pid, 0)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"),
                    reason="needs Linux's /proc/PID/smaps_rollup")
def test_private_memory_leaves_out_pages_shared_with_the_parent():
    """A trial forked from a fork server that imported torch (or anything big)
    shares those pages: the memory limit must not charge them to the trial
    (a 300 MiB limit failed a tiny trial under a CUDA build of torch)."""
    with subprocess.Popen([sys.executable, "-c", FORKS_A_CHILD], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as parent:
        try:
            child = int(parent.stdout.readline())
            assert isolation.private_mb(child) < 100  # the 256 MiB are shared
            parent.stdin.write("\n")
            parent.stdin.flush()
            assert parent.stdout.readline() == "written\n"
            assert isolation.private_mb(child) > 250  # written: copied, its own now
            parent.stdin.write("\n")
            parent.stdin.flush()
            assert parent.wait(timeout=30) == 0
        finally:
            parent.kill()


def test_without_a_timeout_the_default_one_ends_a_hanging_trial(catalog, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(limits, "DEFAULT_TIMEOUT_S", 2.0)
    start = time.monotonic()
    [row] = run_rows(catalog, tmp_path, ["Hanging"])
    assert row["status"] == "timeout" and "no result after 2 s" in row["error"]
    assert time.monotonic() - start < 60


def test_a_trial_process_that_cannot_exit_is_killed_once_its_result_is_in(
        catalog, tmp_path, monkeypatch):
    monkeypatch.setattr(isolation, "EXIT_GRACE_S", 0.5)
    start = time.monotonic()
    rows = run_rows(catalog, tmp_path, ["Lingers", "Spy"])
    assert [row["status"] for row in rows] == ["ok", "ok"]
    assert time.monotonic() - start < 60


def test_processes_a_plugin_starts_end_with_its_trial(catalog, tmp_path):
    assert not running_command(SPAWNED)
    rows = run_rows(catalog, tmp_path, ["Spawns", "SpawnsAndHangs", "Spy"], timeout=3)
    assert [row["status"] for row in rows] == ["ok", "timeout", "ok"]
    assert gone(SPAWNED)


def test_a_memory_error_beside_other_trials_runs_again_alone(catalog, tmp_path):
    # Two full-scale DDAE trials side by side held 20 of 24 GB, and the
    # second's KELM head found too little memory: such a trial runs again
    # once the others are done, alone, and only that attempt is saved.
    attempts = tmp_path / "attempts"
    events = []
    rows = run_rows(catalog, tmp_path / "out", ["OutOfMemoryFirst", "TakesTwoSeconds"],
                    params={"OutOfMemoryFirst": {"attempts": str(attempts)}},
                    executor_options={"jobs": 2},
                    progress=lambda event, trial, row: events.append((event, row)))
    first, slow = rows
    assert (first["status"], slow["status"]) == ("ok", "ok")
    assert attempts.read_text() == "xx"
    assert first["concurrency"] == 1  # the second attempt ran alone
    [retry] = [row for event, row in events if event == "retry"]
    assert retry["status"] == "memory" and retry["concurrency"] == 2
    assert "a test double" in retry["error"]
    saved = (tmp_path / "out" / "trials.jsonl").read_text().splitlines()
    assert len(saved) == 2


def test_a_memory_error_alone_or_over_the_limit_is_not_run_again(catalog, tmp_path):
    attempts = tmp_path / "attempts"
    [row] = run_rows(catalog, tmp_path / "alone", ["OutOfMemoryFirst"],
                     params={"OutOfMemoryFirst": {"attempts": str(attempts)}},
                     executor_options={"jobs": 2})
    assert row["status"] == "memory" and attempts.read_text() == "x"
    # --memory-limit's kill is about the trial's own size: not run again either.
    rows = run_rows(catalog, tmp_path / "limit", ["HogsMemory", "TakesTwoSeconds"],
                    executor_options={"jobs": 2}, memory_limit_mb=300)
    assert [row["status"] for row in rows] == ["memory", "ok"]
    assert rows[0]["concurrency"] == 2


def test_a_memory_error_inline_is_a_memory_row(catalog, tmp_path):
    [row, ok] = run_rows(catalog, tmp_path, ["RaisesMemoryError", "Spy"], executor="inline")
    assert (row["status"], ok["status"]) == ("memory", "ok")


@pytest.mark.parametrize("fault", ["ColumnVector", "Floats", "UnknownLabels"])
def test_invalid_predictions_are_refused_inline_too(catalog, tmp_path, fault):
    [row] = run_rows(catalog, tmp_path, [fault], executor="inline")
    assert row["status"] == "error" and "predict() returned" in row["error"]


def test_processes_that_leave_their_session_end_with_their_trial(catalog, tmp_path):
    assert not running_command(IN_OWN_SESSION) and not running_command(DAEMON)
    rows = run_rows(catalog, tmp_path, ["LeavesItsSession", "LeavesItsSessionAndHangs",
                                        "Spy"], timeout=3)
    assert [row["status"] for row in rows] == ["ok", "timeout", "ok"]
    assert gone(IN_OWN_SESSION) and gone(DAEMON)


def test_a_plugin_writing_into_its_input_gets_an_error_row_naming_the_array(
        catalog, tmp_path):
    # Its first fit is a selection candidate's: X_fit, which the other shares.
    [wrote, numpy_missed, ok] = run_rows(catalog, tmp_path,
                                         ["WritesItsInput", "WritesPastNumPy", "Spy"])
    assert wrote["status"] == "error"
    assert wrote["error"].startswith("InputWriteError: algorithm 'WritesItsInput': fit() "
                                     "wrote into its input X_fit; the harness's arrays "
                                     "are read-only and shared between candidates")
    # A write NumPy cannot refuse (ctypes, torch) is caught by the checksum.
    assert numpy_missed["status"] == "error"
    assert ("algorithm 'WritesPastNumPy': fit() changed its input X_train"
            in numpy_missed["error"])
    assert ok["status"] == "ok" and ok["test_accuracy"] == 1.0


def test_a_trials_output_goes_to_its_log_not_the_terminal(catalog, tmp_path, capfd):
    [chatty, quiet] = run_rows(catalog, tmp_path, ["Chatty", "Spy"])
    out, err = capfd.readouterr()
    assert "chatter" not in out + err
    assert chatty["status"] == "ok" and chatty["log"] == f"logs/{chatty['trial_key']}.log"
    log = (tmp_path / chatty["log"]).read_text()
    assert log.startswith("first line of the chatter\n")
    assert log.rstrip().endswith("last line of the chatter")
    # 50 MB printed; its first and last kilobytes kept, and what was left out said.
    assert re.search(r"\[\.\.\. [\d,]+ bytes of output left out \.\.\.\]", log)
    assert len(log.encode()) < 300_000 < CHATTER_BYTES
    assert quiet["log"] == "" and not (tmp_path / "logs" / f"{quiet['trial_key']}.log").exists()


def test_a_failed_row_ends_with_the_last_lines_the_trial_printed(catalog, tmp_path):
    [row] = run_rows(catalog, tmp_path, ["TalksThenRaises"])
    assert row["status"] == "error"
    head, lines = row["error"].split("\n--- the trial's last output lines ---\n")
    assert head == "RuntimeError: gave up after 30 steps"
    assert lines.splitlines() == [f"step {step}" for step in range(10, 30)]

