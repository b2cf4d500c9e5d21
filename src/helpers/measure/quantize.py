"""Normalization and p-bit quantization of representations.

Introduced in the chapter "Numerical entropy" (``notebooks/01_numerical_entropy``).

The book's convention (notation page, theory notes section 1): an affine map fitted on the
training split sends the representation set into the unit cube ``[0, 1]^d`` using *one*
global minimum and maximum; a p-bit quantizer then rounds every coordinate to the nearest
point of the grid ``2^-p Z``. So ``eps = 2^-p`` is the grid step, the per-coordinate rounding
error is at most ``eps / 2`` and the Euclidean error at most ``(eps / 2) sqrt(d)``. Fractional
``p`` is allowed (the grid step is still ``2^-p``). Per-coordinate scaling and the symmetric
int-p scheme of deployed quantizers are provided as labelled variants.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from helpers._validation import check_bits, check_points, check_real, is_integer


def grid_step(bits: float) -> float:
    """Return the grid step ``eps = 2**-bits`` after validating ``bits``."""
    return float(2.0 ** -check_bits(bits))


@dataclass(frozen=True)
class CodeLength:
    """Size of the quantizer's alphabet on ``[0, 1]`` at one precision.

    Attributes
    ----------
    levels : int
        Number of distinct values ``Q_eps`` takes on ``[0, 1]``.
    bits : float
        ``log2(levels)``: the length of a fixed-length code for one coordinate.
    """

    levels: int
    bits: float


def code_length_bits(bits: float) -> CodeLength:
    """Levels of the grid ``Q_eps`` on ``[0, 1]`` at precision ``p`` and their code length.

    Introduced with the quantizer in the chapter "Numerical entropy"; the book counts
    storage with it wherever it counts bits. With ``eps = 2^-p`` the book's quantizer
    ``Q_eps(u) = eps * floor(u / eps + 1/2)`` maps ``[0, 1]`` onto the levels ``k * eps`` for
    ``k = 0, 1, ..., floor(2^p + 1/2)``. At whole ``p`` these are the ``2^p + 1`` grid points
    ``0, eps, ..., 1``: the end points both count, so "p bits" needs ``log2(2^p + 1)`` bits
    per coordinate (``log2 3 = 1.58`` at ``p = 1``), and ``k`` coordinates cost ``k`` times
    that, not ``k * p``.

    Parameters
    ----------
    bits : float
        Precision ``p`` (fractional allowed), checked by the book's rule for bit depths.

    Returns
    -------
    CodeLength
        ``levels`` and ``bits = log2(levels)``. It is not a number, so an expression such as
        ``k * code_length_bits(p)`` fails loudly; write ``k * code_length_bits(p).bits``.

    Notes
    -----
    At fractional ``p`` the grid points ``0, eps, 2 eps, ... <= 1`` number
    ``floor(2^p) + 1``; when the fractional part of ``2^p`` is at least one half, rounding
    to nearest also reaches the next point above 1 (values of ``u`` near 1 round up to it),
    one level more. Counting with ``floor(2^p + 1/2)`` covers both cases.

    This is the code length of the *training* range. The unit-cube map is fitted on the
    training split and test points are not clipped (:meth:`UnitCubeScaler.transform`), so a
    test point outside ``[0, 1]`` can take a level beyond these.
    """
    value = check_bits(bits)
    if value == int(value):  # whole bits: exact integer arithmetic, no float rounding
        levels = 2 ** int(value) + 1
    else:
        levels = math.floor(2.0 ** value + 0.5) + 1
    return CodeLength(levels=int(levels), bits=math.log2(levels))


class CollapsedRepresentationWarning(UserWarning):
    """The representation a scaler was fitted on is constant: it carries no information."""


@dataclass(frozen=True)
class UnitCubeScaler:
    """Affine map ``z -> (z - low) / (high - low)`` fitted on a training split.

    Attributes
    ----------
    low, high : numpy.ndarray
        Shape ``(1,)`` for the global convention, ``(d,)`` for the per-coordinate variant.
    per_coordinate : bool
        Which convention was fitted.
    fitted_features : int or None
        Width of the representation it was fitted on; :meth:`transform` refuses another.
    """

    low: np.ndarray
    high: np.ndarray
    per_coordinate: bool = False
    fitted_features: int | None = None

    @property
    def n_features(self) -> int | None:
        """Dimension the scaler was fitted on (None when unknown: a scaler built by hand)."""
        if self.per_coordinate:
            return self.low.shape[0]
        return self.fitted_features

    def transform(self, representation) -> np.ndarray:
        """Map ``representation`` (n, d) with the fitted affine map.

        Test points may fall slightly outside ``[0, 1]`` because the map is fitted on the
        training split; they are not clipped, so no information is hidden.
        """
        points = check_points(representation, name="representation")
        if self.n_features is not None and points.shape[1] != self.n_features:
            raise ValueError(
                f"representation has {points.shape[1]} features but the scaler was fitted on "
                f"{self.n_features}; fit and transform representations of the same layer "
                "(representations of another model need their own scaler)."
            )
        span = self.high - self.low
        return (points - self.low) / span


def fit_unit_cube(train_representation, *, per_coordinate: bool = False) -> UnitCubeScaler:
    """Fit the book's normalization on the training split.

    Parameters
    ----------
    train_representation : array_like, shape (n, d)
        Representations of the training split.
    per_coordinate : bool, default False
        False: one global min and max (the book's convention). True: each coordinate is
        scaled to ``[0, 1]`` on its own (a labelled variant).

    Returns
    -------
    UnitCubeScaler

    Warns
    -----
    CollapsedRepresentationWarning
        When the whole representation is constant (global convention): it has collapsed.

    Notes
    -----
    A constant coordinate (per-coordinate variant) or a constant representation (global)
    has zero span; it is mapped to 0 rather than dividing by zero.
    """
    points = check_points(train_representation, name="train_representation")
    if per_coordinate:
        low, high = points.min(axis=0), points.max(axis=0)
    else:
        low, high = np.array([points.min()]), np.array([points.max()])
        if high[0] == low[0]:
            warnings.warn(
                f"the training representation is constant (every value is {low[0]:g}): it has "
                "collapsed, so every point maps to 0 and carries no information at any "
                "precision. Check the model (a dead layer) or the layer you extracted.",
                CollapsedRepresentationWarning, stacklevel=2)
    high = np.where(high > low, high, low + 1.0)  # zero span: constant features map to 0
    return UnitCubeScaler(low=low, high=high, per_coordinate=per_coordinate,
                          fitted_features=int(points.shape[1]))


#: Largest code magnitude kept in int64: a margin of 2 bits below overflow, so that callers
#: may take differences and small multiples of codes without wrapping.
INT64_CODE_LIMIT = 2**62


def exact_grid_codes(points: np.ndarray, step: float, *, offset: float) -> np.ndarray:
    """``floor(points / step + offset)`` exactly, for ``offset`` 1/2 (rounding) or 0 (truncation).

    The quotient ``points / step`` is exact for a power-of-two ``step`` (whole bits). Adding
    1/2 to it in float64 is not: above ``2**52`` a tie rounds to even, so two neighbouring
    codes would merge, and just below a half the sum can round up. The half is therefore
    compared with the exact fractional part instead. Codes that do not fit
    :data:`INT64_CODE_LIMIT` (far outliers at high precision) come back as an object array
    of Python ints, exact at any magnitude, where int64 would silently wrap around; a
    quotient that overflows float64 is computed with exact rationals.

    Introduced with :func:`grid_codes` in the chapter "Numerical entropy".
    """
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = points / step
        codes = np.floor(scaled)
        if offset:
            # scaled - floor(scaled) is exact except for -1/2 < scaled < 0, where it rounds
            # but stays above 1/2: the comparison is always decided correctly
            codes += scaled - codes >= 0.5
    if np.all(np.abs(codes) < INT64_CODE_LIMIT):  # also False for inf (float64 overflow)
        return codes.astype(np.int64)
    exact = [int(code) if math.isfinite(code) else
             math.floor(Fraction(value) / Fraction(step) + Fraction(offset))
             for code, value in zip(codes.ravel().tolist(), points.ravel().tolist(),
                                    strict=True)]
    out = np.empty(len(exact), dtype=object)
    out[:] = exact
    return out.reshape(points.shape)


def grid_codes(unit_representation, bits: float) -> np.ndarray:
    """Integer grid coordinates ``k`` of the nearest grid point ``k * 2^-bits``.

    Rounding is to nearest with ties upward (``floor(u / eps + 1/2)``), so each grid cell is
    the half-open box ``[k eps - eps/2, k eps + eps/2)`` per coordinate. The codes are exact
    for every finite input at every supported precision: int64 as long as every code is
    below :data:`INT64_CODE_LIMIT` in magnitude (always, for points near the unit cube),
    otherwise an object array of Python ints (:func:`exact_grid_codes`), which
    :func:`distinct_code_counts` and :func:`helpers.measure.information.code_counts` count
    as they count int64 codes.
    """
    points = check_points(unit_representation, name="unit_representation")
    return exact_grid_codes(points, grid_step(bits), offset=0.5)


def quantize(unit_representation, bits: float) -> np.ndarray:
    """p-bit uniform fake quantization: round every coordinate to the grid ``2^-bits Z``.

    Parameters
    ----------
    unit_representation : array_like, shape (n, d)
        Representation already mapped by :func:`fit_unit_cube` (values near ``[0, 1]``).
    bits : float
        Precision p > 0; the grid step is ``2**-p``.

    Returns
    -------
    numpy.ndarray of float64
        Quantized values, each within ``2**-p / 2`` of the input coordinate.
    """
    codes, step = grid_codes(unit_representation, bits), grid_step(bits)
    if codes.dtype != object:
        return codes * step
    # Huge codes: the product k * step rounded once, as float64 multiplication would round it
    # (for whole bits it is the input itself, which already lies on the grid).
    return np.array([float(Fraction(code) * Fraction(step)) for code in codes.ravel()],
                    dtype=np.float64).reshape(codes.shape)


def quantize_symmetric(representation, bits: int, *, scale: float | None = None):
    """Symmetric int-p quantization, the scheme of deployed integer quantizers (a variant).

    Values are mapped to integers in ``[-(2^(p-1) - 1), 2^(p-1) - 1]`` with one scale
    ``max|z| / (2^(p-1) - 1)`` (fitted on the given data unless ``scale`` is passed, which is
    how a training-split scale is applied to test data), then mapped back.

    Parameters
    ----------
    representation : array_like, shape (n, d)
    bits : int
        Whole number of bits, >= 2 (one bit leaves only the level 0).
    scale : float, optional
        Step between levels; default fitted as described.

    Returns
    -------
    dequantized : numpy.ndarray
    scale : float
    """
    points = check_points(representation, name="representation")
    bits = check_bits(bits, integer=True, minimum=2)
    levels = 2 ** (bits - 1) - 1
    if scale is None:
        peak = float(np.abs(points).max())
        scale = peak / levels if peak > 0 else 1.0
    else:  # a string or complex scale is refused by name, not left to numpy's TypeError
        scale = check_real(scale, name="scale", low=0.0, include_low=False)
    integers = np.clip(np.round(points / scale), -levels, levels)
    return integers * scale, float(scale)


def count_occupied_cells(unit_representation, bits: float) -> int:
    """Exact number of grid cells of step ``2^-bits`` that hold at least one point.

    This is the number of distinct values of the quantized representation, and so the
    number of values ``Z_q`` can take on the sample.
    """
    return int(distinct_code_counts(grid_codes(unit_representation, bits)).size)


def occupied_cells_curve(unit_representation, bits) -> np.ndarray:
    """Occupied cells at each precision of a sweep: :func:`count_occupied_cells` per entry.

    Introduced in the chapter "Numerical entropy", which follows how the count grows with
    ``p`` for several samples of one representation.

    Parameters
    ----------
    unit_representation : array_like, shape (n, d)
        Points in unit-cube units.
    bits : sequence of float
        Precisions ``p``, in the order wanted.

    Returns
    -------
    numpy.ndarray of int64
        One count per precision, each between 1 and n.
    """
    return np.array([count_occupied_cells(unit_representation, p) for p in bits],
                    dtype=np.int64)


def distinct_code_counts(codes) -> np.ndarray:
    """How many rows share each distinct row of an integer code array (order unspecified).

    Parameters
    ----------
    codes : array_like of int, shape (n, d)
        int64 codes, or the object array of Python ints that :func:`grid_codes` gives for
        codes beyond int64.

    Returns
    -------
    numpy.ndarray of int64
        One count per distinct row; the counts sum to n.
    """
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[0] == 0:
        raise ValueError(f"codes must be a non-empty 2-D array, got shape {codes.shape}.")
    codes = np.ascontiguousarray(column_ranks(codes) if codes.dtype == object else codes)
    # Viewing each row as one opaque byte string makes np.unique compare whole rows at once.
    rows = codes.view(np.dtype((np.void, codes.dtype.itemsize * codes.shape[1]))).ravel()
    _, counts = np.unique(rows, return_counts=True)
    return counts.astype(np.int64)


def column_ranks(codes) -> np.ndarray:
    """Replace each column's integer codes by their rank among that column's distinct codes.

    Equal codes get equal ranks and the order within each column is kept, so rows compare
    (equal, and lexicographically) exactly as the codes do, while the ranks fit int64. This
    is how the object arrays of Python ints from :func:`grid_codes` (codes beyond int64) are
    counted. Introduced with :func:`grid_codes` in the chapter "Numerical entropy".

    Raises
    ------
    ValueError
        If an entry is not an integer (an object array may hold anything).
    """
    array = np.asarray(codes)
    flat = array.reshape(len(array), -1) if array.ndim else array.reshape(1, 1)
    if array.dtype == object and not all(is_integer(code) for code in flat.ravel().tolist()):
        raise ValueError("codes of dtype object must all be integers (the exact codes that "
                         "grid_codes gives beyond int64); convert other values first.")
    ranks = np.empty(flat.shape, dtype=np.int64)
    for column in range(flat.shape[1]):
        ranks[:, column] = np.unique(flat[:, column], return_inverse=True)[1].reshape(-1)
    return ranks.reshape(array.shape)
