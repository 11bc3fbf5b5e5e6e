"""The report answers first: a summary (the leading group and the focus
algorithm's comparisons, both tests and the equivalence result), contents
with anchors, and the evidence folded in <details>."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from report_builders import predictions_folder

from benchbase.cli import main
from benchbase.report import build_report, read_results
from benchbase.report.pairs import compare_block
from benchbase.report.reading import ArtifactLoader
from benchbase.report.tables import pvalue
from benchbase.results.store import ResultStore
from benchbase.results.summary import percent


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return predictions_folder(tmp_path_factory.mktemp("summary") / "results", seeds=4)


def _summary(markdown: str) -> str:
    return markdown[markdown.index("## Summary"):markdown.index("## Contents")]


def _md(text: str) -> str:
    return text.replace("<", "\\<")  # as the Markdown renderer escapes it


def _rows(section: str) -> list[dict[str, str]]:
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, [cell.strip() for cell in line.strip("|").split("|")],
                     strict=True)) for line in lines[2:]]


def test_the_summary_comes_first_and_compares_the_leader_without_a_focus(folder, tmp_path):
    build_report(read_results([folder]), tmp_path, ["md"])
    markdown = (tmp_path / "report.md").read_text()
    assert markdown.index("## Summary") < markdown.index("## Contents") < markdown.index(
        "## Accuracy against fit time")
    summary = _summary(markdown)
    ok = read_results([folder])
    good = ok.loc[ok["algorithm"] == "Good", "test_accuracy"].mean()
    assert (f"toy (official), 4 seeds × 60 test images: Good leads "
            f"({percent(good)} %)") in summary
    rows = _rows(summary)
    assert [row["Good −"] for row in rows] == ["Fair", "Weak"]
    # Decided pairs are bold, and each cell carries both tests and the posterior.
    for row in rows:
        cell = row["toy (official)"]
        assert cell.startswith("**+") and " ahead<br>t " in cell and " · McNemar " in cell


def test_a_focus_reads_every_pair_from_its_side(folder, tmp_path):
    results = read_results([folder])
    build_report(results, tmp_path, ["md"], focus="weak")  # any case
    rows = {row["Weak −"]: row["toy (official)"] for row in _rows(_summary(
        (tmp_path / "report.md").read_text()))}
    assert set(rows) == {"Good", "Fair"}
    # The same pair from the other side: the difference and its interval
    # negated, P(better) and P(worse) swapped, "behind".
    comparison = compare_block(results, ["Good", "Fair", "Weak"], ArtifactLoader())
    pair = comparison.pair("Good", "Weak")
    seeds, posterior = pair.seed_test, pair.equivalence
    assert rows["Good"] == (
        f"**{-seeds.mean:+.2f} \\[{-seeds.high:+.2f}, {-seeds.low:+.2f}\\] behind<br>"
        f"t {_md(pvalue(pair.t_holm))} · McNemar {_md(pvalue(pair.examples_holm))} · P "
        f"{posterior.worse:.3f}/{posterior.equivalent:.3f}/{posterior.better:.3f}**")


def test_a_focus_with_no_trial_is_refused_naming_it(folder, tmp_path, capsys):
    with pytest.raises(ValueError, match="focus 'KELM': no trial of it"):
        build_report(read_results([folder]), tmp_path, ["md"], focus="KELM")
    assert main(["report", str(folder), "--out", str(tmp_path / "r"),
                 "--focus", "KELM"]) == 2
    assert "focus 'KELM'" in capsys.readouterr().err


def test_the_suites_recorded_focus_and_rope_apply_unless_given(folder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    ResultStore(copy).start_run({"run_id": "run-1", "started_at": "2026-01-01T10:00:00",
                                 "command": "benchbase run mine.toml",
                                 "suite": {"name": "mine", "focus": "Fair", "rope": 0.5}})
    build_report(read_results([copy]), tmp_path / "a", ["md"])
    summary = _summary((tmp_path / "a" / "report.md").read_text())
    assert "| Fair − |" in summary and "within ±0.5 points" in summary
    build_report(read_results([copy]), tmp_path / "b", ["md"], focus="Good", rope=1.0)
    summary = _summary((tmp_path / "b" / "report.md").read_text())
    assert "| Good − |" in summary and "within ±1 points" in summary


def test_contents_link_to_every_section_and_the_evidence_is_folded(folder, tmp_path):
    [page, markdown_page, *_] = build_report(read_results([folder]), tmp_path)
    html = page.read_text()
    ids = set(re.findall(r'<h\d id="([^"]+)"', html))
    nav = html[html.index("<nav>"):html.index("</nav>")]
    links = re.findall(r'href="#([^"]+)"', nav)
    assert links and set(links) <= ids
    assert "toy-official-protocol" in links and "provenance" in links
    # Per-seed figures, every test of every pair, grids, parameters and
    # provenance are inside <details>; the accuracy table is not.
    folded = "".join(re.findall(r"<details>.*?</details>", html, flags=re.S))
    for evidence in ("Test accuracy per seed", "Across seeds:", "McNemar p per seed",
                     "Parameters chosen on validation", "Machines and software"):
        assert evidence in folded, evidence
    accuracy = html.index('<h3 id="accuracy">')
    assert not any(start < accuracy < end for start, end in (
        (m.start(), m.end()) for m in re.finditer(r"<details>.*?</details>", html,
                                                  flags=re.S)))
    # The Markdown folds the same way, readable on GitHub (a blank line after
    # the summary line) and with the same anchors.
    markdown = markdown_page.read_text()
    assert "<details><summary>Parameters chosen on validation</summary>\n\n" in markdown
    assert "* [toy, official protocol](#toy-official-protocol)" in markdown


def test_a_lead_found_on_one_common_seed_is_said_to_be_about_these_models(tmp_path):
    from report_builders import ALGORITHMS, arrays, row

    store = ResultStore(tmp_path / "one")
    for algorithm in ALGORITHMS:
        found = arrays(algorithm, 0)
        accuracy = float((found["y_pred"] == found["y_test"]).mean())
        store.append(row(algorithm, 0, test_accuracy=accuracy), found)
    build_report(read_results([tmp_path / "one"]), tmp_path, ["md"])
    summary = _summary((tmp_path / "report.md").read_text())
    assert ("ahead of every other algorithm by every test (one seed in common with Fair, "
            "Weak: these trained models, not the algorithms).") in summary


def test_drawn_test_subsets_are_said_to_overlap_by_about_m_squared_over_n(folder):
    # Each seed's test labels differ (drawn subsets): the method names the overlap.
    from report_builders import arrays

    from benchbase.report import pairs

    class Drawn:
        def load(self, row):
            found = arrays(row["algorithm"], int(row["seed"]))
            shift = int(row["seed"])
            return {"y_test": np.roll(found["y_test"], shift),
                    "y_pred": np.roll(found["y_pred"], shift)}

        def explain(self, rows):
            return ""

    ok = read_results([folder]).assign(subset_hash=lambda rows: rows["seed"].astype(str))
    comparison = pairs.compare_block(ok, ["Good", "Fair"], Drawn(), intervals=False)
    [text] = [block.text for block in pairs.section(comparison, "toy", "toy", "paper")[:1]]
    assert "two draws of m from a pool of N share about m²/N images" in text
    assert "a few" not in text
