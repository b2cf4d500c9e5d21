"""Phrases computed for the chapters: spans, lists and counts (the one prose module).
"""

from __future__ import annotations

from helpers._validation import check_real
from helpers.measure.verdicts import CLAIM_VERDICTS, combine_verdicts


def quantile_text(q: float) -> str:
    """``0.9`` -> ``"90th percentile"``, ``0.99`` -> ``"99th percentile"``, ``0.5`` -> median."""
    check_real(q, name="a quantile", low=0.0, high=1.0, include_low=False, include_high=False)
    if q == 0.5:
        return "median"
    percent = format(100 * float(q), "g")
    whole = percent.split(".")[0]
    if "." in percent or whole[-2:] in ("11", "12", "13"):
        suffix = "th"
    else:
        suffix = {"1": "st", "2": "nd", "3": "rd"}.get(whole[-1], "th")
    return f"{percent}{suffix} percentile"


def verdict_counts_text(verdicts, *, noun: str = "models") -> str:
    """Text such as ``"holds for 2, fails for 5 and is undecided for 1 of 8 models"``."""
    verdicts = list(verdicts)
    combine_verdicts(verdicts)  # validates
    phrases = {"holds": "holds for", "fails": "fails for", "undecided": "is undecided for",
               "cannot be tested": "cannot be tested for"}
    parts = [f"{phrases[v]} {verdicts.count(v)}" for v in CLAIM_VERDICTS if verdicts.count(v)]
    if not parts:
        return f"has no {noun} to be tested on"
    return f"{join_words(parts)} of {len(verdicts)} {noun}"


def join_words(parts) -> str:
    """``"a"``, ``"a and b"`` or ``"a, b and c"``: phrases joined as a sentence lists them."""
    parts = [str(part) for part in parts]
    if not parts:
        raise ValueError("join_words needs at least one phrase.")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def span_text(values, fmt: str = "g", *, empty: str | None = None) -> str:
    """Text for the range of some numbers: ``"a to b"``, or ``"a"`` when they agree.

    ``empty`` is the text for no numbers at all (a measurement with no cases in this run,
    such as "not measured"); without it an empty input is an error.
    """
    values = [float(v) + 0.0 for v in values]  # -0.0 becomes 0.0
    if not values and empty is not None:
        return empty
    if not values:
        raise ValueError("span_text needs at least one value.")
    low, high = format(min(values), fmt), format(max(values), fmt)
    return low if low == high else f"{low} to {high}"
