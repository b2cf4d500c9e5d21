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
