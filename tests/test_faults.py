"""Hostile plugins: every fault becomes a failed row with a clear message, and the run goes on.

The faults run under the default ``process`` executor: each trial in its own
process, so a hang in C code, an abort or a memory hog costs only its trial.
"""

import ctypes
import faulthandler
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from test_runner import SpyClassifier, ToyPlugin

import benchbase
from benchbase import execution, isolation
from benchbase.orchestrator import RunOptions, plan_trials, run_trials
from benchbase.plugins import PluginInfo, load_catalog
from benchbase.splits import Protocol
from benchbase.store import ResultStore


class HangsInC(SpyClassifier):
    def fit(self, X, y):
        signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals) - {signal.SIGKILL,
                                                                        signal.SIGSTOP})
        ctypes.CDLL(None).sleep(600)  # a C call no catchable signal can interrupt
        return self


class Aborts(SpyClassifier):
    def fit(self, X, y):
        faulthandler.disable()  # keep the crash dump out of the log
        os.abort()


class HogsMemory(SpyClassifier):
    def fit(self, X, y):
        hoard = []
        for _ in range(16):  # up to 1 GiB, touched page by page, then held:
            hoard.append(np.ones(2**23))  # the watchdog samples every 0.1 s, so
            time.sleep(0.05)  # a hog that ends between two samples goes unseen
        time.sleep(120)
        return self


class RaisesMemoryError(SpyClassifier):
    def fit(self, X, y):
        np.empty(2**62, dtype=np.uint8)  # numpy cannot allocate: MemoryError
        return self


class ColumnVector(SpyClassifier):
    def predict(self, X):
        return super().predict(X)[:, None]


class TooShort(SpyClassifier):
    def predict(self, X):
        return super().predict(X)[:-1]


class Floats(SpyClassifier):
    def predict(self, X):
        return super().predict(X).astype(float)


class Strings(SpyClassifier):
    def predict(self, X):
        return super().predict(X).astype(str)


class UnknownLabels(SpyClassifier):
    def predict(self, X):
        return super().predict(X) + 100


class Lingers(SpyClassifier):
    """Leaves a thread behind that would keep its process from exiting."""

    def fit(self, X, y):
        threading.Thread(target=time.sleep, args=(600,)).start()
        return super().fit(X, y)


#: A sleep no other process here runs, so the test can look for it.
SPAWNED = ["sleep", "599.25"]


class Spawns(SpyClassifier):
    """Starts a process and forgets it."""

    hangs = False

    def fit(self, X, y):
        subprocess.Popen(SPAWNED)
        if self.hangs:
            time.sleep(600)
        return super().fit(X, y)


class SpawnsAndHangs(Spawns):
    hangs = True


def _running(argv: list[str]) -> list[int]:
    """Process ids whose command line is ``argv`` (Linux /proc)."""
    wanted = "\0".join(argv).encode() + b"\0"
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if cmdline.read() == wanted:
                        found.append(int(entry))
            except OSError:  # gone meanwhile
                pass
    return found


class NoRandomState(SpyClassifier):
    """A randomized estimator that forgot its ``random_state`` parameter."""

    def __init__(self, good=True):
        self.good = good


FAULTS = {
    "HangsInC": HangsInC,
    "Aborts": Aborts,
    "HogsMemory": HogsMemory,
    "RaisesMemoryError": RaisesMemoryError,
    "ColumnVector": ColumnVector,
    "TooShort": TooShort,
    "Floats": Floats,
    "Strings": Strings,
    "UnknownLabels": UnknownLabels,
    "NoRandomState": NoRandomState,
    "Lingers": Lingers,
    "Spawns": Spawns,
    "SpawnsAndHangs": SpawnsAndHangs,
}


class FaultPlugin:
    @benchbase.hookimpl
    def benchbase_register_algorithms(self):
        return [benchbase.AlgorithmSpec(name=name, family="test", factory=factory)
                for name, factory in FAULTS.items()]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(extra=[
        (PluginInfo("toy", "tests", "toy-dist", "0.1"), ToyPlugin()),
        (PluginInfo("faults", "tests", "faults-dist", "0.1"), FaultPlugin())])


def _run(catalog, folder, algorithms, **options):
    trials = plan_trials(algorithms, ["toy"], Protocol.parse("official"), [0])
    return run_trials(catalog, trials, ResultStore(folder), RunOptions(**options))


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
    rows = _run(catalog, tmp_path, [fault, "Spy"], **options)
    assert [row["status"] for row in rows] == [status, "ok"]
    assert re.search(message, rows[0]["error"]), rows[0]["error"]
    assert rows[1]["test_accuracy"] == 1.0
    saved = [json.loads(line) for line in (tmp_path / "trials.jsonl").read_text().splitlines()]
    assert [row["status"] for row in saved] == [status, "ok"]


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
    monkeypatch.setattr(execution, "DEFAULT_TIMEOUT_S", 2.0)
    start = time.monotonic()
    [row] = _run(catalog, tmp_path, ["Hanging"])
    assert row["status"] == "timeout" and "no result after 2 s" in row["error"]
    assert time.monotonic() - start < 60


def test_a_trial_process_that_cannot_exit_is_killed_once_its_result_is_in(catalog,
                                                                           tmp_path):
    start = time.monotonic()
    rows = _run(catalog, tmp_path, ["Lingers", "Spy"])
    assert [row["status"] for row in rows] == ["ok", "ok"]
    assert time.monotonic() - start < 60


def test_processes_a_plugin_starts_end_with_its_trial(catalog, tmp_path):
    assert not _running(SPAWNED)
    rows = _run(catalog, tmp_path, ["Spawns", "SpawnsAndHangs", "Spy"], timeout=3)
    assert [row["status"] for row in rows] == ["ok", "timeout", "ok"]
    deadline = time.monotonic() + 10  # killed at once; reaped by init soon after
    while _running(SPAWNED) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(SPAWNED)


def test_a_memory_error_inline_is_a_memory_row(catalog, tmp_path):
    [row, ok] = _run(catalog, tmp_path, ["RaisesMemoryError", "Spy"], executor="inline")
    assert (row["status"], ok["status"]) == ("memory", "ok")


@pytest.mark.parametrize("fault", ["ColumnVector", "Floats", "UnknownLabels"])
def test_invalid_predictions_are_refused_inline_too(catalog, tmp_path, fault):
    [row] = _run(catalog, tmp_path, [fault], executor="inline")
    assert row["status"] == "error" and "predict() returned" in row["error"]
