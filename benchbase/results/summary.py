"""Aggregate result rows: mean ± std over seeds, and the best seed."""

from __future__ import annotations

import pandas as pd

from benchbase.results.record import Status

GROUP = ["algorithm", "dataset", "protocol"]


def name_variants(frame: pd.DataFrame) -> pd.DataFrame:
    """A suite's swept variants as algorithms of their own: ``DDAE[keep_prob=0.5]``
    (every table, figure and test then compares them like algorithms)."""
    variant = frame["variant"].fillna("").astype(str)
    named = frame["algorithm"].where(variant == "", frame["algorithm"] + "[" + variant + "]")
    return frame.assign(algorithm=named)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """One row per algorithm × dataset × protocol over the ``ok`` trials.

    Accuracies are fractions; ``*_std`` is the sample standard deviation over
    seeds (0 for a single seed); ``best_test_accuracy`` is the best seed's and
    ``best_seed`` that seed (the lowest of tied ones). ``val_accuracy`` is NaN
    where nothing was searched; times are means, ``peak_rss_mb`` the maximum.
    """
    ok = results[results["status"] == Status.OK]
    if ok.empty:
        return pd.DataFrame(columns=[*GROUP, "trials"])
    grouped = ok.groupby(GROUP, sort=False)
    summary = grouped.agg(
        family=("family", "first"),
        trials=("seed", "size"),
        train_accuracy=("train_accuracy", "mean"),
        train_accuracy_std=("train_accuracy", "std"),
        test_accuracy=("test_accuracy", "mean"),
        test_accuracy_std=("test_accuracy", "std"),
        best_test_accuracy=("test_accuracy", "max"),
        val_accuracy=("val_accuracy", "mean"),
        val_accuracy_std=("val_accuracy", "std"),
        fit_seconds=("fit_seconds", "mean"),
        fit_cpu_seconds=("fit_cpu_seconds", "mean"),
        predict_seconds=("predict_seconds", "mean"),
        select_seconds=("select_seconds", "mean"),
        peak_rss_mb=("peak_rss_mb", "max"),
    ).reset_index()
    std_columns = ["train_accuracy_std", "test_accuracy_std", "val_accuracy_std"]
    summary[std_columns] = summary[std_columns].fillna(0.0)
    summary = summary.merge(_best_seeds(ok), on=GROUP, how="left")
    failed = results[results["status"] != Status.OK].groupby(GROUP, sort=False).size()
    summary["failed"] = [int(failed.get(tuple(key), 0))
                         for key in summary[GROUP].itertuples(index=False)]
    return summary


def _best_seeds(ok: pd.DataFrame) -> pd.DataFrame:
    """GROUP + ``best_seed``: the seed with the highest test accuracy."""
    by_seed = ok.sort_values("seed", kind="stable")  # idxmax keeps the first of ties
    best = by_seed.loc[by_seed.groupby(GROUP, sort=False)["test_accuracy"].idxmax()]
    return best[[*GROUP, "seed"]].rename(columns={"seed": "best_seed"})


def percent(fraction: float) -> str:
    return f"{100 * fraction:.2f}"


def percent_pm(mean: float, std: float, seeds: int) -> str:
    """``mean ± std`` in percent, as every table shows accuracies; the mean
    alone for one seed, whose standard deviation is not a measurement."""
    return f"{percent(mean)} ± {percent(std)}" if seeds > 1 else percent(mean)


def accuracy_cells(summary: pd.DataFrame, column: str) -> list[str]:
    """``percent_pm`` of the summary's ``column`` and ``column_std``, a cell per row."""
    return [percent_pm(mean, std, seeds) for mean, std, seeds in
            zip(summary[column], summary[f"{column}_std"], summary["trials"], strict=True)]


def display_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with human-readable columns (percentages, seconds)."""
    if summary.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        "algorithm": summary["algorithm"],
        "dataset": summary["dataset"],
        "protocol": summary["protocol"],
        "seeds": summary["trials"],
        "train acc %": accuracy_cells(summary, "train_accuracy"),
        "test acc %": accuracy_cells(summary, "test_accuracy"),
        "best test %": summary["best_test_accuracy"].map(percent),
        "fit s": summary["fit_seconds"].map("{:.3f}".format),
        "predict s": summary["predict_seconds"].map("{:.3f}".format),
        "select s": summary["select_seconds"].map("{:.2f}".format),
        "failed": summary["failed"],
    })
