"""``benchbase site``: many results folders as one static, offline website."""

from __future__ import annotations

import re
import shutil

import pytest
from site_builders import two_runs

from benchbase.cli import main
from benchbase.report.site import build_site

LINK = re.compile(r'(?:href|src)="([^"]+)"')


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    first, second = two_runs(root)
    pages = build_site([first, second], root / "site")
    return root / "site", pages, (first, second)


def test_the_index_lists_every_run_with_suite_date_commit_and_machine(site):
    out, pages, _ = site
    assert pages[0] == out / "index.html"
    index = pages[0].read_text()
    assert "2026-01-01 10:00" in index and "2026-02-01 09:00" in index
    assert "quick" in index  # the suite, read from run-2's command line
    assert "f00df00df0" in index and "abc" in index  # the two commits
    assert "Later CPU, 4/4 cores, other" in index and "Toy CPU, 2/2 cores, box" in index
    assert "These runs come from 2 machines" in index
    # Each run's row links to its folder's report; run-1's suite is unknown
    # (its folder has no runs.jsonl, as folders of older benchbase).
    assert index.count('<a href="reports/') == 2
    assert "<td>—</td>" in index


def test_each_series_has_a_history_of_both_runs_oldest_first(site):
    out, _, _ = site
    history = sorted((out / "history").glob("*.html"))
    assert [page.name for page in history] == [
        "fair-toy-official.html", "good-toy-official.html", "weak-toy-official.html"]
    page = (out / "history" / "good-toy-official.html").read_text()
    assert "2 run(s) measured it" in page and "<svg" in page
    # run-1 before run-2; Good's accuracy drops by one image of 60 (1.67 points).
    first, second = (page.index("2026-01-01 10:00"), page.index("2026-02-01 09:00"))
    assert first < second
    assert "1.5" in page and "3.0" in page  # mean fit seconds: 1.5 then 3.0


def test_every_link_resolves_inside_the_site_and_nothing_is_fetched(site):
    _, pages, _ = site
    html_pages = [page for page in pages if page.suffix == ".html"]
    assert len(html_pages) == 1 + 2 + 3  # index, two reports, three histories
    for page in html_pages:
        text = page.read_text()
        for target in LINK.findall(text):
            assert not re.match(r"[a-z]+://|//", target), (page, target)  # offline
            if target.startswith(("data:", "#")):
                continue
            assert (page.parent / target).resolve().is_file(), (page, target)
        assert "<script src" not in text and "@import" not in text


def test_the_same_folders_give_the_same_site(site, tmp_path):
    out, _, folders = site
    again = build_site(folders, tmp_path / "again")
    for page in again:
        assert page.read_bytes() == (out / page.relative_to(tmp_path / "again")).read_bytes()


def test_a_folder_given_twice_or_missing_is_refused_before_writing(site, tmp_path):
    _, _, (first, _) = site
    with pytest.raises(ValueError, match="given twice"):
        build_site([first, first], tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        build_site([first, tmp_path / "nowhere"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_command_writes_the_site_and_refuses_a_missing_folder(site, tmp_path, capsys):
    _, _, (first, second) = site
    copy = tmp_path / "copy"
    shutil.copytree(first, copy)
    assert main(["site", str(copy), str(second), "--out", str(tmp_path / "s")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "s" / "index.html")
    assert main(["site", str(tmp_path / "nowhere"), "--out", str(tmp_path / "t")]) == 2
    assert "nowhere" in capsys.readouterr().err

