"""The quantizer: the normalization convention, rounding, cell counting and bad input."""

import itertools

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
