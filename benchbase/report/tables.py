"""Formatting helpers and the per-block tables: accuracy, runtime, parameters, failures."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import pandas as pd

from benchbase.report.document import Table
from benchbase.report.figures import in_order
from benchbase.results.summary import accuracy_cells, percent, percent_pm

# ---------------------------------------------------------------- formatting


def dash_if_missing(value: float, fmt: Callable[[float], str]) -> str:
    return "—" if pd.isna(value) else fmt(value)


def integer(value: float) -> str:
    return dash_if_missing(value, lambda n: str(int(n)))


def count(value: float) -> str:
    return dash_if_missing(value, lambda n: f"{int(n):,}")


def seconds(value: float) -> str:
    """Three decimals below 10 s, one below 1000 s, none above."""
    return dash_if_missing(
        value, lambda v: f"{v:.{3 if v < 10 else 1 if v < 1000 else 0}f}")


def minute(started_at: object) -> str:
    """An ISO 8601 time stamp (UTC, as the store writes them) to the minute."""
    return str(started_at)[:16].replace("T", " ")


def points(value: float) -> str:
    """A difference in percentage points, signed; 0.00 never carries a sign."""
    return dash_if_missing(value, lambda v: "0.00" if round(v, 2) == 0 else f"{v:+.2f}")


def interval(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return "—"
    return f"[{points(low)}, {points(high)}]"


def pvalue(value: float) -> str:
    """Three significant digits (so 0.0496 never reads as 0.05); < 0.001 below."""
    return dash_if_missing(value, lambda p: "< 0.001" if p < 0.001 else f"{p:.3g}")


def p_is(value: float) -> str:
    """"p = 0.0183" or "p < 0.001", for sentences."""
    text = pvalue(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def distinct(values: pd.Series, fmt: Callable[[object], str] = str) -> str:
    """The distinct values present, in their natural order, formatted."""
    present = sorted({value for value in values if value != "" and not pd.isna(value)})
    return ", ".join(map(fmt, present)) or "—"


def describe(mapping: dict, join: str) -> str:
    return "; ".join(f"{key}{join}{value}" for key, value in mapping.items()) or "—"


# ---------------------------------------------------------------- tables


def accuracy_table(summary: pd.DataFrame, standing: dict[str, str]) -> Table:
    """One row per algorithm in ``summary``'s order; ``standing`` (best, highest
    mean, not separated from it) comes from the paired tests; only "best" is bold."""
    frame = pd.DataFrame({
        "algorithm": summary["algorithm"],
        "family": summary["family"],
        "seeds": summary["trials"].map(integer),
        "failed": summary["failed"].map(integer),
        "train %": accuracy_cells(summary, "train_accuracy"),
        "test %": accuracy_cells(summary, "test_accuracy"),
        "standing": summary["algorithm"].map(lambda name: standing.get(name, "")),
        "best test % (seed)": [f"{percent(acc)} ({seed})" for acc, seed in
                               zip(summary["best_test_accuracy"], summary["best_seed"],
                                   strict=True)],
        "validation %": [dash_if_missing(mean, lambda m, s=std, n=n: percent_pm(m, s, n))
                         for mean, std, n in zip(summary["val_accuracy"],
                                                 summary["val_accuracy_std"],
                                                 summary["trials"], strict=True)],
    })
    strong = {(row, "test %") for row, name in enumerate(summary["algorithm"])
              if standing.get(name) == "best"}
    return Table(frame, strong, right=("seeds", "failed", "train %", "test %",
                                       "best test % (seed)", "validation %"))


def runtime_table(summary: pd.DataFrame) -> Table:
    frame = pd.DataFrame({
        "algorithm": summary["algorithm"],
        "fit s": summary["fit_seconds"].map(seconds),
        "fit CPU s": summary["fit_cpu_seconds"].map(seconds),
        "predict s": summary["predict_seconds"].map(seconds),
        "select s": summary["select_seconds"].map(seconds),
        "peak RSS MiB": summary["peak_rss_mb"].map(
            lambda v: dash_if_missing(v, "{:.0f}".format)),
    })
    return Table(frame, right=tuple(frame.columns[1:]))


def searched_params(params: str, search_space: str) -> dict:
    """The final parameters restricted to the keys that were searched."""
    chosen = json.loads(params) if params else {}
    searched = json.loads(search_space) if search_space else {}
    return {key: chosen.get(key) for key in sorted(searched)}


def fixed_params(params: str, search_space: str) -> dict:
    """The final parameters that were not searched: the ones the user fixed."""
    chosen = json.loads(params) if params else {}
    searched = json.loads(search_space) if search_space else {}
    return {key: value for key, value in sorted(chosen.items()) if key not in searched}


def _grid(search_space: str) -> str:
    """``C ∈ {1, 10}; n_hidden ∈ {500}`` from the search_space JSON."""
    grid = json.loads(search_space) if search_space else {}
    return describe({key: "{" + ", ".join(map(str, values)) + "}"
                     for key, values in sorted(grid.items())}, " ∈ ")


def parameters_table(ok: pd.DataFrame, order: Sequence[str]) -> Table:
    """Per algorithm and seed: the searched parameters' chosen values."""
    rows = in_order(ok, order)
    frame = pd.DataFrame({
        "algorithm": rows["algorithm"],
        "seed": rows["seed"].map(integer),
        "chosen on validation": [
            describe(searched_params(p, s), "=")
            for p, s in zip(rows["params"], rows["search_space"], strict=True)],
        "validation %": rows["val_accuracy"].map(lambda v: dash_if_missing(v, percent)),
        "test %": rows["test_accuracy"].map(percent),
    })
    return Table(frame.reset_index(drop=True), right=("seed", "validation %", "test %"))


def search_space_table(ok: pd.DataFrame, order: Sequence[str]) -> Table:
    """Each algorithm's distinct grids (they may depend on the data's size)."""
    rows = in_order(ok, order).drop_duplicates(["algorithm", "search_space"])
    frame = pd.DataFrame({
        "algorithm": rows["algorithm"],
        "searched grid": rows["search_space"].map(_grid),
        "candidates": rows["n_candidates"].map(integer),
    })
    return Table(frame.reset_index(drop=True), right=("candidates",))


def failed_table(failed: pd.DataFrame) -> Table:
    rows = failed.sort_values(["algorithm", "seed"], kind="stable")
    frame = pd.DataFrame({
        "algorithm": rows["algorithm"],
        "seed": rows["seed"].map(integer),
        "status": rows["status"],
        "error": rows["error"].map(lambda text: " ".join(str(text).split()) or "—"),
    })
    return Table(frame.reset_index(drop=True), right=("seed",))
