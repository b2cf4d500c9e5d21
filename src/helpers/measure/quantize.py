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

import warnings
from dataclasses import dataclass

import numpy as np

from helpers._validation import check_bits, check_points


def grid_step(bits: float) -> float:
    """Return the grid step ``eps = 2**-bits`` after validating ``bits``."""
    return float(2.0 ** -check_bits(bits))


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


def grid_codes(unit_representation, bits: float) -> np.ndarray:
    """Integer grid coordinates ``k`` of the nearest grid point ``k * 2^-bits``.

    Rounding is to nearest with ties upward (``floor(u / eps + 1/2)``), so each grid cell is
    the half-open box ``[k eps - eps/2, k eps + eps/2)`` per coordinate.
    """
    points = check_points(unit_representation, name="unit_representation")
    step = grid_step(bits)
    return np.floor(points / step + 0.5).astype(np.int64)


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
    return grid_codes(unit_representation, bits) * grid_step(bits)


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
    elif not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}.")
    integers = np.clip(np.round(points / scale), -levels, levels)
    return integers * scale, float(scale)


def count_occupied_cells(unit_representation, bits: float) -> int:
    """Exact number of grid cells of step ``2^-bits`` that hold at least one point.

    This is the number of distinct values of the quantized representation, and so the
    number of values ``Z_q`` can take on the sample.
    """
    return int(distinct_code_counts(grid_codes(unit_representation, bits)).size)


def distinct_code_counts(codes) -> np.ndarray:
    """How many rows share each distinct row of an integer code array (order unspecified).

    Parameters
    ----------
    codes : array_like of int, shape (n, d)

    Returns
    -------
    numpy.ndarray of int64
        One count per distinct row; the counts sum to n.
    """
    codes = np.ascontiguousarray(codes)
    if codes.ndim != 2 or codes.shape[0] == 0:
        raise ValueError(f"codes must be a non-empty 2-D array, got shape {codes.shape}.")
    # Viewing each row as one opaque byte string makes np.unique compare whole rows at once.
    rows = codes.view(np.dtype((np.void, codes.dtype.itemsize * codes.shape[1]))).ravel()
    _, counts = np.unique(rows, return_counts=True)
    return counts.astype(np.int64)
