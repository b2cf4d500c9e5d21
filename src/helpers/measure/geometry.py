"""Nearest-neighbour geometry of representations: intrinsic dimension estimators.

Introduced in the chapter on the covering bound, where the data's intrinsic dimension ``k``
replaces the ambient ``d_Z`` in ``C_num(eps) <~ k * log2(L * diam / eps)``. Two estimators,
both built on distances to the nearest neighbours, each with a bootstrap error bar:

:func:`mle_dimension`
    Levina and Bickel (2005), "Maximum likelihood estimation of intrinsic dimension". For
    each point x and neighbour count k, with ``T_j(x)`` the distance to the j-th neighbour,
    ``m_k(x)^{-1} = (1/(k-1)) sum_{j<k} log(T_k(x) / T_j(x))``. MacKay and Ghahramani's
    comment on it (2005) averages the *inverses* over points, ``m_k = 1 / mean_x
    m_k(x)^{-1}``, which is the maximum-likelihood estimate of the pooled sample (each
    per-point sum is Gamma-distributed with mean (k-1)/m under the local Poisson model, so
    the mean inverse is unbiased for 1/m); ``averaging="direct"`` gives the original
    ``mean_x m_k(x)``. The estimate is the mean of ``m_k`` over ``k = k1..k2``.
:func:`twonn_dimension`
    Facco, d'Errico, Rodriguez and Laio (2017), "Estimating the intrinsic dimension of
    datasets by a minimal neighborhood information". The ratio ``mu = r2 / r1`` of the two
    nearest-neighbour distances is Pareto distributed, ``P(mu > t) = t^{-d}``. ``method="mle"``
    gives ``d = (n - 1) / sum log mu`` (the unbiased form of the MLE); ``method="fit"`` is
    the paper's least-squares line through the origin of ``-log(1 - F(mu))`` against
    ``log mu`` after discarding the largest 10% of ratios.

Error bars. A percentile bootstrap over points: resample the points with replacement and
recompute the estimate from their (fixed) neighbour statistics. Neighbourhoods are not
recomputed (a resample with repeated points would have zero distances), so the correlation
between neighbouring points' statistics is ignored and the interval is on the narrow side:
over 30 independent samples (a 5-d Gaussian in R^20, n = 2000; a square in R^10, n = 1000)
the mean bootstrap standard deviation was 0.65 to 0.8 times the spread of the estimates
across samples, for both estimators. The spread across ``k``
(:attr:`DimensionEstimate.per_k`) and across the two estimators is the other part of the
uncertainty, and it is usually larger.

Duplicates. Zero distances break both estimators (``log 0``). Exact duplicate points (as
quantized representations have in numbers) are dropped with a :class:`DuplicatePointsWarning`
saying how many (``duplicates="drop"``, the default) or rejected (``duplicates="error"``);
the estimate is then that of the set of distinct points.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from helpers._validation import (
    check_bootstrap,
    check_choice,
    check_confidence,
    check_count,
    check_points,
)

#: Default number of bootstrap resamples for the error bars.
N_BOOTSTRAP = 200
DUPLICATE_POLICIES = ("drop", "error")


class DuplicatePointsWarning(UserWarning):
    """Duplicate points were dropped before estimating a dimension."""


@dataclass(frozen=True)
class DimensionEstimate:
    """An intrinsic-dimension estimate with its bootstrap error bar.

    Attributes
    ----------
    estimate : float
        The point estimate.
    std : float
        Standard deviation of the bootstrap estimates (0 with ``n_bootstrap=0``).
    ci_low, ci_high : float
        Percentile bootstrap interval at level ``confidence``.
    method : str
        ``"mle-inverse"``, ``"mle-direct"``, ``"twonn-mle"`` or ``"twonn-fit"``.
    n_points : int
        Distinct points used; ``n_duplicates`` were dropped.
    k1, k2 : int or None
        Neighbour range (MLE only).
    per_k : tuple of float or None
        The MLE ``m_k`` for ``k = k1..k2`` (MLE only).
    """

    estimate: float
    std: float
    ci_low: float
    ci_high: float
    method: str
    n_points: int
    n_duplicates: int
    confidence: float
    n_bootstrap: int
    k1: int | None = None
    k2: int | None = None
    per_k: tuple | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def __format__(self, spec: str) -> str:
        """``f"{est:.1f}"`` gives e.g. ``4.8 (95% CI 4.6 to 5.0)``."""
        spec = spec or ".2f"
        return (f"{self.estimate:{spec}} ({self.confidence:.0%} CI {self.ci_low:{spec}} to "
                f"{self.ci_high:{spec}})")


# --------------------------------------------------------------------------- shared steps


def _distinct_points(points, duplicates: str, *, needed: int) -> tuple[np.ndarray, int]:
    """Return the distinct points (first occurrences, in order) and the number dropped."""
    check_choice(duplicates, DUPLICATE_POLICIES, name="duplicates")
    points = check_points(points, name="points")
    _, first = np.unique(points, axis=0, return_index=True)
    n_duplicates = len(points) - len(first)
    if n_duplicates:
        message = (f"{n_duplicates} of {len(points)} points are exact duplicates of others "
                   "(zero nearest-neighbour distances, as in quantized representations)")
        if duplicates == "error":
            raise ValueError(message + "; deduplicate them (np.unique(Z, axis=0)) or pass "
                             "duplicates='drop'.")
        warnings.warn(message + "; they were dropped and the estimate is that of the "
                      f"{len(first)} distinct points.", DuplicatePointsWarning, stacklevel=3)
        points = points[np.sort(first)]
    if len(points) < needed:
        raise ValueError(f"need at least {needed} distinct points for this estimate, got "
                         f"{len(points)}.")
    return points, n_duplicates


def _neighbour_distances(points: np.ndarray, k: int, metric: str = "euclidean") -> np.ndarray:
    """Distances from each point to its k nearest other points, shape (n, k), ascending."""
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=k, metric=metric).fit(points)
    distances, _ = index.kneighbors()  # without X: a point is not its own neighbour
    return distances


def _bootstrap_weights(n: int, n_bootstrap: int, seed: int):
    """Yield resampling count matrices, a few resamples of n points at a time."""
    rng = np.random.default_rng(seed)
    chunk = int(max(1, min(64, 2_000_000 // n)))
    done = 0
    while done < n_bootstrap:
        size = min(chunk, n_bootstrap - done)
        yield rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(np.float64)
        done += size


def _interval(chunks: list, estimate: float, confidence: float) -> tuple[float, float, float]:
    """Standard deviation and percentile interval of the bootstrap estimates in ``chunks``.

    Without bootstrap estimates (``n_bootstrap=0``) the interval collapses on ``estimate``.
    """
    samples = np.concatenate(chunks) if chunks else np.empty(0)
    if not len(samples):
        return 0.0, float(estimate), float(estimate)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(np.std(samples, ddof=1)) if len(samples) > 1 else 0.0, float(low), float(high)


# --------------------------------------------------------------------------- estimators


def mle_dimension(points, *, k1: int = 10, k2: int = 20, averaging: str = "inverse",
                  n_bootstrap: int = N_BOOTSTRAP, seed: int = 0, confidence: float = 0.95,
                  duplicates: str = "drop") -> DimensionEstimate:
    """Levina–Bickel maximum-likelihood intrinsic dimension, averaged over ``k = k1..k2``.

    Parameters
    ----------
    points : array_like, shape (n, D)
        The sample (representations, say).
    k1, k2 : int
        Neighbour counts, ``2 <= k1 <= k2 < n``. Levina and Bickel use 10..20; small k is
        noisy, large k sees curvature and boundaries (which bias the estimate down).
    averaging : {"inverse", "direct"}
        ``"inverse"`` (MacKay–Ghahramani) averages the per-point inverse estimates;
        ``"direct"`` averages the per-point estimates (Levina–Bickel's original, biased up
        for small k).
    n_bootstrap, seed, confidence :
        Bootstrap over points for ``std`` and the interval (see the module docstring).
    duplicates : {"drop", "error"}
        What to do with exact duplicate points.

    Returns
    -------
    DimensionEstimate
        With ``per_k`` holding ``m_k`` for each k.
    """
    for name, value in (("k1", k1), ("k2", k2)):
        check_count(value, name=name, minimum=2)
    if k2 < k1:
        raise ValueError(f"need k1 <= k2, got k1={k1}, k2={k2}.")
    if averaging not in ("inverse", "direct"):
        raise ValueError(f"averaging must be 'inverse' or 'direct', got {averaging!r}.")
    check_bootstrap(n_bootstrap)
    check_confidence(confidence)
    points, n_duplicates = _distinct_points(points, duplicates, needed=k2 + 1)
    distances = _neighbour_distances(points, k2)
    log_distances = np.log(distances)
    # cumulative sums give sum_{j<k} log T_j for every k at once
    cumulative = np.cumsum(log_distances, axis=1)
    ks = np.arange(k1, k2 + 1)
    # per-point inverse estimates, shape (n, K): (1/(k-1)) sum_{j<k} log(T_k / T_j)
    inverse = ((ks - 1) * log_distances[:, ks - 1] - cumulative[:, ks - 2]) / (ks - 1)
    if averaging == "inverse":
        values = inverse
    else:
        values = 1.0 / inverse

    def estimate_from(mean_values):  # mean over points -> (per k, overall)
        per_k = 1.0 / mean_values if averaging == "inverse" else mean_values
        return per_k, per_k.mean(axis=-1)

    per_k, estimate = estimate_from(values.mean(axis=0))
    samples = []
    for weights in _bootstrap_weights(len(points), n_bootstrap, seed):
        samples.append(estimate_from(weights @ values / len(points))[1])
    std, low, high = _interval(samples, estimate, confidence)
    return DimensionEstimate(
        estimate=float(estimate), std=std, ci_low=low, ci_high=high,
        method=f"mle-{averaging}", n_points=len(points), n_duplicates=n_duplicates,
        confidence=float(confidence), n_bootstrap=int(n_bootstrap), k1=int(k1), k2=int(k2),
        per_k=tuple(float(v) for v in per_k),
    )


def _twonn_fit(log_mu: np.ndarray, discard_fraction: float) -> float:
    """Facco et al.'s regression through the origin on the kept smallest ratios."""
    n = len(log_mu)
    order = np.sort(log_mu)
    keep = max(2, int(np.floor(n * (1 - discard_fraction))))
    x = order[:keep]
    y = -np.log1p(-np.arange(1, keep + 1) / n)
    return float(np.dot(x, y) / np.dot(x, x))


def twonn_dimension(points, *, method: str = "mle", discard_fraction: float = 0.1,
                    n_bootstrap: int = N_BOOTSTRAP, seed: int = 0, confidence: float = 0.95,
                    duplicates: str = "drop") -> DimensionEstimate:
    """TwoNN intrinsic dimension from the ratio of the two nearest-neighbour distances.

    Parameters
    ----------
    points : array_like, shape (n, D)
    method : {"mle", "fit"}
        ``"mle"``: ``(n - 1) / sum(log mu)``. ``"fit"``: Facco et al.'s line through the
        origin of ``-log(1 - F_emp(mu))`` against ``log mu``, with the largest
        ``discard_fraction`` of ratios left out.
    discard_fraction : float
        For ``method="fit"`` only, in [0, 1).
    n_bootstrap, seed, confidence, duplicates :
        As in :func:`mle_dimension`.

    Returns
    -------
    DimensionEstimate
    """
    if method not in ("mle", "fit"):
        raise ValueError(f"method must be 'mle' or 'fit', got {method!r}.")
    if not (0 <= discard_fraction < 1):
        raise ValueError(f"discard_fraction must be in [0, 1), got {discard_fraction!r}.")
    check_bootstrap(n_bootstrap)
    check_confidence(confidence)
    points, n_duplicates = _distinct_points(points, duplicates, needed=3)
    distances = _neighbour_distances(points, 2)
    log_mu = np.log(distances[:, 1]) - np.log(distances[:, 0])
    n = len(log_mu)
    if method == "mle":
        estimate = (n - 1) / log_mu.sum()
        samples = [(n - 1) / (weights @ log_mu)
                   for weights in _bootstrap_weights(n, n_bootstrap, seed)]
    else:
        estimate = _twonn_fit(log_mu, discard_fraction)
        rng = np.random.default_rng(seed)
        samples = [np.array([_twonn_fit(log_mu[rng.integers(0, n, n)], discard_fraction)
                             for _ in range(n_bootstrap)])]
    if not np.isfinite(estimate):
        raise ValueError("every point is equidistant from its two nearest neighbours "
                         "(a lattice?); TwoNN cannot estimate a dimension here.")
    std, low, high = _interval(samples, estimate, confidence)
    return DimensionEstimate(
        estimate=float(estimate), std=std, ci_low=low, ci_high=high, method=f"twonn-{method}",
        n_points=n, n_duplicates=n_duplicates, confidence=float(confidence),
        n_bootstrap=int(n_bootstrap),
    )




def nearest_neighbour_distances(points, *, metric: str = "euclidean") -> np.ndarray:
    """Distance from each point to its nearest *other* point.

    Introduced in the chapter "Numerical entropy". Two points share a grid cell only if they
    differ by less than one grid step in every coordinate, so the Chebyshev (L-infinity)
    nearest-neighbour distance is the scale at which a grid starts to separate points; the
    Euclidean one is the scale of Euclidean covers. Duplicated points get distance 0.

    Parameters
    ----------
    points : array_like, shape (n, d), n >= 2
    metric : {"euclidean", "chebyshev"}

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    if metric not in ("euclidean", "chebyshev"):
        raise ValueError(f"metric must be 'euclidean' or 'chebyshev', got {metric!r}.")
    points = check_points(points, name="points")
    if points.shape[0] < 2:
        raise ValueError("nearest-neighbour distances need at least 2 points, got 1.")
    return _neighbour_distances(points, 1, metric=metric)[:, 0]


@dataclass(frozen=True)
class SpectrumDimensions:
    """Linear dimension measures of a point cloud's covariance spectrum.

    Attributes
    ----------
    effective_rank : float
        ``exp`` of the Shannon entropy (nats) of the normalized eigenvalues (Roy and Vetterli
        2007): ``k`` for ``k`` equal eigenvalues and zeros.
    participation_ratio : float
        ``(sum λ)^2 / sum λ^2``: also ``k`` for ``k`` equal eigenvalues, smaller when a few
        directions dominate.
    components_90 : int
        Fewest principal components that hold 90% of the variance.
    eigenvalues : numpy.ndarray
        The covariance eigenvalues, largest first.
    """

    effective_rank: float
    participation_ratio: float
    components_90: int
    eigenvalues: np.ndarray

    def as_dict(self) -> dict:
        return {"effective_rank": self.effective_rank,
                "participation_ratio": self.participation_ratio,
                "components_90": self.components_90}


def spectrum_dimensions(points) -> SpectrumDimensions:
    """Effective rank, participation ratio and 90%-variance count of a covariance spectrum.

    Introduced in the chapter "Lipschitz regularization", beside the intrinsic dimension
    (:func:`mle_dimension`, :func:`twonn_dimension`): these measure how many *linear*
    directions carry the variance, which is what PCA before quantization can exploit; the
    intrinsic dimension measures the curved set's own dimension, which it cannot.

    Raises
    ------
    ValueError
        Fewer than two points, or points that do not vary at all.
    """
    points = check_points(points, name="points")
    if points.shape[0] < 2:
        raise ValueError("a covariance spectrum needs at least 2 points.")
    centred = points - points.mean(axis=0)
    eigenvalues = np.linalg.svd(centred, compute_uv=False) ** 2 / (len(points) - 1)
    total = float(eigenvalues.sum())
    if total <= 0:
        raise ValueError("the points do not vary (zero covariance); a constant "
                         "representation has no spectrum to measure.")
    weights = eigenvalues / total
    nonzero = weights[weights > 0]
    effective_rank = float(np.exp(-(nonzero * np.log(nonzero)).sum()))
    participation = float(total**2 / (eigenvalues**2).sum())
    components = int(np.searchsorted(np.cumsum(weights), 0.9 - 1e-12) + 1)
    return SpectrumDimensions(effective_rank, participation, components, eigenvalues)


__all__ = ["DUPLICATE_POLICIES", "N_BOOTSTRAP", "DimensionEstimate", "DuplicatePointsWarning",
           "SpectrumDimensions", "mle_dimension", "nearest_neighbour_distances",
           "spectrum_dimensions", "twonn_dimension"]
