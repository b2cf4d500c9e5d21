"""Tests of helpers.measure.minimum_cover: exact enumeration against brute force, known answers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from helpers.measure import covering
from helpers.measure.minimum_cover import (
    K_CENTER_MAX_POINTS,
    MAX_POINTS,
    arc_covering_number,
    exact_covering,
    greedy_net_sizes_over_orders,
    interval_covering_number,
    maximal_separated_sizes,
    minimum_internal_cover,
    minimum_set_cover,
    optimal_k_center_radii,
)
from reference import brute_force_min_cover


def brute_distances(points):
    return np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))


def star(points_on_ring=5, radius=0.99):
    angles = 2 * np.pi * np.arange(points_on_ring) / points_on_ring
    ring = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return np.vstack([ring, [[0.0, 0.0]]])


@pytest.mark.parametrize("seed", range(6))
def test_minimum_set_cover_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    incidence = rng.random((9, 11)) < 0.3
    incidence[rng.integers(9, size=11), np.arange(11)] = True  # every element coverable
    chosen = minimum_set_cover(incidence)
    assert incidence[chosen].any(axis=0).all()
    assert len(chosen) == brute_force_min_cover(incidence)
    assert np.all(np.diff(chosen) > 0)


def test_path_graph_known_numbers():
    # Points 0, 1, ..., 9 on a line with eps = 1: each ball holds a point and its two
    # neighbours, so N^int = ceil(n/3); separated points need a gap of at least 2.
    n = 10
    points = np.arange(n, dtype=float)[:, None]
    exact = exact_covering(points, 1.0)
    assert exact.internal_covering_number == math.ceil(n / 3)
    assert exact.smallest_greedy_net == math.ceil(n / 3)
    assert exact.packing_number == math.ceil(n / 2)
    assert len(minimum_internal_cover(points, 1.0)) == math.ceil(n / 3)


def test_star_separates_cover_from_packing():
    points = star(5)
    exact = exact_covering(points, 1.0)
    assert exact.internal_covering_number == 1
    assert exact.min_cover.tolist() == [5]  # the centre
    assert exact.smallest_greedy_net == 1
    assert exact.packing_number == 5  # ring points are 2 sin(36 deg) > 1 apart
    ring_first = covering.greedy_net_reference(points, 1.0)
    assert len(ring_first) == 5


@pytest.mark.parametrize("seed", range(4))
def test_greedy_nets_over_all_orders_span_exactly_the_range(seed):
    rng = np.random.default_rng(seed)
    points = rng.random((7, 2))
    eps = float(np.quantile(brute_distances(points)[np.triu_indices(7, 1)], 0.3))
    exact = exact_covering(points, eps)
    orders = np.array(list(itertools.permutations(range(7))))
    sizes = greedy_net_sizes_over_orders(points, eps, orders=orders)
    assert sizes.min() == exact.smallest_greedy_net
    assert sizes.max() == exact.packing_number
    # every size of a maximal separated subset occurs for some order, and no other size
    assert np.unique(sizes).tolist() == maximal_separated_sizes(points, eps).tolist()
    assert exact.internal_covering_number <= exact.smallest_greedy_net
    # the helper's scan agrees with the reference greedy net on a few orders
    for order in orders[:: len(orders) // 5]:
        reference = covering.greedy_net_reference(points[order], eps)
        assert len(reference) == greedy_net_sizes_over_orders(points, eps, orders=[order])[0]


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_cross_polytope_star_has_only_two_greedy_sizes(dim):
    # The origin plus 2d points at 0.99 along the axes: the outer points are pairwise
    # 0.99 sqrt(2) > 1 apart and all within 1 of the origin, so the maximal separated
    # subsets are {origin} and the 2d outer points, and no size in between occurs.
    points = np.vstack([0.99 * np.eye(dim), -0.99 * np.eye(dim), np.zeros((1, dim))])
    assert maximal_separated_sizes(points, 1.0).tolist() == [1, 2 * dim]


@pytest.mark.parametrize(("n", "expected"), [(1, [1]), (3, [1, 2]), (4, [2]), (5, [2, 3]),
                                              (7, [3, 4])])
def test_path_maximal_separated_sizes(n, expected):
    # Points 0..n-1 with eps = 1 form a path graph; its maximal independent sets, listed
    # by hand: P3 {1}, {0, 2}; P4 {0, 2}, {1, 3}, {0, 3}; P5 sizes 2 ({1, 3}) and 3.
    points = np.arange(n, dtype=float)[:, None]
    assert maximal_separated_sizes(points, 1.0).tolist() == expected


def test_pentagon_star_sizes_and_bad_input():
    assert maximal_separated_sizes(star(5), 1.0).tolist() == [1, 5]
    with pytest.raises(ValueError):
        maximal_separated_sizes(np.zeros((MAX_POINTS + 1, 2)), 1.0)
    with pytest.raises(ValueError):
        maximal_separated_sizes(np.zeros((3, 2)), -1.0)


@pytest.mark.parametrize("metric", ["euclidean", "chebyshev"])
def test_witnesses_are_valid(metric):
    rng = np.random.default_rng(11)
    points = rng.random((12, 3))
    eps = 0.4
    exact = exact_covering(points, eps, metric=metric)
    within = covering.eps_incidence(points, eps, metric=metric)
    assert within[exact.min_cover].any(axis=0).all()
    for chosen in (exact.min_maximal_separated, exact.max_separated):
        block = within[np.ix_(chosen, chosen)]
        assert not (block & ~np.eye(len(chosen), dtype=bool)).any()  # separated
    assert within[exact.min_maximal_separated].any(axis=0).all()  # and maximal


@pytest.mark.parametrize("seed", range(3))
def test_greedy_set_cover_within_harmonic_factor(seed):
    rng = np.random.default_rng(100 + seed)
    points = rng.random((13, 2))
    for eps in (0.15, 0.3, 0.5):
        optimum = exact_covering(points, eps).internal_covering_number
        greedy = covering.greedy_set_cover(points, eps)
        largest_ball = int(covering.eps_incidence(points, eps).sum(axis=1).max())
        assert optimum <= len(greedy) <= covering.harmonic_number(largest_ball) * optimum


@pytest.mark.parametrize("seed", range(3))
def test_k_center_radii_brute_force_and_gonzalez(seed):
    rng = np.random.default_rng(200 + seed)
    points = rng.random((8, 2))
    radii = optimal_k_center_radii(points)
    distance = brute_distances(points)
    assert radii[0] == np.inf and radii[-1] == 0.0
    for k in range(1, 8):
        best = min(distance[list(c)].min(axis=0).max()
                   for c in itertools.combinations(range(8), k))
        assert radii[k] == pytest.approx(best, rel=1e-12)
    traversal = covering.farthest_first(points)
    for k in range(1, 8):
        # farthest-first prefix of k points covers within radii_ff[k] <= 2 * optimum
        assert traversal.radii[k] <= 2 * radii[k] + 1e-12


def test_limits_and_bad_input():
    with pytest.raises(ValueError, match="2\\*\\*n"):
        exact_covering(np.zeros((MAX_POINTS + 1, 2)), 1.0)
    with pytest.raises(ValueError, match="2\\*\\*n"):
        optimal_k_center_radii(np.zeros((K_CENTER_MAX_POINTS + 1, 2)))
    with pytest.raises(ValueError, match="eps"):
        exact_covering(np.zeros((3, 2)), 0.0)
    with pytest.raises(ValueError, match="metric"):
        exact_covering(np.zeros((3, 2)), 1.0, metric="cosine")
    with pytest.raises(ValueError, match="boolean"):
        minimum_set_cover(np.ones((2, 2), dtype=int))
    with pytest.raises(ValueError, match="no cover"):
        minimum_set_cover(np.array([[True, False], [True, False]]))
    with pytest.raises(ValueError, match="permutation"):
        greedy_net_sizes_over_orders(np.zeros((3, 1)), 1.0, orders=[[0, 0, 1]])
    with pytest.raises(ValueError, match="orders is required"):
        greedy_net_sizes_over_orders(np.zeros((3, 1)), 1.0)


@pytest.mark.parametrize("seed", range(5))
def test_interval_and_arc_cover_match_enumeration(seed):
    rng = np.random.default_rng(300 + seed)
    n = 11
    line = rng.random(n)
    radius = rng.uniform(0.03, 0.3)
    # candidate intervals [x_i, x_i + 2 radius]; some optimal cover uses only those
    incidence = (line[None, :] >= line[:, None]) & (line[None, :] <= line[:, None] + 2 * radius)
    assert interval_covering_number(line, radius) == len(minimum_set_cover(incidence))
    angles = rng.random(n) * 2 * np.pi
    half = rng.uniform(0.1, 1.2)
    ahead = np.mod(angles[None, :] - angles[:, None], 2 * np.pi)
    incidence = ahead <= 2 * half
    assert arc_covering_number(angles, half) == len(minimum_set_cover(incidence))


def test_arc_cover_known_cases():
    angles = 2 * np.pi * np.arange(12) / 12  # 12 evenly spaced points, spacing 30 degrees
    step = 2 * np.pi / 12
    assert arc_covering_number(angles, 0.5 * step * 1.01) == 6  # each arc holds 2 points
    assert arc_covering_number(angles, 0.4 * step) == 12
    assert arc_covering_number(angles, np.pi) == 1
    assert arc_covering_number([0.1], 0.01) == 1
    # on a circle sample, the arc number is the Euclidean N_eps: below any greedy net
    rng = np.random.default_rng(5)
    theta = rng.random(400) * 2 * np.pi
    points = 0.5 + 0.5 * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    eps = 0.05
    exact = arc_covering_number(theta, np.arcsin(eps / 0.5))
    net = len(covering.greedy_net_reference(points, eps))
    half_net = len(covering.greedy_net_reference(points, eps / 2))
    assert exact <= net and net <= half_net + 1e-9
    assert interval_covering_number(np.arange(10.0), 1.0) == 4  # [0,2], [3,5], [6,8], [9]
    with pytest.raises(ValueError, match="radius"):
        interval_covering_number([0.0, 1.0], -1.0)
    with pytest.raises(ValueError, match="1-D"):
        arc_covering_number(np.zeros((2, 2)), 0.1)
