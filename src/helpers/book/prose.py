"""Phrases computed for the chapters: spans, lists and counts (the one prose module).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from helpers.measure.thresholds import (
    VERDICTS,
    combine_verdicts,
)


def quantile_text(q: float) -> str:
    """``0.9`` -> ``"90th percentile"``, ``0.99`` -> ``"99th percentile"``, ``0.5`` -> median."""
    if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0 < q < 1:
        raise ValueError(f"a quantile must be a number in (0, 1), got {q!r}.")
    if q == 0.5:
        return "median"
    percent = format(100 * float(q), "g")
    whole = percent.split(".")[0]
    if "." in percent or whole[-2:] in ("11", "12", "13"):
        suffix = "th"
    else:
        suffix = {"1": "st", "2": "nd", "3": "rd"}.get(whole[-1], "th")
    return f"{percent}{suffix} percentile"


def monotone_text(convergence) -> str:
    """Say whether a secant-to-autograd difference shrinks at every smaller step.

    ``convergence`` has columns ``model``, ``directions``, ``step h / D`` and
    ``median relative difference`` (from :func:`helpers.measure.curvature.secant_convergence`).
    """
    groups = list(convergence.groupby(["model", "directions"]))
    if not groups:
        return "No smooth network was measured."
    shrinking = 0
    for _, part in groups:
        values = part.sort_values("step h / D")["median relative difference"].to_numpy()
        shrinking += bool(np.all(np.diff(values) >= 0))
    if shrinking == len(groups):
        return f"The difference shrinks at every smaller step for all {len(groups)} curves."
    return (f"The difference shrinks at every smaller step for {shrinking} of {len(groups)} "
            "curves; the others stop improving below some step, where the three image points "
            "of a secant lie so close together that floating-point rounding in them becomes "
            "comparable with their separation.")


def verdict_counts_text(verdicts, *, noun: str = "models") -> str:
    """Text such as ``"holds for 2, fails for 5 and is undecided for 1 of 8 models"``."""
    verdicts = list(verdicts)
    combine_verdicts(verdicts)  # validates
    phrases = {"holds": "holds for", "fails": "fails for", "undecided": "is undecided for",
               "cannot be tested": "cannot be tested for"}
    parts = [f"{phrases[v]} {verdicts.count(v)}" for v in VERDICTS if verdicts.count(v)]
    if not parts:
        return f"has no {noun} to be tested on"
    return f"{join_words(parts)} of {len(verdicts)} {noun}"


def join_words(parts) -> str:
    """``"a"``, ``"a and b"`` or ``"a, b and c"``: phrases joined as a sentence lists them."""
    parts = [str(part) for part in parts]
    if not parts:
        raise ValueError("join_words needs at least one phrase.")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def span_text(values, fmt: str = "g") -> str:
    """Text for the range of some numbers: ``"a to b"``, or ``"a"`` when they agree."""
    values = [float(v) + 0.0 for v in values]  # -0.0 becomes 0.0
    if not values:
        raise ValueError("span_text needs at least one value.")
    low, high = format(min(values), fmt), format(max(values), fmt)
    return low if low == high else f"{low} to {high}"




def bound_summary(analysis: dict, p_max: float) -> dict:
    """Figures and phrases of the chapter "Precision lower bound", Experiment 1.

    ``analysis`` maps each model label to its measurements: ``fine`` (a table with columns
    ``p``, ``log2_net``, ``dZ_bound`` and ``k_mle``, one row per radius), ``ceiling``
    (log2 n), ``n``, ``k_mle`` and ``k_twonn`` (estimates with ``.estimate``), ``ball``
    (:class:`EnclosingBall`), ``slope`` (bits of C_num per bit of precision, NaN when too few
    radii are unsaturated) and ``duplicates`` (dimension estimates that dropped duplicates).

    Returns
    -------
    dict
        ``name -> value`` or ``name -> (value, format)``, as
        :meth:`helpers.book.results.ChapterResults.glue_values` takes them.
    """
    from helpers.book.prose import span_text

    if not analysis:
        raise ValueError("bound_summary needs at least one model's measurements.")
    entries = list(analysis.values())
    at_max = [a["fine"][np.isclose(a["fine"]["p"], p_max)] for a in entries]
    if any(len(rows) != 1 for rows in at_max):
        raise ValueError(f"every model's table needs exactly one row at p = {p_max:g}.")
    bound_at_max = [float(rows["dZ_bound"].iloc[0]) for rows in at_max]
    k_at_max = [float(rows["k_mle"].iloc[0]) for rows in at_max]
    over_ceiling = [b - a["ceiling"] for b, a in zip(bound_at_max, entries, strict=True)]
    k_gap = min(float((a["fine"]["k_mle"] - a["fine"]["log2_net"]).min()) for a in entries)
    lowest_over = min(over_ceiling)
    slopes = [a["slope"] for a in entries if np.isfinite(a["slope"])]
    below_k = sum(a["slope"] < a["k_mle"].estimate for a in entries if np.isfinite(a["slope"]))
    duplicates = sum(a["duplicates"] for a in entries)
    return {
        "exp1_n": min(a["n"] for a in entries),
        "exp1_p_max": (p_max, "g"),
        "exp1_bound_low": (min(bound_at_max), ".0f"),
        "exp1_bound_high": (max(bound_at_max), ".0f"),
        "exp1_over_ceiling_low": (lowest_over, ".0f"),
        "exp1_bound_range": span_text(bound_at_max, ".0f"),
        "exp1_over_words": ("over a thousand bits" if lowest_over >= 1000 else
                            "hundreds of bits" if lowest_over >= 100 else
                            f"at least {lowest_over:.0f} bits"),
        "exp1_kform_low": (min(k_at_max), ".0f"),
        "exp1_kform_high": (max(k_at_max), ".0f"),
        "exp1_ceiling": (max(a["ceiling"] for a in entries), ".1f"),
        "exp1_radius_range": span_text([a["ball"].radius for a in entries], ".2f"),
        "exp1_kform_gap": (k_gap, ".1f"),
        "exp1_kform_text": "never dips below" if k_gap >= 0 else "dips below",
        "exp1_checks": int(sum(len(a["fine"]) for a in entries)),
        "exp1_mle_range": span_text([a["k_mle"].estimate for a in entries], ".1f"),
        "exp1_twonn_range": span_text([a["k_twonn"].estimate for a in entries], ".1f"),
        "exp1_slope_vs_k": "below" if below_k else "not below",
        "exp1_slope_below": (f"{below_k} of {len(entries)}" if below_k
                             else f"any of the {len(entries)}"),
        "exp1_slope_range": (span_text(slopes, ".1f") if slopes
                             else "not measurable (too few unsaturated radii)"),
        "exp1_duplicates": ("no model had duplicate test representations" if not duplicates
                            else f"{duplicates} dimension estimates dropped duplicate points "
                                 "first"),
    }




def _shown(value: float, fmt: str = ".2f") -> str:
    """A number for the prose, or ``"not run"`` when the estimator did not run (NaN)."""
    return format(value, fmt) if math.isfinite(value) else "not run"


def _truth_lookup(table):
    def value(case: str, dims: int, estimator: str, column: str = "estimate") -> float:
        match = table[(table.case == case) & (table.d == dims) & (table.estimator == estimator)]
        return float(match[column].iloc[0]) if len(match) else float("nan")
    return value


def ground_truth_phrases(table, *, strong_dims: int = 8, quantized_dims: int = 1,
                         student_dims: int = 2) -> dict[str, str]:
    """The phrases the chapter quotes from its ground-truth table.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`estimate_case` for the cases of :func:`ground_truth_cases`.
    strong_dims, quantized_dims, student_dims : int
        The dimension at which the strongly correlated, the quantized and the Student-t cases
        are quoted.

    Returns
    -------
    dict of str to str
        Glue key to text: ``top_*`` (the highest-dimensional Gaussian), ``strong_*``,
        ``cubic_text`` (before and after the invertible map ``x -> x^3``), ``quantized_*``,
        ``student_*``, ``covered_text`` (intervals that cover the truth) and
        ``truth_seconds``. An estimator that did not run on a case reads "not run".
    """
    value = _truth_lookup(table)
    gaussian = table[table.case == "Gaussian"]
    if not len(gaussian):
        raise ValueError("the ground-truth table has no 'Gaussian' case; build it with "
                         "ground_truth_cases(...).")
    top = int(gaussian.d.max())
    quantized, student, cubic = "quantized Gaussian", "Student-t", "Gaussian, x ↦ x³"
    strong = "Gaussian, strong"
    has_interval = table["covers truth"].notna()
    phrases = {
        "top_dims": str(top),
        "top_truth": _shown(value("Gaussian", top, "KSG", "truth")),
        "top_ksg": _shown(value("Gaussian", top, "KSG")),
        "top_ksg_interval": (f"[{_shown(value('Gaussian', top, 'KSG', 'low'))}, "
                             f"{_shown(value('Gaussian', top, 'KSG', 'high'))}]"),
        "top_infonce": _shown(value("Gaussian", top, "InfoNCE")),
        "top_mine": _shown(value("Gaussian", top, "MINE")),
        "strong_truth": _shown(value(strong, strong_dims, "KSG", "truth"), ".1f"),
        **{f"strong_{key}": _shown(value(strong, strong_dims, name))
           for key, name in (("ksg", "KSG"), ("infonce", "InfoNCE"), ("mine", "MINE"))},
        "cubic_text": "; ".join(
            f"{d} dimension{'s' if d > 1 else ''}: truth "
            f"{_shown(value('Gaussian', d, 'KSG', 'truth'))}, KSG "
            f"{_shown(value('Gaussian', d, 'KSG'))} before and "
            f"{_shown(value(cubic, d, 'KSG'))} after the map, InfoNCE "
            f"{_shown(value('Gaussian', d, 'InfoNCE'))} and "
            f"{_shown(value(cubic, d, 'InfoNCE'))}, MINE "
            f"{_shown(value('Gaussian', d, 'MINE'))} and {_shown(value(cubic, d, 'MINE'))}"
            for d in sorted({int(d) for d in table[table.case == cubic].d})),
        "quantized_truth": _shown(value(quantized, quantized_dims, "KSG", "truth"), ".3f"),
        "quantized_counts": _shown(value(quantized, quantized_dims, "counts (Miller-Madow)"),
                                   ".3f"),
        "quantized_shuffled": _shown(value(quantized, quantized_dims,
                                           "counts, shuffle-corrected"), ".3f"),
        "quantized_ksg": _shown(value(quantized, quantized_dims, "KSG"), ".3f"),
        "quantized_ksg_ignored": _shown(value(quantized, quantized_dims, "KSG, ties ignored")),
        "student_text": ", ".join(f"{name} {_shown(value(student, student_dims, name))}"
                                  for name in ("KSG", "InfoNCE", "MINE")),
        "student_truth": _shown(value(student, student_dims, "KSG", "truth")),
        "covered_text": (f"{int(table.loc[has_interval, 'covers truth'].astype(bool).sum())} "
                         f"of {int(has_interval.sum())}"),
        "truth_seconds": format(float(table.seconds.sum()), ".0f"),
    }
    return phrases


def measurement_phrases(measurements, inputs: dict, *, bits) -> dict[str, str]:
    """The phrases the chapter quotes from its per-precision measurements of the suite.

    Parameters
    ----------
    measurements : pandas.DataFrame
        Rows of :func:`precision_row` with a ``model`` column.
    inputs : dict
        Model label to the ``(array, description)`` pair of :func:`neural_inputs`.
    bits : sequence of float
        The precisions swept.

    Returns
    -------
    dict of str to str
        Glue key to text: ``x_text`` (what plays X for which models), ``plugin_ceiling_text``,
        the ranges at the coarsest precision (``coarsest_*``), the neural estimates' ranges
        and times.
    """
    from helpers.book.prose import span_text

    if not len(measurements):
        raise ValueError("measurement_phrases needs at least one measurement row.")
    groups: dict[str, list] = {}
    for label, (_, text) in inputs.items():
        groups.setdefault(text, []).append(label)
    coarsest = measurements[measurements.bits == min(bits)]
    neural = measurements[measurements.infonce.notna()]
    at_ceiling = measurements["plugin at ceiling"].astype(bool)
    phrases = {
        "x_text": "; ".join(f"{text} for {', '.join(labels)}" for text, labels in groups.items()),
        "plugin_ceiling_text": f"{int(at_ceiling.sum())} of {len(measurements)}",
        "coarsest_p": format(min(bits), "g"),
        "coarsest_cnum": span_text(coarsest.C_num, ".1f"),
        "coarsest_cells": span_text(coarsest["log2 cells"], ".1f"),
        "coarsest_plugin": span_text(coarsest.plugin, ".1f"),
        "chao_shen_max": format(float(measurements["chao-shen"].max()), ".1f"),
        "n_neural": str(2 * len(neural)),
    }
    if len(neural):
        phrases.update(
            infonce_range=span_text(neural.infonce, ".1f"),
            mine_range=span_text(neural.mine, ".1f"),
            infonce_seconds=format(float(neural["infonce [s]"].median()), ".1f"),
            mine_seconds=format(float(neural["mine [s]"].median()), ".1f"),
            neural_total_seconds=format(float(neural["infonce [s]"].sum()
                                              + neural["mine [s]"].sum()), ".0f"))
    else:
        phrases.update({key: "not run" for key in ("infonce_range", "mine_range",
                                                   "infonce_seconds", "mine_seconds",
                                                   "neural_total_seconds")})
    return phrases




def precision_map_phrases(heat: dict, bits, best_rows: list[dict], *, tolerance: float = 0.01,
                          drop: float = 0.02) -> dict[str, str]:
    """The phrases the chapter "Precision lower bound" quotes from its precision x dimension maps.

    Parameters
    ----------
    heat : dict
        ``{label: (ks, grid)}`` from :func:`precision_dimension_map`; the first label is the
        one described in detail.
    bits : sequence of float
        The maps' precisions.
    best_rows : list of dict
        :func:`budget_rows` of every map.
    tolerance : float
        "Within one point": the cheapest pair whose accuracy is at most this far below the
        full-dimension, full-precision probe.
    drop : float
        A row of a map "falls" when the accuracy drops by more than this from one precision
        to the next finer one.

    Returns
    -------
    dict of str to str
        ``heat_models_text``, ``heat_first``, ``heat_full``, ``heat_full_k``, ``heat_budget``,
        ``heat_budget_acc``, ``heat_budget_choice``, ``heat_cheapest``, ``heat_monotone_text``,
        ``heat_one_bit_text``, ``heat_conclusion`` and ``heat_summary``.
    """
    if not heat:
        raise ValueError("precision_map_phrases needs at least one map.")
    bits = [float(p) for p in bits]
    labels = list(heat)
    first = labels[0]
    ks0, grid0 = heat[first]
    grid0 = np.asarray(grid0, dtype=float)
    full = float(grid0[-1, -1])
    own = [row for row in best_rows if row["model"] == first]
    pick = own[min(len(own) - 1, 3)] if own else None
    phrases = {"heat_models_text": " and ".join(labels), "heat_first": first,
               "heat_full": format(full, ".3f"), "heat_full_k": str(ks0[-1])}
    if pick is not None:
        phrases.update(heat_budget=str(int(pick["budget k·p [bits]"])),
                       heat_budget_acc=format(float(pick["best accuracy"]), ".3f"),
                       heat_budget_choice=f"k = {int(pick['k'])} components at p = "
                                          f"{pick['p']:g} bits")
    else:  # no budget fits the map (a tiny sweep)
        phrases.update(heat_budget="any", heat_budget_acc="not measured",
                       heat_budget_choice="not defined")
    drops = sum(bool(np.any(np.diff(np.asarray(grid, float)[i, :-1]) < -drop))
                for ks, grid in heat.values() for i in range(len(ks)))
    rows_total = sum(len(ks) for ks, _ in heat.values())
    phrases["heat_monotone_text"] = (
        f"The map is not monotone in p: in {drops} of its {rows_total} rows the accuracy falls "
        f"by more than {drop * 100:.0f} points somewhere from one precision to the next finer "
        "one." if drops else
        f"In this run every row of the map rises (to within {drop * 100:.0f} points) with p.")
    close = [(k * p, k, p) for i, k in enumerate(ks0) for j, p in enumerate(bits)
             if grid0[i, j] >= full - tolerance]
    if close:
        budget, k, p = min(close)
        phrases["heat_cheapest"] = (f"k = {k} components at p = {p:g} bits (budget {budget:g} "
                                    "bits)")
    else:
        phrases["heat_cheapest"] = "no cell of the map"
    trade = False
    if 1.0 in bits and pick is not None:
        one_bit = float(grid0[-1, bits.index(1.0)])
        budget = int(pick["budget k·p [bits]"])
        trade = ks0[-1] > budget and one_bit < float(pick["best accuracy"])
        lead = ("Spending more bits on one-bit coordinates does worse: " if trade else
                "For comparison, ")
        phrases["heat_one_bit_text"] = (
            f"{lead}all {ks0[-1]} components at p = 1 ({ks0[-1]} bits) reach {one_bit:.3f}, "
            f"against {float(pick['best accuracy']):.3f} for the {budget}-bit choice above.")
    else:
        phrases["heat_one_bit_text"] = "The sweep has no one-bit column to compare with."
    phrases["heat_conclusion"] = (
        "So here the precision–dimension trade is real: the capacity curves above saturate "
        "within a few bits, but accuracy at a fixed bit budget depends on how the bits are "
        "split." if trade else
        "In this run the map does not show a clear advantage of few precise coordinates over "
        "many coarse ones.")
    phrases["heat_summary"] = (
        "A real precision–dimension trade appears once the representation is projected to "
        "fewer coordinates." if trade else
        "This run shows no clear precision–dimension trade after projection.")
    return phrases




def evidence_text(votes) -> str:
    """Text for per-comparison evidence, e.g. ``"helps in 5, hurts in 2 and makes no
    difference in 3 of 10 comparisons"`` (``votes`` from :func:`pca_evidence`)."""
    votes = list(votes)
    words = {"supports": "helps in", "contradicts": "hurts in",
             "neutral": "makes no difference (within one point) in"}
    unknown = sorted(set(votes) - set(words))
    if unknown:
        raise ValueError(f"unknown votes {unknown}; use {sorted(words)}.")
    parts = [f"{words[v]} {votes.count(v)}" for v in words if votes.count(v)]
    if not parts:
        return "has no comparison to show"
    return f"{join_words(parts)} of {len(votes)} comparisons"


