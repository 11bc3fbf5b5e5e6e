"""report.html as a reader sees it: opened in headless Chromium, every figure
laid out with a size, every embedded image decoded, no console error."""

from __future__ import annotations

import chromium
import pytest
from report_builders import predictions_folder

from benchbase.report import build_report, read_results

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
