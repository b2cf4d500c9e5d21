"""Curvature: known answers (circle, parabola, helix, sphere, saddle, linear maps), agreement
of the secant and autograd estimators on smooth networks, ReLU flatness, directions,
bootstrap, thresholds and error messages."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from helpers.measure.curvature import (  # noqa: E402
    CurvatureSample,
    circular_arc,
    curvature_autograd,
    curvature_secant,
    data_tangent_directions,
    precision_threshold,
    radius_threshold,
    random_directions,
    representation_map,
)
from helpers.measure.quantize import code_length_bits, count_occupied_cells  # noqa: E402
from helpers.nets.models import build_model  # noqa: E402

ESTIMATORS = ("autograd", "secant")


def _estimate(method, fn, points, directions, h=1e-3):
    if method == "autograd":
        return curvature_autograd(fn, points, directions)
    return curvature_secant(fn, points, directions, h)


def _one_direction(n, *vector):
    """The same direction for n points, shape (n, 1, len(vector))."""
    return np.tile(np.asarray(vector, dtype=np.float64), (n, 1, 1))


def _gelu_mlp(seed=0, inputs=6, outputs=5):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(inputs, 32), nn.GELU(), nn.Linear(32, 32), nn.GELU(),
                         nn.Linear(32, outputs)).double()


def _tiny_cnn(activation, *, spectral_norm=False, dtype=torch.float64):
    torch.manual_seed(0)
    model = build_model("cnn-mnist", in_channels=1, image_size=8, activation=activation,
                        width=0.25, spectral_norm=spectral_norm)
    return representation_map(model.to(dtype))


def _images(n=10, dtype=torch.float64):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(1), dtype=dtype)


def _median_relative_error(sample, reference):
    return float(np.nanmedian(np.abs(sample.kappa / reference.kappa - 1)))


# --------------------------------------------------------------------------- known answers


@pytest.mark.parametrize("radius", [0.5, 2.0, 10.0])
def test_circle_has_curvature_one_over_radius(radius):
    def circle(t):
        return radius * torch.cat([torch.cos(t), torch.sin(t)], dim=1)

    points = np.linspace(-3, 3, 7)[:, None]
    directions = np.concatenate([_one_direction(7, 1.0), _one_direction(7, -1.0)], axis=1)
    exact = curvature_autograd(circle, points, directions)
    np.testing.assert_allclose(exact.kappa, 1 / radius, rtol=1e-5)
    np.testing.assert_allclose(exact.taylor, radius, rtol=1e-5)  # ||c''|| at unit t-speed
    np.testing.assert_allclose(exact.speed, radius, rtol=1e-5)
    # three points of a circle span that circle: the secant is exact at any step
    for h in (0.3, 1.0):
        secant = curvature_secant(circle, points, directions, h)
        np.testing.assert_allclose(secant.kappa, 1 / radius, rtol=1e-6)
        second_difference = radius * 2 * (1 - math.cos(h)) / h**2
        np.testing.assert_allclose(secant.taylor, second_difference, rtol=1e-6)


def test_parabola_vertex_curvature_and_secant_convergence():
    a = 1.5

    def parabola(x):
        return torch.cat([x, a * x**2], dim=1)

    vertex, direction = np.zeros((1, 1)), _one_direction(1, 1.0)
    exact = curvature_autograd(parabola, vertex, direction)
    assert exact.kappa.item() == pytest.approx(2 * a, rel=1e-12)
    assert exact.taylor.item() == pytest.approx(2 * a, rel=1e-12)
    steps = [1e-1, 1e-2, 1e-3]
    samples = curvature_secant(parabola, vertex, direction, steps)
    assert list(samples) == steps
    errors = [abs(samples[h].kappa.item() - 2 * a) for h in steps]
    for h in steps:
        # Menger curvature of (-h, a h^2), (0, 0), (h, a h^2) is 2a / (1 + a^2 h^2)
        assert samples[h].kappa.item() == pytest.approx(2 * a / (1 + a**2 * h**2), rel=1e-9)
    assert errors[0] > errors[1] > errors[2]
    assert errors[0] / errors[1] == pytest.approx(100, rel=0.1)  # O(h^2)
    assert errors[2] < 1e-3


@pytest.mark.parametrize("radius,pitch", [(1.0, 0.5), (3.0, 2.0)])
def test_helix_curvature(radius, pitch):
    def helix(t):
        return torch.cat([radius * torch.cos(t), radius * torch.sin(t), pitch * t], dim=1)

    points = np.linspace(0, 5, 6)[:, None]
    directions = _one_direction(6, 1.0)
    expected = radius / (radius**2 + pitch**2)
    assert np.allclose(curvature_autograd(helix, points, directions).kappa, expected,
                       rtol=1e-10)
    secant = curvature_secant(helix, points, directions, 1e-3)
    np.testing.assert_allclose(secant.kappa, expected, rtol=1e-5)


def test_sphere_latitude_and_meridian_curvature():
    radius = 2.0

    def sphere(angles):
        theta, phi = angles[:, :1], angles[:, 1:]
        return radius * torch.cat([torch.sin(theta) * torch.cos(phi),
                                   torch.sin(theta) * torch.sin(phi), torch.cos(theta)], dim=1)

    theta = np.array([0.4, 1.0, np.pi / 2, 2.5])
    points = np.stack([theta, np.linspace(-1, 1, 4)], axis=1)
    directions = np.stack([_one_direction(4, 1.0, 0.0)[:, 0], _one_direction(4, 0.0, 1.0)[:, 0],
                           _one_direction(4, 1.0, 1.0)[:, 0]], axis=1)
    for method in ESTIMATORS:
        sample = _estimate(method, sphere, points, directions, h=1e-4)
        np.testing.assert_allclose(sample.kappa[:, 0], 1 / radius, rtol=1e-6)  # great circle
        # a circle of latitude has radius R sin(theta)
        np.testing.assert_allclose(sample.kappa[:, 1], 1 / (radius * np.sin(theta)), rtol=1e-6)
        # any curve on the sphere bends at least as much as a great circle (normal curvature)
        assert np.all(sample.kappa[:, 2] >= 1 / radius * (1 - 1e-6))


def test_saddle_normal_curvature_at_origin():
    def saddle(xy):
        x, y = xy[:, :1], xy[:, 1:]
        return torch.cat([x, y, x**2 - y**2], dim=1)

    angles = np.linspace(0, np.pi, 7)
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)[None]
    origin = np.zeros((1, 2))
    expected = 2 * np.abs(np.cos(2 * angles))
    np.testing.assert_allclose(curvature_autograd(saddle, origin, directions).kappa[0],
                               expected, atol=1e-12)
    # the image of a line through the origin is the parabola s -> (s, cos(2 phi) s^2)
    h = 0.1
    secant = curvature_secant(saddle, origin, directions, h)
    np.testing.assert_allclose(secant.kappa[0], expected / (1 + (expected / 2 * h) ** 2),
                               atol=1e-12)


def test_linear_maps_have_zero_curvature():
    rng = np.random.default_rng(0)
    matrix = torch.as_tensor(rng.standard_normal((7, 5)))
    points = rng.standard_normal((6, 5))
    directions = random_directions(points, 3, seed=1)

    def linear(x):
        return x @ matrix.T + 1.0

    network = nn.Sequential(nn.Linear(5, 8), nn.Linear(8, 3)).double()
    for fn in (linear, network):
        exact = curvature_autograd(fn, points, directions)
        assert np.all(exact.kappa == 0) and np.all(exact.taylor == 0)
        assert np.all(exact.speed > 0)
        secant = curvature_secant(fn, points, directions, 0.1)
        scale = float(np.max(secant.speed))  # kappa is 1 / length: compare with 1 / scale
        assert np.all(secant.kappa < 1e-6 / scale)
        assert np.all(secant.taylor < 1e-6 * scale)


def test_locally_constant_direction_is_undefined():
    def square(x):
        return torch.cat([x**2, x**4], dim=1)

    points = np.array([[0.0], [1.0]])
    exact = curvature_autograd(square, points, _one_direction(2, 1.0))
    assert np.isnan(exact.kappa[0, 0]) and np.isfinite(exact.kappa[1, 0])
    assert exact.n_undefined == 1 and exact.fraction_undefined == 0.5
    assert exact.taylor[0, 0] == pytest.approx(2.0)  # c'' exists where c' = 0
    assert exact.speed[0, 0] == 0
    secant = curvature_secant(square, points, _one_direction(2, 1.0), 0.1)
    assert np.isnan(secant.kappa[0, 0]) and secant.n_undefined == 1  # g(-h) = g(h)
    assert secant.values().shape == (1,)


# --------------------------------------------------------------------------- invariances


def test_input_reparameterization_leaves_kappa_unchanged():
    mlp = _gelu_mlp()
    points = np.random.default_rng(0).standard_normal((8, 6))
    directions = random_directions(points, 3)
    base = curvature_autograd(mlp, points, directions)
    s = 7.0
    rescaled = curvature_autograd(lambda x: mlp(s * x), points / s, directions)
    np.testing.assert_allclose(rescaled.kappa, base.kappa, rtol=1e-9)
    np.testing.assert_allclose(rescaled.taylor, s**2 * base.taylor, rtol=1e-9)
    for method in ESTIMATORS:  # directions are normalized: only their direction matters
        unit = _estimate(method, mlp, points, directions)
        longer = _estimate(method, mlp, points, 5.0 * directions)
        for name in ("kappa", "taylor", "speed"):
            np.testing.assert_allclose(getattr(longer, name), getattr(unit, name), rtol=1e-9)


@pytest.mark.parametrize("method", ESTIMATORS)
def test_output_scaling_divides_kappa(method):
    mlp = _gelu_mlp()
    points = np.random.default_rng(0).standard_normal((8, 6))
    directions = random_directions(points, 2)
    s = 4.0
    base = _estimate(method, mlp, points, directions)
    scaled_map = _estimate(method, lambda x: s * mlp(x), points, directions)
    np.testing.assert_allclose(scaled_map.kappa, base.kappa / s, rtol=1e-9)
    np.testing.assert_allclose(scaled_map.taylor, base.taylor * s, rtol=1e-9)
    via_method = base.scaled(s)
    np.testing.assert_allclose(via_method.kappa, scaled_map.kappa, rtol=1e-9)
    np.testing.assert_allclose(via_method.taylor, scaled_map.taylor, rtol=1e-9)
    np.testing.assert_allclose(via_method.speed, scaled_map.speed, rtol=1e-9)
    assert via_method.method == base.method and via_method.h == base.h
    with pytest.raises(ValueError, match="output_scale"):
        base.scaled(0.0)


# --------------------------------------------------------------------------- networks


def test_secant_converges_to_autograd_on_smooth_mlp():
    mlp = _gelu_mlp()
    points = np.random.default_rng(0).standard_normal((20, 6))
    directions = random_directions(points, 3)
    exact = curvature_autograd(mlp, points, directions, batch_size=7)  # several chunks
    assert exact.n_undefined == 0 and np.all(exact.kappa > 0)
    steps = [1e-1, 1e-2, 1e-3]
    samples = curvature_secant(mlp, points, directions, steps, batch_size=16)
    errors = [_median_relative_error(samples[h], exact) for h in steps]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3
    taylor_error = np.median(np.abs(samples[1e-3].taylor / exact.taylor - 1))
    assert taylor_error < 1e-3
    np.testing.assert_allclose(samples[1e-3].speed, exact.speed, rtol=1e-4)
    # the chunking does not change the numbers, up to rounding: BLAS may sum a batch of 7 rows
    # in another order than a batch of 20, so bit equality depends on the CPU
    np.testing.assert_allclose(curvature_autograd(mlp, points, directions).kappa,
                               exact.kappa, rtol=1e-12, atol=0)


def test_gelu_cnn_secant_converges_to_autograd():
    fn = _tiny_cnn("gelu")
    images = _images()
    directions = random_directions(images, 2)
    exact = curvature_autograd(fn, images, directions)
    assert exact.kappa.shape == (10, 2) and exact.n_undefined == 0
    steps = [1e-1, 1e-2, 1e-3]
    samples = curvature_secant(fn, images, directions, steps)
    errors = [_median_relative_error(samples[h], exact) for h in steps]
    # max pooling is piecewise: steps of 1e-1 and 1e-2 cross its kinks, 1e-3 mostly not
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3
    # float32 (the models' dtype) gives the same autograd curvature
    single = curvature_autograd(_tiny_cnn("gelu", dtype=torch.float32),
                                images.float(), directions.astype(np.float32))
    np.testing.assert_allclose(single.kappa, exact.kappa, rtol=1e-3)


def test_relu_network_is_flat_almost_everywhere():
    fn = _tiny_cnn("relu", dtype=torch.float32)
    images = _images(dtype=torch.float32)
    directions = random_directions(images, 3)
    exact = curvature_autograd(fn, images, directions)
    assert exact.values().size > exact.kappa.size // 2
    assert np.all(exact.values() == 0) and np.all(exact.taylor == 0)
    secant = curvature_secant(fn, images, directions, 0.1)  # crosses kinks: bends
    assert np.nanmax(secant.kappa) > 0 and secant.median > 0


def test_spectral_norm_model_runs_in_eval_mode():
    fn = _tiny_cnn("gelu", spectral_norm=True, dtype=torch.float32)
    assert not fn.model.training
    images = _images(4, dtype=torch.float32)
    before = fn(images).detach().clone()
    sample = curvature_autograd(fn, images, random_directions(images, 2))
    assert sample.kappa.shape == (4, 2) and np.all(np.isfinite(sample.kappa))
    torch.testing.assert_close(fn(images), before)  # no power iteration ran


def test_silu_cnn_through_decomposition_matches_secant():
    # silu has no second-order forward-mode rule in torch; the module swaps in x sigmoid(x)
    fn = _tiny_cnn("silu")
    images = _images(4)
    directions = random_directions(images, 2)
    exact = curvature_autograd(fn, images, directions)
    secant = curvature_secant(fn, images, directions, 1e-4)
    assert _median_relative_error(secant, exact) < 1e-4
    assert F.silu(torch.ones(1)).item() == pytest.approx(1 / (1 + math.exp(-1)))


@pytest.mark.parametrize("operation", [
    F.silu, F.mish, F.gelu, torch.tanh, F.softplus, lambda x: F.glu(x, dim=-1),
    lambda x: F.scaled_dot_product_attention(x.view(-1, 4, 4), x.view(-1, 4, 4),
                                             x.view(-1, 4, 4)).flatten(1),
    lambda x: F.scaled_dot_product_attention(x.view(-1, 4, 4), x.view(-1, 4, 4),
                                             x.view(-1, 4, 4), is_causal=True).flatten(1),
    lambda x: F.layer_norm(x, (16,), torch.linspace(0.5, 1.5, 16, dtype=x.dtype),
                           torch.linspace(-1, 1, 16, dtype=x.dtype)),
    lambda x: F.layer_norm(x.view(-1, 4, 4), (4, 4)).flatten(1),
], ids=["silu", "mish", "gelu", "tanh", "softplus", "glu", "attention", "causal-attention",
        "layer-norm", "layer-norm-2d"])
def test_operations_agree_with_secant(operation):
    torch.manual_seed(0)
    first, last = nn.Linear(3, 16).double(), nn.Linear(16, 4).double()

    def fn(x):
        hidden = operation(first(x))
        return last(F.pad(hidden, (0, 16 - hidden.shape[1])))

    points = np.random.default_rng(0).standard_normal((5, 3))
    directions = random_directions(points, 2)
    exact = curvature_autograd(fn, points, directions)
    secant = curvature_secant(fn, points, directions, 1e-4)
    assert _median_relative_error(secant, exact) < 1e-5


def test_transformer_embedding_map_agrees_with_secant():
    # LayerNorm, masked attention and masked mean pooling: the transformer's map from its
    # input embeddings, as the chapter measures it
    from helpers.experiments.curvature import _EmbeddedTextMap

    torch.manual_seed(0)
    model = build_model("transformer-tiny", vocab_size=20, width=0.25, n_layers=1,
                        representation_dim=16, n_heads=2, max_length=6).double().eval()
    ids = torch.tensor([[2, 3, 4, 0, 0, 0], [5, 6, 7, 8, 9, 0]])
    embedded, mask = model.embed(ids)
    points = torch.cat([embedded, mask[..., None].double()], dim=-1).detach().numpy()
    fn = _EmbeddedTextMap(model, offset=0.0, scale=1.0)
    directions = random_directions(points, 2)
    directions[..., 16] = 0.0  # the mask channel never moves
    directions /= np.linalg.norm(directions.reshape(2, 2, -1), axis=2)[..., None, None]
    exact = curvature_autograd(fn, points, directions)
    secant = curvature_secant(fn, points, directions, 1e-5)
    assert _median_relative_error(secant, exact) < 1e-4
    assert np.allclose(fn(torch.as_tensor(points)).detach().numpy(),
                       model.represent(ids).detach().numpy())


def test_unsupported_operation_error_points_to_secant():
    def fn(x):  # an autograd.Function without a forward-mode rule
        return _NoForward.apply(x)

    with pytest.raises(NotImplementedError, match="curvature_secant|forward"):
        curvature_autograd(fn, np.zeros((1, 2)), _one_direction(1, 1.0, 0.0))


class _NoForward(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x * 2

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


# --------------------------------------------------------------------------- model wrapper


def test_representation_map_normalizes_and_accepts_trained_models():
    torch.manual_seed(0)
    model = build_model("cnn-mnist", in_channels=1, image_size=8, width=0.25)
    model.train()
    offset, scale = np.linspace(-1, 1, 64), 0.5
    fn = representation_map(SimpleNamespace(model=model), offset=offset, scale=scale)
    assert fn.model is model and not model.training
    images = _images(3, dtype=torch.float32)
    expected = (model.represent(images) - torch.as_tensor(offset, dtype=torch.float32)) * scale
    torch.testing.assert_close(fn(images), expected)
    assert fn.device == torch.device("cpu")
    with pytest.raises(ValueError, match="scale"):
        representation_map(model, scale=0.0)


@pytest.mark.parametrize("thing", [nn.Linear(2, 2), 3])
def test_representation_map_rejects_objects_without_represent(thing):
    with pytest.raises(TypeError, match="represent"):
        representation_map(thing)


# --------------------------------------------------------------------------- directions


def test_random_directions_are_unit_and_seeded():
    points = np.zeros((4, 2, 3), dtype=np.float32)
    directions = random_directions(points, 5, seed=3)
    assert directions.shape == (4, 5, 2, 3) and directions.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(directions.reshape(4, 5, -1), axis=2), 1,
                               rtol=1e-6)
    np.testing.assert_array_equal(directions, random_directions(points, 5, seed=3))
    assert not np.array_equal(directions, random_directions(points, 5, seed=4))


def _brute_force_neighbours(flat, index, count):
    distances = np.linalg.norm(flat - flat[index], axis=1)
    candidates = [j for j in np.argsort(distances, kind="stable") if distances[j] > 0]
    return candidates[:count]


def test_data_tangent_directions_point_to_nearest_distinct_neighbours():
    rng = np.random.default_rng(0)
    points = rng.standard_normal((30, 2, 3))
    points[5] = points[0]  # an exact duplicate: never a direction (it would be zero)
    points[17] = points[0]
    flat = points.reshape(30, -1)
    directions = data_tangent_directions(points, 3)
    assert directions.shape == (30, 3, 2, 3)
    directions_flat = directions.reshape(30, 3, -1)
    np.testing.assert_allclose(np.linalg.norm(directions_flat, axis=2), 1, rtol=1e-12)
    for index in range(30):
        for rank, neighbour in enumerate(_brute_force_neighbours(flat, index, 3)):
            step = flat[neighbour] - flat[index]
            np.testing.assert_allclose(directions_flat[index, rank],
                                       step / np.linalg.norm(step), atol=1e-12)
    # with a larger neighbourhood, k of its members are drawn
    drawn = data_tangent_directions(points, 2, neighbours=6, seed=1).reshape(30, 2, -1)
    for index in range(30):
        allowed = [(flat[j] - flat[index]) / np.linalg.norm(flat[j] - flat[index])
                   for j in _brute_force_neighbours(flat, index, 6)]
        for direction in drawn[index]:
            assert min(np.abs(direction - a).max() for a in allowed) < 1e-12


def test_data_tangent_directions_need_enough_distinct_points():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    assert data_tangent_directions(points, 2).shape == (5, 2, 2)
    with pytest.raises(ValueError, match="distinct"):
        data_tangent_directions(points, 3)
    with pytest.raises(ValueError, match="neighbours"):
        data_tangent_directions(points, 2, neighbours=1)


# --------------------------------------------------------------------------- statistics


def _sample(kappa):
    kappa = np.asarray(kappa, dtype=np.float64)
    return CurvatureSample(kappa=kappa, taylor=np.ones_like(kappa), speed=np.ones_like(kappa),
                           method="autograd")


def test_bootstrap_resamples_points_not_pairs():
    per_point = np.random.default_rng(0).lognormal(size=50)
    # twenty identical directions per point carry no more information than one
    repeated = _sample(np.repeat(per_point[:, None], 20, axis=1))
    single = _sample(per_point[:, None])
    for statistic in ("median", "mean", 0.9):
        wide = repeated.interval(statistic, n_bootstrap=300)
        narrow = single.interval(statistic, n_bootstrap=300)
        np.testing.assert_allclose(wide, narrow, rtol=1e-12)
    estimate, low, high = repeated.interval()
    assert estimate == pytest.approx(np.median(per_point))
    assert low < estimate < high
    # resampling the 1,000 pairs as if independent would give a far narrower interval
    independent = _sample(np.repeat(per_point, 20)[:, None]).interval(n_bootstrap=300)
    assert independent[2] - independent[1] < (high - low) / 2


def test_summary_quantiles_and_undefined_values():
    sample = _sample([[1.0, 2.0, np.nan], [3.0, 4.0, 5.0]])
    assert sample.n_undefined == 1 and sample.values().tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert sample.median == 3.0 and sample.quantile(1.0) == 5.0
    summary = sample.summary()
    assert summary["n"] == 5 and summary["max"] == 5.0 and summary["q0.5"] == 3.0
    assert summary["fraction_undefined"] == pytest.approx(1 / 6)
    assert set(summary) >= {"q0.9", "q0.99", "mean", "n_points", "n_directions", "method"}
    assert "median=3" in repr(sample)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sample.quantile(1.5)
    nothing = _sample([[np.nan]])
    assert np.isnan(nothing.median) and np.isnan(nothing.summary()["max"])
    with pytest.raises(ValueError, match="undefined"):
        nothing.interval()


def test_sample_checks_its_fields():
    with pytest.raises(ValueError, match="same shape"):
        CurvatureSample(kappa=np.ones((2, 2)), taylor=np.ones((2, 3)), speed=np.ones((2, 2)),
                        method="autograd")
    with pytest.raises(ValueError, match="method"):
        CurvatureSample(kappa=np.ones((1, 1)), taylor=np.ones((1, 1)), speed=np.ones((1, 1)),
                        method="exact")
    sample = _sample(np.ones((2, 2)))
    with pytest.raises(ValueError):
        sample.kappa[0, 0] = 2.0  # read-only


def test_thresholds():
    assert precision_threshold(4.0) == pytest.approx(1.0)
    assert radius_threshold(4.0) == pytest.approx(2.0)
    assert precision_threshold(0.0) == -np.inf and radius_threshold(0.0) == -np.inf
    assert precision_threshold(np.inf) == np.inf
    np.testing.assert_allclose(precision_threshold([1.0, 16.0, 0.0]), [0.0, 2.0, -np.inf])
    with pytest.raises(ValueError, match="NaN"):
        precision_threshold([1.0, np.nan])


# --------------------------------------------------------------------------- errors


def _identity(x):
    return x.flatten(1)


def test_non_finite_inputs_are_named():
    points, directions = np.zeros((3, 2)), np.ones((3, 1, 2))
    points[1, 0] = np.nan
    with pytest.raises(ValueError, match="points holds 1 NaN"):
        curvature_autograd(_identity, points, directions)
    directions[0, 0, 1] = np.inf
    with pytest.raises(ValueError, match="directions holds 1 NaN"):
        curvature_secant(_identity, np.zeros((3, 2)), directions, 0.1)


@pytest.mark.parametrize("h", [0.0, -0.1, float("nan"), float("inf"), [0.1, -1.0], []])
def test_bad_steps(h):
    with pytest.raises(ValueError, match="h must be a positive step in input units"):
        curvature_secant(_identity, np.zeros((1, 2)), np.ones((1, 1, 2)), h)


def test_mismatched_directions_and_zero_directions():
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 2, 3\)"):
        curvature_autograd(_identity, np.zeros((4, 2)), np.ones((4, 2, 3)))
    with pytest.raises(ValueError, match=r"\(3, 1, 2\)"):
        curvature_autograd(_identity, np.zeros((4, 2)), np.ones((3, 1, 2)))
    directions = np.ones((2, 2, 2))
    directions[1, 0] = 0
    with pytest.raises(ValueError, match=r"zero vectors.*\(1, 0\)"):
        curvature_autograd(_identity, np.zeros((2, 2)), directions)


@pytest.mark.parametrize("method", ESTIMATORS)
def test_bad_map_outputs(method):
    points, directions = np.ones((3, 2)), np.ones((3, 1, 2))
    with pytest.raises(ValueError, match="shape"):
        _estimate(method, lambda x: x.sum(dim=1), points, directions)
    with pytest.raises(ValueError, match="shape"):
        _estimate(method, lambda x: x[:1], points, directions)
    with pytest.raises(ValueError, match="NaN/inf"):
        _estimate(method, lambda x: torch.log(x - 1), points, directions)


# --------------------------------------------------------------------------- suite models


def test_model_curvature_on_suite_records_and_its_cache(tiny_suite, tmp_path):
    from helpers.experiments.curvature import model_curvature
    from helpers.measure.curvature import DIRECTION_KINDS, secant_convergence

    settings = dict(n_points=6, n_directions=2, steps=[1e-3, 0.1], main_step=1e-3)
    measured = {}
    for record in tiny_suite:
        sample = record.normalized(30, 60)
        m = model_curvature(record, sample, **settings, cache_dir=tmp_path)
        measured[record.label] = m
        again = model_curvature(record, sample, **settings, cache_dir=tmp_path)
        for kind in DIRECTION_KINDS:
            assert m.autograd[kind].kappa.shape == (6, 2)
            assert np.array_equal(m.autograd[kind].kappa, again.autograd[kind].kappa,
                                  equal_nan=True)
        assert m.smooth == (record.activation != "relu")
        assert m.primary_method == ("autograd" if m.smooth else "secant")
        assert m.input_diameter > 0
        if not m.smooth:  # ReLU: autograd sees no curvature, secants do
            assert np.nanmax(m.autograd["random"].kappa) == 0
        value, low, high = m.threshold(0.9, n_bootstrap=50)
        assert low <= value <= high
        with pytest.raises(ValueError, match="measured steps"):
            m.estimate("random", "secant", step=0.5)
    rows = secant_convergence(measured)
    smooth = {row["model"] for row in rows}
    assert smooth == {"CNN-MNIST (smooth)", "Transformer-Tiny"}
    # smooth maps: at the small step the secant agrees with autograd
    small = [row["median relative difference"] for row in rows if row["step h / D"] == 1e-3]
    assert max(small) < 1e-3


def test_model_curvature_needs_a_representation_layer(tiny_suite):
    from dataclasses import replace

    from helpers.experiments.curvature import model_curvature

    record = tiny_suite[0]
    broken = replace(record, trained=SimpleNamespace(model=nn.Linear(64, 3), key_hash=""))
    with pytest.raises(TypeError, match="represent"):
        model_curvature(broken, record.normalized(30, 60), n_points=2, n_directions=1,
                        steps=[0.1], main_step=0.1, cache=False)
    with pytest.raises(ValueError, match="main_step"):
        model_curvature(record, record.normalized(30, 60), n_points=2, n_directions=1,
                        steps=[0.1], main_step=0.01, cache=False)


# --------------------------------------------------------------------------- circular arcs


@pytest.mark.parametrize("kappa", [0.0, 0.3, 1.0, 1.7, 2.0])
def test_circular_arc_geometry(kappa):
    """Ends, constant distance from the centre (curvature kappa), sagitta, equal spacing."""
    arc = circular_arc((0.0, 0.0), (1.0, 0.0), kappa, n_points=401)
    assert arc.shape == (401, 2)
    assert np.array_equal(arc[0], [0.0, 0.0]) and np.array_equal(arc[-1], [1.0, 0.0])
    steps = np.hypot(*np.diff(arc, axis=0).T)
    np.testing.assert_allclose(steps, steps.mean(), rtol=1e-9)  # even in arc length
    if kappa == 0:
        np.testing.assert_array_equal(arc[:, 1], 0.0)
        return
    radius = 1.0 / kappa
    sagitta = radius - math.sqrt(radius**2 - 0.25)
    centre = np.array([0.5, sagitta - radius])  # below the chord: the arc bulges upward
    np.testing.assert_allclose(np.hypot(*(arc - centre).T), radius, rtol=1e-12)
    assert arc[:, 1].min() >= 0.0  # no rounding error below the chord
    np.testing.assert_allclose(arc[:, 1].max(), sagitta, rtol=1e-6)


def test_circular_arc_direction_and_tilted_chord():
    start, end = np.array([0.2, 0.1]), np.array([0.5, 0.5])  # chord length 0.5
    arc = circular_arc(start, end, 3.0, n_points=101)
    assert np.array_equal(arc[0], start) and np.array_equal(arc[-1], end)
    chord = end - start
    # every interior point lies to the left of start -> end (positive cross product)
    cross = chord[0] * (arc[1:-1, 1] - start[1]) - chord[1] * (arc[1:-1, 0] - start[0])
    assert np.all(cross > 0)
    reverse = circular_arc(end, start, 3.0, n_points=101)
    cross = chord[0] * (reverse[1:-1, 1] - start[1]) - chord[1] * (reverse[1:-1, 0] - start[0])
    assert np.all(cross < 0)


@pytest.mark.parametrize("kappa", [0.0, 0.8, 2.0])
@pytest.mark.parametrize("bits", [0.5, 1.0, 2.5, 3.0, 7.0])
def test_spanning_arc_meets_more_than_two_to_the_p_cells(kappa, bits):
    """The proposition of chapter 4: an arc over the square's bottom side, kappa <= 2."""
    arc = circular_arc((0.0, 0.0), (1.0, 0.0), kappa, n_points=4097)
    assert np.all((arc >= 0.0) & (arc <= 1.0))
    cells = count_occupied_cells(arc, bits)
    assert cells >= code_length_bits(bits).levels > 2.0**bits


@pytest.mark.parametrize("kwargs, message", [
    (dict(start=(0, 0), end=(1, 0), kappa=2.1), "no arc of curvature"),
    (dict(start=(0, 0), end=(0, 0), kappa=1.0), "must differ"),
    (dict(start=(0, 0, 0), end=(1, 0, 0), kappa=1.0), "points of the plane"),
    (dict(start=(0, 0), end=(1, 0), kappa=-1.0), "kappa"),
    (dict(start=(0, 0), end=(1, 0), kappa=float("nan")), "kappa"),
    (dict(start=(0, 0), end=(1, 0), kappa=[1.0, 2.0]), "one number"),
    (dict(start=(0, np.inf), end=(1, 0), kappa=1.0), "finite"),
    (dict(start=(0, 0), end=(1, 0), kappa=1.0, n_points=1), "n_points"),
])
def test_circular_arc_refuses(kwargs, message):
    with pytest.raises(ValueError, match=message):
        circular_arc(**kwargs)
