"""What a report is made of: a list of blocks, rendered to HTML or Markdown.

Report sections (the core's and plugins') return these; ``render`` lays them
out. Text is plain text (escaped when rendered), never markup.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator

import pandas as pd


@dataclasses.dataclass
class Heading:
    level: int
    text: str


@dataclasses.dataclass
class Paragraph:
    """Plain text; with ``link``, the whole paragraph links to that relative address."""

    text: str
    link: str = ""


@dataclasses.dataclass
class Notice:
    """A caveat the reader must not miss (mixed machines, missing data)."""

    text: str


@dataclasses.dataclass
class Bullets:
    items: list[str]


@dataclasses.dataclass
class Table:
    """Cells as text; ``strong`` cells are emphasised, ``right`` columns
    right-aligned, ``links`` cells point at a relative address; a ``sortable``
    table sorts by a column when its header is clicked (HTML)."""

    frame: pd.DataFrame
    strong: set[tuple[int, str]] = dataclasses.field(default_factory=set)
    right: tuple[str, ...] = ()
    links: dict[tuple[int, str], str] = dataclasses.field(default_factory=dict)
    sortable: bool = False


@dataclasses.dataclass
class Image:
    """An SVG figure; ``name`` is its file stem under ``figures/`` (unique in a report)."""

    name: str
    alt: str
    svg: str


@dataclasses.dataclass
class Details:
    """Blocks folded under a one-line ``summary`` until the reader opens them
    (``<details>`` in HTML and on GitHub): there, not in the way."""

    summary: str
    blocks: list[Block]


@dataclasses.dataclass
class Contents:
    """Links to the headings of level 2 to ``depth`` that follow it."""

    depth: int = 2


Block = Heading | Paragraph | Notice | Bullets | Table | Image | Details | Contents


def walk(blocks: Iterable[Block]) -> Iterator[Block]:
    """Every block, those folded in ``Details`` too, in reading order."""
    for block in blocks:
        yield block
        if isinstance(block, Details):
            yield from walk(block.blocks)


def anchors(blocks: Iterable[Block]) -> dict[int, str]:
    """id(heading) -> its anchor, as GitHub makes them: lower case, punctuation
    dropped, spaces as hyphens, "-1", "-2" … after a repeated one; so the same
    links work in report.html and in report.md on GitHub."""
    found: dict[int, str] = {}
    seen: dict[str, int] = {}
    for block in walk(blocks):
        if isinstance(block, Heading):
            base = re.sub(r"[^\w\- ]", "", block.text.lower()).replace(" ", "-")
            number = seen.get(base, 0)
            seen[base] = number + 1
            found[id(block)] = base if number == 0 else f"{base}-{number}"
    return found


def make_slug(*parts: str) -> str:
    """A file-name-safe identifier: ``make_slug("usps", "subset:6000/1000")``."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", "-".join(parts)).strip("-").lower()
