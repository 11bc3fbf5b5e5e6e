"""``benchbase compare BEFORE AFTER``: trials matched by identity, paired
differences with their tests, and exit codes a plugin's CI can use."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from report_builders import ALGORITHMS, Y_TEST, arrays, predictions_folder, row
from scipy import stats

from benchbase.cli import exits, main
from benchbase.report.compare import Threshold, compare_folders
from benchbase.results.store import ResultStore

#: After the "change": Fair gets 3 more examples wrong in every seed, and
#: Good fits 50 % slower. The plugin's version (so every trial_key) changed.
WORSE, SLOWER = 3, 1.5


def _fair_after(seed: int) -> np.ndarray:
    """Fair's predictions after the change: its first WORSE right answers wrong."""
    y_pred = arrays("Fair", seed)["y_pred"].copy()
    right = np.flatnonzero(y_pred == Y_TEST)[:WORSE]
    y_pred[right] = (Y_TEST[right] + 1) % 3
    return y_pred


def _after(folder, **changes):
    store = ResultStore(folder)
    for algorithm in ALGORITHMS:
        for seed in range(3):
            found = arrays(algorithm, seed)
            if algorithm == "Fair":
                found["y_pred"] = _fair_after(seed)
            old = row(algorithm, seed)
            store.append(row(
                algorithm, seed, trial_key=f"{algorithm}-{seed}-v2", plugin="toy 2.0",
                test_accuracy=float(np.mean(found["y_pred"] == Y_TEST)),
                fit_seconds=old["fit_seconds"] * (SLOWER if algorithm == "Good" else 1),
                **changes), found)
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    return predictions_folder(root / "before"), _after(root / "after")


def test_trials_match_on_identity_not_on_the_key_that_hashes_the_version(folders):
    table, notes = compare_folders(*folders)
    assert sorted(table["algorithm"]) == sorted(ALGORITHMS)
    assert set(table["seeds"]) == {3}
    assert notes == []
    fair = table.set_index("algorithm").loc["Fair"]
    assert fair["plugin"] == "toy 1.0 → toy 2.0"
    assert fair["delta"] == pytest.approx(-100 * WORSE / len(Y_TEST))
    # One shared test set: per example, seeds right after minus before.
    summed = sum((_fair_after(seed) == Y_TEST).astype(int)
                 - (arrays("Fair", seed)["y_pred"] == Y_TEST) for seed in range(3))
    ahead, behind = int((summed > 0).sum()), int((summed < 0).sum())
    assert ahead == 0 and behind >= WORSE
    assert fair["mcnemar_p"] == pytest.approx(stats.binomtest(ahead, ahead + behind).pvalue)
    good = table.set_index("algorithm").loc["Good"]
    assert good["ratio"] == pytest.approx(SLOWER)
    assert good["delta"] == 0


@pytest.mark.parametrize(("fail_on", "code", "lines"), [
    ([], exits.OK, []),
    (["accuracy:6"], exits.OK, []),  # Fair dropped 5 points: under the threshold
    (["accuracy:4"], exits.FAILED, ["Fair on toy (official): test accuracy -5.00"]),
    (["time:60%"], exits.OK, []),
    (["time:20%"], exits.FAILED, ["Good on toy (official): fit time +50.0 %"]),
    (["accuracy:4", "time:20%"], exits.FAILED, ["Fair", "Good"]),
])
def test_exit_code_says_whether_a_change_passed_a_threshold(folders, capsys, fail_on, code,
                                                            lines):
    argv = ["compare", *map(str, folders)]
    for item in fail_on:
        argv += ["--fail-on", item]
    assert main(argv) == code
    out = capsys.readouterr().out
    regressions = [line for line in out.splitlines() if line.startswith("REGRESSION:")]
    assert len(regressions) == len(lines)
    for line, expected in zip(regressions, lines, strict=True):
        assert expected in line
    assert "| Fair | toy (official) |" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["--fail-on", "accuracy"], "expected accuracy:POINTS"),
    (["--fail-on", "time:20"], "expected accuracy:POINTS (e.g. accuracy:0.5) or "
                               "time:PERCENT%"),
])
def test_bad_thresholds_are_usage_errors(folders, capsys, argv, message):
    assert main(["compare", *map(str, folders), *argv]) == exits.USAGE
    assert message in capsys.readouterr().err


def test_folders_without_common_trials_or_missing_are_usage_errors(folders, tmp_path,
                                                                   capsys):
    other = ResultStore(tmp_path / "other")
    other.append(row("Good", 7, test_accuracy=0.9))
    assert main(["compare", str(folders[0]), str(tmp_path / "other")]) == exits.USAGE
    assert "no trial of" in capsys.readouterr().err
    assert main(["compare", str(folders[0]), str(tmp_path / "nope")]) == exits.USAGE
    assert "no such results folder" in capsys.readouterr().err


def test_a_trial_run_twice_in_one_folder_is_ambiguous(folders, tmp_path, capsys):
    twice = ResultStore(tmp_path / "twice")
    for key in ("k1", "k2"):  # the same identity, two plugin versions
        twice.append(row("Good", 0, trial_key=key, test_accuracy=0.9))
    assert main(["compare", str(folders[0]), str(tmp_path / "twice")]) == exits.USAGE
    assert re.search(r"Good on toy \(official, seed 0\) finished more than once",
                     capsys.readouterr().err)


def test_unmatched_trials_and_other_subsets_are_reported(folders, tmp_path):
    after = ResultStore(tmp_path / "after")
    for algorithm in ("Good", "Fair"):
        for seed in range(3):
            changes = {"subset_hash": "other-split"} if seed == 0 else {}
            after.append(row(algorithm, seed, test_accuracy=0.5, **changes),
                         arrays(algorithm, seed))
    table, notes = compare_folders(folders[0], tmp_path / "after")
    assert set(table["seeds"]) == {2}
    assert notes == [f"3 trial(s) only in {folders[0]} and 0 only in {tmp_path / 'after'} "
                     "are not compared.",
                     "2 matched trial(s) used different data subsets and are left out."]


def test_another_cpu_cores_or_blas_is_named_even_on_the_same_host(folders, tmp_path):
    environment = {"host": "box", "cpu": "AMD EPYC (family 26 model 2, AVX-512)",
                   "cpu_count": 4, "usable_cores": 4,
                   "blas": [{"api": "openblas", "version": "0.3.31",
                             "architecture": "SkylakeX", "threads": 4}]}
    after = _after(tmp_path / "after", environment=json.dumps(environment))
    _, notes = compare_folders(folders[0], after)
    assert notes == ["The runs come from different machines (CPU: Toy CPU before, AMD EPYC "
                     "(family 26 model 2, AVX-512) after; cores: 2 of 2 before, 4 of 4 "
                     "after): the time ratios compare machines as much as code."]


def test_thresholds_parse_points_and_percent():
    assert Threshold.parse("accuracy:0.5") == Threshold("accuracy", 0.5)
    assert Threshold.parse("time:20%") == Threshold("time", 20.0)
