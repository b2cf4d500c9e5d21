"""Number formats: casts against ml_dtypes and a brute-force nearest-value search, the
integer, MX and sign-bit rules on hand-made cases, stored bits and bad input."""

import math

import ml_dtypes
import numpy as np
import pytest

from helpers.measure import formats

FLOATS = {
    "fp16": (np.float16, np.uint16),
    "bf16": (ml_dtypes.bfloat16, np.uint16),
    "fp8_e4m3": (ml_dtypes.float8_e4m3fn, np.uint8),
    "fp8_e5m2": (ml_dtypes.float8_e5m2, np.uint8),
    "fp4_e2m1": (ml_dtypes.float4_e2m1fn, np.uint8),
}
BITS = {"fp16": 16, "bf16": 16, "fp8_e4m3": 8, "fp8_e5m2": 8, "fp4_e2m1": 4}


def positive_grid(name):
    """All finite non-negative values of a format and their bit patterns, by enumeration."""
    dtype, unsigned = FLOATS[name]
    patterns = np.arange(2 ** (BITS[name] - 1), dtype=unsigned)  # sign bit clear
    with np.errstate(invalid="ignore"):  # the NaN patterns, dropped below
        values = patterns.view(dtype).astype(np.float64)
    finite = np.isfinite(values)
    values, patterns = values[finite], patterns[finite]
    assert np.all(np.diff(values) > 0)  # the order of the patterns is the order of the values
    return values, patterns


def brute_force(x, name):
    """Nearest finite value, ties to the even pattern, beyond the largest -> the largest."""
    grid, patterns = positive_grid(name)
    out = np.empty(len(x))
    for i, value in enumerate(x):
        size = abs(value)
        above = int(np.searchsorted(grid, size))
        if above == len(grid):
            best = grid[-1]
        elif grid[above] == size or above == 0:
            best = grid[above]
        else:
            low, high = grid[above - 1], grid[above]
            if size - low != high - size:
                best = low if size - low < high - size else high
            else:
                best = low if patterns[above - 1] % 2 == 0 else high
        out[i] = np.copysign(best, value)  # a negative value rounding to zero gives -0
    return out


def awkward_values(name, seed=0):
    """Random values across the whole range, subnormals, exact ties, near-ties, values beyond
    the largest, ties beyond it and both zeros."""
    grid, _ = positive_grid(name)
    rng = np.random.default_rng(seed)
    top = grid[-1]
    tiny = grid[1]  # smallest subnormal
    magnitudes = np.exp(rng.uniform(np.log(tiny / 4), np.log(top * 4), 400))
    picks = rng.choice(len(grid) - 1, size=min(300, len(grid) - 1), replace=False)
    ties = (grid[picks] + grid[picks + 1]) / 2  # exact in float64
    near = np.concatenate([np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf)])
    ulp_top = grid[-1] - grid[-2]
    edges = np.array([0.0, tiny / 2, tiny, tiny * 1.5, top, top + ulp_top / 2, top + ulp_top,
                      top * 1e6, 1e300])
    subnormal = rng.uniform(0, 2 * float(ml_dtypes.finfo(FLOATS[name][0]).smallest_normal), 100)
    positive = np.concatenate([magnitudes, ties, near, edges, subnormal])
    signs = np.where(rng.random(len(positive)) < 0.5, -1.0, 1.0)
    return np.concatenate([positive * signs, -positive, [-0.0]])


def same_bits(a, b):
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("name", list(FLOATS))
def test_float_formats_round_to_the_nearest_value_with_ties_to_even_and_saturate(name):
    x = awkward_values(name)
    same_bits(formats.round_to(x, name, scale=1.0), brute_force(x, name))


@pytest.mark.parametrize("name", list(FLOATS))
def test_float_formats_agree_bit_for_bit_with_the_ml_dtypes_cast_inside_the_range(name):
    dtype, unsigned = FLOATS[name]
    x = awkward_values(name, seed=1)
    x = x[np.abs(x) <= float(ml_dtypes.finfo(dtype).max)]
    stored = formats.round_to(x, name, scale=1.0)
    np.testing.assert_array_equal(stored.astype(dtype).view(unsigned),
                                  x.astype(dtype).view(unsigned))
    # the stored values are values of the format
    same_bits(stored.astype(dtype).astype(np.float64), stored)


def test_ties_are_not_rounded_twice_through_float32():
    # 1 + 2^-4 + 2^-40 lies above the E4M3 tie between 1 and 1.125 but is the tie in float32
    x = np.array([1 + 2**-4 + 2**-40, 1 + 2**-4, -(1 + 2**-4 + 2**-40), 1 + 3 * 2**-4])
    np.testing.assert_array_equal(formats.round_to(x, "fp8_e4m3", scale=1.0),
                                  [1.125, 1.0, -1.125, 1.25])
    y = np.array([1 + 2**-8 + 2**-40, 1 + 2**-8, 1 + 3 * 2**-8])  # bf16 step 2^-7 at 1
    np.testing.assert_array_equal(formats.round_to(y, "bf16"), [1 + 2**-7, 1.0, 1 + 2**-6])
    z = np.array([2.5, 2.5 + 2**-30, 5.0, 0.25, 0.75])  # E2M1: 2|3, 4|6, 0|0.5, 0.5|1
    np.testing.assert_array_equal(formats.round_to(z, "fp4_e2m1", scale=1.0),
                                  [2.0, 3.0, 4.0, 0.0, 1.0])


def test_saturation_replaces_the_infinities_and_nans_of_a_plain_cast():
    x = np.array([1e9, -1e9, 464.0, 70000.0, 7.0])
    np.testing.assert_array_equal(formats.round_to(x, "fp8_e4m3", scale=1.0),
                                  [448, -448, 448, 448, 7])
    np.testing.assert_array_equal(formats.round_to(x, "fp8_e5m2", scale=1.0),
                                  [57344, -57344, 448, 57344, 7])
    np.testing.assert_array_equal(formats.round_to(x, "fp4_e2m1", scale=1.0), [6, -6, 6, 6, 6])
    np.testing.assert_array_equal(formats.round_to([1e300, -7e4], "fp16"), [65504, -65504])


def test_negative_zero_is_kept_by_float_formats_and_dropped_by_integers():
    x = np.array([-0.0, -1e-30, 0.0, 1.0])
    for name in FLOATS:
        assert np.all(np.signbit(formats.round_to(x, name, scale=1.0)[:2]))
    for name in ("int8", "int4", "int8_channel", "int4_channel"):
        assert not np.any(np.signbit(formats.round_to(x, name)))


def test_no_scale_is_the_per_tensor_absmax_for_fp8_and_fp4_and_a_plain_cast_for_fp16():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 6)) * 3
    for name, top in [("fp8_e4m3", 448.0), ("fp8_e5m2", 57344.0), ("fp4_e2m1", 6.0)]:
        s = np.max(np.abs(x)) / top
        expected = brute_force((x / s).ravel(), name).reshape(x.shape) * s
        np.testing.assert_array_equal(formats.round_to(x, name), expected)
    for name in ("fp16", "bf16"):
        same_bits(formats.round_to(x, name), formats.round_to(x, name, scale=1.0))
    # absmax 7 maps to 6: 7 -> 6 * 7/6, -3.5 -> -3 * 7/6, 0.2 -> 0.17 * 7/6 -> 0
    np.testing.assert_allclose(formats.round_to([7.0, -3.5, 0.2], "fp4_e2m1"),
                               [7.0, -3.5, 0.0])


def test_a_given_scale_divides_before_the_cast_and_multiplies_after():
    x = np.array([100.0, 3.0, -1000.0, 0.1])
    np.testing.assert_array_equal(formats.round_to(x, "fp4_e2m1", scale=0.5),
                                  brute_force(x / 0.5, "fp4_e2m1") * 0.5)
    np.testing.assert_array_equal(formats.round_to(x, "fp8_e4m3", scale=2.0),
                                  [96.0, 3.0, -896.0, 0.1015625])


def test_symmetric_integers_per_tensor_on_hand_made_cases():
    # int8: absmax 15.875 -> step 0.125; codes 127, -0.5 -> 0, 1.5 -> 2, -2.5 -> -2, 8
    x = np.array([15.875, -0.0625, 0.1875, -0.3125, 1.0])
    np.testing.assert_array_equal(formats.round_to(x, "int8"), [15.875, 0, 0.25, -0.25, 1.0])
    # int4: absmax 1.75 -> step 0.25; codes 7, 0.5 -> 0, 1.5 -> 2, -2.5 -> -2, 4
    y = np.array([[1.75, 0.125], [0.375, -0.625], [1.0, -1.75]])
    np.testing.assert_array_equal(formats.round_to(y, "int4"),
                                  [[1.75, 0], [0.5, -0.5], [1.0, -1.75]])
    # a given step clips at +-127 steps
    np.testing.assert_array_equal(formats.round_to([100.0, -100.0, 0.25, 0.75], "int8",
                                                   scale=0.5), [63.5, -63.5, 0.0, 1.0])
    np.testing.assert_array_equal(formats.round_to(np.zeros((2, 3)), "int4"), np.zeros((2, 3)))


def test_per_channel_integers_use_one_scale_per_column():
    # column 0: absmax 7 -> step 1 (-3.5 -> -4, 2.5 -> 2); column 1: step 1/16; column 2: zeros
    x = np.array([[7.0, 0.4375, 0.0], [-3.5, -0.03125, 0.0], [2.5, 0.09375, -0.0]])
    np.testing.assert_array_equal(formats.round_to(x, "int4_channel"),
                                  [[7, 0.4375, 0], [-4, 0, 0], [2, 0.125, 0]])
    # int8 with column steps 1 and 2: 127 steps reach the column maxima exactly
    z = np.array([[127.0, 254.0], [0.5, 3.0], [-1.5, -5.0]])
    np.testing.assert_array_equal(formats.round_to(z, "int8_channel"),
                                  [[127, 254], [0, 4], [-2, -4]])
    # a 1-D tensor is one column, so the per-channel and per-tensor rules agree on it
    v = np.array([0.3, -1.1, 2.9])
    np.testing.assert_array_equal(formats.round_to(v, "int4_channel"),
                                  formats.round_to(v, "int4"))


def test_mx_blocks_share_a_power_of_two_scale_on_hand_made_blocks():
    # MXFP4, max exactly 4 = 2^2: scale 2^(2-2) = 1; 3 stays, -2.5 and 5 are ties (-> 2, 4),
    # 0.25 and 0.75 are ties (-> 0, 1), 0.1 -> 0
    block = np.zeros(32)
    block[:7] = [4.0, 3.0, -2.5, 5.0, 0.25, 0.75, 0.1]
    expected = np.zeros(32)
    expected[:7] = [4.0, 3.0, -2.0, 4.0, 0.0, 1.0, 0.0]
    np.testing.assert_array_equal(formats.round_to(block, "mxfp4"), expected)
    # max 7: floor(log2 7) = 2, scale 1, so 7 saturates to 6
    block7 = np.full(32, 0.5)
    block7[3] = 7.0
    assert formats.round_to(block7, "mxfp4")[3] == 6.0
    # max 0.75: scale 2^(-1-2) = 1/8; 0.3 * 8 = 2.4 -> 2 -> 0.25
    small = np.full(32, 0.3)
    small[0] = -0.75
    np.testing.assert_array_equal(formats.round_to(small, "mxfp4")[:2], [-0.75, 0.25])


def test_mx_short_last_block_zero_block_and_rows():
    # 35 values: a block of 32 (max 4, scale 1) and a short block of 3 (max 0.5, scale 1/8)
    x = np.zeros((2, 35))
    x[0, :32] = 4.0
    x[0, 32:] = [0.5, 0.2, -0.1]  # x8: 4, 1.6 -> 1.5, -0.8 -> -1
    x[1, :32] = 0.0  # an all-zero block
    x[1, 32:] = [-0.0, 0.0, 3.0]  # its own scale: 3 -> 3
    expected = np.zeros((2, 35))
    expected[0, :32] = 4.0
    expected[0, 32:] = [0.5, 0.1875, -0.125]
    expected[1, 34] = 3.0
    np.testing.assert_array_equal(formats.round_to(x, "mxfp4"), expected)


def test_mxfp8_on_hand_made_blocks():
    # max exactly 1: scale 2^(0-8); 0.3 * 256 = 76.8 -> 80 (step 8 in [64, 128)) -> 0.3125
    block = np.full(32, 0.3)
    block[5] = 1.0
    out = formats.round_to(block, "mxfp8_e4m3")
    assert out[5] == 1.0 and out[0] == 0.3125
    # max 1.9: same scale; 1.9 * 256 = 486.4 saturates to 448 -> 1.75
    block[5] = 1.9
    assert formats.round_to(block, "mxfp8_e4m3")[5] == 1.75
    # a block below the E8M0 range takes the smallest scale 2^-127
    assert formats.round_to(np.full(3, 2.0**-130), "mxfp8_e4m3")[0] == 2.0**-130
    assert formats.round_to(np.full(3, 2.0**-140), "mxfp4")[0] == 0.0


@pytest.mark.parametrize("name, element, emax", [("mxfp4", "fp4_e2m1", 2),
                                                  ("mxfp8_e4m3", "fp8_e4m3", 8)])
def test_mx_formats_match_a_block_by_block_reference_on_random_rows(name, element, emax):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 75)) * np.exp(rng.uniform(-6, 6, size=(6, 1)))
    x[2, 32:64] = 0.0
    expected = np.empty_like(x)
    for row in range(len(x)):
        for start in range(0, x.shape[1], 32):
            block = x[row, start:start + 32]
            top = np.max(np.abs(block))
            scale = 2.0 ** (math.floor(math.log2(top)) - emax) if top > 0 else 1.0
            expected[row, start:start + 32] = brute_force(block / scale, element) * scale
    np.testing.assert_array_equal(formats.round_to(x, name), expected)


def test_binary_is_the_sign_times_the_column_mean_absolute_value():
    x = np.array([[1.0, -2.0], [-3.0, 0.0], [0.0, 4.0], [-0.0, 2.0]])
    m0, m1 = 1.0, 2.0  # mean |x| of each column
    np.testing.assert_allclose(formats.round_to(x, "binary"),
                               [[m0, -m1], [-m0, -m1], [-m0, m1], [-m0, m1]])


def test_output_is_float64_of_the_input_shape_and_float32_input_is_read_exactly():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(7, 40)).astype(np.float32)
    for name in formats.FORMATS:
        out = formats.round_to(x, name)
        assert out.dtype == np.float64 and out.shape == x.shape
        np.testing.assert_array_equal(out, formats.round_to(x.astype(np.float64), name))
        assert formats.round_to(x[0], name).shape == (40,)


def test_bits_per_value_of_every_format():
    expected = {"fp16": 16, "bf16": 16, "fp8_e4m3": 8, "fp8_e5m2": 8, "fp4_e2m1": 4,
                "int8": 8, "int4": 4, "int8_channel": 8, "int4_channel": 4,
                "mxfp8_e4m3": 8.25, "mxfp4": 4.25, "binary": 1}
    assert set(formats.FORMATS) == set(expected)
    for name, bits in expected.items():
        assert formats.bits_per_value(name) == bits
        assert isinstance(formats.FORMATS[name], str) and formats.FORMATS[name]


@pytest.mark.parametrize("name", ["fp32", "FP16", "", None, 8])
def test_unknown_formats_are_refused_with_the_list_of_known_ones(name):
    with pytest.raises(ValueError, match="unknown format.*fp16.*mxfp4.*binary"):
        formats.round_to([1.0], name)
    with pytest.raises(ValueError, match="unknown format"):
        formats.bits_per_value(name)


@pytest.mark.parametrize("values, message", [
    ([1.0, np.nan], "NaN or infinite"),
    ([[1.0, np.inf]], "NaN or infinite"),
    (np.zeros((2, 2, 2)), "1-D array or a 2-D"),
    (3.0, "1-D array or a 2-D"),
    (np.array([]), "empty"),
    (np.zeros((0, 3)), "empty"),
    (np.zeros((3, 0)), "empty"),
    (["a", "b"], "numeric"),
    ([[1.0], [2.0, 3.0]], "could not be read"),
])
def test_bad_values_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        formats.round_to(values, "int8")


@pytest.mark.parametrize("scale", [0, -1.0, True, "1.0", np.nan, np.inf, [1.0]])
def test_bad_scales_are_refused(scale):
    with pytest.raises(ValueError, match="scale"):
        formats.round_to([1.0, 2.0], "fp8_e4m3", scale=scale)


@pytest.mark.parametrize("name", ["int8_channel", "int4_channel", "mxfp8_e4m3", "mxfp4",
                                  "binary"])
def test_formats_with_their_own_scales_refuse_a_given_scale(name):
    with pytest.raises(ValueError, match="computes its own scales"):
        formats.round_to([1.0, 2.0], name, scale=1.0)


def test_values_beyond_the_mx_scale_range_are_refused():
    with pytest.raises(ValueError, match="E8M0"):
        formats.round_to([2.0**200, 1.0], "mxfp4")
