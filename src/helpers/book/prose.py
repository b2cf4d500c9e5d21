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


def verdict_summary_text(claims, guidelines, *, missing: int = 0, total: int = 0,
                         not_measured: str = "not measured in this build") -> str:
    """The ledger's count of verdicts: ``"Of the claims, 3 hold and 6 fail, of 9 claims
    measured; of the design guidelines, ..."``.

    Introduced in the chapter "Claims ledger". ``claims`` and ``guidelines`` are the verdicts
    of the rows measured; ``missing`` rows of ``total`` were not measured.
    """
    # verbs agree with the count: "1 holds", "3 hold", "1 is undecided", "2 are undecided"
    words = {"holds": ("holds", "hold"), "fails": ("fails", "fail"),
             "undecided": ("is undecided", "are undecided")}

    def counts_text(verdicts, noun):
        verdicts = list(verdicts)
        if not verdicts:
            return "none was measured in this build"
        counts = {v: verdicts.count(v) for v in dict.fromkeys(verdicts)}
        parts = [f"{count} {words.get(verdict, (verdict, verdict))[count != 1]}"
                 for verdict, count in counts.items()]
        return f"{join_words(parts)}, of {len(verdicts)} {noun} measured"

    text = (f"Of the claims, {counts_text(claims, 'claims')}; of the design guidelines, "
            f"{counts_text(guidelines, 'guidelines')}")
    if missing:
        text += f"; {missing} of {total} rows were {not_measured}"
    return text + "."


def provenance_sentence(profiles, *, chapters: int, of: int, versions, data) -> str:
    """Which profile(s), results files, helper versions and data a summary page read, in one
    sentence (chapter "Claims ledger")."""
    profiles = sorted(profiles)
    plural = "profiles" if len(profiles) > 1 else "profile"
    return (f"Measured on the {' and '.join(profiles)} {plural}, from the results files of "
            f"{chapters} of {of} chapters (helpers {', '.join(versions)}); data: "
            f"{'; '.join(data)}.")


def machine_sentence(machine: dict | None, *, not_available: str) -> str:
    """The machine a build ran on, in one line (chapter "Execution statistics")."""
    if not machine:
        return f"The machine is {not_available}."
    parts = [str(machine.get("platform", "unknown platform")),
             f"Python {machine.get('python', '?')}"]
    if machine.get("cpu_count"):
        parts.append(f"{machine['cpu_count']} CPU cores")
    if machine.get("memory_gib"):
        parts.append(f"{machine['memory_gib']:g} GiB of memory")
    return ", ".join(parts) + "."
