"""What a report is made of: a list of blocks, rendered to HTML or Markdown.

Report sections (the core's and plugins') return these; ``render`` lays them
out. Text is plain text (escaped when rendered), never markup.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd


@dataclasses.dataclass
class Heading:
    level: int
    text: str


@dataclasses.dataclass
class Paragraph:
    text: str


@dataclasses.dataclass
class Notice:
    """A caveat the reader must not miss (mixed machines, missing data)."""

    text: str


@dataclasses.dataclass
class Bullets:
    items: list[str]


@dataclasses.dataclass
class Table:
    """Cells as text; ``strong`` cells are emphasised, ``right`` columns right-aligned."""

    frame: pd.DataFrame
    strong: set[tuple[int, str]] = dataclasses.field(default_factory=set)
    right: tuple[str, ...] = ()


@dataclasses.dataclass
class Image:
    """An SVG figure; ``name`` is its file stem under ``figures/`` (unique in a report)."""

    name: str
    alt: str
    svg: str


Block = Heading | Paragraph | Notice | Bullets | Table | Image


def make_slug(*parts: str) -> str:
    """A file-name-safe identifier: ``make_slug("usps", "subset:6000/1000")``."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", "-".join(parts)).strip("-").lower()
