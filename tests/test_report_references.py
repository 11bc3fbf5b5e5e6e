"""Published results as data: the shipped paper tables, the file format's
checks, the comparison with ours, and the ``benchbase_report_references`` hook."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import benchbase
from benchbase.plugins import PluginInfo, load_catalog
from benchbase.report import build_report
from benchbase.report.references import (
    ReferenceError,
    comparison_table,
    load_references,
)

SEVEN = ["ELM", "RELM", "KELM", "AE", "SAE", "DAE", "DDAE"]


def _shipped():
    catalog = load_catalog()
    return load_references(catalog.references.get("pan-zhao"))


def _paper_text() -> Path | None:
    """The seed paper's text beside the checkout (../shared/paper), if present."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "paper" / "seed-paper.txt"
        if candidate.is_file():
            return candidate
    return None


_ROW = re.compile(r"^(?:USPS |MNIST )?(?:(ELM|RELM|KELM|AE|SAE|DAE|DDAE) )?"
                  r"(average|best|-) ([\d.]+)(?:\(±([\d.]+)\))? ([\d.]+)(?:\(±([\d.]+)\))?$")


def _printed_tables(text: str) -> dict[str, list[tuple]]:
    """Table label -> (algorithm, statistic, train, train std, test, test std)."""
    tables, current, algorithm = {}, None, None
    for line in text.splitlines():
        heading = re.match(r"^(Table 3\.[12]):", line)
        if heading:
            current = tables.setdefault(heading[1], [])
            continue
        match = _ROW.match(line.strip()) if current is not None else None
        if match:
            algorithm = match[1] or algorithm
            statistic = {"average": "mean", "best": "best", "-": "reported"}[match[2]]
            current.append((algorithm, statistic, *(float(v) if v else None
                                                    for v in match.groups()[2:])))
    return tables


def test_the_shipped_tables_are_the_papers_as_printed():
    path = _paper_text()
    if path is None:
        pytest.skip("the paper's text (shared/paper/seed-paper.txt) is not beside "
                    "this checkout")
    printed = _printed_tables(path.read_text(encoding="utf-8"))
    shipped = {table.label: [(r.algorithm, r.statistic, r.values["train"],
                              r.stds.get("train"), r.values["test"], r.stds.get("test"))
                             for r in table.results]
               for table in _shipped().tables}
    assert shipped == printed


def test_the_shipped_tables_cover_both_protocols_and_all_seven():
    references = _shipped()
    assert "Deep Autoencoder Model Construction Based on Pytorch" in references.citation
    by_label = {table.label: table for table in references.tables}
    assert (by_label["Table 3.1"].dataset, by_label["Table 3.1"].protocols) == \
        ("usps", ("official", "paper"))
    assert (by_label["Table 3.2"].dataset, by_label["Table 3.2"].protocols) == \
        ("mnist", ("paper",))
    for table in references.tables:
        assert sorted({r.algorithm for r in table.results}) == sorted(SEVEN)
        assert {(r.algorithm, r.statistic) for r in table.results
                if r.statistic != "reported"} == {
            (name, s) for name in ("ELM", "RELM") for s in ("mean", "best")}


GOOD = """\
citation = "A. Author, “A paper”"
[[tables]]
label = "Table 1"
dataset = "toy"
protocols = ["official"]
results = [
  { algorithm = "A", statistic = "mean", test = 91.0, test_std = 1.0 },
  { algorithm = "A", statistic = "best", test = 95.0 },
  { algorithm = "B", statistic = "reported", train = 100, test = 80.0 },
  { algorithm = "Z", statistic = "reported", test = 50.0 },
]
"""


def _spec(tmp_path: Path, text: str) -> benchbase.ReferenceSpec:
    path = tmp_path / "refs.toml"
    path.write_text(text, encoding="utf-8")
    return benchbase.ReferenceSpec("toy-refs", path)


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace('label = "Table 1"', 'label = "Table 1"\nlabl = "x"'),
     r"tables\[0\]: unknown key\(s\) labl"),
    (lambda t: t.replace('statistic = "best"', 'statistic = "median"'),
     r"tables\[0\]\.results\[1\]\.statistic: 'median' is not one of mean, best, reported"),
    (lambda t: t.replace("test = 95.0 }", "test = 95.0, test_std = 1.0 }"),
     r"results\[1\]\.test_std: a std belongs to a mean's test"),
    (lambda t: t.replace("test = 80.0", "test = 180.0"),
     r"results\[2\]\.test: expected a number in \[0, 100\] \(percent\), got 180\.0"),
    (lambda t: t.replace('citation = "A. Author, “A paper”"\n', ""),
     r"refs\.toml: missing key\(s\) citation"),
    (lambda t: t.replace('protocols = ["official"]', "protocols = []"),
     r"tables\[0\]\.protocols: expected a list of protocol names"),
    (lambda t: t.replace('{ algorithm = "Z", statistic = "reported", test = 50.0 }',
                         '{ algorithm = "Z", statistic = "reported" }'),
     r"results\[3\]: give train and/or test"),
    (lambda t: t + "[[[", r"refs\.toml: not valid TOML"),
])
def test_a_bad_reference_file_is_refused_naming_file_and_field(tmp_path, change, message):
    with pytest.raises(ReferenceError, match=message) as caught:
        load_references(_spec(tmp_path, change(GOOD)))
    assert str(tmp_path / "refs.toml") in str(caught.value)


def test_a_missing_reference_file_is_refused_by_path(tmp_path):
    with pytest.raises(ReferenceError, match=r"nope\.toml: cannot read"):
        load_references(benchbase.ReferenceSpec("x", tmp_path / "nope.toml"))


def _ok(accuracies: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"algorithm": name, "seed": seed, "test_accuracy": acc / 100,
                          "train_accuracy": 1.0}
                         for name, values in accuracies.items()
                         for seed, acc in enumerate(values)])


def test_paper_against_ours_uses_the_interval_each_statistic_needs(tmp_path):
    [table] = load_references(_spec(tmp_path, GOOD)).tables
    ours = {"A": [90.0, 92.0, 94.0], "B": [79.0, 80.0, 84.0]}
    rows = {(r["algorithm"], r["paper's statistic"], r["split"]): r
            for r in comparison_table(table, _ok(ours)).frame.to_dict("records")}
    n = 3
    # A mean: our mean's 95 % t interval.
    low, high = stats.t.interval(0.95, n - 1, loc=92.0, scale=2.0 / np.sqrt(n))
    mean_row = rows[("A", "mean", "test")]
    assert mean_row["paper %"] == "91.00 ± 1.00" and mean_row["ours %"] == "92.00 ± 2.00"
    assert mean_row["ours − paper"] == "+1.00"
    assert mean_row["our 95 % interval"] == f"[{low:.2f}, {high:.2f}]"
    assert mean_row["paper inside?"] == "yes"
    # One reported number: the 95 % prediction interval of one run of ours.
    std_b = np.std(ours["B"], ddof=1)
    low, high = stats.t.interval(0.95, n - 1, loc=np.mean(ours["B"]),
                                 scale=std_b * np.sqrt(1 + 1 / n))
    reported = rows[("B", "reported", "test")]
    assert reported["our 95 % interval"] == f"[{low:.2f}, {high:.2f}]"
    assert reported["paper inside?"] == ("yes" if low <= 80.0 <= high else "no")
    # Train accuracy 100 in every seed: no spread, so no interval (a zero-width
    # one would call a published 99.99 "outside").
    train = rows[("B", "reported", "train")]
    assert train["ours %"] == "100.00 ± 0.00 (the same in every seed)"
    assert train["our 95 % interval"] == "—" and train["paper inside?"] == "—"
    # A best run: our best seed, no interval.
    best = rows[("A", "best", "test")]
    assert best["ours %"] == "94.00 (best of 3)" and best["paper inside?"] == "—"
    assert rows[("Z", "reported", "test")]["ours %"] == "not run"


def test_intervals_stop_at_the_bounds_of_accuracy(tmp_path):
    [table] = load_references(_spec(tmp_path, GOOD.replace("test = 91.0", "test = 99.5")
                                    )).tables
    rows = comparison_table(table, _ok({"A": [99.0, 100.0, 99.9]})).frame
    interval = rows.loc[(rows["paper's statistic"] == "mean"), "our 95 % interval"].item()
    assert interval.endswith("100.00]")


class _ReferencePlugin:
    def __init__(self, path):
        self.path = path

    @benchbase.hookimpl
    def benchbase_report_references(self):
        return [benchbase.ReferenceSpec("toy-refs", self.path)]


def _toy_rows() -> pd.DataFrame:
    from test_report import _row

    return pd.DataFrame([_row(name, seed) for name in "AB" for seed in range(3)])


def test_benchbase_report_references_puts_a_plugins_table_beside_ours(tmp_path):
    path = tmp_path / "refs.toml"
    path.write_text(GOOD, encoding="utf-8")
    plugin = PluginInfo("toy-refs", "tests", "toy-dist", "1.0")
    catalog = load_catalog(extra=[(plugin, _ReferencePlugin(path))])
    assert catalog.references.plugin_of("toy-refs") == plugin
    build_report(_toy_rows(), tmp_path / "out", ["md"], catalog=catalog)
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "### Published results beside ours" in markdown
    assert "Table 1 of A. Author, “A paper”" in markdown


def test_benchbase_report_references_with_a_broken_file_costs_only_its_table(tmp_path):
    path = tmp_path / "refs.toml"
    path.write_text(GOOD.replace("statistic = \"best\"", "statistic = \"top\""),
                    encoding="utf-8")
    catalog = load_catalog(extra=[(PluginInfo("toy-refs", "tests", "toy-dist", "1.0"),
                                   _ReferencePlugin(path))])
    build_report(_toy_rows(), tmp_path / "out", ["md"], catalog=catalog)
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "reference 'toy-refs' not shown:" in markdown and "'top' is not one of" in markdown
    assert "### Accuracy" in markdown  # the rest of the report is there


def test_the_format_is_documented_where_plugin_authors_look():
    docs = (Path(__file__).resolve().parent.parent / "docs" / "plugins.md").read_text()
    assert "benchbase_report_references" in docs
    assert textwrap.dedent('statistic = "reported"') in docs
