"""Shared fixtures. Tests run against the installed package (entry points need it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


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
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--target", str(target),
         str(Path(__file__).parent / "plugin_example")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, f"pip could not install the example:\n{result.stderr}"
    return target
