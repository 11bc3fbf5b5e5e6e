"""Two results folders of the same trials, run a month apart on two machines:
what a results site's history is made of."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from report_builders import ALGORITHMS, arrays, predictions_folder, row

from benchbase.results.store import ResultStore

LATER = {"host": "other", "cpu": "Later CPU", "cpu_count": 4, "usable_cores": 4,
         "memory_gib": 16.0, "os": "Linux", "python": "CPython 3.12",
         "packages": {"numpy": "2.1"}, "blas": [], "gpu": "", "git_commit": "f00d" * 10}


def two_runs(root: Path) -> tuple[Path, Path]:
    """``first``: run-1 (no runs.jsonl, as older folders); ``second``: run-2 of
    the same trials, recorded in runs.jsonl, each accuracy one test image
    lower and each fit twice as long."""
    first = predictions_folder(root / "first")
    second = ResultStore(root / "second")
    second.start_run({"run_id": "run-2", "started_at": "2026-02-01T09:00:00+00:00",
                      "command": "benchbase run quick --seeds 3 --jobs 2",
                      "environment": LATER})
    for algorithm in ALGORITHMS:
        for seed in range(3):
            found = arrays(algorithm, seed)
            accuracy = float(np.mean(found["y_pred"] == found["y_test"])) - 1 / 60
            second.append(row(algorithm, seed, test_accuracy=accuracy, run_id="run-2",
                              fit_seconds=2 * (0.5 + seed), environment=json.dumps(LATER),
                              started_at=f"2026-02-01T09:0{seed}:00+00:00"), found)
    return first, root / "second"
