"""Per-trial artifacts and provenance: stored with the row, checked on load."""

import hashlib
import json
import os
import socket
import stat
import sys

import numpy as np
import pytest
from data_builders import flip_byte
from doubles import run_rows

from benchbase.fsutil import atomic_writer
from benchbase.results import artifacts, provenance
from benchbase.results.artifacts import ArtifactError
from benchbase.results.store import ResultStore

ARRAYS = {"y_test": np.array([0, 1, 2]), "y_pred": np.array([0, 2, 2]),
          "candidates": np.array(['{"C": 1}', '{"C": 10}']),
          "val_scores": np.array([0.5, 0.75])}


def test_write_then_load_round_trips_and_checks_the_digest(tmp_path):
    digest = artifacts.write(tmp_path, "k1", ARRAYS)
    loaded = artifacts.load(tmp_path, "k1", digest)
    assert loaded.keys() == ARRAYS.keys()
    for name, array in ARRAYS.items():
        np.testing.assert_array_equal(loaded[name], array)
    assert loaded["candidates"].dtype.kind == "U"  # text, not pickled objects


def test_a_changed_file_is_refused_naming_it(tmp_path):
    digest = artifacts.write(tmp_path, "k1", ARRAYS)
    flip_byte(artifacts.path_for(tmp_path, "k1"), offset=40)
    with pytest.raises(ArtifactError, match=r"k1\.npz: sha256 .* differs"):
        artifacts.load(tmp_path, "k1", digest)


def test_missing_file_and_old_rows_get_clear_errors(tmp_path):
    with pytest.raises(ArtifactError, match=r"k1\.npz: missing"):
        artifacts.load(tmp_path, "k1", "ab" * 32)
    with pytest.raises(ArtifactError, match="records no artifacts"):
        artifacts.load(tmp_path, "k1", "")


def test_a_damaged_archive_with_a_matching_digest_is_unreadable_not_a_crash(tmp_path):
    path = artifacts.path_for(tmp_path, "k1")
    path.parent.mkdir()
    path.write_bytes(b"PK\x03\x04 not really a zip")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ArtifactError, match="unreadable"):
        artifacts.load(tmp_path, "k1", digest)


@pytest.mark.parametrize(("arrays", "match"), [
    ({"Bad-Name": np.zeros(1)}, "artifact name 'Bad-Name'"),
    ({"objects": np.array([{"a": 1}], dtype=object)}, "holds Python objects"),
])
def test_arrays_that_cannot_be_stored_safely_are_refused(tmp_path, arrays, match):
    with pytest.raises(ValueError, match=match):
        artifacts.write(tmp_path, "k1", arrays)
    assert not artifacts.path_for(tmp_path, "k1").exists()


def test_atomic_writer_keeps_the_old_file_on_error_and_follows_the_umask(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target) as out:
        out.write("half of the new")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]  # no temp file left
    previous = os.umask(0o027)
    try:
        with atomic_writer(target) as out:
            out.write("new")
    finally:
        os.umask(previous)
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_trial_stores_predictions_labels_and_every_candidate(catalog, tmp_path):
    [row] = run_rows(catalog, tmp_path, ["Spy"])
    arrays = artifacts.load(tmp_path, row["trial_key"], row["artifacts_sha256"])
    assert arrays["y_pred"].shape == arrays["y_test"].shape == (40,)
    assert np.mean(arrays["y_pred"] == arrays["y_test"]) == row["test_accuracy"]
    assert [json.loads(c) for c in arrays["candidates"]] == [{"good": False},
                                                              {"good": True}]
    assert arrays["val_scores"].max() == row["val_accuracy"]
    assert tuple(arrays["image_shape"]) == (2, 1)


def test_rows_and_runs_record_provenance(catalog, tmp_path):
    store = ResultStore(tmp_path)
    [row] = run_rows(catalog, store, ["Spy"])
    environment = json.loads(row["environment"])
    assert row["host"] == environment["host"] == socket.gethostname()
    assert environment["packages"]["numpy"] == np.__version__
    assert environment["usable_cores"] >= 1 and environment["cpu"]
    assert any(pool["api"] for pool in environment["blas"])  # numpy's BLAS is loaded
    [run] = store.runs()
    assert run["run_id"] == row["run_id"]
    # This process's command line (pytest's, or an xdist worker's), as the
    # tests of command_line below render it.
    assert run["command"] == provenance.command_line(sys.argv) != ""
    assert run["environment"]["python"] == environment["python"]


def test_command_line_is_shell_quoted():
    assert provenance.command_line(["/usr/bin/benchbase", "run", "--title", "a b"]) == (
        "benchbase run --title 'a b'")


def test_a_package_run_as_a_module_is_named_as_typed():
    argv = ["/venv/lib/python3.11/site-packages/benchbase/__main__.py", "run", "paper"]
    assert provenance.command_line(argv) == "python -m benchbase run paper"
