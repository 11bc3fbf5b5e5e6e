"""Interrupting a real ``benchbase run``: no process survives, nothing is lost or done twice.

Each test runs the command line in a subprocess with a plugin whose ``Hang``
algorithm blocks in ``fit`` while ``BENCHBASE_TEST_HANG`` names a folder
(where it leaves its pid). Every process of the run inherits a marker in its
environment, so a survivor is found even after it was re-parented.
"""

import json
import os
import re
import signal
import subprocess
import sys
import uuid

import pytest
from processes import (
    MARK,
    as_foreground_job,
    importing_from,
    install_fake_plugin,
    kill_all,
    marked_processes,
    wait_until,
)

from benchbase.results.store import read_table

PLUGIN = """
    import os
    import time

    from sklearn.dummy import DummyClassifier

    import benchbase


    class Hang(DummyClassifier):
        def fit(self, X, y):
            folder = os.environ.get("BENCHBASE_TEST_HANG")
            if folder:
                open(os.path.join(folder, str(os.getpid())), "w").close()
                time.sleep(600)
            return super().fit(X, y)


    class Slow(DummyClassifier):
        def fit(self, X, y):
            time.sleep(float(os.environ.get("BENCHBASE_TEST_SLOW", "0")))
            return super().fit(X, y)


    @benchbase.hookimpl
    def benchbase_register_algorithms():
        return [benchbase.AlgorithmSpec(name=name, family="test", factory=factory,
                                        randomized=False)
                for name, factory in (("Hang", Hang), ("Slow", Slow))]
"""

@pytest.fixture
def cli(tmp_path):
    """Start ``benchbase run`` with the hanging plugin; everything it starts is marked."""
    site = tmp_path / "site"
    site.mkdir()
    install_fake_plugin(site, "hang-plugin", "hang_plugin", PLUGIN)
    marker = uuid.uuid4().hex
    env = {**importing_from(site), MARK: marker}
    started = []

    def start(*args, extra_env=None, **popen):
        process = subprocess.Popen(
            [sys.executable, "-m", "benchbase", "run", *args],
            env={**env, **(extra_env or {})}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, preexec_fn=as_foreground_job, **popen)
        started.append(process)
        return process

    start.marker = marker
    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()
    kill_all(marked_processes(marker))


def _hanging_run(cli, tmp_path, **popen):
    """A run whose two Slow trials are done and whose two Hang trials hang."""
    hang = tmp_path / "hang"
    hang.mkdir()
    process = cli("--algorithms", "Slow,Hang", "--seeds", "2", "--jobs", "2",
                  "--out", str(tmp_path / "out"),
                  extra_env={"BENCHBASE_TEST_HANG": str(hang)}, **popen)
    wait_until(lambda: len(list(hang.iterdir())) == 2 or process.poll() is not None, 120,
               "both Hang trials to start")
    assert process.poll() is None, process.communicate()
    return process


@pytest.mark.parametrize(("how", "code", "says"), [
    ("SIGKILL", -signal.SIGKILL, ""),
    pytest.param("SIGTERM", 128 + signal.SIGTERM,
                 "benchbase: terminated; finished trials are saved", marks=pytest.mark.slow),
    pytest.param("Ctrl-C", 130, "benchbase: interrupted; finished trials are saved",
                 marks=pytest.mark.slow),
])
def test_stopping_the_run_leaves_no_process_and_the_rerun_completes_it(
        cli, tmp_path, how, code, says):
    process = _hanging_run(cli, tmp_path, start_new_session=True)
    # The orchestrator, the fork server, the resource tracker, two trials.
    assert len(marked_processes(cli.marker)) >= 5
    if how == "Ctrl-C":  # the terminal signals the whole foreground process group
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(getattr(signal, how))
    _, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert says in err
    wait_until(lambda: not marked_processes(cli.marker), 20, "every process to end")

    out = tmp_path / "out"
    if how != "SIGKILL":  # consolidated on the way out
        assert (out / "results.csv").stat().st_mtime_ns > (out / "trials.jsonl").stat(
            ).st_mtime_ns
    table = read_table(out)
    assert sorted(table["algorithm"]) == ["Slow", "Slow"]
    assert set(table["status"]) == {"ok"}

    rerun = cli("--algorithms", "Slow,Hang", "--seeds", "2", "--jobs", "2",
                "--out", str(out))
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert err.count("already done, skipped") == 2
    rows = [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and {row["status"] for row in rows} == {"ok"}
    assert len(read_table(out)) == 4


def test_two_runs_into_one_folder_share_the_work_and_lose_nothing(cli, tmp_path):
    args = ("--algorithms", "Slow", "--seeds", "4", "--out", str(tmp_path / "out"))
    slow = {"BENCHBASE_TEST_SLOW": "1.0"}
    first = cli(*args, extra_env=slow)
    second = cli(*args, extra_env=slow)
    outputs = [process.communicate(timeout=300) for process in (first, second)]
    for process, (out, err) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, err
        assert "4 trials, 0 failed" in out
    rows = [json.loads(line)
            for line in (tmp_path / "out" / "trials.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and len({row["trial_key"] for row in rows}) == 4  # once each
    assert {row["status"] for row in rows} == {"ok"}
    computed = [len(re.findall(r"^\[\d/4\] Slow on digits \(official, seed \d\): test ",
                               err, flags=re.M)) for _, err in outputs]
    assert sum(computed) == 4 and min(computed) >= 1, outputs
