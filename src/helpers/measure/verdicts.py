"""The book's one vocabulary of verdicts, and the few rules that produce or combine them.

Introduced in the chapter "Precision lower bound" (``notebooks/02_precision_lower_bound``),
where the first claim about every model of the suite is decided, and read by the claims
ledger (``notebooks/07_claims_ledger``). Every chapter and the ledger use these words and no
others, so that a verdict means the same thing wherever it is printed:

- a **claim** holds, fails, is undecided (an interval straddles the claim's boundary) or
  cannot be tested (the measurement has no content for it, e.g. at the sample ceiling):
  :data:`CLAIM_VERDICTS`;
- a **design guideline** is supported, contradicted, mixed or undecided:
  :data:`GUIDELINE_VERDICTS`;
- a claim whose results this build did not write is :data:`NOT_MEASURED` (the ledger's word,
  never a chapter's).

:func:`interval_verdict` decides "the value lies in a range" from an interval,
:func:`combine_verdicts` decides a claim made about every model from the per-model verdicts,
:func:`guideline_verdict` decides a guideline from per-model evidence, and
:func:`check_verdict` refuses any other word.
"""

from __future__ import annotations

import math

from helpers._validation import check_count

#: Verdicts on a claim.
CLAIM_VERDICTS = ("holds", "fails", "undecided", "cannot be tested")
#: Verdicts on a design guideline.
GUIDELINE_VERDICTS = ("supported", "contradicted", "mixed", "undecided")
#: The ledger's verdict for a claim whose results this build did not write.
NOT_MEASURED = "not measured"


def check_verdict(word, allowed=CLAIM_VERDICTS) -> str:
    """Return ``word`` if it is one of ``allowed``, else raise :class:`ValueError`.

    Parameters
    ----------
    word : str
        A verdict.
    allowed : tuple of str
        :data:`CLAIM_VERDICTS` (default) or :data:`GUIDELINE_VERDICTS`.
    """
    if not isinstance(word, str) or word not in allowed:
        raise ValueError(f"{word!r} is not a verdict; use one of {allowed}.")
    return word


def interval_verdict(low: float, high: float, lower: float, upper: float) -> str:
    """Verdict on "the value lies in ``[lower, upper]``" from an interval ``[low, high]``.

    ``holds`` when the whole interval lies inside, ``fails`` when it lies wholly outside,
    ``undecided`` when it straddles a boundary, ``cannot be tested`` when it is not finite.
    Introduced in the chapter "Lipschitz regularization" for the proposal's "20–40% higher".
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return "cannot be tested"
    if low > high or lower > upper:
        raise ValueError(f"intervals must satisfy low <= high, got [{low}, {high}] and "
                         f"[{lower}, {upper}].")
    if low >= lower and high <= upper:
        return "holds"
    if high < lower or low > upper:
        return "fails"
    return "undecided"


def combine_verdicts(verdicts) -> str:
    """One verdict for a claim made about every model, from the per-model verdicts.

    ``fails`` if any model fails (one certain failure refutes a claim about all of them),
    ``holds`` if all hold, ``cannot be tested`` if none can be tested (or there is none),
    else ``undecided``.
    """
    verdicts = [check_verdict(v) for v in verdicts]
    if not verdicts or all(v == "cannot be tested" for v in verdicts):
        return "cannot be tested"
    if "fails" in verdicts:
        return "fails"
    if all(v == "holds" for v in verdicts):
        return "holds"
    return "undecided"


def guideline_verdict(supports: int, contradicts: int, total: int) -> str:
    """A guideline's verdict from per-model evidence.

    ``contradicted`` when the evidence goes against it for more models than for it,
    ``supported`` when it goes for it for more than half of them and against it for none,
    ``mixed`` when both occur, and ``undecided`` when most models give no evidence either way.
    Introduced in the chapter "Lipschitz regularization", which tests the four guidelines.
    """
    supports = check_count(supports, name="supports", minimum=0)
    contradicts = check_count(contradicts, name="contradicts", minimum=0)
    total = check_count(total, name="total", minimum=0)
    if supports + contradicts > total:
        raise ValueError(f"supports + contradicts ({supports + contradicts}) exceeds total "
                         f"({total}).")
    if total == 0:
        return "undecided"
    if contradicts > supports:
        return "contradicted"
    if contradicts == 0 and supports > total / 2:
        return "supported"
    if contradicts and supports:
        return "mixed"
    return "undecided"


def verdict_counts(verdicts, allowed=CLAIM_VERDICTS) -> dict:
    """``{verdict: count}`` for the verdicts that occur, in the order of ``allowed``."""
    verdicts = [check_verdict(v, allowed) for v in verdicts]
    return {word: verdicts.count(word) for word in allowed if word in verdicts}


__all__ = ["CLAIM_VERDICTS", "GUIDELINE_VERDICTS", "NOT_MEASURED", "check_verdict",
           "combine_verdicts", "guideline_verdict", "interval_verdict", "verdict_counts"]
