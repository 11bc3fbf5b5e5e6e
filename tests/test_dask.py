"""The dask executor on real clusters: same answers, isolation kept, data sent once.

``cluster`` starts ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1 (free ports) as a user would, and stops them by pid. Deselect
with ``-m "not dask"``.
"""

import contextlib
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from doubles import DAEMON, IN_OWN_SESSION, FaultPlugin, SpyClassifier, ToyPlugin, run_rows
from processes import MARK, gone, importing_from, kill_all, marked_processes, wait_until

import benchbase
from benchbase.cli import main
from benchbase.execution import Limits, Started, Workload
from benchbase.plugins import PluginInfo, load_catalog
from benchbase.results.store import read_table

# Skipped, like the torch tests, where the optional dask extra is not installed.
distributed = pytest.importorskip("distributed")
from benchbase.execution import dask_cluster  # noqa: E402 (imports dask)

pytestmark = pytest.mark.dask

TESTS = Path(__file__).resolve().parent
#: Columns that must not depend on where a trial ran.
ANSWERS = ["trial_key", "status", "params", "val_accuracy", "test_accuracy",
           "train_accuracy", "n_candidates", "subset_hash"]


@contextlib.contextmanager
def started_cluster(folder, workers=2, env=None):
    """``dask scheduler`` and single-thread ``dask worker``s on 127.0.0.1, started
    by hand as a user would, stopped by pid."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = uuid.uuid4().hex
    env = {**importing_from(TESTS, env), MARK: marker}
    scheduler_file = folder / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    processes = []

    def start(name, *args):
        log = open(folder / f"{name}.log", "w")  # closed in the finally below
        processes.append((subprocess.Popen([*dask, *args], env=env, stdout=log,
                                           stderr=subprocess.STDOUT, cwd=folder), log))
        return processes[-1][0]

    try:
        scheduler = start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0",
                          "--no-dashboard", "--scheduler-file", str(scheduler_file))
        wait_until(scheduler_file.exists, 60, "the scheduler")
        address = json.loads(scheduler_file.read_text())["address"]
        started = [start(f"worker{i}", "worker", address, "--nthreads", "1", "--no-nanny",
                         "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}",
                         "--death-timeout", "60")
                   for i in range(workers)]
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=60)
        yield type("Cluster", (), {"address": address, "workers": started,
                                   "scheduler": scheduler, "folder": folder})
    finally:
        # Workers first: one closing while its scheduler closes can hang.
        for process, log in reversed(processes):
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(15)
            log.close()
        kill_all(marked_processes(marker))  # trial processes, were any left


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with started_cluster(tmp_path_factory.mktemp("cluster")) as started:
        yield started


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(extra=[
        (PluginInfo("toy", "tests", "toy-dist", "0.1"), ToyPlugin()),
        (PluginInfo("faults", "tests", "faults-dist", "0.1"), FaultPlugin()),
        (PluginInfo("dask-toys", "tests", "dask-toys", "0.1"), DaskToys())])


class Balloon(SpyClassifier):
    """Touches 400 MiB in fit, then behaves."""

    def fit(self, X, y):
        np.ones(400 * 2**20 // 8).sum()
        return super().fit(X, y)


class Slow(SpyClassifier):
    """Takes a while, leaving its pid in the folder ``pids``."""

    def __init__(self, good=True, pids=None, random_state=None):
        super().__init__(good, random_state)
        self.pids = pids

    def fit(self, X, y):
        Path(self.pids, str(os.getpid())).touch()
        time.sleep(3)
        return super().fit(X, y)


PICKLED = []  # one entry each time a CountingDataset is pickled


class CountingDataset(benchbase.Dataset):
    def __reduce__(self):
        PICKLED.append(self.name)
        return super().__reduce__()


def _toy_of(size):
    def load(ctx):
        rng = np.random.default_rng(0)
        y = np.arange(size) % 4
        X = np.column_stack([rng.uniform(0, 0.49, size), y / 10]).astype(np.float32)
        return CountingDataset(f"toy{size}", X, y, X[: size // 2], y[: size // 2], (2, 1))
    return load


class DaskToys:
    @benchbase.hookimpl
    def benchbase_register_algorithms(self):
        return [benchbase.AlgorithmSpec(name=name, family="test", factory=factory)
                for name, factory in (("Balloon", Balloon), ("Slow", Slow))]

    @benchbase.hookimpl
    def benchbase_register_datasets(self):
        return [benchbase.DatasetSpec(name=f"toy{size}", load=_toy_of(size))
                for size in (80, 8000)]


def _rows(catalog, folder, algorithms, datasets=("digits",), seeds=(0, 1), params=None,
          **options):
    return run_rows(catalog, folder, algorithms, datasets=datasets, seeds=seeds,
                    params={"ELM": {"n_hidden": 200}, **(params or {})},
                    **{"threads": 1, **options})


def _answers(rows):
    return pd.DataFrame(rows)[ANSWERS].sort_values("trial_key").reset_index(drop=True)


@pytest.mark.slow  # a cluster's seconds: run by tox's py311 env
def test_dask_workers_2_gives_the_serial_table_on_digits(tmp_path, capsys):
    common = ["run", "--algorithms", "ELM,KELM", "--datasets", "digits", "--seeds", "2",
              "--threads", "1", "--param", "ELM:n_hidden=200"]
    assert main([*common, "--out", str(tmp_path / "serial")]) == 0
    assert main([*common, "--dask-workers", "2", "--out", str(tmp_path / "dask")]) == 0
    serial, dask = (pd.read_csv(tmp_path / name / "results.csv") for name in ("serial", "dask"))
    assert _answers(dask.to_dict("records")).equals(_answers(serial.to_dict("records")))
    assert set(dask["executor"]) == {"dask"} and set(serial["executor"]) == {"process"}
    assert set(dask["threads"]) == {1} and dask["concurrency"].max() <= 2


@pytest.mark.slow  # a cluster's seconds: run by tox's py311 env
def test_a_local_cluster_beside_another_takes_a_free_http_port(tmp_path):
    # Port 8787, distributed's default for a scheduler's HTTP endpoints, held as
    # another run's cluster holds it: distributed warned (an error under this
    # suite's filterwarnings, so the run failed) and moved to another port.
    with socket.socket() as held:
        with contextlib.suppress(OSError):  # held by another process: the same case
            held.bind(("127.0.0.1", 8787))
            held.listen()
        assert main(["run", "--algorithms", "ELM", "--datasets", "digits", "--seeds", "1",
                     "--param", "ELM:n_hidden=50", "--dask-workers", "1",
                     "--out", str(tmp_path)]) == 0


@pytest.mark.slow  # a cluster's seconds: run by tox's py311 env
def test_a_cluster_started_by_hand_gives_the_same_answers_as_process(cluster, catalog,
                                                                     tmp_path):
    subset = "subset:600/200"  # of digits: keeps KELM's grid search quick
    local = _rows(catalog, tmp_path / "process", ["ELM", "KELM"], protocol=subset)
    remote = _rows(catalog, tmp_path / "dask", ["ELM", "KELM"], protocol=subset,
                   executor="dask", executor_options={"scheduler": cluster.address})
    assert _answers(remote).equals(_answers(local))
    assert {row["executor"] for row in remote} == {"dask"}
    assert {row["host"] for row in remote} == {socket.gethostname()}


@pytest.mark.slow  # a cluster's seconds: run by tox's py311 env
def test_on_a_worker_each_trial_keeps_its_own_process(cluster, catalog, tmp_path, capfd):
    faults = ["HangsInC", "Aborts", "HogsMemory", "Balloon", "TalksThenRaises",
              "LeavesItsSessionAndHangs", "Spy"]
    rows = _rows(catalog, tmp_path, faults, datasets=["toy"], seeds=[0], executor="dask",
                 timeout=10, memory_limit_mb=1000,
                 executor_options={"scheduler": cluster.address})
    status = {row["algorithm"]: row["status"] for row in rows}
    assert status == {"HangsInC": "timeout", "Aborts": "crashed", "HogsMemory": "memory",
                      "Balloon": "ok", "TalksThenRaises": "error",
                      "LeavesItsSessionAndHangs": "timeout", "Spy": "ok"}
    # The output travels back from the worker: in the row and in the folder's logs.
    talks = next(row for row in rows if row["algorithm"] == "TalksThenRaises")
    assert talks["error"].endswith("\nstep 28\nstep 29")
    assert (tmp_path / talks["log"]).read_text().startswith("step 0\n")
    assert "step 0" not in "".join(capfd.readouterr())
    assert gone(IN_OWN_SESSION) and gone(DAEMON)
    peaks = {row["algorithm"]: row.get("peak_rss_mb") for row in rows}
    # Per-trial peak memory: Balloon's 400 MiB do not show in the Spy trial after it.
    assert peaks["Balloon"] > 400 > peaks["Spy"]


def test_a_dataset_is_sent_once_per_worker_and_a_trial_carries_a_few_kb(
        cluster, catalog, tmp_path, monkeypatch):
    sizes = []
    submit = dask_cluster.DaskExecutor.submit

    def measured_submit(self, task):
        sizes.append((task.dataset, len(pickle.dumps((task, self._settings)))))
        submit(self, task)

    monkeypatch.setattr(dask_cluster.DaskExecutor, "submit", measured_submit)
    PICKLED.clear()
    rows = _rows(catalog, tmp_path, ["Spy"], datasets=["toy80", "toy8000"],
                 seeds=range(4), executor="dask",
                 executor_options={"scheduler": cluster.address})
    assert {row["status"] for row in rows} == {"ok"}
    # Four trials per dataset, each pickled once (the workers' plugin, sent to both).
    assert sorted(PICKLED) == ["toy80", "toy8000"]
    by_dataset = {name: {size for data, size in sizes if data == name}
                  for name in ("toy80", "toy8000")}
    assert max(max(v) for v in by_dataset.values()) < 4096
    # 100 times the data, the same message size (but for the dataset's name, two
    # characters longer, in the task and in its label).
    assert max(by_dataset["toy8000"]) - max(by_dataset["toy80"]) == 4


def test_an_unreachable_scheduler_is_one_clear_line(tmp_path, capsys):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = main(["run", "--algorithms", "ELM", "--scheduler", f"tcp://127.0.0.1:{port}",
                 "--executor-option", "connect_timeout=1", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith(f"benchbase: error: cannot reach the Dask scheduler at "
                          f"tcp://127.0.0.1:{port}")
    assert len(err.splitlines()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGKILL", "Ctrl-C"])
def test_stopping_a_dask_run_leaves_no_process(tmp_path, how):
    from processes import as_foreground_job, install_fake_plugin
    from test_interrupts import PLUGIN

    site, hang = tmp_path / "site", tmp_path / "hang"
    site.mkdir()
    hang.mkdir()
    install_fake_plugin(site, "hang-plugin", "hang_plugin", PLUGIN)
    marker = uuid.uuid4().hex
    env = {**importing_from(site), MARK: marker, "BENCHBASE_TEST_HANG": str(hang)}
    process = subprocess.Popen(
        [sys.executable, "-m", "benchbase", "run", "--algorithms", "Hang",
         "--seeds", "2", "--dask-workers", "2", "--out", str(tmp_path / "out")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=as_foreground_job)
    try:
        wait_until(lambda: len(list(hang.iterdir())) == 2, 120, "both trials to start")
        if how == "SIGKILL":
            process.kill()
        else:  # the terminal signals the whole process group, workers included
            os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
        wait_until(lambda: not marked_processes(marker), 30, "every process to end")
        if how == "Ctrl-C":
            assert process.returncode == 130
            assert err.rstrip().endswith("benchbase: interrupted; finished trials are saved")
            assert "Traceback" not in err  # the workers ignore it; the run stops them
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()  # reaped and its pipes closed: no ResourceWarning later
        kill_all(marked_processes(marker))


def _datasets_held():
    return {run: sorted(datasets) for run, datasets in dask_cluster._DATASETS.items()}


@pytest.mark.slow  # a cluster's seconds: run by tox's py311 env
def test_every_worker_holds_the_datasets_until_the_run_ends(cluster, catalog):
    """Scattered data lost its "extra" replicas to Dask's active memory manager
    within seconds (every 2 s), and a worker that died with the last one took
    every trial of the run with it (this file's last test, on a slow machine)."""
    executor = dask_cluster.DaskExecutor(scheduler=cluster.address)
    executor.open(Workload({"toy": _toy_of(80)(None)}, limits=Limits(threads=1)))
    with distributed.Client(cluster.address, timeout=30) as client:
        try:
            time.sleep(5)  # two rounds of the active memory manager
            held = client.run(_datasets_held)
            assert len(held) == 2
            assert all(runs == {executor._run: ["toy"]} for runs in held.values()), held
        finally:
            executor.close()
        assert all(runs == {} for runs in client.run(_datasets_held).values())


def _worker_of(pid, workers):
    """The worker process among ``workers`` that ``pid`` descends from."""
    while pid > 1:
        for worker in workers:
            if worker.pid == pid:
                return worker
        with open(f"/proc/{pid}/stat", "rb") as stat:
            pid = int(stat.read().rsplit(b")", 1)[1].split()[1])
    raise AssertionError("the trial runs on no worker of the cluster")


@pytest.mark.slow  # a cluster's seconds: run by tox's py311 env
def test_a_worker_killed_mid_trial_does_not_stop_the_run(cluster, catalog, tmp_path):
    """Last in this file: it leaves the cluster one worker short."""
    pids = tmp_path / "pids"
    pids.mkdir()
    starts, killed = [], []

    def progress(event, trial, row):
        if event != "start":
            return
        starts.append(trial.seed)
        if not killed:
            wait_until(lambda: any(pids.iterdir()), 30, "the first trial's process")
            trial_pid = int(next(pids.iterdir()).name)
            worker = _worker_of(trial_pid, cluster.workers)
            worker.send_signal(signal.SIGKILL)
            killed.append(worker)

    rows = _rows(catalog, tmp_path / "out", ["Slow"], datasets=["toy"], seeds=range(3),
                 params={"Slow": {"pids": str(pids)}}, executor="dask",
                 executor_options={"scheduler": cluster.address}, progress=progress)
    assert killed
    assert [row["status"] for row in rows] == ["ok", "ok", "ok"], [
        row.get("error") for row in rows]
    # The trial whose worker died started again on the other worker.
    assert len(starts) == 4 and sorted(set(starts)) == [0, 1, 2]


class _Future:
    key = "dask-key"
    cancelled = False

    def cancel(self):
        self.cancelled = True


def test_a_trial_whose_worker_dies_twice_is_recorded_crashed():
    executor = dask_cluster.DaskExecutor(scheduler="tcp://127.0.0.1:1")
    executor._settings = dask_cluster.WorkerSettings({"h": 1}, Limits(), ())
    executor._futures["k"] = future = _Future()
    notice = (0.0, {"trial": "k", "host": "h"})  # what a starting trial sends
    events = []
    for _ in range(3):
        executor._events.put(notice)
        events += executor.poll(0)
    # The first start, the one retry after its worker died, then no more.
    assert events[:2] == [Started("k", "h"), Started("k", "h")]
    assert events[2].outcome.status == "crashed" and future.cancelled
    assert events[2].outcome.error == "its Dask worker died under it 2 times; not tried again"


class _ClientCutOff:
    """A client whose scheduler is gone before its status says so."""

    status = "running"

    def nthreads(self):
        raise ConnectionResetError(104, "Connection reset by peer")


def test_a_scheduler_lost_before_the_client_notices_keeps_the_last_capacity():
    executor = dask_cluster.DaskExecutor(scheduler="tcp://127.0.0.1:1")
    executor._capacity, executor._client = 3, _ClientCutOff()
    assert executor.capacity() == 3
    assert executor.poll(0) == []  # the loss is ``poll``'s to report, once it shows


@pytest.mark.slow  # two clusters of its own
def test_losing_the_scheduler_is_one_line_and_a_rerun_completes_the_run(tmp_path):
    from processes import install_fake_plugin
    from test_interrupts import PLUGIN

    site, hang = tmp_path / "site", tmp_path / "hang"
    site.mkdir()
    hang.mkdir()
    install_fake_plugin(site, "hang-plugin", "hang_plugin", PLUGIN)
    env = importing_from(site)
    out = tmp_path / "out"

    def run(address):
        return subprocess.Popen(
            [sys.executable, "-m", "benchbase", "run", "--algorithms", "Hang", "--seeds",
             "1", "--scheduler", address, "--out", str(out)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    # The first cluster's worker runs Hang hanging; the second's lets it finish.
    with started_cluster(tmp_path / "first", workers=1,
                         env={**env, "BENCHBASE_TEST_HANG": str(hang)}) as cluster:
        process = run(cluster.address)
        try:
            wait_until(lambda: any(hang.iterdir()), 120, "the trial to start")
            lost_at = time.monotonic()
            cluster.scheduler.kill()
            _, err = process.communicate(timeout=60)
            took = time.monotonic() - lost_at
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 1
    lines = [line for line in err.splitlines() if not line.startswith("[")]  # progress
    assert lines == [f"benchbase: error: lost the Dask scheduler at {cluster.address}; 1 "
                     "running trial(s) recorded as lost: run the same command again to "
                     "complete them"], err
    assert took < 5, took
    [row] = read_table(out).to_dict("records")
    assert row["status"] == "lost" and "lost the Dask scheduler" in row["error"]

    with started_cluster(tmp_path / "second", workers=1, env=env) as cluster:
        process = run(cluster.address)
        _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    [row] = read_table(out).to_dict("records")
    assert row["status"] == "ok"

