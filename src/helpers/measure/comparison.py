"""Paired comparisons of two model variants: capacity with intervals, embeddings, guidelines.

Introduced in the chapter "Lipschitz regularization" (``notebooks/05_lipschitz_regularization``),
which compares every architecture trained with and without spectral normalization.

- :func:`capacity_bits` measures ``C_num`` (log2 of the greedy-net size) at chosen precisions;
- :func:`capacity_difference` gives the percentage difference in ``C_num`` between two
  variants with an interval from a two-level bootstrap: over training seeds (each variant's
  seeds resampled independently) and over test points (resampled once per replicate and used
  for both variants, since both saw the same inputs);
- :func:`moving_precisions` picks the precisions at which a capacity curve is neither
  collapsed nor at its sample ceiling, where a difference can show at all;
- :func:`affordable_precision` and :func:`pca_budget_rows` compare codes of equal length,
  counting ``log2`` of the quantizer's levels per coordinate;
- :func:`embedding_scores` measures what a 2-D embedding picture shows (kNN accuracy and
  silhouette);
- :func:`guideline_verdict` (from :mod:`helpers.measure.verdicts`) turns per-model evidence
  into one of the book's verdicts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from helpers._validation import (
    MAX_BITS,
    check_bits_list,
    check_count,
    check_curve,
    check_points,
    check_real,
)

# the rule lives with the vocabulary; the chapter may keep calling it from here
from helpers.measure.verdicts import guideline_verdict, interval_verdict


def capacity_bits(points, bits) -> np.ndarray:
    """``C_num(2^-p) = log2`` of the greedy-net size of ``points`` at each precision ``p``.

    Parameters
    ----------
    points : array_like, shape (n, d)
        Normalized representations (unit-cube units).
    bits : sequence of float

    Returns
    -------
    numpy.ndarray
        One value per precision, in the order given (the list itself follows the book's rule,
        :func:`helpers._validation.check_bits_list`).
    """
    from helpers.measure.covering import capacity_curve

    check_bits_list(bits)
    bits = np.asarray(bits, dtype=np.float64).reshape(-1)
    points = check_points(points, name="points")
    curve = capacity_curve(points, 2.0 ** -bits)
    by_eps = dict(zip(curve.eps.tolist(), curve.log2_net_size.tolist(), strict=True))
    return np.array([by_eps[float(2.0 ** -p)] for p in bits])


@dataclass(frozen=True)
class CapacityDifference:
    """``100 * (C_b - C_a) / C_a`` at one precision, with its bootstrap interval.

    Attributes
    ----------
    bits : float
    a, b : float
        Mean ``C_num`` of each variant over its seeds, in bits.
    percent, ci_low, ci_high : float
        The difference of the means relative to ``a``, in percent, and its interval.
    n_seeds_a, n_seeds_b, n_points, n_bootstrap : int
    at_ceiling : bool
        Both variants are within ``margin`` bits of ``log2 n``: the sample cannot show a
        difference at this precision.
    bootstrap_bias : float
        Median of the replicates minus the estimate, in percentage points. The interval is
        taken from the replicates shifted by it (resamples with replacement repeat points,
        which lowers capacities), so it describes the spread, centred on the estimate.
    """

    bits: float
    a: float
    b: float
    percent: float
    ci_low: float
    ci_high: float
    n_seeds_a: int
    n_seeds_b: int
    n_points: int
    n_bootstrap: int
    at_ceiling: bool
    bootstrap_bias: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """Text such as ``+12.3% [4.1, 20.0]``."""
        return f"{self.percent:+.1f}% [{self.ci_low:+.1f}, {self.ci_high:+.1f}]"

    def range_verdict(self, lower: float, upper: float) -> str:
        """Verdict on "the difference lies in ``[lower, upper]`` percent", from the interval.

        ``cannot be tested`` at the sample ceiling, where the sample and not the networks
        decides both capacities; otherwise
        :func:`helpers.measure.verdicts.interval_verdict` of the interval. Introduced in the
        chapter "Lipschitz regularization" for the proposal's "20–40% higher".
        """
        if self.at_ceiling:
            return "cannot be tested"
        return interval_verdict(self.ci_low, self.ci_high, lower, upper)


def _check_variant(samples, name: str) -> list[np.ndarray]:
    if isinstance(samples, np.ndarray) and samples.ndim == 2:
        samples = [samples]
    samples = [check_points(s, name=f"{name}[{i}]") for i, s in enumerate(samples)]
    if not samples:
        raise ValueError(f"{name} needs the representations of at least one seed.")
    return samples


def moving_precisions(bits, capacity, n_points: int, *, margin: float = 1.0) -> list[float]:
    """Precisions where a capacity curve moves: above ``margin`` bits and more than
    ``margin`` bits below the sample ceiling ``log2 n_points``."""
    bits, capacity = check_curve(bits, capacity, name="capacity")
    ceiling = math.log2(check_count(n_points, name="n_points"))
    margin = check_real(margin, name="margin", low=0.0)
    keep = (capacity > margin) & (capacity < ceiling - margin)
    return [float(p) for p in bits[keep]]


def embedding_scores(embedding, labels, *, k: int = 5) -> dict:
    """What a 2-D embedding shows, as numbers: leave-one-out kNN accuracy and silhouette.

    Parameters
    ----------
    embedding : array_like, shape (n, 2)
        A t-SNE (or any) embedding.
    labels : array_like, shape (n,)
        Classes, for colouring and scoring.
    k : int
        Neighbours of the kNN vote (the point itself excluded).

    Returns
    -------
    dict
        ``knn_accuracy`` (fraction of points whose ``k`` nearest other points vote for their
        own class) and ``silhouette`` (scikit-learn, Euclidean, in [-1, 1]).
    """
    from sklearn.metrics import silhouette_score
    from sklearn.neighbors import NearestNeighbors

    embedding = check_points(embedding, name="embedding")
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(embedding):
        raise ValueError(f"{len(labels)} labels for {len(embedding)} embedded points.")
    classes = np.unique(labels)
    if classes.size < 2:
        raise ValueError("embedding scores need at least two classes.")
    if check_count(k, name="k") >= len(labels):
        raise ValueError(f"k must be an integer in [1, n), got {k!r}.")
    _, index = NearestNeighbors(n_neighbors=int(k) + 1).fit(embedding).kneighbors(embedding)
    votes = labels[index[:, 1:]]
    predicted = np.array([np.bincount(np.searchsorted(classes, row),
                                      minlength=classes.size).argmax() for row in votes])
    return {"knn_accuracy": float(np.mean(classes[predicted] == labels)),
            "silhouette": float(silhouette_score(embedding, labels))}


def affordable_precision(bits_per_coordinate: float) -> float | None:
    """The precision whose grid has the most levels that a per-coordinate budget can pay for.

    Introduced in the chapter "Lipschitz regularization", whose third guideline compares
    codes of equal length. A coordinate rounded by the book's quantizer costs
    ``code_length_bits(p).bits = log2(levels)`` bits, not ``p`` (``log2 3`` at ``p = 1``), so a
    budget of ``b`` bits per coordinate pays for ``m = floor(2^b)`` levels. The grid with ``m``
    levels from 0 to 1 has step ``1 / (m - 1)``, that is ``p = log2(m - 1)``; for ``m = 2``,
    where that would be ``p = 0`` (outside the book's range), the two-level grid ``p = 1/2``
    (levels 0 and ``2^-1/2``) is used. Above the finest precision float64 resolves the
    precision is capped there, which spends less than the budget allows.

    Parameters
    ----------
    bits_per_coordinate : float
        The storage a budget allows each coordinate, in bits (``B / k``).

    Returns
    -------
    float or None
        ``p``, with ``code_length_bits(p).bits <= bits_per_coordinate``; None when the budget
        is below one bit, so that not even two levels fit.
    """
    from helpers.measure.quantize import code_length_bits

    budget = check_real(bits_per_coordinate, name="bits_per_coordinate", low=0.0)
    if budget < 1.0:
        return None
    if budget > MAX_BITS + 1:  # far more levels than float64 can tell apart
        return float(MAX_BITS)
    levels = math.floor(2.0**budget)
    while math.log2(levels + 1) <= budget:  # guard the float power against rounding down
        levels += 1
    while math.log2(levels) > budget:  # ... and against rounding up
        levels -= 1
    while True:
        p = 0.5 if levels == 2 else min(math.log2(levels - 1), float(MAX_BITS))
        # near the float64 limit 2^p can round above levels - 1 and add a level: one fewer
        if code_length_bits(p).bits <= budget or levels == 2:
            return p
        levels -= 1


def pca_budget_rows(sample, budgets, dims, *, seed: int = 0) -> list[dict]:
    """Probe accuracy at equal bit budgets: PCA to ``k`` dimensions, then the affordable grid.

    The proposal's third guideline (reduce the dimension before quantizing). For each budget
    ``B`` (bits per representation) and each ``k`` in ``dims`` (those up to the
    representation's dimension ``d``, and ``d`` itself without PCA) the normalized
    representations are projected on their first ``k`` principal components (fitted on the
    training split), the projection is mapped to the unit cube in the book's way, rounded at
    the precision ``p`` that ``B / k`` bits per coordinate pay for
    (:func:`affordable_precision`, which counts ``log2`` of the grid's levels, not ``p``), and
    probed. A ``k`` whose coordinates cannot have even one bit each (``B < k``) gives no row:
    at such a budget the representation cannot be stored without dropping coordinates.

    Returns
    -------
    list of dict
        ``budget``, ``k``, ``p``, ``code bits`` (``k`` times the code length per coordinate,
        at most ``budget``), ``accuracy`` and ``pca`` (False for the row with all ``d``
        coordinates).
    """
    from sklearn.decomposition import PCA

    from helpers.measure.probes import probe_accuracy
    from helpers.measure.quantize import code_length_bits, fit_unit_cube, quantize

    d = sample.train_u.shape[1]
    dims = [check_count(k, name="dims entry") for k in dims]
    budgets = [check_real(b, name="budgets entry", low=0.0, include_low=False) for b in budgets]
    ks = sorted({k for k in dims if k < d} | {d})
    rows = []
    for k in ks:
        if k < d:
            pca = PCA(n_components=k, random_state=seed).fit(sample.train_u)
            train, test = pca.transform(sample.train_u), pca.transform(sample.test_u)
            scaler = fit_unit_cube(train)
            train, test = scaler.transform(train), scaler.transform(test)
        else:
            train, test = sample.train_u, sample.test_u
        for budget in budgets:
            p = affordable_precision(float(budget) / k)
            if p is None:  # fewer than two levels per coordinate: nothing to store
                continue
            result = probe_accuracy(quantize(train, p), sample.train_y, quantize(test, p),
                                    sample.test_y, n_bootstrap=0, seed=seed)
            rows.append({"budget": float(budget), "k": k, "p": p,
                         "code bits": k * code_length_bits(p).bits,
                         "accuracy": result.accuracy, "pca": k < d})
    return rows


def pca_evidence(rows, *, tolerance: float = 0.01) -> dict:
    """For each budget: does the best PCA projection beat using every coordinate?

    Returns ``{budget: "supports" | "contradicts" | "neutral"}``: PCA ``supports`` the
    guideline at a budget when its best ``k`` is at least ``tolerance`` more accurate than all
    ``d`` coordinates at the same budget, ``contradicts`` it when it is at least
    ``tolerance`` less accurate, and is ``neutral`` in between.
    """
    evidence = {}
    for budget in sorted({row["budget"] for row in rows}):
        at = [row for row in rows if row["budget"] == budget]
        full = [row["accuracy"] for row in at if not row["pca"]]
        reduced = [row["accuracy"] for row in at if row["pca"]]
        if not full or not reduced:
            continue
        gain = max(reduced) - full[0]
        evidence[budget] = ("supports" if gain >= tolerance else
                            "contradicts" if gain <= -tolerance else "neutral")
    return evidence


__all__ = [
    "CapacityDifference",
    "affordable_precision",
    "capacity_bits",
    "embedding_scores",
    "guideline_verdict",
    "moving_precisions",
    "pca_budget_rows",
    "pca_evidence",
]
