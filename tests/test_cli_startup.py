"""The command line starts at once: no heavy library before a command needs one,
and shell completion of names from a cache (timings: tests/benchmarks/test_bench_cli.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest

from benchbase import plugins
from benchbase.cli import completion

#: Libraries that take most of a second or more to import; --help, --version
#: and a TAB must not load them.
HEAVY = ("sklearn", "pandas", "scipy", "torch", "matplotlib", "seaborn", "numba", "dask")


def test_help_and_version_load_no_heavy_library():
    probe = ("import sys\n"
             "from benchbase.cli.main import build_parser\n"
             "build_parser().format_help()\n"
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _heavy_after_a_tab(kind: str, prefix: str, expected: str, cache) -> str:
    """Complete ``prefix`` in a fresh interpreter; the heavy libraries it loaded."""
    probe = ("import sys\n"
             "from benchbase.cli.completion import completer\n"
             f"assert completer({kind!r})({prefix!r}) == [{expected!r}]\n"
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "BENCHBASE_CACHE": str(cache)})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_tab_with_its_names_cached_loads_no_heavy_library(tmp_path):
    _heavy_after_a_tab("algorithms", "KE", "KELM", tmp_path)  # no cache yet: loads plugins
    assert _heavy_after_a_tab("algorithms", "KE", "KELM", tmp_path) == "[]"


def test_a_tab_after_any_command_that_loads_the_plugins_needs_no_plugin_load(tmp_path):
    listed = subprocess.run([sys.executable, "-m", "benchbase", "list", "--json"],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "BENCHBASE_CACHE": str(tmp_path)})
    assert listed.returncode == 0, listed.stderr
    # The names came from `list`'s cache.
    assert _heavy_after_a_tab("suites", "pap", "paper", tmp_path) == "[]"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHBASE_CACHE", str(tmp_path))
    return tmp_path / completion.CACHE_NAME


def test_names_complete_from_a_cache_refreshed_when_the_plugins_change(cache, monkeypatch):
    complete = completion.completer("algorithms", comma_separated=True)
    assert complete("KELM,D") == ["KELM,DAE", "KELM,DDAE"]
    assert cache.exists()

    def no_plugin_loading():
        raise AssertionError("the plugins were loaded although the cache was fresh")

    monkeypatch.setattr(plugins, "load_catalog", no_plugin_loading)
    assert completion.completer("suites")("pa") == ["paper"]
    assert completion.completer("datasets")("MN") == ["mnist"]  # any case

    monkeypatch.setattr(completion, "_fingerprint", lambda: "another set of plugins")
    monkeypatch.setattr(plugins, "load_catalog", lambda: types.SimpleNamespace(
        algorithms=["KELM"], datasets=["mnist"], suites=["renamed"]))
    assert completion.completer("suites")("") == ["renamed"]


def test_an_unreadable_cache_is_rebuilt(cache):
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("{not json")
    assert "KELM" in completion.registered_names("algorithms")
    assert "KELM" in cache.read_text()


def test_tab_completes_through_argcomplete(tmp_path):
    pytest.importorskip("argcomplete")
    line = "benchbase run --algorithms KELM,R"
    out = tmp_path / "completions"
    env = {**os.environ, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_IFS": " ", "COMP_LINE": line,
           "COMP_POINT": str(len(line)), "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
           "BENCHBASE_CACHE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "benchbase"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_text().split() == ["KELM,RELM"]
