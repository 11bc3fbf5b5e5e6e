"""Test doubles shared by the harness's tests: estimators that spy, fail or
misbehave, a toy dataset, and the plugins that register them.

Every test module imports what it needs from here (``from doubles import ...``);
``conftest.py`` builds the catalogs that hold them.
"""

import ctypes
import faulthandler
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

import benchbase
from benchbase.execution.limits import Limits
from benchbase.execution.orchestrator import RunOptions, run_trials
from benchbase.results.store import ResultStore
from benchbase.trial.splits import Protocol
from benchbase.trial.task import Trial

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



def toy_trials(algorithms, datasets=("toy",), protocol="official", seeds=(0,), params=None):
    """Every algorithm × dataset × seed as a ``Trial`` (what a suite plans)."""
    params = params or {}
    return [Trial(algorithm, dataset, Protocol.parse(protocol), seed,
                  dict(params.get(algorithm, {})))
            for dataset in datasets for seed in seeds for algorithm in algorithms]


def run_rows(catalog, folder, algorithms, *, datasets=("toy",), protocol="official",
             seeds=(0,), params=None, progress=None, executor="process",
             executor_options=None, selection="auto", timings=None, peak_memory_mb=None,
             **limits):
    """Run ``toy_trials`` into ``folder`` (a path or a ``ResultStore``); their rows.
    ``limits``: ``Limits`` fields (threads, timeout, memory_limit_mb, oversubscribe)."""
    store = folder if isinstance(folder, ResultStore) else ResultStore(folder)
    options = RunOptions(limits=Limits(**limits), executor=executor,
                         executor_options=executor_options or {}, selection=selection,
                         timings=timings or {}, peak_memory_mb=peak_memory_mb or {})
    trials = toy_trials(algorithms, datasets, protocol, seeds, params)
    return run_trials(catalog, trials, store, options, progress)


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


class OutOfMemoryFirst(SpyClassifier):
    """Raises MemoryError on its first attempt (counted in the file ``attempts``),
    as a trial whose memory another trial held; fits on the next."""

    def __init__(self, attempts="", good=True, random_state=None):
        super().__init__(good=good, random_state=random_state)
        self.attempts = attempts

    def fit(self, X, y):
        time.sleep(0.5)  # the trial beside it has started
        with open(self.attempts, "a") as counter:
            counter.write("x")
        with open(self.attempts) as counter:
            if len(counter.read()) == 1:
                raise MemoryError("Unable to allocate 8.00 GiB (a test double)")
        return super().fit(X, y)


class TakesTwoSeconds(SpyClassifier):
    def fit(self, X, y):
        time.sleep(2)
        return super().fit(X, y)


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


def own_sleep(seconds: str) -> list[str]:
    """A ``sleep`` command line no other process here runs, so a test can look
    for it: ``seconds`` with the pytest-xdist worker's number appended (trials
    inherit the worker's environment), so tests on parallel workers each see
    only their own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return ["sleep", f"{seconds}{int(worker):04d}"]


SPAWNED = own_sleep("599.25")


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


IN_OWN_SESSION = own_sleep("598.75")
DAEMON = own_sleep("597.25")


class LeavesItsSession(SpyClassifier):
    """Starts a process in a session of its own (out of the trial's process
    group), and one that forks away from its parent too (a daemon)."""

    def fit(self, X, y):
        subprocess.Popen(IN_OWN_SESSION, start_new_session=True)
        # The shell exits at once: its setsid'd sleep is an orphan of the trial.
        subprocess.run(["sh", "-c", f"setsid {' '.join(DAEMON)} > /dev/null 2>&1 &"],
                       check=True)
        return super().fit(X, y)


class LeavesItsSessionAndHangs(LeavesItsSession):
    def fit(self, X, y):
        super().fit(X, y)
        time.sleep(600)


class WritesItsInput(SpyClassifier):
    """Zeroes the features it is given: a wrong train accuracy for itself and
    wrong scores for every other candidate, were the arrays writable."""

    def fit(self, X, y):
        X[:] = 0
        return super().fit(X, y)


class WritesPastNumPy(SpyClassifier):
    """Writes into its input's memory behind NumPy's back (as torch would)."""

    def fit(self, X, y):
        ctypes.memset(X.ctypes.data, 0, X.nbytes)
        return super().fit(X, y)


#: What ``Chatty`` prints: far more than a trial's log keeps.
CHATTER_BYTES = 50 * 2**20


class Chatty(SpyClassifier):
    """Prints 50 MB, half through Python, half straight to file descriptor 2."""

    def fit(self, X, y):
        line = "chatter " * 15 + "\n"
        sys.stdout.write("first line of the chatter\n")
        sys.stdout.write(line * (CHATTER_BYTES // 2 // len(line)))
        os.write(2, line.encode() * (CHATTER_BYTES // 2 // len(line)))
        print("last line of the chatter", flush=True)
        return super().fit(X, y)


class TalksThenRaises(SpyClassifier):
    def fit(self, X, y):
        for step in range(30):
            print(f"step {step}")
        raise RuntimeError("gave up after 30 steps")


class NoRandomState(SpyClassifier):
    """A randomized estimator that forgot its ``random_state`` parameter."""

    def __init__(self, good=True):
        self.good = good


FAULTS = {
    "HangsInC": HangsInC,
    "Aborts": Aborts,
    "HogsMemory": HogsMemory,
    "RaisesMemoryError": RaisesMemoryError,
    "OutOfMemoryFirst": OutOfMemoryFirst,
    "TakesTwoSeconds": TakesTwoSeconds,
    "ColumnVector": ColumnVector,
    "TooShort": TooShort,
    "Floats": Floats,
    "Strings": Strings,
    "UnknownLabels": UnknownLabels,
    "NoRandomState": NoRandomState,
    "Lingers": Lingers,
    "Spawns": Spawns,
    "LeavesItsSession": LeavesItsSession,
    "LeavesItsSessionAndHangs": LeavesItsSessionAndHangs,
    "WritesItsInput": WritesItsInput,
    "WritesPastNumPy": WritesPastNumPy,
    "Chatty": Chatty,
    "TalksThenRaises": TalksThenRaises,
    "SpawnsAndHangs": SpawnsAndHangs,
}


#: Faults that show only during selection: they search a grid, like Spy.
SEARCHING = {"WritesItsInput": {"good": [False, True]}}


class FaultPlugin:
    @benchbase.hookimpl
    def benchbase_register_algorithms(self):
        return [benchbase.AlgorithmSpec(name=name, family="test", factory=factory,
                                        search_space=SEARCHING.get(name, {}))
                for name, factory in FAULTS.items()]
