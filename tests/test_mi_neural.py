"""InfoNCE and MINE on Gaussians with known MI, heavy tails, the InfoNCE ceiling log2 K, checks."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from helpers.measure import information  # noqa: E402
from helpers.measure.mi_neural import infonce_mi, mine_mi, normal_scores  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def gaussians_2d():
    """2,000 pairs of 2-D Gaussians, rho = 0.9 per coordinate: 2.40 bits."""
    return information.correlated_gaussians(2000, 0.9, dims=2, seed=10)


def test_infonce_on_2d_gaussians(gaussians_2d):
    x, y = gaussians_2d
    truth = information.gaussian_mi_bits(0.9, 2)
    est = infonce_mi(x, y)
    assert est.estimate == pytest.approx(truth, abs=0.3)
    assert est.ceiling == 7.0  # log2 of the batch size 128
    assert est.estimate <= est.ci_high <= est.ceiling and est.ci_low <= est.estimate
    assert est.ci_high - est.ci_low < 0.5
    assert not est.at_ceiling
    assert est.extras["n_train"] == 1400 and est.extras["n_holdout"] == 600
    assert len(est.extras["history"]) == est.extras["epochs"]
    assert est.extras["seconds"] < 15


def test_infonce_saturates_at_log2_k():
    # 8 dims with rho = 0.99: 22.6 bits, far above log2 16 = 4 bits.
    x, y = information.correlated_gaussians(1000, 0.99, dims=8, seed=3)
    est = infonce_mi(x, y, batch_size=16)
    assert information.gaussian_mi_bits(0.99, 8) > 20
    assert est.ceiling == 4.0
    assert est.estimate <= 4.0 and est.ci_high <= 4.0
    assert est.at_ceiling


def test_mine_on_2d_gaussians(gaussians_2d):
    x, y = gaussians_2d
    truth = information.gaussian_mi_bits(0.9, 2)
    est = mine_mi(x, y)
    assert est.estimate == pytest.approx(truth, abs=0.35)
    assert est.ci_low <= est.estimate <= est.ci_high
    assert est.ceiling == math.inf and not est.at_ceiling
    assert est.extras["ema_rate"] == 0.01


@pytest.fixture(scope="module")
def cauchy_pair():
    """A Gaussian pair with rho = 0.6 mapped to Cauchy marginals, and the Gaussian pair.

    Each side goes through the same strictly increasing map, so the MI is the Gaussian one,
    -1/2 ln(1 - rho^2) = 0.223 nats; mean and standard deviation of a Cauchy sample are set
    by its few extreme values.
    """
    from scipy.stats import norm

    x, y = information.correlated_gaussians(2000, 0.6, seed=1)
    return tuple(np.tan(np.pi * (norm.cdf(v) - 0.5)) for v in (x, y)), (x, y)


@pytest.mark.parametrize("estimator, scaling", [(infonce_mi, "standard"), (infonce_mi, "rank"),
                                                 (mine_mi, "rank")])
def test_heavy_tailed_marginals_against_the_known_truth(estimator, scaling, cauchy_pair):
    (x, y), _ = cauchy_pair
    truth = information.gaussian_mi_bits(0.6, 1)
    assert truth == pytest.approx(-0.5 * math.log2(1 - 0.36))
    # MINE with mean/std scaling gave 0.09 nats here (0.12 bits), and -6.7 nats on seed 0
    est = estimator(x, y, n_bootstrap=200, scaling=scaling)
    assert est.estimate == pytest.approx(truth, abs=0.1)


def test_mine_is_unchanged_by_increasing_maps_of_each_variable(cauchy_pair):
    (cx, cy), (x, y) = cauchy_pair
    a, b = mine_mi(cx, cy, n_bootstrap=0), mine_mi(x, y, n_bootstrap=0)
    assert a.estimate == b.estimate and a.extras["scaling"] == "rank"


def test_normal_scores_keep_order_and_ties_and_bound_the_tails():
    column = np.array([3.0, -1e9, 3.0, 7.0, 1e12, 0.5])
    scores = normal_scores(np.c_[column, np.full(6, 4.0)])
    assert np.all(np.diff(scores[np.argsort(column, kind="stable"), 0]) >= 0)
    assert scores[0, 0] == scores[2, 0]  # ties stay tied
    assert len(np.unique(scores[:, 0])) == len(np.unique(column))  # distinct stay distinct
    assert np.abs(scores).max() < 2.0  # Phi^-1(1 - 1/12) = 1.38 at n = 6
    np.testing.assert_array_equal(scores[:, 1], 0.0)  # a constant column maps to 0


def test_unknown_scaling_is_rejected():
    x, y = information.correlated_gaussians(300, 0.5, seed=0)
    with pytest.raises(ValueError, match="scaling"):
        mine_mi(x, y, batch_size=32, scaling="robust")


@pytest.mark.parametrize("estimator", [infonce_mi, mine_mi])
def test_independent_variables_give_about_zero(estimator):
    x, y = information.correlated_gaussians(1000, 0.0, dims=1, seed=5)
    est = estimator(x[:, 0], y[:, 0], batch_size=64)  # 1-D input accepted
    assert abs(est.estimate) < 0.1
    assert est.ci_low < 0.1


@pytest.mark.parametrize("estimator", [infonce_mi, mine_mi])
def test_deterministic_given_the_seed(estimator):
    x, y = information.correlated_gaussians(600, 0.8, seed=1)
    a = estimator(x, y, batch_size=32, epochs=3, seed=4)
    b = estimator(torch.as_tensor(x), y, batch_size=32, epochs=3, seed=4)
    c = estimator(x, y, batch_size=32, epochs=3, seed=5)
    assert a.estimate == b.estimate and a.ci_low == b.ci_low
    assert a.extras["history"] == b.extras["history"]
    assert a.estimate != c.estimate


def test_progress_bar_runs(capsys):
    x, y = information.correlated_gaussians(400, 0.5, seed=0)
    est = infonce_mi(x, y, batch_size=32, epochs=2, progress=True)
    assert est.extras["epochs"] == 2
    assert "InfoNCE" in capsys.readouterr().err


@pytest.mark.parametrize("estimator", [infonce_mi, mine_mi])
@pytest.mark.parametrize("kwargs, match", [
    ({"y": np.zeros((299, 1))}, "paired"),
    ({"x": np.r_[np.nan, np.zeros(299)]}, "NaN"),
    ({"batch_size": 128}, "at least batch_size=128"),
    ({"holdout": 1.0}, "holdout"),
    ({"batch_size": 1}, "batch_size"),
    ({"lr": -1e-3}, "lr"),
])
def test_bad_input_is_rejected(estimator, kwargs, match):
    rng = np.random.default_rng(0)
    kwargs = {"x": rng.standard_normal((300, 1)), "y": rng.standard_normal((300, 1)),
              "batch_size": 32, **kwargs}
    with pytest.raises(ValueError, match=match):
        estimator(**kwargs)
