"""Exact covering and packing numbers of tiny samples, by enumerating every subset.

Introduced in the chapter "Greedy covering" (``notebooks/03_greedy_covering``), which measures
how far the greedy net, greedy set cover and farthest-first traversal of
:mod:`helpers.measure.covering` are from the optimum. The optimum is only computable for a
handful of points, so everything here is exponential in ``n`` and refuses more than
:data:`MAX_POINTS` points.

For a sample ``S`` of ``n`` points, a radius ``eps`` and closed balls (the decisions
"``distance <= eps``" are exactly those of :func:`helpers.measure.covering.greedy_net_reference`):

- the *internal covering number* ``N^int_eps(S)`` is the fewest points of ``S`` whose
  eps-balls cover ``S`` (a minimum dominating set of the graph "within eps");
- the *packing number* ``M_eps(S)`` is the most points of ``S`` pairwise farther than ``eps``
  apart (a maximum independent set of that graph);
- the smallest *maximal* eps-separated subset (a minimum independent dominating set).

Every greedy net is a maximal eps-separated subset, and every maximal eps-separated subset
is the greedy net of some visiting order (list its points first). So the sizes a greedy net
takes over all visiting orders are exactly the sizes of the maximal eps-separated subsets
(:func:`maximal_separated_sizes`): the least is the third number, the largest the second,
and the sizes between them need not all occur.

All three come from one pass over the ``2**n`` subsets: the union of the balls and the
independence of a subset are built from the subset without its highest point, so the whole
table costs ``O(2**n)`` vectorized operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers._validation import check_choice, check_points, check_positive
from helpers.measure.covering import METRICS, eps_incidence

#: Largest number of points (or candidate sets) that is enumerated: 2**20 subsets.
MAX_POINTS = 20
#: Largest sample for :func:`optimal_k_center_radii` (it stores n distances per subset).
K_CENTER_MAX_POINTS = 16
#: Largest number of elements of :func:`minimum_set_cover` (bitmasks in int64).
MAX_ELEMENTS = 62


def _check_size(n: int, limit: int, what: str) -> None:
    if n > limit:
        raise ValueError(
            f"{what} has {n} points; exact enumeration visits 2**n subsets and is limited to "
            f"{limit}. Subsample, or use helpers.measure.covering.greedy_set_cover for an "
            "approximation with a guarantee."
        )


def _row_masks(incidence: np.ndarray) -> np.ndarray:
    """Each row of a boolean matrix as an int64 bitmask over its columns."""
    weights = np.left_shift(np.int64(1), np.arange(incidence.shape[1], dtype=np.int64))
    return (incidence.astype(np.int64) * weights).sum(axis=1)


def _subset_tables(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every subset ``s`` of rows (bit ``i`` of ``s`` = row ``i``): union mask and size."""
    count = len(masks)
    union = np.zeros(1 << count, dtype=np.int64)
    size = np.zeros(1 << count, dtype=np.int8)
    for row, mask in enumerate(masks):
        half = 1 << row
        np.bitwise_or(union[:half], mask, out=union[half : 2 * half])
        np.add(size[:half], 1, out=size[half : 2 * half])
    return union, size


def _independent_table(neighbours: np.ndarray) -> np.ndarray:
    """For every subset: true when no two of its points are neighbours (bitmask rows)."""
    count = len(neighbours)
    independent = np.ones(1 << count, dtype=bool)
    for row, mask in enumerate(neighbours):
        half = 1 << row
        lower = np.arange(half, dtype=np.int64)  # the subsets of rows below ``row``
        np.logical_and(
            independent[:half], (lower & mask) == 0, out=independent[half : 2 * half]
        )
    return independent


def _members(subset: int) -> np.ndarray:
    return np.array([bit for bit in range(subset.bit_length()) if subset >> bit & 1],
                    dtype=np.int64)


def _best(valid: np.ndarray, size: np.ndarray, *, largest: bool = False) -> np.ndarray:
    """Members of the smallest (or largest) valid subset; ties go to the smallest bitmask."""
    candidates = np.flatnonzero(valid)
    sizes = size[candidates]
    target = sizes.max() if largest else sizes.min()
    return _members(int(candidates[np.argmax(sizes == target)]))


def minimum_set_cover(incidence) -> np.ndarray:
    """Exact minimum set cover: the fewest rows whose true entries cover every column.

    Parameters
    ----------
    incidence : array_like of bool, shape (m, n)
        ``incidence[i, j]`` is true when candidate set ``i`` contains element ``j``;
        ``m <= MAX_POINTS`` candidate sets, ``n <= MAX_ELEMENTS`` elements.

    Returns
    -------
    numpy.ndarray of int64
        Indices of the chosen rows, increasing. Among covers of the least size, the one
        whose bitmask ``sum(2**i)`` is smallest.

    Raises
    ------
    ValueError
        If the matrix is not 2-D boolean, is too large, or some element is in no set.

    Notes
    -----
    Introduced in the chapter "Greedy covering", as the optimum against which
    :func:`helpers.measure.covering.greedy_set_cover` is measured. Cost ``O(2**m)``.
    """
    matrix = np.asarray(incidence)
    if matrix.ndim != 2 or matrix.dtype != bool:
        raise ValueError(
            f"incidence must be a 2-D boolean matrix (sets x elements), got dtype "
            f"{matrix.dtype} and shape {matrix.shape}."
        )
    sets, elements = matrix.shape
    if sets == 0 or elements == 0:
        raise ValueError(f"incidence is empty (shape {matrix.shape}).")
    _check_size(sets, MAX_POINTS, "the family of candidate sets")
    if elements > MAX_ELEMENTS:
        raise ValueError(f"at most {MAX_ELEMENTS} elements are supported, got {elements}.")
    orphans = np.flatnonzero(~matrix.any(axis=0))
    if orphans.size:
        raise ValueError(
            f"elements {orphans[:5].tolist()} are in no candidate set, so no cover exists."
        )
    union, size = _subset_tables(_row_masks(matrix))
    everything = (1 << elements) - 1
    return _best(union == everything, size)


@dataclass(frozen=True)
class ExactCovering:
    """Exact covering and packing numbers of one tiny sample at one radius.

    Attributes
    ----------
    min_cover : numpy.ndarray
        A smallest set of sample points whose closed eps-balls cover the sample; its size
        is the internal covering number ``N^int_eps``.
    min_maximal_separated : numpy.ndarray
        A smallest maximal eps-separated subset: the smallest greedy net over all orders.
    max_separated : numpy.ndarray
        A largest eps-separated subset; its size is the packing number ``M_eps``, the
        largest greedy net over all orders.
    eps : float
    metric : str
    n : int
    """

    min_cover: np.ndarray
    min_maximal_separated: np.ndarray
    max_separated: np.ndarray
    eps: float
    metric: str
    n: int

    @property
    def internal_covering_number(self) -> int:
        return len(self.min_cover)

    @property
    def smallest_greedy_net(self) -> int:
        return len(self.min_maximal_separated)

    @property
    def packing_number(self) -> int:
        return len(self.max_separated)


def _tiny_points(points, metric: str, limit: int) -> np.ndarray:
    array = check_points(points, name="points")
    check_choice(metric, METRICS, name="metric")
    _check_size(len(array), limit, "the sample")
    return array


def _tiny_sample(points, eps, metric: str) -> tuple[np.ndarray, float]:
    """The checked points (at most :data:`MAX_POINTS`) and radius of the eps-based functions."""
    return _tiny_points(points, metric, MAX_POINTS), check_positive(eps, name="eps")


def _enumerate(array: np.ndarray, eps: float, metric: str):
    """For every subset: does it cover the sample, is it eps-separated, and its size."""
    within = eps_incidence(array, eps, metric=metric)
    union, size = _subset_tables(_row_masks(within))
    independent = _independent_table(_row_masks(within & ~np.eye(len(array), dtype=bool)))
    return union == (1 << len(array)) - 1, independent, size


def exact_covering(points, eps: float, *, metric: str = "euclidean") -> ExactCovering:
    """Internal covering number, packing number and the smallest greedy net, exactly.

    Parameters
    ----------
    points : array_like, shape (n, d)
        At most :data:`MAX_POINTS` points.
    eps : float
        Radius, > 0. Two points are within eps when their distance is ``<= eps``, decided
        exactly as :func:`helpers.measure.covering.greedy_net_reference` decides it.
    metric : {"euclidean", "chebyshev"}

    Returns
    -------
    ExactCovering
        ``N^int_eps <= smallest_greedy_net <= packing_number = M_eps``.

    Notes
    -----
    Introduced in the chapter "Greedy covering". Cost ``O(2**n)`` time and memory.
    """
    array, eps = _tiny_sample(points, eps, metric)
    dominating, independent, size = _enumerate(array, eps, metric)
    return ExactCovering(
        min_cover=_best(dominating, size),
        min_maximal_separated=_best(dominating & independent, size),
        max_separated=_best(independent, size, largest=True),
        eps=eps,
        metric=metric,
        n=len(array),
    )


def maximal_separated_sizes(points, eps: float, *, metric: str = "euclidean") -> np.ndarray:
    """Sizes of all maximal eps-separated subsets: the greedy net's sizes over all orders.

    A subset is maximal eps-separated when its points are pairwise farther than ``eps``
    apart and every other sample point is within ``eps`` of one of them. Every greedy net
    is such a subset and every such subset is the greedy net of some visiting order, so
    the returned sizes are exactly those that a greedy net takes over the ``n!`` orders.
    Their minimum is ``exact_covering(...).smallest_greedy_net`` and their maximum the
    packing number; they need not be consecutive (a centre with ``2 d`` points at
    ``0.99 eps`` along the axes gives only 1 and ``2 d``).

    Parameters
    ----------
    points, eps, metric :
        As in :func:`exact_covering`.

    Returns
    -------
    numpy.ndarray of int64
        The distinct sizes, increasing.

    Notes
    -----
    Introduced in the chapter "Greedy covering", to compute the sizes the greedy-net
    theorem allows instead of assuming they fill an interval. Cost ``O(2**n)``.
    """
    array, eps = _tiny_sample(points, eps, metric)
    dominating, independent, size = _enumerate(array, eps, metric)
    return np.unique(size[dominating & independent]).astype(np.int64)


def minimum_internal_cover(points, eps: float, *, metric: str = "euclidean") -> np.ndarray:
    """A smallest set of sample points whose eps-balls cover the sample (exact).

    See :func:`exact_covering`; introduced in the chapter "Greedy covering".
    """
    array, eps = _tiny_sample(points, eps, metric)
    return minimum_set_cover(eps_incidence(array, eps, metric=metric))


def _distances(points: np.ndarray, metric: str) -> np.ndarray:
    """All pairwise distances by the reference's own float64 formula."""
    difference = points[:, None, :] - points[None, :, :]
    if metric == "euclidean":
        return np.sqrt(np.einsum("ijk,ijk->ij", difference, difference))
    return np.abs(difference).max(axis=2)


def optimal_k_center_radii(points, *, metric: str = "euclidean") -> np.ndarray:
    """Exact k-center radii with centres at sample points, for every k = 0..n.

    ``radii[k]`` is the least ``r`` such that some ``k`` sample points have every sample
    point within ``r`` (``radii[0] = inf``, ``radii[n] = 0``). This is the optimum that the
    farthest-first traversal approximates within a factor 2.

    Parameters
    ----------
    points : array_like, shape (n, d)
        At most :data:`K_CENTER_MAX_POINTS` points.
    metric : {"euclidean", "chebyshev"}

    Returns
    -------
    numpy.ndarray of float64, shape (n + 1,)

    Notes
    -----
    Introduced in the chapter "Greedy covering". For every subset the distance from each
    point to the subset is built from the subset without its highest point: ``O(2**n n)``.
    """
    array = _tiny_points(points, metric, K_CENTER_MAX_POINTS)
    distance = _distances(array, metric)
    n = len(array)
    nearest = np.full((1 << n, n), np.inf)
    size = np.zeros(1 << n, dtype=np.int64)
    for row in range(n):
        half = 1 << row
        np.minimum(nearest[:half], distance[row], out=nearest[half : 2 * half])
        size[half : 2 * half] = size[:half] + 1
    radius = nearest.max(axis=1)
    radii = np.full(n + 1, np.inf)
    np.minimum.at(radii, size, radius)
    return radii


def greedy_net_sizes_over_orders(points, eps: float, *, metric: str = "euclidean",
                                 orders=None) -> np.ndarray:
    """Greedy net size for each visiting order given (a check of :func:`exact_covering`).

    Parameters
    ----------
    points : array_like, shape (n, d)
    eps : float
    metric : {"euclidean", "chebyshev"}
    orders : array_like of int, shape (k, n)
        Permutations of ``range(n)``.

    Returns
    -------
    numpy.ndarray of int64, shape (k,)

    Notes
    -----
    Introduced in the chapter "Greedy covering". Uses the exact eps-incidence once and a
    plain scan per order, so it is cheap for the tiny sets this module is for.
    """
    array, eps = _tiny_sample(points, eps, metric)
    if orders is None:
        raise ValueError("orders is required: pass permutations of range(n), one per row.")
    orders = np.asarray(orders)
    n = len(array)
    if orders.ndim != 2 or orders.shape[1] != n or orders.dtype.kind not in "iu":
        raise ValueError(f"orders must be an integer array of shape (k, {n}).")
    if not np.all(np.sort(orders, axis=1) == np.arange(n)):
        raise ValueError(f"every row of orders must be a permutation of range({n}).")
    within = eps_incidence(array, eps, metric=metric)
    sizes = np.empty(len(orders), dtype=np.int64)
    for k, order in enumerate(orders):
        covered = np.zeros(n, dtype=bool)
        count = 0
        for point in order:
            if not covered[point]:
                count += 1
                covered |= within[point]
        sizes[k] = count
    return sizes



# --------------------------------------------------------------------------------------
# Exact external covering numbers of samples on a line or a circle (any n).
# --------------------------------------------------------------------------------------


def _check_positions(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or infinite values.")
    return np.sort(array)


def interval_covering_number(positions, radius: float) -> int:
    """Exact covering number of points on a line by closed intervals of length ``2 radius``.

    On a line a Euclidean ball of radius ``radius`` meets the line in an interval of length
    at most ``2 radius``, whether its centre is on the line or not, so this is the exact
    (external, centres anywhere) covering number ``N_radius`` of a sample from a segment.
    The classic sweep is optimal: put an interval's left end on the leftmost uncovered point.

    Parameters
    ----------
    positions : array_like, shape (n,)
        Coordinates along the line.
    radius : float
        Ball radius, > 0.

    Notes
    -----
    Introduced in the chapter "Greedy covering". Exact in real arithmetic; at ties within a
    rounding error of ``2 radius`` it may differ by one from float decisions elsewhere.
    """
    points = _check_positions(positions, "positions")
    radius = check_positive(radius, name="radius")
    count, start = 0, 0
    while start < points.size:
        count += 1
        start = int(np.searchsorted(points, points[start] + 2.0 * radius, side="right"))
    return count


def arc_covering_number(angles, half_angle: float) -> int:
    """Exact covering number of points on a circle by closed arcs of angle ``2 half_angle``.

    A ball of radius ``eps`` meets a circle of radius ``r`` in an arc of angle at most
    ``2 asin(eps / r)`` (chord ``2 eps``), and the ball centred on that chord's midpoint
    covers exactly such an arc; so with ``half_angle = asin(eps / r)`` this is the exact
    external covering number ``N_eps`` of a sample from the circle.

    Some optimal cover has an arc starting at a sample point; from each start the sweep of
    :func:`interval_covering_number` is optimal, and the minimum over all starts is taken by
    pointer doubling, in ``O(n log n)``.

    Parameters
    ----------
    angles : array_like, shape (n,)
        Angles in radians (any real values; they are reduced modulo ``2 pi``).
    half_angle : float
        Half the arc's angle, > 0.

    Notes
    -----
    Introduced in the chapter "Greedy covering". Exact in real arithmetic.
    """
    points = _check_positions(np.mod(np.asarray(angles, dtype=np.float64), 2.0 * np.pi),
                              "angles")
    half_angle = check_positive(half_angle, name="half_angle")
    n = points.size
    width = 2.0 * half_angle
    if width >= 2.0 * np.pi:
        return 1
    extended = np.concatenate([points, points + 2.0 * np.pi])
    # jump[j]: first position not covered by the arc that starts at extended[j]
    jump = np.searchsorted(extended, extended + width, side="right")
    jump = np.append(jump, 2 * n)  # sentinel: position 2n stays put
    levels = [jump]
    while (1 << len(levels)) <= n:
        previous = levels[-1]
        levels.append(previous[previous])
    start = np.arange(n)
    position = start.copy()
    steps = np.zeros(n, dtype=np.int64)
    for level in range(len(levels) - 1, -1, -1):
        candidate = levels[level][position]
        move = candidate < start + n
        position = np.where(move, candidate, position)
        steps += move.astype(np.int64) << level
    return int(steps.min()) + 1
