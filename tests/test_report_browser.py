"""report.html as a reader sees it: opened in headless Chromium, every figure
laid out with a size, every embedded image decoded, no console error."""

from __future__ import annotations

from pathlib import Path

import chromium
import pytest
from report_builders import predictions_folder
from site_builders import two_runs

from benchbase.report import build_report, read_results
from benchbase.report.document import make_slug
from benchbase.report.site import build_site

# Runs in the page: each figure's box and drawing, each figure re-read as a
# standalone SVG image, and each raster inside a figure decoded.
CHECK = """
(async () => {
  const decode = async (src) => {
    const image = new Image();
    image.src = src;
    try { await image.decode(); return [image.naturalWidth, image.naturalHeight, ""]; }
    catch (error) { return [0, 0, String(error)]; }
  };
  const figures = [];
  for (const svg of document.querySelectorAll("figure > svg")) {
    const box = svg.getBoundingClientRect(), drawn = svg.getBBox();
    const text = new XMLSerializer().serializeToString(svg);
    const source = "data:image/svg+xml;base64," + btoa(unescape(encodeURIComponent(text)));
    figures.push({box: [box.width, box.height], drawn: [drawn.width, drawn.height],
                  decoded: await decode(source)});
  }
  const rasters = [];
  for (const image of document.querySelectorAll("svg image")) {
    rasters.push(await decode(image.getAttribute("href") ||
                              image.getAttribute("xlink:href")));
  }
  return {figures, rasters};
})()
"""


@pytest.fixture(scope="module")
def browser():
    executable = chromium.find()
    if executable is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install "
                    "chromium; or set BENCHBASE_CHROMIUM); .ci/run installs it")
    with chromium.Browser(executable) as opened:
        yield opened


def test_every_image_in_report_html_decodes_and_the_console_is_clean(browser, tmp_path):
    folder = predictions_folder(tmp_path / "results")
    [page] = build_report(read_results([folder]), tmp_path / "report", ["html"])
    html = page.read_text()
    session = browser.open(page)
    found = browser.evaluate(session, CHECK)
    assert len(found["figures"]) == html.count("<figure>") >= 10
    for figure in found["figures"]:
        width, height, error = figure["decoded"]
        assert error == "" and width > 0 and height > 0, figure
        assert min(figure["box"]) > 0 and min(figure["drawn"]) > 0, figure
    # The filters and the reconstructions are raster images inside their SVGs.
    assert len(found["rasters"]) == html.count("<image ") >= 2
    for width, height, error in found["rasters"]:
        assert error == "" and width > 0 and height > 0
    assert browser.errors(session) == []


def summary_bottom(browser, session) -> float:
    """Where the report's summary ends, in px from the top, at 1400 × 900."""
    browser.call("Emulation.setDeviceMetricsOverride", session, width=1400, height=900,
                 deviceScaleFactor=1, mobile=False)
    return browser.evaluate(session, "document.getElementById('contents')"
                                     ".previousElementSibling.getBoundingClientRect().bottom")


def test_the_summary_fits_one_screen_and_the_details_open(browser, tmp_path):
    folder = predictions_folder(tmp_path / "results")
    [page] = build_report(read_results([folder]), tmp_path / "report", ["html"])
    session = browser.open(page)
    assert 0 < summary_bottom(browser, session) <= 900
    # Folded evidence takes no room until opened, then shows its figure.
    sizes = browser.evaluate(session, """(() => {
      const details = document.querySelector("details");
      const closed = details.getBoundingClientRect().height;
      details.open = true;
      return [closed, details.getBoundingClientRect().height];
    })()""")
    assert sizes[0] < 40 < sizes[1]
    assert browser.errors(session) == []


def test_the_check_sees_a_broken_image_and_a_console_error(browser, tmp_path):
    # The same check on a page that is broken on purpose: it must fail loudly.
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><figure><svg xmlns="http://www.w3.org/'
                    '2000/svg" width="10" height="10"><image href="data:image/png;base64,'
                    'AAAA" width="10" height="10"/></svg></figure>'
                    '<script>console.error("boom")</script></body></html>')
    session = browser.open(page)
    found = browser.evaluate(session, CHECK)
    [(width, height, error)] = found["rasters"]
    assert error != "" and (width, height) == (0, 0)
    assert "boom" in browser.errors(session)


# Every link of the page, the resources it loaded, and a sort by a column.
SITE_CHECK = """
(() => {
  const links = Array.from(document.querySelectorAll("a[href]"), (a) => a.href);
  const loaded = performance.getEntriesByType("resource").map((entry) => entry.name);
  const table = document.querySelectorAll("table.sortable")[1];
  const column = Array.from(table.tHead.rows[0].cells)
      .findIndex((cell) => cell.textContent === "latest accuracy %");
  const values = () => Array.from(table.tBodies[0].rows,
                                  (row) => parseFloat(row.cells[column].textContent));
  const before = values();
  table.tHead.rows[0].cells[column].click();
  const ascending = values();
  table.tHead.rows[0].cells[column].click();
  return {links, loaded, before, ascending, descending: values()};
})()
"""


def test_the_site_opens_offline_with_every_link_resolving_and_tables_sorting(
        browser, tmp_path):
    index, *pages = build_site(two_runs(tmp_path), tmp_path / "site")
    session = browser.open(index)
    found = browser.evaluate(session, SITE_CHECK)
    assert found["loaded"] == []  # nothing fetched: figures and script are inline
    targets = {link.split("#")[0] for link in found["links"]}
    assert len(targets) == 2 + 3  # two reports, three histories
    for target in targets:
        assert target.startswith("file://")
        page = Path(target.removeprefix("file://"))
        assert page.is_file() and page in pages
        opened = browser.open(page)
        back = browser.evaluate(opened, "Array.from(document.querySelectorAll('a[href]'),"
                                        " (a) => a.href)")
        assert all(Path(link.split("#")[0].removeprefix("file://")).is_file()
                   for link in back)
        assert browser.errors(opened) == []
    assert found["ascending"] == sorted(found["before"])
    assert found["descending"] == sorted(found["before"], reverse=True)
    assert found["ascending"] != found["descending"]
    assert browser.errors(session) == []


@pytest.mark.slow
def test_the_committed_reports_build_into_one_site(browser, tmp_path, monkeypatch):
    # The README's command for reports/, run from the checkout's root; then
    # the index and every page it links to, opened as a reader would.
    root = Path(__file__).resolve().parent.parent
    folders = [f"reports/{name}/results" for name in ("paper", "full", "ddae-ablation")]
    if not all((root / folder / "results.csv").is_file() for folder in folders):
        pytest.skip("the committed reports/ are not beside these tests (an installed copy)")
    monkeypatch.chdir(root)
    index, *pages = build_site(folders, tmp_path / "site")
    session = browser.open(index)
    links = browser.evaluate(session, "Array.from(document.querySelectorAll('a[href]'),"
                                      " (a) => a.href)")
    assert sum("/history/" in link for link in links) >= 30  # ten algorithms × 3 datasets
    assert {link for link in links if "/reports/" in link} == {
        (tmp_path / "site" / "reports" / make_slug(folder) / "report.html").as_uri()
        for folder in folders}
    for link in sorted(set(links)):
        page = Path(link.removeprefix("file://"))
        assert page in pages
        opened = browser.open(page)
        if page.name == "report.html":  # each report answers on its first screen
            assert 0 < summary_bottom(browser, opened) <= 900, page
        assert browser.errors(opened) == [], page
    assert browser.errors(session) == []
