"""How the test suite itself runs: on pytest-xdist workers by default (one per
usable core, at most ``conftest.MAX_WORKERS``), in one process for benchmarks."""

from __future__ import annotations

import os
from types import SimpleNamespace

import conftest
import pytest


def _config(benchmark_enable: bool):
    options = {"benchmark_enable": benchmark_enable}
    return SimpleNamespace(getoption=lambda name, default=None: options.get(name, default))


def test_the_default_run_asks_xdist_for_its_automatic_worker_count(pytestconfig):
    addopts = pytestconfig.getini("addopts")  # pyproject.toml's
    assert addopts[addopts.index("-n") + 1] == "auto"


@pytest.mark.parametrize(("cores", "workers"), [(1, 1), (2, 2), (3, 3), (64, 4)])
def test_one_worker_per_usable_core_up_to_the_cap(monkeypatch, cores, workers):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)),
                        raising=False)
    assert conftest.MAX_WORKERS == 4
    assert conftest.pytest_xdist_auto_num_workers(_config(False)) == workers


def test_benchmarks_run_in_one_process(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert conftest.pytest_xdist_auto_num_workers(_config(True)) == 0
