"""The ``benchbase_report_sections`` hook: plugins add report sections, and a
broken one costs only itself."""

from __future__ import annotations

import pandas as pd
import pytest
from test_report import _row

import benchbase
from benchbase.plugins import DISTRIBUTION, PluginInfo, load_catalog
from benchbase.report import Image, Paragraph, SectionContext, build_report
from benchbase.report.figures import figure_style, new_figure, svg_text

INFO = PluginInfo("toy-sections", "tests", "toy-dist", "2.0")


def _picture() -> Image:
    with figure_style():
        figure, axes = new_figure(2, 2)
        axes[0, 0].plot([0, 1], [0, 1])
    return Image("line", "a line", svg_text(figure))


class _Sections:
    def __init__(self):
        self.contexts: list[SectionContext] = []

    def per_block(self, context):
        self.contexts.append(context)
        return [Paragraph(f"{len(context.ok)} ok rows in {context.where}, "
                          f"leader {context.order[0]}"), _picture()]

    def overall(self, context):
        return [Paragraph(f"{len(context.rows)} rows in all")]

    @benchbase.hookimpl
    def benchbase_report_sections(self):
        return [
            benchbase.ReportSection("toy-block", "Toy per block", self.per_block),
            benchbase.ReportSection("toy-report", "Toy overall", self.overall,
                                    scope="report"),
            benchbase.ReportSection("toy-empty", "Never shown", lambda context: []),
        ]


def _report(tmp_path, plugin) -> str:
    rows = pd.DataFrame([_row(name, seed) for name in "AB" for seed in range(3)])
    catalog = load_catalog(extra=[(INFO, plugin)])
    build_report(rows, tmp_path, ["md"], catalog=catalog)
    return (tmp_path / "report.md").read_text()


def test_benchbase_report_sections_places_a_plugins_blocks_under_their_title(tmp_path):
    plugin = _Sections()
    markdown = _report(tmp_path, plugin)
    block = markdown.index("<details><summary>Toy per block</summary>")  # folded
    assert markdown.index("## toy, official protocol") < block < markdown.index(
        "## Provenance")
    assert "6 ok rows in toy (official), leader A" in markdown
    assert markdown.index("<summary>Toy overall</summary>") > block
    assert "6 rows in all" in markdown
    assert "Never shown" not in markdown  # nothing to add: no heading either
    # Image names are prefixed with the block and the section: no clashes.
    assert (tmp_path / "figures" / "toy-official-toy-block-line.svg").is_file()
    [context] = plugin.contexts
    assert (context.dataset, context.protocol, context.order) == ("toy", "official",
                                                                  ["A", "B"])


class _Broken:
    @benchbase.hookimpl
    def benchbase_report_sections(self):
        def boom(context):
            raise RuntimeError("no luck")

        return [benchbase.ReportSection("raises", "Raises", boom),
                benchbase.ReportSection("garbage", "Garbage", lambda context: ["text"])]


def test_benchbase_report_sections_that_fail_cost_only_themselves(tmp_path):
    markdown = _report(tmp_path, _Broken())
    assert ("Section 'raises' (plugin 'toy-sections' (toy-dist 2.0)) failed: "
            "RuntimeError: no luck") in markdown
    assert "Section 'garbage' (plugin 'toy-sections' (toy-dist 2.0)) returned str" \
        in markdown
    assert "### Accuracy" in markdown and "## Provenance" in markdown


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"name": "bad name"}, ValueError, "report section name 'bad name' is invalid"),
    ({"scope": "page"}, ValueError, "scope must be one of block, report"),
    ({"render": "nope"}, TypeError, "render must be callable"),
])
def test_report_section_specs_are_checked(kwargs, error, match):
    with pytest.raises(error, match=match):
        benchbase.ReportSection(**{"name": "ok", "title": "t",
                                   "render": lambda context: [], **kwargs})


def test_benchbase_report_sections_register_the_autoencoder_section_as_a_builtin():
    catalog = load_catalog()
    assert catalog.sections.plugin_of("reconstruction").distribution == DISTRIBUTION
    assert catalog.references.plugin_of("pan-zhao").distribution == DISTRIBUTION


def test_benchbase_report_sections_autoencoder_section_needs_reconstructions(tmp_path):
    # Rows without reconstruction arrays: the section adds nothing at all.
    markdown = _report(tmp_path, _Sections())
    assert "Layer-1 filters" not in markdown


@pytest.mark.slow
def test_benchbase_report_sections_shows_a_real_autoencoders_filters(tmp_path, capsys):
    pytest.importorskip("torch")
    from benchbase.cli import main

    results, out = tmp_path / "results", tmp_path / "report"
    assert main(["run", "--algorithms", "AE,ELM", "--datasets", "digits", "--seeds", "1",
                 "--executor", "inline", "--param", "AE:epochs=1",
                 "--param", "AE:n_hidden1=40", "--param", "AE:n_hidden2=20",
                 "--param", "ELM:n_hidden=100", "--out", str(results)]) == 0
    assert main(["report", str(results), "--out", str(out)]) == 0
    capsys.readouterr()
    names = {path.name for path in (out / "figures").iterdir()}
    assert {"digits-official-reconstruction-filters.svg",
            "digits-official-reconstruction-reconstructions.svg"} <= names
    markdown = (out / "report.md").read_text()
    assert "hidden units 1–40" in markdown  # 40 filters: fewer than the 100 kept
