"""How long the command line takes to answer: ``benchbase --version``, ``run
--help`` and a TAB completing algorithm names (names cached, as after the first
TAB), each a fresh process as the shell starts it. Target: each <= 0.3 s.

    pytest tests/benchmarks/test_bench_cli.py -m bench --benchmark-enable --benchmark-only
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import best_seconds, record

pytestmark = pytest.mark.bench

ROUNDS = 7


def _benchbase() -> list[str]:
    script = shutil.which("benchbase", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "benchbase"]


def _completion_env(tmp_path, line: str) -> dict[str, str]:
    return {**os.environ, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_IFS": " ", "COMP_LINE": line,
            "COMP_POINT": str(len(line)), "BENCHBASE_CACHE": str(tmp_path),
            "_ARGCOMPLETE_STDOUT_FILENAME": str(tmp_path / "completions")}


@pytest.mark.parametrize(("name", "argv", "tab"), [
    ("cli_version_s", ["--version"], None),
    ("cli_run_help_s", ["run", "--help"], None),
    ("cli_tab_algorithms_s", [], "benchbase run --algorithms KELM,R"),
])
def test_the_command_line_answers_at_once(benchmark, tmp_path, name, argv, tab):
    if tab:
        pytest.importorskip("argcomplete")
    env = _completion_env(tmp_path, tab) if tab else None
    command = [*_benchbase(), *argv]
    subprocess.run(command, env=env, check=True, capture_output=True)  # fills the cache

    benchmark.pedantic(subprocess.run, args=(command,),
                       kwargs={"env": env, "check": True, "capture_output": True},
                       rounds=ROUNDS, iterations=1)
    record(benchmark, name, best_seconds(benchmark), "s")
    if tab:
        assert (tmp_path / "completions").read_text().split() == ["KELM,RELM"]
