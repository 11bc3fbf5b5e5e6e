"""Two runs of the same trials side by side: ``benchbase compare BEFORE AFTER``.

Trials match on their identity: algorithm, dataset, protocol, seed and the
parameters the user fixed (the final parameters minus the searched ones).
Not on ``trial_key``, which also hashes the plugin's version and search
space: before and after a change to a plugin those differ, and the point is
to compare them (a changed search space is reported beside the numbers).
Only trials that finished ok in both folders count; a seed whose subset
differs between the two is left out.

Per algorithm × dataset × protocol × fixed parameters: test accuracy before
and after with the paired difference (t interval, t-test, exact sign-flip
test; pooled McNemar when both kept predictions), and fit time as the ratio
after / before (the geometric mean of the per-seed ratios, with a t interval
on their logarithms). p-values are Holm-adjusted across the groups.

A regression is a change beyond a threshold, on the point estimate, like
pytest-benchmark's ``--benchmark-compare-fail``: ``accuracy:0.5`` fails when
a group's mean test accuracy drops by more than 0.5 points, ``time:20%``
when its fit time grows by more than 20 %. Set a threshold above the noise
the table shows, or the check will flap.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re

import numpy as np
import pandas as pd

from benchbase.report.document import Table
from benchbase.report.pairs import pooling_of
from benchbase.report.reading import ArtifactLoader, read_folder
from benchbase.report.render import render_markdown
from benchbase.report.stats import compare_examples, compare_seeds, holm
from benchbase.report.tables import fixed_params, interval, points, pvalue
from benchbase.results.artifacts import ArtifactError
from benchbase.results.record import Status

IDENTITY = ["algorithm", "dataset", "protocol", "seed", "fixed"]
GROUP = ["algorithm", "dataset", "protocol", "fixed"]
_THRESHOLD_RE = re.compile(r"^(accuracy):(\d+(?:\.\d+)?)$|^(time):(\d+(?:\.\d+)?)%$")


@dataclasses.dataclass(frozen=True)
class Threshold:
    metric: str  # "accuracy" (points) or "time" (percent)
    limit: float

    @classmethod
    def parse(cls, text: str) -> Threshold:
        match = _THRESHOLD_RE.match(text.strip())
        if not match:
            raise ValueError(f"--fail-on {text!r}: expected accuracy:POINTS (e.g. "
                             "accuracy:0.5) or time:PERCENT% (e.g. time:20%)")
        metric = match[1] or match[3]
        return cls(metric, float(match[2] or match[4]))

    def __str__(self) -> str:
        return (f"accuracy drop > {self.limit:g} points" if self.metric == "accuracy"
                else f"fit time growth > {self.limit:g} %")


def _identified(folder: str | os.PathLike[str]) -> pd.DataFrame:
    rows = read_folder(folder)
    rows = rows[rows["status"] == Status.OK].copy()
    rows["fixed"] = [json.dumps(fixed_params(p, s), sort_keys=True)
                     for p, s in zip(rows["params"], rows["search_space"], strict=True)]
    repeated = rows[rows.duplicated(IDENTITY, keep=False)]
    if not repeated.empty:
        first = repeated.iloc[0]
        raise ValueError(
            f"{folder}: {first['algorithm']} on {first['dataset']} ({first['protocol']}, "
            f"seed {first['seed']}) finished more than once (e.g. with two plugin "
            "versions or search spaces); compare folders holding one run of each trial")
    return rows


def _log_ratio_test(before: np.ndarray, after: np.ndarray) -> tuple[float, float, float,
                                                                      float]:
    """Geometric mean ratio after / before, its t interval and t-test p."""
    result = compare_seeds(np.log(after) - np.log(before))
    return (math.exp(result.mean), math.exp(result.low), math.exp(result.high),
            result.t_pvalue)


def _machine(row: pd.Series, side: str) -> dict[str, str]:
    """What sets a trial's speed besides the code: host, CPU, cores, BLAS."""
    try:
        environment = json.loads(row.get(f"environment_{side}") or "{}")
    except json.JSONDecodeError:
        environment = {}
    cores = (f"{environment['usable_cores']} of {environment['cpu_count']}"
             if environment.get("usable_cores") else "")
    blas = ", ".join(sorted({
        " ".join(filter(None, (lib.get("api"), lib.get("version"), lib.get("architecture"))))
        for lib in environment.get("blas", []) if lib.get("api") != "openmp"}))
    return {"host": row.get(f"host_{side}") or environment.get("host") or "",
            "CPU": environment.get("cpu") or "", "cores": cores, "BLAS": blas}


def machine_differences(matched: pd.DataFrame) -> list[str]:
    """``"CPU: A before, B after"`` for each of host, CPU, cores and BLAS that
    the matched trials' two sides recorded differently."""
    sides = {side: [_machine(row, side) for _, row in matched.iterrows()]
             for side in ("before", "after")}
    found = []
    for field in ("host", "CPU", "cores", "BLAS"):
        values = {side: sorted({machine[field] for machine in machines} - {""})
                  for side, machines in sides.items()}
        if values["before"] and values["after"] and values["before"] != values["after"]:
            found.append(f"{field}: {' / '.join(values['before'])} before, "
                         f"{' / '.join(values['after'])} after")
    return found


def compare_folders(before: str | os.PathLike[str], after: str | os.PathLike[str]
                    ) -> tuple[pd.DataFrame, list[str]]:
    """One row per group of matched trials, and notes (unmatched trials,
    different subsets, different machines)."""
    old, new = _identified(before), _identified(after)
    matched = old.merge(new, on=IDENTITY, suffixes=("_before", "_after"))
    notes = []
    only_before, only_after = len(old) - len(matched), len(new) - len(matched)
    if only_before or only_after:
        notes.append(f"{only_before} trial(s) only in {before} and {only_after} only in "
                     f"{after} are not compared.")
    differ = (matched["subset_hash_before"] != matched["subset_hash_after"]) \
        & (matched["subset_hash_before"] != "") & (matched["subset_hash_after"] != "")
    if differ.any():
        notes.append(f"{int(differ.sum())} matched trial(s) used different data subsets "
                     "and are left out.")
        matched = matched[~differ]
    if matched.empty:
        raise ValueError(f"no trial of {after} matches one of {before} (same algorithm, "
                         "dataset, protocol, seed and fixed parameters, finished ok)")
    differences = machine_differences(matched)
    if differences:
        notes.append(f"The runs come from different machines ({'; '.join(differences)}): "
                     "the time ratios compare machines as much as code.")
    loader = ArtifactLoader()
    records = []
    for key, rows in matched.groupby(GROUP, sort=True):
        rows = rows.sort_values("seed")
        accuracy = compare_seeds(100 * (rows["test_accuracy_after"].to_numpy()
                                        - rows["test_accuracy_before"].to_numpy()))
        ratio, ratio_low, ratio_high, ratio_p = _log_ratio_test(
            rows["fit_seconds_before"].to_numpy(float), rows["fit_seconds_after"].to_numpy(float))
        records.append({
            **dict(zip(GROUP, key, strict=True)), "seeds": len(rows),
            "accuracy_before": 100 * rows["test_accuracy_before"].mean(),
            "accuracy_after": 100 * rows["test_accuracy_after"].mean(),
            "delta": accuracy.mean, "delta_low": accuracy.low, "delta_high": accuracy.high,
            "delta_p": accuracy.t_pvalue, "sign_flip_p": accuracy.sign_flip_pvalue,
            "mcnemar_p": _mcnemar(rows, before, after, loader),
            "fit_before": rows["fit_seconds_before"].mean(),
            "fit_after": rows["fit_seconds_after"].mean(),
            "ratio": ratio, "ratio_low": ratio_low, "ratio_high": ratio_high,
            "ratio_p": ratio_p,
            "grid_changed": bool((rows["search_space_before"]
                                  != rows["search_space_after"]).any()),
            "plugin": _change(rows["plugin_before"], rows["plugin_after"]),
        })
    table = pd.DataFrame(records)
    for column in ("delta_p", "mcnemar_p", "ratio_p"):
        table[f"{column}_holm"] = holm(table[column])
    return table, notes


def _change(before: pd.Series, after: pd.Series) -> str:
    old, new = ", ".join(sorted(set(before))), ", ".join(sorted(set(after)))
    return old if old == new else f"{old} → {new}"


def _side(rows: pd.DataFrame, side: str, folder) -> list[dict]:
    """One side's rows of matched trials, under their own column names (and
    the identity they share), with their folder as ``source``."""
    suffix = f"_{side}"
    return [{**{name.removesuffix(suffix): value for name, value in row.items()
                if not name.endswith(("_before", "_after")) or name.endswith(suffix)},
             "source": str(folder)}
            for row in rows.to_dict("records")]


def _mcnemar(rows: pd.DataFrame, before, after, loader: ArtifactLoader) -> float:
    """Pooled exact McNemar of after vs before, or NaN without both artifacts."""
    try:
        old = [loader.load(row) for row in _side(rows, "before", before)]
        new = [loader.load(row) for row in _side(rows, "after", after)]
    except ArtifactError:
        return math.nan
    if any(not np.array_equal(x["y_test"], y["y_test"]) for x, y in zip(old, new,
                                                                          strict=True)):
        return math.nan
    pooling = pooling_of([{"subset_hash": h} for h in rows["subset_hash_after"]],
                       [x["y_test"] for x in new])
    return compare_examples([y["y_pred"] == y["y_test"] for y in new],
                            [x["y_pred"] == x["y_test"] for x in old], pooling).pvalue


def regressions(table: pd.DataFrame, thresholds: list[Threshold]) -> list[str]:
    """One line per group and threshold exceeded."""
    found = []
    for row in table.to_dict("records"):
        name = f"{row['algorithm']} on {row['dataset']} ({row['protocol']})"
        for threshold in thresholds:
            if threshold.metric == "accuracy" and -row["delta"] > threshold.limit:
                found.append(f"{name}: test accuracy {points(row['delta'])} points "
                             f"({threshold})")
            if threshold.metric == "time" and \
                    row["fit_after"] > row["fit_before"] * (1 + threshold.limit / 100):
                growth = 100 * (row["fit_after"] / row["fit_before"] - 1)
                found.append(f"{name}: fit time {growth:+.1f} % ({threshold})")
    return found


def markdown(table: pd.DataFrame, notes: list[str], before: str, after: str) -> str:
    frame = pd.DataFrame({
        "algorithm": table["algorithm"],
        "dataset (protocol)": table["dataset"] + " (" + table["protocol"] + ")",
        "fixed": table["fixed"].map(lambda text: "—" if text == "{}" else text),
        "seeds": table["seeds"].map(str),
        "test % before": table["accuracy_before"].map("{:.2f}".format),
        "test % after": table["accuracy_after"].map("{:.2f}".format),
        "Δ points [95 % CI]": [f"{points(d)} {interval(lo, hi)}" for d, lo, hi in
                               zip(table["delta"], table["delta_low"], table["delta_high"],
                                   strict=True)],
        "accuracy p (t; Holm)": [f"{pvalue(p)}; {pvalue(h)}" for p, h in
                                 zip(table["delta_p"], table["delta_p_holm"], strict=True)],
        "McNemar p (Holm)": table["mcnemar_p_holm"].map(pvalue),
        "fit s before": table["fit_before"].map("{:.3g}".format),
        "fit s after": table["fit_after"].map("{:.3g}".format),
        "time ratio [95 % CI]": [
            f"×{r:.3g}" + ("" if math.isnan(lo) else f" [{lo:.3g}, {hi:.3g}]")
            for r, lo, hi in zip(table["ratio"], table["ratio_low"], table["ratio_high"],
                                 strict=True)],
        "time p (t; Holm)": [f"{pvalue(p)}; {pvalue(h)}" for p, h in
                         zip(table["ratio_p"], table["ratio_p_holm"], strict=True)],
        "plugin": table["plugin"] + np.where(table["grid_changed"], "; grid changed", ""),
    })
    header = (f"Before: {before}. After: {after}. Δ = after − before, paired by seed; "
              "time ratio = geometric mean of after / before fit seconds. p: paired "
              "t-test across seeds (accuracy; log time), pooled exact McNemar across "
              "test examples, Holm-adjusted across the rows.")
    numeric = tuple(name for name in frame.columns
                    if name not in ("algorithm", "dataset (protocol)", "fixed", "plugin"))
    table_text = render_markdown([Table(frame, right=numeric)]).strip()
    return "\n\n".join([header, table_text, *notes]) + "\n"
