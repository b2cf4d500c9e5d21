"""The chapters' form: short code cells, more prose than code, values glued into Markdown.

Counted as in the issue that set the rule: non-blank lines, a cell's option lines (``:tags:``)
left out. Everything outside the front matter and the code cells counts as prose.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.md"))
MAX_CELL_LINES = 30


def chapter_form(text: str) -> tuple[int, int, list[int]]:
    """``(code lines, prose lines, lines of each code cell)`` of a MyST chapter."""
    body = text.split("\n---\n", 1)[1] if text.startswith("---") else text
    code, prose, cells, inside = 0, 0, [], False
    for line in body.splitlines():
        if not inside and line.startswith("```{code-cell}"):
            inside, cells = True, [*cells, 0]
        elif inside and line.strip() == "```":
            inside = False
        elif inside:
            if line.strip() and not re.match(r"^:[a-z_-]+:", line):
                code, cells[-1] = code + 1, cells[-1] + 1
        elif line.strip():
            prose += 1
    return code, prose, cells


def test_the_counting_rule_on_a_small_chapter():
    text = ("---\nkernelspec: {}\n---\n# Title\n\nOne sentence.\n\n```{code-cell} ipython3\n"
            ":tags: [hide-input]\n\nx = 1\ny = 2\n```\n\nAnother.\n")
    assert chapter_form(text) == (2, 3, [2])


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_cells_are_short_and_prose_outweighs_code(path):
    code, prose, cells = chapter_form(path.read_text())
    assert max(cells) <= MAX_CELL_LINES, (f"{path.name}: a code cell of {max(cells)} lines; "
                                          f"split it or move general code into helpers")
    assert code < prose, f"{path.name}: {code} code lines against {prose} prose lines"
