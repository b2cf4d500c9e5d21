"""Ground truth, gap verdicts, Fano, nested grids and Rademacher complexities (chapter 6)."""

import math

import numpy as np
import pytest

from helpers.experiments import information_plane as suite_mi
from helpers.measure import information
from helpers.measure import information_plane as ip
from helpers.measure.covering import greedy_net
from helpers.measure.quantize import grid_codes

# --------------------------------------------------------------------------- ground truth


def test_quantized_gaussian_mi_matches_a_large_sample_and_stays_below_the_continuous_mi():
    rho, step = 0.9, 0.5
    exact = ip.quantized_gaussian_mi_bits(rho, step)
    x, y = information.correlated_gaussians(400_000, rho, 1, seed=3)
    counts = information.mutual_information_discrete(np.floor(x / step), np.floor(y / step),
                                                     correction="plugin", n_bootstrap=0,
                                                     n_shuffles=0)
    assert counts.estimate == pytest.approx(exact, abs=0.01)
    assert exact < information.gaussian_mi_bits(rho)


def test_quantized_gaussian_mi_limits_and_dimensions():
    assert ip.quantized_gaussian_mi_bits(0.0, 0.5) == pytest.approx(0.0, abs=1e-12)
    fine = ip.quantized_gaussian_mi_bits(0.5, 0.05)
    assert fine == pytest.approx(information.gaussian_mi_bits(0.5), abs=0.01)
    # bins of 20 sd: only the signs are left; P(same sign) = 1/2 + arcsin(rho) / pi
    agree = 0.5 + math.asin(0.5) / math.pi
    sign_mi = 1 + agree * math.log2(agree) + (1 - agree) * math.log2(1 - agree)
    assert ip.quantized_gaussian_mi_bits(0.5, 20.0) == pytest.approx(sign_mi, abs=1e-7)
    assert ip.quantized_gaussian_mi_bits(0.7, 0.5, dims=3) == pytest.approx(
        3 * ip.quantized_gaussian_mi_bits(0.7, 0.5))
    with pytest.raises(ValueError, match="rho"):
        ip.quantized_gaussian_mi_bits(1.0, 0.5)
    with pytest.raises(ValueError, match="step"):
        ip.quantized_gaussian_mi_bits(0.5, 0.0)


def test_ground_truth_cases_carry_their_exact_mi():
    cases = ip.ground_truth_cases(50, dims=(1, 4), cubic_dims=(2,))
    families = [case.family for case in cases]
    assert families.count("Gaussian") == 2 and "Student-t" in families
    for case in cases:
        assert case.x.shape == case.y.shape == (50, case.dims)
        assert case.truth > 0
    gaussian = cases[1]
    assert gaussian.truth == pytest.approx(information.gaussian_mi_bits(0.5, 4))
    cubic = next(case for case in cases if "³" in case.family)
    assert cubic.truth == pytest.approx(information.gaussian_mi_bits(0.5, 2))
    quantized = next(case for case in cases if case.discrete)
    assert np.all(quantized.x == np.round(quantized.x))  # bin indices: many ties
    assert len(np.unique(quantized.x)) < 20


def test_estimate_case_runs_ksg_and_the_count_estimators_on_a_discrete_case():
    cases = ip.ground_truth_cases(400, dims=(1,), cubic_dims=())
    quantized = next(case for case in cases if case.discrete)
    rows = ip.estimate_case(quantized, ip.case_estimators(quantized, n_bootstrap=20))
    by_name = {row["estimator"]: row for row in rows}
    assert set(by_name) == {"KSG", "counts (Miller-Madow)", "counts, shuffle-corrected",
                            "KSG, ties ignored"}
    assert all(row["truth"] == quantized.truth and row["seconds"] >= 0 for row in rows)
    assert by_name["counts (Miller-Madow)"]["estimate"] == pytest.approx(quantized.truth,
                                                                         abs=0.15)
    # ignoring ties inflates KSG far above the truth
    assert by_name["KSG, ties ignored"]["estimate"] > quantized.truth + 1
    gaussian = cases[0]
    names = [row["estimator"] for row in ip.estimate_case(gaussian, ip.case_estimators(gaussian))]
    assert names == ["KSG"]


# --------------------------------------------------------------------------- per precision


def test_precision_row_without_neural_estimates():
    rng = np.random.default_rng(0)
    unit = rng.random((60, 3))
    row = suite_mi.precision_row(unit, 1.0, n_bootstrap=20)
    assert row["n"] == 60 and row["bits"] == 1.0
    assert row["plugin"] <= row["log2 cells"] + 1e-12 <= math.log2(60) + 1e-12
    assert row["plugin ceiling"] == pytest.approx(math.log2(60))
    assert math.isnan(row["infonce"]) and row["infonce at ceiling"] is None
    assert row["C_num"] <= math.log2(60) + 1e-12


@pytest.mark.usefixtures("one_torch_thread")
def test_precision_row_with_neural_estimates_reports_their_ceiling_and_time():
    rng = np.random.default_rng(1)
    unit = rng.random((80, 2))
    row = suite_mi.precision_row(unit, 2.0, inputs=unit + 0.01 * rng.standard_normal((80, 2)),
                           n_bootstrap=10, neural=dict(batch_size=16, epochs=2, patience=1,
                                                       n_eval_rounds=2))
    assert row["infonce ceiling"] == 4.0  # log2 of the batch size
    assert math.isinf(row["mine ceiling"])
    assert row["infonce [s]"] > 0 and row["mine [s]"] > 0
    with pytest.raises(ValueError, match="inputs"):
        suite_mi.precision_row(unit, 2.0, neural={})


def _same_row(a: dict, b: dict) -> bool:
    """Equal keys and values, NaN equal to NaN."""
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
        for k in a)


class _Lines(list):
    def __call__(self, line):
        self.append(line)


@pytest.mark.usefixtures("one_torch_thread")
def test_cached_precision_rows_equal_fresh_ones_and_are_loaded_on_a_rerun(tmp_path):
    rng = np.random.default_rng(2)
    unit = rng.random((80, 2))
    inputs = unit + 0.01 * rng.standard_normal((80, 2))
    settings = dict(inputs=inputs, n_bootstrap=10, seed=3,
                    neural=dict(batch_size=16, epochs=2, patience=1, n_eval_rounds=2))
    fresh = suite_mi.precision_row(unit, 2.0, **settings)
    log = _Lines()
    first = suite_mi.precision_row(unit, 2.0, **settings, cache=True,
                                   cache_dir=tmp_path, log=log)
    again = suite_mi.precision_row(unit, 2.0, **settings, cache=True,
                                   cache_dir=tmp_path, log=log)
    timing = ("infonce [s]", "mine [s]")
    assert _same_row({k: v for k, v in fresh.items() if k not in timing},
                     {k: v for k, v in first.items() if k not in timing})
    assert _same_row(first, again)
    assert "cache miss" in log[0] and "cache hit" in log[-1]
    # another precision, other inputs or another seed is another entry
    for changed in (dict(bits=1.0), dict(inputs=inputs[::-1]), dict(seed=4)):
        call = {**settings, "bits": 2.0, **changed}
        suite_mi.precision_row(unit, call.pop("bits"), **call, cache=True,
                               cache_dir=tmp_path, log=log)
        assert "cache miss" in log[-2]
    assert len(list((tmp_path / "mi-precision").glob("*.json"))) == 4


def test_cached_case_rows_equal_fresh_ones(tmp_path):
    (case,) = [c for c in ip.ground_truth_cases(300, dims=(1,), cubic_dims=()) if c.discrete]
    fresh = ip.estimate_case(case, ip.case_estimators(case, n_bootstrap=15, seed=1))
    log = _Lines()
    first = suite_mi.case_rows(case, n_bootstrap=15, seed=1, cache=True,
                               cache_dir=tmp_path, log=log)
    again = suite_mi.case_rows(case, n_bootstrap=15, seed=1, cache=True,
                               cache_dir=tmp_path, log=log)
    assert "cache hit" in log[-1]
    assert [row["estimator"] for row in again] == [row["estimator"] for row in fresh]
    for computed, stored, loaded in zip(fresh, first, again, strict=True):
        assert _same_row(dict(computed, seconds=0.0), dict(stored, seconds=0.0))
        assert _same_row(stored, loaded)
    other = suite_mi.case_rows(case, n_bootstrap=15, seed=2, cache=True,
                               cache_dir=tmp_path, log=log)
    assert "cache miss" in log[-2] and other[0]["estimate"] != fresh[0]["estimate"]


# --------------------------------------------------------------------------- gap factor


def test_gap_verdicts():
    n = 1000  # log2 n = 9.97
    holds = ip.gap_comparison(3.0, 2.0, 1.9, 2.1, 9.97, n)
    assert holds.verdict == "holds" and holds.ratio == pytest.approx(1.5)
    assert holds.low == pytest.approx(3 / 2.1) and holds.high == pytest.approx(3 / 1.9)
    assert ip.gap_comparison(1.0, 2.0, 1.9, 2.1, 9.97, n).verdict == "fails"
    assert ip.gap_comparison(5.0, 2.0, 1.9, 2.1, 9.97, n).verdict == "fails"
    assert ip.gap_comparison(2.0, 1.5, 0.9, 2.1, 9.97, n).verdict == "undecided"
    both = ip.gap_comparison(9.96, 9.95, 9.9, 9.97, 9.97, n)
    assert both.verdict == "cannot be tested" and both.c_censored and both.i_censored
    assert both.low == 0 and math.isinf(both.high)
    # C_num at log2 n, I far below: the ratio is at least 2 whatever C_num could be
    assert ip.gap_comparison(9.96, 3.0, 2.9, 3.1, 9.97, n).verdict == "fails"
    assert ip.gap_comparison(9.96, 6.0, 5.9, 6.1, 9.97, n).verdict == "cannot be tested"
    # InfoNCE at log2 K = 7: the truth may be higher; only "C_num below I" can be shown
    capped = ip.gap_comparison(8.0, 6.95, 6.8, 7.0, 7.0, n)
    assert capped.verdict == "cannot be tested" and capped.i_censored
    assert ip.gap_comparison(5.0, 6.95, 6.8, 7.0, 7.0, n).verdict == "fails"
    assert ip.gap_comparison(3.0, math.nan, math.nan, math.nan, 7.0, n).verdict == (
        "cannot be tested")
    # a lower bound (InfoNCE, MINE) can refute the claim but never confirm it
    bound = ip.gap_comparison(3.0, 2.0, 1.9, 2.1, math.inf, n, lower_bound=True)
    assert bound.verdict == "cannot be tested" and bound.low == 0 and "lower bound" in bound.reason
    assert ip.gap_comparison(1.0, 2.0, 1.9, 2.1, math.inf, n, lower_bound=True).verdict == "fails"
    assert "neither end" in ip.gap_comparison(9.96, 6.0, 5.9, 6.1, math.inf, n,
                                              lower_bound=True).reason
    # an estimate that bounds nothing (MINE) is reported but never decides
    mine = ip.gap_comparison(1.0, 2.0, 1.9, 2.1, math.inf, n, decides=False)
    assert mine.verdict == "cannot be tested" and mine.ratio == pytest.approx(0.5)
    assert mine.high == pytest.approx(1 / 1.9)
    # an interval reaching 0 has no upper end
    assert math.isinf(ip.gap_comparison(3.0, 0.5, -0.1, 1.0, math.inf, n).high)


# --------------------------------------------------------------------------- Fano


@pytest.mark.parametrize("k", [2, 4, 10])
def test_fano_mi_lower_bound_inverts_the_error_bound(k):
    mi = np.linspace(0.05, math.log2(k) - 0.05, 9)
    error = information.fano_error_lower_bound(mi, k)
    assert ip.fano_mi_lower_bound(error, k) == pytest.approx(mi, abs=1e-9)
    assert ip.fano_mi_lower_bound(0.0, k) == pytest.approx(math.log2(k))
    assert ip.fano_mi_lower_bound(1.0 - 1.0 / k, k) == pytest.approx(0.0, abs=1e-12)
    assert ip.fano_mi_lower_bound(1.0, k) == pytest.approx(0.0, abs=1e-12)


def test_fano_mi_lower_bound_with_unbalanced_labels_and_bad_input():
    assert ip.fano_mi_lower_bound(0.0, 10, label_entropy_bits=3.0) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="error_rate"):
        ip.fano_mi_lower_bound(1.5, 10)
    with pytest.raises(ValueError, match="n_classes"):
        ip.fano_mi_lower_bound(0.1, 1)


# --------------------------------------------------------------------------- nested grids


def test_truncation_grids_are_nested_and_rounding_grids_are_not():
    rng = np.random.default_rng(2)
    unit = rng.random((400, 3))
    labels = (unit[:, 0] + 0.3 * rng.random(400) > 0.6).astype(int)
    for p in range(0, 6):
        assert ip.refines(ip.truncation_codes(unit, p + 1), ip.truncation_codes(unit, p))
    assert not ip.refines(grid_codes(unit, 2), grid_codes(unit, 1))
    plugin = [information.mutual_information_discrete(
        ip.truncation_codes(unit, p), labels, correction="plugin", n_bootstrap=0,
        n_shuffles=0).estimate for p in range(0, 7)]
    assert ip.decreases(plugin) == []  # data processing on the empirical distribution
    assert ip.decreases([0.1, 0.3, 0.2, 0.4]) == [1]
    with pytest.raises(ValueError, match="whole number"):
        ip.truncation_codes(unit, 1.5)


# --------------------------------------------------------------------------- Rademacher


def test_linear_rademacher_agrees_with_enumeration_and_the_closed_form():
    rng = np.random.default_rng(4)
    z = rng.random((10, 3))
    exact = ip.linear_rademacher_exact(z, bound=2.0)
    mc = ip.linear_rademacher(z, bound=2.0, n_draws=20_000, seed=1)
    assert mc.ci_low <= exact <= mc.ci_high
    assert abs(mc.estimate - exact) < 0.02 * exact
    assert exact <= mc.closed_form
    assert mc.closed_form == pytest.approx(2.0 / 10 * math.sqrt(np.sum(z**2)))


def test_linear_rademacher_closed_form_is_exact_for_orthogonal_points():
    z = np.eye(6) * np.arange(1, 7)[:, None]
    # ||sum sigma_i z_i||^2 = sum ||z_i||^2 for every sign vector
    assert ip.linear_rademacher_exact(z) == pytest.approx(math.sqrt(np.sum(z**2)) / 6)
    assert ip.linear_rademacher_exact(np.array([[3.0, 4.0]])) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="n <= 20"):
        ip.linear_rademacher_exact(np.ones((21, 1)))


def _partition_by_enumeration(groups):
    groups = np.asarray(groups)
    n = len(groups)
    signs = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1) * 2 - 1
    total = sum(np.abs(signs[:, groups == g].sum(axis=1)) for g in np.unique(groups))
    return float(total.mean() / n)


def test_partition_rademacher_is_exact_and_below_massart():
    groups = [0, 0, 0, 1, 1, 2, 3, 3, 3, 3]
    value = ip.partition_rademacher(groups)
    assert value == pytest.approx(_partition_by_enumeration(groups))
    assert ip.partition_rademacher(np.arange(7)) == pytest.approx(1.0)  # singletons
    assert ip.partition_rademacher([5, 5, 5, 5]) == pytest.approx(1.5 / 4)  # E|S_4| = 3/2
    assert value <= ip.massart_bound(4, 10)
    assert ip.massart_bound(np.array([1, 4]), 10) == pytest.approx(
        np.sqrt(2 * np.array([1, 4]) * math.log(2) / 10))
    with pytest.raises(ValueError, match="n_cells"):
        ip.massart_bound(0, 10)


def test_greedy_partition_has_one_cell_per_centre_within_eps():
    rng = np.random.default_rng(5)
    points = rng.random((200, 4))
    eps = 0.4
    cells = ip.greedy_partition(points, eps)
    centres = greedy_net(points, eps)
    assert len(np.unique(cells)) == len(centres)
    assert np.all(np.linalg.norm(points - points[centres][cells], axis=1) <= eps + 1e-12)


# --------------------------------------------------------------------------- chapter tables


@pytest.fixture(scope="module")
def toy_sample():
    """A normalized-sample stand-in: 3-D points whose first coordinate carries the label."""
    from types import SimpleNamespace

    rng = np.random.default_rng(6)

    def split(n):
        y = rng.integers(0, 3, n)
        u = rng.random((n, 3)) * 0.5
        u[:, 0] += y / 4
        return u, y

    train_u, train_y = split(300)
    test_u, test_y = split(150)
    return SimpleNamespace(train_u=train_u, train_y=train_y, test_u=test_u, test_y=test_y,
                           test_index=np.arange(150))


def test_neural_inputs_flatten_images_and_stand_in_for_texts(toy_sample):
    from types import SimpleNamespace

    images = np.arange(200 * 4, dtype=np.float32).reshape(200, 1, 2, 2)
    record = SimpleNamespace(data=SimpleNamespace(test=SimpleNamespace(inputs=images)))
    x, text = suite_mi.neural_inputs(record, toy_sample)
    assert x.shape == (150, 4) and "images" in text
    assert np.array_equal(x[3], images[3].reshape(-1))
    record = SimpleNamespace(data=SimpleNamespace(test=SimpleNamespace(inputs=["a"] * 200)))
    x, text = suite_mi.neural_inputs(record, toy_sample)
    assert np.array_equal(x, toy_sample.test_u) and "stand-in" in text


def test_gap_rows_skip_estimators_that_were_not_run(toy_sample):
    rows = [{"model": "toy", **suite_mi.precision_row(toy_sample.test_u, p, n_bootstrap=10)}
            for p in (1, 3)]
    gaps = ip.gap_rows(rows)
    assert [g["I from"] for g in gaps] == ["H(Z_q), Miller-Madow"] * 2
    assert gaps[0]["ratio"] == pytest.approx(rows[0]["C_num"] / rows[0]["miller-madow"])
    with pytest.raises(ValueError, match="kind"):
        ip.gap_rows(rows, [("plugin", "plug-in", True)])


def test_label_information_rows_and_fano(toy_sample):
    rows = ip.label_information_rows(toy_sample, [1, 2], n_bootstrap=20, n_shuffles=5)
    assert math.isnan(rows[0]["bits"]) and "I plug-in" not in rows[0]
    for row in rows[1:]:
        assert 0 <= row["I lower bound from probe"] <= row["H(Y)"] + 1e-12
        assert row["I shuffle-corrected"] == pytest.approx(row["I Miller-Madow"]
                                                           - row["shuffle mean"])
        assert (row["I shuffle-corrected high"] - row["I shuffle-corrected low"]
                == pytest.approx(row["I high"] - row["I low"]))
        assert row["probe error low"] <= row["probe error"] <= row["probe error high"]
        assert row["H(Z_q) plug-in"] <= math.log2(150) + 1e-12


def test_nesting_rows_truncation_is_nested_and_monotone(toy_sample):
    rows = ip.nesting_rows(toy_sample, [0.5, 1, 2], [1, 2, 3])
    truncation = [r for r in rows if r["grid"] == "truncation, whole p"]
    assert [r["nested with previous"] for r in truncation] == [None, True, True]
    assert ip.decreases([r["I(Z_q; Y)"] for r in truncation]) == []
    assert {r["grid"] for r in rows} == {"round, sweep", "round, whole p", "truncation, whole p"}


def test_rademacher_rows_count_the_greedy_balls(toy_sample):
    from helpers.measure.comparison import capacity_bits

    rows = ip.rademacher_rows(toy_sample, [0.5, 2], n_draws=200)
    assert math.isnan(rows[0]["bits"])
    for row in rows[1:]:
        assert math.log2(row["balls"]) == pytest.approx(
            capacity_bits(toy_sample.test_u, [row["bits"]])[0])
        assert row["balls R"] <= row["balls Massart"] + 1e-12
        assert row["cells R"] <= 1 + 1e-12
        assert row["linear"] <= row["linear closed form"]


def test_codes_of_far_outliers_stay_exact_through_every_consumer():
    """Codes beyond int64 wrapped around: distinct outliers shared one cell."""
    unit = np.array([[0.25, 0.5], [3000.0, 0.5], [5000.0, 0.5], [5000.0, 0.75]])
    labels = np.array([0, 1, 0, 1])
    for codes in (grid_codes(unit, 52), ip.truncation_codes(unit, 52)):
        assert codes.dtype == object and information.code_counts(codes).tolist() == [1] * 4
        mi = information.mutual_information_discrete(codes, labels, correction="plugin",
                                                     n_bootstrap=0, n_shuffles=0)
        assert mi.estimate == pytest.approx(1.0)  # each code names its label
        assert ip.partition_rademacher(codes) == 1.0  # a cell per point
    assert ip.truncation_codes(unit, 52)[1, 0] == 3000 * 2**52
    assert ip.refines(ip.truncation_codes(unit, 52), ip.truncation_codes(unit, 51))
