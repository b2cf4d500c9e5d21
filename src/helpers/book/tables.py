"""Tables that fit the page: the few columns a reader scans, the detail in rows that expand.

Introduced in the chapter "Claims ledger" (``notebooks/07_claims_ledger``) and used by
"Execution statistics" (``notebooks/08_execution_statistics``).

The book's theme gives a page about 800 pixels of text width in a 1,400-pixel browser window.
A pandas table sizes its columns to their longest word and runs past that width, so a status
column at the right edge is cut off; a table of six text columns wraps each into a thin strip
dozens of lines tall. :func:`table` lays out a fixed-width table instead: the columns share
the page in the proportions given, long words break inside their cell, and the columns named
as ``details`` go into a collapsed row under each row (an HTML ``<details>`` element, which
needs no script and works in the static book, in Jupyter and in Colab).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from docutils.nodes import make_id
from IPython.display import HTML

from helpers._validation import check_choice, is_number

#: Inline styles, so that the table looks the same in the book, in Jupyter and in Colab, in
#: light and dark themes (no colours, only a translucent rule between rows).
_TABLE_STYLE = ("table-layout: fixed; width: 100%; border-collapse: collapse; "
                "font-size: 0.9em; margin: 0.5em 0 1em 0")
_CELL_STYLE = ("text-align: left; vertical-align: top; padding: 0.3em 0.5em; "
               "overflow-wrap: break-word; border-top: 1px solid rgba(127, 127, 127, 0.3)")
_TERM_STYLE = "margin: 0 0 0.3em 1em"
_DETAIL_STYLE = ("text-align: left; padding: 0 0.5em 0.4em 0.5em; overflow-wrap: break-word; "
                 "font-size: 0.95em")


def section_anchor(title: str) -> str:
    """The HTML id Sphinx gives a section of this title (``"The 20–40% claim"`` ->
    ``"the-2040-claim"``), for links into a chapter: :func:`docutils.nodes.make_id`, the
    function Sphinx itself calls (docutils comes with myst-nb, a dependency of the package)."""
    return make_id(title)


def _cell(value, spec: str | None = None) -> str:
    if value is None:
        return "—"
    if spec and is_number(value):
        return html.escape(format(value, spec))
    return html.escape(str(value))


def table(rows: Sequence[Mapping], columns: Sequence[str], *,
          widths: Sequence[float] | None = None, links: Mapping[str, str] | None = None,
          details: Sequence[str] = (), details_label: str = "details",
          formats: Mapping[str, str] | None = None) -> HTML:
    """Lay out ``rows`` as a table that fits the page width.

    Parameters
    ----------
    rows : sequence of mapping
        One mapping per row, holding at least ``columns`` and ``details``.
    columns : sequence of str
        The columns shown, in order.
    widths : sequence of float, optional
        Each column's share of the width (any positive numbers; they are normalized).
        Default: equal shares.
    links : mapping, optional
        ``{column: key}``: the cell of ``column`` links to the address in ``row[key]``
        (no link where that is empty).
    details : sequence of str
        Columns shown in a collapsed row under each row, as name and value.
    details_label : str
        The text of the control that expands a detail row.
    formats : mapping, optional
        ``{column: format spec}`` for numbers (``".2%"``); other values are shown as text.

    Returns
    -------
    IPython.display.HTML
        Displays as the table; ``.data`` holds the markup. Every value is HTML-escaped.
    """
    columns, details = list(columns), list(details)
    links, formats = dict(links or {}), dict(formats or {})
    for name in links:
        check_choice(name, columns, name="a key of links")
    widths = [1.0] * len(columns) if widths is None else [float(w) for w in widths]
    if len(widths) != len(columns) or min(widths, default=1) <= 0:
        raise ValueError(f"widths must give one positive share per column ({len(columns)}), "
                         f"got {widths!r}.")
    total = sum(widths)
    parts = [f'<table style="{_TABLE_STYLE}">', "<colgroup>"]
    parts += [f'<col style="width: {100 * w / total:.1f}%">' for w in widths]
    parts += ["</colgroup>", "<thead><tr>"]
    parts += [f'<th style="{_CELL_STYLE}">{html.escape(name)}</th>' for name in columns]
    parts += ["</tr></thead>", "<tbody>"]
    for row in rows:
        parts.append("<tr>")
        for name in columns:
            text = _cell(row.get(name), formats.get(name))
            href = row.get(links[name]) if name in links else None
            if href:
                text = f'<a href="{html.escape(str(href), quote=True)}">{text}</a>'
            parts.append(f'<td style="{_CELL_STYLE}">{text}</td>')
        parts.append("</tr>")
        if details:
            items = "".join(f"<dt><strong>{html.escape(name)}</strong></dt>"
                            f'<dd style="{_TERM_STYLE}">{_cell(row.get(name), formats.get(name))}'
                            "</dd>" for name in details)
            parts.append(f'<tr><td colspan="{len(columns)}" style="{_DETAIL_STYLE}"><details>'
                         f"<summary>{html.escape(details_label)}</summary>"
                         f'<dl style="margin: 0.3em 0 0 0">{items}</dl></details></td></tr>')
    parts += ["</tbody>", "</table>"]
    return HTML("\n".join(parts))


__all__ = ["section_anchor", "table"]
