"""summarize(): mean ± std over seeds, the best seed, validation and CPU time."""

import math

import pandas as pd

from benchbase.results.summary import display_table, summarize


def _rows(**columns) -> pd.DataFrame:
    n = len(columns["seed"])
    base = {"algorithm": ["A"] * n, "family": ["F"] * n, "dataset": ["d"] * n,
            "protocol": ["official"] * n, "status": ["ok"] * n,
            "train_accuracy": [1.0] * n, "test_accuracy": [0.5] * n,
            "val_accuracy": [0.5] * n, "fit_seconds": [1.0] * n,
            "fit_cpu_seconds": [2.0] * n, "predict_seconds": [0.1] * n,
            "select_seconds": [3.0] * n, "peak_rss_mb": [10.0] * n}
    return pd.DataFrame({**base, **columns})


def test_means_stds_best_seed_and_failures():
    rows = _rows(seed=[2, 0, 1, 3], test_accuracy=[0.9, 0.8, 0.9, math.nan],
                 val_accuracy=[0.7, 0.8, 0.9, math.nan],
                 fit_cpu_seconds=[1.0, 2.0, 6.0, math.nan],
                 status=["ok", "ok", "ok", "error"])
    [row] = summarize(rows).to_dict("records")
    assert row["family"] == "F" and row["trials"] == 3 and row["failed"] == 1
    assert math.isclose(row["test_accuracy"], 2.6 / 3)
    assert math.isclose(row["test_accuracy_std"], math.sqrt(1 / 300))
    assert row["best_test_accuracy"] == 0.9 and row["best_seed"] == 1  # lowest of a tie
    assert math.isclose(row["val_accuracy"], 0.8)
    assert math.isclose(row["val_accuracy_std"], 0.1)
    assert row["fit_cpu_seconds"] == 3.0


def test_one_seed_has_zero_std_and_no_search_no_validation_accuracy():
    [row] = summarize(_rows(seed=[0], val_accuracy=[math.nan])).to_dict("records")
    assert row["test_accuracy_std"] == 0.0
    assert math.isnan(row["val_accuracy"])


def test_tables_show_a_std_only_where_there_are_two_seeds_or_more():
    one, three = (display_table(summarize(_rows(seed=list(range(n)),
                                                test_accuracy=[0.5, 0.6, 0.7][:n])))
                  for n in (1, 3))
    assert one["test acc %"].tolist() == ["50.00"]  # not "50.00 ± 0.00"
    assert three["test acc %"].tolist() == ["60.00 ± 10.00"]
