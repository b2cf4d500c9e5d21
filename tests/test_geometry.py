"""Intrinsic dimension estimators on manifolds of known dimension."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.measure.geometry import DuplicatePointsWarning, mle_dimension, twonn_dimension


def embed(points, ambient_dim, seed=0):
    """Map points isometrically into R^ambient_dim by a random orthonormal frame."""
    rng = np.random.default_rng(seed)
    frame, _ = np.linalg.qr(rng.standard_normal((ambient_dim, points.shape[1])))
    return points @ frame.T


def swiss_roll(n, seed=0):
    from sklearn.datasets import make_swiss_roll

    return make_swiss_roll(n, random_state=seed)[0]


rng0 = np.random.default_rng(0)
MANIFOLDS = {
    # name: (points, true dimension, tolerance for MLE, tolerance for TwoNN)
    "segment in R^10": (embed(rng0.random((1000, 1)), 10), 1, 0.1, 0.2),
    "square in R^10": (embed(rng0.random((1000, 2)), 10, seed=1), 2, 0.15, 0.3),
    "swiss roll": (swiss_roll(1500), 2, 0.15, 0.3),
    "gaussian 5-d in R^20": (embed(rng0.standard_normal((2000, 5)), 20, seed=2), 5, 0.4, 0.6),
}


@pytest.mark.parametrize("name", sorted(MANIFOLDS))
def test_mle_recovers_known_dimension(name):
    points, dim, tol, _ = MANIFOLDS[name]
    result = mle_dimension(points, n_bootstrap=100)
    assert result.estimate == pytest.approx(dim, abs=tol)
    assert result.ci_low <= result.estimate <= result.ci_high
    assert 0 < result.std < 0.2 * dim
    assert len(result.per_k) == 11 and result.method == "mle-inverse"
    direct = mle_dimension(points, averaging="direct", n_bootstrap=0)
    assert direct.estimate == pytest.approx(dim, abs=tol + 0.1 * dim)
    assert direct.estimate >= result.estimate  # mean of m >= 1 / mean of 1/m (Jensen)


@pytest.mark.parametrize("name", sorted(MANIFOLDS))
@pytest.mark.parametrize("method", ["mle", "fit"])
def test_twonn_recovers_known_dimension(name, method):
    points, dim, _, tol = MANIFOLDS[name]
    result = twonn_dimension(points, method=method, n_bootstrap=100)
    assert result.estimate == pytest.approx(dim, abs=tol)
    assert result.ci_low <= result.estimate <= result.ci_high
    assert result.method == f"twonn-{method}"


def test_error_bars_are_seeded():
    points = MANIFOLDS["square in R^10"][0]
    assert mle_dimension(points, seed=5) == mle_dimension(points, seed=5)
    assert twonn_dimension(points, seed=5) == twonn_dimension(points, seed=5)
    assert twonn_dimension(points, seed=5).std != twonn_dimension(points, seed=6).std


def test_duplicates_dropped_with_warning_or_rejected():
    points = MANIFOLDS["square in R^10"][0][:300]
    doubled = np.vstack([points, points[:50]])
    with pytest.warns(DuplicatePointsWarning, match="50 of 350"):
        result = mle_dimension(doubled, n_bootstrap=0)
    assert result.n_duplicates == 50 and result.n_points == 300
    assert result.estimate == mle_dimension(points, n_bootstrap=0).estimate
    with pytest.warns(DuplicatePointsWarning):
        assert twonn_dimension(doubled, n_bootstrap=0).n_points == 300
    with pytest.raises(ValueError, match="duplicates"):
        twonn_dimension(doubled, duplicates="error")
    with pytest.raises(ValueError, match="duplicates must be"):
        mle_dimension(points, duplicates="keep")


def test_argument_errors():
    points = MANIFOLDS["segment in R^10"][0]
    with pytest.raises(ValueError, match="k1 <= k2"):
        mle_dimension(points, k1=12, k2=5)
    with pytest.raises(ValueError, match="k1 must"):
        mle_dimension(points, k1=1)
    with pytest.raises(ValueError, match="at least 21 distinct"):
        mle_dimension(points[:15])
    with pytest.raises(ValueError, match="averaging"):
        mle_dimension(points, averaging="median")
    with pytest.raises(ValueError, match="method"):
        twonn_dimension(points, method="ratio")
    nan_points = points.copy()
    nan_points[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        twonn_dimension(nan_points)


def test_format_for_glue():
    result = twonn_dimension(MANIFOLDS["segment in R^10"][0], n_bootstrap=50)
    text = f"{result:.1f}"
    assert text.startswith("1.0 (95% CI") and " to " in text


@pytest.mark.parametrize("metric", ["euclidean", "chebyshev"])
def test_nearest_neighbour_distances_match_brute_force(metric):
    from scipy.spatial.distance import cdist

    from helpers.measure.geometry import nearest_neighbour_distances

    points = np.random.default_rng(3).random((200, 5))
    pairwise = cdist(points, points, metric=metric)
    np.fill_diagonal(pairwise, np.inf)
    np.testing.assert_allclose(nearest_neighbour_distances(points, metric=metric),
                               pairwise.min(axis=1))


def test_nearest_neighbour_distances_of_duplicates_are_zero_and_bad_input_is_named():
    from helpers.measure.geometry import nearest_neighbour_distances

    points = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    assert nearest_neighbour_distances(points).tolist()[:2] == [0.0, 0.0]
    with pytest.raises(ValueError, match="at least 2 points"):
        nearest_neighbour_distances(points[:1])
    with pytest.raises(ValueError, match="metric"):
        nearest_neighbour_distances(points, metric="cosine")
    with pytest.raises(ValueError, match="NaN"):
        nearest_neighbour_distances(np.array([[0.0, np.nan], [1.0, 1.0]]))


def test_spectrum_dimensions_count_equal_directions():
    from helpers.measure.geometry import spectrum_dimensions

    rng = np.random.default_rng(0)
    flat = np.zeros((4000, 12))
    flat[:, :5] = rng.standard_normal((4000, 5))  # five equal directions, seven empty
    rotation, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    measured = spectrum_dimensions(flat @ rotation)
    assert measured.effective_rank == pytest.approx(5, rel=0.02)
    assert measured.participation_ratio == pytest.approx(5, rel=0.03)
    assert measured.components_90 == 5
    skewed = flat * np.array([10.0, 1, 1, 1, 1] + [0.0] * 7)
    lopsided = spectrum_dimensions(skewed)
    assert lopsided.participation_ratio < 1.2 < lopsided.effective_rank < 5
    with pytest.raises(ValueError, match="do not vary"):
        spectrum_dimensions(np.ones((5, 3)))
