"""One result record, a versioned format, and older rows upgraded in one place."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from benchbase.report.reading import ArtifactLoader
from benchbase.results.format import FormatError, upgrade, upgrade_artifacts, upgrade_run
from benchbase.results.record import (
    COLUMNS,
    FORMAT_VERSION,
    Accuracies,
    Outcome,
    SelectionSummary,
    Status,
    Timings,
    TrialResult,
    make_row,
)
from benchbase.results.store import ResultStore, read_table

ROOT = Path(__file__).resolve().parents[1]
#: Every committed results folder: the published reports and the test reference.
COMMITTED = sorted(path.parent for path in [*ROOT.glob("reports/**/trials.jsonl"),
                                            *ROOT.glob("tests/reference/**/trials.jsonl")])

PLANNED = {"trial_key": "k", "algorithm": "A", "variant": "", "family": "f",
           "dataset": "d", "protocol": "official", "seed": 0, "subset_hash": "h",
           "n_train": 10, "n_test": 5, "search_space": "{}", "plugin": "p 1",
           "benchbase_version": "0"}
MEASURED = {"host": "h", "threads": 1, "concurrency": 1, "executor": "process",
            "started_at": "2026-12-05T00:00:00+00:00", "run_id": "r", "trial_seconds": 1.0}


def _result(**changes) -> TrialResult:
    fields = dict(
        params={"C": 1}, fit_info={"solver": "exact"},
        accuracy=Accuracies(train=1.0, test=0.8, validation=0.9),
        timings=Timings(1.0, None, 2.0, 2.5, 0.1, 0.5, 0.5),
        selection=SelectionSummary("grid", {"name": "grid", "version": 1}, 3),
        blas_threads=1, peak_rss_mb=100.0, environment={"host": "h"},
        artifacts={"y_pred": np.arange(5)})
    return TrialResult(**{**fields, **changes})


def test_a_row_is_built_in_one_place_from_the_plan_the_outcome_and_the_orchestrator():
    row, arrays = make_row(PLANNED, Outcome(Status.OK, _result()), MEASURED)
    assert set(row) | {"artifacts_sha256"} == set(COLUMNS)  # the store adds the digest
    assert row["format_version"] == FORMAT_VERSION and row["status"] == "ok"
    assert row["params"] == '{"C": 1}' and row["val_accuracy"] == 0.9
    assert row["selection_rule"] == '{"name": "grid", "version": 1}'
    assert list(arrays) == ["y_pred"]
    failed, none = make_row(PLANNED, Outcome(Status.TIMEOUT, error="slow"), MEASURED)
    assert failed["status"] == "timeout" and failed["error"] == "slow" and none is None
    assert "params" not in failed  # never measured: left empty, not made up


def test_a_field_given_twice_is_refused_not_overwritten():
    with pytest.raises(ValueError, match="result row: host given twice"):
        make_row({**PLANNED, "host": "planner"}, Outcome(Status.OK, _result()), MEASURED)


def test_undocumented_columns_are_refused():
    with pytest.raises(ValueError, match=r"undocumented columns: \['surprise'\]"):
        make_row({**PLANNED, "surprise": 1}, Outcome(Status.ERROR, error="x"), MEASURED)


def test_an_outcome_is_ok_with_a_result_or_failed_without_one():
    with pytest.raises(ValueError):
        Outcome(Status.OK)
    with pytest.raises(ValueError):
        Outcome(Status.ERROR, _result())
    assert Outcome("crashed").status is Status.CRASHED  # from a stored value


def test_statuses_keep_their_stored_values():
    assert [status.value for status in Status] == ["ok", "error", "timeout", "crashed",
                                                   "memory", "lost"]
    assert f"{Status.OK}" == str(Status.OK) == "ok" and Status.OK == "ok"
    assert json.dumps({"status": Status.MEMORY}) == '{"status": "memory"}'


def test_a_first_format_row_is_upgraded_to_the_current_one():
    old = {"trial_key": "k", "algorithm": "A", "dataset": "d", "protocol": "official",
           "seed": 0, "status": "ok", "params": "{}", "test_accuracy": 0.5,
           "n_candidates": 4}
    row = upgrade(old)
    assert list(row) == list(COLUMNS) and row["format_version"] == FORMAT_VERSION
    # Before successive halving existed every search was the full grid.
    assert row["selection"] == "grid"
    assert json.loads(row["selection_rule"]) == {"name": "grid", "version": 1}
    assert row["variant"] == "" and row["trial_seconds"] is None
    halving = upgrade({**old, "selection": "halving"})
    # Its rule's version was not recorded then: 0 says so.
    assert json.loads(halving["selection_rule"]) == {"name": "halving", "version": 0}
    assert upgrade(row) == row  # the current format is left as it is


@pytest.mark.parametrize(("row", "message"), [
    ({"trial_key": "k", "status": "ok"}, "not a result row: no algorithm, dataset"),
    ({"trial_key": "k", "algorithm": "A", "dataset": "d", "protocol": "p", "seed": 0,
      "status": "finished"}, "unknown status 'finished'"),
    ({"trial_key": "k", "algorithm": "A", "dataset": "d", "protocol": "p", "seed": 0,
      "status": "ok"}, "an ok row without params, test_accuracy"),
    ({"trial_key": "k", "format_version": FORMAT_VERSION + 1},
     f"format_version {FORMAT_VERSION + 1} is newer than this benchbase reads"),
])
def test_what_no_format_knows_is_refused_with_the_reason(row, message):
    with pytest.raises(FormatError, match=message):
        upgrade(row)


def test_run_records_carry_the_format_version(tmp_path):
    store = ResultStore(tmp_path)
    store.start_run({"run_id": "r"})
    assert json.loads((tmp_path / "runs.jsonl").read_text())["format_version"] == \
        FORMAT_VERSION
    assert upgrade_run({"run_id": "old"}) == {"run_id": "old",
                                              "format_version": FORMAT_VERSION}


def test_artifacts_from_before_halving_say_every_candidate_saw_every_fit_row():
    old = {"val_scores": np.array([0.5, 0.75]), "candidates": np.array(["{}", "{}"])}
    new = upgrade_artifacts(old, n_fit=80)
    assert new["val_samples"].tolist() == [80, 80]
    assert new["val_history"].tolist() == [[0, 80, 0.5], [1, 80, 0.75]]


@pytest.mark.parametrize("folder", COMMITTED, ids=lambda path: str(path.relative_to(ROOT)))
def test_committed_folders_read_in_the_current_format_with_their_keys(folder):
    logged = [json.loads(line) for line in (folder / "trials.jsonl").read_text().splitlines()]
    table = read_table(folder)
    assert list(table.columns) == list(COLUMNS)
    assert set(table["format_version"]) == {FORMAT_VERSION}
    # Keys stay what was stored: artifacts are filed under them.
    assert set(table["trial_key"]) == {row["trial_key"] for row in logged}
    loader = ArtifactLoader()
    for row in table.assign(source=str(folder)).to_dict("records"):
        if row["artifacts_sha256"]:
            arrays = loader.load(row)
            assert len(arrays["val_samples"]) == len(arrays["val_scores"])
        chosen = row["n_candidates"] > 1 and row["status"] == "ok"
        assert bool(row["selection_rule"]) == chosen or math.isnan(row["n_candidates"])
