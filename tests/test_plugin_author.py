"""The README's "write your own plugin" example, installed and run as a user would."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "plugin_example"


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory):
    """pip-install the example plugin into a private folder; return its env."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--target", str(target), str(EXAMPLE)],
        check=True, capture_output=True,
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target),
                                                      env.get("PYTHONPATH")]))
    return env


def _benchbase(env, *args):
    return subprocess.run([sys.executable, "-m", "benchbase.cli", *args], env=env,
                          capture_output=True, text=True, check=False)


def test_example_plugin_is_listed_with_its_distribution(installed_example):
    result = _benchbase(installed_example, "list", "--json")
    assert result.returncode == 0, result.stderr
    algorithms = {a["name"]: a for a in json.loads(result.stdout)["algorithms"]}
    assert algorithms["NearestCentroid"]["distribution"] == "benchbase-example-plugin"
    assert algorithms["NearestCentroid"]["version"] == "1.0.0"


def test_example_plugin_runs_in_a_benchmark(installed_example, tmp_path):
    result = _benchbase(installed_example, "run", "--algorithms", "NearestCentroid,KELM",
                        "--seeds", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "results.csv")
    row = table.set_index("algorithm").loc["NearestCentroid"]
    assert row["status"] == "ok" and row["test_accuracy"] > 0.8
    assert row["plugin"] == "benchbase-example-plugin 1.0.0"


def test_example_plugin_passes_the_conformance_check(installed_example):
    code = "from benchbase.testing import check_algorithm; check_algorithm('NearestCentroid')"
    result = subprocess.run([sys.executable, "-c", code], env=installed_example,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_readme_shows_the_example_verbatim():
    readme = (ROOT / "README.md").read_text()
    for name in ("benchbase_example_plugin.py", "pyproject.toml"):
        source = (EXAMPLE / name).read_text().strip()
        blocks = re.findall(r"```(?:python|toml)\n(.*?)```", readme, flags=re.S)
        assert source in [block.strip() for block in blocks], f"README lacks {name}"
