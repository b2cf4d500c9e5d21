"""Input checks shared by every helper, with errors that say what is wrong and how to fix it.

One policy per kind of input, in the manner of scikit-learn's ``utils.validation``:
:func:`check_count` (sizes, counts, seeds), :func:`check_real` (finite reals with optional
bounds) and :func:`check_real_array` (one real or an array of them),
:func:`check_confidence`, :func:`check_bootstrap`, :func:`check_bits` and
:func:`check_bits_list` (precisions), :func:`check_curve` (a curve sampled at precisions) and
:func:`check_points` (a sample of representations), with :func:`check_choice` for settings
picked from a list. Each refuses bools, numeric strings and
complex numbers, and its message names the parameter, the allowed range and the value given.
Modules check their inputs through these and keep no copies of their own. Introduced with
the first chapter, "Numerical entropy" (``notebooks/01_numerical_entropy``).
"""

from __future__ import annotations

import numbers

import numpy as np

#: Supported range of bit depths. Fractional depths are allowed (the grid step is 2**-bits);
#: above 52 bits the float64 grid is finer than float64 itself.
MIN_BITS_EXCLUSIVE = 0.0
MAX_BITS = 52.0


def check_choice(value, choices, *, name: str):
    """Return ``value`` if it is one of ``choices`` (a setting such as a metric or a method).

    Raises
    ------
    ValueError
        Naming the parameter, the allowed choices and the value given.
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}.")
    return value


def as_array(values, *, name: str) -> np.ndarray:
    """``values`` as a numpy array, with no checks on its dtype, shape or values.

    A torch tensor is detached and copied to the CPU; it is recognized by its ``detach``
    method, so torch stays out of the import graph. Used by :func:`check_points` and by the
    estimators whose inputs need checks of their own.

    Raises
    ------
    ValueError
        If numpy cannot make an array of ``values`` (ragged nested lists, say).
    """
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    try:
        return np.asarray(values)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{name} could not be read as an array: {error}") from error


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
    array = as_array(points, name=name)
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
    if not is_number(bits):
        raise ValueError(f"{name} must be a real number of bits, got {_shown(bits)}.")
    value = float(bits)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {_shown(bits)}.")
    lowest = MIN_BITS_EXCLUSIVE if minimum is None else minimum
    if value <= MIN_BITS_EXCLUSIVE or value < lowest or value > MAX_BITS:
        shown = f"> {MIN_BITS_EXCLUSIVE:g}" if minimum is None else f">= {minimum:g}"
        raise ValueError(
            f"{name}={_shown(bits)} is outside the supported range ({shown} and <= {MAX_BITS:g}). "
            "The grid step is 2**-bits, so bits <= 0 gives a step of 1 or more and the whole "
            "unit cube falls in one or two cells."
        )
    if integer:
        if value != int(value):
            raise ValueError(f"{name}={_shown(bits)} must be a whole number for this scheme.")
        return int(value)
    return value


def check_positive(value, *, name: str) -> float:
    """Return ``value`` as a float after checking that it is finite and > 0."""
    return check_real(value, name=name, low=0.0, include_low=False)


def _shown(value) -> str:
    """``value`` as an error message shows it, with a hint for the usual wrong types."""
    if isinstance(value, (str, bytes)):
        return f"{value!r} (a string; pass the number itself, without quotes)"
    if isinstance(value, bool):
        return f"{value!r} (a bool, which Python would otherwise read as {int(value)})"
    if isinstance(value, complex):
        return f"{value!r} (a complex number)"
    if is_integer(value):  # numpy scalars print as np.int64(3) otherwise
        return repr(int(value))
    if is_number(value):
        return repr(float(value))
    return repr(value)


def is_number(value) -> bool:
    """Whether ``value`` is a real number and not a bool (``True`` is an ``int`` in Python).

    The one place where the book decides what counts as a number; NaN and infinity count
    (use :func:`check_real` to refuse them).
    """
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_integer(value) -> bool:
    """Whether ``value`` is an integer (Python or numpy) and not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_count(value, *, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int after checking that it is an integer ``>= minimum``.

    The policy for sizes, counts, seeds and indices. Floats are refused even when whole (a
    ``3.0`` usually comes out of arithmetic and should be rounded on purpose), and so are
    bools and strings.

    Raises
    ------
    ValueError
        If ``value`` is not an integer or is below ``minimum``.
    """
    if not is_integer(value) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        hint = ""
        if isinstance(value, float) and np.isfinite(value) and value.is_integer():
            hint = "; round it with int() if it is meant to be whole"
        raise ValueError(f"{name} must be {what}, got {_shown(value)}{hint}.")
    return int(value)


def check_real(value, *, name: str, low: float | None = None, high: float | None = None,
               include_low: bool = True, include_high: bool = True) -> float:
    """Return ``value`` as a float after checking that it is a finite real within bounds.

    The policy for scales, tolerances, rates and the like, in the manner of scikit-learn's
    ``check_scalar``: ``low`` and ``high`` are optional bounds, inclusive unless
    ``include_low`` or ``include_high`` is false. Bools, strings and complex numbers are
    refused, and so are NaN and infinity.

    Raises
    ------
    ValueError
        Naming the parameter, the allowed range and the value given.
    """
    parts = []
    if low is not None:
        parts.append(f"{'>=' if include_low else '>'} {low:g}")
    if high is not None:
        parts.append(f"{'<=' if include_high else '<'} {high:g}")
    bounds = f" {' and '.join(parts)}" if parts else ""
    if not is_number(value) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number{bounds}, got {_shown(value)}.")
    outside = (low is not None and (value < low if include_low else value <= low)) or (
        high is not None and (value > high if include_high else value >= high))
    if outside:
        raise ValueError(f"{name} must be{bounds}, got {_shown(value)}.")
    return float(value)


def check_real_array(values, *, name: str, finite: bool = True, low: float | None = None,
                     include_low: bool = True) -> np.ndarray:
    """Return a real number or an array of them as a float64 array (0-D for a number).

    The array form of :func:`check_real`, for arguments that may be one value or many
    (curvatures, radii, error rates). The dtype decides: strings, bools, complex numbers and
    arbitrary objects are refused rather than parsed, cast or stripped of their imaginary
    part. With ``finite`` false, NaN and infinity pass, for callers that give them a
    meaning or a message of their own; ``low`` bounds every finite entry.

    Raises
    ------
    ValueError
        Naming the parameter and what was given.
    """
    if is_number(values):
        array = np.asarray(float(values))
    else:
        try:
            array = np.asarray(values)
        except Exception as error:  # ragged nested lists and the like
            raise ValueError(f"{name} could not be read as an array: {error}") from error
        if array.dtype.kind not in "iuf":
            shown = _shown(values) if array.ndim == 0 or isinstance(values, (str, bytes)) \
                else f"an array of dtype {array.dtype}"
            raise ValueError(f"{name} must be a real number or an array of real numbers, got "
                             f"{shown}.")
        array = array.astype(np.float64)
    if finite and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {int(np.count_nonzero(~np.isfinite(array)))}"
                         " NaN or infinite values.")
    if low is not None:
        below = array < low if include_low else array <= low
        if np.any(below):
            bound = f"{'>=' if include_low else '>'} {low:g}"
            raise ValueError(f"{name} must be {bound}, got {float(array[below].flat[0])!r} "
                             "among the values.")
    return array


def check_confidence(confidence, *, name: str = "confidence") -> float:
    """Return a confidence level as a float strictly between 0 and 1 (0.95 for 95 %).

    Raises
    ------
    ValueError
        If the level is not a real number in (0, 1); a percentage such as 95 is named as
        such.
    """
    if is_number(confidence) and 1 < confidence < 100:
        raise ValueError(f"{name} must be in (0, 1), got {_shown(confidence)}; write a level of "
                         f"{confidence:g} % as {confidence / 100:g}.")
    if not is_number(confidence) or not 0 < confidence < 1:  # NaN fails the comparison
        raise ValueError(f"{name} must be in (0, 1), got {_shown(confidence)}.")
    return float(confidence)


def check_bootstrap(n_bootstrap, *, name: str = "n_bootstrap", allow_zero: bool = True) -> int:
    """Return a number of bootstrap resamples as an int.

    ``0`` means "no resampling": the estimators that accept it return the point estimate as
    its own interval. Where an interval cannot exist without resamples (a bootstrap of a
    correlation, say), the caller passes ``allow_zero=False``.

    Raises
    ------
    ValueError
        If the size is not an integer, is negative, or is 0 where that is not allowed.
    """
    if not is_integer(n_bootstrap) or n_bootstrap < (0 if allow_zero else 1):
        what = "an integer >= 0 (0 skips the resampling)" if allow_zero else \
            "a positive integer (this interval needs at least one resample)"
        raise ValueError(f"{name} must be {what}, got {_shown(n_bootstrap)}.")
    return int(n_bootstrap)


def _tidy_bits(value: float):
    """A whole precision as an int, so that lists print as ``[1, 2, 4]``."""
    return int(value) if float(value).is_integer() else float(value)


def _entries(bits, *, name: str) -> list:
    """The entries of a list of precisions (a single number is a list of one)."""
    if is_number(bits) or (isinstance(bits, np.ndarray) and bits.ndim == 0):
        bits = [bits.item() if isinstance(bits, np.ndarray) else bits]
    if isinstance(bits, (str, bytes)) or not hasattr(bits, "__iter__"):
        raise ValueError(f"{name} must be a list of precisions in bits such as [1, 2, 4], "
                         f"got {_shown(bits)}.")
    values = np.asarray(bits).reshape(-1).tolist() if isinstance(bits, np.ndarray) \
        else list(bits)
    if not values:
        raise ValueError(f"{name} is empty; give at least one precision, for example "
                         "[1, 2, 4, 8].")
    return values


def _refuse_repeats(values: list, checked: list, *, name: str) -> None:
    seen = set()
    for given, value in zip(values, checked, strict=True):
        if value in seen:
            raise ValueError(f"{name} repeats the precision {given!r} (given {values!r}); "
                             "give each precision once.")
        seen.add(value)


def check_bits_list(bits, *, name: str = "bits") -> list:
    """Return a list of precisions, each checked by :func:`check_bits`, sorted ascending.

    The one rule for every list of precisions the book reads: the command-line ``--bits``,
    the chapters' papermill parameters, ``helpers.capacity`` and every helper that sweeps
    precisions. A single number is read as a list of one. The list must not be empty and must
    not repeat a precision (a repeat usually means a typo, and silently dropping it would
    hide one). Whole precisions come back as ints.

    Raises
    ------
    ValueError
        For an empty list, a string, an entry outside the supported range, or a repeat.
    """
    values = _entries(bits, name=name)
    checked = [check_bits(value, name=f"{name} entry") for value in values]
    _refuse_repeats(values, checked, name=name)
    return [_tidy_bits(value) for value in sorted(checked)]


def check_curve(bits, values, *, name: str = "values") -> tuple[np.ndarray, np.ndarray]:
    """Return a curve sampled at precisions as two float arrays sorted by precision.

    The precisions are read as in :func:`check_bits_list` (a list, any order, no repeats),
    except that they need only be finite: a curve's axis ``p = -log2 eps`` may run below 0
    (radii above 1, as in the capacity curves of chapter 4). ``values`` holds one finite value
    per precision and is reordered with it.

    Raises
    ------
    ValueError
        For a bad precision list, a length mismatch, or a value that is not finite.
    """
    entries = _entries(bits, name="bits")
    checked = [check_real(p, name="bits entry") for p in entries]
    _refuse_repeats(entries, checked, name="bits")
    given = np.asarray(checked, dtype=np.float64)
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if given.shape != array.shape:
        raise ValueError(f"bits has {given.size} values but {name} has {array.size}; one value "
                         "per precision is needed.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (leave full precision out of bits and pass "
                         f"its value separately), got {array.tolist()}.")
    order = np.argsort(given, kind="stable")
    return given[order], array[order]
