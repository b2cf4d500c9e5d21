"""Paired variant comparisons: capacity differences with intervals, embedding scores, verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.experiments.comparison import capacity_difference
from helpers.measure.comparison import (
    capacity_bits,
    embedding_scores,
    guideline_verdict,
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
    with pytest.raises(ValueError, match="precisions > 0"):
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


def test_guideline_verdict():
    assert guideline_verdict(4, 0, 4) == "supported"
    assert guideline_verdict(1, 3, 4) == "contradicted"
    assert guideline_verdict(2, 1, 4) == "mixed"
    assert guideline_verdict(1, 0, 4) == "undecided"
    assert guideline_verdict(0, 0, 0) == "undecided"
    with pytest.raises(ValueError, match="exceeds"):
        guideline_verdict(3, 3, 4)


def test_pca_budget_rows_and_evidence():
    from helpers.measure.comparison import pca_budget_rows, pca_evidence
    from helpers.measure.quantize import fit_unit_cube
    from helpers.nets.suite import NormalizedSample

    rng = np.random.default_rng(0)
    y_train, y_test = rng.integers(0, 4, 600), rng.integers(0, 4, 300)

    # four classes spread along the direction of largest variance, fifteen quiet coordinates:
    # 4 bits spread over 16 coordinates leave two levels each, which cannot tell four
    # positions apart; 4 bits on the first principal component can
    def draw(y):
        points = 0.5 + 0.03 * rng.standard_normal((len(y), 16))
        points[:, 0] = 0.2 + 0.2 * y + 0.01 * rng.standard_normal(len(y))
        return points

    train, test = draw(y_train), draw(y_test)
    scaler = fit_unit_cube(train)
    sample = NormalizedSample(scaler, scaler.transform(train), y_train, np.arange(600),
                              scaler.transform(test), y_test, np.arange(300))
    rows = pca_budget_rows(sample, budgets=[4, 64], dims=[1, 4, 32])
    assert {(r["k"], r["budget"]) for r in rows} == {(k, b) for k in (1, 4, 16)
                                                     for b in (4, 64)} - {(1, 64)}
    assert all(r["p"] == r["budget"] / r["k"] for r in rows)
    evidence = pca_evidence(rows)
    assert evidence[4.0] == "supports"  # 4 bits on one component vs 0.25 bits on each of 16
    accuracy = {(r["k"], r["budget"]): r["accuracy"] for r in rows}
    assert accuracy[1, 4] > 0.95 and accuracy[16, 4] < 0.75
    assert set(evidence) == {4.0, 64.0}


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
