"""The one prose module (helpers.book.prose): phrases the pages glue."""

import pytest

from helpers.book import prose


def test_verdict_counts_agree_with_their_verb():
    text = prose.verdict_summary_text(["holds", "fails", "fails", "undecided"],
                                      ["supported"], missing=1, total=6)
    assert text == ("Of the claims, 1 holds, 2 fail and 1 is undecided, of 4 claims measured; "
                    "of the design guidelines, 1 supported, of 1 guidelines measured; 1 of 6 "
                    "rows were not measured in this build.")
    assert "none was measured" in prose.verdict_summary_text([], [])
    assert "2 are undecided" in prose.verdict_summary_text(["undecided", "undecided"], [])


def test_provenance_and_machine_sentences():
    one = prose.provenance_sentence({"default"}, chapters=6, of=6, versions=["0.1.0"],
                                    data=["digits", "topics"])
    assert one == ("Measured on the default profile, from the results files of 6 of 6 chapters "
                   "(helpers 0.1.0); data: digits; topics.")
    mixed = prose.provenance_sentence({"smoke", "default"}, chapters=2, of=6, versions=["x"],
                                      data=["d"])
    assert mixed.startswith("Measured on the default and smoke profiles")
    assert prose.machine_sentence(None, not_available="n/a") == "The machine is n/a."
    assert prose.machine_sentence({"platform": "Linux", "python": "3.11", "cpu_count": 2,
                                   "memory_gib": 24.0}, not_available="n/a") == (
        "Linux, Python 3.11, 2 CPU cores, 24 GiB of memory.")


@pytest.mark.parametrize("parts, text", [(["a"], "a"), (["a", "b"], "a and b"),
                                         (["a", "b", "c"], "a, b and c")])
def test_join_words(parts, text):
    assert prose.join_words(parts) == text
