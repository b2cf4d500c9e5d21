"""The quantizer: the normalization convention, rounding, cell counting and bad input."""

import itertools
import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from helpers.measure import quantize


def test_unit_cube_uses_one_global_min_and_max_fitted_on_train():
    train = np.array([[0.0, 10.0], [5.0, 20.0]])
    scaler = quantize.fit_unit_cube(train)
    np.testing.assert_allclose(scaler.transform(train), [[0.0, 0.5], [0.25, 1.0]])
    # test data uses the training map and is not clipped
    np.testing.assert_allclose(scaler.transform([[30.0, -10.0]]), [[1.5, -0.5]])


def test_per_coordinate_variant_scales_each_column():
    train = np.array([[0.0, 10.0], [5.0, 20.0]])
    scaler = quantize.fit_unit_cube(train, per_coordinate=True)
    np.testing.assert_allclose(scaler.transform(train), [[0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="features"):
        scaler.transform(np.zeros((3, 5)))


def test_constant_representation_maps_to_zero_and_says_it_has_collapsed():
    with pytest.warns(quantize.CollapsedRepresentationWarning, match="collapsed"):
        scaler = quantize.fit_unit_cube(np.full((4, 3), 7.0))
    np.testing.assert_array_equal(scaler.transform(np.full((2, 3), 7.0)), 0.0)


def test_global_scaler_refuses_a_representation_of_another_width():
    scaler = quantize.fit_unit_cube(np.random.default_rng(0).random((10, 64)))
    assert scaler.n_features == 64
    with pytest.raises(ValueError, match="128 features but the scaler was fitted on 64"):
        scaler.transform(np.zeros((3, 128)))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (20, 3), elements=st.floats(0, 1)), st.floats(0.25, 20))
def test_rounding_error_is_at_most_half_a_step(points, bits):
    step = 2.0**-bits
    error = np.abs(quantize.quantize(points, bits) - points)
    assert error.max() <= step / 2 * (1 + 1e-9)
    # the quantized values lie on the grid
    np.testing.assert_allclose(quantize.quantize(points, bits) / step,
                               np.round(quantize.quantize(points, bits) / step), atol=1e-6)


def test_rounding_ties_go_up_and_cells_are_half_open():
    step = 0.25
    codes = quantize.grid_codes([[0.125], [0.124999], [0.375]], 2)
    assert codes.ravel().tolist() == [1, 0, 2]
    assert quantize.quantize([[0.125]], 2)[0, 0] == step


def test_count_occupied_cells_matches_a_plain_set_of_tuples():
    rng = np.random.default_rng(1)
    points = rng.random((500, 4))
    for bits in (0.5, 1, 2, 3, 5):
        codes = np.floor(points / 2.0**-bits + 0.5).astype(int)
        expected = len({tuple(row) for row in codes})
        assert quantize.count_occupied_cells(points, bits) == expected


def test_distinct_code_counts_sum_to_n_and_find_duplicates():
    codes = np.array([[0, 1], [0, 1], [2, 3], [0, 1]])
    assert sorted(quantize.distinct_code_counts(codes).tolist()) == [1, 3]


def test_symmetric_int_p_levels_and_scale():
    values = np.array([[-1.0, -0.5, 0.0, 0.26, 1.0]])
    dequantized, scale = quantize.quantize_symmetric(values, 3)
    assert scale == pytest.approx(1 / 3)
    integers = dequantized / scale
    np.testing.assert_allclose(integers, np.round(integers))
    assert np.abs(integers).max() <= 3
    # a scale fitted on train applies to test
    test_q, same = quantize.quantize_symmetric(values * 2, 3, scale=scale)
    assert same == scale and np.abs(test_q / scale).max() <= 3


def test_grid_at_integer_bits_with_rounding_is_not_nested():
    # two points in one p=1 cell fall into different p=2 cells and vice versa
    points = np.array([[0.24], [0.26]])
    assert quantize.count_occupied_cells(points, 1) == 2
    assert quantize.count_occupied_cells(points, 2) == 1


@pytest.mark.parametrize("bits", [0.25, 0.5, 0.6, 1, 1.3, 1.6, 2, 2.5, 3, 4.7, 6, 8])
def test_code_length_counts_the_distinct_values_of_the_quantizer_on_the_unit_interval(bits):
    # brute force: every value Q_eps takes on a dense grid of [0, 1], end points included
    dense = np.linspace(0.0, 1.0, 2**20 + 1)[:, None]
    seen = np.unique(quantize.quantize(dense, bits)).size
    length = quantize.code_length_bits(bits)
    assert length.levels == seen
    assert length.bits == pytest.approx(math.log2(seen))
    if bits == int(bits):  # whole bits: the 2^p + 1 grid points 0, eps, ..., 1
        assert length.levels == 2 ** int(bits) + 1


def test_one_bit_coordinates_need_log2_3_bits():
    length = quantize.code_length_bits(1)
    assert (length.levels, length.bits) == (3, pytest.approx(math.log2(3)))
    assert quantize.code_length_bits(52).levels == 2**52 + 1  # exact at the top of the range
    with pytest.raises(TypeError):  # not a number: k * code_length_bits(p) must not repeat
        _ = 4 * quantize.code_length_bits(1)


@pytest.mark.parametrize("bad", [0, -1, np.nan, 60, "3", True, None])
def test_code_length_rejects_bad_bits(bad):
    with pytest.raises(ValueError, match="bits"):
        quantize.code_length_bits(bad)


@pytest.mark.parametrize("bad", [0, -1, -0.5, np.nan, np.inf, 60, "3", True, None])
def test_bad_bits_are_rejected_with_the_range(bad):
    with pytest.raises(ValueError, match="bits"):
        quantize.quantize(np.zeros((2, 2)), bad)


def test_symmetric_needs_whole_bits_of_at_least_two():
    with pytest.raises(ValueError, match="whole number"):
        quantize.quantize_symmetric(np.ones((2, 2)), 2.5)
    with pytest.raises(ValueError, match=">= 2"):
        quantize.quantize_symmetric(np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="scale"):
        quantize.quantize_symmetric(np.ones((2, 2)), 4, scale=0.0)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([[0.0, np.nan]]), "NaN or infinite"),
        (np.array([[np.inf, 0.0]]), "NaN or infinite"),
        (np.zeros((0, 3)), "empty"),
        (np.zeros(5), "2-D"),
        (np.zeros((2, 2, 2)), "2-D"),
        (np.array([["a", "b"]]), "numeric"),
    ],
)
def test_bad_representations_are_rejected(bad, message):
    for call in (lambda: quantize.fit_unit_cube(bad), lambda: quantize.count_occupied_cells(bad, 2),
                 lambda: quantize.quantize_symmetric(bad, 4)):
        with pytest.raises(ValueError, match=message):
            call()


def test_nan_error_names_the_rows():
    points = np.zeros((10, 2))
    points[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"rows: \[7\]"):
        quantize.grid_codes(points, 2)


def test_cell_count_never_exceeds_the_grid_or_the_sample():
    points = np.random.default_rng(0).random((300, 2))
    for bits in (1, 2, 3):
        per_axis = int(np.floor(1 / 2.0**-bits + 0.5)) + 1
        cells = quantize.count_occupied_cells(points, bits)
        assert cells <= min(300, per_axis**2)
    # a full grid of points occupies every cell
    grid = np.array(list(itertools.product(np.linspace(0, 1, 5), repeat=2)))
    assert quantize.count_occupied_cells(grid, 2) == 25


def test_occupied_cells_curve_counts_cells_at_each_precision():
    points = np.array([[0.0, 0.0], [0.2, 0.0], [0.6, 0.9]])
    curve = quantize.occupied_cells_curve(points, [1, 3])
    assert curve.tolist() == [quantize.count_occupied_cells(points, 1),
                              quantize.count_occupied_cells(points, 3)] == [2, 3]


# ----------------------------------------------------------------------------------------
# exact codes at every supported precision (issue 23, item 2)
# ----------------------------------------------------------------------------------------


def reference_codes(points, bits):
    """Round half up of ``x * 2**bits`` in exact rational arithmetic (whole bits)."""
    step = Fraction(2) ** -int(bits)
    return [[math.floor(Fraction(x) / step + Fraction(1, 2)) for x in row] for row in points]


def test_codes_beyond_int64_are_exact_instead_of_wrapping():
    points = [[3000.0], [5000.0]]
    codes = quantize.grid_codes(points, 52)
    assert codes.tolist() == [[3000 * 2**52], [5000 * 2**52]]  # was [-2**63, -2**63]
    assert quantize.count_occupied_cells(points, 52) == 2  # was 1
    assert quantize.quantize(points, 52).tolist() == points  # on the grid already
    # the largest finite float: x * 2**52 overflows float64 too, and is still exact
    huge = [[np.finfo(np.float64).max], [-np.finfo(np.float64).max], [0.5]]
    assert quantize.grid_codes(huge, 52).tolist() == reference_codes(huge, 52)
    assert quantize.quantize(huge, 52).tolist() == huge
    assert quantize.count_occupied_cells(huge, 52) == 3
    # near the unit cube the codes stay int64, as before
    assert quantize.grid_codes([[0.0], [1.5]], 52).dtype == np.int64


def test_rounding_is_exact_where_adding_a_half_in_float64_is_not():
    # above 2**52 the float sum x + 0.5 is a tie that rounds to even: two cells merged
    points = [[1 + 2.0**-52], [1 + 2.0**-51]]
    assert quantize.grid_codes(points, 52).ravel().tolist() == [2**52 + 1, 2**52 + 2]
    assert quantize.count_occupied_cells(points, 52) == 2
    # just below a half, x + 0.5 rounds up to the next integer in float64
    below = [[0.25 - 2.0**-55]]  # 0.5 - 2**-54 grid steps at p = 1
    assert quantize.grid_codes(below, 1).tolist() == [[0]]


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, (6, 2), elements=st.floats(allow_nan=False, allow_infinity=False)),
       st.integers(1, 52))
def test_codes_equal_exact_rational_rounding_for_any_finite_input(points, bits):
    expected = reference_codes(points, bits)
    codes = quantize.grid_codes(points, bits)
    assert codes.tolist() == expected
    assert quantize.count_occupied_cells(points, bits) == len({tuple(r) for r in expected})
    step = Fraction(2) ** -bits
    assert quantize.quantize(points, bits).tolist() == [
        [float(k * step) for k in row] for row in expected]
    counts = quantize.distinct_code_counts(codes)
    assert sorted(counts.tolist()) == sorted(
        Counter(tuple(r) for r in expected).values())


def test_column_ranks_keep_equality_and_order_and_refuse_other_objects():
    codes = np.empty((4, 2), dtype=object)
    codes[:] = [[2**80, 1], [-(2**90), 1], [2**80, 0], [2**80, 1]]
    ranks = quantize.column_ranks(codes)
    assert ranks.dtype == np.int64 and ranks.tolist() == [[1, 1], [0, 1], [1, 0], [1, 1]]
    assert sorted(quantize.distinct_code_counts(codes).tolist()) == [1, 1, 2]
    strings = np.array([["a"], ["b"]], dtype=object)
    with pytest.raises(ValueError, match="must all be integers"):
        quantize.column_ranks(strings)
