"""Ground truth, gap factors, nested grids and Rademacher complexities for the MI comparison.

Introduced in the chapter "MI comparison" (``notebooks/06_mi_comparison``), which sets the
capacity ``C_num`` of each network beside estimates of ``I(X; Z_q)``, ``I(Z_q; Y)`` and a
Rademacher complexity. The estimators themselves are in :mod:`helpers.measure.information` and
:mod:`helpers.measure.mi_neural`; this module holds what the chapter builds on them:

Ground truth
    :func:`quantized_gaussian_mi_bits` is the exact MI of a correlated Gaussian pair after
    both sides are cut into bins (a discrete case with many ties), and
    :func:`ground_truth_cases` the chapter's battery of samples with known MI.
Per-precision measurements
    :func:`precision_row` measures one representation at one precision: ``C_num``, occupied
    cells, three entropy estimates of ``H(Z_q)`` and optionally InfoNCE and MINE;
    :func:`case_rows` runs every estimator on a ground-truth case. Both can cache their rows
    by content hash, so a rerun of the chapter does not train its critics again.
The gap factor
    :func:`gap_comparison` turns ``C_num`` and an MI estimate with its interval into the ratio
    ``C_num / I`` with an interval, and a verdict on the proposal's "``C_num`` bounds ``I``
    with a gap below 2x" that says when the sample's ceilings leave nothing to test.
Fano
    :func:`fano_mi_lower_bound` inverts Fano's inequality: a measured error rate is a lower
    bound on ``I(Z; Y)``.
Nested grids
    :func:`truncation_codes` (dyadic truncation, nested across whole ``p``),
    :func:`refines` (is one code a function of another) and :func:`decreases` (where a
    sequence that the data-processing inequality orders goes the wrong way).
Rademacher complexity
    :func:`linear_rademacher` (Monte Carlo, with an interval) and
    :func:`linear_rademacher_exact` (enumeration) for norm-bounded linear probes;
    :func:`partition_rademacher` (exact) for all sign functions constant on the cells of a
    partition, :func:`massart_bound` (its finite-class bound from the number of cells) and
    :func:`greedy_partition` (the partition of a sample by the balls of a greedy net).
Chapter tables
    :func:`neural_inputs`, :func:`gap_rows`, :func:`label_information_rows`,
    :func:`nesting_rows` and :func:`rademacher_rows` build the chapter's per-model tables.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from helpers._validation import (
    check_bits_list,
    check_confidence,
    check_count,
    check_points,
    check_real,
    check_real_array,
    is_number,
)

__all__ = [
    "CLAIM_RANGE",
    "GAP_ESTIMATORS",
    "GapComparison",
    "GroundTruthCase",
    "RademacherEstimate",
    "case_estimators",
    "decreases",
    "estimate_case",
    "fano_mi_lower_bound",
    "gap_comparison",
    "gap_rows",
    "greedy_partition",
    "ground_truth_cases",
    "label_information_rows",
    "linear_rademacher",
    "linear_rademacher_exact",
    "massart_bound",
    "nesting_rows",
    "partition_rademacher",
    "quantized_gaussian_mi_bits",
    "rademacher_rows",
    "refines",
    "truncation_codes",
]

#: The proposal's claim ``I <= C_num < 2 I``, as a range for the ratio ``C_num / I``.
CLAIM_RANGE = (1.0, 2.0)
_LN2 = math.log(2.0)


# --------------------------------------------------------------------------- ground truth


def quantized_gaussian_mi_bits(rho: float, step: float, *, dims: int = 1, span: float = 9.0,
                               nodes: int = 24) -> float:
    """Exact ``I(floor(X / step); floor(Y / step))`` in bits for correlated standard normals.

    ``(X, Y)`` are ``dims`` independent pairs with correlation ``rho`` each (as in
    :func:`helpers.measure.information.correlated_gaussians`); each coordinate is cut into bins
    ``[k step, (k + 1) step)``. The MI is ``dims`` times that of one pair, whose joint cell
    probabilities ``P(X in bin i, Y in bin j) = int_bin_i phi(x) [Phi((b_j+1 - rho x) / s) -
    Phi((b_j - rho x) / s)] dx`` (``s = sqrt(1 - rho^2)``) are integrated by Gauss-Legendre
    quadrature with ``nodes`` points per bin; bins beyond ``span`` standard deviations are
    merged into the outermost ones (their mass is below ``1e-18``).

    Parameters
    ----------
    rho : float
        Correlation, strictly inside (-1, 1).
    step : float
        Bin width in standard deviations, > 0.
    dims : int
        Number of independent pairs.
    span, nodes :
        Integration range (standard deviations) and quadrature points per bin.

    Returns
    -------
    float
        The MI in bits; it is below :func:`helpers.measure.information.gaussian_mi_bits` (data
        processing) and tends to 0 as ``step`` grows.
    """
    from scipy.special import ndtr

    rho = check_real(rho, name="rho", low=-1.0, high=1.0 - 1e-15, include_low=False)
    step = check_real(step, name="step", low=0.0, include_low=False)
    dims = check_count(dims, name="dims", minimum=1)
    nodes = check_count(nodes, name="nodes", minimum=2)
    first, last = math.floor(-span / step), math.ceil(span / step)
    edges = np.arange(first, last + 1) * step
    if len(edges) > 4001:
        raise ValueError(f"step={step:g} gives {len(edges) - 1} bins over +-{span:g} sd; use a "
                         "step of at least 2 span / 4000.")
    x_nodes, weights = np.polynomial.legendre.leggauss(nodes)
    half = step / 2
    x = (edges[:-1, None] + half) + half * x_nodes[None, :]  # (bins, nodes)
    density = np.exp(-x**2 / 2) / math.sqrt(2 * math.pi) * weights[None, :] * half
    scale = math.sqrt(1 - rho**2)
    inner = np.concatenate([[-np.inf], edges[1:-1], [np.inf]])  # outer bins reach to infinity
    chunk = max(1, 2_000_000 // (nodes * len(inner)))
    joint = np.empty((len(x), len(inner) - 1))
    for start in range(0, len(x), chunk):  # (bins, nodes, edges) in blocks of ~16 MB
        cdf = ndtr((inner[None, None, :] - rho * x[start:start + chunk, :, None]) / scale)
        joint[start:start + chunk] = np.einsum("bn,bne->be", density[start:start + chunk],
                                               np.diff(cdf, axis=2))
    # the x integral of the outermost bins is truncated at +-span sd; renormalize
    joint = np.clip(joint, 0.0, None)
    joint /= joint.sum()
    px, py = joint.sum(axis=1), joint.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log2(joint / np.outer(px, py)), 0.0)
    return float(dims * max(terms.sum(), 0.0))


@dataclass(frozen=True)
class GroundTruthCase:
    """A sample with known ``I(X; Y)`` (from :func:`ground_truth_cases`).

    Attributes
    ----------
    family : str
        ``"Gaussian"``, ``"Gaussian, x -> x^3"``, ``"quantized Gaussian"`` or ``"Student-t"``.
    dims : int
        Dimension of each side.
    truth : float
        The exact MI in bits.
    x, y : numpy.ndarray, shape (n, dims)
    discrete : bool
        True when the sample holds ties (bin indices), so count-based estimators apply.
    note : str
        Parameters of the distribution, in words.
    """

    family: str
    dims: int
    truth: float
    x: np.ndarray
    y: np.ndarray
    discrete: bool = False
    note: str = ""


def ground_truth_cases(n: int, *, dims=(1, 2, 8, 32), cubic_dims=(1, 8), rho: float = 0.5,
                       strong_rho: float = 0.9, step: float = 0.5, df: float = 3.0,
                       seed: int = 0) -> list[GroundTruthCase]:
    """The chapter "MI comparison"'s samples with known MI, ``n`` pairs each.

    - correlated Gaussians (correlation ``rho`` per coordinate) in each of ``dims``;
    - one strongly dependent Gaussian (``strong_rho`` in 8 dimensions, far above 7 bits:
      beyond the InfoNCE ceiling ``log2 128``);
    - the Gaussians of ``cubic_dims`` after ``x -> x^3`` on every coordinate of both sides
      (invertible, so the MI is unchanged);
    - a quantized Gaussian: one pair with correlation ``strong_rho``, both sides cut into
      bins of ``step`` standard deviations (exact MI from
      :func:`quantized_gaussian_mi_bits`; almost every value is tied);
    - a Student-t pair with ``df`` degrees of freedom in 2 dimensions (heavy tails).

    Returns
    -------
    list of GroundTruthCase
    """
    from helpers.measure.information import (
        correlated_gaussians,
        correlated_student_t,
        gaussian_mi_bits,
        student_t_mi_bits,
    )

    n = check_count(n, name="n", minimum=2)
    cases = []
    for index, d in enumerate(dims):
        x, y = correlated_gaussians(n, rho, d, seed=seed + index)
        cases.append(GroundTruthCase("Gaussian", d, gaussian_mi_bits(rho, d), x, y,
                                     note=f"ρ = {rho:g} per coordinate"))
    x, y = correlated_gaussians(n, strong_rho, 8, seed=seed + 50)
    cases.append(GroundTruthCase("Gaussian, strong", 8, gaussian_mi_bits(strong_rho, 8), x, y,
                                 note=f"ρ = {strong_rho:g} per coordinate"))
    for index, d in enumerate(cubic_dims):
        x, y = correlated_gaussians(n, rho, d, seed=seed + 100 + index)
        cases.append(GroundTruthCase("Gaussian, x ↦ x³", d, gaussian_mi_bits(rho, d), x**3,
                                     y**3, note=f"ρ = {rho:g}, then cubed coordinate-wise"))
    x, y = correlated_gaussians(n, strong_rho, 1, seed=seed + 200)
    cases.append(GroundTruthCase(
        "quantized Gaussian", 1, quantized_gaussian_mi_bits(strong_rho, step),
        np.floor(x / step), np.floor(y / step), discrete=True,
        note=f"ρ = {strong_rho:g}, bins of {step:g} sd"))
    x, y = correlated_student_t(n, rho, df, 2, seed=seed + 300)
    cases.append(GroundTruthCase("Student-t", 2, student_t_mi_bits(rho, df, 2), x, y,
                                 note=f"ρ = {rho:g}, {df:g} degrees of freedom"))
    return cases


def case_estimators(case: GroundTruthCase, *, neural: dict | None = None, seed: int = 0,
                    n_bootstrap: int = 200) -> dict:
    """The estimators the chapter "MI comparison" runs on one ground-truth case.

    KSG (ties jittered) always; for a discrete case also the count-based MI (Miller-Madow,
    and the same minus its label-shuffle baseline) and KSG with ties ignored (to show what
    ties do to it); InfoNCE and MINE when ``neural`` holds their keyword arguments.

    Returns
    -------
    dict
        ``{name: callable(x, y) -> MIEstimate}``.
    """
    from dataclasses import replace

    from helpers.measure.information import ksg_mutual_information, mutual_information_discrete

    estimators = {"KSG": lambda x, y: ksg_mutual_information(x, y, seed=seed)}
    if case.discrete:
        def counts(x, y):
            return mutual_information_discrete(x, y, n_bootstrap=n_bootstrap, seed=seed)

        def shuffle_corrected(x, y):
            estimate = counts(x, y)
            shift = estimate.extras["shuffle_mean"]
            return replace(estimate, estimate=estimate.estimate - shift,
                           ci_low=estimate.ci_low - shift, ci_high=estimate.ci_high - shift,
                           method="discrete-shuffle-corrected")

        estimators["counts (Miller-Madow)"] = counts
        estimators["counts, shuffle-corrected"] = shuffle_corrected
        estimators["KSG, ties ignored"] = lambda x, y: ksg_mutual_information(
            x, y, ties="ignore", seed=seed)
    if neural is not None:
        from helpers.measure.mi_neural import infonce_mi, mine_mi

        estimators["InfoNCE"] = lambda x, y: infonce_mi(x, y, seed=seed,
                                                        n_bootstrap=n_bootstrap, **neural)
        estimators["MINE"] = lambda x, y: mine_mi(x, y, seed=seed, n_bootstrap=n_bootstrap,
                                                  **neural)
    return estimators


def estimate_case(case: GroundTruthCase, estimators: dict) -> list[dict]:
    """Run each estimator on a ground-truth case: one row per estimator, with the truth.

    Returns
    -------
    list of dict
        ``case``, ``d``, ``truth``, ``estimator``, ``estimate``, ``low``, ``high``,
        ``ceiling``, ``at ceiling``, ``error`` (estimate minus truth), ``covers truth``
        (the interval contains it; None when there is no interval) and ``seconds``.
    """
    rows = []
    for name, estimator in estimators.items():
        started = time.perf_counter()
        result = estimator(case.x, case.y)
        seconds = time.perf_counter() - started
        has_interval = math.isfinite(result.ci_low) and math.isfinite(result.ci_high)
        rows.append({"case": case.family, "d": case.dims, "truth": case.truth,
                     "estimator": name, "estimate": result.estimate, "low": result.ci_low,
                     "high": result.ci_high, "ceiling": result.ceiling,
                     "at ceiling": result.at_ceiling, "error": result.estimate - case.truth,
                     "covers truth": (bool(result.ci_low <= case.truth <= result.ci_high)
                                      if has_interval else None),
                     "seconds": seconds})
    return rows


# --------------------------------------------------------------------------- per precision


# --------------------------------------------------------------------------- gap factor


@dataclass(frozen=True)
class GapComparison:
    """``C_num / I`` with an interval and the verdict on ``1 <= C_num / I < 2``.

    Attributes
    ----------
    ratio : float
        ``C_num / I`` at the point estimate (``inf`` when ``I <= 0``).
    low, high : float
        The range the ratio can take given the interval of ``I`` and the censoring: ``low``
        is 0 when ``I`` sits at its ceiling (the true value may be higher), ``high`` is
        ``inf`` when ``C_num`` sits at ``log2 n`` or the interval of ``I`` reaches 0.
    c_censored, i_censored : bool
        ``C_num`` at the sample ceiling ``log2 n``; ``I`` at its own ceiling or only a lower
        bound.
    verdict : str
        ``holds``, ``fails``, ``undecided`` or ``cannot be tested``.
    reason : str
        Why, in a few words.
    """

    ratio: float
    low: float
    high: float
    c_censored: bool
    i_censored: bool
    verdict: str
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def gap_comparison(c_num: float, estimate: float, ci_low: float, ci_high: float,
                   ceiling: float, n: int, *, lower_bound: bool = False, decides: bool = True,
                   margin: float = 0.1, claim=CLAIM_RANGE) -> GapComparison:
    """Verdict on the proposal's "``C_num`` bounds ``I`` with a gap below 2x" at one precision.

    The claim is ``claim[0] <= C_num / I < claim[1]``. ``C_num`` is taken as exact on the
    sample; the interval of ``I`` is propagated: ``C_num / ci_high <= ratio <= C_num / ci_low``.
    Two ceilings censor the comparison (chapter "MI comparison", section on the gap):

    - ``C_num`` within ``margin`` bits of ``log2 n``: the sample cannot show a larger
      capacity, so the ratio has no upper end (``high = inf``);
    - ``I`` within ``margin`` of its estimator's ceiling (``log2 n`` for the plug-in,
      ``log2 K`` for InfoNCE): the true MI may be larger, so ``low = 0``.

    When both sit at ``log2 n`` the ratio is forced to about 1 by the sample size and says
    nothing about the networks. A *lower bound* on ``I`` (InfoNCE: ``lower_bound=True``)
    is censored the same way everywhere: the true MI may be larger, so the ratio has no lower
    end and the claim can fail (``C_num`` below the bound) but never hold. An estimate that is
    no bound at all (MINE: ``decides=False``) gets its ratio and range but never a verdict
    other than ``cannot be tested``.

    Parameters
    ----------
    c_num : float
        ``C_num(2^-p)`` in bits.
    estimate, ci_low, ci_high : float
        The MI estimate and its interval, in bits (NaN interval ends count as missing: the
        point estimate is used).
    ceiling : float
        The estimator's ceiling in bits (``inf`` for none).
    n : int
        Sample size (for ``log2 n``).
    lower_bound : bool
        The estimator bounds ``I`` from below (a variational bound), rather than estimating it.
    decides : bool
        False for an estimate that is neither ``I`` itself nor a guaranteed bound on it, such
        as MINE's finite-sample Donsker-Varadhan value, which is biased upward: the ratio and
        its range are still computed, but the verdict is always ``cannot be tested``, so such
        an estimate can never make the claim fail or hold.
    margin : float
        How close to a ceiling counts as "at" it, in bits.
    claim : (float, float)
        The claimed range of the ratio.

    Returns
    -------
    GapComparison
        ``holds`` when the whole ratio range lies in ``[claim[0], claim[1])``, ``fails``
        when it lies wholly outside, ``cannot be tested`` when it straddles a boundary only
        because of a ceiling (or the estimate is NaN), ``undecided`` when it straddles one
        with both values uncensored.
    """
    n = check_count(n, name="n", minimum=2)
    if not (math.isfinite(c_num) and c_num >= 0):
        raise ValueError(f"c_num must be a finite number >= 0, got {c_num!r}.")
    lower, upper = claim
    if not math.isfinite(estimate):
        return GapComparison(math.nan, math.nan, math.nan, False, False, "cannot be tested",
                             "no estimate of I")
    ci_low = estimate if not math.isfinite(ci_low) else min(ci_low, estimate)
    ci_high = estimate if not math.isfinite(ci_high) else max(ci_high, estimate)
    c_censored = c_num >= math.log2(n) - margin
    at_ceiling = bool(math.isfinite(ceiling) and estimate >= ceiling - margin)
    i_censored = at_ceiling or bool(lower_bound)

    def divide(a, b):
        return a / b if b > 0 else math.inf

    ratio = divide(c_num, estimate)
    low = 0.0 if i_censored else divide(c_num, ci_high)
    high = math.inf if c_censored else divide(c_num, ci_low)
    if not decides:
        verdict, reason = "cannot be tested", "the estimate of I is not a bound: reported only"
    elif low >= lower and high < upper:
        verdict, reason = "holds", "the ratio's whole range lies in [1, 2)"
    elif high < lower:
        verdict, reason = "fails", "C_num is below I over the whole interval"
    elif low >= upper:
        verdict, reason = "fails", "the gap is 2x or more over the whole interval"
    elif c_censored and at_ceiling:
        verdict, reason = "cannot be tested", "both sit at their ceilings: the ratio is forced"
    elif c_censored and i_censored:
        verdict, reason = ("cannot be tested", "C_num sits at log2 n and I is only bounded "
                           "from below: the ratio has neither end")
    elif c_censored:
        verdict, reason = "cannot be tested", "C_num sits at log2 n: no upper end"
    elif at_ceiling:
        verdict, reason = "cannot be tested", "I sits at its estimator's ceiling: no lower end"
    elif i_censored:
        verdict, reason = "cannot be tested", "a lower bound on I gives the ratio no lower end"
    else:
        verdict, reason = "undecided", "the interval straddles a boundary of [1, 2)"
    return GapComparison(float(ratio), float(low), float(high), bool(c_censored), i_censored,
                         verdict, reason)


# --------------------------------------------------------------------------- Fano


def fano_mi_lower_bound(error_rate, n_classes: int, *, label_entropy_bits=None):
    """Lower bound on ``I(Z; Y)`` in bits implied by an error rate, by Fano's inequality.

    Fano: ``H(Y | Z) <= h(P_e) + P_e log2(K - 1)`` for the error ``P_e`` of *any* classifier
    of Y from Z, so ``I(Z; Y) = H(Y) - H(Y | Z) >= H(Y) - h(P_e) - P_e log2(K - 1)``. The
    right side falls as ``P_e`` grows on ``[0, 1 - 1/K]``; beyond that the bound is 0. A probe's
    test error (its upper confidence limit, for a conservative bound) gives a lower bound on
    the information the quantized representation holds about the label. It is the inverse
    of :func:`helpers.measure.information.fano_error_lower_bound`.

    Parameters
    ----------
    error_rate : float or array_like
        Error rates in ``[0, 1]``.
    n_classes : int
        K >= 2.
    label_entropy_bits : float, optional
        ``H(Y)`` in bits (default ``log2 K``).

    Returns
    -------
    float or numpy.ndarray
        The bound in bits, >= 0, shaped like ``error_rate``.
    """
    k = check_count(n_classes, name="n_classes", minimum=2)
    h_y = math.log2(k) if label_entropy_bits is None else check_real(
        label_entropy_bits, name="label_entropy_bits", low=0.0, high=math.log2(k) + 1e-12)
    error = check_real_array(error_rate, name="error_rate", finite=False)
    if np.any(~np.isfinite(error)) or np.any((error < 0) | (error > 1)):
        raise ValueError(f"error_rate must lie in [0, 1], got {error_rate!r}.")
    p = np.minimum(error, 1.0 - 1.0 / k)
    with np.errstate(divide="ignore", invalid="ignore"):
        binary = -(np.where(p > 0, p * np.log2(p), 0.0)
                   + np.where(p < 1, (1 - p) * np.log2(1 - p), 0.0))
    bound = np.maximum(h_y - binary - p * math.log2(k - 1), 0.0)
    return float(bound) if bound.ndim == 0 else bound


# --------------------------------------------------------------------------- nested grids


def truncation_codes(unit, bits: int) -> np.ndarray:
    """Dyadic truncation codes ``floor(u * 2^p)`` for a whole number of bits ``p >= 0``.

    The cells ``[k 2^-p, (k + 1) 2^-p)`` of truncation grids at whole ``p`` are nested: each
    cell at ``p + 1`` lies inside one cell at ``p``, so the code at ``p`` is a function of
    the code at ``p + 1`` (``floor(k / 2)``). The round-to-nearest grids of
    :func:`helpers.measure.quantize.grid_codes` are not (theory notes section 10).
    """
    if not is_number(bits) or not 0 <= bits <= 52 or float(bits) != int(bits):
        raise ValueError(f"bits must be a whole number in [0, 52] for nested truncation grids, "
                         f"got {bits!r}.")
    from helpers.measure.quantize import exact_grid_codes

    unit = check_points(unit, name="unit")
    # exact at any magnitude: int64 could wrap for far outliers at many bits
    return exact_grid_codes(unit, 2.0 ** -int(bits), offset=0.0)


def refines(fine, coarse) -> bool:
    """True when the ``coarse`` code of every sample is a function of its ``fine`` code.

    That is, no two samples share a fine code but differ in the coarse one. Then, by the
    data-processing inequality, ``I(coarse; Y) <= I(fine; Y)`` for every Y (and also for
    the plug-in estimates, which are the MI of the empirical distribution).
    """
    from helpers.measure.information import code_counts

    fine, coarse = np.asarray(fine), np.asarray(coarse)
    if len(fine) != len(coarse):
        raise ValueError(f"fine has {len(fine)} rows but coarse has {len(coarse)}.")
    fine_2d = fine.reshape(len(fine), -1)
    joint = np.hstack([fine_2d, coarse.reshape(len(coarse), -1)])
    return bool(code_counts(fine_2d).size == code_counts(joint).size)


def decreases(values, *, tolerance: float = 1e-9) -> list[int]:
    """Indices ``i`` with ``values[i + 1] < values[i] - tolerance``.

    For a quantity ordered by the data-processing inequality (``I(Z_q; Y)`` over nested
    grids from coarse to fine) the list must be empty.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    return [int(i) for i in np.flatnonzero(np.diff(values) < -tolerance)]


# --------------------------------------------------------------------------- Rademacher


@dataclass(frozen=True)
class RademacherEstimate:
    """Empirical Rademacher complexity of a norm-bounded linear class, Monte Carlo.

    Attributes
    ----------
    estimate, ci_low, ci_high : float
        ``(B / n) E_sigma ||sum_i sigma_i z_i||``, with a normal-approximation interval over
        the sign draws.
    closed_form : float
        The Jensen bound ``(B / n) (sum_i ||z_i||^2)^(1/2)``, never below the true value.
    bound, n, n_draws, confidence :
        The norm bound B, the sample size, the sign vectors drawn and the interval level.
    """

    estimate: float
    ci_low: float
    ci_high: float
    closed_form: float
    bound: float
    n: int
    n_draws: int
    confidence: float = 0.95

    def as_dict(self) -> dict:
        return asdict(self)


def linear_rademacher(z, *, bound: float = 1.0, n_draws: int = 1000, seed: int = 0,
                      confidence: float = 0.95, block: int = 256) -> RademacherEstimate:
    """Empirical Rademacher complexity of ``F_B = {z -> <w, z> : ||w||_2 <= B}`` on a sample.

    ``R_n(F_B) = E_sigma sup_w (1/n) sum_i sigma_i <w, z_i> = (B / n) E_sigma ||sum_i sigma_i
    z_i||_2`` (the supremum is attained at ``w`` along the sum). The expectation over the
    ``2^n`` sign vectors is estimated from ``n_draws`` random ones (theory notes section 9).

    Parameters
    ----------
    z : array_like, shape (n, d)
        The sample (e.g. quantized representations in unit-cube units).
    bound : float
        B > 0.
    n_draws : int
        Random sign vectors (>= 2).
    seed : int
        Seed of the signs.
    confidence : float
        Level of the interval ``mean +- z_q sd / sqrt(n_draws)``.
    block : int
        Sign vectors per matrix product (memory only).

    Returns
    -------
    RademacherEstimate
    """
    from scipy import stats

    z = check_points(z, name="z")
    bound = check_real(bound, name="bound", low=0.0, include_low=False)
    n_draws = check_count(n_draws, name="n_draws", minimum=2)
    confidence = check_confidence(confidence)
    rng = np.random.default_rng(seed)
    n = len(z)
    norms = np.empty(n_draws)
    for start in range(0, n_draws, block):
        size = min(block, n_draws - start)
        signs = rng.integers(0, 2, size=(size, n)) * 2.0 - 1.0
        norms[start:start + size] = np.linalg.norm(signs @ z, axis=1)
    scale = bound / n
    mean = float(norms.mean()) * scale
    half = float(stats.norm.ppf(0.5 + confidence / 2) * norms.std(ddof=1) / math.sqrt(n_draws)
                 * scale)
    closed = scale * math.sqrt(float(np.sum(z**2)))
    return RademacherEstimate(mean, mean - half, mean + half, closed, bound, n, n_draws,
                              confidence)


def linear_rademacher_exact(z, *, bound: float = 1.0) -> float:
    """``(B / n) E_sigma ||sum_i sigma_i z_i||`` by enumerating all ``2^n`` sign vectors.

    For checking :func:`linear_rademacher` on tiny samples (``n <= 20``).
    """
    z = check_points(z, name="z")
    bound = check_real(bound, name="bound", low=0.0, include_low=False)
    n = len(z)
    if n > 20:
        raise ValueError(f"exact enumeration needs n <= 20 (2^n sign vectors), got n={n}.")
    signs = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1) * 2.0 - 1.0
    return float(bound / n * np.linalg.norm(signs @ z, axis=1).mean())


def _expected_abs_walk(m: np.ndarray) -> np.ndarray:
    """``E|sigma_1 + ... + sigma_m|`` for each m, exactly: ``2^-m sum_k C(m, k) |2k - m|``."""
    from scipy.special import gammaln

    out = np.zeros(len(m))
    for value in np.unique(m):
        k = np.arange(value + 1)
        log_weights = gammaln(value + 1) - gammaln(k + 1) - gammaln(value - k + 1) - value * _LN2
        out[m == value] = float(np.sum(np.exp(log_weights) * np.abs(2 * k - value)))
    return out


def partition_rademacher(groups) -> float:
    """Exact empirical Rademacher complexity of all sign functions constant on each group.

    For the class ``H`` of functions ``z -> {-1, +1}`` that take one value on each cell of a
    partition of the sample (all classifiers of a quantized representation, whose cells are
    the codes; or of the balls of a covering), ``R_n(H) = (1/n) E_sigma sum_cells
    |sum_{i in cell} sigma_i|``, which is computed exactly from the cell sizes. It is 1 when
    every point has its own cell and ``sqrt(2 / (pi n))``-ish when all share one.

    Parameters
    ----------
    groups : array_like, shape (n,) or (n, d)
        A cell label (or code row) per sample.
    """
    from helpers.measure.information import code_counts

    counts = code_counts(groups)
    return float(_expected_abs_walk(counts).sum() / counts.sum())


def massart_bound(n_cells, n: int):
    """Massart's finite-class bound ``sqrt(2 M ln 2 / n)`` for sign functions on M cells.

    On n points in M cells, the class of :func:`partition_rademacher` restricted to the
    sample is a set of at most ``2^M`` vectors of norm ``sqrt(n)``; Massart's lemma gives
    ``R_n <= sqrt(n) sqrt(2 ln 2^M) / n``. Above 1 it says nothing (``R_n <= 1`` always).
    ``n_cells`` may be an array (e.g. occupied cells, or ``2^C_num`` greedy balls).
    """
    n = check_count(n, name="n", minimum=1)
    cells = check_real_array(n_cells, name="n_cells", finite=False)
    if np.any(~np.isfinite(cells)) or np.any(cells < 1):
        raise ValueError(f"n_cells must be >= 1, got {n_cells!r}.")
    bound = np.sqrt(2 * cells * _LN2 / n)
    return float(bound) if bound.ndim == 0 else bound


def greedy_partition(points, eps: float) -> np.ndarray:
    """Cell label of each point: the index of its nearest centre of the greedy ``eps``-net.

    The net is :func:`helpers.measure.covering.greedy_net` (Euclidean), so the number of cells is
    ``2^C_num(eps)`` and every point lies within ``eps`` of its centre.
    """
    from scipy.spatial import cKDTree

    from helpers.measure.covering import greedy_net

    points = check_points(points, name="points")
    centres = greedy_net(points, eps)
    _, nearest = cKDTree(points[centres]).query(points, k=1)
    return np.asarray(nearest, dtype=np.int64).reshape(-1)


# --------------------------------------------------------------------------- chapter tables


#: Estimators of I(X; Z_q) set against C_num: (column, display name, kind). The kind is
#: "estimate" (of I itself), "lower bound" (can make the claim fail, never hold) or "reported"
#: (MINE: its finite-sample value is biased upward and bounds nothing, so it never decides).
GAP_ESTIMATORS = (("miller-madow", "H(Z_q), Miller-Madow", "estimate"),
                  ("infonce", "InfoNCE", "lower bound"), ("mine", "MINE", "reported"))


def gap_rows(measurements, estimators=GAP_ESTIMATORS) -> list[dict]:
    """:func:`gap_comparison` for every row of :func:`precision_row` output and estimator.

    Parameters
    ----------
    measurements : iterable of dict
        Rows of :func:`precision_row` with a ``model`` entry added.
    estimators : sequence of (column, name, kind)
        Which estimates of ``I`` to compare with ``C_num``, with ``kind`` one of
        ``"estimate"``, ``"lower bound"`` or ``"reported"`` (see :data:`GAP_ESTIMATORS`);
        rows where one is NaN (not run) are left out.

    Returns
    -------
    list of dict
        ``model``, ``p``, ``I from``, ``C_num``, ``I`` and the fields of
        :class:`GapComparison`.
    """
    out = []
    for row in measurements:
        for column, name, kind in estimators:
            if kind not in ("estimate", "lower bound", "reported"):
                raise ValueError(f"unknown estimator kind {kind!r} for {name}.")
            if not math.isfinite(row[column]):
                continue
            gap = gap_comparison(row["C_num"], row[column], row[f"{column} low"],
                                 row[f"{column} high"], row[f"{column} ceiling"], row["n"],
                                 lower_bound=kind == "lower bound", decides=kind != "reported")
            out.append({"model": row.get("model"), "p": row["bits"], "I from": name,
                        "C_num": row["C_num"], "I": row[column], **gap.as_dict()})
    return out


def label_information_rows(sample, bits, *, n_bootstrap: int = 200, n_shuffles: int = 50,
                           seed: int = 0) -> list[dict]:
    """``I(Z_q; Y)``, the probe's error and both directions of Fano's inequality, per precision.

    For each precision: the plug-in and Miller-Madow ``I(Z_q; Y)`` of the test codes and
    labels with the label-shuffle baseline
    (:func:`helpers.measure.information.mutual_information_discrete`) and the Miller-Madow
    estimate minus that baseline with its shifted interval, the plug-in ``H(Z_q)``, the
    linear probe's test error and interval
    (:func:`helpers.measure.thresholds.observed_collapse`), the smallest error Fano allows for the
    plug-in and for the shuffle-corrected ``I``, and the lower bound on ``I`` implied by the
    probe's error (:func:`fano_mi_lower_bound` at the upper end of its interval).

    Returns
    -------
    list of dict
        One row per precision, full precision first (``bits`` NaN: only the probe columns).
    """
    from helpers.measure.information import entropy_estimates, fano_error_lower_bound
    from helpers.measure.information import mutual_information_discrete as discrete_mi
    from helpers.measure.quantize import grid_codes
    from helpers.measure.thresholds import observed_collapse

    bits = check_bits_list(bits)  # sorted, as observed_collapse returns its curve
    curve, _ = observed_collapse(sample, bits, n_bootstrap=n_bootstrap, seed=seed)
    n_classes = int(max(sample.train_y.max(), sample.test_y.max()) + 1)
    rows = []
    for p, probe in zip([math.nan, *bits], curve.results, strict=True):
        row = {"bits": float(p), "probe accuracy": probe.accuracy,
               "probe error": 1 - probe.accuracy, "probe error low": 1 - probe.ci_high,
               "probe error high": 1 - probe.ci_low}
        if math.isfinite(p):
            codes = grid_codes(sample.test_u, p)
            mi = discrete_mi(codes, sample.test_y, n_bootstrap=n_bootstrap,
                             n_shuffles=n_shuffles, seed=seed)
            h_y = mi.extras["label_entropy_bits"]
            corrected = mi.extras["shuffle_corrected"]
            row.update({
                "H(Z_q) plug-in": entropy_estimates(codes, n_bootstrap=0).plugin.estimate,
                "I plug-in": mi.extras["plugin"], "I Miller-Madow": mi.estimate,
                "I low": mi.ci_low, "I high": mi.ci_high,
                "shuffle mean": mi.extras["shuffle_mean"], "I shuffle-corrected": corrected,
                # the bootstrap interval moves with its estimate when the baseline is removed
                "I shuffle-corrected low": mi.ci_low - mi.extras["shuffle_mean"],
                "I shuffle-corrected high": mi.ci_high - mi.extras["shuffle_mean"],
                "shuffle p-value": mi.extras["shuffle_p_value"], "H(Y)": h_y,
                "Fano error bound (plug-in I)": fano_error_lower_bound(
                    mi.extras["plugin"], n_classes, label_entropy_bits=h_y),
                "Fano error bound (corrected I)": fano_error_lower_bound(
                    max(corrected, 0.0), n_classes, label_entropy_bits=h_y),
                "I lower bound from probe": fano_mi_lower_bound(
                    min(1.0, max(0.0, 1 - probe.ci_low)), n_classes, label_entropy_bits=h_y)})
        rows.append(row)
    return rows


def nesting_rows(sample, bits, whole_bits) -> list[dict]:
    """Plug-in ``H(Z_q)`` and ``I(Z_q; Y)`` on three families of grids, for the nesting check.

    ``round, sweep``: round-to-nearest at ``bits``; ``round, whole p`` and ``truncation,
    whole p``: round-to-nearest and dyadic truncation (:func:`truncation_codes`) at
    ``whole_bits``. Each row says whether its code refines the previous row's of the same
    family (``nested with previous``; None for the first). Plug-in values are the MI of the
    empirical distribution, so along a nested family the data-processing inequality holds
    for them exactly.
    """
    from helpers.measure.information import entropy_estimates
    from helpers.measure.information import mutual_information_discrete as discrete_mi
    from helpers.measure.quantize import grid_codes

    bits, whole_bits = check_bits_list(bits), check_bits_list(whole_bits, name="whole_bits")
    rows = []
    families = (("round, sweep", bits, grid_codes), ("round, whole p", whole_bits, grid_codes),
                ("truncation, whole p", whole_bits, truncation_codes))
    for family, precisions, coder in families:
        previous = None
        for p in sorted(precisions):
            codes = coder(sample.test_u, p)
            mi = discrete_mi(codes, sample.test_y, correction="plugin", n_bootstrap=0,
                             n_shuffles=0)
            rows.append({"grid": family, "p": float(p),
                         "H(Z_q)": entropy_estimates(codes, n_bootstrap=0).plugin.estimate,
                         "I(Z_q; Y)": mi.estimate,
                         "nested with previous": (None if previous is None
                                                  else refines(codes, previous))})
            previous = codes
    return rows


def rademacher_rows(sample, bits, *, bound: float = 1.0, n_draws: int = 1000,
                    seed: int = 0) -> list[dict]:
    """Rademacher complexities of three classes on the quantized test sample, per precision.

    ``linear``: :func:`linear_rademacher` of ``||w|| <= bound`` probes on ``Q_p(u)`` (and on
    the full-precision ``u`` in the first row, ``bits`` NaN); ``cells``: the exact
    :func:`partition_rademacher` of all sign functions of the code, with
    :func:`massart_bound` from the number of occupied cells; ``balls``: the same for the
    partition by the greedy ``2^-p``-net of ``u`` (:func:`greedy_partition`), whose number of
    cells is ``2^C_num``.
    """
    from helpers.measure.information import code_counts
    from helpers.measure.quantize import grid_codes, quantize

    n = len(sample.test_u)
    full = linear_rademacher(sample.test_u, bound=bound, n_draws=n_draws, seed=seed)
    rows = [{"bits": math.nan, "linear": full.estimate, "linear low": full.ci_low,
             "linear high": full.ci_high, "linear closed form": full.closed_form}]
    for p in check_bits_list(bits):
        linear = linear_rademacher(quantize(sample.test_u, p), bound=bound, n_draws=n_draws,
                                   seed=seed)
        codes = grid_codes(sample.test_u, p)
        balls = greedy_partition(sample.test_u, 2.0 ** -p)
        n_cells, n_balls = len(code_counts(codes)), len(np.unique(balls))
        rows.append({"bits": float(p), "linear": linear.estimate, "linear low": linear.ci_low,
                     "linear high": linear.ci_high, "linear closed form": linear.closed_form,
                     "cells": n_cells, "cells R": partition_rademacher(codes),
                     "cells Massart": massart_bound(n_cells, n),
                     "balls": n_balls, "balls R": partition_rademacher(balls),
                     "balls Massart": massart_bound(n_balls, n)})
    return rows
