"""The harness: honest selection, timing fields, resume, and failing plugins."""

import faulthandler
import os
import signal
import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

import benchbase
from benchbase.orchestrator import RunOptions, plan_trials, run_trials
from benchbase.plugins import PluginInfo, load_catalog
from benchbase.splits import Protocol
from benchbase.store import COLUMNS, ResultStore

CALLS = []  # (method, largest first feature) of every SpyClassifier call


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """Label is encoded in feature 1; ``good`` decides whether it is used."""

    def __init__(self, good=True, random_state=None):
        self.good = good
        self.random_state = random_state

    def fit(self, X, y):
        CALLS.append(("fit", float(X[:, 0].max())))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        CALLS.append(("predict", float(X[:, 0].max())))
        if self.good:
            return np.rint(X[:, 1] * 10).astype(int)
        return np.full(len(X), self.classes_[0])


class Raising(SpyClassifier):
    def fit(self, X, y):
        raise ValueError("bad parameter 'alpha': must be positive")


class Crashing(SpyClassifier):
    def fit(self, X, y):
        faulthandler.disable()  # keep pytest's crash dump out of the log
        os.kill(os.getpid(), signal.SIGSEGV)


class Hanging(SpyClassifier):
    def fit(self, X, y):
        time.sleep(600)


def _toy(ctx):
    rng = np.random.default_rng(0)

    def part(n, low, high):
        y = np.arange(n) % 4
        X = np.column_stack([rng.uniform(low, high, n), y / 10]).astype(np.float32)
        return X, y

    # Train rows have feature 0 < 0.5, test rows >= 0.5: the spy can tell them apart.
    (X_train, y_train), (X_test, y_test) = part(80, 0.0, 0.49), part(40, 0.5, 1.0)
    return benchbase.Dataset("toy", X_train, y_train, X_test, y_test, (2, 1))


class ToyPlugin:
    @benchbase.hookimpl
    def benchbase_register_algorithms(self):
        def spec(name, factory, **kw):
            return benchbase.AlgorithmSpec(name=name, family="test", factory=factory, **kw)

        return [
            spec("Spy", SpyClassifier, search_space={"good": [False, True]}),
            spec("Raising", Raising),
            spec("Crashing", Crashing),
            spec("Hanging", Hanging),
        ]

    @benchbase.hookimpl
    def benchbase_register_datasets(self):
        return [benchbase.DatasetSpec(name="toy", load=_toy)]


@pytest.fixture
def catalog():
    return load_catalog(extra=[(PluginInfo("toy", "tests", "toy-dist", "0.1"),
                                ToyPlugin())])


def _run(catalog, store, algorithms, seeds=(0,), **options):
    trials = plan_trials(algorithms, ["toy"], Protocol.parse("official"), seeds)
    events = []
    rows = run_trials(catalog, trials, store, RunOptions(**options),
                      progress=lambda event, *rest: events.append(event))
    return rows, events


def test_selection_uses_validation_only_and_tests_once(catalog, tmp_path):
    CALLS.clear()
    [row], _ = _run(catalog, ResultStore(tmp_path), ["Spy"], executor="inline")
    assert row["status"] == "ok"
    assert row["params"] == '{"good": true}'
    assert row["val_accuracy"] == 1.0 and row["test_accuracy"] == 1.0
    assert row["n_candidates"] == 2
    test_calls = [i for i, (_, top) in enumerate(CALLS) if top >= 0.5]
    assert len(test_calls) == 1  # the test data are predicted exactly once ...
    assert test_calls[0] >= 2 * 2 + 1  # ... after selection and the final fit
    # Selection fit on 80 % of the training part.
    assert CALLS[0] == ("fit", pytest.approx(CALLS[0][1]))


def test_rows_have_every_documented_field(catalog, tmp_path):
    [row], _ = _run(catalog, ResultStore(tmp_path), ["Spy"])
    assert set(row) == set(COLUMNS)
    assert row["fit_seconds"] >= 0 and row["fit_cpu_seconds"] >= 0
    assert row["peak_rss_mb"] > 10  # a Python process with numpy
    assert row["plugin"] == "toy-dist 0.1"
    assert row["n_train"] == 80 and row["n_test"] == 40


def test_rerun_skips_finished_trials(catalog, tmp_path):
    store = ResultStore(tmp_path)
    first, events = _run(catalog, store, ["Spy"], seeds=(0, 1))
    assert events.count("done") == 2
    second, events = _run(catalog, store, ["Spy"], seeds=(0, 1, 2))
    assert events.count("skip") == 2 and events.count("done") == 1
    assert [r["trial_key"] for r in second[:2]] == [r["trial_key"] for r in first]
    assert len(store.rows()) == 3


def test_a_raising_plugin_is_recorded_and_the_run_goes_on(catalog, tmp_path):
    rows, _ = _run(catalog, ResultStore(tmp_path), ["Raising", "Spy"])
    assert [r["status"] for r in rows] == ["error", "ok"]
    assert "ValueError: bad parameter 'alpha'" in rows[0]["error"]


def test_a_crashing_plugin_is_recorded_and_the_run_goes_on(catalog, tmp_path):
    rows, _ = _run(catalog, ResultStore(tmp_path), ["Crashing", "Spy"])
    assert [r["status"] for r in rows] == ["crashed", "ok"]
    assert "signal 11" in rows[0]["error"]


def test_a_hanging_plugin_is_killed_at_the_timeout(catalog, tmp_path):
    start = time.perf_counter()
    rows, _ = _run(catalog, ResultStore(tmp_path), ["Hanging", "Spy"], timeout=2)
    assert [r["status"] for r in rows] == ["timeout", "ok"]
    assert "no result after 2 s" in rows[0]["error"]
    assert time.perf_counter() - start < 60


def test_failed_trials_are_retried(catalog, tmp_path):
    store = ResultStore(tmp_path)
    _run(catalog, store, ["Raising"])
    _, events = _run(catalog, store, ["Raising"])
    assert events.count("done") == 1


def test_unknown_fixed_parameter_is_refused_before_running(catalog, tmp_path):
    trials = plan_trials(["Spy"], ["toy"], Protocol.parse("official"), [0],
                         {"Spy": {"gamma": 1}})
    with pytest.raises(ValueError, match="has no parameter 'gamma'"):
        run_trials(catalog, trials, ResultStore(tmp_path))
    assert not (tmp_path / "trials.jsonl").exists()


def test_fixed_parameter_leaves_the_search(catalog, tmp_path):
    trials = plan_trials(["Spy"], ["toy"], Protocol.parse("official"), [0],
                         {"Spy": {"good": False}})
    [row] = run_trials(catalog, trials, ResultStore(tmp_path), RunOptions(executor="inline"))
    assert row["params"] == '{"good": false}' and row["n_candidates"] == 1
    assert row["test_accuracy"] == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("threads", 0, "threads must be >= 1"), ("timeout", -1, "timeout must be > 0"),
     ("memory_limit_mb", 0, "memory limit must be > 0")],
)
def test_run_options_are_validated(option, value, message):
    with pytest.raises(ValueError, match=message):
        RunOptions(**{option: value})


def test_thread_limit_applies_in_the_trial_and_is_undone(catalog, tmp_path, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    [row], _ = _run(catalog, ResultStore(tmp_path), ["Spy"], executor="inline", threads=1)
    assert row["blas_threads"] == 1
    assert "OMP_NUM_THREADS" not in os.environ
