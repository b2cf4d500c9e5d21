"""Tests of helpers.measure.stored (chapter "Number formats in practice")."""

import math

import numpy as np
import pytest

from helpers.measure.formats import round_to
from helpers.measure.stored import equivalent_bits, stored_scores


@pytest.mark.parametrize(("value", "expected"), [
    (0.8, 3.0),      # halfway between (2, 0.7) and (4, 0.9)
    (0.6, 1.5),      # halfway between (1, 0.5) and (2, 0.7)
    (0.7, 2.0),      # exactly on a point
    (0.9, 4.0),      # the top point
    (0.3, 1.0),      # below the curve's first point: the curve cannot resolve less
])
def test_equivalent_bits_interpolates(value, expected):
    assert equivalent_bits([1, 2, 4], [0.5, 0.7, 0.9], value) == pytest.approx(expected)


def test_equivalent_bits_above_the_curve_is_infinite():
    assert math.isinf(equivalent_bits([1, 2, 4], [0.5, 0.7, 0.9], 0.95))


def test_equivalent_bits_uses_the_running_maximum():
    # the dip at 2 bits is noise: 0.75 is first reached at 1.5 bits, on the way to 0.8
    assert equivalent_bits([1, 2, 3], [0.7, 0.8, 0.75], 0.75) == pytest.approx(1.5)
    assert equivalent_bits([1, 2, 3], [0.7, 0.8, 0.75], 0.79) == pytest.approx(1.9)


@pytest.mark.parametrize("args", [([], [], 0.5), ([1, 2], [0.5], 0.5),
                                  ([2, 1], [0.5, 0.6], 0.5), ([1, 2], [0.5, np.nan], 0.5)])
def test_equivalent_bits_refuses_bad_curves(args):
    with pytest.raises(ValueError):
        equivalent_bits(*args)


def test_stored_scores_of_a_lossless_store():
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(200, 8)), rng.normal(size=(60, 8))
    train_y, test_y = (train[:, 0] > 0).astype(int), (test[:, 0] > 0).astype(int)
    scores = stored_scores((train, test), (train, test), test, (train_y, test_y),
                           n_bootstrap=20)
    assert scores["recall"] == 1.0 and scores["relative_error"] == 0.0
    assert scores["distinct"] == 60 and scores["H_plugin"] == pytest.approx(np.log2(60))
    assert scores["accuracy"] > 0.9


def test_stored_scores_of_sign_bits_lose_information():
    rng = np.random.default_rng(1)
    train, test = rng.normal(size=(200, 3)), rng.normal(size=(100, 3))
    labels = ((train[:, 0] > 0).astype(int), (test[:, 0] > 0).astype(int))
    stored = (round_to(train, "binary"), round_to(test, "binary"))
    scores = stored_scores((train, test), stored, stored[1], labels, n_bootstrap=20)
    assert scores["distinct"] <= 8 and scores["H_plugin"] <= 3
    assert scores["recall"] < 1 and scores["relative_error"] > 0


def test_quantizer_rows_and_effective_rows():
    from helpers.measure.stored import effective_rows, fit_store, quantizer_rows

    rng = np.random.default_rng(2)
    train, test = rng.normal(size=(300, 16)), rng.normal(size=(50, 16))
    train_y, test_y = (train[:, 0] > 0).astype(int), (test[:, 0] > 0).astype(int)
    rows = quantizer_rows(train, test, train_y, test_y, bits=[0.5, 1, 4, 12],
                          formats=["fp16", "int4"], stores=["sq8", "pq1", "store_binary"],
                          n_bootstrap=10)
    assert [row["kind"] for row in rows] == ["grid"] * 4 + ["format"] * 2 + ["store"] * 3
    assert [row["bits"] for row in rows[4:]] == [16, 4, 8, 1, 1]
    effective = effective_rows(rows)
    assert len(effective) == 5
    top = rows[3]["bits"]
    for row in effective:
        assert rows[0]["bits"] <= row["recall_bits_low"] <= row["recall_bits"] \
            <= row["recall_bits_high"] <= top
    fp16 = effective[0]  # fp16 keeps float32's neighbours as the finest grid does
    assert fp16["recall"] == pytest.approx(1.0, abs=0.02)
    assert fit_store("pq1", train).settings == {"m": 2, "nbits": 8}
    with pytest.raises(ValueError, match="known ones"):
        fit_store("pq3", train)
