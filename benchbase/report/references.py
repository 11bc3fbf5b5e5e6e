"""Published results, kept as data, shown beside ours.

A plugin ships a TOML file (format below, also in docs/plugins.md) and
registers it with ``benchbase_report_references``. Accuracies are percent.

```toml
citation = "Authors, “Title”, venue, year."
note = "optional: what a reader should know about these numbers"

[[tables]]
label = "Table 3.1"
dataset = "usps"                    # benchbase's dataset name
protocols = ["official", "paper"]   # the protocols that reproduce it
description = "optional"
results = [
  { algorithm = "ELM", statistic = "mean", train = 99.78, train_std = 0.03,
    test = 93.70, test_std = 0.32 },
  { algorithm = "ELM", statistic = "best", train = 99.85, test = 94.57 },
  { algorithm = "KELM", statistic = "reported", train = 99.97, test = 95.42 },
]
```

``statistic``: ``mean`` (over repeated runs; ``*_std`` allowed), ``best``
(the best of those runs) or ``reported`` (one number; how many runs it
summarises is not said). How each is compared with ours: ``comparison_table``.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from benchbase.report.document import Block, Notice, Paragraph, Table
from benchbase.report.stats import CONFIDENCE
from benchbase.report.tables import points
from benchbase.specs import ReferenceSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, before it joined the standard library
    import tomli as tomllib

STATISTICS = ("mean", "best", "reported")
SPLITS = ("train", "test")


class ReferenceError(ValueError):
    """A reference file that cannot be used; the message names file and field."""


@dataclasses.dataclass(frozen=True)
class ReferenceResult:
    algorithm: str
    statistic: str
    values: Mapping[str, float]  # split -> percent
    stds: Mapping[str, float]


@dataclasses.dataclass(frozen=True)
class ReferenceTable:
    label: str
    dataset: str
    protocols: tuple[str, ...]
    description: str
    results: tuple[ReferenceResult, ...]


@dataclasses.dataclass(frozen=True)
class ReferenceSet:
    name: str
    source: str
    citation: str
    note: str
    tables: tuple[ReferenceTable, ...]


def _take(record: Mapping[str, Any], where: str, required: Sequence[str],
          optional: Sequence[str] = ()) -> None:
    if not isinstance(record, Mapping):
        raise ReferenceError(f"{where}: expected a table, got {type(record).__name__}")
    unknown = sorted(set(record) - set(required) - set(optional))
    if unknown:
        raise ReferenceError(f"{where}: unknown key(s) {', '.join(unknown)}; expected "
                             f"{', '.join([*required, *optional])}")
    missing = [key for key in required if key not in record]
    if missing:
        raise ReferenceError(f"{where}: missing key(s) {', '.join(missing)}")


def _text(record: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = record.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ReferenceError(f"{where}.{key}: expected non-empty text, got {value!r}")
    return value


def _percent(value: Any, where: str, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not low <= value <= 100:
        raise ReferenceError(f"{where}: expected a number in [{low:g}, 100] (percent), "
                             f"got {value!r}")
    return float(value)


def _result(record: Mapping[str, Any], where: str) -> ReferenceResult:
    _take(record, where, ("algorithm", "statistic"),
          ("train", "test", "train_std", "test_std"))
    statistic = _text(record, "statistic", where)
    if statistic not in STATISTICS:
        raise ReferenceError(f"{where}.statistic: {statistic!r} is not one of "
                             f"{', '.join(STATISTICS)}")
    values = {split: _percent(record[split], f"{where}.{split}")
              for split in SPLITS if split in record}
    if not values:
        raise ReferenceError(f"{where}: give train and/or test")
    stds = {}
    for split in SPLITS:
        key = f"{split}_std"
        if key in record:
            if statistic != "mean" or split not in values:
                raise ReferenceError(f"{where}.{key}: a std belongs to a mean's {split}")
            stds[split] = _percent(record[key], f"{where}.{key}")
    return ReferenceResult(_text(record, "algorithm", where), statistic, values, stds)


def _table(record: Mapping[str, Any], where: str) -> ReferenceTable:
    _take(record, where, ("label", "dataset", "protocols", "results"), ("description",))
    protocols = record["protocols"]
    if not isinstance(protocols, list) or not protocols \
            or not all(isinstance(p, str) and p for p in protocols):
        raise ReferenceError(f"{where}.protocols: expected a list of protocol names")
    results = record["results"]
    if not isinstance(results, list) or not results:
        raise ReferenceError(f"{where}.results: expected a non-empty list")
    return ReferenceTable(
        _text(record, "label", where), _text(record, "dataset", where), tuple(protocols),
        record.get("description", ""),
        tuple(_result(item, f"{where}.results[{index}]")
              for index, item in enumerate(results)))


def load_references(spec: ReferenceSpec) -> ReferenceSet:
    """Parse and check a reference file; ``ReferenceError`` names what is wrong."""
    source = str(spec.path)
    path = spec.path if hasattr(spec.path, "read_text") else Path(spec.path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReferenceError(f"{source}: cannot read ({exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReferenceError(f"{source}: not valid TOML ({exc})") from None
    _take(data, source, ("citation", "tables"), ("note",))
    if not isinstance(data["tables"], list) or not data["tables"]:
        raise ReferenceError(f"{source}: tables: expected a non-empty list")
    return ReferenceSet(
        spec.name, source, _text(data, "citation", source), data.get("note", ""),
        tuple(_table(table, f"{source}: tables[{index}]")
              for index, table in enumerate(data["tables"])))


def load_all(specs: Sequence[ReferenceSpec]) -> tuple[list[ReferenceSet], list[str]]:
    """Every reference file that loads, and one message per file that does not."""
    loaded, problems = [], []
    for spec in specs:
        try:
            loaded.append(load_references(spec))
        except ReferenceError as exc:
            problems.append(f"reference {spec.name!r} not shown: {exc}")
    return loaded, problems


# ---------------------------------------------------------------- the comparison


def _ours(values: pd.Series, statistic: str) -> tuple[str, float, float, float]:
    """Ours as text, the value compared, and the interval the paper's should fall in."""
    n = len(values)
    mean, std = float(values.mean()), float(values.std()) if n > 1 else 0.0
    if statistic == "best":
        return f"{values.max():.2f} (best of {n})", float(values.max()), math.nan, math.nan
    text = f"{mean:.2f} ± {std:.2f}" if n > 1 else f"{mean:.2f}"
    if n < 2:
        return text, mean, math.nan, math.nan
    # A mean is compared with our mean's confidence interval; one reported
    # number may be a single run, so with the interval one run of ours falls in.
    scale = std / math.sqrt(n) if statistic == "mean" else std * math.sqrt(1 + 1 / n)
    if scale == 0:  # every seed the same: no spread to make an interval of
        return f"{text} (the same in every seed)", mean, math.nan, math.nan
    low, high = stats.t.interval(CONFIDENCE, n - 1, loc=mean, scale=scale)
    return text, mean, max(float(low), 0.0), min(float(high), 100.0)  # accuracy bounds


def _std(value: float) -> str:
    """Two decimals, or three where two would print 0.00 (the paper's ± 0.004)."""
    return f"{value:.2f}" if value >= 0.01 or value == 0 else f"{value:.3f}"


def comparison_table(reference: ReferenceTable, ok: pd.DataFrame) -> Table:
    """Paper vs ours for one reference table and one block's ok rows."""
    records = []
    for result in reference.results:
        rows = ok[ok["algorithm"] == result.algorithm]
        for split, value in result.values.items():
            paper = f"{value:.2f}" + (f" ± {_std(result.stds[split])}"
                                      if split in result.stds else "")
            record = {"algorithm": result.algorithm, "paper's statistic": result.statistic,
                      "split": split, "paper %": paper}
            if rows.empty:
                records.append({**record, "ours %": "not run", "ours − paper": "—",
                                "our 95 % interval": "—", "paper inside?": "—"})
                continue
            text, ours, low, high = _ours(100 * rows[f"{split}_accuracy"], result.statistic)
            inside = "—" if np.isnan(low) else ("yes" if low <= value <= high else "no")
            records.append({**record, "ours %": text, "ours − paper": points(ours - value),
                            "our 95 % interval": ("—" if np.isnan(low)
                                                  else f"[{low:.2f}, {high:.2f}]"),
                            "paper inside?": inside})
    frame = pd.DataFrame(records)
    return Table(frame, right=("paper %", "ours %", "ours − paper", "our 95 % interval"))


COMPARISON_NOTE = (
    "How ours is compared with each published number: a mean over runs with the 95 % "
    "t confidence interval of our mean over seeds; a number reported without saying "
    "how many runs it summarises with the 95 % prediction interval of one run of "
    "ours (mean ± t·s·√(1 + 1/n)), since it may be a single run; a best run with our "
    "best seed, without an interval (a maximum over an unknown number of runs). "
    "Intervals are clipped to 0–100 %; where every seed gave the same value there is "
    "no spread to make one, and no interval is drawn. "
    "“Inside” says only whether the published value lies in that interval; it is not "
    "a test of their numbers against ours (their number of runs is not given).")


def section(references: Sequence[ReferenceSet], dataset: str, protocol: str,
            ok: pd.DataFrame) -> list[Block]:
    """Every reference table that reproduces this dataset × protocol."""
    blocks: list[Block] = []
    for reference in references:
        tables = [table for table in reference.tables
                  if table.dataset == dataset and protocol in table.protocols]
        for table in tables:
            description = f" ({table.description})" if table.description else ""
            blocks += [Paragraph(f"{table.label}{description} of {reference.citation}"),
                       comparison_table(table, ok)]
        if tables and reference.note:
            blocks.append(Notice(reference.note))
    if blocks:
        blocks.append(Paragraph(COMPARISON_NOTE))
    return blocks
