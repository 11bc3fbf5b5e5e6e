"""Results folders made by hand for the report tests: rows as the runner
writes them, and artifacts whose every number the tests know."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.model_selection import ParameterGrid

from benchbase.results.record import COLUMNS
from benchbase.results.store import ResultStore

N_TEST, N_CLASSES, IMAGE_SHAPE = 60, 3, (4, 4)
Y_TEST = np.repeat(np.arange(N_CLASSES), N_TEST // N_CLASSES)
#: Per algorithm: (family, share of test examples right, searched grid).
ALGORITHMS = {
    "Good": ("fam-x", 0.95, {"C": [1.0, 10.0], "width": [0.5, 1.0, 2.0]}),
    "Fair": ("fam-x", 0.80, {"n": [10, 20, 40]}),
    "Weak": ("fam-y", 0.60, {"a": [1, 2], "b": [1, 2, 3], "c": [1, 2]}),
}
#: Fair and Weak reconstruct images, as autoencoders do.
RECONSTRUCTING = ("Fair", "Weak")


def row(algorithm: str, seed: int, **changes) -> dict:
    family, _, grid = ALGORITHMS[algorithm]
    chosen = {name: values[seed % len(values)] for name, values in grid.items()}
    values = dict.fromkeys(COLUMNS, "")
    values.update(
        trial_key=f"{algorithm}-{seed}", algorithm=algorithm, family=family,
        dataset="toy", protocol="official", seed=seed, subset_hash="same-split",
        n_train=240, n_test=N_TEST, params=json.dumps({**chosen, "fixed": 1}),
        search_space=json.dumps(grid), n_candidates=int(np.prod([len(v) for v in
                                                                grid.values()])),
        fit_info="{}", val_accuracy=0.9, train_accuracy=1.0, test_accuracy=None,
        fit_seconds=0.5 + seed, fit_cpu_seconds=0.5, predict_seconds=0.01,
        predict_cpu_seconds=0.01, select_seconds=1.0, peak_rss_mb=100.0, blas_threads=1,
        status="ok", plugin="toy 1.0", benchbase_version="0.1.0",
        started_at=f"2026-01-01T10:0{seed}:00+00:00", run_id="run-1", host="box",
        environment=json.dumps({"host": "box", "cpu": "Toy CPU", "cpu_count": 2,
                                "usable_cores": 2, "memory_gib": 8.0, "os": "Linux",
                                "python": "CPython 3.11", "packages": {"numpy": "2.0"},
                                "blas": [], "gpu": "", "git_commit": "abc"}),
    )
    values.update(changes)
    return values


def predictions(algorithm: str, seed: int) -> np.ndarray:
    """Wrong on a fixed random share of the examples (the next class instead)."""
    _, accuracy, _ = ALGORITHMS[algorithm]
    rng = np.random.default_rng([seed, len(algorithm)])
    wrong = rng.random(N_TEST) > accuracy
    return np.where(wrong, (Y_TEST + 1) % N_CLASSES, Y_TEST)


def arrays(algorithm: str, seed: int) -> dict[str, np.ndarray]:
    _, _, grid = ALGORITHMS[algorithm]
    candidates = list(ParameterGrid(grid))  # in the runner's order
    rng = np.random.default_rng([seed, len(algorithm), 1])
    found = {
        "y_test": Y_TEST, "y_pred": predictions(algorithm, seed),
        "candidates": np.array([json.dumps(c, sort_keys=True) for c in candidates]),
        "val_scores": rng.uniform(0.5, 1.0, len(candidates)),
        "image_shape": np.array(IMAGE_SHAPE),
    }
    if algorithm in RECONSTRUCTING:
        shown = np.array([0, 20, 40])
        images = rng.random((N_TEST, 16)).astype(np.float32)
        found.update(
            filters=rng.normal(size=(12, 16)).astype(np.float32), recon_index=shown,
            recon_input=images[shown], recon_output=images[shown] * 0.9,
            recon_kl=rng.random(3), recon_error_kl=np.float64(1.5 + seed),
            recon_error_mse=np.float64(0.01 * (seed + 1)))
    return found


def predictions_folder(folder: Path, seeds: int = 3) -> Path:
    """Every algorithm × seed, with artifacts, through the store (digests included)."""
    store = ResultStore(folder)
    for algorithm in ALGORITHMS:
        for seed in range(seeds):
            found = arrays(algorithm, seed)
            accuracy = float(np.mean(found["y_pred"] == found["y_test"]))
            store.append(row(algorithm, seed, test_accuracy=accuracy), found)
    return folder
