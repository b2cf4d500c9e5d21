"""Correlation intervals (bootstrap and Fisher z) and the collapse threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.measure.stats import (
    bootstrap_correlation,
    collapse_threshold,
    collapse_threshold_interval,
    correlation_test,
    correlation_verdict,
    fisher_z_interval,
    pearson,
    spearman,
)


def bivariate_normal(rho, n, seed):
    rng = np.random.default_rng(seed)
    cov = [[1.0, rho], [rho, 1.0]]
    return rng.multivariate_normal([0.0, 0.0], cov, size=n).T


def test_coefficients_match_scipy():
    from scipy import stats

    x, y = bivariate_normal(0.4, 50, seed=1)
    y[3] = y[7]  # a tie, for the average ranks
    assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_perfect_correlation_gives_one(method):
    x = np.linspace(0.0, 1.0, 20)
    result = bootstrap_correlation(x, 3 * x + 1, method=method, n_bootstrap=500, seed=0)
    assert result.estimate == pytest.approx(1.0)
    assert result.ci_low == pytest.approx(1.0) and result.ci_high == pytest.approx(1.0)
    assert result.fisher_low == result.fisher_high == pytest.approx(1.0)
    assert correlation_verdict(result) == "holds"
    # a monotone, non-linear relation: Spearman is exactly 1, Pearson is not
    assert spearman(x, np.exp(8 * x)) == pytest.approx(1.0)
    assert pearson(x, np.exp(8 * x)) < 0.9
    anti = bootstrap_correlation(x, -x, method=method, n_bootstrap=200)
    assert anti.estimate == pytest.approx(-1.0) and correlation_verdict(anti) == "fails"


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_independent_samples_cover_zero(method):
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal(2000), rng.standard_normal(2000)
    result = bootstrap_correlation(x, y, method=method, n_bootstrap=1000, seed=2)
    assert result.ci_low < 0.0 < result.ci_high
    assert result.ci_high - result.ci_low < 0.15
    assert result.fisher_low < 0.0 < result.fisher_high
    assert correlation_verdict(result, 0.9) == "fails"


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_bootstrap_agrees_with_fisher_on_bivariate_normal(method):
    rho, n = 0.6, 300
    x, y = bivariate_normal(rho, n, seed=11)
    result = bootstrap_correlation(x, y, method=method, n_bootstrap=4000, seed=4)
    assert abs(result.ci_low - result.fisher_low) < 0.03
    assert abs(result.ci_high - result.fisher_high) < 0.03
    truth = rho if method == "pearson" else 6 / math.pi * math.asin(rho / 2)
    assert result.ci_low < truth < result.ci_high
    assert result.n == n and result.n_degenerate == 0
    assert format(result, ".2f").count("[") == 1


def test_fisher_interval_coverage_is_nominal():
    """Over 400 samples of n = 30 from rho = 0.5 the 90% interval covers rho ~90% of the time."""
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(400):
        x, y = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=30).T
        low, high = fisher_z_interval(pearson(x, y), 30, confidence=0.9)
        covered += low < 0.5 < high
    assert 0.85 <= covered / 400 <= 0.95


def test_seeded_and_reproducible():
    x, y = bivariate_normal(0.3, 40, seed=2)
    a = bootstrap_correlation(x, y, n_bootstrap=300, seed=7)
    b = bootstrap_correlation(x, y, n_bootstrap=300, seed=7)
    c = bootstrap_correlation(x, y, n_bootstrap=300, seed=8)
    assert a == b and (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


def test_degenerate_resamples_are_counted():
    # three pairs: some resamples repeat one pair and have no correlation
    result = bootstrap_correlation([0, 1, 2], [0, 1, 3], n_bootstrap=300, seed=0)
    assert 0 < result.n_degenerate < 300
    assert result.fisher_low is None  # n < 4


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([1, 2, 3], [1, 2], "x has 3 values but y has 2"),
        ([1, 2], [1, 2], "at least 3 pairs"),
        ([1, 1, 1, 1], [1, 2, 3, 4], "x is constant"),
        ([1, 2, 3, 4], [5, 5, 5, 5], "y is constant"),
        ([1, 2, np.nan], [1, 2, 3], "NaN"),
        ([[1, 2], [3, 4]], [1, 2], "one-dimensional"),
    ],
)
def test_bad_input_is_a_clear_error(x, y, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_correlation(x, y, n_bootstrap=10)
    with pytest.raises(ValueError, match=message):
        pearson(x, y)


def test_bad_settings():
    with pytest.raises(ValueError, match="method"):
        bootstrap_correlation([1, 2, 3], [3, 1, 2], method="kendall")
    with pytest.raises(ValueError, match="n_bootstrap"):
        bootstrap_correlation([1, 2, 3], [3, 1, 2], n_bootstrap=0)
    with pytest.raises(ValueError, match="n >= 4"):
        fisher_z_interval(0.5, 3)
    with pytest.raises(ValueError, match="low <= high"):
        correlation_verdict((0.95, 0.9))
    with pytest.raises(ValueError, match="which"):
        correlation_verdict((0.5, 0.6), which="both")


def test_verdict_from_union_of_intervals():
    """Six levels, r ~ 0.95: the bootstrap interval alone clears 0.9, Fisher's does not."""
    x = np.array([5.6, 6.9, 7.4, 8.3, 8.8, 8.9])
    y = np.array([0.634, 0.854, 0.924, 0.972, 0.978, 0.986])
    result = bootstrap_correlation(x, y, n_bootstrap=2000, seed=0)
    assert result.fisher_low < 0.9 < result.ci_low
    assert correlation_verdict(result) == "holds"
    assert correlation_verdict(result, which="fisher") == "undecided"
    assert correlation_verdict(result, which="union") == "undecided"
    low = min(result.ci_low, result.fisher_low)
    assert correlation_verdict((low, 1.0)) == "undecided"
    few = bootstrap_correlation([0, 1, 2], [0, 1, 3], n_bootstrap=100)
    with pytest.raises(ValueError, match="no Fisher z part"):
        correlation_verdict(few, which="union")


def test_correlation_test_decides_or_declines():
    """Too few pairs or a constant variable cannot be tested; otherwise the union verdict."""
    x = np.array([5.6, 6.9, 7.4, 8.3, 8.8, 8.9])
    y = np.array([0.634, 0.854, 0.924, 0.972, 0.978, 0.986])
    test = correlation_test(x, y, 0.9, n_bootstrap=2000, seed=0)
    assert test.verdict == "undecided" and test.n == 6
    assert test.pearson == bootstrap_correlation(x, y, n_bootstrap=2000, seed=0)
    assert test.spearman.method == "spearman" and test.spearman.estimate == pytest.approx(1.0)
    assert correlation_test(x, y, 0.9, which="bootstrap", n_bootstrap=2000).verdict == "holds"
    row = test.as_dict()
    assert row["r_low"] == min(test.pearson.ci_low, test.pearson.fisher_low) < 0.9 < row["r_high"]
    assert (row["n"], row["verdict"], row["rho"]) == (6, "undecided", test.spearman.estimate)
    for few_x, few_y in ((x[:3], y[:3]), (np.ones(6), y), (x, np.full(6, 0.5)), ([], [])):
        declined = correlation_test(few_x, few_y)
        assert declined.verdict == "cannot be tested" and declined.pearson is None
        assert declined.as_dict()["r"] is None and declined.as_dict()["rho"] is None
    with pytest.raises(ValueError, match="paired"):
        correlation_test(x, y[:5])
    with pytest.raises(ValueError, match="min_pairs"):
        correlation_test(x, y, min_pairs=3)


def test_collapse_threshold_definition():
    bits = [0.5, 1, 2, 3, 4]
    # dips back below tolerance at 2 bits: the threshold is where it stays within
    assert collapse_threshold(bits, [0.6, 0.93, 0.90, 0.95, 0.96], 0.97) == 3
    assert collapse_threshold(bits, [0.6, 0.93, 0.93, 0.95, 0.96], 0.97) == 1
    assert collapse_threshold(bits, [0.95, 0.96, 0.97, 0.97, 0.97], 0.97) == 0.5
    assert collapse_threshold(bits, [0.1, 0.2, 0.3, 0.4, 0.5], 0.97) == math.inf
    # order of the sweep does not matter
    assert collapse_threshold([4, 1, 0.5, 3, 2], [0.96, 0.93, 0.6, 0.95, 0.93], 0.97) == 1
    with pytest.raises(ValueError, match="repeats the precision 1"):
        collapse_threshold([1, 1], [0.5, 0.5], 0.6)
    with pytest.raises(ValueError, match="one value per precision"):
        collapse_threshold([1, 2], [0.5], 0.6)


def test_collapse_threshold_interval():
    bits = [0.5, 1, 2, 3, 4]
    sharp = collapse_threshold_interval(bits, [0.2, 0.3, 0.96, 0.97, 0.97], 0.97, 10000,
                                        n_bootstrap=500, seed=1)
    assert sharp.threshold == sharp.ci_low == sharp.ci_high == 2
    assert sharp.distribution == {2.0: 1.0} and not sharp.at_coarsest
    # right at the tolerance edge with few test points: the interval spans neighbours
    edge = collapse_threshold_interval(bits, [0.2, 0.92, 0.93, 0.97, 0.97], 0.97, 200,
                                       n_bootstrap=2000, seed=1)
    assert edge.ci_low <= edge.threshold <= edge.ci_high and edge.ci_low < edge.ci_high
    assert sum(edge.distribution.values()) == pytest.approx(1.0)
    flat = collapse_threshold_interval(bits, [0.97] * 5, 0.97, 1000, n_bootstrap=200)
    assert flat.at_coarsest and flat.describe().startswith("<= 0.5")
    never = collapse_threshold_interval(bits, [0.1] * 5, 0.97, 1000, n_bootstrap=200)
    assert never.describe().startswith("not reached")
    with pytest.raises(ValueError, match="n_test"):
        collapse_threshold_interval(bits, [0.9] * 5, 0.97, 0)
