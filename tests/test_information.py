"""Entropy estimators on distributions with known entropy, and the sample ceiling."""

import numpy as np
import pytest

from helpers.measure import information


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


# =========================================================================== MI comparison
# Estimators of the chapter "MI comparison": every value in bits, with an interval and the
# ceiling it is capped by.

import dataclasses  # noqa: E402
import math  # noqa: E402

from scipy.special import digamma  # noqa: E402


def binary_entropy(p):
    return float(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)))


# --------------------------------------------------------------------------- result type


def test_mi_estimate_formats_flags_its_ceiling_and_is_frozen():
    est = information.MIEstimate(2.312, 2.2, 2.404, 2.35, "plugin", 100)
    assert f"{est}" == "2.31 [2.20, 2.40]"
    assert f"{est:.1f}" == "2.3 [2.2, 2.4]"
    assert est.at_ceiling  # within 0.1 bit
    assert not dataclasses.replace(est, estimate=2.2).at_ceiling
    assert not dataclasses.replace(est, ceiling=math.inf).at_ceiling
    row = dataclasses.replace(est, extras={"k": 3}).as_dict()
    assert row["k"] == 3 and row["at_ceiling"] and "extras" not in row
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.estimate = 0.0


# --------------------------------------------------------------------------- code counts


def test_code_counts_counts_rows_and_labels():
    codes = np.array([[0, 1], [0, 1], [2, 3], [0, 1], [2, 3], [5, 5]])
    assert sorted(information.code_counts(codes).tolist()) == [1, 2, 3]
    assert information.code_counts(np.array([3, 3, 7])).tolist() == [2, 1]
    assert information.code_counts(np.array(["a", "b", "a"])).tolist() == [2, 1]
    assert information.code_counts(np.array([[1.5], [1.5], [0.5]])).tolist() == [1, 2]


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 2, 2)), "1-D .* or 2-D"), (np.zeros((0, 3)), "empty"),
    (np.array([[0.0, np.nan]]), "NaN"), (np.array([1.0, np.inf]), "NaN"),
])
def test_bad_codes_are_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        information.code_counts(bad)


# --------------------------------------------------------------------------- entropies


def test_entropies_of_exactly_uniform_counts():
    m, n = 16, 1600
    est = information.entropy_estimates(np.repeat(np.arange(m), n // m), n_bootstrap=50)
    assert est.plugin.estimate == pytest.approx(4.0, abs=1e-12)
    assert est.miller_madow.estimate == pytest.approx(4.0 + (m - 1) / (2 * n * np.log(2)))
    assert est.chao_shen.estimate == pytest.approx(4.0, abs=1e-9)  # no singletons: C = 1
    assert (est.n, est.n_distinct, est.n_singletons) == (n, m, 0)
    assert est.plugin.ceiling == pytest.approx(np.log2(n))
    for e in est:
        assert e.ci_low <= e.estimate <= e.ci_high


def test_plugin_converges_to_log2_m_on_a_large_uniform_sample():
    codes = np.random.default_rng(0).integers(0, 32, size=(20_000, 1))
    est = information.entropy_estimates(codes)
    assert est.plugin.estimate == pytest.approx(5.0, abs=0.01)
    assert est.miller_madow.estimate == pytest.approx(5.0, abs=0.003)


def test_chao_shen_beats_plugin_on_an_undersampled_uniform():
    truth = np.log2(2000)  # 10.97 bits, n = 1000 samples
    for seed in range(3):
        codes = np.random.default_rng(seed).integers(0, 2000, size=1000)
        est = information.entropy_estimates(codes, n_bootstrap=100, seed=seed)
        assert est.n_singletons > 400
        assert est.chao_shen.estimate >= est.plugin.estimate
        assert abs(est.chao_shen.estimate - truth) < 0.3
        assert abs(est.plugin.estimate - truth) > 1.3  # the plug-in cannot exceed log2 n = 9.97
        assert est.plugin.estimate <= est.plugin.ceiling
        assert est.plugin.extras["bootstrap_bias"] < -0.3  # resamples lose codes


def test_all_singletons_sit_at_the_ceilings():
    est = information.entropy_estimates(np.arange(500), n_bootstrap=50)
    for e in est:
        assert e.estimate == pytest.approx(e.ceiling)
        assert e.at_ceiling
        assert e.ci_high <= e.ceiling + 1e-12


def test_chao_shen_function_matches_the_estimates():
    counts = np.array([5, 1, 1, 2, 1, 7])
    assert information.chao_shen_entropy_bits(counts) > information.plugin_entropy_bits(counts)
    codes = np.repeat(np.arange(6), counts)
    est = information.entropy_estimates(codes, n_bootstrap=0)
    assert est.chao_shen.estimate == pytest.approx(information.chao_shen_entropy_bits(counts))
    assert est.chao_shen.ci_low == est.chao_shen.ci_high == est.chao_shen.estimate


def relabel(codes, rng):
    """A bijection of code rows: shuffle columns, remap each column's values, shuffle rows."""
    columns = rng.permutation(codes.shape[1])
    out = codes[:, columns].copy()
    for j in range(out.shape[1]):
        values = np.unique(out[:, j])
        mapping = dict(zip(values, rng.permutation(1000)[:len(values)] * 7 - 300, strict=True))
        out[:, j] = [mapping[v] for v in out[:, j]]
    return out


def test_estimates_are_invariant_to_relabelling_codes():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 4, size=(800, 3))
    labels = (codes[:, 0] + rng.integers(0, 2, size=800)) % 3
    renamed = relabel(codes, rng)
    order = rng.permutation(800)
    for a, b in zip(information.entropy_estimates(codes),
                    information.entropy_estimates(renamed[order]), strict=True):
        assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
    mi_a = information.mutual_information_discrete(codes, labels)
    mi_b = information.mutual_information_discrete(renamed[order], labels[order] * 10 + 1)
    assert mi_a.estimate == pytest.approx(mi_b.estimate, rel=1e-12)
    assert mi_a.extras["plugin"] == pytest.approx(mi_b.extras["plugin"], rel=1e-12)


# --------------------------------------------------------------------------- discrete MI


def test_mi_of_labels_with_themselves_is_their_entropy():
    y = np.random.default_rng(0).integers(0, 8, size=5000)
    est = information.mutual_information_discrete(y[:, None], y)
    counts = np.bincount(y)
    assert est.extras["plugin"] == pytest.approx(information.plugin_entropy_bits(counts))
    assert est.estimate == pytest.approx(information.miller_madow_entropy_bits(counts))
    assert est.ceiling == pytest.approx(3.0 + 7 / (2 * 5000 * np.log(2)))
    assert est.at_ceiling
    assert est.extras["shuffle_p_value"] == pytest.approx(1 / 51)
    plugin = information.mutual_information_discrete(y, y, correction="plugin")
    assert plugin.ceiling == 3.0 and plugin.method == "discrete-plugin"


def test_independent_codes_and_labels_give_zero_after_shuffle_correction():
    rng = np.random.default_rng(1)
    z, y = rng.integers(0, 50, size=2000), rng.integers(0, 4, size=2000)
    est = information.mutual_information_discrete(z, y, correction="plugin")
    expected_bias = 49 * 3 / (2 * 2000 * np.log(2))  # (K_z - 1)(K_y - 1) / (2 n ln 2)
    assert est.estimate == pytest.approx(expected_bias, rel=0.35)  # plug-in biased upward
    assert est.extras["shuffle_mean"] == pytest.approx(expected_bias, rel=0.1)
    assert abs(est.extras["shuffle_corrected"]) < 0.02
    assert est.extras["shuffle_p_value"] > 0.05


def test_nearly_unique_codes_make_the_plugin_mi_reach_h_y():
    rng = np.random.default_rng(2)
    z, y = rng.standard_normal((1000, 4)), rng.integers(0, 4, size=1000)  # independent
    est = information.mutual_information_discrete(z, y)
    assert est.extras["plugin"] == pytest.approx(est.extras["label_entropy_bits"])
    assert est.estimate >= est.extras["plugin"]  # Miller-Madow does not help
    assert abs(est.extras["shuffle_corrected"]) < 1e-9  # every shuffle gives the same
    assert est.extras["shuffle_p_value"] == 1.0


JOINT = np.array([[0.20, 0.05, 0.00],
                  [0.05, 0.20, 0.05],
                  [0.00, 0.05, 0.15],
                  [0.10, 0.05, 0.10]])


def exact_mi(joint):
    pz, py = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    mask = joint > 0
    return float((joint[mask] * np.log2(joint[mask] / (pz * py)[mask])).sum())


def test_mi_of_a_known_joint_table():
    truth = exact_mi(JOINT)  # 0.373 bits
    cells = np.argwhere(JOINT > 0)
    counts = np.round(JOINT[JOINT > 0] * 2000).astype(int)
    z, y = np.repeat(cells[:, 0], counts), np.repeat(cells[:, 1], counts)
    exact = information.mutual_information_discrete(z, y, correction="plugin")
    assert exact.estimate == pytest.approx(truth, abs=1e-12)
    rng = np.random.default_rng(5)
    draws = rng.choice(JOINT.size, size=20_000, p=JOINT.ravel())
    z, y = np.unravel_index(draws, JOINT.shape)
    codes = np.column_stack([z, z % 2])  # 2-D codes with many ties
    est = information.mutual_information_discrete(codes, y)
    assert est.estimate == pytest.approx(truth, abs=0.01)
    assert est.ci_low < truth < est.ci_high
    assert est.ceiling == pytest.approx(np.log2(3) + 2 / (2 * 20_000 * np.log(2)))
    assert (est.extras["n_distinct"], est.extras["n_classes"], est.extras["n_cells"]) == (4, 3, 10)


@pytest.mark.parametrize("kwargs, match", [
    ({"labels": np.zeros(10)}, "single class"),
    ({"labels": np.arange(9)}, "match"),
    ({"labels": np.zeros((10, 1, 1))}, "1-D .* or 2-D"),
    ({"labels": np.arange(10), "correction": "jackknife"}, "correction"),
    ({"labels": np.arange(10), "n_bootstrap": -1}, "n_bootstrap"),
])
def test_discrete_mi_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        information.mutual_information_discrete(np.arange(10), **kwargs)


# --------------------------------------------------------------------------- Fano


@pytest.mark.parametrize("k", [2, 4, 10])
def test_fano_edge_cases(k):
    assert information.fano_error_lower_bound(np.log2(k), k) == 0.0
    assert information.fano_error_lower_bound(0.0, k) == pytest.approx(1 - 1 / k, abs=1e-12)
    assert information.fano_error_lower_bound(-0.3, k) == pytest.approx(1 - 1 / k, abs=1e-12)
    assert information.fano_error_lower_bound(np.log2(k) + 1, k) == 0.0


def test_fano_bound_is_monotone_and_vectorized():
    mi = np.linspace(0, np.log2(10), 50)
    bound = information.fano_error_lower_bound(mi, 10)
    assert bound.shape == (50,)
    assert np.all(np.diff(bound) < 0)
    assert isinstance(information.fano_error_lower_bound(1.0, 10), float)


@pytest.mark.parametrize("k, p", [(2, 0.1), (2, 0.3), (4, 0.2), (10, 0.45)])
def test_fano_is_tight_for_the_symmetric_channel(k, p):
    # Y uniform; Z = Y with probability 1 - p, else one of the other K - 1 classes.
    mi = np.log2(k) - binary_entropy(p) - p * np.log2(k - 1)
    assert information.fano_error_lower_bound(mi, k) == pytest.approx(p, abs=1e-9)


def test_fano_bound_holds_for_an_observed_classifier():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=20_000)
    z = np.where(rng.random(20_000) < 0.15, 1 - y, y)  # binary symmetric channel
    est = information.mutual_information_discrete(z, y)
    bound = information.fano_error_lower_bound(est.estimate, 2)
    assert bound == pytest.approx(0.15, abs=0.01)
    assert bound <= np.mean(z != y) + 0.01


def test_fano_with_unbalanced_labels():
    h = 0.5  # H(Y) = 0.5 bit, I = 0: P_e solves h(P_e) = 0.5
    bound = information.fano_error_lower_bound(0.0, 2, label_entropy_bits=h)
    assert binary_entropy(bound) == pytest.approx(h)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_classes": 1}, "n_classes"), ({"n_classes": 2.5}, "n_classes"),
    ({"n_classes": 4, "mi_bits": np.nan}, "NaN"),
    ({"n_classes": 4, "label_entropy_bits": 2.5}, "label_entropy_bits"),
])
def test_fano_rejects_bad_input(kwargs, match):
    kwargs = {"mi_bits": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        information.fano_error_lower_bound(**kwargs)


# --------------------------------------------------------------------------- ground truth


def test_gaussian_ground_truth():
    assert information.gaussian_mi_bits(0.9) == pytest.approx(1.198, abs=1e-3)
    assert information.gaussian_mi_bits(0.9, dims=4) == pytest.approx(4 * 1.19796, abs=1e-4)
    assert information.gaussian_mi_bits([0.5, 0.9]) == pytest.approx(0.2075 + 1.198, abs=1e-3)
    assert information.gaussian_mi_bits(0.0) == 0.0
    x, y = information.correlated_gaussians(50_000, 0.6, dims=3, seed=1)
    assert x.shape == y.shape == (50_000, 3)
    corr = [np.corrcoef(x[:, j], y[:, j])[0, 1] for j in range(3)]
    assert corr == pytest.approx([0.6] * 3, abs=0.01)
    assert abs(np.corrcoef(x[:, 0], y[:, 1])[0, 1]) < 0.02
    with pytest.raises(ValueError, match="strictly between"):
        information.gaussian_mi_bits(1.0)


def test_student_t_ground_truth():
    assert information.student_t_mi_bits(0.9, df=1e7) == pytest.approx(
        information.gaussian_mi_bits(0.9), abs=1e-5)
    assert information.student_t_mi_bits(0.0, df=3) == pytest.approx(0.0612, abs=1e-3)
    assert information.student_t_mi_bits(0.9, df=3) > information.gaussian_mi_bits(0.9)
    x, y = information.correlated_student_t(1000, 0.5, df=3, dims=2)
    assert x.shape == (1000, 2) and np.all(np.isfinite(y))
    with pytest.raises(ValueError, match="df"):
        information.student_t_mi_bits(0.5, df=0)


# --------------------------------------------------------------------------- KSG


@pytest.mark.parametrize("dims", [1, 2])
def test_ksg_on_low_dimensional_gaussians(dims):
    truth = information.gaussian_mi_bits(0.9, dims)  # 1.20, 2.40 bits
    x, y = information.correlated_gaussians(2000, 0.9, dims, seed=10 + dims)
    est = information.ksg_mutual_information(x, y)
    assert est.estimate == pytest.approx(truth, abs=0.1)
    assert est.ci_low < est.estimate < est.ci_high
    assert 0.02 < est.ci_high - est.ci_low < 0.4
    assert est.ci_low < truth < est.ci_high
    assert est.extras["n_zero_distance"] == 0 and est.extras["n_tied_columns"] == 0
    assert est.method == "ksg" and est.n == 2000


@pytest.mark.parametrize("dims, low, high", [(8, 0.4, 0.75), (32, 0.05, 0.25)])
def test_ksg_is_biased_down_in_high_dimensions(dims, low, high):
    # Known: at n = 2000, rho = 0.5 per coordinate, KSG reports about 0.9 bit in 8 dims
    # (truth 1.66) and in 32 dims (truth 6.64), but still detects the dependence.
    truth = information.gaussian_mi_bits(0.5, dims)
    x, y = information.correlated_gaussians(2000, 0.5, dims, seed=dims)
    est = information.ksg_mutual_information(x, y, n_repeats=1)
    assert low * truth < est.estimate < high * truth
    assert est.ci_low > 0.3


def test_ksg_is_nearly_invariant_under_monotone_maps():
    x, y = information.correlated_gaussians(2000, 0.9, seed=11)
    base = information.ksg_mutual_information(x, y, n_repeats=0).estimate
    for fx, fy in [(x**3, np.exp(y)), (np.exp(x), y**3), (5 * x + 2, -y)]:
        moved = information.ksg_mutual_information(fx, fy, n_repeats=0).estimate
        assert moved == pytest.approx(base, abs=0.15)


def test_ksg_of_independent_variables_is_near_zero():
    x, y = information.correlated_gaussians(2000, 0.0, dims=2, seed=4)
    est = information.ksg_mutual_information(x, y)
    assert abs(est.estimate) < 0.08
    assert est.ci_low < 0 < est.ci_high


@pytest.mark.parametrize("rho", [0.0, 0.9])
def test_ksg_on_heavy_tailed_student_t(rho):
    # The exact MI of the t pair (df = 3) is the Gaussian one plus 0.06 bit from the shared
    # scale: KSG finds that extra dependence even at rho = 0.
    truth = information.student_t_mi_bits(rho, df=3)  # 0.061 and 1.259 bits
    x, y = information.correlated_student_t(2000, rho, df=3, seed=7)
    est = information.ksg_mutual_information(x, y)
    assert np.isfinite(est.estimate)
    assert est.estimate == pytest.approx(truth, abs=0.15 if rho else 0.06)


def test_ksg_reaches_its_ceiling_for_identical_variables():
    x = np.random.default_rng(0).standard_normal(2000)
    est = information.ksg_mutual_information(x, x, k=3, n_repeats=0)
    assert est.ceiling == pytest.approx((digamma(2000) - digamma(3)) / np.log(2))
    assert est.estimate == pytest.approx(est.ceiling)
    assert est.at_ceiling


def test_ksg_on_coarsely_quantized_data_matches_the_discrete_mi():
    x, y = information.correlated_gaussians(2000, 0.9, seed=0)
    xq, yq = np.round(x), np.round(y)  # grid step 1: a dozen values, many ties
    est = information.ksg_mutual_information(xq, yq)
    discrete = information.mutual_information_discrete(xq, yq)
    assert est.extras["n_zero_distance"] > 1500 and est.extras["n_tied_columns"] == 2
    assert np.isfinite([est.estimate, est.ci_low, est.ci_high]).all()
    assert est.estimate == pytest.approx(discrete.estimate, abs=0.05)
    assert est.estimate < information.gaussian_mi_bits(0.9)  # data processing
    raw = information.ksg_mutual_information(xq, yq, ties="ignore", n_repeats=0)
    assert raw.estimate > est.estimate + 0.5  # what ties do to the raw estimator
    with pytest.raises(ValueError, match="exact duplicates"):
        information.ksg_mutual_information(xq, yq, ties="error")


def test_ksg_on_finely_quantized_data_is_finite_and_sensible():
    truth = information.gaussian_mi_bits(0.9, 2)
    x, y = information.correlated_gaussians(2000, 0.9, dims=2, seed=0)
    xq, yq = np.round(x * 4) / 4, np.round(y * 4) / 4
    est = information.ksg_mutual_information(xq, yq)
    discrete = information.mutual_information_discrete(xq, yq)
    assert np.isfinite([est.estimate, est.ci_low, est.ci_high]).all()
    assert est.extras["n_zero_distance"] > 0
    assert truth - 0.3 < est.estimate < truth + 0.1
    assert discrete.estimate > truth + 1  # the count-based estimate is biased far upward


def test_ksg_jitter_is_seeded_and_independent_of_data_drawn_with_the_same_seed():
    x, y = information.correlated_gaussians(1000, 0.9, seed=0)
    xq, yq = np.round(x), np.round(y)
    a = information.ksg_mutual_information(xq, yq, seed=0)
    b = information.ksg_mutual_information(xq, yq, seed=0)
    c = information.ksg_mutual_information(xq, yq, seed=1)
    assert a == b
    assert a.estimate == pytest.approx(c.estimate, abs=0.05)
    discrete = information.mutual_information_discrete(xq, yq).estimate
    assert a.estimate == pytest.approx(discrete, abs=0.06)  # jitter did not recover x, y


def test_ksg_accepts_1d_input():
    x, y = information.correlated_gaussians(500, 0.5, seed=2)
    one = information.ksg_mutual_information(x[:, 0], y[:, 0])
    two = information.ksg_mutual_information(x, y)
    assert one == two


@pytest.mark.parametrize("kwargs, match", [
    ({"y": np.zeros(99)}, "paired"),
    ({"x": np.r_[np.nan, np.zeros(99)]}, "NaN"),
    ({"k": 100}, "too large"),
    ({"k": 0}, "k must"),
    ({"ties": "drop"}, "ties"),
    ({"noise": 0.0}, "noise"),
])
def test_ksg_rejects_bad_input(kwargs, match):
    rng = np.random.default_rng(0)
    kwargs = {"x": rng.standard_normal(100), "y": rng.standard_normal(100), **kwargs}
    with pytest.raises(ValueError, match=match):
        information.ksg_mutual_information(**kwargs)


@pytest.mark.parametrize("dtype, low, high", [(np.int64, -5, 3), (np.int64, 0, 70_000),
                                              (np.int32, -300, 300), (np.uint8, 0, 255),
                                              (np.bool_, 0, 2)])
def test_fast_integer_code_ids_match_numpy_unique_rows(dtype, low, high):
    from helpers.measure.information import _code_ids

    rng = np.random.default_rng(7)
    codes = rng.integers(low, high, size=(400, 5)).astype(dtype)
    codes[200:] = codes[:200]  # many repeated rows
    _, reference = np.unique(codes, axis=0, return_inverse=True)
    assert np.array_equal(_code_ids(codes), reference.reshape(-1))
    assert np.array_equal(information.code_counts(codes),
                          np.unique(codes, axis=0, return_counts=True)[1])
