"""Precision thresholds: the predicted p*, the elbow of a capacity curve, and their verdicts.

Introduced in the chapter "Curvature threshold" (``notebooks/04_curvature_threshold``). The
proposal predicts that probe accuracy collapses below ``p* = ½·log2 κ`` and that the capacity
curve shows an elbow there. This module turns measurements into those comparisons:

- :func:`elbow_bits` locates the elbow of a measured curve by a stated rule (the breakpoint
  of the best continuous two-segment fit);
- :func:`threshold_comparison` compares a predicted threshold (with its interval) with an
  observed collapse threshold (:class:`helpers.measure.stats.ThresholdEstimate`), taking into
  account
  that an observed threshold at the coarsest swept precision is only an upper bound;
- :func:`combine_verdicts` (from :mod:`helpers.measure.verdicts`) summarizes verdicts over
  models.

Verdicts are ``"holds"``, ``"fails"``, ``"undecided"`` (the interval straddles the claim's
boundary) and ``"cannot be tested"`` (the claim has no content for that model, with a reason).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# the rules live with the vocabulary; chapters may keep calling them from here
from helpers._validation import check_bits_list, check_count, check_curve, is_number
from helpers.measure.verdicts import CLAIM_VERDICTS, combine_verdicts, interval_verdict


def elbow_bits(bits, capacity, *, candidates: int = 200) -> float:
    """Precision at the elbow of a curve: the breakpoint of the best two-segment fit.

    The curve is fitted by a continuous function that is linear on each side of a breakpoint
    ``b`` (least squares on ``[1, p, max(p - b, 0)]``), for ``b`` on a fine grid strictly
    inside the swept range; the ``b`` with the smallest residual is the elbow. On a curve
    that rises and then saturates, it is where the rise bends into the plateau.

    Parameters
    ----------
    bits : array_like
        Precisions ``p`` (at least four, any order).
    capacity : array_like
        The curve's value at each precision (``C_num`` in bits, say).
    candidates : int
        Breakpoints tried, evenly spaced between the second-smallest and second-largest
        precision.

    Returns
    -------
    float
        The breakpoint, in bits. ``nan`` when the curve is a straight line (no elbow: every
        breakpoint fits equally well).

    Raises
    ------
    ValueError
        Fewer than four precisions, mismatched lengths, non-finite or repeated values.
    """
    bits, capacity = check_curve(bits, capacity, name="capacity")
    if bits.size < 4:
        raise ValueError(f"an elbow needs at least four precisions, got {bits.size}.")
    check_count(candidates, name="candidates", minimum=2)
    breaks = np.linspace(bits[1], bits[-2], int(candidates))
    # one design matrix per candidate breakpoint, solved together
    design = np.stack([np.ones((breaks.size, bits.size)),
                       np.broadcast_to(bits, (breaks.size, bits.size)),
                       np.maximum(bits[None, :] - breaks[:, None], 0.0)], axis=-1)
    gram = np.einsum("bni,bnj->bij", design, design)
    rhs = np.einsum("bni,n->bi", design, capacity)
    coefficients = np.linalg.solve(gram + 1e-12 * np.eye(3), rhs[..., None])[..., 0]
    residual = ((np.einsum("bni,bi->bn", design, coefficients) - capacity) ** 2).sum(axis=1)
    line = np.polyval(np.polyfit(bits, capacity, 1), bits)
    line_residual = float(((line - capacity) ** 2).sum())
    scale = max(float(np.ptp(capacity)) ** 2 * bits.size, 1e-300)
    if line_residual - residual.min() <= 1e-9 * scale:
        return float("nan")
    return float(breaks[int(np.argmin(residual))])


@dataclass(frozen=True)
class ThresholdComparison:
    """A predicted threshold against an observed one (:func:`threshold_comparison`).

    Attributes
    ----------
    predicted, predicted_low, predicted_high : float
        The prediction and its interval, in bits.
    observed : float
        The observed threshold (``inf`` when accuracy never came within tolerance).
    observed_low, observed_high : float
        Its interval; ``observed_low = -inf`` when the observation is censored at the
        coarsest swept precision (the true threshold may be anywhere below it).
    error, error_low, error_high : float
        Signed error ``predicted - observed`` and the range it can take given both
        intervals (may be infinite on one side).
    verdict : str
        One of :data:`helpers.measure.verdicts.CLAIM_VERDICTS` for "the prediction is within
        ``tolerance`` bits".
    reason : str
        Why, in a sentence.
    tolerance : float
    """

    predicted: float
    predicted_low: float
    predicted_high: float
    observed: float
    observed_low: float
    observed_high: float
    error: float
    error_low: float
    error_high: float
    verdict: str
    reason: str
    tolerance: float

    def as_dict(self) -> dict:
        return asdict(self)


def _number(value, name: str, *, allow_infinite: bool = True) -> float:
    if not is_number(value) or np.isnan(value):  # infinity is allowed: "never collapses"
        raise ValueError(f"{name} must be a number, got {value!r}.")
    if not allow_infinite and not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return float(value)


def threshold_comparison(predicted, predicted_interval, observed, *,
                         tolerance: float = 2.0) -> ThresholdComparison:
    """Is a predicted collapse threshold within ``tolerance`` bits of the observed one?

    Parameters
    ----------
    predicted : float
        Predicted threshold in bits (``-inf`` when the curvature is zero: no threshold).
    predicted_interval : (float, float)
        Its interval.
    observed : helpers.measure.stats.ThresholdEstimate
        The observed collapse threshold with its bootstrap interval. When it sits at the
        coarsest swept precision the accuracy never collapsed in the sweep, so the true
        threshold is only known to be at most that value.
    tolerance : float
        Allowed absolute error in bits (the proposal's ±2).

    Returns
    -------
    ThresholdComparison
        ``holds`` when every error compatible with both intervals lies within
        ``±tolerance``; ``fails`` when none does; ``undecided`` otherwise; ``cannot be
        tested`` when the prediction is infinite (zero curvature) or the observed accuracy
        never came within tolerance.
    """
    predicted = _number(predicted, "predicted")
    low, high = (_number(v, "predicted_interval") for v in predicted_interval)
    tolerance = _number(tolerance, "tolerance", allow_infinite=False)
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}.")
    if low > high:
        raise ValueError(f"predicted_interval must satisfy low <= high, got ({low}, {high}).")
    for name in ("threshold", "ci_low", "ci_high", "at_coarsest"):
        if not hasattr(observed, name):
            raise ValueError("observed must be a helpers.measure.stats.ThresholdEstimate (from "
                             f"collapse_threshold_interval); it has no {name!r}.")
    obs = float(observed.threshold)
    obs_low = -np.inf if observed.at_coarsest else float(observed.ci_low)
    obs_high = float(observed.ci_high)
    if observed.at_coarsest:
        obs_high = max(obs_high, obs)
    error = predicted - obs if np.isfinite(predicted) and np.isfinite(obs) else np.nan
    with np.errstate(invalid="ignore"):
        error_low, error_high = low - obs_high, high - obs_low
    common = dict(predicted=predicted, predicted_low=low, predicted_high=high, observed=obs,
                  observed_low=obs_low, observed_high=obs_high, tolerance=tolerance)
    if not np.isfinite(predicted):
        return ThresholdComparison(**common, error=np.nan, error_low=np.nan,
                                   error_high=np.nan, verdict="cannot be tested",
                                   reason="zero curvature predicts no threshold at all")
    if not np.isfinite(obs):
        return ThresholdComparison(**common, error=np.nan, error_low=np.nan,
                                   error_high=np.nan, verdict="cannot be tested",
                                   reason="the accuracy never came within tolerance of full "
                                          "precision in the sweep")
    if error_low >= -tolerance and error_high <= tolerance:
        verdict, reason = "holds", f"every compatible error lies within ±{tolerance:g} bits"
    elif error_high < -tolerance or error_low > tolerance:
        side = "below" if error_high < -tolerance else "above"
        verdict, reason = "fails", (f"the prediction lies more than {tolerance:g} bits "
                                    f"{side} the observed threshold")
    else:
        verdict = "undecided"
        reason = ("the observed threshold is censored at the coarsest precision swept, so "
                  "the prediction may lie any distance above it" if observed.at_coarsest
                  else "the intervals straddle the tolerance")
    return ThresholdComparison(**common, error=error, error_low=float(error_low),
                               error_high=float(error_high), verdict=verdict, reason=reason)


def round_to_grid(train_u, test_u, bits):
    """Round representations that are already in unit-cube units to the grid ``2**-bits``.

    The quantizer for :func:`helpers.measure.probes.probe_curve` when the normalization was fitted
    once, on the whole training split (:meth:`helpers.nets.suite.SuiteRecord.normalized`), and must
    not be refitted on a subset.
    """
    from helpers.measure.quantize import quantize

    return quantize(train_u, bits), quantize(test_u, bits)


def observed_collapse(sample, bits, *, tolerance: float = 0.05, n_bootstrap: int = 1000,
                      seed: int = 0):
    """Probe accuracy against precision and the collapse threshold it implies.

    Parameters
    ----------
    sample : helpers.nets.suite.NormalizedSample
        Normalized training and test representations with labels.
    bits : sequence of float
        Precisions of the sweep (full precision is added).
    tolerance : float
        Collapse: accuracy more than ``tolerance`` below full precision (0.05 = 5 points).
    n_bootstrap, seed :
        For the probes' intervals and the threshold's bootstrap.

    Returns
    -------
    (helpers.measure.probes.ProbeCurve, helpers.measure.stats.ThresholdEstimate)
        The curve (full precision first, then ``bits`` in ascending order) and the
        threshold with its interval (see
        :func:`helpers.measure.stats.collapse_threshold_interval`).
    """
    from helpers.measure.probes import probe_curve
    from helpers.measure.stats import collapse_threshold_interval

    bits = [float(p) for p in check_bits_list(bits)]
    curve = probe_curve(sample.train_u, sample.train_y, sample.test_u, sample.test_y,
                        [None, *bits], quantizer=round_to_grid, n_bootstrap=n_bootstrap,
                        seed=seed)
    accuracy = [result.accuracy for result in curve.results[1:]]
    estimate = collapse_threshold_interval(bits, accuracy, curve.full_precision().accuracy,
                                           len(sample.test_y), tolerance=tolerance,
                                           n_bootstrap=n_bootstrap, seed=seed)
    return curve, estimate


def _tolerance_verdict(low: float, high: float, tolerance: float) -> str:
    """Verdict on "|error| <= tolerance" from the range ``[low, high]`` the error can take."""
    if low >= -tolerance and high <= tolerance:
        return "holds"
    if high < -tolerance or low > tolerance:
        return "fails"
    return "undecided"


def elbow_row(label: str, curve, quarter_curve, comparison: ThresholdComparison, *,
              tolerance: float = 2.0) -> dict:
    """The elbow of a capacity curve, on all points and on a quarter, against ``p*``.

    ``curve`` and ``quarter_curve`` are :class:`helpers.measure.covering.CapacityCurve` objects over
    the same radii; the elbow is :func:`elbow_bits` of ``log2 N`` against ``p = -log2 eps``.
    The verdict asks whether the elbow lies within ``tolerance`` bits of ``p*`` for every
    ``p*`` in the comparison's interval.
    """
    elbows = [elbow_bits(-np.log2(c.eps), c.log2_net_size) for c in (curve, quarter_curve)]
    predicted = (comparison.predicted, comparison.predicted_low, comparison.predicted_high)
    if not np.isfinite(elbows[0]):
        verdict = "cannot be tested"
    elif not np.all(np.isfinite(predicted)):
        verdict = "cannot be tested"
    else:
        verdict = _tolerance_verdict(elbows[0] - predicted[2], elbows[0] - predicted[1],
                                     tolerance)
    return {"model": label, "elbow p (all points)": elbows[0],
            "elbow p (quarter)": elbows[1], "shift with n/4": elbows[0] - elbows[1],
            "p*": predicted[0], "elbow − p*": elbows[0] - predicted[0],
            "elbow within ±2 bits of p*": verdict}


def sensitivity_rows(measured: dict, observed: dict, *, statistics, steps, rules: dict,
                     tolerance: float = 2.0, n_bootstrap: int = 300, seed: int = 0):
    """The combined verdict on "p* within tolerance" for every choice the proposal leaves open.

    Parameters
    ----------
    measured : dict
        ``{label: helpers.measure.curvature.ModelCurvature}``.
    observed : dict
        ``{label: helpers.measure.stats.ThresholdEstimate}``.
    statistics : sequence
        Statistics of kappa (``"median"`` or quantiles).
    steps : sequence of float
        Secant steps (fractions of the input diameter) for the non-smooth models; smooth
        models always use autograd.
    rules : dict
        ``{name: function}`` from kappa to a bit threshold.

    Returns
    -------
    list of dict
        One row per (rule, direction kind, statistic, step) with the combined verdict and
        the per-model counts.
    """
    from helpers.measure.curvature import DIRECTION_KINDS

    intervals = {}

    def interval(label, kind, statistic, step):
        m = measured[label]
        key = (label, kind, statistic, step if not m.smooth else None)
        if key not in intervals:
            intervals[key] = m.estimate(kind, step=None if m.smooth else step).interval(
                statistic, n_bootstrap=n_bootstrap, seed=seed)
        return intervals[key]

    rows = []
    for rule_name, rule in rules.items():
        for kind in DIRECTION_KINDS:
            for statistic in statistics:
                for step in steps:
                    verdicts = []
                    for label in measured:
                        value, low, high = (float(rule(v)) for v in
                                            interval(label, kind, statistic, step))
                        verdicts.append(threshold_comparison(
                            value, (low, high), observed[label], tolerance=tolerance).verdict)
                    rows.append({"rule": rule_name, "directions": kind,
                                 "statistic": statistic, "step h / D": step,
                                 "verdict": combine_verdicts(verdicts),
                                 **{word: verdicts.count(word) for word in CLAIM_VERDICTS}})
    return rows


__all__ = [
    "ThresholdComparison",
    "combine_verdicts",
    "elbow_bits",
    "elbow_row",
    "interval_verdict",
    "observed_collapse",
    "round_to_grid",
    "sensitivity_rows",
    "threshold_comparison",
]
