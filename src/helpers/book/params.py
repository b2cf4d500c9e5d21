"""Build profiles and validated notebook parameters.

Every chapter has a papermill ``parameters`` cell whose values may be ``None``, meaning "take
the profile's value". :func:`resolve_parameters` merges the two, checks every value, and
turns papermill's command-line strings (``-p bits "[1, 2, 3]"``) into Python values, so a bad
parameter stops the chapter at once with a message that says how to fix it.

Introduced in the chapter "Numerical entropy" (``notebooks/01_numerical_entropy``).
"""

from __future__ import annotations

import ast
import numbers

from helpers._validation import MAX_BITS, check_bits

#: The three build profiles. ``smoke``: tiny sizes for CI; ``default``: embedded offline data;
#: ``full``: MNIST, CIFAR-10 and AG News from the data directory.
PROFILES = ("smoke", "default", "full")


class ParameterError(ValueError):
    """A notebook parameter has a value the chapter cannot use."""


def _literal(name: str, value):
    """Parse a papermill string such as ``"[1, 2, 3]"``; leave other values as they are."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text[:1] in "[(0123456789.-" or text in ("None", "True", "False"):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError) as error:
            raise ParameterError(
                f"parameter {name}={value!r} is not a valid Python literal ({error}). "
                f'Write lists as -p {name} "[1, 2, 3]" on the papermill command line.'
            ) from error
    return value


def parse_bits(value, *, name: str = "bits") -> list[float]:
    """Return a sorted list of distinct precisions from a number, list, or papermill string.

    Raises
    ------
    ParameterError
        If the list is empty, or any entry is not a number in the supported range (> 0).
    """
    value = _literal(name, value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or len(value) == 0:
        raise ParameterError(
            f"parameter {name} must be a non-empty list of bit depths, got {value!r}; "
            f'for example -p {name} "[1, 2, 3]".'
        )
    parsed = []
    for entry in value:
        try:
            bits = check_bits(entry, name=f"{name} entry")
        except ValueError as error:
            raise ParameterError(f"parameter {name}={list(value)!r}: {error}") from error
        parsed.append(int(bits) if float(bits).is_integer() else bits)
    return sorted(set(parsed))


def parse_bits_option(values, *, option: str = "--bits") -> list[float] | None:
    """Precisions from a command line's ``--bits 3 5 7`` strings, in the order given.

    Shared by ``python -m helpers.book.build rerun`` and ``python -m helpers.capacity``. ``None``
    (the option was not given) is returned unchanged.

    Raises
    ------
    ParameterError
        For an empty list, a value that is not a number, or one outside the supported range.
    """
    if values is None:
        return None
    if not values:
        raise ParameterError(f"{option} needs at least one precision, e.g. {option} 3 5 7.")
    bits = []
    for text in values:
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise ParameterError(f"{option} takes numbers of bits, got {text!r}; e.g. "
                                 f"{option} 1 2.5 4.") from None
        try:
            value = check_bits(value, name=option)
        except ValueError:
            raise ParameterError(f"{option} values must be > 0 and <= {MAX_BITS:g} (the grid "
                                 f"step is 2**-p), got {text}.") from None
        bits.append(int(value) if float(value).is_integer() else value)
    return bits


def _positive_int(name: str, value) -> int:
    value = _literal(name, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ParameterError(f"parameter {name} must be a positive whole number, got {value!r}.")
    return int(value)


def _seed(name: str, value) -> int:
    value = _literal(name, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ParameterError(f"parameter {name} must be a whole number >= 0, got {value!r}.")
    return int(value)


def _check_one(name: str, value, choices: dict):
    """Validate one parameter by its name's convention."""
    if name in choices:
        allowed = choices[name]
        if value not in allowed:
            raise ParameterError(
                f"parameter {name}={value!r} is not one of {sorted(allowed)}; pick one of those."
            )
        return value
    if name == "bits" or name.endswith("_bits"):
        return parse_bits(value, name=name)
    if name == "seed" or name.endswith("_seed"):
        return _seed(name, value)
    if name.startswith("n_"):
        return _positive_int(name, value)
    return _literal(name, value)


def resolve_parameters(profile: str, given: dict, profiles: dict, *, choices: dict | None = None):
    """Merge a chapter's parameters with its profile table and validate every value.

    Parameters
    ----------
    profile : {"smoke", "default", "full"}
        The build profile.
    given : dict
        The values from the parameters cell; ``None`` means "use the profile's value".
    profiles : dict
        ``{profile: {name: value}}``: the chapter's sizes for each profile.
    choices : dict, optional
        ``{name: allowed values}`` for parameters with a fixed set of values (such as the
        dataset).

    Returns
    -------
    dict
        Every parameter, validated, with ``profile`` included. Conventions by name: ``bits``
        and ``*_bits`` are lists of precisions > 0; ``seed`` is an int >= 0; ``n_*`` are
        positive ints.

    Raises
    ------
    ParameterError
        For an unknown profile, a parameter the chapter does not have, or a bad value.
    """
    if profile not in PROFILES:
        raise ParameterError(f"profile={profile!r} is unknown; use one of {PROFILES}.")
    missing = [name for name in PROFILES if name not in profiles]
    if missing:
        raise ParameterError(f"the chapter's profile table lacks {missing}.")
    table = profiles[profile]
    unknown = sorted(set(given) - set(table) - {"seed"})
    if unknown:
        raise ParameterError(
            f"parameters {unknown} are not used by this chapter; its parameters are "
            f"{sorted(set(table) | {'seed'})}."
        )
    choices = choices or {}
    resolved = {"profile": profile}
    for name in sorted(set(table) | set(given)):
        value = given.get(name)
        if value is None:
            value = table.get(name)
        if value is None:
            raise ParameterError(f"parameter {name} has no value in profile {profile!r}.")
        resolved[name] = _check_one(name, value, choices)
    return resolved
