"""Tests of helpers.measure.covering: the fast engine must reproduce the reference exactly."""

from __future__ import annotations

import itertools
import json
import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers.data import analytic_covering_number, sample_shape
from helpers.measure import covering
from helpers.measure.covering import (
    capacity_curve,
    farthest_first,
    greedy_net,
    greedy_net_reference,
    greedy_set_cover,
    harmonic_number,
    neighbour_scales,
)
from reference import brute_force_min_cover

METRICS = ("euclidean", "chebyshev")


def exact_distances(points, metric):
    """All pairwise distances by the reference's own formula (float64)."""
    points = np.asarray(points, dtype=np.float64)
    difference = points[:, None, :] - points[None, :, :]
    if metric == "euclidean":
        return np.sqrt(np.einsum("ijk,ijk->ij", difference, difference))
    return np.abs(difference).max(axis=2)


def assert_same_as_reference(points, eps, metric, **kwargs):
    expected = greedy_net_reference(points, eps, metric=metric)
    got = greedy_net(points, eps, metric=metric, **kwargs)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)
    return expected


def integer_grid(side, dim):
    axes = [np.arange(side, dtype=np.float64)] * dim
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, dim)


# ----------------------------------------------------------------------------------------
# greedy_net == greedy_net_reference
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("block_size", [1, 5, 64, 1024])
@pytest.mark.parametrize("use_scales", [False, True])
@pytest.mark.parametrize("centre_chunk", [3, None])
def test_fast_equals_reference_random(metric, block_size, use_scales, centre_chunk, monkeypatch):
    if centre_chunk is not None:  # exercise the chunked comparison with earlier centres
        monkeypatch.setattr(covering, "DEFAULT_CENTRE_CHUNK", centre_chunk)
    rng = np.random.default_rng(block_size)
    for n, d in [(200, 3), (150, 17), (90, 1)]:
        points = rng.random((n, d))
        scales = neighbour_scales(points, metric=metric, block_size=7) if use_scales else None
        distances = exact_distances(points, metric)
        nearest = np.sort(distances + np.diag(np.full(n, np.inf)), axis=1)[:, 0]
        # radii from "all singletons" through the median neighbour scale to "one centre"
        for eps in [
            nearest.min() / 2,
            np.median(nearest),
            2 * np.median(nearest),
            0.3,
            distances.max(),
            2 * distances.max(),
        ]:
            assert_same_as_reference(
                points, float(eps), metric, block_size=block_size, scales=scales
            )


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_integer_grid_ties_at_exactly_eps(metric, dim):
    side = {1: 40, 2: 12, 3: 6}[dim]
    points = integer_grid(side, dim)
    rng = np.random.default_rng(dim)
    shuffled = points[rng.permutation(len(points))]
    below = np.nextafter(1.0, 0.0)
    above = np.nextafter(1.0, 2.0)
    variants = [
        (points, 1.0),
        (shuffled, 1.0),
        (shuffled + 1000.0, 1.0),
        (shuffled * 0.125 + 3.0, 0.125),
    ]
    for data, unit in variants:
        for eps in (1.0, below, above, math.sqrt(2.0), 2.0):
            for scales in (None, neighbour_scales(data, metric=metric, block_size=16)):
                assert_same_as_reference(data, eps * unit, metric, block_size=16, scales=scales)
    # sanity of the boundary itself: at eps = 1 the grid's neighbours are covered
    net_at_one = greedy_net(points, 1.0, metric=metric)
    net_below = greedy_net(points, below, metric=metric)
    assert len(net_below) == len(points)
    assert len(net_at_one) < len(points)


@pytest.mark.parametrize("precision", covering.PRECISIONS)
def test_ties_at_realized_distances(precision):
    """eps equal to an exact pair distance: a boundary off by one rounding is caught."""
    rng = np.random.default_rng(7)
    mismatches = 0
    for _trial in range(30):
        n, d = 60, int(rng.integers(1, 40))
        points = np.round(rng.standard_normal((n, d)) * 8) / 8 + rng.standard_normal(d) * 50
        distances = exact_distances(points, "euclidean")
        i, j = rng.choice(n, size=2, replace=False)
        eps = float(distances[i, j])
        if eps == 0:
            continue
        expected = greedy_net_reference(points, eps)
        got = greedy_net(points, eps, precision=precision, block_size=16)
        mismatches += not np.array_equal(expected, got)
    assert mismatches == 0


def test_einsum_rows_are_position_independent():
    """The exact re-check assumes a row's einsum value does not depend on where it sits."""
    rng = np.random.default_rng(2)
    for d in (1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 64, 127, 128, 129, 300):
        rows = rng.standard_normal((40, d)) * rng.uniform(0.01, 100)
        whole = np.einsum("ij,ij->i", rows, rows)
        order = rng.permutation(40)
        picked = rows[order]
        np.testing.assert_array_equal(np.einsum("ij,ij->i", picked, picked), whole[order])
        for i in (0, 17, 39):
            single = rows[i : i + 1]
            assert np.einsum("ij,ij->i", single, single)[0] == whole[i]


def test_duplicates_identical_and_single_points():
    rng = np.random.default_rng(3)
    base = rng.random((30, 4))
    duplicated = np.repeat(base, 4, axis=0)[rng.permutation(120)]
    for metric in METRICS:
        for eps in (1e-12, 0.05, 0.4):
            got = assert_same_as_reference(duplicated, eps, metric)
            assert len(got) <= 30
        same = np.ones((50, 6)) * 0.3
        np.testing.assert_array_equal(greedy_net(same, 1e-9, metric=metric), [0])
        np.testing.assert_array_equal(greedy_net(same[:1], 0.5, metric=metric), [0])
        scales = neighbour_scales(same[:1], metric=metric)
        np.testing.assert_array_equal(greedy_net(same[:1], 0.5, metric=metric, scales=scales), [0])


def test_one_dimensional_data_as_column():
    rng = np.random.default_rng(4)
    line = np.sort(rng.random(300))[:, None]  # sorted order: long dependency chains
    for eps in (0.001, 0.01, 0.1):
        for metric in METRICS:
            assert_same_as_reference(line, eps, metric, block_size=32)


@pytest.mark.parametrize("precision", covering.PRECISIONS)
def test_float32_input(precision):
    rng = np.random.default_rng(5)
    points = (rng.random((400, 12)) * 3).astype(np.float32)
    for eps in (0.3, 0.8, 1.5):
        for metric in METRICS:
            assert_same_as_reference(points, eps, metric, precision=precision, block_size=50)
    # float32 ties: eps equal to an exact float64 distance of float32 points
    grid = (integer_grid(8, 2) * np.float32(0.1)).astype(np.float32)
    eps = float(exact_distances(grid[:2], "euclidean")[0, 1])
    assert_same_as_reference(grid, eps, "euclidean", precision=precision)


@pytest.mark.parametrize("factor", [2.0**-600, 1e-200, 1e-30, 1e30, 2.0**400])
def test_extreme_scales(factor):
    """Tiny and huge coordinates: float32 products must neither underflow nor overflow."""
    rng = np.random.default_rng(19)
    grid = integer_grid(6, 2)[rng.permutation(36)]
    cloud = rng.random((80, 5))
    for points, eps in ((grid, 1.0), (grid, math.sqrt(2.0)), (cloud, 0.3), (cloud, 0.05)):
        data = points * factor
        for precision in covering.PRECISIONS:
            scales = neighbour_scales(data, precision=precision, block_size=16)
            assert_same_as_reference(
                data, eps * factor, "euclidean", precision=precision, scales=scales
            )
        np.testing.assert_allclose(
            scales.nearest.min() / factor,
            1.0
            if points is grid
            else exact_distances(cloud, "euclidean")[np.triu_indices(80, 1)].min(),
            rtol=1e-3,
        )
    with pytest.raises(ValueError, match="overflow"):
        greedy_net(np.array([[0.0], [1e200]]), 1.0)


@pytest.mark.parametrize("eps", [1e155, 1e300, 1.7976931348623157e308, 1e-160, 1e-300,
                                 5e-324])
@pytest.mark.parametrize("factor", [1.0, 1e-160, 1e100])
@pytest.mark.filterwarnings("error")  # no overflow on the way either
def test_radii_whose_square_overflows_or_underflows(eps, factor):
    """eps * eps overflowing to inf (inf - inf = NaN) once put every pair outside the ball."""
    points = np.random.default_rng(23).random((60, 3)) * factor
    for precision in covering.PRECISIONS:
        scales = neighbour_scales(points, precision=precision, block_size=16)
        for shared in (None, scales):
            assert_same_as_reference(points, eps, "euclidean", precision=precision,
                                     scales=shared)
    within = covering.eps_incidence(points, eps)
    np.testing.assert_array_equal(within, exact_distances(points, "euclidean") <= eps)
    for method in covering.METHODS:
        curve = capacity_curve(points, [eps], lower_from="doubled", method=method)
        assert curve.net_size[0] == len(greedy_net_reference(points, eps))
    from helpers.measure.minimum_cover import exact_covering

    few = points[:8]
    net = len(greedy_net_reference(few, eps))
    exact = exact_covering(few, eps)
    assert exact.internal_covering_number <= exact.smallest_greedy_net <= net
    assert net <= exact.packing_number
    if net in (1, len(few)):  # everything within eps, or nothing: every count agrees
        assert exact.internal_covering_number == exact.packing_number == net


def test_order_argument():
    rng = np.random.default_rng(6)
    points = rng.random((120, 3))
    order = rng.permutation(120)
    expected = order[greedy_net_reference(points[order], 0.2)]
    np.testing.assert_array_equal(greedy_net(points, 0.2, order=order), expected)
    with pytest.raises(ValueError, match="permutation"):
        greedy_net(points, 0.2, order=np.zeros(120, dtype=int))


def test_singletons_cover_only_themselves():
    """Removing points with no neighbour within eps leaves every other decision unchanged."""
    rng = np.random.default_rng(8)
    points = np.concatenate([rng.random((80, 2)) * 0.3, rng.random((40, 2)) * 10 + 1])
    points = points[rng.permutation(len(points))]
    eps = 0.05
    distances = exact_distances(points, "euclidean")
    np.fill_diagonal(distances, np.inf)
    singleton = distances.min(axis=1) > eps
    assert 0 < singleton.sum() < len(points)
    full = greedy_net_reference(points, eps)
    kept = np.flatnonzero(~singleton)
    reduced = kept[greedy_net_reference(points[kept], eps)]
    assert set(np.flatnonzero(singleton)) <= set(full)
    np.testing.assert_array_equal(np.setdiff1d(full, np.flatnonzero(singleton)), reduced)


def test_scales_must_match():
    points = np.random.default_rng(9).random((50, 3))
    scales = neighbour_scales(points)
    with pytest.raises(ValueError, match="scales were computed"):
        greedy_net(points[:40], 0.1, scales=scales)
    with pytest.raises(ValueError, match="scales were computed"):
        greedy_net(points, 0.1, scales=scales, metric="chebyshev")
    with pytest.raises(ValueError, match="scales were computed"):
        greedy_net(points[::-1], 0.1, scales=scales)  # same shape, other points
    nearest = scales.nearest
    exact = exact_distances(points, "euclidean") + np.diag(np.full(50, np.inf))
    np.testing.assert_allclose(nearest, exact.min(axis=1), rtol=1e-4, atol=1e-4)


small_points = st.integers(1, 25).flatmap(
    lambda n: st.integers(1, 3).flatmap(
        lambda d: st.lists(
            st.lists(st.integers(-3, 3), min_size=d, max_size=d), min_size=n, max_size=n
        )
    )
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    small_points,
    st.sampled_from([0.5, 1.0, math.sqrt(2.0), 2.0, math.sqrt(5.0), 3.0]),
    st.sampled_from(METRICS),
    st.integers(1, 8),
    st.booleans(),
)
def test_property_fast_equals_reference(rows, eps, metric, block_size, use_scales):
    points = np.asarray(rows, dtype=np.float64) * 0.5
    scales = neighbour_scales(points, metric=metric, block_size=3) if use_scales else None
    assert_same_as_reference(points, eps * 0.5, metric, block_size=block_size, scales=scales)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_points, st.floats(-323.0, 308.0), st.floats(-150.0, 140.0), st.sampled_from(METRICS))
@example([[0], [1]], 155.0, 0.0, "euclidean")  # the radius of the report: 200 centres, not 1
def test_property_any_finite_radius_matches_reference(rows, log_eps, log_scale, metric):
    points = np.asarray(rows, dtype=np.float64) * 10.0**log_scale
    assert_same_as_reference(points, 10.0**log_eps, metric)


# ----------------------------------------------------------------------------------------
# torch path
# ----------------------------------------------------------------------------------------


def test_torch_cpu_matches_numpy():
    pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    points = rng.random((300, 9))
    grid = integer_grid(9, 2)
    for metric in METRICS:
        for precision in covering.PRECISIONS:
            for eps in (0.2, 0.5, 1.0):
                expected = greedy_net_reference(points, eps, metric=metric)
                scales = neighbour_scales(
                    points, metric=metric, device="cpu", precision=precision, block_size=64
                )
                got = greedy_net(
                    points,
                    eps,
                    metric=metric,
                    device="cpu",
                    precision=precision,
                    block_size=64,
                    scales=scales,
                )
                np.testing.assert_array_equal(got, expected)
            np.testing.assert_array_equal(
                greedy_net(grid, 1.0, metric=metric, device="cpu", precision=precision),
                greedy_net_reference(grid, 1.0, metric=metric),
            )
        a = farthest_first(points, metric=metric)
        b = farthest_first(points, metric=metric, device="cpu")
        np.testing.assert_array_equal(a.order, b.order)
        np.testing.assert_array_equal(a.radii, b.radii)
    eps_grid = np.geomspace(0.05, 1.5, 6)
    curve_numpy = capacity_curve(points, eps_grid)
    curve_torch = capacity_curve(points, eps_grid, device="cpu")
    np.testing.assert_array_equal(curve_numpy.net_size, curve_torch.net_size)


def test_torch_device_errors():
    pytest.importorskip("torch")
    with pytest.raises(ValueError, match="torch device"):
        greedy_net(np.zeros((3, 2)), 1.0, device="no-such-device")


# ----------------------------------------------------------------------------------------
# farthest-first
# ----------------------------------------------------------------------------------------


def naive_farthest_first(points, metric, start=0):
    distances = exact_distances(points, metric)
    order, radii = [start], [np.inf]
    nearest = distances[start].copy()
    while nearest.max() > 0:
        nxt = int(np.argmax(nearest))
        order.append(nxt)
        radii.append(nearest[nxt])
        nearest = np.minimum(nearest, distances[nxt])
    return np.array(order), np.array(radii)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("precision", covering.PRECISIONS)
def test_farthest_first_matches_naive_and_is_nested_net(metric, precision):
    rng = np.random.default_rng(11)
    for points in (
        rng.random((150, 4)),
        np.repeat(rng.random((20, 2)), 3, axis=0),
        integer_grid(7, 2),
        integer_grid(7, 2) + rng.random((49, 2)) * 1e-9,  # near-ties below float32 rounding
    ):
        traversal = farthest_first(points, metric=metric, start=3, precision=precision)
        order, radii = naive_farthest_first(points, metric, start=3)
        np.testing.assert_array_equal(traversal.order, order)
        np.testing.assert_array_equal(traversal.radii, radii)
        assert traversal.complete
        assert np.all(np.diff(traversal.radii) <= 0)
        distances = exact_distances(points, metric)
        for k in range(1, len(order) + 1):
            prefix = order[:k]
            cover_radius = distances[:, prefix].min(axis=1).max()
            expected_cover = radii[k] if k < len(order) else 0.0
            assert cover_radius == expected_cover
            if k > 1:
                within = distances[np.ix_(prefix, prefix)] + np.diag(np.full(k, np.inf))
                assert within.min() >= radii[k - 1]
        finite = distances[distances > 0]
        for eps in np.concatenate([np.quantile(finite, [0.01, 0.2, 0.5, 0.9]), radii[1:4]]):
            net = traversal.net(eps)
            assert len(net) == traversal.net_size(eps)
            assert distances[:, net].min(axis=1).max() <= eps  # eps-cover
            if len(net) > 1:
                block = distances[np.ix_(net, net)] + np.diag(np.full(len(net), np.inf))
                assert block.min() > eps  # eps-separated


def test_farthest_first_stop_radius():
    points = np.random.default_rng(12).random((200, 3))
    full = farthest_first(points)
    partial = farthest_first(points, stop_radius=0.2)
    assert not partial.complete and partial.stop_radius <= 0.2
    k = len(partial.order)
    np.testing.assert_array_equal(partial.order, full.order[:k])
    for eps in (0.2, 0.35, 0.7):
        assert partial.net_size(eps) == full.net_size(eps)
    with pytest.raises(ValueError, match="stopped"):
        partial.net_size(0.01)
    assert len(farthest_first(points, max_points=5).order) == 5
    with pytest.raises(ValueError, match="start"):
        farthest_first(points, start=200)


# ----------------------------------------------------------------------------------------
# greedy set cover
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
def test_greedy_set_cover_valid_and_within_guarantee(metric):
    rng = np.random.default_rng(13)
    for _trial in range(12):
        n = int(rng.integers(2, 11))
        points = rng.random((n, 2))
        eps = float(rng.uniform(0.1, 0.6))
        chosen = greedy_set_cover(points, eps, metric=metric)
        distances = exact_distances(points, metric)
        within = distances <= eps
        assert within[chosen].any(axis=0).all()  # a cover
        assert len(set(chosen.tolist())) == len(chosen)
        optimum = brute_force_min_cover(within)
        assert optimum <= len(chosen) <= harmonic_number(within.sum(axis=1).max()) * optimum
        assert harmonic_number(n) <= math.log(n) + 1
        assert len(greedy_net(points, eps, metric=metric)) >= optimum


def test_greedy_set_cover_classic_example_and_limit():
    # A line of 5 points, eps = 1: the ball at 1 covers {0, 1, 2}, then the ball at 3 the rest.
    points = np.arange(5, dtype=float)[:, None]
    np.testing.assert_array_equal(greedy_set_cover(points, 1.0), [1, 3])
    with pytest.raises(ValueError, match="max_points"):
        greedy_set_cover(np.zeros((30, 2)), 1.0, max_points=20)


# ----------------------------------------------------------------------------------------
# capacity curve
# ----------------------------------------------------------------------------------------


def test_capacity_curve_bounds_on_analytic_sets():
    """lower <= N_eps(sample) <= N_eps(set) (exact), and |net| <= M_eps(set) <= N_{eps/2}(set)."""
    grid = np.geomspace(0.01, 0.6, 15)
    for shape in ("segment", "circle"):
        for metric in ("euclidean",):
            points = sample_shape(shape, 1500, ambient_dim=3, seed=1)
            curve = capacity_curve(points, grid, metric=metric, lower_from="doubled")
            for k, eps in enumerate(curve.eps):
                exact = analytic_covering_number(shape, eps)[0]
                half = analytic_covering_number(shape, eps / 2)[0]
                assert curve.lower[k] <= exact
                assert curve.upper[k] <= curve.net_size[k] <= half
                assert 1 <= curve.lower[k] <= curve.upper[k] <= curve.n
            assert np.all(np.diff(curve.upper) <= 0)
            assert np.all(np.diff(curve.lower) <= 0)
            np.testing.assert_allclose(curve.log2_net_size, np.log2(curve.net_size))
            assert curve.log2_n == pytest.approx(math.log2(1500))
            assert np.all(curve.log2_upper <= curve.log2_n)
            json.dumps(curve.as_dict())


def exact_covering_number_on_line(values, eps):
    """Fewest closed eps-intervals covering points on a line (greedy from the left is optimal)."""
    values = np.sort(values)
    count, reach = 0, -np.inf
    for value in values:
        if value > reach:
            count += 1
            reach = value + 2 * eps
    return count


def brute_force_max_packing(distances, radius):
    n = len(distances)
    for size in range(n, 0, -1):
        for subset in itertools.combinations(range(n), size):
            block = distances[np.ix_(subset, subset)] + np.diag(np.full(size, np.inf))
            if block.min() > radius:
                return size
    return 1


@pytest.mark.parametrize("method", covering.METHODS)
def test_capacity_curve_certified_on_exact_cases(method):
    rng = np.random.default_rng(14)
    for _trial in range(6):
        values = rng.random(60)
        points = np.stack([values, np.zeros(60)], axis=1)
        grid = np.geomspace(0.005, 0.5, 12)
        for lower_from in ("grid", "doubled"):
            curve = capacity_curve(points, grid, method=method, lower_from=lower_from)
            for k, eps in enumerate(curve.eps):
                exact = exact_covering_number_on_line(values, eps)
                assert curve.lower[k] <= exact <= curve.upper[k]
    # tiny sets: lower <= M_{2 eps} (brute force), the packing behind the lower bound
    for _trial in range(5):
        points = rng.random((9, 2))
        distances = exact_distances(points, "euclidean")
        grid = np.geomspace(0.05, 0.8, 7)
        curve = capacity_curve(points, grid, method=method, lower_from="doubled")
        for k, eps in enumerate(curve.eps):
            assert curve.lower[k] <= brute_force_max_packing(distances, 2 * eps)
            assert curve.net_size[k] <= brute_force_max_packing(distances, eps)


def test_capacity_curve_methods_agree_on_sizes_pattern():
    points = np.random.default_rng(15).random((200, 3))
    grid = np.geomspace(0.02, 1.0, 10)
    greedy = capacity_curve(points, grid)
    traversal = capacity_curve(points, grid, method="farthest_first")
    for k, eps in enumerate(grid):
        assert greedy.net_size[k] == len(greedy_net_reference(points, eps))
    assert traversal.net_size[0] == 200 or traversal.net_size[0] > greedy.net_size[-1]
    assert np.all(np.diff(traversal.net_size) <= 0)  # nested nets
    assert greedy.net_size[-1] >= 1


def test_capacity_curve_as_a_table_reads_back_its_precisions():
    points = np.random.default_rng(16).random((60, 2))
    bits = np.array([-1.0, 0.25, 1.5, 3.0])
    curve = capacity_curve(points, 2.0 ** -bits)
    table = curve.to_frame()
    assert table.p.tolist() == bits.tolist()  # exact, coarsest first
    assert table.eps.tolist() == curve.eps[::-1].tolist()
    assert np.array_equal(table.C_num, curve.log2_net_size[::-1])
    assert (table.lower <= table.upper).all() and (table.upper <= table.C_num).all()


# ----------------------------------------------------------------------------------------
# bad inputs
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda p, e: greedy_net(p, e),
        lambda p, e: greedy_net_reference(p, e),
        lambda p, e: greedy_set_cover(p, e),
        lambda p, e: capacity_curve(p, [e]),
    ],
)
def test_bad_inputs(call):
    good = np.random.default_rng(16).random((10, 2))
    bad_points = good.copy()
    bad_points[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        call(bad_points, 0.1)
    bad_points[3, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        call(bad_points, 0.1)
    with pytest.raises(ValueError, match="empty"):
        call(np.empty((0, 2)), 0.1)
    with pytest.raises(ValueError, match="2-D"):
        call(good[:, 0], 0.1)
    for eps in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="eps"):
            call(good, eps)


def test_bad_options():
    points = np.random.default_rng(17).random((10, 2))
    with pytest.raises(ValueError, match="metric"):
        greedy_net(points, 0.1, metric="manhattan")
    with pytest.raises(ValueError, match="metric"):
        farthest_first(points, metric="cosine")
    with pytest.raises(ValueError, match="precision"):
        greedy_net(points, 0.1, precision="float16")
    with pytest.raises(ValueError, match="block_size"):
        greedy_net(points, 0.1, block_size=0)
    with pytest.raises(ValueError, match="method"):
        capacity_curve(points, [0.1], method="random")
    with pytest.raises(ValueError, match="eps_grid"):
        capacity_curve(points, [])
    with pytest.raises(ValueError, match="lower_from"):
        capacity_curve(points, [0.1], lower_from="nope")


# ----------------------------------------------------------------------------------------
# benchmark entry point (tiny sizes)
# ----------------------------------------------------------------------------------------


def test_bench_covering_and_matmul_smoke(capsys):
    from helpers import bench

    bench.main(["covering", "--n", "400", "--d", "16", "--json", "--eps-count", "8"])
    result = json.loads(capsys.readouterr().out)
    for key in (
        "n",
        "d",
        "eps_count",
        "seconds_fast",
        "seconds_reference_per_eps",
        "speedup",
        "identical",
        "peak_rss_mb",
    ):
        assert key in result
    assert result["identical"] is True and result["eps_count"] == 8
    bench.main(["covering", "--n", "300", "--d", "8", "--skip-reference"])
    assert "reference: skipped" in capsys.readouterr().out
    bench.main(["matmul", "--size", "64", "--repeats", "1"])
    assert json.loads(capsys.readouterr().out)["numpy_float32_square_gflops"] > 0
    data = bench.representation_like(500, 16, seed=1)
    assert data.shape == (500, 16) and data.min() == 0.0 and data.max() == 1.0


@pytest.mark.parametrize("method", covering.METHODS)
@pytest.mark.parametrize("metric", METRICS)
def test_capacity_curve_small_cases(method, metric):
    single = capacity_curve(np.zeros((1, 3)), [0.1, 1.0], method=method, metric=metric)
    np.testing.assert_array_equal(single.net_size, [1, 1])
    assert single.log2_n == 0.0
    points = np.random.default_rng(18).random((120, 3))
    grid = [0.5, 0.05, 0.2, 0.2]  # unsorted, repeated: sorted and de-duplicated
    curve = capacity_curve(points, grid, method=method, metric=metric)
    np.testing.assert_array_equal(curve.eps, [0.05, 0.2, 0.5])
    if method == "greedy":
        for eps, size in zip(curve.eps, curve.net_size, strict=True):
            assert size == len(greedy_net_reference(points, eps, metric=metric))


def test_cell_sandwich_certifies_the_cell_count_from_both_sides():
    points = sample_shape("circle", 200, ambient_dim=3, seed=1)
    table = covering.cell_sandwich(points, [1, 2, 4])
    assert table["bits"].tolist() == [1.0, 2.0, 4.0]
    assert table["lower_holds"].all() and table["upper_holds"].all()
    # radii eps * sqrt(3) > eps > eps / 2: nets grow as the radius shrinks
    assert (table["net_at_eps_sqrt_d"] <= table["net_at_eps"]).all()
    assert (table["net_at_eps"] <= table["net_at_half_eps"]).all()
    assert table["cells"][1] == quantize_count(points, 2)
    # 2**d overflows int64 in 64 dimensions; the check must still be exact
    wide = np.random.default_rng(0).uniform(size=(20, 64))
    assert covering.cell_sandwich(wide, [1])["upper_holds"].all()


def quantize_count(points, bits):
    from helpers.measure.quantize import count_occupied_cells

    return count_occupied_cells(points, bits)


def test_radius_grid_spans_every_scale_of_a_curve():
    points = np.array([[0.0, 0.0], [0.1, 0.0], [1.0, 0.0], [0.0, 2.0]])
    nearest = covering.neighbour_scales(points).nearest
    grid = covering.radius_grid(points, nearest, 5)
    assert grid[0] == pytest.approx(0.05) and grid[-1] == pytest.approx(2.0)
    assert np.all(np.diff(np.log(grid)) == pytest.approx(np.log(40) / 4))
    curve = covering.capacity_curve(points, grid)
    assert curve.net_size[0] == len(points) and curve.net_size[-1] == 1
    duplicates = np.zeros((3, 2))  # no positive distance: a grid is still returned
    assert np.all(np.isfinite(covering.radius_grid(duplicates, np.zeros(3), 3)))


def test_growth_exponents_are_log_log_slopes():
    sizes = np.array([[10.0, 10.0, 10.0], [10.0, 100.0, 1000.0]])
    exponents = covering.growth_exponents(sizes, [10, 100, 1000])
    assert exponents == pytest.approx(np.array([[0.0, 0.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="one column per sample size"):
        covering.growth_exponents(sizes, [10, 100])
    with pytest.raises(ValueError, match="increasing"):
        covering.growth_exponents(sizes, [10, 10, 1000])


def test_renyi_parking_constant():
    assert covering.renyi_parking_constant() == pytest.approx(0.747597920253, abs=1e-9)


def test_timed_returns_result_and_best_time():
    from helpers import bench

    calls = []
    result, seconds = bench.timed(lambda x: calls.append(x) or x * 2, 21, repeats=3)
    assert result == 42 and len(calls) == 3 and seconds >= 0
    runs = iter([(0.05, "slow"), (0.0, "fast"), (0.05, "slow")])

    def run():
        delay, name = next(runs)
        time.sleep(delay)
        return name

    result, seconds = bench.timed(run, repeats=3)
    assert result == "fast" and seconds < 0.05  # the fastest run's result comes back
    with pytest.raises(ValueError, match="repeats"):
        bench.timed(abs, 1, repeats=0)


def test_sample_covering_number_is_exact_on_segment_and_circle():
    from helpers.data import sample_covering_number

    segment = np.array([[0.0, 0, 0], [0.3, 0, 0], [0.5, 0, 0], [1.0, 0, 0]])
    assert sample_covering_number("segment", segment, 0.25) == 2  # {0, .3, .5} and {1}
    assert sample_covering_number("segment", segment, 0.5) == 1
    angle = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    circle = np.stack([0.5 + 0.5 * np.cos(angle), 0.5 + 0.5 * np.sin(angle)], axis=1)
    assert sample_covering_number("circle", circle, 0.6) == 1
    assert sample_covering_number("circle", circle, 0.01) == 6
    assert sample_covering_number("cube", circle, 0.1) is None
    with pytest.raises(ValueError, match="unknown shape"):
        sample_covering_number("torus", circle, 0.1)
