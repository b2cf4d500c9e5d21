"""Greedy epsilon-nets: the estimator behind the capacity curve C_num(eps).

Introduced in the chapter "Numerical entropy" (``notebooks/01_numerical_entropy``), which
uses :func:`greedy_net_reference` as the executable definition of a greedy cover. The
chapter on greedy covering replaces it with the engine below, which returns the *same*
centres (same indices, same order) much faster:

- :func:`greedy_net` -- the fast, exact greedy net (blocked matrix products, exact re-check
  near the ``eps`` boundary, neighbour-scale shortcuts);
- :func:`farthest_first` -- the Gonzalez traversal; one pass gives nested nets at every scale;
- :func:`greedy_set_cover` -- classic greedy set cover on the ``eps``-incidence (small n);
- :func:`neighbour_scales` -- one blocked pass over all pairs, shared by every ``eps``;
- :func:`capacity_curve` -- net sizes and certified lower/upper bounds on ``N_eps`` of the
  sample over a grid of radii, as a :class:`CapacityCurve`;
- :func:`radius_grid`, :func:`growth_exponents`, :func:`renyi_parking_constant` -- a grid that
  spans every scale of a curve, how curves change with the sample size, and the constant of the
  random-order greedy net on a curve.

Exactness
---------
The reference computes distances in float64 (float32 input is converted exactly) as
``sqrt(sum((c - x)**2))`` (Euclidean) or ``max|c - x|`` (Chebyshev) and tests ``<= eps``.
The engine reproduces those decisions bit for bit:

- Chebyshev distances involve no rounding beyond the coordinate differences, so the engine
  computes them directly in float64; they equal the reference's values exactly.
- Euclidean squared distances are computed by one matrix product of augmented rows
  ``[-2x, |x|^2, 1] . [c, 1, |c|^2]`` on centred data rescaled by an exact power of two (so float32
  neither overflows nor underflows), in float32 (``precision="float32"``; the default
  ``"auto"`` picks it for d >= 16) or float64. Standard floating-point error analysis bounds
  the error of that product by ``~(d + 2) u (|x| + |c|)^2`` for unit roundoff ``u`` whatever
  the summation order of the BLAS; the engine uses twice that bound (plus the float64 error
  of the reference itself) as a band around ``eps^2``. Pairs whose approximate value is
  outside the band are decided by it; pairs inside it are recomputed with the reference's
  own formula in float64 on the CPU. Results therefore do not depend on the precision, the
  device or the block size, only the speed does. (If torch is set to run float32 products in
  TF32 or bfloat16, the band is widened to that precision's roundoff.) The re-check relies
  on numpy's row-wise ``einsum`` giving a row the same value wherever it sits in an array;
  ``tests/test_covering.py`` checks that assumption.

Shortcuts that change no decision
---------------------------------
Greedy net = "a point is a centre iff no *earlier centre* lies within eps". Hence:

- a point with no earlier *point* within eps is a centre without any comparison;
- a point with no later point within eps covers nobody, so it can be left out of the
  centres that later points are compared with.

A singleton (no other point within eps) is both: it is a centre, covers only itself, and
removing it leaves every other decision unchanged. One blocked pass over all pairs
(:func:`neighbour_scales`, O(n^2 d / 2) in matrix products) finds these points for every
eps of a curve at once, with the same conservative band, so a point is only skipped when
the skip is certain. Points are then taken in blocks in visiting order: a block is compared
with the stored centres chunk by chunk (rows already covered drop out), and the order
dependency inside the block is resolved by an exact bitset scan. Memory is
O(n d + block_size x chunk), never n x n.

Run ``python -m helpers.bench covering --n 10000 --d 128`` for timings against the reference
and ``python -m helpers.bench matmul`` for the machine's matrix-multiply peak.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from helpers._validation import (
    check_choice,
    check_count,
    check_points,
    check_positive,
    check_real,
    check_real_array,
    is_integer,
)

METRICS = ("euclidean", "chebyshev")
PRECISIONS = ("auto", "float32", "float64")
#: With ``precision="auto"``, Euclidean products run in float32 from this dimension on
#: (where they dominate the cost) and in float64 below it (where a narrower band means
#: fewer exact re-checks and the products are cheap anyway).
AUTO_FLOAT32_MIN_DIM = 16
METHODS = ("greedy", "farthest_first")

#: Points per block in the greedy pass (memory ~ block_size x centre_chunk scores).
DEFAULT_BLOCK_SIZE = 1024
#: Centres per chunk when a block of points is compared with the centres chosen so far.
DEFAULT_CENTRE_CHUNK = 4096
#: Largest sample accepted by :func:`greedy_set_cover` (it builds an n x n boolean matrix).
SET_COVER_MAX_POINTS = 5000

_U64 = 2.0**-53


def _check_metric(metric: str) -> str:
    return check_choice(metric, METRICS, name="metric")


def _check_precision(precision: str) -> str:
    return check_choice(precision, PRECISIONS, name="precision")


def _prepare_points(points, metric: str) -> np.ndarray:
    """Validation shared by the reference and the engine: float64, finite, 2-D, non-empty."""
    array = check_points(points, name="points")
    _check_metric(metric)
    return np.ascontiguousarray(array)


def _row_norms(difference: np.ndarray, metric: str) -> np.ndarray:
    """Norm of each row of ``difference`` in float64: the formula of every exact decision.

    The engine's exact re-checks must round as :func:`greedy_net_reference` does, so they
    all call this one function.
    """
    if metric == "euclidean":
        return np.sqrt(np.einsum("ij,ij->i", difference, difference))
    return np.abs(difference).max(axis=1)


def greedy_net_reference(points, eps: float, *, metric: str = "euclidean") -> np.ndarray:
    """Plain greedy epsilon-net, kept as the definition that faster code must reproduce.

    Points are visited in order; a point becomes a centre when it is farther than ``eps``
    from every centre chosen so far. The result is both an ``eps``-cover (every point is
    within ``eps`` of a centre) and an ``eps``-packing (centres are pairwise more than
    ``eps`` apart), so ``N_eps <= len(net) <= N_{eps/2}`` for the sampled set.

    Parameters
    ----------
    points : array_like, shape (n, d)
        The sample.
    eps : float
        Covering radius, > 0.
    metric : {"euclidean", "chebyshev"}
        Distance used for the balls (Chebyshev = L-infinity).

    Returns
    -------
    numpy.ndarray of int
        Indices of the centres, in the order they were chosen.

    Notes
    -----
    Introduced in the chapter "Numerical entropy". Cost O(n * |net| * d).
    """
    points = _prepare_points(points, metric)
    eps = check_positive(eps, name="eps")
    centres: list[int] = []
    centre_block = np.empty((0, points.shape[1]), dtype=points.dtype)
    for index, point in enumerate(points):
        if centres:
            if _row_norms(centre_block - point, metric).min() <= eps:
                continue
        centres.append(index)
        centre_block = points[centres]
    return np.asarray(centres, dtype=np.int64)


# --------------------------------------------------------------------------------------
# Backends: numpy (default) and torch (any device); torch is imported only when asked for.
# --------------------------------------------------------------------------------------


class _Backend:
    """Operations that numpy arrays and torch tensors spell alike (slicing and ``@``)."""

    def put(self, buffer, start: int, rows) -> None:
        buffer[start : start + len(rows)] = rows

    def products(self, left, right):
        return left @ right.T

    def vector(self, rows, index: int):
        return rows[index]


class _NumpyBackend(_Backend):
    """Array operations of the engine on numpy arrays (the CPU BLAS does the products)."""

    name = "numpy"

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def asarray(self, array: np.ndarray):
        return np.ascontiguousarray(array, dtype=self.dtype)

    def empty(self, shape):
        return np.empty(shape, dtype=self.dtype)

    def take(self, rows, index: np.ndarray):
        return rows[index]

    def chebyshev(self, left, right):
        from scipy.spatial.distance import cdist

        return cdist(left, right, "chebyshev")

    def row_min(self, tile) -> np.ndarray:
        return tile.min(axis=1)

    def col_min(self, tile) -> np.ndarray:
        return tile.min(axis=0)

    def upper_triangle_to_inf(self, tile) -> None:
        rows, cols = tile.shape
        tile[np.tril_indices(rows, 0, cols)] = np.inf

    def less_equal(self, tile, value: float) -> np.ndarray:
        return tile <= value

    def rows_less_equal(self, tile, rows: np.ndarray, value: float):
        return np.nonzero(tile[rows] <= value)

    def mat_vec(self, rows, vector) -> np.ndarray:
        return rows @ vector

    def to_numpy(self, array) -> np.ndarray:
        return np.asarray(array)


class _TorchBackend(_Backend):
    """The same operations on torch tensors on ``device`` (CPU or CUDA)."""

    name = "torch"

    def __init__(self, dtype, device):
        try:
            import torch
        except ImportError as error:  # pragma: no cover - torch is an optional extra
            raise ValueError(
                f"device={device!r} needs torch, which is not installed; install the "
                "'torch' extra or pass device=None for the numpy engine."
            ) from error
        self.torch = torch
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as error:
            raise ValueError(f"device={device!r} is not a torch device: {error}") from error
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={device!r} asked for CUDA, but torch sees no CUDA device.")
        self.dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[
            np.dtype(dtype)
        ]

    def reduced_precision_matmul(self) -> bool:
        """Whether float32 products may run in TF32/bfloat16 (then the error band widens)."""
        torch = self.torch
        if self.dtype != torch.float32:
            return False
        if torch.get_float32_matmul_precision() != "highest":
            return True
        reduced = ("tf32", "bf16")
        flags = [getattr(torch.backends, "fp32_precision", "none") in reduced]
        if self.device.type == "cuda":
            matmul = torch.backends.cuda.matmul
            flags.append(bool(getattr(matmul, "allow_tf32", False)))
            flags.append(getattr(matmul, "fp32_precision", "none") in reduced)
        else:
            matmul = getattr(getattr(torch.backends, "mkldnn", None), "matmul", None)
            flags.append(getattr(matmul, "fp32_precision", "none") in reduced)
        return any(flags)

    def asarray(self, array: np.ndarray):
        return self.torch.as_tensor(np.ascontiguousarray(array)).to(
            device=self.device, dtype=self.dtype
        )

    def empty(self, shape):
        return self.torch.empty(shape, dtype=self.dtype, device=self.device)

    def _index(self, index: np.ndarray):
        return self.torch.as_tensor(np.asarray(index, dtype=np.int64), device=self.device)

    def take(self, rows, index: np.ndarray):
        return rows.index_select(0, self._index(index))

    def chebyshev(self, left, right):
        return self.torch.cdist(left, right, p=float("inf"))

    def row_min(self, tile) -> np.ndarray:
        return tile.amin(dim=1).cpu().numpy()

    def col_min(self, tile) -> np.ndarray:
        return tile.amin(dim=0).cpu().numpy()

    def upper_triangle_to_inf(self, tile) -> None:
        rows, cols = tile.shape
        mask = self.torch.ones((rows, cols), dtype=self.torch.bool, device=self.device).tril()
        tile.masked_fill_(mask, float("inf"))

    def less_equal(self, tile, value: float) -> np.ndarray:
        return (tile <= value).cpu().numpy()

    def rows_less_equal(self, tile, rows: np.ndarray, value: float):
        hits = (tile.index_select(0, self._index(rows)) <= value).nonzero().cpu().numpy()
        return hits[:, 0], hits[:, 1]

    def mat_vec(self, rows, vector) -> np.ndarray:
        return (rows @ vector).cpu().numpy()

    def to_numpy(self, array) -> np.ndarray:
        return array.cpu().numpy()


def _backend(device, dtype):
    if device is None:
        return _NumpyBackend(dtype)
    return _TorchBackend(dtype, device)


# --------------------------------------------------------------------------------------
# The engine: scores by matrix products, thresholds with a rounding band, exact re-check.
# --------------------------------------------------------------------------------------


def _fingerprint(points: np.ndarray) -> int:
    """A cheap checksum that tells one point set from another (shape, sums, sampled rows)."""
    step = max(1, len(points) // 64)
    summary = (points.shape, points.sum(axis=0).tobytes(), points[::step].tobytes())
    return hash(summary)


class _Engine:
    """Distance scores between rows, with thresholds that make decisions exact.

    For the Euclidean metric a *score* is an approximate squared distance from one matrix
    product; for Chebyshev it is the exact float64 distance. ``thresholds(eps)`` returns
    ``(low, high)``: a score ``<= low`` certainly means "within eps" and a score ``> high``
    certainly means "farther than eps", in the exact sense of :func:`greedy_net_reference`;
    scores in between are settled by :meth:`exact_within`.
    """

    def __init__(self, points: np.ndarray, metric: str, device=None, precision="auto"):
        self.points = points
        self.metric = metric
        self.n, self.d = points.shape
        self.device = device
        self.fingerprint = _fingerprint(points)
        # Work counters: GEMM flops, Chebyshev coordinate comparisons, seconds in scoring
        # (on CUDA the seconds count launches, not the asynchronous work).
        self.stats = {"gemm_flop": 0, "distance_evaluations": 0, "score_seconds": 0.0}
        self.exponent = 0  # scores are in units of 2**exponent (distance) / 4**exponent
        if metric == "chebyshev":
            # Exact in float64: only the coordinate differences round, as in the reference.
            _check_precision(precision)
            self.precision = "float64"
            self.backend = _backend(device, np.float64)
            self.query_rows = self.centre_rows = self.backend.asarray(points)
            self.band_abs = self.band_rel = 0.0
            return
        precision = _check_precision(precision)
        if precision == "auto":
            precision = "float32" if self.d >= AUTO_FLOAT32_MIN_DIM else "float64"
        self.precision = precision
        dtype = np.float32 if precision == "float32" else np.float64
        self.backend = _backend(device, dtype)
        # Centre on the bounding box's midpoint (no overflow), then scale by a power of two
        # (exact) so that the largest norm is in [1/2, 1): float32 neither overflows nor
        # underflows on the squares, and eps is rescaled by the same exact factor.
        centred = points - (points.min(axis=0) / 2 + points.max(axis=0) / 2)
        largest = float(np.abs(centred).max())
        if not np.isfinite(largest) or largest > 1e150:
            raise ValueError(
                "points span more than 1e150 in a coordinate; the squared distances would "
                "overflow float64. Rescale the data (covering numbers scale with it)."
            )
        if largest > 0:
            self.exponent = int(np.frexp(largest * math.sqrt(self.d))[1])
            centred = np.ldexp(centred, -self.exponent)
        squares = np.einsum("ij,ij->i", centred, centred)
        width = self.d + 2
        query = np.empty((self.n, width), dtype=dtype)
        np.multiply(centred, -2.0, out=query[:, : self.d], casting="same_kind")
        query[:, self.d] = squares
        query[:, self.d + 1] = 1.0
        self.query_rows = self.backend.asarray(query)
        del query
        centre = np.empty((self.n, width), dtype=dtype)
        centre[:, : self.d] = centred
        centre[:, self.d] = 1.0
        centre[:, self.d + 1] = squares
        del centred
        self.centre_rows = self.backend.asarray(centre)
        if precision == "float32":
            unit = 2.0**-24
            reduced = getattr(self.backend, "reduced_precision_matmul", lambda: False)()
            if reduced:  # TF32 keeps 10 mantissa bits, bfloat16 7: cover the worse one
                unit = 2.0**-8
        else:
            unit = _U64
        scale = 4.0 * float(squares.max())  # (|x| + |c|)^2 <= scale <= 4
        # Product error (any summation order) + input rounding, doubled for safety, plus
        # the float64 rounding of the centring and of the reference's own distance, plus
        # float32 underflow of tiny coordinates (absolute, ~1e-45 each).
        self.band_abs = 2.0 * (width + 8) * unit * scale + 4.0 * (width + 8) * _U64 * scale + 1e-30
        # The reference's own squares underflow below 2**-1074 (absolute, original units):
        # only matters for absurdly small data, where it sends every pair to the re-check.
        self.band_abs += math.ldexp(4.0 * (width + 8) * 2.0**-1074, -2 * self.exponent)
        self.band_rel = 4.0 * (width + 8) * _U64

    # thresholds in score units -------------------------------------------------------
    def scaled(self, distance):
        """Distances in the engine's units (exact power-of-two rescaling; huge ones give inf)."""
        with np.errstate(over="ignore"):
            return np.ldexp(distance, -self.exponent)

    def thresholds(self, eps: float) -> tuple[float, float]:
        if self.metric == "chebyshev":
            return eps, eps
        eps = float(self.scaled(eps))
        if eps >= 4.0:
            # Every scaled point has norm < 1, so every distance is < 2 and every pair is
            # within eps. Squaring a radius this large could overflow to inf, and inf - inf
            # is NaN, which would put every pair outside; decide here instead.
            return math.inf, math.inf
        squared = eps * eps  # may underflow to 0: the absolute band then sends pairs to re-check
        band = self.band_abs + self.band_rel * squared
        low, high = squared - band, squared + band
        # beyond float32's range: use infinities (same decisions, no overflow on the cast)
        return (-math.inf if low < -1e38 else low), (math.inf if high > 1e38 else high)

    def candidate_limit(self, distance: np.ndarray) -> np.ndarray:
        """Largest score at which the true distance may still be <= ``distance`` (array)."""
        with np.errstate(over="ignore"):
            squared = self.scaled(distance) ** 2  # a huge distance gives inf: no limit at all
        return squared * (1.0 + self.band_rel) + self.band_abs

    def scores(self, left, right):
        began = time.perf_counter()
        if self.metric == "chebyshev":
            tile = self.backend.chebyshev(left, right)
            self.stats["distance_evaluations"] += len(left) * len(right) * self.d
        else:
            tile = self.backend.products(left, right)
            self.stats["gemm_flop"] += 2 * len(left) * len(right) * (self.d + 2)
        self.stats["score_seconds"] += time.perf_counter() - began
        return tile

    def exact_within(self, first: np.ndarray, second: np.ndarray, eps: float) -> np.ndarray:
        """Reference decision ``distance(first[k], second[k]) <= eps`` for index pairs."""
        return _row_norms(self.points[second] - self.points[first], self.metric) <= eps

    def within_matrix(self, rows: np.ndarray, cols: np.ndarray, eps: float) -> np.ndarray:
        """Exact boolean matrix ``distance(rows[a], cols[b]) <= eps``."""
        low, high = self.thresholds(eps)
        tile = self.scores(
            self.backend.take(self.query_rows, rows), self.backend.take(self.centre_rows, cols)
        )
        within = self.backend.less_equal(tile, low)
        if high > low:
            band_rows, band_cols = np.nonzero(self.backend.less_equal(tile, high) & ~within)
            if band_rows.size:
                within[band_rows, band_cols] = self.exact_within(
                    rows[band_rows], cols[band_cols], eps
                )
        return within


# --------------------------------------------------------------------------------------
# Neighbour scales: one pass over all pairs, shared by every eps of a curve.
# --------------------------------------------------------------------------------------


@dataclass
class NeighbourScales:
    """Nearest-neighbour scales of every point, from one blocked pass over all pairs.

    ``earlier[i]`` and ``later[i]`` are the smallest scores (approximate squared distances for
    the Euclidean metric, exact distances for Chebyshev) from point ``i`` to the points
    before and after it in the visiting order (``inf`` where there are none). They are used
    only through the engine's conservative thresholds, so they never change a result:

    - if every earlier point is certainly farther than ``eps`` the point is a centre of the
      greedy net, with no comparison needed;
    - if every later point is certainly farther than ``eps`` the point can cover nobody who
      comes after it, so it is left out of the centres that later points are compared with.

    A point with no other point within ``eps`` (a singleton) satisfies both: it is a centre
    that covers only itself, and removing it changes no other decision.
    """

    earlier: np.ndarray
    later: np.ndarray
    metric: str
    precision: str
    n: int
    d: int
    exponent: int = field(repr=False, default=0)
    fingerprint: int = field(repr=False, default=0)
    stats: dict = field(repr=False, default_factory=dict)

    @property
    def nearest(self) -> np.ndarray:
        """Approximate distance from each point to its nearest other point (``inf`` if n=1).

        Accurate to the engine's rounding band (float32 products by default); use it to pick
        radii, not as a certified quantity.
        """
        score = np.minimum(self.earlier, self.later)
        if self.metric == "euclidean":
            return np.ldexp(np.sqrt(np.maximum(score, 0.0)), self.exponent)
        return score.copy()

    def _check_matches(self, engine: _Engine) -> None:
        if (self.n, self.d, self.metric, self.precision, self.fingerprint) != (
            engine.n,
            engine.d,
            engine.metric,
            engine.precision,
            engine.fingerprint,
        ):
            raise ValueError(
                "scales were computed for other points or settings "
                f"(n={self.n}, d={self.d}, metric={self.metric!r}, precision={self.precision!r})"
                f"; this call has n={engine.n}, d={engine.d}, metric={engine.metric!r}, "
                f"precision={engine.precision!r}."
            )


def _neighbour_scales(engine: _Engine, block_size: int) -> NeighbourScales:
    backend = engine.backend
    n = engine.n
    earlier = np.full(n, np.inf)
    later = np.full(n, np.inf)
    col_block = max(block_size, 4 * block_size)
    for start in range(0, n, block_size):
        stop = min(start + block_size, n)
        query = engine.query_rows[start:stop]
        for col_start in range(start, n, col_block):
            col_stop = min(col_start + col_block, n)
            tile = engine.scores(query, engine.centre_rows[col_start:col_stop])
            if col_start == start:  # keep only pairs (i, j) with j > i
                backend.upper_triangle_to_inf(tile)
            np.minimum(later[start:stop], backend.row_min(tile), out=later[start:stop])
            np.minimum(
                earlier[col_start:col_stop],
                backend.col_min(tile),
                out=earlier[col_start:col_stop],
            )
    return NeighbourScales(
        earlier=earlier,
        later=later,
        metric=engine.metric,
        precision=engine.precision,
        n=n,
        d=engine.d,
        exponent=engine.exponent,
        fingerprint=engine.fingerprint,
        stats=dict(engine.stats),
    )


def neighbour_scales(
    points,
    *,
    metric: str = "euclidean",
    block_size: int = DEFAULT_BLOCK_SIZE,
    device=None,
    precision: str = "auto",
) -> NeighbourScales:
    """One blocked pass over all pairs giving each point's nearest earlier and later scores.

    Cost O(n^2 d / 2) in matrix products, memory O(n d + block_size^2). Pass the result to
    :func:`greedy_net` (``scales=``) to share it across many radii; :func:`capacity_curve`
    does so. See :class:`NeighbourScales` for what the shortcuts are and why they are exact.
    """
    points = _prepare_points(points, metric)
    block_size = check_count(block_size, name="block_size")
    engine = _Engine(points, metric, device, precision)
    return _neighbour_scales(engine, block_size)


# --------------------------------------------------------------------------------------
# Greedy net: blocked and exact.
# --------------------------------------------------------------------------------------


def _first_free_scan(covers: list[int], size: int) -> list[int]:
    """Sequential greedy inside a block with Python-int bitsets.

    ``covers[a]`` has bit ``b`` set when ``b > a`` and the two are within eps. Returns the
    positions that become centres, in order.
    """
    chosen: list[int] = []
    covered = 0
    everyone = (1 << size) - 1
    position = 0
    while position < size:
        free = ~covered & everyone & ~((1 << position) - 1)
        if not free:
            break
        position = (free & -free).bit_length() - 1
        chosen.append(position)
        covered |= covers[position]
        position += 1
    return chosen


def _greedy(
    engine: _Engine,
    eps: float,
    scales: NeighbourScales | None,
    block_size: int,
    centre_chunk: int | None = None,
) -> np.ndarray:
    if centre_chunk is None:
        centre_chunk = DEFAULT_CENTRE_CHUNK  # read at call time (tests shrink it)
    backend = engine.backend
    n = engine.n
    low, high = engine.thresholds(eps)
    banded = high > low
    if scales is not None:
        scales._check_matches(engine)
        automatic = scales.earlier > high  # no earlier point within eps: surely a centre
        quiet = scales.later > high  # no later point within eps: covers nobody later
    else:
        automatic = np.zeros(n, dtype=bool)
        quiet = np.zeros(n, dtype=bool)
        automatic[0] = True
        quiet[-1] = True
    is_centre = automatic.copy()
    active = np.flatnonzero(~(automatic & quiet))
    if active.size == 0:
        return np.flatnonzero(is_centre).astype(np.int64)
    capacity = int(np.count_nonzero(~quiet[active]))
    centre_buffer = backend.empty((max(capacity, 1), engine.centre_rows.shape[1]))
    centre_index = np.empty(max(capacity, 1), dtype=np.int64)
    stored = 0
    for start in range(0, active.size, block_size):
        block = active[start : start + block_size]
        auto_block = automatic[block]
        keep = auto_block.copy()  # candidates for the in-block pass
        undecided = np.flatnonzero(~auto_block)
        if undecided.size:
            alive = undecided  # positions in block still possibly uncovered
            if stored:
                queries = backend.take(engine.query_rows, block[alive])
                for chunk_start in range(0, stored, centre_chunk):
                    chunk_stop = min(chunk_start + centre_chunk, stored)
                    tile = engine.scores(queries, centre_buffer[chunk_start:chunk_stop])
                    best = backend.row_min(tile)
                    covered = best <= low
                    if banded:
                        unsure = np.flatnonzero((best > low) & (best <= high))
                        if unsure.size:
                            rows, cols = backend.rows_less_equal(tile, unsure, high)
                            hit = engine.exact_within(
                                block[alive[unsure[rows]]],
                                centre_index[chunk_start + cols],
                                eps,
                            )
                            covered[unsure[rows[hit]]] = True
                    if covered.any():
                        remaining = ~covered
                        alive = alive[remaining]
                        if alive.size == 0:
                            break
                        queries = backend.take(queries, np.flatnonzero(remaining))
            keep[alive] = True
        candidates = block[keep]
        size = candidates.size
        if size == 0:
            continue
        if size == 1:
            chosen = [0]
        else:
            tile = engine.scores(
                backend.take(engine.query_rows, candidates),
                backend.take(engine.centre_rows, candidates),
            )
            within = backend.less_equal(tile, low)
            if banded:
                rows, cols = np.nonzero(backend.less_equal(tile, high) & ~within)
                upper = cols > rows
                rows, cols = rows[upper], cols[upper]
                if rows.size:
                    within[rows, cols] = engine.exact_within(
                        candidates[rows], candidates[cols], eps
                    )
            within = np.triu(within, 1)
            if not within.any():
                chosen = list(range(size))
            else:
                packed = np.packbits(within, axis=1, bitorder="little")
                covers = [int.from_bytes(row.tobytes(), "little") for row in packed]
                chosen = _first_free_scan(covers, size)
        new = candidates[chosen]
        is_centre[new] = True
        coverers = new[~quiet[new]]
        if coverers.size:
            backend.put(centre_buffer, stored, backend.take(engine.centre_rows, coverers))
            centre_index[stored : stored + coverers.size] = coverers
            stored += coverers.size
    return np.flatnonzero(is_centre).astype(np.int64)


def _check_order(order, n: int) -> np.ndarray | None:
    if order is None:
        return None
    order = np.asarray(order)
    if order.ndim != 1 or order.dtype.kind not in "iu" or order.size != n:
        raise ValueError(f"order must be a permutation of range({n}) as a 1-D integer array.")
    if not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError(f"order must be a permutation of range({n}).")
    return order.astype(np.int64)


def greedy_net(
    points,
    eps: float,
    *,
    metric: str = "euclidean",
    block_size: int = DEFAULT_BLOCK_SIZE,
    device=None,
    precision: str = "auto",
    scales: NeighbourScales | None = None,
    order=None,
) -> np.ndarray:
    """Greedy epsilon-net, identical to :func:`greedy_net_reference` and much faster.

    Returns the same centre indices in the same order as the reference for the same
    visiting order (the row order of ``points``, or ``order`` if given). Points are taken in
    blocks of ``block_size``: a block is compared with the centres chosen so far by matrix
    products, then the order dependency inside the block is resolved exactly by a bitset
    scan. See the module docstring for why the results are exact whatever ``precision``.

    Parameters
    ----------
    points : array_like, shape (n, d)
        The sample, float32 or float64 (float32 is converted exactly to float64, as the
        reference does).
    eps : float
        Covering radius, > 0. A point within exactly ``eps`` of a centre is covered.
    metric : {"euclidean", "chebyshev"}
    block_size : int
        Points per block; memory is O(n d + block_size * 4096) scores.
    device : str or torch.device, optional
        ``None`` runs on numpy; a torch device ("cpu", "cuda") runs the same engine in torch.
    precision : {"auto", "float32", "float64"}
        Precision of the Euclidean matrix products (Chebyshev is always exact float64);
        ``auto`` is float32 for d >= 16, else float64. It changes speed and the number of
        re-checked pairs, never the result.
    scales : NeighbourScales, optional
        From :func:`neighbour_scales` on the same points and settings; lets points with no
        earlier (later) neighbour within ``eps`` skip comparisons. Worth it when the net is
        large or when many radii share it.
    order : array_like of int, optional
        Visiting order (a permutation); the result holds original indices, in visiting order.

    Returns
    -------
    numpy.ndarray of int64
        Indices of the centres in the order they were chosen.
    """
    points = _prepare_points(points, metric)
    eps = check_positive(eps, name="eps")
    block_size = check_count(block_size, name="block_size")
    order = _check_order(order, len(points))
    if order is not None:
        if scales is not None:
            raise ValueError("pass scales computed on points[order] and no order, not both.")
        return order[
            greedy_net(
                points[order],
                eps,
                metric=metric,
                block_size=block_size,
                device=device,
                precision=precision,
            )
        ]
    engine = _Engine(points, metric, device, precision)
    return _greedy(engine, eps, scales, block_size)


def cell_sandwich(unit_points, bits) -> dict:
    """Occupied grid cells at each precision, with greedy nets that bound them on both sides.

    Introduced in the chapter "Numerical entropy", which proves, with ``eps = 2**-p`` and
    ``d`` the dimension, ``N_{eps sqrt(d) / 2} <= cells <= 2**d N_{eps / 2}``. A greedy net
    at radius ``r`` has between ``N_r`` and ``N_{r / 2}`` centres, so the net at
    ``eps sqrt(d)`` can never exceed the cell count and the net at ``eps / 2`` times
    ``2**d`` can never fall below it: both checks hold on every sample, and a failure is a
    bug. The net at ``eps`` itself is returned too, to set against a set's covering number.

    Parameters
    ----------
    unit_points : array_like, shape (n, d)
        Points in unit-cube units (the grid of :func:`helpers.measure.quantize.grid_codes`).
    bits : sequence of float
        Precisions ``p``.

    Returns
    -------
    dict of numpy.ndarray
        ``bits``, ``cells``, ``net_at_eps_sqrt_d``, ``net_at_eps``, ``net_at_half_eps``
        (net sizes, int64), and the booleans ``lower_holds`` (net at ``eps sqrt(d)`` at most
        the cells) and ``upper_holds`` (cells at most ``2**d`` times the net at ``eps / 2``).
    """
    from helpers.measure.quantize import occupied_cells_curve

    dim = _prepare_points(unit_points, "euclidean").shape[1]
    bits = [float(p) for p in bits]
    # the cells are counted on the points as given (float32 codes may round differently)
    cells = occupied_cells_curve(unit_points, bits)
    nets = {name: np.array([len(greedy_net(unit_points, factor * 2.0**-p)) for p in bits],
                           dtype=np.int64)
            for name, factor in (("net_at_eps_sqrt_d", math.sqrt(dim)), ("net_at_eps", 1.0),
                                 ("net_at_half_eps", 0.5))}
    # Python integers: 2**d overflows int64 from d = 63 on
    upper = [int(c) <= 2**dim * int(h) for c, h in zip(cells, nets["net_at_half_eps"],
                                                        strict=True)]
    return {"bits": np.array(bits), "cells": cells, **nets,
            "lower_holds": nets["net_at_eps_sqrt_d"] <= cells, "upper_holds": np.array(upper)}


# --------------------------------------------------------------------------------------
# Farthest-first traversal (Gonzalez).
# --------------------------------------------------------------------------------------


@dataclass
class FarthestFirst:
    """A farthest-first traversal.

    ``order[k]`` is the k-th point inserted and ``radii[k]`` its distance to the points
    inserted before it (``radii[0] = inf``). The radii are non-increasing. For ``k >= 1``
    the prefix ``order[:k]`` is an ``r``-cover of the sample for ``r = radii[k]`` (the
    farthest remaining point is at that distance; ``r = 0`` when ``k = n``) and a packing
    at radius ``radii[k-1]`` (pairwise distances ``>= radii[k-1]``). Hence for every
    ``eps > 0`` the prefix of length ``net_size(eps) = #{k: radii[k] > eps}`` is an
    ``eps``-cover whose points are pairwise more than ``eps`` apart: a maximal
    ``eps``-separated set, certified like a greedy net, and the nets are nested.
    Distances are the reference's float64 values.

    If the traversal was stopped early, ``complete`` is false and ``stop_radius`` is the
    distance of the farthest point not inserted; ``net_size`` is exact for
    ``eps >= stop_radius`` only.
    """

    order: np.ndarray
    radii: np.ndarray
    complete: bool
    stop_radius: float

    def net_size(self, eps) -> np.ndarray | int:
        """Number of traversal points with insertion radius > eps (nested nets)."""
        eps_array = check_real_array(eps, name="eps", finite=False)
        if np.any(eps_array < self.stop_radius):
            raise ValueError(
                f"the traversal stopped at radius {self.stop_radius:g}; net sizes are known "
                "only for eps >= that radius."
            )
        descending = -self.radii
        sizes = np.searchsorted(descending, -eps_array, side="left")
        return sizes if sizes.ndim else int(sizes)

    def net(self, eps: float) -> np.ndarray:
        """Indices of the eps-net given by the traversal (a prefix of ``order``)."""
        return self.order[: self.net_size(float(eps))]


def farthest_first(
    points,
    *,
    metric: str = "euclidean",
    start: int = 0,
    device=None,
    stop_radius: float = 0.0,
    max_points: int | None = None,
    precision: str = "float64",
) -> FarthestFirst:
    """Farthest-first (Gonzalez) traversal: nested eps-nets for every eps in one pass.

    Starting from ``start``, each step inserts the point farthest from those already
    inserted (ties go to the smallest index) and records that distance as its insertion
    radius. See :class:`FarthestFirst` for the cover/packing properties and
    ``FarthestFirst.net_size`` for the net size at any eps. The traversal stops when the
    next radius would be ``<= stop_radius`` or after ``max_points`` insertions.

    Each step compares the new point with every remaining candidate by one matrix-vector
    product (``device`` and ``precision`` as in :func:`greedy_net`) and recomputes exactly,
    with the reference formula, every distance that could change a point's nearest
    inserted distance, so the radii and the order do not depend on the device. Cost
    O(n d) per step, O(n k d) for k insertions: use it for moderate n or a coarse
    ``stop_radius``; :func:`greedy_net` is the fast engine for a single scale.
    """
    points = _prepare_points(points, metric)
    n = len(points)
    if not is_integer(start) or not 0 <= start < n:
        raise ValueError(f"start must be an index in range({n}), got {start!r}.")
    check_real(stop_radius, name="stop_radius", low=0.0)
    limit = n if max_points is None else check_count(max_points, name="max_points")
    engine = _Engine(points, metric, device, precision)
    nearest = np.full(n, np.inf)  # exact distance to the inserted set
    order = [int(start)]
    radii = [np.inf]
    nearest[int(start)] = 0.0
    complete = True
    final_radius = 0.0
    # Each step is one small matrix-vector product: threads cost more in synchronisation than
    # they save (3-50x slower on a busy 2-core machine), so BLAS gets one thread here.
    with threadpool_limits(limits=1, user_api="blas"):
        complete, final_radius = _farthest_first_loop(
            engine, points, metric, nearest, order, radii, stop_radius, limit)
    return FarthestFirst(
        order=np.asarray(order, dtype=np.int64),
        radii=np.asarray(radii, dtype=np.float64),
        complete=complete,
        stop_radius=final_radius,
    )


def _farthest_first_loop(engine, points, metric, nearest, order, radii, stop_radius, limit):
    """Insert points into ``order``/``radii`` in place; return (complete, final_radius)."""
    backend = engine.backend
    current = order[-1]
    while True:
        # Candidates whose distance could drop: approximate score <= current nearest + band.
        vector = backend.vector(engine.centre_rows, current)
        if metric == "euclidean":
            score = backend.mat_vec(engine.query_rows, vector)
            candidates = np.flatnonzero(score <= engine.candidate_limit(nearest))
        else:
            candidates = np.flatnonzero(nearest > 0)
        if candidates.size:
            distance = _row_norms(points[candidates] - points[current], metric)
            nearest[candidates] = np.minimum(nearest[candidates], distance)
        following = int(np.argmax(nearest))
        radius = float(nearest[following])
        if radius <= 0.0:
            return True, 0.0
        if radius <= stop_radius or len(order) >= limit:
            return False, radius
        order.append(following)
        radii.append(radius)
        nearest[following] = 0.0
        current = following


# --------------------------------------------------------------------------------------
# Greedy set cover (small n).
# --------------------------------------------------------------------------------------


def eps_incidence(
    points,
    eps: float,
    *,
    metric: str = "euclidean",
    device=None,
    max_points: int = SET_COVER_MAX_POINTS,
) -> np.ndarray:
    """Exact n x n boolean matrix ``distance(i, j) <= eps`` (the reference's decisions)."""
    points = _prepare_points(points, metric)
    eps = check_positive(eps, name="eps")
    n = len(points)
    if n > max_points:
        raise ValueError(
            f"the eps-incidence of n={n} points needs an n x n matrix; the limit is "
            f"max_points={max_points}. Use greedy_net (no such matrix) or subsample."
        )
    engine = _Engine(points, metric, device, "float64")
    index = np.arange(n)
    within = engine.within_matrix(index, index, eps)
    within |= within.T  # symmetric decisions; guards against any asymmetric rounding
    np.fill_diagonal(within, True)
    return within


def greedy_set_cover(
    points,
    eps: float,
    *,
    metric: str = "euclidean",
    device=None,
    max_points: int = SET_COVER_MAX_POINTS,
) -> np.ndarray:
    """Classic greedy set cover of the sample by eps-balls centred at sample points.

    Builds the n x n incidence "``distance(i, j) <= eps``" (refuses ``n > max_points``) and
    repeatedly picks the point whose ball covers the most not-yet-covered points (ties: the
    smallest index) until every point is covered.

    Guarantee (Johnson 1974, Lovasz 1975, Chvatal 1979): if ``OPT`` is the fewest sample
    points whose closed eps-balls cover the sample (the *internal* covering number, with
    ``N_eps <= OPT <= N_{eps/2}``), the greedy cover has at most ``H(Delta) * OPT`` points,
    where ``Delta <= n`` is the largest ball's count and ``H(m) = 1 + 1/2 + ... + 1/m <=
    ln m + 1``. Unlike a greedy net, the result need not be an eps-packing.

    Returns
    -------
    numpy.ndarray of int64
        The chosen centres, in the order they were picked.
    """
    within = eps_incidence(points, eps, metric=metric, device=device, max_points=max_points)
    n = len(within)
    counts = within.sum(axis=1).astype(np.int64)
    uncovered = np.ones(n, dtype=bool)
    chosen: list[int] = []
    while uncovered.any():
        best = int(np.argmax(counts))
        chosen.append(best)
        newly = within[best] & uncovered
        uncovered &= ~newly
        counts -= within[:, newly].sum(axis=1)
    return np.asarray(chosen, dtype=np.int64)


def harmonic_number(m: int) -> float:
    """``H(m) = 1 + 1/2 + ... + 1/m`` (0 for m = 0), the greedy set cover factor."""
    return float(sum(1.0 / k for k in range(1, check_count(m, name="m", minimum=0) + 1)))


def renyi_parking_constant() -> float:
    """Rényi's parking constant ``c_R ~ 0.7476``, the jamming density of random parking.

    Cars of unit length parked at uniformly random free places on a street of length ``x``
    number ``c_R x + c_R - 1 + o(1)`` on average; a greedy net of a dense sample of a curve,
    visited in random order, is such a parking. Introduced in the chapter "Greedy covering"
    (``notebooks/03_greedy_covering``), which compares random-order nets with it.
    """
    from scipy import integrate, special

    def inner(t):  # int_0^t (1 - e^-u) / u du, in closed form
        return 0.0 if t == 0 else special.exp1(t) + np.log(t) + np.euler_gamma

    return float(integrate.quad(lambda t: np.exp(-2.0 * inner(t)), 0, np.inf, limit=200)[0])


def radius_grid(points, nearest, count: int) -> np.ndarray:
    """``count`` geometrically spaced radii spanning every scale of a capacity curve.

    From half the smallest positive nearest-neighbour distance, where every point is its own
    centre, to the largest distance from the first point, where one ball holds the whole
    sample. Introduced in the chapter "Greedy covering" (``notebooks/03_greedy_covering``);
    ``helpers.bench`` uses it too.

    Parameters
    ----------
    points : array_like, shape (n, d)
    nearest : array_like, shape (n,)
        Each point's nearest-neighbour distance, e.g. :attr:`NeighbourScales.nearest`.
    count : int
        Number of radii.

    Returns
    -------
    numpy.ndarray
        ``count`` radii in ascending order.
    """
    points = np.asarray(points, dtype=np.float64)
    nearest = np.asarray(nearest, dtype=np.float64)
    finite = nearest[np.isfinite(nearest) & (nearest > 0)]
    reach = float(np.sqrt(((points - points[0]) ** 2).sum(axis=1)).max())
    # all points equal: every radius gives one centre, so any small scale will do
    low = float(finite.min()) / 2.0 if finite.size else (reach or 1.0) / 1e6
    return np.geomspace(low, max(reach, low * 1.0001), count)


def growth_exponents(sizes, sample_sizes) -> np.ndarray:
    """How fast cover sizes grow with the sample: ``log(|G_n'| / |G_n|) / log(n' / n)``.

    0 means the cover no longer changes with the sample, 1 that it grows like the sample
    (every point its own centre). Introduced in the chapter "Greedy covering"
    (``notebooks/03_greedy_covering``).

    Parameters
    ----------
    sizes : array_like, shape (radii, len(sample_sizes))
        Cover sizes (> 0), one row per radius and one column per sample size.
    sample_sizes : array_like
        The sample sizes, increasing.

    Returns
    -------
    numpy.ndarray, shape (radii, len(sample_sizes) - 1)
        The exponent between each pair of consecutive sample sizes.

    Raises
    ------
    ValueError
        If the shapes do not match, a size is not positive or the sample sizes do not increase.
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    ns = np.asarray(sample_sizes, dtype=np.float64)
    if sizes.ndim != 2 or sizes.shape[1] != ns.size or ns.size < 2:
        raise ValueError(f"sizes must have one column per sample size (at least two), got "
                         f"shape {sizes.shape} for {ns.size} sizes.")
    if np.any(sizes <= 0) or np.any(np.diff(ns) <= 0) or ns[0] <= 0:
        raise ValueError("sizes must be > 0 and sample sizes positive and increasing.")
    return np.log(sizes[:, 1:] / sizes[:, :-1]) / np.log(ns[1:] / ns[:-1])


# --------------------------------------------------------------------------------------
# Capacity curve with certified bounds.
# --------------------------------------------------------------------------------------


@dataclass
class CapacityCurve:
    """Net sizes over a grid of radii, with certified bounds on the sample's covering number.

    All statements are about the *sample* ``S`` (the n points given), with the chosen metric
    and closed balls; ``N_eps(S)`` is the fewest points of the ambient space whose
    eps-balls cover ``S`` and ``M_eps(S)`` the most points of ``S`` pairwise more than eps
    apart. Each net (greedy, or a farthest-first prefix) is an eps-cover by points of ``S``
    and an eps-separated set, so ``N_eps <= net_size <= M_eps``, and ``M_{2 eps} <= N_eps``
    (a closed eps-ball cannot hold two points more than 2 eps apart). Hence:

    - ``upper[k] = min{ net_size[j] : eps[j] <= eps[k] }`` is certified: ``N_eps <= upper``
      (``N`` is non-increasing in eps).
    - ``lower[k] = max{ net_size[j] : eps[j] >= 2 eps[k] }`` (1 if no such grid radius, or
      with ``lower_from="doubled"`` also the net at exactly ``2 eps[k]``) is certified:
      ``lower <= M_{2 eps} <= N_eps``.
    - ``log2_n = log2(n)`` is the ceiling: ``N_eps <= n``.

    Certified means up to the float64 rounding of distances that the reference itself uses
    (relative ~1e-15). The covering number of the population the sample came from can only
    be larger than ``N_eps(S)``; no statement about it is made here.
    """

    eps: np.ndarray
    net_size: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n: int
    metric: str
    method: str
    seconds: float = 0.0
    stats: dict = field(default_factory=dict, repr=False)

    @property
    def log2_net_size(self) -> np.ndarray:
        return np.log2(self.net_size)

    @property
    def log2_lower(self) -> np.ndarray:
        return np.log2(self.lower)

    @property
    def log2_upper(self) -> np.ndarray:
        return np.log2(self.upper)

    @property
    def log2_n(self) -> float:
        """The ``log2 n`` ceiling of every capacity estimate from n points."""
        return math.log2(self.n)

    def to_frame(self):
        """The curve as a pandas table, one row per radius, from the coarsest precision up.

        Columns ``p`` (the precision ``-log2 eps``, rounded to 9 decimals so that radii given
        as ``2**-p`` read back as the ``p`` they came from), ``eps``, and ``C_num``, ``lower``
        and ``upper``: the log2 of the net size and of its certified bounds. Introduced in the
        chapter "Precision lower bound", which draws and compares such tables.
        """
        import pandas as pd

        table = pd.DataFrame({"p": np.round(-np.log2(self.eps), 9), "eps": self.eps,
                              "C_num": self.log2_net_size, "lower": self.log2_lower,
                              "upper": self.log2_upper})
        return table.sort_values("p", ignore_index=True)

    def as_dict(self) -> dict:
        return {
            "eps": self.eps.tolist(),
            "net_size": self.net_size.tolist(),
            "log2_net_size": self.log2_net_size.tolist(),
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "n": self.n,
            "log2_n": self.log2_n,
            "metric": self.metric,
            "method": self.method,
        }


def _check_eps_grid(eps_grid) -> np.ndarray:
    grid = check_real_array(eps_grid, name="eps_grid", finite=False).reshape(-1)
    if grid.size == 0:
        raise ValueError("eps_grid is empty; pass at least one radius.")
    if not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError(f"every eps in eps_grid must be finite and > 0, got {grid.tolist()[:8]}.")
    return np.unique(grid)


#: Largest radius whose double is finite.
_LARGEST_HALF = np.finfo(np.float64).max / 2


def _bounds(grid: np.ndarray, sizes: np.ndarray, doubled: dict[float, int] | None):
    upper = np.minimum.accumulate(sizes)
    lower = np.ones_like(sizes)
    for k, eps in enumerate(grid):
        big = sizes[grid >= 2.0 * eps] if eps <= _LARGEST_HALF else sizes[:0]  # 2 eps = inf
        best = int(big.max()) if big.size else 1
        if doubled is not None:
            best = max(best, doubled[float(eps)])
        lower[k] = best
    return lower, upper


def capacity_curve(
    points,
    eps_grid,
    *,
    metric: str = "euclidean",
    method: str = "greedy",
    device=None,
    block_size: int = DEFAULT_BLOCK_SIZE,
    precision: str = "auto",
    lower_from: str = "grid",
    scales: NeighbourScales | None = None,
) -> CapacityCurve:
    """Net size and certified bounds on ``N_eps`` of the sample for every eps of a grid.

    Parameters
    ----------
    points : array_like, shape (n, d)
    eps_grid : array_like of float
        Radii (> 0); they are sorted and de-duplicated.
    metric : {"euclidean", "chebyshev"}
    method : {"greedy", "farthest_first"}
        ``greedy`` runs :func:`greedy_net` at every radius, sharing one
        :func:`neighbour_scales` pass; ``farthest_first`` runs one traversal down to the
        smallest radius and reads every net size from it (nested nets; O(n k d) for k
        insertions, so for moderate n).
    device, block_size, precision
        As in :func:`greedy_net`; they change speed, never the result.
    lower_from : {"grid", "doubled"}
        ``grid`` builds the lower bound from nets at grid radii ``>= 2 eps``; ``doubled``
        also computes the net at exactly ``2 eps`` for every grid radius (tighter, slower).
    scales : NeighbourScales, optional
        A :func:`neighbour_scales` result for the same points and settings (greedy only),
        e.g. one already used to choose the grid.

    Returns
    -------
    CapacityCurve
        See its docstring for exactly what is certified.
    """
    points = _prepare_points(points, metric)
    grid = _check_eps_grid(eps_grid)
    check_choice(method, METHODS, name="method")
    if lower_from not in ("grid", "doubled"):
        raise ValueError(f"lower_from must be 'grid' or 'doubled', got {lower_from!r}.")
    block_size = check_count(block_size, name="block_size")
    began = time.perf_counter()
    # Doubled radii that overflow float64 are left out; their bound is the trivial 1.
    doubles = 2.0 * grid[grid <= _LARGEST_HALF]
    wanted = grid if lower_from == "grid" else np.unique(np.concatenate([grid, doubles]))
    stats: dict = {}
    if method == "greedy":
        engine = _Engine(points, metric, device, precision)
        if scales is None and len(points) > 1:
            scales = _neighbour_scales(engine, block_size)
        elif scales is not None:
            scales._check_matches(engine)
        stats["scales_seconds"] = time.perf_counter() - began
        all_sizes = {float(e): len(_greedy(engine, float(e), scales, block_size)) for e in wanted}
        stats.update(engine.stats)
    else:
        if scales is not None:
            raise ValueError("scales are used by method='greedy' only.")
        traversal = farthest_first(
            points, metric=metric, device=device, stop_radius=float(grid.min())
        )
        all_sizes = {float(e): int(traversal.net_size(float(e))) for e in wanted}
        stats["insertions"] = len(traversal.order)
    sizes = np.array([all_sizes[float(e)] for e in grid], dtype=np.int64)
    doubled = None
    if lower_from == "doubled":
        doubled = {float(e): all_sizes[float(2.0 * e)] if e <= _LARGEST_HALF else 1
                   for e in grid}
    lower, upper = _bounds(grid, sizes, doubled)
    return CapacityCurve(
        eps=grid,
        net_size=sizes,
        lower=lower,
        upper=upper,
        n=len(points),
        metric=metric,
        method=method,
        seconds=time.perf_counter() - began,
        stats=stats,
    )
