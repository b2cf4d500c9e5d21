"""Tables laid out to the page width (helpers.book.tables)."""

import re
from pathlib import Path

import pytest
from docutils.nodes import make_id

from helpers.book import tables

ROOT = Path(__file__).resolve().parents[1]


def test_every_heading_of_the_book_gets_the_id_docutils_gives_it():
    headings = [line.lstrip("#").strip() for path in sorted((ROOT / "notebooks").glob("*.md"))
                for line in path.read_text().splitlines() if re.match(r"#{1,4} ", line)]
    assert len(headings) > 50
    for title in [*headings, "Ünïcode – and 20–40%", "1. starts with a digit", "--x--"]:
        assert tables.section_anchor(title) == make_id(title), title


def test_a_table_escapes_links_folds_details_and_formats_numbers():
    rows = [{"name": "a<b", "score": 0.91234, "url": "x.html#a", "note": "long & detailed"},
            {"name": "c", "score": None, "url": "", "note": "n"}]
    markup = (tables.table(rows, ("name", "score"), widths=(3, 1), links={"name": "url"},
                              details=("note",), details_label="more",
                              formats={"score": ".1%"})).data
    assert '<a href="x.html#a">a&lt;b</a>' in markup
    assert "<td" in markup and "91.2%" in markup and "—" in markup  # None shows as a dash
    assert '<col style="width: 75.0%">' in markup and '<col style="width: 25.0%">' in markup
    assert markup.count("<details><summary>more</summary>") == 2
    assert "long &amp; detailed" in markup and 'colspan="2"' in markup
    assert ">c</td>" in markup  # an empty address gives no link
    assert tables.table(rows, ("name",))._repr_html_() == tables.table(rows, ("name",)).data


@pytest.mark.parametrize("kwargs, match", [
    ({"widths": (1,)}, "one positive share per column"),
    ({"widths": (1, 0)}, "one positive share per column"),
    ({"links": {"missing": "url"}}, "links"),
])
def test_a_table_refuses_widths_or_links_that_do_not_match_its_columns(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tables.table([{"a": 1, "b": 2}], ("a", "b"), **kwargs)
