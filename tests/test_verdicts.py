"""The one verdict vocabulary and its rules: every word and every boundary case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.measure import comparison, thresholds
from helpers.measure.verdicts import (
    CLAIM_VERDICTS,
    GUIDELINE_VERDICTS,
    NOT_MEASURED,
    check_verdict,
    combine_verdicts,
    guideline_verdict,
    interval_verdict,
    verdict_counts,
)


def test_vocabulary_is_closed():
    assert CLAIM_VERDICTS == ("holds", "fails", "undecided", "cannot be tested")
    assert GUIDELINE_VERDICTS == ("supported", "contradicted", "mixed", "undecided")
    assert NOT_MEASURED not in CLAIM_VERDICTS + GUIDELINE_VERDICTS
    assert check_verdict("holds") == "holds"
    assert check_verdict("mixed", GUIDELINE_VERDICTS) == "mixed"
    for word in ("cannot be decided", "mixed", "Holds", None, 1):
        with pytest.raises(ValueError, match="not a verdict"):
            check_verdict(word)


def test_combine_verdicts():
    assert combine_verdicts(["holds", "holds"]) == "holds"
    assert combine_verdicts(["holds", "fails", "undecided"]) == "fails"
    assert combine_verdicts(["fails", "cannot be tested"]) == "fails"
    assert combine_verdicts(["holds", "undecided"]) == "undecided"
    assert combine_verdicts(["holds", "cannot be tested"]) == "undecided"
    assert combine_verdicts(["cannot be tested"] * 2) == "cannot be tested"
    assert combine_verdicts([]) == "cannot be tested"
    assert combine_verdicts(v for v in ["holds"]) == "holds"  # any iterable
    with pytest.raises(ValueError, match="not a verdict"):
        combine_verdicts(["maybe"])


def test_interval_verdict_boundaries():
    assert interval_verdict(20, 40, 20, 40) == "holds"  # touching both ends is inside
    assert interval_verdict(25, 30, 20, 40) == "holds"
    assert interval_verdict(10, 19.9, 20, 40) == "fails"
    assert interval_verdict(40.1, 50, 20, 40) == "fails"
    assert interval_verdict(10, 20, 20, 40) == "undecided"
    assert interval_verdict(0, 100, 20, 40) == "undecided"
    assert interval_verdict(-math.inf, 30, 20, 40) == "cannot be tested"
    assert interval_verdict(np.nan, 30, 20, 40) == "cannot be tested"
    with pytest.raises(ValueError, match="low <= high"):
        interval_verdict(30, 25, 20, 40)


def test_guideline_verdict():
    assert guideline_verdict(4, 0, 4) == "supported"
    assert guideline_verdict(3, 0, 4) == "supported"
    assert guideline_verdict(2, 0, 4) == "undecided"  # half is not more than half
    assert guideline_verdict(1, 3, 4) == "contradicted"
    assert guideline_verdict(2, 2, 4) == "mixed"
    assert guideline_verdict(2, 1, 4) == "mixed"
    assert guideline_verdict(1, 0, 4) == "undecided"
    assert guideline_verdict(0, 0, 0) == "undecided"
    assert guideline_verdict(np.int64(2), 0, 3) == "supported"
    with pytest.raises(ValueError, match="exceeds"):
        guideline_verdict(3, 3, 4)
    for bad in (-1, 1.0, True, "2"):
        with pytest.raises(ValueError, match="supports"):
            guideline_verdict(bad, 0, 4)


def test_verdict_counts_in_vocabulary_order():
    assert verdict_counts(["fails", "holds", "fails"]) == {"holds": 1, "fails": 2}
    assert list(verdict_counts(["cannot be tested", "undecided"])) == [
        "undecided", "cannot be tested"]
    assert verdict_counts([]) == {}
    assert verdict_counts(["mixed"], GUIDELINE_VERDICTS) == {"mixed": 1}
    with pytest.raises(ValueError):
        verdict_counts(["mixed"])


def test_rules_are_shared_not_copied():
    # the modules that used to define their own copies now hand out the same functions
    assert thresholds.combine_verdicts is combine_verdicts
    assert thresholds.interval_verdict is interval_verdict
    assert comparison.guideline_verdict is guideline_verdict
    assert not hasattr(thresholds, "VERDICTS")


def test_the_summary_figure_colours_every_word_of_the_vocabulary():
    from helpers.book.plotting import VERDICT_COLOURS

    assert set(VERDICT_COLOURS) == {*CLAIM_VERDICTS, *GUIDELINE_VERDICTS, NOT_MEASURED}
