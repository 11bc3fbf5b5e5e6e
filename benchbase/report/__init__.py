"""Comparative reports of results folders: conclusions, not just means.

``read_results(folders)`` reads and checks ``results.csv`` files;
``build_report(results, out_dir, formats, title)`` writes ``report.html``
(figures inline, no network) and/or ``report.md`` (figures as SVG files under
``figures/``). Per dataset × protocol: accuracy with the standing the paired
tests support, every pair of algorithms compared across seeds and across test
examples (``pairs``, ``stats``), published numbers beside ours
(``references``), per-class accuracy and confusions (``predictions``),
validation-score maps (``selection``), runtime, chosen parameters, failures
and the sections plugins add (``sections``); across datasets, ranks and
Friedman's test (``ranks``); then provenance. ``compare`` puts two runs of the
same trials side by side.

The output is deterministic: sorted orders, fixed styles, seeded resampling,
figures rendered with a fixed SVG hash salt and no date, so the same results
give the same files.

Modules: ``reading`` (folders, artifacts), ``stats`` (the tests, on arrays),
``document`` (blocks), ``tables``, ``figures``, ``render`` (HTML, Markdown),
``build`` (assembly).
"""

from benchbase.report.build import DEFAULT_TITLE, FORMATS, build_report, check_formats
from benchbase.report.document import (
    Block,
    Bullets,
    Details,
    Heading,
    Image,
    Notice,
    Paragraph,
    Table,
)
from benchbase.report.reading import ArtifactLoader, read_results
from benchbase.report.sections import SectionContext

__all__ = [
    "DEFAULT_TITLE",
    "FORMATS",
    "ArtifactLoader",
    "Block",
    "Bullets",
    "Details",
    "Heading",
    "Image",
    "Notice",
    "Paragraph",
    "SectionContext",
    "Table",
    "build_report",
    "check_formats",
    "read_results",
]
