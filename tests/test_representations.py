"""The small learned representation of chapter 1, and the plotting reference lines."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers.book import plotting
from helpers.data import load_dataset
from helpers.nets.representations import mlp_representation


def test_mlp_representation_is_a_deterministic_hidden_layer():
    splits = load_dataset("digits", n_train=300, n_test=100)
    first = mlp_representation(splits, width=16, seed=1, max_iter=300)
    second = mlp_representation(splits, width=16, seed=1, max_iter=300)
    assert first.train.shape == (300, 16) and first.test.shape == (100, 16)
    assert (first.train >= 0).all()  # ReLU units
    np.testing.assert_array_equal(first.test, second.test)
    assert first.test_accuracy > 0.7  # well above the 0.1 of chance on ten classes
    assert "digits" in first.description


def test_mlp_representation_rejects_text_and_bad_width():
    with pytest.raises(ValueError, match="holds text"):
        mlp_representation(load_dataset("topics", n_train=20, n_test=10))
    with pytest.raises(ValueError, match="width"):
        mlp_representation(load_dataset("digits", n_train=50, n_test=20), width=0)


def test_reference_lines_sit_where_the_definitions_put_them():
    assert plotting.bits_for_scale(0.25) == 2.0
    with pytest.raises(ValueError, match="scale"):
        plotting.bits_for_scale(0.0)
    figure, ax = plt.subplots()
    assert plotting.draw_sample_ceiling(ax, 1024) == 10.0
    with pytest.raises(ValueError, match="n_samples"):
        plotting.draw_sample_ceiling(ax, 0)
    plt.close(figure)


def test_probe_accuracy_is_drawn_without_the_full_precision_point():
    from helpers.measure.probes import ProbeCurve, ProbeResult

    def result(bits, accuracy):
        return ProbeResult(accuracy, accuracy - 0.1, accuracy + 0.1, train_accuracy=accuracy,
                           n_train=10, n_test=10, n_features=2, n_classes=2, confidence=0.95,
                           n_bootstrap=0, C=1.0, converged=True, n_iter=1, seconds=0.0,
                           bits=bits)

    curve = ProbeCurve(bits=[None, 1, 2], results=[result(None, 0.9), result(1, 0.5),
                                                    result(2, 0.85)])
    figure, ax = plt.subplots()
    assert plotting.draw_probe_accuracy(ax, curve, tolerance=0.05) == [1, 2]
    line, collapse = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [0.5, 0.85])
    np.testing.assert_allclose(collapse.get_ydata(), [0.85, 0.85])
    assert collapse.get_label() == "full precision − 5 points"
    plt.close(figure)


def test_ecdf_rises_from_zero_to_one_over_the_finite_values():
    figure, ax = plt.subplots()
    drawn = plotting.draw_ecdf(ax, [3.0, np.nan, 1.0, 2.0], label="sample")
    assert drawn.tolist() == [1.0, 2.0, 3.0]
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [0.0, 0.5, 1.0])
    assert plotting.draw_ecdf(ax, [np.inf]).size == 0 and len(ax.get_lines()) == 1
    plt.close(figure)
