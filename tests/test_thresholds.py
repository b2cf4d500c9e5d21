"""Thresholds: the elbow rule on curves with known breakpoints, and the ±2-bit verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.book.prose import quantile_text, span_text, verdict_counts_text
from helpers.measure.stats import ThresholdEstimate, collapse_threshold_interval
from helpers.measure.thresholds import (
    elbow_bits,
    observed_collapse,
    threshold_comparison,
)


@pytest.mark.parametrize("knee", [1.0, 2.5, 4.25])
def test_elbow_of_a_saturating_line_is_its_knee(knee):
    bits = np.arange(0, 8.01, 0.25)
    capacity = 3.0 * np.minimum(bits, knee)  # rises with slope 3, then flat
    assert elbow_bits(bits, capacity, candidates=2000) == pytest.approx(knee, abs=0.01)


def test_elbow_is_order_independent_and_handles_two_slopes():
    bits = np.linspace(-2, 6, 33)
    capacity = np.where(bits < 1.5, 0.5 * bits, 0.75 + 4 * (bits - 1.5))
    order = np.random.default_rng(0).permutation(bits.size)
    assert elbow_bits(bits[order], capacity[order], candidates=1601) == pytest.approx(1.5,
                                                                                      abs=0.01)


def test_elbow_of_a_smooth_saturating_curve_sits_in_the_bend():
    bits = np.linspace(0, 10, 41)
    capacity = 10 * np.log2(1 + 2.0 ** bits) - 10 * np.log2(1 + 2.0 ** (bits - 5))
    elbow = elbow_bits(bits, capacity)
    assert 3.5 < elbow < 6.5


def test_straight_line_has_no_elbow():
    bits = np.arange(8.0)
    assert np.isnan(elbow_bits(bits, 2 * bits + 1))


def test_elbow_errors():
    with pytest.raises(ValueError, match="at least four"):
        elbow_bits([1, 2, 3], [0, 1, 2])
    with pytest.raises(ValueError, match="one value per precision"):
        elbow_bits([1, 2, 3, 4], [0, 1, 2])
    with pytest.raises(ValueError, match="finite"):
        elbow_bits([1, 2, 3, 4], [0, 1, np.nan, 2])
    with pytest.raises(ValueError, match="repeats the precision 2"):
        elbow_bits([1, 2, 2, 4], [0, 1, 1, 2])


def _observed(threshold, low, high, *, coarsest=0.25):
    return ThresholdEstimate(threshold=threshold, ci_low=low, ci_high=high,
                             at_coarsest=threshold == coarsest, coarsest_bits=coarsest,
                             tolerance=0.05, confidence=0.95, n_bootstrap=100, distribution={})


def test_comparison_holds_fails_and_undecided():
    observed = _observed(2.0, 1.5, 3.0)
    held = threshold_comparison(2.5, (2.0, 3.0), observed)
    assert held.verdict == "holds" and held.error == pytest.approx(0.5)
    assert (held.error_low, held.error_high) == pytest.approx((-1.0, 1.5))
    failed = threshold_comparison(7.0, (6.5, 8.0), observed)
    assert failed.verdict == "fails" and "above" in failed.reason
    below = threshold_comparison(-3.0, (-3.5, -2.5), observed)
    assert below.verdict == "fails" and "below" in below.reason
    unsure = threshold_comparison(4.0, (3.0, 5.5), observed)
    assert unsure.verdict == "undecided"


def test_censored_observation_only_bounds_the_error_from_one_side():
    observed = _observed(0.25, 0.25, 0.5)  # within tolerance already at the coarsest p
    assert observed.at_coarsest
    # a prediction far above the coarsest precision fails whatever lies below it
    assert threshold_comparison(4.0, (3.5, 4.5), observed).verdict == "fails"
    # a prediction near or below cannot be decided: the true threshold may be far lower
    near = threshold_comparison(0.5, (0.0, 1.0), observed)
    assert near.verdict == "undecided" and "censored" in near.reason
    assert np.isinf(near.error_high) and np.isinf(near.observed_low)


def test_comparison_cannot_be_tested():
    observed = _observed(2.0, 1.5, 3.0)
    flat = threshold_comparison(-np.inf, (-np.inf, -np.inf), observed)
    assert flat.verdict == "cannot be tested" and "zero curvature" in flat.reason
    never = _observed(np.inf, np.inf, np.inf)
    assert threshold_comparison(1.0, (0.5, 1.5), never).verdict == "cannot be tested"


def test_comparison_with_a_real_threshold_estimate():
    bits = [0.5, 1, 2, 3, 4]
    accuracy = [0.30, 0.60, 0.93, 0.95, 0.95]
    observed = collapse_threshold_interval(bits, accuracy, 0.95, 2000, n_bootstrap=200)
    assert observed.threshold == 2
    assert threshold_comparison(2.4, (2.1, 2.9), observed).verdict == "holds"


def test_comparison_errors():
    observed = _observed(2.0, 1.5, 3.0)
    with pytest.raises(ValueError, match="low <= high"):
        threshold_comparison(1.0, (2.0, 1.0), observed)
    with pytest.raises(ValueError, match="ThresholdEstimate"):
        threshold_comparison(1.0, (0.5, 1.5), 2.0)
    with pytest.raises(ValueError, match="number"):
        threshold_comparison(np.nan, (0.5, 1.5), observed)


def test_count_verdicts():
    text = verdict_counts_text(["holds", "fails", "fails", "undecided"])
    assert text == "holds for 1, fails for 2 and is undecided for 1 of 4 models"
    assert verdict_counts_text(["fails"]) == "fails for 1 of 1 models"


def test_span_text():
    assert span_text([1.0, 2.5]) == "1 to 2.5"
    assert span_text([0.123, 0.124], ".2f") == "0.12"
    assert span_text([-0.0, 0.0]) == "0"
    assert span_text([], empty="not measured") == "not measured"


def test_quantile_text_names_percentiles_as_prose_does():
    assert quantile_text(0.9) == "90th percentile"
    assert quantile_text(0.99) == "99th percentile"
    assert quantile_text(0.5) == "median"
    assert quantile_text(0.925) == "92.5th percentile"
    with pytest.raises(ValueError):
        quantile_text(1.0)


def _cluster_sample(low, high, spread, seed=0):
    from helpers.measure.quantize import fit_unit_cube
    from helpers.nets.suite import NormalizedSample

    rng = np.random.default_rng(seed)
    centres = np.array([[low, low], [high, high], [low, high], [high, low]])

    def draw(n):
        y = rng.integers(0, 4, n)
        return centres[y] + spread * rng.standard_normal((n, 2)), y

    train, train_y = draw(400)
    test, test_y = draw(400)
    train = np.vstack([train, [[0.0, 0.0], [1.0, 1.0]]])  # pin the unit cube to [0, 1]
    train_y = np.concatenate([train_y, [0, 1]])
    scaler = fit_unit_cube(train)
    return NormalizedSample(scaler, scaler.transform(train), train_y, np.arange(402),
                            scaler.transform(test), test_y, np.arange(400))


def test_observed_collapse_far_apart_clusters_never_collapse():
    sample = _cluster_sample(0.1, 0.9, 0.03)
    curve, estimate = observed_collapse(sample, [0.25, 1, 2, 4], n_bootstrap=200)
    assert curve.bits[0] is None and len(curve.results) == 5
    assert curve.full_precision().accuracy > 0.99
    assert estimate.threshold == 0.25 and estimate.at_coarsest


def test_observed_collapse_close_clusters_need_fine_grids():
    # centres 0.45 and 0.55: at 1 bit (grid 0, 0.5, 1) both round to 0.5
    sample = _cluster_sample(0.45, 0.55, 0.01)
    curve, estimate = observed_collapse(sample, [0.25, 1, 2, 4, 6], n_bootstrap=200)
    assert curve.results[2].accuracy < 0.5
    assert estimate.threshold >= 4 and not estimate.at_coarsest


def test_join_words_lists_phrases_as_a_sentence_does():
    from helpers.book.prose import join_words

    assert join_words(["a"]) == "a"
    assert join_words(["a", "b"]) == "a and b"
    assert join_words(["a", "b", "c"]) == "a, b and c"
    with pytest.raises(ValueError, match="at least one phrase"):
        join_words([])
