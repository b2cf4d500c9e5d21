"""Lipschitz bounds: per-layer norms against explicit matrices, whole models, known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from scipy.spatial.distance import pdist  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.utils import parametrizations  # noqa: E402

from helpers.measure.lipschitz import (  # noqa: E402
    GELU_LIPSCHITZ,
    SILU_LIPSCHITZ,
    LipschitzBound,
    UnsupportedLayerError,
    activation_lipschitz,
    book_units,
    certified_upper_bound,
    conv_operator_norm,
    empirical_lower_bound,
    input_diameter,
    layer_operator_norm,
    linear_operator_norm,
)
from helpers.nets.models import BasicBlock, ScaledAvgPool2d, build_model  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def explicit_matrix(linear_map, input_shape):
    """Matrix of a linear map on float64 tensors of ``input_shape``, one column per basis vector."""
    size = math.prod(input_shape)
    basis = torch.eye(size, dtype=torch.float64).reshape(size, *input_shape)
    with torch.no_grad():
        columns = linear_map(basis).reshape(size, -1)
    return columns.T.numpy()


def top_singular_value(matrix):
    return float(np.linalg.svd(matrix, compute_uv=False)[0])


def orthogonal(size, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((size, size)))
    return torch.tensor(q, dtype=torch.float32)


# --------------------------------------------------------------------------- per layer


def test_linear_operator_norm_is_top_singular_value():
    torch.manual_seed(0)
    layer = nn.Linear(7, 5)
    norm = linear_operator_norm(layer)
    expected = top_singular_value(layer.weight.detach().double().numpy())
    assert norm.upper == pytest.approx(expected, rel=1e-10)
    assert norm.power_iteration == norm.reshaped_matrix_norm == norm.upper
    assert norm.kind == "linear"


# (C_in, C_out, kernel, stride, padding, H, W). Over seeds 0-4 the FFT bound was 1.03 to
# 1.27 times the exact norm (exactly 1 for the 1x1 convolution); over 400 random layers
# (kernel 1-5, stride 1-3, padding 0-k, sides up to 8) the median was 1.14.
CONV_CASES = {
    "3x3 pad 1": (2, 3, 3, 1, 1, 5, 5),
    "3x3 pad 1 stride 2": (2, 3, 3, 2, 1, 5, 5),
    "3x3 no padding": (2, 3, 3, 1, 0, 5, 5),
    "3x3 pad 2, 5x7": (2, 3, 3, 1, 2, 5, 7),
    "1x1 stride 2": (3, 2, 1, 2, 0, 5, 5),
    "4x4 pad 1 stride 2, 7x6": (2, 3, 4, 2, 1, 7, 6),
    "5x5 pad 2 stride 3, 8x8": (2, 3, 5, 3, 2, 8, 8),
}


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv_operator_norm_against_explicit_matrix(case):
    c_in, c_out, kernel, stride, padding, height, width = CONV_CASES[case]
    torch.manual_seed(1)
    conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding)
    weight = conv.weight.detach().double()
    matrix = explicit_matrix(lambda x: F.conv2d(x, weight, None, stride, padding),
                             (c_in, height, width))
    exact = top_singular_value(matrix)
    norm = conv_operator_norm(conv, (c_in, height, width), n_iter=1000, tol=1e-12)
    assert exact <= norm.upper + 1e-5
    assert norm.power_iteration <= exact * (1 + 1e-9)  # a lower bound by construction
    assert norm.power_iteration == pytest.approx(exact, rel=1e-4)
    assert norm.upper <= 1.3 * exact  # the circular bound is close on these small cases
    reshaped = top_singular_value(weight.reshape(c_out, -1).numpy())
    assert norm.reshaped_matrix_norm == pytest.approx(reshaped, rel=1e-10)
    if kernel == 1:  # a 1x1 convolution is channel mixing: the bound is exact
        assert norm.upper == pytest.approx(exact, rel=1e-10)


@pytest.mark.parametrize("shape", [(2, 5, 5), (2, 4, 6)])
def test_fft_bound_is_the_norm_of_the_circular_convolution(shape):
    torch.manual_seed(2)
    conv = nn.Conv2d(shape[0], 3, 3, padding=1)
    norm = conv_operator_norm(conv, shape)
    n_h, n_w = norm.torus_shape
    assert (n_h, n_w) == (shape[1] + 1, shape[2] + 1)  # N = H + padding suffices
    weight = conv.weight.detach().double()

    def circular(x):  # stride-1 convolution on the n_h x n_w torus
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="circular"), weight)

    exact = top_singular_value(explicit_matrix(circular, (shape[0], n_h, n_w)))
    assert norm.upper == pytest.approx(exact, rel=1e-9)


def test_conv_rejects_groups_dilation_and_bad_shapes():
    with pytest.raises(NotImplementedError, match="groups=2"):
        conv_operator_norm(nn.Conv2d(2, 2, 3, groups=2), (2, 6, 6))
    with pytest.raises(NotImplementedError, match="dilation"):
        conv_operator_norm(nn.Conv2d(2, 2, 3, dilation=2), (2, 6, 6))
    with pytest.raises(ValueError, match="C_in=2"):
        conv_operator_norm(nn.Conv2d(2, 2, 3), (3, 6, 6))


def test_composition_bound_is_the_product_and_tight_when_aligned():
    rng = np.random.default_rng(3)
    u1, u2, v1 = (np.linalg.qr(rng.standard_normal((4, 4)))[0] for _ in range(3))
    first, second = nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False)
    with torch.no_grad():
        # W1 = U1 diag(s1) V1^T, W2 = U2 diag(s2) U1^T: singular vectors line up
        first.weight.copy_(torch.tensor(u1 @ np.diag([3.0, 2.0, 1.0, 0.5]) @ v1.T))
        second.weight.copy_(torch.tensor(u2 @ np.diag([2.0, 1.5, 1.0, 0.1]) @ u1.T))
    aligned = certified_upper_bound(nn.Sequential(first, second), (4,))
    assert aligned.upper == pytest.approx(6.0, rel=1e-6)
    product = (second.weight @ first.weight).detach().double().numpy()
    assert top_singular_value(product) == pytest.approx(aligned.upper, rel=1e-6)

    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(6, 5), nn.Linear(5, 4))  # generic: product > norm
    bound = certified_upper_bound(model, (6,))
    norms = [top_singular_value(layer.weight.detach().double().numpy()) for layer in model]
    assert bound.upper == pytest.approx(norms[0] * norms[1], rel=1e-9)
    composed = top_singular_value((model[1].weight @ model[0].weight).detach().double().numpy())
    assert composed < bound.upper
    lower = empirical_lower_bound(model, torch.rand(8, 6), n_iter=100)
    assert lower.jacobian == pytest.approx(composed, rel=1e-4)  # a linear map: exact


def _run_spectral_norm_updates(layer, example, steps=30):
    layer.train()
    with torch.no_grad():
        for _ in range(steps):
            layer(example)
    layer.eval()


def test_spectral_normalized_dense_layer_has_norm_one():
    torch.manual_seed(4)
    layer = parametrizations.spectral_norm(nn.Linear(20, 10))
    with torch.no_grad():
        layer.parametrizations.weight.original.mul_(5.0)
    _run_spectral_norm_updates(layer, torch.randn(3, 20))
    assert linear_operator_norm(layer).upper == pytest.approx(1.0, abs=1e-2)


def test_spectral_normalized_conv_normalizes_the_reshaped_matrix_not_the_operator():
    torch.manual_seed(5)
    conv = parametrizations.spectral_norm(nn.Conv2d(3, 4, 3, padding=1))
    _run_spectral_norm_updates(conv, torch.randn(1, 3, 8, 8))
    norm = conv_operator_norm(conv, (3, 8, 8))
    assert norm.reshaped_matrix_norm == pytest.approx(1.0, abs=1e-2)
    # the operator norm is a different number: 1.84 (certified bound 1.89) here
    assert norm.power_iteration <= norm.upper + 1e-9
    assert norm.power_iteration > 1.1 * norm.reshaped_matrix_norm


def test_activation_constants():
    grid = torch.linspace(-8, 8, 160_001, dtype=torch.float64, requires_grad=True)
    for module, expected in ((nn.GELU(), 1.1289), (nn.SiLU(), 1.0998)):
        (slope,) = torch.autograd.grad(module(grid).sum(), grid)
        assert activation_lipschitz(module) == pytest.approx(expected, abs=1e-3)
        assert float(slope.abs().max()) <= activation_lipschitz(module) + 1e-12
        assert float(slope.abs().max()) == pytest.approx(activation_lipschitz(module), abs=1e-8)
    assert (GELU_LIPSCHITZ, SILU_LIPSCHITZ) == (activation_lipschitz(nn.GELU()),
                                                activation_lipschitz(nn.SiLU()))
    assert activation_lipschitz(nn.ReLU()) == 1.0


@pytest.mark.parametrize("layer, shape, expected", [
    (nn.MaxPool2d(2), (1, 6, 6), 1.0),
    (nn.MaxPool2d(3, stride=1), (1, 7, 7), 3.0),
    (nn.AvgPool2d(2), (1, 4, 4), 0.5),
    (ScaledAvgPool2d(2), (1, 4, 4), 1.0),
    (ScaledAvgPool2d((1, 4)), (2, 4, 8), 1.0),
    (nn.AdaptiveAvgPool2d(1), (2, 4, 4), 0.25),
])
def test_pooling_constants_are_attained(layer, shape, expected):
    """Each constant is a bound, and one perturbation reaches it."""
    assert layer_operator_norm(layer, shape).upper == pytest.approx(expected)
    if isinstance(layer, nn.MaxPool2d):  # one raised pixel is the max of every window it is in
        delta = torch.zeros(1, *shape)
        delta[..., shape[1] // 2, shape[2] // 2] = 1.0
    else:  # averaging: a constant perturbation
        delta = torch.ones(1, *shape)
    gain = float(torch.linalg.vector_norm(layer(delta)) / torch.linalg.vector_norm(delta))
    assert gain == pytest.approx(expected, rel=1e-6)


# --------------------------------------------------------------------------- whole models


@pytest.mark.parametrize("name", ["cnn-mnist", "cnn-cifar", "resnet8"])
@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_certified_upper_bound_dominates_measured_lower_bound(name, spectral_norm, activation):
    torch.manual_seed(6)
    # the smooth variants' pooling with GELU (chapter "Curvature threshold"), max with ReLU
    pooling = {} if name == "resnet8" or activation == "relu" else {"pooling": "scaled-avg"}
    model = build_model(name, in_channels=1, image_size=8, width=0.25,
                        spectral_norm=spectral_norm, activation=activation, **pooling)
    model.train()
    bound = certified_upper_bound(model)
    assert model.training and all(m.training for m in model.modules())  # modes restored
    assert bound.certified and bound.input_shape == (1, 8, 8)
    assert bound.output_shape == (model.representation_dim,)
    factors = [row.upper for row in bound.layers if row.role in ("layer", "block")]
    assert math.prod(factors) == pytest.approx(bound.upper, rel=1e-9)
    assert bound.layerwise_estimate <= bound.upper * (1 + 1e-9)
    points = torch.rand(16, 1, 8, 8)
    lower = empirical_lower_bound(model, points, n_iter=10)
    assert 0 < lower.pairs <= lower.jacobian * 1.5  # ReLU kinks aside, pairs sit below J
    assert lower.jacobian <= bound.upper
    assert lower.pairs <= bound.upper
    assert lower.lower == max(lower.jacobian, lower.pairs)


def test_orthogonal_relu_network_is_exactly_one_lipschitz():
    layers = []
    for seed in range(3):
        linear = nn.Linear(6, 6)
        with torch.no_grad():
            linear.weight.copy_(orthogonal(6, seed))
            linear.bias.fill_(10.0)  # inputs in [0, 1] keep every ReLU in its linear part
        layers += [linear, nn.ReLU()]
    model = nn.Sequential(*layers)
    assert certified_upper_bound(model, (6,)).upper == pytest.approx(1.0, abs=1e-5)
    lower = empirical_lower_bound(model, torch.rand(32, 6), n_iter=5)
    assert lower.jacobian == pytest.approx(1.0, abs=1e-4)
    assert lower.pairs == pytest.approx(1.0, abs=1e-3)


def test_residual_block_combines_branch_and_shortcut():
    block = BasicBlock(3, 3, 1, spectral_norm=False, activation="relu")
    with torch.no_grad():  # conv branch off: block(x) = relu(x + bias), 1-Lipschitz
        block.conv1.weight.zero_()
        block.conv2.weight.zero_()
        block.conv2.bias.fill_(10.0)
    bound = certified_upper_bound(nn.Sequential(block), (3, 4, 4), num_threads=2)
    assert torch.get_num_threads() == 1  # restored
    assert bound.upper == pytest.approx(1.0, abs=1e-12)
    lower = empirical_lower_bound(nn.Sequential(block), torch.rand(4, 3, 4, 4), n_iter=3)
    assert lower.jacobian == pytest.approx(1.0, abs=1e-5)

    torch.manual_seed(9)
    model = build_model("resnet8", in_channels=1, image_size=8, width=0.25, activation="gelu")
    rows = {row.name: row.upper for row in certified_upper_bound(model).layers}
    for stage in ("stages.0", "stages.1", "stages.2"):
        act = rows[f"{stage}.act"]
        assert act == pytest.approx(GELU_LIPSCHITZ)
        expected = act * (rows[f"{stage}.conv2"] * act * rows[f"{stage}.conv1"]
                          + rows[f"{stage}.shortcut"])
        assert rows[stage] == pytest.approx(expected, rel=1e-12)
    assert rows["mean(2, 3)"] == pytest.approx(0.5)  # 2x2 maps after two stride-2 stages


def test_representation_diameter_within_book_units():
    torch.manual_seed(7)
    model = build_model("cnn-mnist", in_channels=1, image_size=8, width=0.25)
    points = torch.rand(64, 1, 8, 8)
    with torch.no_grad():
        z = model.represent(points).double().numpy()
    scale = 1.0 / (z.max() - z.min())  # the book's global unit-cube normalization
    low, high = input_diameter(points)
    true_diameter = pdist(points.reshape(64, -1).double().numpy()).max()
    assert low == pytest.approx(true_diameter, rel=1e-9)  # whole set sampled: exact
    assert true_diameter <= high <= 2 * true_diameter
    radius = book_units(certified_upper_bound(model), input_diameter=high, output_scale=scale)
    assert pdist(z * scale).max() <= radius


def test_input_diameter_bracket_on_a_subsample():
    points = np.random.default_rng(8).standard_normal((500, 5))
    low, high = input_diameter(points, sample=50)
    true_diameter = pdist(points).max()
    assert low <= true_diameter <= high
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert input_diameter(corners) == pytest.approx((math.sqrt(2), math.sqrt(2)))
    assert book_units(2.0, input_diameter=3.0, output_scale=0.5) == 3.0


# --------------------------------------------------------------------------- errors


def test_errors_name_the_problem():
    model = build_model("cnn-mnist", in_channels=1, image_size=8, width=0.25)
    points = torch.rand(4, 1, 8, 8)
    points[1, 0, 2, 3] = float("nan")
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        empirical_lower_bound(model, points)
    with pytest.raises(ValueError, match="represent"):
        empirical_lower_bound(object(), torch.rand(4, 1, 8, 8))
    model.features[1] = nn.BatchNorm2d(model.features[0].out_channels)
    with pytest.raises(UnsupportedLayerError, match="BatchNorm2d at features.1"):
        certified_upper_bound(model)
    with pytest.raises(UnsupportedLayerError, match="Softmax at 1"):
        certified_upper_bound(nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1)), (4,))
    with pytest.raises(UnsupportedLayerError, match="LayerNorm at 0 has no global Lipschitz"):
        certified_upper_bound(nn.Sequential(nn.LayerNorm(4)), (4,))
    with pytest.raises(ValueError, match="does not fit"):
        certified_upper_bound(build_model("cnn-mnist", in_channels=1, image_size=8), (3, 8, 8))


def test_transformer_is_reported_uncertified():
    model = build_model("transformer-tiny", vocab_size=20, representation_dim=16, n_layers=1,
                        n_heads=2)
    bound = certified_upper_bound(model)
    assert isinstance(bound, LipschitzBound)
    assert not bound.certified and math.isnan(bound.upper)
    assert "LayerNorm" in bound.note and "attention" in bound.note
    with pytest.raises(ValueError, match="not certified"):
        book_units(bound, input_diameter=1.0, output_scale=1.0)
    with pytest.raises(ValueError, match="token ids"):
        empirical_lower_bound(model, torch.ones(2, 5))


@pytest.mark.usefixtures("one_torch_thread")
def test_model_bounds_of_suite_records_are_cached_whole(tiny_suite, tmp_path):
    from helpers.experiments.lipschitz import ModelBounds, model_bounds

    for record in tiny_suite:
        sample = record.normalized(30, 60)
        fresh = model_bounds(record, sample, n_points=6, n_iter=3, cache=False)
        lines = []
        first, again = (model_bounds(record, sample, n_points=6, n_iter=3,
                                     cache_dir=tmp_path, log=lines.append) for _ in range(2))
        assert "cache miss" in lines[0] and "cache hit" in lines[-1]
        assert isinstance(again, ModelBounds) and again.label == record.label
        assert again.upper.layers == fresh.upper.layers  # every layer's bound survives
        assert again.upper.certified == fresh.upper.certified
        np.testing.assert_array_equal(again.lower.per_point, first.lower.per_point)
        assert again.lower.lower == first.lower.lower == pytest.approx(fresh.lower.lower)
        assert again.input_diameter == fresh.input_diameter
        fixed = ("time upper [s]", "time lower [s]")
        assert {k: v for k, v in again.row().items() if k not in fixed} == pytest.approx(
            {k: v for k, v in fresh.row().items() if k not in fixed}, nan_ok=True)
        assert again.row()["time lower [s]"] == first.row()["time lower [s]"]
    assert len(list((tmp_path / "lipschitz").glob("*.json"))) == len(tiny_suite)
