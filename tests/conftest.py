"""Shared fixtures. Tests run against the installed package (entry points need it).

Test doubles (spying, failing and misbehaving estimators, the toy dataset and
their plugins) live in ``doubles.py``; helpers for processes and installed
plugins in ``processes.py``; builders of data files and result rows in
``data_builders.py`` and ``report_builders.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# Output is not fitted to a terminal's width unless a test sets COLUMNS itself.
os.environ.pop("COLUMNS", None)


#: Most xdist workers ``-n auto`` starts: each imports NumPy, SciPy and often
#: torch, and some tests start runs of two processes themselves.
MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config):
    """Workers for ``-n auto`` (pyproject.toml's default): one per usable core,
    at most ``MAX_WORKERS``; none when benchmarks are enabled, which need the
    machine to themselves (pytest-benchmark turns itself off under xdist)."""
    from benchbase.results.provenance import usable_cores

    if config.getoption("benchmark_enable", default=False):
        return 0
    return min(usable_cores(), MAX_WORKERS)


@pytest.fixture(scope="session")
def catalog():
    """Every installed plugin, plus the test doubles' (``doubles.py``): the toy
    dataset, the spying and failing estimators, and the faults."""
    from doubles import FaultPlugin, ToyPlugin

    from benchbase.plugins import PluginInfo, load_catalog

    return load_catalog(extra=[
        (PluginInfo("toy", "tests", "toy-dist", "0.1"), ToyPlugin()),
        (PluginInfo("faults", "tests", "faults-dist", "0.1"), FaultPlugin())])


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No user data or cache leaks in: no ``BENCHBASE_DATA``, and the cache is a
    fresh temporary folder (returned)."""
    from benchbase import data

    monkeypatch.delenv(data.ENV_DATA, raising=False)
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on ``sys.path`` for plugins installed as pip would
    (``processes.install_fake_plugin``), with the plugin switches unset."""
    from benchbase.plugins import ENV_BLOCK, ENV_DISABLE_AUTOLOAD

    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(ENV_BLOCK, raising=False)
    monkeypatch.delenv(ENV_DISABLE_AUTOLOAD, raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def digits():
    """The embedded default dataset, loaded through its plugin."""
    from benchbase import DataContext
    from benchbase.plugins import load_catalog

    catalog = load_catalog()
    return catalog.datasets.get("digits").load(DataContext())


@pytest.fixture
def blobs():
    """A small, easy 3-class problem with float features in [0, 1]."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(0.2, 0.8, size=(3, 10))
    y = np.repeat(np.arange(3), 40)
    X = np.clip(centres[y] + rng.normal(0, 0.05, size=(120, 10)), 0, 1)
    return X.astype(np.float32), y


@pytest.fixture(params=["scipy", "torch"])
def linalg_backend(request, monkeypatch):
    """Run a test with each Cholesky backend (torch only where installed)."""
    if request.param == "torch":
        pytest.importorskip("torch")
    monkeypatch.setenv("BENCHBASE_LINALG", request.param)
    return request.param


@pytest.fixture(scope="session")
def installed_example(tmp_path_factory):
    """pip-install the example plugin into a private folder, as a user would;
    returns that folder (put it on sys.path or PYTHONPATH to use the plugin)."""
    target = tmp_path_factory.mktemp("site")
    # Built from a copy: pip builds in the source folder, and xdist workers may
    # each run this fixture at the same time.
    source = shutil.copytree(Path(__file__).parent / "plugin_example",
                             tmp_path_factory.mktemp("source") / "plugin_example",
                             ignore=shutil.ignore_patterns("build", "*.egg-info"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--target", str(target), str(source)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, f"pip could not install the example:\n{result.stderr}"
    return target
