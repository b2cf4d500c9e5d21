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
- :func:`embedding_scores` measures what a 2-D embedding picture shows (kNN accuracy and
  silhouette);
- :func:`guideline_verdict` turns per-model evidence into one of the book's verdicts.
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass

import numpy as np

from helpers._validation import MAX_BITS, check_points


def _check_bits(bits) -> np.ndarray:
    bits = np.asarray(bits, dtype=np.float64).reshape(-1)
    if bits.size == 0 or not np.all(np.isfinite(bits)) or np.any(bits <= 0):
        raise ValueError(f"bits must be a non-empty list of precisions > 0, got {bits.tolist()}.")
    return bits


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
        One value per precision, in the order given.
    """
    from helpers.measure.covering import capacity_curve

    bits = _check_bits(bits)
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
    bits = _check_bits(bits)
    capacity = np.asarray(capacity, dtype=np.float64).reshape(-1)
    if capacity.shape != bits.shape:
        raise ValueError(f"bits has {bits.size} values but capacity has {capacity.size}.")
    ceiling = np.log2(n_points)
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
    if not (isinstance(k, numbers.Integral) and 1 <= k < len(labels)):
        raise ValueError(f"k must be an integer in [1, n), got {k!r}.")
    _, index = NearestNeighbors(n_neighbors=int(k) + 1).fit(embedding).kneighbors(embedding)
    votes = labels[index[:, 1:]]
    predicted = np.array([np.bincount(np.searchsorted(classes, row),
                                      minlength=classes.size).argmax() for row in votes])
    return {"knn_accuracy": float(np.mean(classes[predicted] == labels)),
            "silhouette": float(silhouette_score(embedding, labels))}


def guideline_verdict(supports: int, contradicts: int, total: int) -> str:
    """A guideline's verdict from per-model evidence.

    ``contradicted`` when the evidence goes against it for more models than for it,
    ``supported`` when it goes for it for more than half of them and against it for none,
    ``mixed`` when both occur, and ``undecided`` when most models give no evidence either way.
    """
    for name, value in (("supports", supports), ("contradicts", contradicts), ("total", total)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"{name} must be a count >= 0, got {value!r}.")
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


def pca_budget_rows(sample, budgets, dims, *, seed: int = 0) -> list[dict]:
    """Probe accuracy at equal bit budgets ``k * p``: PCA to ``k`` dimensions, then ``p`` bits.

    The proposal's third guideline (reduce the dimension before quantizing). For each budget
    ``B`` and each ``k`` in ``dims`` (those up to the representation's dimension ``d``, and
    ``d`` itself without PCA) the normalized representations are projected on their first
    ``k`` principal components (fitted on the training split), the projection is mapped to the
    unit cube in the book's way, rounded at ``p = B / k`` bits, and probed. Combinations
    with ``p`` above 52 bits (finer than float64) are left out.

    Returns
    -------
    list of dict
        ``budget``, ``k``, ``p``, ``accuracy`` and ``pca`` (False for the row with all ``d``
        coordinates).
    """
    from sklearn.decomposition import PCA

    from helpers.measure.probes import probe_accuracy
    from helpers.measure.quantize import fit_unit_cube, quantize

    d = sample.train_u.shape[1]
    ks = sorted({int(k) for k in dims if 1 <= int(k) < d} | {d})
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
            p = float(budget) / k
            if p > MAX_BITS:  # finer than float64 resolves: skip rather than pretend
                continue
            result = probe_accuracy(quantize(train, p), sample.train_y, quantize(test, p),
                                    sample.test_y, n_bootstrap=0, seed=seed)
            rows.append({"budget": float(budget), "k": k, "p": p,
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
    "capacity_bits",
    "embedding_scores",
    "guideline_verdict",
    "moving_precisions",
    "pca_budget_rows",
    "pca_evidence",
]
