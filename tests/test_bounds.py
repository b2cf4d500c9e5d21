"""The volumetric covering bound, its intrinsic-dimension form, and the enclosing ball."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.data import analytic_covering_number, sample_shape
from helpers.measure.bounds import (
    ball_covering_bound_bits,
    enclosing_ball,
    intrinsic_covering_bits,
)
from helpers.measure.covering import greedy_net

EPS = [0.4, 0.2, 0.1, 0.05, 0.02, 0.01, 0.003]


def test_formula_and_vectorization():
    assert ball_covering_bound_bits(3, 1.0, 0.5) == pytest.approx(3 * math.log2(5))
    values = ball_covering_bound_bits(64, 2.0, np.array([1.0, 0.25]))
    assert values.shape == (2,) and values[1] > values[0]
    assert ball_covering_bound_bits(5, 0.0, 0.1) == 0.0  # a point needs one ball
    assert intrinsic_covering_bits(2.5, 1.0, 0.5) == pytest.approx(2.5 * math.log2(5))


@pytest.mark.parametrize(
    ("shape", "dim", "radius"),
    [("segment", 1, 0.5), ("square", 2, math.sqrt(0.5)), ("circle", 2, 0.5),
     ("sphere", 3, 0.5), ("cube", 3, math.sqrt(3) / 2)],
)
def test_bound_exceeds_known_covering_numbers(shape, dim, radius):
    """Each set lies in a ball of the given radius inside a dim-dimensional (affine) space."""
    for eps in EPS:
        _, upper = analytic_covering_number(shape, eps, ambient_dim=dim)
        exact_or_upper = math.log2(upper)
        assert ball_covering_bound_bits(dim, radius, eps) >= exact_or_upper - 1e-12


def test_bound_holds_for_greedy_nets_in_high_dimension():
    """A greedy net is eps-separated, so the packing form of the bound applies to it."""
    points = sample_shape("square", 800, ambient_dim=20, seed=3)
    ball = enclosing_ball(points)
    for eps in EPS[:5]:
        net = len(greedy_net(points, eps))
        # the square sits in a 2-d affine plane: the intrinsic form is a theorem here
        assert math.log2(net) <= intrinsic_covering_bits(2, ball.radius, eps)
        assert math.log2(net) <= ball_covering_bound_bits(20, ball.radius, eps)


def test_intrinsic_form_is_not_a_bound_for_curved_sets():
    """A circle (k = 1) needs ~pi/(2 eps) balls, more than the k = 1 form's 1 + 1/eps."""
    eps = 0.01
    exact, _ = analytic_covering_number("circle", eps)
    assert math.log2(exact) > intrinsic_covering_bits(1, 0.5, eps)
    assert math.log2(exact) <= ball_covering_bound_bits(2, 0.5, eps)


def test_bad_arguments():
    with pytest.raises(ValueError, match="whole number"):
        ball_covering_bound_bits(2.5, 1.0, 0.1)
    with pytest.raises(ValueError, match="dim must be finite and > 0"):
        ball_covering_bound_bits(0, 1.0, 0.1)
    with pytest.raises(ValueError, match="radius"):
        ball_covering_bound_bits(2, -1.0, 0.1)
    with pytest.raises(ValueError, match="eps"):
        ball_covering_bound_bits(2, 1.0, [0.1, 0.0])
    with pytest.raises(ValueError, match="k must be"):
        intrinsic_covering_bits(-1, 1.0, 0.1)


def test_enclosing_ball_known_cases():
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    ball = enclosing_ball(corners)
    assert ball.radius == pytest.approx(math.sqrt(0.5)) and ball.lower <= ball.radius
    np.testing.assert_allclose(ball.centre, [0.5, 0.5], atol=1e-9)
    simplex = np.eye(6)  # regular simplex: circumradius sqrt(1 - 1/6)
    ball = enclosing_ball(simplex, tolerance=1e-6)
    truth = math.sqrt(1 - 1 / 6)
    assert ball.lower <= truth + 1e-12 and ball.radius >= truth - 1e-12
    assert ball.gap <= 1e-6
    single = enclosing_ball([[1.0, 2.0]])
    assert single.radius == 0.0


def test_enclosing_ball_contains_the_sample_and_brackets_the_optimum():
    rng = np.random.default_rng(0)
    points = rng.standard_normal((3000, 16)) * np.linspace(0.2, 2.0, 16) + 5.0
    ball = enclosing_ball(points, tolerance=1e-3)
    distances = np.linalg.norm(points - ball.centre, axis=1)
    assert distances.max() <= ball.radius * (1 + 1e-12)
    assert ball.lower <= ball.radius <= ball.lower * (1 + 1e-3) + 1e-12
    # half the diameter of the sample is a lower bound on any enclosing radius
    far = np.linalg.norm(points - points[np.argmax(distances)], axis=1).max()
    assert ball.radius >= far / 2
    with pytest.raises(ValueError, match="tolerance"):
        enclosing_ball(points, tolerance=0)
