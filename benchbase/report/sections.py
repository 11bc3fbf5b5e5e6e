"""Sections that plugins add to reports (hook ``benchbase_report_sections``).

A plugin returns ``benchbase.ReportSection`` specs; the report calls each
one's ``render(context)`` with a ``SectionContext`` and places the blocks it
returns under the section's title: per dataset × protocol (scope "block"),
or once for the whole report (scope "report"). Image names are prefixed with
the block and the section's name, so plugins need not make them unique. A
section that raises or returns something that is not a block is replaced by
a note naming it and its plugin; the rest of the report is unaffected.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Sequence

import pandas as pd

from benchbase.plugins import Catalog
from benchbase.report.document import (
    Block,
    Bullets,
    Details,
    Heading,
    Image,
    Notice,
    Paragraph,
    Table,
    make_slug,
    walk,
)
from benchbase.report.reading import ArtifactLoader
from benchbase.results.record import Status
from benchbase.specs import ReportSection

_BLOCK_TYPES = (Heading, Paragraph, Notice, Bullets, Table, Image, Details)


@dataclasses.dataclass(frozen=True)
class SectionContext:
    """What a section's ``render`` receives.

    Attributes:
        rows: the result rows (every status) of the dataset × protocol, or of
            the whole report for scope "report"; ``source`` is each row's folder.
        order: the algorithms with ok trials, best mean test accuracy first
            (for scope "report": by name).
        artifacts: ``artifacts.load(row)`` returns a trial's arrays or raises
            ``benchbase.results.artifacts.ArtifactError``; ``artifacts.arrays(rows)``
            returns those that load, ``artifacts.explain(rows)`` why others do not.
        dataset, protocol: the block's (None for scope "report").
    """

    rows: pd.DataFrame
    order: list[str]
    artifacts: ArtifactLoader
    dataset: str | None = None
    protocol: str | None = None

    @property
    def ok(self) -> pd.DataFrame:
        return self.rows[self.rows["status"] == Status.OK]

    @property
    def where(self) -> str:
        """"usps (official)", for captions; "" for scope "report"."""
        return f"{self.dataset} ({self.protocol})" if self.dataset else ""


def _render(spec: ReportSection, origin: str, context: SectionContext) -> list[Block]:
    try:
        produced = list(spec.render(context))
    except Exception as exc:  # a plugin's bug must not cost the whole report
        tail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return [Notice(f"Section {spec.name!r} ({origin}) failed: {tail}")]
    wrong = [type(block).__name__ for block in walk(produced)
             if not isinstance(block, _BLOCK_TYPES)]
    if wrong:
        return [Notice(f"Section {spec.name!r} ({origin}) returned {', '.join(wrong)}, "
                       "not report blocks; it is left out")]
    return produced


def plugin_sections(catalog: Catalog, scope: str, context: SectionContext, prefix: str
                    ) -> list[Block]:
    """Every registered section of ``scope``, in registration order, folded
    under its title."""
    blocks: list[Block] = []
    sections: Sequence[ReportSection] = [spec for spec in catalog.sections.specs()
                                         if spec.scope == scope]
    for spec in sections:
        produced = _prefixed(
            _render(spec, str(catalog.sections.plugin_of(spec.name)), context),
            make_slug(prefix, spec.name))
        if produced:  # details: folded under the section's title
            blocks.append(Details(spec.title, produced))
    return blocks


def _prefixed(blocks: list[Block], prefix: str) -> list[Block]:
    """``blocks`` with every image's name prefixed (folded ones too)."""
    return [dataclasses.replace(block, name=make_slug(prefix, block.name))
            if isinstance(block, Image)
            else dataclasses.replace(block, blocks=_prefixed(block.blocks, prefix))
            if isinstance(block, Details) else block for block in blocks]
