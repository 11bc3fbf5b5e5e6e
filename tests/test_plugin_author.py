"""The README's "write your own plugin" example, installed and run as a user would."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from processes import importing_from

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "plugin_example"


@pytest.fixture(scope="module")
def example_env(installed_example):
    """The environment of a process that sees the installed example plugin."""
    return importing_from(installed_example)


def _benchbase(env, *args):
    return subprocess.run([sys.executable, "-m", "benchbase", *args], env=env,
                          capture_output=True, text=True, check=False)


def test_example_plugin_is_listed_with_its_distribution(example_env):
    result = _benchbase(example_env, "list", "--json")
    assert result.returncode == 0, result.stderr
    algorithms = {a["name"]: a for a in json.loads(result.stdout)["algorithms"]}
    assert algorithms["NearestCentroid"]["distribution"] == "benchbase-example-plugin"
    assert algorithms["NearestCentroid"]["version"] == "1.0.0"


def test_example_plugin_runs_in_a_benchmark(example_env, tmp_path):
    result = _benchbase(example_env, "run", "--algorithms", "NearestCentroid,KELM",
                        "--seeds", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "results.csv")
    row = table.set_index("algorithm").loc["NearestCentroid"]
    assert row["status"] == "ok" and row["test_accuracy"] > 0.8
    assert row["plugin"] == "benchbase-example-plugin 1.0.0"


def test_readme_shows_the_example_verbatim():
    readme = (ROOT / "README.md").read_text()
    for name in ("benchbase_example_plugin.py", "pyproject.toml"):
        source = (EXAMPLE / name).read_text().strip()
        blocks = re.findall(r"```(?:python|toml)\n(.*?)```", readme, flags=re.S)
        assert source in [block.strip() for block in blocks], f"README lacks {name}"
