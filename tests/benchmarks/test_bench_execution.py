"""Execution: trials in parallel, each executor's per-trial overhead, Dask against
--jobs, and the cost of saving a trial as the log grows.

* The ELM family (ELM, RELM, KELM, default grids) on digits, five seeds: one
  trial at a time, ``--jobs 2``, and ``--dask-workers 2`` (its local cluster's
  start included, as a user pays it). Every run uses one thread per trial.
* An empty trial (a constant classifier, nothing to search, 40 samples):
  the wall time per trial of each executor, minus ``inline``'s, which runs
  the same trial with no process or network in between. The fork server (and
  for Dask the cluster) is started before the timing.
* Appending one row to a results folder that holds 10 or 10,000 trials
  (fsync included): the same cost, since nothing is rewritten.
"""

from __future__ import annotations

import json
import tempfile
import time

import numpy as np
import pytest
from doubles import run_rows
from sklearn.dummy import DummyClassifier

import benchbase
from benchbase.plugins import PluginInfo, load_catalog
from benchbase.results.record import COLUMNS
from benchbase.results.store import ResultStore

from .conftest import MEASURED, best_seconds, record

pytestmark = pytest.mark.bench

ELM_FAMILY = ["ELM", "RELM", "KELM"]
EMPTY_TRIALS = 10


def _tiny(context):
    rng = np.random.default_rng(0)
    X = rng.random((40, 4), dtype=np.float32)
    y = np.arange(40) % 2
    return benchbase.Dataset("tiny", X[:30], y[:30], X[30:], y[30:], (2, 2))


class EmptyTrials:
    @benchbase.hookimpl
    def benchbase_register_algorithms(self):
        return [benchbase.AlgorithmSpec(name="Empty", family="bench",
                                        factory=DummyClassifier, randomized=False)]

    @benchbase.hookimpl
    def benchbase_register_datasets(self):
        return [benchbase.DatasetSpec(name="tiny", load=_tiny)]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(extra=[(PluginInfo("bench", "tests", "bench", "0"), EmptyTrials())])


def _run(catalog, algorithms, dataset, seeds, **options) -> float:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        rows = run_rows(catalog, folder, algorithms, datasets=[dataset], seeds=seeds,
                        threads=1, **options)
        seconds = time.perf_counter() - start
    assert {row["status"] for row in rows} == {"ok"}
    return seconds


@pytest.mark.parametrize(("name", "options"), [
    ("serial", {}),
    ("jobs2", {"executor_options": {"jobs": 2}}),
    ("dask2", {"executor": "dask", "executor_options": {"workers": 2}}),
])
def test_elm_family_on_digits(benchmark, catalog, name, options):
    if name == "dask2":
        pytest.importorskip("distributed")
    benchmark.pedantic(_run, args=(catalog, ELM_FAMILY, "digits", range(5)),
                       kwargs=options, rounds=1, warmup_rounds=0)
    record(benchmark, f"elm_family_digits_{name}_s", best_seconds(benchmark), "s")


@pytest.fixture(scope="module")
def dask_scheduler():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize("executor", ["inline", "process", "dask"])
def test_empty_trial(benchmark, catalog, request, executor):
    options = {"executor": executor}
    if executor == "dask":
        options["executor_options"] = {"scheduler": request.getfixturevalue("dask_scheduler")}
    # The warm-up round starts the fork server (in the worker, for Dask).
    benchmark.pedantic(_run, args=(catalog, ["Empty"], "tiny", range(EMPTY_TRIALS)),
                       kwargs=options, rounds=3, warmup_rounds=1)
    per_trial = best_seconds(benchmark) / EMPTY_TRIALS
    record(benchmark, f"empty_trial_{executor}_s", per_trial, "s")
    if executor != "inline" and "empty_trial_inline_s" in MEASURED:
        record(benchmark, f"overhead_{executor}_s",
               per_trial - MEASURED["empty_trial_inline_s"], "s")


@pytest.mark.parametrize("existing", [10, 10_000])
def test_append_a_row(benchmark, tmp_path, existing):
    store = ResultStore(tmp_path)
    row = {**dict.fromkeys(COLUMNS, ""), "trial_key": "k", "status": "ok",
           "environment": "x" * 2000}  # a row's usual size
    store.log_path.write_text((json.dumps(row) + "\n") * existing)
    benchmark.pedantic(store.append, args=(row,), rounds=50, warmup_rounds=2)
    record(benchmark, f"append_at_{existing}_s", best_seconds(benchmark), "s")
