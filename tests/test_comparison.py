"""Paired variant comparisons: capacity differences with intervals, embedding scores, verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.experiments.comparison import capacity_difference
from helpers.measure.comparison import (
    capacity_bits,
    embedding_scores,
    moving_precisions,
)
from helpers.measure.covering import capacity_curve


def _grid(points_per_side):
    axis = (np.arange(points_per_side) + 0.5) / points_per_side
    return np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)


def test_capacity_bits_matches_the_covering_engine():
    points = np.random.default_rng(0).random((300, 3))
    bits = [4, 0.5, 2]
    expected = capacity_curve(points, 2.0 ** -np.array(bits))
    by_eps = dict(zip(expected.eps, expected.log2_net_size, strict=True))
    assert capacity_bits(points, bits) == pytest.approx([by_eps[2.0 ** -p] for p in bits])


def test_a_spread_out_variant_has_more_capacity_than_a_shrunk_one():
    rng = np.random.default_rng(0)
    wide = [rng.random((400, 2)) for _ in range(3)]
    narrow = [0.25 * w for w in wide]  # the same points, a quarter of the size
    (result,) = capacity_difference(narrow, wide, [3], n_bootstrap=60)
    assert result.b > result.a and result.percent > 0
    assert result.ci_low <= result.percent <= result.ci_high and result.ci_low > 0
    # the replicates repeat points; centred on the estimate, the interval holds it
    assert np.isfinite(result.bootstrap_bias)
    assert (result.n_seeds_a, result.n_seeds_b, result.n_points) == (3, 3, 400)
    assert not result.at_ceiling and result.describe().startswith("+")


def test_identical_variants_differ_by_zero_and_saturated_precisions_are_flagged():
    points = _grid(16)  # 256 points, spacing 1/16
    results = capacity_difference([points], [points.copy()], [1, 12], n_bootstrap=30)
    assert all(r.percent == 0 for r in results)
    assert results[0].ci_low == results[0].ci_high == 0
    assert results[1].at_ceiling and not results[0].at_ceiling


def test_cached_capacity_difference_equals_the_computed_one(tmp_path):
    rng = np.random.default_rng(1)
    wide = [rng.random((200, 2)) for _ in range(2)]
    narrow = [0.5 * w for w in wide]
    fresh = capacity_difference(narrow, wide, [2, 4], n_bootstrap=20, seed=5)
    lines = []
    first = capacity_difference(narrow, wide, [2, 4], n_bootstrap=20, seed=5, cache=True,
                                cache_dir=tmp_path, log=lines.append)
    again = capacity_difference(narrow, wide, [2, 4], n_bootstrap=20, seed=5, cache=True,
                                cache_dir=tmp_path, log=lines.append)
    assert first == fresh and again == fresh
    assert "cache miss" in lines[0] and "cache hit" in lines[-1]
    swapped = capacity_difference(wide, narrow, [2, 4], n_bootstrap=20, seed=5, cache=True,
                                  cache_dir=tmp_path, log=lines.append)
    assert "cache miss" in lines[-2] and swapped[0].percent < 0 < fresh[0].percent


def test_capacity_difference_errors():
    points = np.random.default_rng(0).random((50, 2))
    with pytest.raises(ValueError, match="same test points"):
        capacity_difference([points], [points[:40]], [1])
    with pytest.raises(ValueError, match="outside the supported range"):
        capacity_difference([points], [points], [0])
    with pytest.raises(ValueError, match="n_bootstrap"):
        capacity_difference([points], [points], [1], n_bootstrap=0)


def test_moving_precisions():
    bits = [0.5, 1, 2, 4, 8]
    capacity = [0.2, 2.0, 6.0, 8.5, 9.0]  # n = 512: ceiling 9
    assert moving_precisions(bits, capacity, 512) == [1, 2]
    with pytest.raises(ValueError, match="capacity"):
        moving_precisions(bits, capacity[:3], 512)


def test_embedding_scores_separate_clear_from_mixed_pictures():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 60)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    clear = centres[labels] + rng.standard_normal((180, 2))
    mixed = rng.standard_normal((180, 2)) * 5
    good, bad = embedding_scores(clear, labels), embedding_scores(mixed, labels)
    assert good["knn_accuracy"] > 0.95 and good["silhouette"] > 0.6
    assert bad["knn_accuracy"] < 0.6 and abs(bad["silhouette"]) < 0.1
    with pytest.raises(ValueError, match="two classes"):
        embedding_scores(clear, np.zeros(180))


def test_pca_budget_rows_and_evidence():
    from helpers.measure.comparison import pca_budget_rows, pca_evidence
    from helpers.measure.quantize import code_length_bits, fit_unit_cube
    from helpers.nets.suite import NormalizedSample

    rng = np.random.default_rng(0)
    y_train, y_test = rng.integers(0, 4, 600), rng.integers(0, 4, 300)

    # four classes spread along the direction of largest variance, fifteen quiet coordinates:
    # 16 bits spread over 16 coordinates pay for two levels each (one bit), which cannot tell
    # four positions apart; 16 bits on the first principal component can
    def draw(y):
        points = 0.5 + 0.03 * rng.standard_normal((len(y), 16))
        points[:, 0] = 0.2 + 0.2 * y + 0.01 * rng.standard_normal(len(y))
        return points

    train, test = draw(y_train), draw(y_test)
    scaler = fit_unit_cube(train)
    sample = NormalizedSample(scaler, scaler.transform(train), y_train, np.arange(600),
                              scaler.transform(test), y_test, np.arange(300))
    rows = pca_budget_rows(sample, budgets=[4, 16, 64], dims=[1, 4, 32])
    # 4 bits cannot give each of 16 coordinates even one bit: no row for (16, 4)
    assert {(r["k"], r["budget"]) for r in rows} == {(k, b) for k in (1, 4, 16)
                                                     for b in (4, 16, 64)} - {(16, 4)}
    # every code fits its budget, counted as log2 of the levels, not as k * p
    assert all(r["code bits"] == r["k"] * code_length_bits(r["p"]).bits <= r["budget"]
               for r in rows)
    assert {r["p"] for r in rows if r["budget"] == 16 and r["k"] == 16} == {0.5}
    evidence = pca_evidence(rows)
    assert evidence[16.0] == "supports"  # 16 bits on one component vs one bit on each of 16
    accuracy = {(r["k"], r["budget"]): r["accuracy"] for r in rows}
    assert accuracy[1, 16] > 0.95 and accuracy[16, 16] < 0.75
    assert set(evidence) == {16.0, 64.0}  # at 4 bits all coordinates do not fit


def test_affordable_precision_counts_levels():
    from helpers.measure.comparison import affordable_precision
    from helpers.measure.quantize import code_length_bits

    assert affordable_precision(0.99) is None  # not even two levels
    assert affordable_precision(1.0) == 0.5  # two levels, 0 and 2^-1/2
    assert affordable_precision(1.5) == 0.5  # log2 3 > 1.5: still two levels
    assert affordable_precision(math.log2(3)) == 1.0  # three levels: the grid 0, 1/2, 1
    assert affordable_precision(2.0) == pytest.approx(math.log2(3))  # four levels
    assert affordable_precision(100.0) == 52.0  # capped where float64 stops resolving
    for budget in np.linspace(1.0, 60.0, 400):
        p = affordable_precision(budget)
        assert code_length_bits(p).bits <= budget
        if 2 < budget < 30:  # one level more would not fit (beyond, log2 cannot tell)
            assert math.log2(code_length_bits(p).levels + 1) > budget


def test_training_trace_follows_every_epoch(tmp_path):
    from helpers.experiments.comparison import training_trace
    from helpers.nets.suite import ModelSpec, SuiteProfile, retrain, train_suite

    profile = SuiteProfile(name="tiny-test", description="one tiny model",
                           specs=(ModelSpec("cnn-mnist", "digits", 120, 60, epochs=3,
                                            width=0.125),))
    record = train_suite(profile, spectral_norm=False, cache_dir=tmp_path, log=None)[0]
    tracked = retrain(record, snapshots=True, cache_dir=tmp_path)
    rows = training_trace(tracked, [1, 4], n_test=40, cache_dir=tmp_path)
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    assert rows[-1]["test accuracy"] == pytest.approx(tracked.test_accuracy)
    for row in rows:
        for p in (1, 4):
            assert 0 <= row[f"C_num at p={p}"] <= np.log2(40) + 1e-9
    with pytest.raises(ValueError, match="snapshots"):
        training_trace(record, [1])


def test_range_verdict_reads_the_interval_and_refuses_the_ceiling():
    from helpers.measure.comparison import CapacityDifference

    def difference(low, high, *, at_ceiling=False):
        return CapacityDifference(bits=2.0, a=3.0, b=3.6, percent=(low + high) / 2, ci_low=low,
                                  ci_high=high, n_seeds_a=2, n_seeds_b=2, n_points=100,
                                  n_bootstrap=30, at_ceiling=at_ceiling)

    assert difference(22, 35).range_verdict(20, 40) == "holds"
    assert difference(-10, 5).range_verdict(20, 40) == "fails"
    assert difference(10, 30).range_verdict(20, 40) == "undecided"
    assert difference(22, 35, at_ceiling=True).range_verdict(20, 40) == "cannot be tested"
