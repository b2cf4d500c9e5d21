"""Correlations with confidence intervals, and the empirical collapse threshold.

Introduced in the chapter "Precision lower bound" (``notebooks/02_precision_lower_bound``),
which tests the proposal's expectation that the numerical capacity and the linear-probe
accuracy correlate with ``r > 0.9`` across precision levels, and measures the precision at
which probe accuracy collapses (theory notes section 6).

Correlations
------------
:func:`bootstrap_correlation` gives Pearson's ``r`` or Spearman's ``rho`` with a *paired*
percentile bootstrap interval (Efron 1979): the pairs ``(x_i, y_i)`` are resampled together,
with replacement, and the coefficient is recomputed on each resample. A resample in which
one variable is constant has no correlation coefficient; such resamples are counted
(``n_degenerate``) and left out, so on tiny samples check that count. As a cross-check the
result also carries the Fisher z interval ``tanh(atanh(r) +- z_q / sqrt(n - 3))`` (Fisher
1915), exact in the limit for bivariate normal data; for Spearman the variance
``1.06 / (n - 3)`` of Fieller, Hartley and Pearson (1957) is used instead. On bivariate
normal data of moderate size the two intervals agree closely (``tests/test_stats.py``);
where they disagree the data are far from that model or too few.

What a bootstrap over *precision levels* means: the levels of a sweep are chosen, not
sampled, so the interval says how much the coefficient depends on which levels are in the
sweep; it does not include the measurement error of each point (test-set sampling of an
accuracy, say). The chapter states this where it uses it.

Collapse threshold
------------------
:func:`collapse_threshold` is the smallest precision of a sweep from which on (at it and at
every finer precision of the sweep) the accuracy stays within ``tolerance`` of the
full-precision accuracy. :func:`collapse_threshold_interval` adds a parametric bootstrap over
the test set: each accuracy is redrawn as ``Binomial(n_test, accuracy) / n_test`` and the
threshold recomputed. The draws at different precisions are independent, whereas the real
accuracies share their test points and so are positively correlated; differences of
independent draws vary more, so the interval is conservative (wider than a paired one).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from helpers._validation import (
    check_bootstrap,
    check_choice,
    check_confidence,
    check_count,
    check_curve,
    check_real,
    is_integer,
)

#: Default number of bootstrap resamples.
N_BOOTSTRAP = 2000
METHODS = ("pearson", "spearman")


# --------------------------------------------------------------------------- checks


def _check_pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Return ``x`` and ``y`` as finite float64 vectors of one length >= 3, not constant."""
    arrays = []
    for name, values in (("x", x), ("y", y)):
        if hasattr(values, "detach"):
            values = values.detach().cpu().numpy()
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name} must be a sequence of numbers: {error}") from error
        if array.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}.")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} holds NaN or infinite values; drop those pairs first.")
        arrays.append(array)
    x, y = arrays
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} values but y has {len(y)}; a correlation needs "
                         "paired values, one y for each x.")
    if len(x) < 3:
        raise ValueError(f"need at least 3 pairs for a correlation with an interval, got "
                         f"{len(x)}.")
    for name, array in (("x", x), ("y", y)):
        if np.ptp(array) == 0:
            raise ValueError(f"{name} is constant ({array[0]!r} everywhere); its correlation "
                             "with anything is undefined. Leave out the levels where it does "
                             "not vary (for a capacity curve, the saturated ones).")
    return x, y


def _check_method(method: str) -> str:
    return check_choice(method, METHODS, name="method")


def _normal_quantile(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


# --------------------------------------------------------------------------- coefficients


def _rows_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson coefficient of each row pair; NaN where a row is constant."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    sxx = np.einsum("...i,...i->...", xc, xc)
    syy = np.einsum("...i,...i->...", yc, yc)
    sxy = np.einsum("...i,...i->...", xc, yc)
    # relative tolerance: a resample of one repeated value has sxx ~ 0 up to rounding
    scale_x = np.einsum("...i,...i->...", x, x) * 1e-24 + 1e-300
    scale_y = np.einsum("...i,...i->...", y, y) * 1e-24 + 1e-300
    valid = (sxx > scale_x) & (syy > scale_y)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = sxy / np.sqrt(sxx * syy)
    r = np.clip(r, -1.0, 1.0)
    return np.where(valid, r, np.nan)


def _ranks(values: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(values, method="average", axis=-1)


def pearson(x, y) -> float:
    """Pearson's correlation coefficient of paired values.

    Raises
    ------
    ValueError
        Different lengths, fewer than 3 pairs, NaN or infinite values, or a constant input.
    """
    x, y = _check_pair(x, y)
    return float(_rows_pearson(x, y))


def spearman(x, y) -> float:
    """Spearman's rank correlation (Pearson's r of the ranks; ties get average ranks)."""
    x, y = _check_pair(x, y)
    return float(_rows_pearson(_ranks(x), _ranks(y)))


def fisher_z_interval(r: float, n: int, *, confidence: float = 0.95,
                      method: str = "pearson") -> tuple[float, float]:
    """Fisher z interval ``tanh(atanh(r) +- z_q * se)`` for a correlation from ``n`` pairs.

    ``se = 1 / sqrt(n - 3)`` for Pearson (Fisher 1915) and ``sqrt(1.06 / (n - 3))`` for
    Spearman (Fieller, Hartley and Pearson 1957). Exact asymptotically for bivariate normal
    data. ``|r| = 1`` gives the degenerate interval ``(r, r)``.

    Raises
    ------
    ValueError
        ``n < 4`` (the standard error needs ``n - 3 > 0``), ``r`` outside [-1, 1], or a bad
        ``confidence`` or ``method``.
    """
    _check_method(method)
    check_real(r, name="the correlation r", low=-1.0, high=1.0)
    if not is_integer(n) or n < 4:
        raise ValueError(f"the Fisher z interval needs n >= 4 pairs, got {n!r}.")
    check_confidence(confidence)
    if abs(r) == 1.0:
        return float(r), float(r)
    variance = (1.06 if method == "spearman" else 1.0) / (n - 3)
    z = math.atanh(r)
    half = _normal_quantile(confidence) * math.sqrt(variance)
    return math.tanh(z - half), math.tanh(z + half)


# --------------------------------------------------------------------------- bootstrap


@dataclass(frozen=True)
class CorrelationInterval:
    """A correlation coefficient with its paired-bootstrap and Fisher z intervals.

    Attributes
    ----------
    method : {"pearson", "spearman"}
    estimate : float
        The coefficient on the data.
    ci_low, ci_high : float
        Percentile interval of the bootstrap coefficients at level ``confidence``.
    fisher_low, fisher_high : float or None
        Fisher z interval (None when ``n < 4``).
    n : int
        Number of pairs.
    n_bootstrap : int
        Resamples drawn; ``n_degenerate`` of them had a constant variable and were left out.
    """

    method: str
    estimate: float
    ci_low: float
    ci_high: float
    fisher_low: float | None
    fisher_high: float | None
    n: int
    confidence: float
    n_bootstrap: int
    n_degenerate: int
    seed: int

    def as_dict(self) -> dict:
        return asdict(self)

    def __format__(self, spec: str) -> str:
        """``f"{c:.2f}"`` gives e.g. ``0.93 [0.81, 0.99]``."""
        spec = spec or ".2f"
        return f"{self.estimate:{spec}} [{self.ci_low:{spec}}, {self.ci_high:{spec}}]"


def bootstrap_correlation(x, y, *, method: str = "pearson", n_bootstrap: int = N_BOOTSTRAP,
                          confidence: float = 0.95, seed: int = 0) -> CorrelationInterval:
    """Correlation of paired values with a paired percentile bootstrap interval.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Paired values, ``n >= 3``, neither constant.
    method : {"pearson", "spearman"}
    n_bootstrap : int
        Resamples of the n pairs (with replacement, pairs kept together).
    confidence : float
        Level of the percentile and Fisher z intervals.
    seed : int
        Seed of the resampling; the same seed gives the same interval.

    Returns
    -------
    CorrelationInterval

    Raises
    ------
    ValueError
        Different lengths, fewer than 3 pairs, NaN or infinite values, a constant input, or
        every resample degenerate (too few distinct values to resample).
    """
    _check_method(method)
    check_bootstrap(n_bootstrap, allow_zero=False)
    check_confidence(confidence)
    check_count(seed, name="seed", minimum=0)
    x, y = _check_pair(x, y)
    n = len(x)
    if method == "spearman":
        estimate = float(_rows_pearson(_ranks(x), _ranks(y)))
    else:
        estimate = float(_rows_pearson(x, y))
    rng = np.random.default_rng(seed)
    samples = []
    chunk = max(1, min(int(n_bootstrap), 4_000_000 // n))
    done = 0
    while done < n_bootstrap:
        size = min(chunk, int(n_bootstrap) - done)
        index = rng.integers(0, n, size=(size, n))
        xs, ys = x[index], y[index]
        if method == "spearman":
            xs, ys = _ranks(xs), _ranks(ys)
        samples.append(_rows_pearson(xs, ys))
        done += size
    values = np.concatenate(samples)
    kept = values[np.isfinite(values)]
    n_degenerate = int(len(values) - len(kept))
    if len(kept) == 0:
        raise ValueError(f"every one of the {n_bootstrap} resamples had a constant variable; "
                         f"with {n} pairs there are too few distinct values to bootstrap.")
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(kept, [tail, 100 - tail])
    fisher = (fisher_z_interval(estimate, n, confidence=confidence, method=method)
              if n >= 4 else (None, None))
    return CorrelationInterval(
        method=method, estimate=estimate, ci_low=float(low), ci_high=float(high),
        fisher_low=fisher[0], fisher_high=fisher[1], n=n, confidence=float(confidence),
        n_bootstrap=int(n_bootstrap), n_degenerate=n_degenerate, seed=int(seed),
    )


def correlation_verdict(interval: CorrelationInterval | tuple, threshold: float = 0.9, *,
                        which: str = "bootstrap") -> str:
    """Decide a claim "correlation > threshold" from an interval.

    Returns ``"holds"`` when the whole interval lies above ``threshold``, ``"fails"`` when
    it lies at or below it, and ``"undecided"`` when it straddles it (words of
    :data:`helpers.measure.verdicts.CLAIM_VERDICTS`).

    Parameters
    ----------
    interval : CorrelationInterval or (low, high)
    threshold : float
    which : {"bootstrap", "fisher", "union"}
        For a :class:`CorrelationInterval`: its bootstrap interval, its Fisher z interval, or
        the smallest interval containing both (the cautious choice when there are few pairs,
        where neither is reliable: percentile bootstrap intervals of a correlation from a
        handful of pairs are too narrow, and Fisher's assumes bivariate normal data).
    """
    if which not in ("bootstrap", "fisher", "union"):
        raise ValueError(f"which must be 'bootstrap', 'fisher' or 'union', got {which!r}.")
    if isinstance(interval, CorrelationInterval):
        if which != "bootstrap" and interval.fisher_low is None:
            raise ValueError(f"this interval has no Fisher z part (n = {interval.n} < 4); "
                             "use which='bootstrap'.")
        bootstrap = (interval.ci_low, interval.ci_high)
        fisher = (interval.fisher_low, interval.fisher_high)
        low, high = {"bootstrap": bootstrap, "fisher": fisher,
                     "union": (min(bootstrap[0], fisher[0] if fisher[0] is not None else 1.0),
                               max(bootstrap[1], fisher[1] if fisher[1] is not None else -1.0))
                     }[which]
    else:
        try:
            low, high = (float(v) for v in interval)
        except (TypeError, ValueError) as error:
            raise ValueError("interval must be a CorrelationInterval or a (low, high) pair."
                             ) from error
    if not (np.isfinite(low) and np.isfinite(high)) or low > high:
        raise ValueError(f"interval must satisfy low <= high, finite; got ({low}, {high}).")
    if low > threshold:
        return "holds"
    if high <= threshold:
        return "fails"
    return "undecided"


@dataclass(frozen=True)
class CorrelationTest:
    """The claim "Pearson's r exceeds a threshold", decided on paired values.

    Returned by :func:`correlation_test`. ``verdict`` is a word of
    :data:`helpers.measure.verdicts.CLAIM_VERDICTS`; ``pearson`` and ``spearman`` are the
    coefficients with their intervals, ``None`` when the claim cannot be tested; ``n`` is the
    number of pairs.
    """

    verdict: str
    pearson: CorrelationInterval | None
    spearman: CorrelationInterval | None
    n: int

    def as_dict(self) -> dict:
        """One flat row: ``n``, ``r``, the interval the verdict used (``r_low``, ``r_high``:
        the union of the bootstrap and Fisher z intervals), ``rho`` and ``verdict``; the
        numbers are ``None`` when the claim cannot be tested."""
        r, rho = self.pearson, self.spearman
        return {"n": self.n, "r": r and r.estimate,
                "r_low": r and min(r.ci_low, r.fisher_low if r.fisher_low is not None else 1.0),
                "r_high": r and max(r.ci_high, r.fisher_high if r.fisher_high is not None
                                    else -1.0),
                "rho": rho and rho.estimate, "verdict": self.verdict}


def correlation_test(x, y, threshold: float = 0.9, *, min_pairs: int = 4,
                     which: str = "union", n_bootstrap: int = N_BOOTSTRAP,
                     confidence: float = 0.95, seed: int = 0) -> CorrelationTest:
    """Test "Pearson's r > threshold" on paired values, or say that it cannot be tested.

    Introduced in the chapter "Precision lower bound", which tests the proposal's expected
    correlation between capacity and probe accuracy across precisions. A correlation from
    fewer than ``min_pairs`` pairs, or with a constant variable, has no content, so the
    verdict is then ``"cannot be tested"``; otherwise both coefficients are computed by
    :func:`bootstrap_correlation` (same resampling settings) and the verdict is
    :func:`correlation_verdict` of Pearson's ``r`` with the interval ``which``.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Paired values.
    threshold : float
        The claim's boundary.
    min_pairs : int
        Fewest pairs the claim is tested on (at least 4: Fisher's interval needs them).
    which : {"bootstrap", "fisher", "union"}
        Interval the verdict uses, as in :func:`correlation_verdict`.
    n_bootstrap, confidence, seed :
        As in :func:`bootstrap_correlation`.

    Returns
    -------
    CorrelationTest
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"x has {x.size} values but y has {y.size}; the values are paired.")
    check_count(min_pairs, name="min_pairs", minimum=4)
    if x.size < min_pairs or np.ptp(x) == 0 or np.ptp(y) == 0:
        return CorrelationTest("cannot be tested", None, None, int(x.size))
    settings = dict(n_bootstrap=n_bootstrap, confidence=confidence, seed=seed)
    r = bootstrap_correlation(x, y, method="pearson", **settings)
    rho = bootstrap_correlation(x, y, method="spearman", **settings)
    return CorrelationTest(correlation_verdict(r, threshold, which=which), r, rho, int(x.size))


# --------------------------------------------------------------------------- collapse


def _threshold(bits: np.ndarray, accuracy: np.ndarray, reference, tolerance: float):
    """Vectorized over the leading axes of ``accuracy`` (last axis: precisions, sorted)."""
    ok = accuracy >= np.asarray(reference)[..., None] - tolerance - 1e-12
    # from p on: every finer precision is also within tolerance
    tail_ok = np.flip(np.logical_and.accumulate(np.flip(ok, axis=-1), axis=-1), axis=-1)
    first = np.argmax(tail_ok, axis=-1)
    found = np.take_along_axis(tail_ok, first[..., None], axis=-1)[..., 0]
    return np.where(found, bits[first], np.inf)


def collapse_threshold(bits, accuracy, reference: float, *, tolerance: float = 0.05) -> float:
    """Smallest precision from which on the accuracy stays within ``tolerance`` of full.

    Parameters
    ----------
    bits : array_like
        Precisions of the sweep (any order; full precision not included).
    accuracy : array_like
        Accuracy at each precision.
    reference : float
        Full-precision accuracy.
    tolerance : float
        Allowed drop, in accuracy units (0.05 = five percentage points).

    Returns
    -------
    float
        The threshold ``p`` (a value of ``bits``): accuracy ``>= reference - tolerance`` at
        ``p`` and at every larger swept precision. ``inf`` if even the finest precision
        falls short. A threshold equal to ``min(bits)`` means "at or below the coarsest
        precision swept": the sweep did not reach the collapse.
    """
    bits, accuracy = check_curve(bits, accuracy, name="accuracy")
    check_real(tolerance, name="tolerance", low=0.0)
    check_real(reference, name="reference accuracy")
    return float(_threshold(bits, accuracy, float(reference), float(tolerance)))


@dataclass(frozen=True)
class ThresholdEstimate:
    """A collapse threshold with its bootstrap interval (:func:`collapse_threshold_interval`).

    Attributes
    ----------
    threshold : float
        On the measured accuracies; ``inf`` if never within tolerance.
    ci_low, ci_high : float
        Percentile interval of the bootstrap thresholds (values of the sweep, or ``inf``).
    at_coarsest : bool
        The threshold is the coarsest swept precision: the true one may be lower.
    coarsest_bits : float
        That coarsest precision.
    distribution : dict
        ``{precision: fraction of resamples}`` (``inf`` for "never").
    """

    threshold: float
    ci_low: float
    ci_high: float
    at_coarsest: bool
    coarsest_bits: float
    tolerance: float
    confidence: float
    n_bootstrap: int
    distribution: dict

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self, spec: str = "g") -> str:
        """Text such as ``1.5 [1, 2]`` or ``<= 0.25 [<= 0.25, 0.5]``."""

        def show(value):
            if not np.isfinite(value):
                return "not reached"
            text = format(value, spec)
            return f"<= {text}" if value == self.coarsest_bits else text

        return f"{show(self.threshold)} [{show(self.ci_low)}, {show(self.ci_high)}]"


def collapse_threshold_interval(bits, accuracy, reference: float, n_test: int, *,
                                tolerance: float = 0.05, n_bootstrap: int = N_BOOTSTRAP,
                                confidence: float = 0.95, seed: int = 0) -> ThresholdEstimate:
    """:func:`collapse_threshold` with a parametric bootstrap interval over the test set.

    Each accuracy (and the reference) is redrawn as ``Binomial(n_test, a) / n_test``,
    independently, and the threshold is recomputed; see the module docstring for why the
    interval is conservative.

    Parameters
    ----------
    bits, accuracy, reference, tolerance :
        As in :func:`collapse_threshold`.
    n_test : int
        Test points behind every accuracy.
    n_bootstrap, confidence, seed :
        Resamples, interval level, and seed.
    """
    check_bootstrap(n_bootstrap, allow_zero=False)
    check_confidence(confidence)
    check_count(seed, name="seed", minimum=0)
    check_count(n_test, name="n_test")
    threshold = collapse_threshold(bits, accuracy, reference, tolerance=tolerance)
    bits, accuracy = check_curve(bits, accuracy, name="accuracy")
    for name, values in (("accuracy", accuracy), ("reference", np.array([reference]))):
        if np.any(values < 0) or np.any(values > 1):
            raise ValueError(f"{name} must lie in [0, 1] for the binomial bootstrap.")
    rng = np.random.default_rng(seed)
    drawn = rng.binomial(n_test, accuracy, size=(int(n_bootstrap), accuracy.size)) / n_test
    drawn_reference = rng.binomial(n_test, float(reference), size=int(n_bootstrap)) / n_test
    samples = _threshold(bits, drawn, drawn_reference, float(tolerance))
    # percentiles of a discrete distribution: take the order statistics, no interpolation
    tail = (1 - confidence) / 2
    ordered = np.sort(samples)
    low = ordered[int(np.floor(tail * (len(ordered) - 1)))]
    high = ordered[int(np.ceil((1 - tail) * (len(ordered) - 1)))]
    values, counts = np.unique(samples, return_counts=True)
    distribution = {float(v): float(c / len(samples)) for v, c in zip(values, counts,
                                                                        strict=True)}
    return ThresholdEstimate(
        threshold=threshold, ci_low=float(low), ci_high=float(high),
        at_coarsest=bool(threshold == bits[0]), coarsest_bits=float(bits[0]),
        tolerance=float(tolerance), confidence=float(confidence),
        n_bootstrap=int(n_bootstrap), distribution=distribution,
    )


__all__ = ["METHODS", "N_BOOTSTRAP", "CorrelationInterval", "CorrelationTest",
           "ThresholdEstimate", "bootstrap_correlation", "collapse_threshold",
           "collapse_threshold_interval", "correlation_test", "correlation_verdict",
           "fisher_z_interval", "pearson", "spearman"]
