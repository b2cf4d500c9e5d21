"""The input policies of ``helpers._validation``: one per kind of input, each refusing the
usual wrong types (bools, numeric strings, complex numbers) and naming the parameter, the
allowed range and the value in its message."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers._validation import (
    check_bits,
    check_bits_list,
    check_bootstrap,
    check_confidence,
    check_count,
    check_curve,
    check_positive,
    check_real,
    is_integer,
    is_number,
)

WRONG_TYPES = [True, False, "4", b"4", 4 + 0j, None, [4]]


# --------------------------------------------------------------------------- predicates


def test_is_number_and_is_integer_refuse_bools():
    assert is_number(2) and is_number(2.5) and is_number(np.float32(1)) and is_number(math.nan)
    assert is_integer(3) and is_integer(np.int64(3))
    for value in (True, "1", 1j, None):
        assert not is_number(value) and not is_integer(value)
    assert not is_integer(3.0)


# --------------------------------------------------------------------------- counts


def test_count_accepts_integers_at_or_above_the_minimum():
    assert check_count(1, name="n") == 1
    assert type(check_count(np.int64(7), name="n")) is int
    assert check_count(0, name="seed", minimum=0) == 0


@pytest.mark.parametrize("bad", [*WRONG_TYPES, 3.0, 2.5, math.nan, 0, -1])
def test_count_refuses_everything_else(bad):
    with pytest.raises(ValueError, match=r"n_points must be a positive integer, got"):
        check_count(bad, name="n_points")


def test_count_messages_name_the_bound_and_the_fix():
    with pytest.raises(ValueError, match=r"k must be an integer >= 2, got 1\."):
        check_count(1, name="k", minimum=2)
    with pytest.raises(ValueError, match=r"got True \(a bool"):
        check_count(True, name="k")
    with pytest.raises(ValueError, match=r"'4' \(a string; pass the number itself"):
        check_count("4", name="k")
    with pytest.raises(ValueError, match=r"round it with int\(\)"):
        check_count(4.0, name="k")


# --------------------------------------------------------------------------- reals


def test_real_accepts_finite_numbers_within_bounds():
    assert check_real(0.5, name="x") == 0.5
    assert check_real(3, name="x", low=0, high=3) == 3.0
    assert check_real(0, name="x", low=0) == 0.0
    assert check_real(np.float32(0.25), name="x", low=0, high=1) == 0.25


@pytest.mark.parametrize("bad", [*WRONG_TYPES, math.nan, math.inf, -math.inf])
def test_real_refuses_other_types_and_non_finite_values(bad):
    with pytest.raises(ValueError, match=r"tol must be a finite real number >= 0, got"):
        check_real(bad, name="tol", low=0)


@pytest.mark.parametrize("kwargs, value, message", [
    (dict(low=0.0), -0.1, r"x must be >= 0, got -0\.1"),
    (dict(low=0.0, include_low=False), 0.0, r"x must be > 0, got 0\.0"),
    (dict(high=1.0), 1.5, r"x must be <= 1, got 1\.5"),
    (dict(high=1.0, include_high=False), 1.0, r"x must be < 1, got 1\.0"),
    (dict(low=0.0, high=1.0, include_low=False, include_high=False), 1.0,
     r"x must be > 0 and < 1, got 1\.0"),
])
def test_real_bounds_are_inclusive_unless_told(kwargs, value, message):
    with pytest.raises(ValueError, match=message):
        check_real(value, name="x", **kwargs)


def test_positive_is_a_real_above_zero():
    assert check_positive(2, name="scale") == 2.0
    for bad in (0, -1, True, "2", math.inf):
        with pytest.raises(ValueError, match="scale must be"):
            check_positive(bad, name="scale")


# --------------------------------------------------------------------------- confidence levels


def test_confidence_levels():
    assert check_confidence(0.95) == 0.95
    for bad in (0, 1, 0.0, 1.0, -0.5, math.nan, True, "0.95", 0.95 + 0j):
        with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\)"):
            check_confidence(bad)
    with pytest.raises(ValueError, match=r"write a level of 95 % as 0\.95"):
        check_confidence(95)


# --------------------------------------------------------------------------- bootstrap sizes


def test_bootstrap_sizes():
    assert check_bootstrap(0) == 0 and check_bootstrap(np.int32(200)) == 200
    with pytest.raises(ValueError, match=r"needs at least one resample"):
        check_bootstrap(0, allow_zero=False)
    for bad in (-1, 10.0, True, "200", 200j):
        with pytest.raises(ValueError, match=r"n_bootstrap must be an integer >= 0"):
            check_bootstrap(bad)


# --------------------------------------------------------------------------- bits


@pytest.mark.parametrize("bad", [True, "4", 4j, math.nan, math.inf, 0, -1, 53])
def test_one_precision(bad):
    with pytest.raises(ValueError, match="bits"):
        check_bits(bad)


def test_bits_lists_are_sorted_and_whole_values_are_ints():
    assert check_bits_list([4, 1, 2.5]) == [1, 2.5, 4]
    assert check_bits_list((8.0, 0.5)) == [0.5, 8]
    assert check_bits_list(np.array([3.0, 1.0])) == [1, 3]
    assert check_bits_list(3) == [3]
    assert [type(p) for p in check_bits_list([1.0, 1.5])] == [int, float]


@pytest.mark.parametrize("bad, message", [
    ([], "bits is empty"),
    ("1 2 3", "must be a list of precisions"),
    (None, "must be a list of precisions"),
    ([1, "2"], r"bits entry must be a real number of bits, got '2' \(a string"),
    ([1, True], r"got True \(a bool"),
    ([1, 2j], r"got 2j \(a complex number\)"),
    ([1, math.nan], "bits entry must be finite"),
    ([0, 1], "outside the supported range"),
    ([1, 60], "outside the supported range"),
    ([4, 1, 4], r"bits repeats the precision 4 \(given \[4, 1, 4\]\)"),
    ([2, 2.0], "repeats the precision 2.0"),
])
def test_bad_bits_lists_say_what_is_wrong(bad, message):
    with pytest.raises(ValueError, match=message):
        check_bits_list(bad)


def test_every_reader_of_a_bits_list_follows_the_one_rule():
    from helpers import capacity
    from helpers.book.params import ParameterError, parse_bits, parse_bits_option
    from helpers.measure.comparison import capacity_bits

    for read in (parse_bits, parse_bits_option, check_bits_list):
        given = ["4", "1", "2.5"] if read is parse_bits_option else [4, 1, 2.5]
        assert read(given) == [1, 2.5, 4]
    for read, given in ((parse_bits, [2, 1, 2]), (parse_bits_option, ["2", "1", "2"]),
                        (capacity._check_measure_args, [2, 1, 2])):
        args = ("global", 10, 0) if read is capacity._check_measure_args else ()
        with pytest.raises(ValueError, match="repeats the precision 2"):
            read(given, *args)
    with pytest.raises(ParameterError, match="outside the supported range"):
        parse_bits([1, 99])
    with pytest.raises(ValueError, match="outside the supported range"):
        capacity_bits(np.zeros((3, 2)), [1, 99])  # no longer unbounded


# --------------------------------------------------------------------------- curves


def test_curves_are_sorted_with_their_values():
    bits, values = check_curve([4, 1, 2], [0.9, 0.1, 0.5], name="accuracy")
    assert bits.tolist() == [1, 2, 4] and values.tolist() == [0.1, 0.5, 0.9]
    # a curve's axis p = -log2 eps may run below 0 (radii above 1)
    assert check_curve([-1, 0, 1], [3, 2, 1])[0].tolist() == [-1, 0, 1]


@pytest.mark.parametrize("bits, values, message", [
    ([1, 2], [0.5], "one value per precision"),
    ([1, 1], [0.5, 0.6], "repeats the precision 1"),
    ([1, "2"], [0.5, 0.6], "a string"),
    ([1, math.inf], [0.5, 0.6], "bits entry must be a finite real number"),
    ([1, 2], [0.5, math.nan], "accuracy must be finite"),
])
def test_bad_curves(bits, values, message):
    with pytest.raises(ValueError, match=message):
        check_curve(bits, values, name="accuracy")


# --------------------------------------------------------------------------- real arrays


def test_real_arrays_refuse_strings_bools_and_complex_values():
    from helpers._validation import check_real_array

    assert check_real_array(4, name="kappa").shape == ()
    assert check_real_array([1, 2.5], name="kappa").tolist() == [1.0, 2.5]
    assert check_real_array([1.0, math.inf], name="kappa", finite=False)[1] == math.inf
    for bad, shown in (("4", "a string"), (4 + 1j, "a complex number"), (True, "a bool"),
                       (np.array([1 + 0j]), "dtype complex128"), (["1", "2"], "dtype <U1"),
                       ([1, None], "dtype object")):
        with pytest.raises(ValueError, match=f"kappa must be a real number.*{shown}"):
            check_real_array(bad, name="kappa")
    with pytest.raises(ValueError, match="finite"):
        check_real_array([1.0, math.nan], name="kappa")
    with pytest.raises(ValueError, match="eps must be > 0, got 0.0"):
        check_real_array([1.0, 0.0], name="eps", low=0.0, include_low=False)


def _measure_calls():
    """Public measure functions with kappa, scale, count or radius arguments, one value in."""
    from helpers.measure import (
        bounds,
        comparison,
        covering,
        curvature,
        information,
        information_plane,
        quantize,
    )

    points = np.random.default_rng(0).random((12, 2))
    return {
        "kappa": lambda v: curvature.precision_threshold(v),
        "radius kappa": lambda v: curvature.radius_threshold(v),
        "quantile": lambda v: curvature.CurvatureSample(
            kappa=np.ones((4, 2)), taylor=np.ones((4, 2)), speed=np.ones((4, 2)),
            method="autograd").quantile(v),
        "scale": lambda v: quantize.quantize_symmetric(points, 4, scale=v),
        "label_entropy_bits": lambda v: information.fano_error_lower_bound(
            0.5, 4, label_entropy_bits=v),
        "mi_bits": lambda v: information.fano_error_lower_bound(v, 4),
        "error_rate": lambda v: information_plane.fano_mi_lower_bound(v, 4),
        "n_cells": lambda v: information_plane.massart_bound(v, 10),
        "n_points": lambda v: comparison.moving_precisions([1, 2], [1.5, 2.5], v),
        "margin": lambda v: comparison.moving_precisions([1, 2], [1.5, 2.5], 64, margin=v),
        "m": lambda v: covering.harmonic_number(v),
        "eps_grid": lambda v: covering.capacity_curve(points, [v]),
        "net_size eps": lambda v: covering.farthest_first(points).net_size(v),
        "eps": lambda v: bounds.ball_covering_bound_bits(2, 1.0, v),
    }


@pytest.mark.parametrize("argument", list(_measure_calls()))
@pytest.mark.parametrize("bad", ["4", "0.5", 4 + 1j, 0.5 + 0j, np.array(["4"]),
                                 np.array([0.5 + 1j])])
def test_measure_functions_refuse_strings_and_complex_values_by_name(argument, bad):
    """precision_threshold('4') returned 1.0; a complex kappa lost its imaginary part."""
    call = _measure_calls()[argument]
    if argument in ("scale", "label_entropy_bits", "n_points", "margin", "m") and \
            isinstance(bad, np.ndarray):
        bad = bad.item()  # a scalar argument: the array case is the scalar case
    name = argument.split()[-1]
    with pytest.raises(ValueError, match=name):
        call(bad)


def test_sample_ceiling_of_a_huge_sample_size_is_exact():
    from helpers.measure.information import sample_ceiling_bits

    assert sample_ceiling_bits(10**30) == pytest.approx(30 * math.log2(10))  # was a TypeError
    assert sample_ceiling_bits(2**100) == 100.0
