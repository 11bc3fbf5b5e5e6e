"""Headline tables: made from results folders, rewritten in place, and the
project README's own headlines regenerate byte for byte from the committed
results (so nobody types them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_builders import predictions_folder

from benchbase.cli import main
from benchbase.report import read_results
from benchbase.report.headline import headline_markdown, headlines
from benchbase.results.summary import percent_pm

README = Path(__file__).resolve().parent.parent / "README.md"


def _rows(markdown: str) -> dict[str, list[str]]:
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return {row[0]: row[1:] for row in cells[2:]}


def test_the_best_is_bold_only_when_the_paired_tests_put_it_ahead(tmp_path):
    folder = predictions_folder(tmp_path / "results", seeds=5)
    results = read_results([folder])
    rows = _rows(headline_markdown(results))
    assert list(rows) == ["Fair", "Good", "Weak"]  # by family, then name
    ok = results.groupby("algorithm")["test_accuracy"]
    for name, (accuracy, fit) in rows.items():
        expected = percent_pm(ok.mean()[name], ok.std()[name], 5)
        # Good (95 % right) is ahead of Fair (80 %) and Weak (60 %) on 5 seeds × 60 images.
        assert accuracy == (f"**{expected}**" if name == "Good" else expected)
        assert float(fit) == pytest.approx(2.5)  # seeds 0..4 took 0.5..4.5 s


def test_a_tied_group_is_marked_and_nothing_is_bold(tmp_path):
    folder = predictions_folder(tmp_path / "results", seeds=2)
    rows = _rows(headline_markdown(read_results([folder])))
    # Two seeds cannot put anyone ahead across seeds: all three tie.
    assert all(accuracy.endswith(" ≈") and "**" not in accuracy
               for accuracy, _ in rows.values())


def test_report_rewrites_only_the_block_made_from_its_folders(tmp_path, capsys):
    folder = predictions_folder(tmp_path / "results", seeds=3)
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\n<!-- headline toy: results -->\nold\n"
                      "<!-- end headline toy -->\n\n<!-- headline other: elsewhere -->\n"
                      "kept\n<!-- end headline other -->\n")
    beside = tmp_path / "results" / "README.md"  # the folders are relative to the file
    beside.write_text("<!-- headline here: . focus=Weak -->\n<!-- end headline here -->\n")
    assert main(["report", str(folder), "--out", str(tmp_path / "report"),
                 "--format", "md", "--headline", str(readme), "--headline", str(beside)]) == 0
    [toy, other] = headlines(readme)
    assert toy.body == headline_markdown(read_results([folder]))
    assert other.body == "kept\n"
    [here] = headlines(beside)
    assert here.body == headline_markdown(read_results([folder]), focus="Weak")
    out = capsys.readouterr().out
    assert f"{readme} (headline toy)" in out and f"{beside} (headline here)" in out


def test_a_file_without_the_block_is_refused_before_any_report(tmp_path, capsys):
    folder = predictions_folder(tmp_path / "results", seeds=1)
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    code = main(["report", str(folder), "--out", str(tmp_path / "report"),
                 "--headline", str(readme)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == (f"benchbase: error: --headline: {readme} has no headline block for "
                   "results; add the lines '<!-- headline NAME: results -->' and "
                   "'<!-- end headline NAME -->'")
    assert not (tmp_path / "report").exists()
    assert readme.read_text() == "# no markers\n"


def test_the_readme_headlines_regenerate_from_the_committed_results():
    found = headlines(README)
    assert [headline.name for headline in found] == ["paper", "full"]
    for headline in found:
        results = read_results(headline.paths(README))
        assert headline.body == headline_markdown(results, focus=headline.focus), (
            f"README.md's headline {headline.name!r} differs from its results; "
            f"regenerate it: benchbase report {' '.join(headline.folders)} ... "
            "--headline README.md")


def test_a_focus_algorithm_gets_its_every_pair_in_words(tmp_path):
    folder = predictions_folder(tmp_path / "results", seeds=5)
    text = headline_markdown(read_results([folder]), focus="Fair")
    verdicts = text[text.index("Fair on toy (official):"):].splitlines()[2:]
    assert [line.split(":")[0] for line in verdicts] == ["* Good − Fair", "* Fair − Weak"]
    assert all(line.endswith("Good is ahead.") or line.endswith("Fair is ahead.")
               for line in verdicts)


def test_an_unknown_marker_option_is_refused_by_name(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("<!-- headline toy: results colour=red -->\n<!-- end headline toy -->\n")
    with pytest.raises(ValueError, match=r"headline toy: unknown option\(s\) colour"):
        headlines(readme)
