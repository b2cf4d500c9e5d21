"""Linear probes: accuracy on separable and on shuffled data, bootstrap intervals, sweeps."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.measure.probes import bootstrap_interval, probe_accuracy, probe_curve


def blobs(n_per_class=100, n_classes=4, dim=16, spread=0.3, seed=0):
    """Gaussian blobs around well-separated centres; returns train and test parts."""
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.standard_normal((n_classes, dim))
    y = np.repeat(np.arange(n_classes), n_per_class)
    z = centres[y] + spread * rng.standard_normal((len(y), dim))
    order = rng.permutation(len(y))
    z, y = z[order], y[order]
    half = len(y) // 2
    return z[:half], y[:half], z[half:], y[half:]


def fine_structure(n=600, seed=4):
    """Four classes 1 apart (noise 0.15) beside a nuisance coordinate spanning 0..20.

    One global min/max maps the whole set into the unit cube, so the classes sit within
    1/20 of it: coarse grids merge them, fine ones keep them apart.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    centres = np.eye(4)
    z = np.hstack([centres[y] + 0.15 * rng.standard_normal((n, 4)), 20 * rng.random((n, 1))])
    half = n // 2
    return z[:half], y[:half], z[half:], y[half:]


def unit_cube_quantizer(train_z, test_z, bits):
    low, high = train_z.min(), train_z.max()
    step = 2.0 ** -bits

    def grid(z):
        return np.round(np.clip((z - low) / (high - low), 0, 1) / step) * step

    return grid(train_z), grid(test_z)


def test_separable_data_is_probed_near_perfectly():
    result = probe_accuracy(*blobs(), n_bootstrap=500, seed=1)
    assert result.accuracy >= 0.98
    assert result.ci_low <= result.accuracy <= result.ci_high <= 1.0
    assert result.n_train == result.n_test == 200 and result.n_features == 16
    assert result.n_classes == 4 and result.converged


def test_shuffled_labels_are_probed_near_chance():
    train_z, train_y, test_z, test_y = blobs(n_per_class=250, seed=2)
    rng = np.random.default_rng(0)
    result = probe_accuracy(train_z, rng.permutation(train_y), test_z, rng.permutation(test_y))
    assert abs(result.accuracy - 0.25) < 0.07
    assert result.ci_low < 0.25 + 0.07 and result.ci_high > 0.25 - 0.07


def test_bootstrap_interval_is_seeded_and_shrinks_with_n():
    assert bootstrap_interval(80, 100, seed=3) == bootstrap_interval(80, 100, seed=3)
    small = bootstrap_interval(80, 100, seed=0)
    large = bootstrap_interval(8000, 10000, seed=0)
    assert small[1] - small[0] > 3 * (large[1] - large[0])
    assert small[0] < 0.8 < small[1]
    # the binomial shortcut matches resampling the correctness vector itself
    rng = np.random.default_rng(0)
    correct = np.zeros(100, bool)
    correct[:80] = True
    resampled = correct[rng.integers(0, 100, (4000, 100))].mean(axis=1)
    assert np.percentile(resampled, 2.5) == pytest.approx(small[0], abs=0.02)
    assert np.percentile(resampled, 97.5) == pytest.approx(small[1], abs=0.02)
    assert bootstrap_interval(5, 10, n_bootstrap=0) == (0.5, 0.5)


def test_probe_input_errors():
    train_z, train_y, test_z, test_y = blobs(n_per_class=10)
    with pytest.raises(ValueError, match="must match"):
        probe_accuracy(train_z, train_y[:-1], test_z, test_y)
    with pytest.raises(ValueError, match="must match"):
        probe_accuracy(train_z, train_y, test_z[:-2], test_y)
    with pytest.raises(ValueError, match="features"):
        probe_accuracy(train_z, train_y, test_z[:, :3], test_y)
    nan_z = train_z.copy()
    nan_z[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        probe_accuracy(nan_z, train_y, test_z, test_y)
    with pytest.raises(ValueError, match="single class"):
        probe_accuracy(train_z, np.zeros_like(train_y), test_z, test_y)
    with pytest.raises(ValueError, match="integer"):
        probe_accuracy(train_z, train_y + 0.5, test_z, test_y)
    with pytest.raises(ValueError, match="1-D"):
        probe_accuracy(train_z, train_y[:, None], test_z, test_y)
    with pytest.raises(ValueError, match="C must"):
        probe_accuracy(train_z, train_y, test_z, test_y, C=0)


def test_probe_curve_over_bits():
    data = fine_structure()
    bits = [None, 0.5, 1, 2, 4, 8]
    calls = []

    def quantizer(train_z, test_z, b):
        calls.append(b)
        return unit_cube_quantizer(train_z, test_z, b)

    curve = probe_curve(*data, bits, quantizer=quantizer, n_bootstrap=200)
    assert calls == [0.5, 1, 2, 4, 8]
    assert curve.bits == bits and len(curve.results) == 6
    assert [r.bits for r in curve.results] == [None, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert curve.full_precision() is curve.results[0]
    accuracy = curve.accuracy
    assert accuracy[-1] == pytest.approx(accuracy[0], abs=0.02)  # 8 bits ~ full precision
    assert accuracy[0] > 0.95
    assert accuracy[1] < 0.4  # half a bit merges the classes (chance is 0.25)
    assert np.all(curve.ci_low <= accuracy) and np.all(accuracy <= curve.ci_high)
    rows = curve.as_rows()
    assert rows[2]["bits"] == 1.0 and set(rows[0]) >= {"accuracy", "ci_low", "ci_high"}
    warm = probe_curve(*data, bits, quantizer=unit_cube_quantizer, n_bootstrap=0,
                       warm_start=True)
    np.testing.assert_allclose(warm.accuracy, accuracy, atol=0.03)


def test_probe_curve_errors():
    data = blobs(n_per_class=10)
    with pytest.raises(ValueError, match="shapes"):
        probe_curve(*data, [2], quantizer=lambda a, b, bits: (a[:, :2], b[:, :2]))
    with pytest.raises(ValueError, match="sequence"):
        probe_curve(*data, 4, quantizer=unit_cube_quantizer)
    with pytest.raises(ValueError, match="empty"):
        probe_curve(*data, [], quantizer=unit_cube_quantizer)
    only_full = probe_curve(*data, [None])
    assert only_full.results[0].bits is None


def test_probe_curve_default_quantizer_is_the_books():
    quantize_module = pytest.importorskip("helpers.measure.quantize")
    data = fine_structure(n=200)

    def books(train_z, test_z, bits):
        scaler = quantize_module.fit_unit_cube(train_z)
        return (quantize_module.quantize(scaler.transform(train_z), bits),
                quantize_module.quantize(scaler.transform(test_z), bits))

    default = probe_curve(*data, [1, 3], n_bootstrap=0)
    explicit = probe_curve(*data, [1, 3], quantizer=books, n_bootstrap=0)
    np.testing.assert_array_equal(default.accuracy, explicit.accuracy)


def test_precision_dimension_map_matches_a_plain_pca_then_probe():
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from helpers.measure.probes import precision_dimension_map
    from helpers.measure.quantize import fit_unit_cube, quantize

    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 300)
    z = rng.normal(size=(300, 6)) + np.eye(6)[y] * 3
    ks, grid = precision_dimension_map(z[:200], y[:200], z[200:], y[200:], [2, 4, 50], [1, 3])
    assert ks == [2, 4] and grid.shape == (2, 3)  # 50 components do not fit 6 coordinates
    for i, k in enumerate(ks):
        pca = PCA(n_components=k, random_state=0).fit(z[:200])
        train, test = pca.transform(z[:200]), pca.transform(z[200:])
        scaler = fit_unit_cube(train)
        for j, p in enumerate([1, 3, None]):
            a, b = ((train, test) if p is None else
                    (quantize(scaler.transform(train), p), quantize(scaler.transform(test), p)))
            standard = StandardScaler().fit(a)
            model = LogisticRegression(max_iter=200).fit(standard.transform(a), y[:200])
            expected = np.mean(model.predict(standard.transform(b)) == y[200:])
            assert grid[i, j] == pytest.approx(expected)
    with pytest.raises(ValueError, match="no number of components"):
        precision_dimension_map(z[:200], y[:200], z[200:], y[200:], [10], [1])


def test_budget_rows_pick_the_best_affordable_cell():
    from helpers.measure.probes import budget_rows

    ks, bits = [2, 8], [1.0, 4.0]
    grid = np.array([[0.5, 0.6, 0.62],   # k = 2 at p = 1, 4, full
                     [0.7, 0.9, 0.91]])  # k = 8
    rows = budget_rows("net", ks, grid, bits)
    # storage is k * log2(2^p + 1): 3.17, 8.17, 12.68 and 32.70 bits for the four pairs
    assert [row["budget [bits]"] for row in rows] == [4, 8, 16, 32, 64]
    by_budget = {row["budget [bits]"]: row for row in rows}
    assert (by_budget[4]["k"], by_budget[4]["p"]) == (2, 1.0)  # only k = 2, p = 1 fits
    assert by_budget[4]["code bits"] == pytest.approx(2 * np.log2(3), abs=0.01)
    # k = 8 at p = 1 costs 12.68 bits: with k * p it would have fitted in 8
    assert (by_budget[8]["k"], by_budget[8]["p"]) == (2, 1.0)
    assert (by_budget[16]["k"], by_budget[16]["p"]) == (8, 1.0)  # 0.7 beats 0.6 (k=2, p=4)
    assert by_budget[32]["best accuracy"] == 0.7  # k = 8, p = 4 costs 32.70 > 32
    assert by_budget[64]["best accuracy"] == 0.9
    assert all(row["code bits"] <= row["budget [bits]"] for row in rows)


def test_narrow_components_counts_components_of_small_span():
    from helpers.measure.probes import narrow_components

    rng = np.random.default_rng(0)
    # four independent directions with spreads 10, 6, 1 and 0.2: after one global scaling
    # (the widest span fills the cube) the spans are about 1, 0.6, 0.1 and 0.02
    Z = rng.uniform(-0.5, 0.5, size=(2000, 4)) * np.array([10.0, 6.0, 1.0, 0.2])
    assert narrow_components(Z, 4) == 2
    assert narrow_components(Z, 2) == 0
    assert narrow_components(Z, 4, span=0.05) == 1
    with pytest.raises(ValueError, match="k must be an integer"):
        narrow_components(Z, 5)
    with pytest.raises(ValueError, match="span is a share"):
        narrow_components(Z, 2, span=0.0)
