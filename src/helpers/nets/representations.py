"""A small learned representation that needs no deep-learning stack.

Introduced in the chapter "Numerical entropy" (``notebooks/01_numerical_entropy``), which
needs one real, learned representation to test the grid-cell sandwich on, and trains it in
seconds on the embedded digits. The chapter "Precision lower bound" trains the proposal's
torch models (see :mod:`helpers.nets.models` and :mod:`helpers.nets.train`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from helpers._validation import check_count, check_points


@dataclass(frozen=True)
class LearnedRepresentation:
    """Hidden-layer activations of a trained classifier, for a train and a test split.

    Attributes
    ----------
    train, test : numpy.ndarray, shape (n, width)
        Representations of the two splits.
    train_labels, test_labels : numpy.ndarray of int
    test_accuracy : float
        Accuracy of the classifier itself on the test split.
    description : str
        What model produced the representation, on what data.
    """

    train: np.ndarray
    test: np.ndarray
    train_labels: np.ndarray
    test_labels: np.ndarray
    test_accuracy: float
    description: str


def mlp_representation(splits, *, width: int = 64, seed: int = 0, max_iter: int = 300):
    """Train a one-hidden-layer ReLU network and return its hidden layer as the representation.

    Parameters
    ----------
    splits : helpers.data.DatasetSplits
        An image dataset (inputs are flattened to vectors).
    width : int
        Size of the hidden layer, i.e. the representation dimension d.
    seed : int
        Seed of the weight initialization and data shuffling (training is deterministic).
    max_iter : int
        Epoch budget of the optimizer.

    Returns
    -------
    LearnedRepresentation
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    check_count(width, name="width")
    if isinstance(splits.train.inputs, list):
        raise ValueError(
            f"dataset {splits.name!r} holds text; mlp_representation needs images. "
            "Use an image dataset such as 'digits' or 'mnist'."
        )
    train_inputs = check_points(np.reshape(splits.train.inputs, (len(splits.train.labels), -1)),
                                name="train inputs")
    test_inputs = check_points(np.reshape(splits.test.inputs, (len(splits.test.labels), -1)),
                               name="test inputs")
    network = MLPClassifier(hidden_layer_sizes=(width,), activation="relu", alpha=1e-4,
                            max_iter=max_iter, random_state=seed, early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget is the point
        network.fit(train_inputs, splits.train.labels)

    def hidden(inputs):
        return np.maximum(inputs @ network.coefs_[0] + network.intercepts_[0], 0.0)

    accuracy = float(network.score(test_inputs, splits.test.labels))
    description = (
        f"hidden layer ({width} ReLU units) of a one-hidden-layer network trained on "
        f"{len(splits.train.labels)} images of {splits.name!r} ({splits.source})"
    )
    return LearnedRepresentation(
        train=hidden(train_inputs), test=hidden(test_inputs),
        train_labels=np.asarray(splits.train.labels), test_labels=np.asarray(splits.test.labels),
        test_accuracy=accuracy, description=description,
    )
