"""Blocks to a self-contained HTML page or to Markdown with SVG files beside it."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from benchbase.report.document import (
    Block,
    Bullets,
    Contents,
    Details,
    Heading,
    Image,
    Notice,
    Paragraph,
    Table,
    anchors,
    walk,
)

FIGURES_DIR = "figures"

# What GitHub's Markdown would read as markup; "_" inside a word is plain text.
_MD_SPECIAL = re.compile(r"[\\`*|<>\[\]]|(?<!\w)_|_(?!\w)")


def _md_escape(text: str) -> str:
    """One line of literal text (table cells cannot hold line breaks)."""
    return _MD_SPECIAL.sub(lambda match: "\\" + match.group(), " ".join(str(text).split()))


def _md_table(table: Table) -> str:
    columns = list(table.frame.columns)
    lines = ["| " + " | ".join(_md_escape(name) for name in columns) + " |",
             "| " + " | ".join("---:" if name in table.right else "---"
                               for name in columns) + " |"]
    for row, values in enumerate(table.frame.itertuples(index=False)):
        cells = []
        for name, value in zip(columns, values, strict=True):
            # A cell's second line: <br>, which GitHub's tables honour.
            text = "<br>".join(_md_escape(line) for line in str(value).split("\n"))
            if (row, name) in table.links:
                text = f"[{text}]({table.links[row, name]})"
            cells.append(f"**{text}**" if (row, name) in table.strong else text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _contents(blocks: Sequence[Block], start: int, depth: int,
              ids: dict[int, str]) -> list[tuple[int, str, str]]:
    """(level, text, anchor) of the headings of level 2 to ``depth`` after
    ``blocks[start]``; folded ones are left out (a link would open nothing)."""
    return [(block.level, block.text, ids[id(block)]) for block in blocks[start + 1:]
            if isinstance(block, Heading) and 2 <= block.level <= depth]


def render_markdown(blocks: Sequence[Block]) -> str:
    return _markdown(blocks, anchors(blocks)) + "\n"


def _markdown(blocks: Sequence[Block], ids: dict[int, str]) -> str:
    parts = []
    for index, block in enumerate(blocks):
        match block:
            case Heading(level, text):
                parts.append(f"{'#' * level} {_md_escape(text)}")
            case Paragraph(text, link) if link:
                parts.append(f"[{_md_escape(text)}]({link})")
            case Paragraph(text):
                parts.append(_md_escape(text))
            case Notice(text):
                parts.append(f"> **Note:** {_md_escape(text)}")
            case Bullets(items):
                parts.append("\n".join(f"* {_md_escape(item)}" for item in items))
            case Table():
                parts.append(_md_table(block))
            case Image(name, alt):
                parts.append(f"![{_md_escape(alt)}]({FIGURES_DIR}/{name}.svg)")
            case Details(summary, inner):
                # GitHub reads Markdown inside <details> after a blank line.
                parts.append(f"<details><summary>{html.escape(summary)}</summary>\n\n"
                             f"{_markdown(inner, ids)}\n\n</details>")
            case Contents(depth):
                parts.append("\n".join(
                    f"{'  ' * (level - 2)}* [{_md_escape(text)}](#{anchor})"
                    for level, text, anchor in _contents(blocks, index, depth, ids)))
    return "\n\n".join(parts)


CSS = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 1.2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.7rem; line-height: 1.25; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; line-height: 1.3; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left;
         vertical-align: top; }
th { border-bottom: 2px solid #888; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85rem; color: #555; }
.notice { border-left: 4px solid #c60; background: #fff6ec; padding: 0.4rem 0.8rem; }
li { margin: 0.2rem 0; }
details { margin: 0.6rem 0; border-left: 3px solid #ddd; padding-left: 0.8rem; }
details > summary { cursor: pointer; color: #345; }
details[open] > summary { margin-bottom: 0.4rem; }
ul.contents { columns: 2; padding-left: 1.2rem; }
ul.contents li.toc3 { margin-left: 1.2rem; font-size: 0.9rem; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " ▲"; }
table.sortable th[aria-sort="descending"]::after { content: " ▼"; }
"""

# Click a sortable table's header to sort by that column, again to reverse.
# Cells that start with a number sort as numbers (so "98.97 ± 0.03" and
# "1,302" compare as values), the others as text; empty or "—" cells last.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach((table) => {
  const key = (cell) => {
    const text = cell.textContent.trim();
    const number = parseFloat(text.replace(/,/g, ""));
    return text === "" || text === "—" ? null : (isNaN(number) ? text : number);
  };
  table.querySelectorAll("th").forEach((header, column) => {
    header.addEventListener("click", () => {
      const ascending = header.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach((other) => other.removeAttribute("aria-sort"));
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const body = table.tBodies[0];
      const rows = Array.from(body.rows).map((row) => [key(row.cells[column]), row]);
      rows.sort(([a], [b]) => {
        if (a === null || b === null) return (a === null) - (b === null);
        if (typeof a !== typeof b) return typeof a === "number" ? -1 : 1;
        const order = typeof a === "number" ? a - b : a.localeCompare(b);
        return ascending ? order : -order;
      });
      rows.forEach(([, row]) => body.appendChild(row));
    });
  });
});
"""


def _html_table(table: Table) -> str:
    def cell(tag: str, name: str, text: str, row: int = -1) -> str:
        css = ' class="num"' if name in table.right else ""
        text = html.escape(str(text)).replace("\n", "<br>")  # a cell's second line
        if (row, name) in table.links:
            text = f'<a href="{html.escape(table.links[row, name])}">{text}</a>'
        if (row, name) in table.strong:
            text = f"<strong>{text}</strong>"
        return f"<{tag}{css}>{text}</{tag}>"

    columns = list(table.frame.columns)
    head = "".join(cell("th", name, name) for name in columns)
    body = [
        "<tr>" + "".join(cell("td", name, value, row)
                         for name, value in zip(columns, values, strict=True)) + "</tr>"
        for row, values in enumerate(table.frame.itertuples(index=False))
    ]
    opening = '<table class="sortable">' if table.sortable else "<table>"
    return "\n".join([opening, f"<thead><tr>{head}</tr></thead>", "<tbody>", *body,
                      "</tbody>", "</table>"])


def _inline_svg(svg: str) -> str:
    return svg[svg.index("<svg"):].strip()  # drop the XML prolog and DOCTYPE


def render_html(blocks: Sequence[Block], title: str) -> str:
    body = _html(blocks, anchors(blocks))
    if any(isinstance(block, Table) and block.sortable for block in walk(blocks)):
        body.append(f"<script>{SORT_SCRIPT}</script>")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>", f"<style>{CSS}</style>", "</head>",
        "<body>", *body, "</body>", "</html>",
    ]) + "\n"


def _html(blocks: Sequence[Block], ids: dict[int, str]) -> list[str]:
    parts = []
    for index, block in enumerate(blocks):
        match block:
            case Heading(level, text):
                parts.append(f'<h{level} id="{ids[id(block)]}">{html.escape(text)}</h{level}>')
            case Paragraph(text, link) if link:
                parts.append(f'<p><a href="{html.escape(link)}">{html.escape(text)}</a></p>')
            case Paragraph(text):
                parts.append(f"<p>{html.escape(text)}</p>")
            case Notice(text):
                parts.append(f'<p class="notice"><strong>Note:</strong> '
                             f"{html.escape(text)}</p>")
            case Bullets(items):
                parts.append("<ul>\n" + "\n".join(f"<li>{html.escape(item)}</li>"
                                                  for item in items) + "\n</ul>")
            case Table():
                parts.append(_html_table(block))
            case Image(_, alt, svg):
                parts.append(f"<figure>\n{_inline_svg(svg)}\n"
                             f"<figcaption>{html.escape(alt)}</figcaption>\n</figure>")
            case Details(summary, inner):
                parts += [f"<details><summary>{html.escape(summary)}</summary>",
                          *_html(inner, ids), "</details>"]
            case Contents(depth):
                items = [f'<li class="toc{level}"><a href="#{anchor}">{html.escape(text)}'
                         "</a></li>"
                         for level, text, anchor in _contents(blocks, index, depth, ids)]
                parts.append('<nav><ul class="contents">\n' + "\n".join(items)
                             + "\n</ul></nav>")
    return parts
