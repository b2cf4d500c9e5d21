"""Input checks shared by every helper, with errors that say what is wrong and how to fix it."""

from __future__ import annotations

import numbers

import numpy as np

#: Supported range of bit depths. Fractional depths are allowed (the grid step is 2**-bits);
#: above 52 bits the float64 grid is finer than float64 itself.
MIN_BITS_EXCLUSIVE = 0.0
MAX_BITS = 52.0


def check_points(points, *, name: str = "Z", dtype=np.float64,
                 allow_1d: bool = False) -> np.ndarray:
    """Return ``points`` as a finite, non-empty 2-D float array of shape (n, d).

    Parameters
    ----------
    points : array_like
        One representation per row.
    name : str
        Name used in error messages.
    dtype : numpy dtype or None
        Target float dtype; ``None`` keeps float32/float64 as given (other types become float64).
    allow_1d : bool
        If true, a 1-D input is read as n points in one dimension.

    Raises
    ------
    ValueError
        If the input is empty, not 2-D, not numeric, or holds NaN or infinity.
    """
    if hasattr(points, "detach"):  # a torch tensor: leave torch out of the import graph
        points = points.detach().cpu().numpy()
    try:
        array = np.asarray(points)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{name} could not be read as an array: {error}") from error
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}.")
    if array.ndim == 1 and allow_1d:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_points, n_dims), got shape {array.shape}. "
            "Reshape with Z.reshape(len(Z), -1), or Z[:, None] for one-dimensional data."
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); pass at least one point.")
    if dtype is None:
        dtype = array.dtype if array.dtype in (np.float32, np.float64) else np.float64
    array = np.asarray(array, dtype=dtype)
    if not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        rows = np.flatnonzero(~np.all(np.isfinite(array), axis=1))
        raise ValueError(
            f"{name} holds {bad} NaN or infinite values (first bad rows: {rows[:5].tolist()}). "
            "Drop or repair those rows before quantizing or covering; a diverged model is the "
            "usual cause."
        )
    return array


def check_bits(bits, *, name: str = "bits", integer: bool = False, minimum: float | None = None):
    """Return ``bits`` as a float (or int), checked against the supported range.

    Raises
    ------
    ValueError
        If ``bits`` is not a real number, is not finite, is <= 0, exceeds :data:`MAX_BITS`,
        is below ``minimum``, or is fractional where ``integer`` is required.
    """
    if isinstance(bits, bool) or not isinstance(bits, numbers.Real):
        raise ValueError(f"{name} must be a real number of bits, got {bits!r}.")
    value = float(bits)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {bits!r}.")
    lowest = MIN_BITS_EXCLUSIVE if minimum is None else minimum
    if value <= MIN_BITS_EXCLUSIVE or value < lowest or value > MAX_BITS:
        shown = f"> {MIN_BITS_EXCLUSIVE:g}" if minimum is None else f">= {minimum:g}"
        raise ValueError(
            f"{name}={bits!r} is outside the supported range ({shown} and <= {MAX_BITS:g}). "
            "The grid step is 2**-bits, so bits <= 0 gives a step of 1 or more and the whole "
            "unit cube falls in one or two cells."
        )
    if integer:
        if value != int(value):
            raise ValueError(f"{name}={bits!r} must be a whole number for this scheme.")
        return int(value)
    return value


def check_positive(value, *, name: str) -> float:
    """Return ``value`` as a float after checking that it is finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}.")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}.")
    return float(value)
