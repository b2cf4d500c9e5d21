"""Entropy estimators on distributions with known entropy, and the sample ceiling."""

import numpy as np
import pytest

from helpers import information


def test_plugin_entropy_of_uniform_counts_is_log2_k():
    assert information.plugin_entropy_bits(np.full(8, 5)) == pytest.approx(3.0)
    assert information.plugin_entropy_bits(np.array([10])) == 0.0


def test_plugin_entropy_of_a_known_distribution():
    counts = np.array([50, 25, 25])
    assert information.plugin_entropy_bits(counts) == pytest.approx(1.5)


def test_miller_madow_reduces_the_bias_on_average():
    rng = np.random.default_rng(0)
    truth = np.log2(32)
    plugin, corrected = [], []
    for _ in range(200):
        sample = rng.integers(0, 32, size=100)
        counts = np.bincount(sample)
        plugin.append(information.plugin_entropy_bits(counts))
        corrected.append(information.miller_madow_entropy_bits(counts))
    assert np.mean(plugin) < truth
    assert abs(np.mean(corrected) - truth) < abs(np.mean(plugin) - truth) / 3


def test_estimates_never_exceed_the_sample_ceiling():
    counts = np.ones(1000, dtype=int)  # every code seen once
    ceiling = information.sample_ceiling_bits(1000)
    assert information.plugin_entropy_bits(counts) == pytest.approx(ceiling)
    assert information.singleton_fraction(counts) == 1.0


def test_zero_counts_are_ignored():
    assert information.plugin_entropy_bits(np.array([0, 4, 4, 0])) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [[], [[1, 2]], [1.5, 2.0], [-1, 3], [0, 0]])
def test_bad_counts_are_rejected(bad):
    with pytest.raises(ValueError, match="counts"):
        information.plugin_entropy_bits(np.array(bad))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_ceiling_needs_a_positive_sample_size(bad):
    with pytest.raises(ValueError, match="n_samples"):
        information.sample_ceiling_bits(bad)
