"""Certified upper and measured lower bounds on the Lipschitz constant of a representation.

Introduced in the chapter "Lipschitz regularization" (``notebooks/05_lipschitz_regularization``).
The covering bound ``d_Z * log2(1 + 2 R / eps)`` needs the radius ``R`` of a ball holding the
representations; a map with Lipschitz constant ``L`` sends inputs of diameter ``D`` into a set
of diameter at most ``L * D``, so ``R = L * D`` will do. This module brackets ``L`` of the
representation map ``x -> model.represent(x)`` (never the classifier head). All norms are
Euclidean: l2 on the flattened input, l2 on the representation.

Upper bound, certified (:func:`certified_upper_bound`)
    The product of per-layer Lipschitz constants along the representation path (a residual
    block ``act(conv2(act(conv1 x)) + shortcut x)`` contributes
    ``L(act) * (L(conv2) L(act) L(conv1) + L(shortcut))``). Per layer:

    * dense layer: the exact largest singular value of the effective weight
      (:func:`linear_operator_norm`; with spectral normalization, ``layer.weight`` is the
      normalized weight);
    * convolution: the largest singular value of the *operator*, bounded above by the
      circular convolution on a torus large enough that the zero-padded convolution is a
      restriction of it. The circular convolution's singular values are those of the
      ``C_out x C_in`` matrices of the kernel's 2-D DFT, one per frequency (Sedghi, Gupta and
      Long 2019, "The singular values of convolutional layers"). A strided convolution is
      first rewritten as a stride-1 convolution on the ``s x s`` polyphase components of its
      input (an orthogonal regrouping of the pixels). That is usually much tighter than
      bounding the stride-1 layer it subsamples: 1.12 to 1.24 times the exact norm instead
      of about 1.7 on a 3x3, stride-2 test layer (:func:`conv_operator_norm`);
    * activations: ``sup |act'|`` (ReLU 1, GELU about 1.1289, SiLU about 1.0998);
    * max pooling: 1 for non-overlapping windows, ``sqrt(m)`` when a pixel can lie in ``m``
      windows; average pooling ``sqrt(m / window size)`` (times ``sqrt(window size)`` for the
      smooth variants' scaled average pooling); global average pooling over
      ``H * W`` positions ``1 / sqrt(H * W)``; flatten, identity and dropout (eval) 1.

    The product is a theorem (up to floating-point rounding in the SVDs), usually a loose one:
    it ignores that the layers' worst directions do not line up and that ReLU zeroes
    coordinates.

Lower bound, measured (:func:`empirical_lower_bound`)
    Any ``||J(x) v||`` with ``||v|| = 1`` at a point ``x`` where the map is differentiable,
    and any ratio ``||f(x) - f(x')|| / ||x - x'||``, is at most ``L``. The helper runs
    power iteration on ``J^T J`` at each given point (``torch.func.jvp`` and
    ``torch.func.vjp``) and scans pairs of points; the largest value found is a lower bound
    whether or not the iteration converged.

Book units (:func:`book_units`, :func:`input_diameter`)
    The book normalizes representations to the unit cube, ``u = s * (z - offset)``, and
    measures inputs in units of their diameter ``D``. The Lipschitz constant of
    ``t -> s * (f(D t) - offset)`` is ``L * D * s``, which is the ``R`` that enters
    ``d_Z * log2(1 + 2 R / eps)`` directly.

Spectral normalization, as :func:`torch.nn.utils.parametrizations.spectral_norm` does it,
divides a convolution's weight reshaped to ``(C_out, C_in * k * k)`` by its top singular value
(:attr:`OperatorNorm.reshaped_matrix_norm` is then about 1). The operator norm of the
convolution itself is a different number and may exceed 1; both are reported.

Transformer-Tiny is not covered: layer normalization and dot-product attention have no global
Lipschitz constant and token ids are discrete (:func:`certified_upper_bound` says so in
:attr:`LipschitzBound.note` rather than raising).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers._threads import torch_threads as _torch_threads
from helpers._validation import check_count, check_real, is_integer

# --------------------------------------------------------------------------- constants


def _gelu_max_slope() -> float:
    """``sup |GELU'(x)|`` for the exact (erf) GELU.

    ``GELU'(x) = Phi(x) + x phi(x)`` and ``GELU''(x) = phi(x) (2 - x^2)``, so the maximum is
    at ``x = sqrt(2)``; the minimum, at ``-sqrt(2)``, is ``1 - max``, smaller in absolute value.
    """
    x = math.sqrt(2.0)
    cdf = 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))
    pdf = math.exp(-x * x / 2.0) / math.sqrt(2.0 * math.pi)
    return cdf + x * pdf


def _silu_max_slope() -> float:
    """``sup |SiLU'(x)|``.

    ``SiLU'(x) = s (1 + x (1 - s))`` with ``s = sigmoid(x)`` and
    ``SiLU''(x) = s (1 - s) (2 + x (1 - 2 s))``, which vanishes where ``x tanh(x / 2) = 2``
    (solved by bisection on [2, 3]). ``SiLU'(x) + SiLU'(-x) = 1``, so the minimum is
    ``1 - max``, smaller in absolute value.
    """
    low, high = 2.0, 3.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if middle * math.tanh(middle / 2.0) < 2.0:
            low = middle
        else:
            high = middle
    x = 0.5 * (low + high)
    s = 1.0 / (1.0 + math.exp(-x))
    return s * (1.0 + x * (1.0 - s))


def _gelu_tanh_max_slope() -> float:
    """``sup |GELU'|`` for the tanh approximation, by a fine grid and a local refinement.

    A margin of 1e-9 covers the error of the numerical maximization (the derivative is
    smooth, so the value near a maximum errs by the square of the location error).
    """
    c, a = math.sqrt(2.0 / math.pi), 0.044715

    def slope(x):
        t = np.tanh(c * (x + a * x**3))
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3.0 * a * x * x)

    grid = np.linspace(-10.0, 10.0, 200_001)
    values = np.abs(slope(grid))
    best = grid[int(np.argmax(values))]
    fine = np.linspace(best - 1e-4, best + 1e-4, 20_001)
    return float(np.max(np.abs(slope(fine)))) + 1e-9


#: ``sup |GELU'| = Phi(sqrt 2) + sqrt(2) phi(sqrt 2)``, about 1.12890.
GELU_LIPSCHITZ = _gelu_max_slope()
#: ``sup |SiLU'|``, about 1.09984 (at ``x`` about 2.3994).
SILU_LIPSCHITZ = _silu_max_slope()
#: ``sup |GELU'|`` for ``nn.GELU(approximate="tanh")`` (computed numerically, plus 1e-9).
GELU_TANH_LIPSCHITZ = _gelu_tanh_max_slope()

SUPPORTED_LAYERS = (
    "Linear, Conv2d (groups=1, dilation=1, zero padding), ReLU, LeakyReLU, GELU, SiLU, Tanh, "
    "Sigmoid, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten, Identity, Dropout, and "
    "nn.Sequential / BasicBlock containers"
)

_TRANSFORMER_NOTE = (
    "No certified Lipschitz bound for Transformer-Tiny: LayerNorm, (x - mean) / std, has no "
    "global Lipschitz constant (its slope grows like 1 / std as the input's spread goes to 0); "
    "dot-product self-attention is not globally Lipschitz either (Kim, Papamakarios and Mnih "
    "2021, 'The Lipschitz constant of self-attention'); and the inputs are discrete token ids, "
    "so a Lipschitz constant in the input is not even defined. Spectral normalization of the "
    "projections does not change this. The covering bound for text has to start from the "
    "measured spread of the representations instead."
)

_UNSUPPORTED_REASONS = {
    nn.LayerNorm: "has no global Lipschitz constant (it divides by the standard deviation of "
                  "its input, so its slope is unbounded as that goes to 0)",
    nn.GroupNorm: "has no global Lipschitz constant (it divides by the standard deviation of "
                  "each group, so its slope is unbounded as that goes to 0)",
    nn.MultiheadAttention: "has no global Lipschitz constant (dot-product attention is not "
                           "globally Lipschitz; Kim, Papamakarios and Mnih 2021)",
    nn.Embedding: "reads discrete token ids, so a Lipschitz constant in the input is not "
                  "defined",
    nn.BatchNorm1d: "is not supported: in eval mode it is a per-channel affine map; fold it "
                    "into the preceding layer's weight first",
    nn.BatchNorm2d: "is not supported: in eval mode it is a per-channel affine map; fold it "
                    "into the preceding convolution's weight first",
    nn.Softmax: "is not supported (no rule for it here; it is 1-Lipschitz in l2, so wrap it "
                "in a module of your own only if you have checked that bound)",
}


class UnsupportedLayerError(ValueError):
    """A layer on the representation path has no Lipschitz rule in this module."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class OperatorNorm:
    """The l2 operator norm (Lipschitz constant) of one layer, with its estimates.

    Attributes
    ----------
    upper : float
        Certified upper bound (up to floating-point rounding). Exact for a dense layer; the
        circular-convolution (FFT) bound for a convolution; ``sup |act'|`` for an activation.
    power_iteration : float
        ``||A v||`` for the unit vector ``v`` that power iteration ended on: a lower bound on
        the operator norm of a convolution, whether or not the iteration converged. Equal to
        ``upper`` for a dense layer (exact) and for the fixed constants of the other layers.
    reshaped_matrix_norm : float
        Top singular value of the weight reshaped to ``(C_out, C_in * k * k)``, the number
        spectral normalization divides by. Not a bound on the convolution's norm in either
        direction in general. Equal to ``upper`` for layers without a weight.
    iterations : int
        Power iterations run (0 where none was needed).
    kind : str
        ``"linear"``, ``"conv2d"``, ``"activation"``, ``"max-pool"``, ``"avg-pool"``,
        ``"global-avg-pool"`` or ``"identity"``.
    converged : bool
        Whether power iteration met ``tol`` before ``n_iter`` (True where none ran).
    torus_shape : tuple of int or None
        Convolutions: the ``(N_h, N_w)`` torus of the circular convolution behind ``upper``.
    """

    upper: float
    power_iteration: float
    reshaped_matrix_norm: float
    iterations: int
    kind: str
    converged: bool = True
    torus_shape: tuple | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LayerBound:
    """One row of :attr:`LipschitzBound.layers`.

    Attributes
    ----------
    name : str
        Position in the model, e.g. ``"features.3"`` or ``"stages.1.conv1"``.
    layer_type : str
        The module's class name (``"ParametrizedConv2d"`` under spectral normalization).
    input_shape, output_shape : tuple of int
        Shapes of one example (no batch axis) entering and leaving the layer.
    upper, power_iteration, reshaped_matrix_norm : float
        As in :class:`OperatorNorm`.
    kind : str
        As in :class:`OperatorNorm`, or ``"residual"`` for a residual block's summary row.
    role : str
        ``"layer"``: a factor of the product along the main path. ``"branch"``: a layer
        inside a residual block (it enters through the block's row). ``"block"``: a residual
        block, ``L(act) * (L(conv2) L(act) L(conv1) + L(shortcut))``. The certified bound is
        the product of the ``"layer"`` and ``"block"`` rows.
    """

    name: str
    layer_type: str
    input_shape: tuple
    output_shape: tuple
    upper: float
    power_iteration: float
    reshaped_matrix_norm: float
    kind: str
    role: str = "layer"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LipschitzBound:
    """Certified upper bound on the Lipschitz constant of a representation map.

    Attributes
    ----------
    upper : float
        The certified bound, the product of the per-layer certified norms (residual blocks
        combined as in :class:`LayerBound`). ``nan`` when ``certified`` is false.
    certified : bool
        False where no global bound exists (Transformer-Tiny); see ``note``.
    layerwise_estimate : float
        The same combination of the per-layer *power-iteration* norms. It is what the
        product bound would be with exact per-layer norms; it is neither an upper nor a lower
        bound on the network's constant.
    reshaped_estimate : float
        The same combination of the reshaped-matrix norms, the quantity spectral
        normalization controls. Not a bound.
    layers : tuple of LayerBound
        One row per layer on the representation path, in order.
    input_shape, output_shape : tuple of int
        Shapes of one input and one representation (no batch axis).
    model : str
        The model's name (``config["name"]``) or class name.
    note : str
        Caveats: why the bound is not certified, or how it was assembled.
    """

    upper: float
    certified: bool
    layerwise_estimate: float
    reshaped_estimate: float
    layers: tuple
    input_shape: tuple
    output_shape: tuple | None
    model: str
    note: str = ""

    def as_rows(self) -> list[dict]:
        """The per-layer rows as dicts (for a table)."""
        return [row.as_dict() for row in self.layers]

    def table(self):
        """The per-layer rows as a :class:`pandas.DataFrame`."""
        import pandas as pd

        return pd.DataFrame(self.as_rows())


@dataclass(frozen=True)
class EmpiricalLowerBound:
    """Lower bounds on the Lipschitz constant measured on data.

    Attributes
    ----------
    lower : float
        ``max(jacobian, pairs)``: a lower bound on the Lipschitz constant (up to rounding).
    jacobian : float
        Largest ``||J(x) v||`` (unit ``v``) found by power iteration over the points.
    jacobian_point : int
        Index of the point where it was found.
    pairs : float
        Largest ``||f(x) - f(x')|| / ||x - x'||`` over the pairs scanned (0 if none).
    pair : tuple of int or None
        Indices of that pair.
    n_points : int
        Points given; the Jacobian was estimated at each.
    n_pairs : int
        Pairs of distinct inputs scanned.
    n_iter : int
        Power iterations per point.
    per_point : numpy.ndarray
        The Jacobian lower bound at each point, shape ``(n_points,)``.
    """

    lower: float
    jacobian: float
    jacobian_point: int
    pairs: float
    pair: tuple | None
    n_points: int
    n_pairs: int
    n_iter: int
    per_point: np.ndarray = field(repr=False, compare=False)


class DiameterBounds(NamedTuple):
    """Bracket on the diameter of a finite point set; unpacks as ``(lower, upper)``."""

    lower: float
    upper: float


# --------------------------------------------------------------------------- checks


def _check_shape(shape, *, name: str = "input_shape") -> tuple:
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"{name} must be a tuple of positive integers such as (1, 8, 8), "
                         f"got {shape!r}.") from None
    if not shape or not all(is_integer(s)
                            and s > 0 for s in shape):
        raise ValueError(f"{name} must be a tuple of positive integers such as (1, 8, 8), "
                         f"got {shape!r}.")
    return tuple(int(s) for s in shape)


def _pair(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


@contextlib.contextmanager
def _eval_mode(module: nn.Module):
    """Put every submodule in eval mode (no spectral-norm updates, no dropout); restore after."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, training in modes:
            m.training = training


def _weight(layer: nn.Module) -> torch.Tensor:
    """The effective weight (spectral normalization applied) as a float64 tensor."""
    with torch.no_grad():
        return layer.weight.detach().to(torch.float64)


def _model_dtype(module: nn.Module) -> torch.dtype:
    for parameter in module.parameters():
        if parameter.is_floating_point():
            return parameter.dtype
    return torch.get_default_dtype()


# --------------------------------------------------------------------------- per layer


def linear_operator_norm(layer: nn.Module) -> OperatorNorm:
    """Exact l2 operator norm of a dense layer: the top singular value of its weight.

    Parameters
    ----------
    layer : torch.nn.Linear
        Possibly wrapped in :func:`torch.nn.utils.parametrizations.spectral_norm`; the
        effective (normalized) ``layer.weight`` is used, with the stored power-iteration
        vectors as they are (call it in eval mode, or after :func:`certified_upper_bound`
        has switched the model to eval mode). The bias does not matter.

    Returns
    -------
    OperatorNorm
        ``upper == power_iteration == reshaped_matrix_norm``, the top singular value computed
        by an SVD in float64 (certified up to rounding).
    """
    if not isinstance(layer, nn.Linear):
        raise ValueError(f"linear_operator_norm takes an nn.Linear, got "
                         f"{type(layer).__name__}; use conv_operator_norm for convolutions.")
    sigma = float(torch.linalg.matrix_norm(_weight(layer), ord=2))
    return OperatorNorm(upper=sigma, power_iteration=sigma, reshaped_matrix_norm=sigma,
                        iterations=0, kind="linear")


def _conv_padding(conv: nn.Conv2d) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((top, bottom), (left, right))`` zero padding of ``conv``."""
    kernel = _pair(conv.kernel_size)
    if isinstance(conv.padding, str):
        if conv.padding == "valid":
            return (0, 0), (0, 0)
        # "same" (stride 1): torch puts the extra pixel of an even kernel at the end.
        sides = []
        for k in kernel:
            total = k - 1
            sides.append((total // 2, total - total // 2))
        return tuple(sides[0]), tuple(sides[1])
    ph, pw = _pair(conv.padding)
    return (ph, ph), (pw, pw)


def _polyphase_axis(size: int, kernel: int, stride: int, before: int, after: int):
    """Polyphase view of one axis of a strided, zero-padded correlation.

    Output ``i`` reads input ``s i - before + a`` for taps ``a = 0 .. kernel - 1``. Writing
    ``a - before = s q + r`` (``0 <= r < s``) turns this into a stride-1 correlation of the
    ``s`` phases ``x_r[m] = x[s m + r]`` (each of length at most ``ceil(size / s)``) with taps
    at offsets ``q``. Returns ``(taps, q_min, torus_side)``: ``taps[a] = (q, r)``, and the
    smallest torus side ``N`` on which that stride-1 correlation, restricted to phases
    supported on ``0 .. ceil(size / s) - 1`` and outputs ``0 .. n_out - 1``, is a
    restriction of a circular one: reads ``q_min .. n_out - 1 + q_max`` must not wrap onto
    the support (``N >= phase_length - q_min`` and ``N > n_out - 1 + q_max``), and the
    outputs and the taps must be distinct positions (``N >= n_out``, ``N >= q_max - q_min + 1``).
    With ``stride = 1`` this is the plain zero-padded convolution (``N = size + padding``
    for a 3x3 kernel with padding 1).
    """
    taps = [divmod(a - before, stride) for a in range(kernel)]
    q_min, q_max = min(q for q, _ in taps), max(q for q, _ in taps)
    phase_length = -(-size // stride)
    n_out = (size + before + after - kernel) // stride + 1
    side = max(phase_length - min(q_min, 0), n_out + q_max, n_out, q_max - q_min + 1)
    return taps, q_min, side


def _polyphase_kernel(weight: torch.Tensor, rows, cols, strides) -> torch.Tensor:
    """The stride-1 kernel ``(C_out, C_in * s_h * s_w, k'_h, k'_w)`` acting on the phases."""
    (taps_h, q_min_h, _), (taps_w, q_min_w, _) = rows, cols
    s_h, s_w = strides
    size_h = max(q for q, _ in taps_h) - q_min_h + 1
    size_w = max(q for q, _ in taps_w) - q_min_w + 1
    c_out, c_in = weight.shape[:2]
    kernel = weight.new_zeros((c_out, c_in, s_h, s_w, size_h, size_w))
    for a_h, (q_h, r_h) in enumerate(taps_h):
        for a_w, (q_w, r_w) in enumerate(taps_w):
            kernel[:, :, r_h, r_w, q_h - q_min_h, q_w - q_min_w] = weight[:, :, a_h, a_w]
    return kernel.reshape(c_out, c_in * s_h * s_w, size_h, size_w)


def conv_operator_norm(conv: nn.Module, input_shape, *, n_iter: int = 100, tol: float = 1e-6,
                       seed: int = 0) -> OperatorNorm:
    """Operator norm of a 2-D convolution on inputs of a given shape: certified bound and estimate.

    Parameters
    ----------
    conv : torch.nn.Conv2d
        ``groups=1``, ``dilation=1``, ``padding_mode="zeros"``; any stride and padding.
        Spectral normalization is honoured through ``conv.weight``. The bias does not matter.
    input_shape : tuple of int
        ``(C_in, H, W)`` (or ``(1, C_in, H, W)``): the shape of the layer's input in the
        network. The operator norm depends on it.
    n_iter : int
        Maximum number of power iterations on ``A^T A`` (``A`` the convolution without bias,
        ``A^T`` its exact adjoint from :func:`torch.func.vjp`), in float64.
    tol : float
        Stop when the estimate changes by less than ``tol`` (relative) in one iteration.
    seed : int
        Seed of the random start vector.

    Returns
    -------
    OperatorNorm
        ``upper``: the largest singular value over the ``N_h x N_w`` DFT frequencies of the
        ``C_out x C_in`` matrix of the kernel's 2-D DFT, with the torus in ``torus_shape``
        just large enough that the zero-padded convolution is a restriction of the circular
        one (Sedghi, Gupta and Long 2019). With stride ``s`` the input is first split into
        its ``s_h * s_w`` polyphase components ``x[s m + r]`` (a permutation of the pixels),
        which makes the layer a stride-1 convolution with ``C_in * s_h * s_w`` input
        channels and a kernel of about ``k / s`` taps per axis, on a torus of about
        ``H / s``; the matrices are then ``C_out x (C_in s_h s_w)``. ``power_iteration``:
        ``||A v||`` for the final unit ``v``, a lower bound. ``reshaped_matrix_norm``: what
        spectral normalization divides by.

    Raises
    ------
    NotImplementedError
        For ``groups != 1``, ``dilation != 1`` or a padding mode other than zeros.
    ValueError
        If ``input_shape`` does not fit the layer.
    """
    if not isinstance(conv, nn.Conv2d):
        raise ValueError(f"conv_operator_norm takes an nn.Conv2d, got {type(conv).__name__}.")
    if conv.groups != 1:
        raise NotImplementedError(f"conv_operator_norm supports groups=1 only, got "
                                  f"groups={conv.groups}.")
    if _pair(conv.dilation) != (1, 1):
        raise NotImplementedError(f"conv_operator_norm supports dilation=1 only, got "
                                  f"dilation={conv.dilation}.")
    if conv.padding_mode != "zeros":
        raise NotImplementedError(f"conv_operator_norm supports padding_mode='zeros' only, got "
                                  f"padding_mode={conv.padding_mode!r}.")
    n_iter = check_count(n_iter, name="n_iter")
    tol = check_real(tol, name="tol", low=0.0)
    shape = _check_shape(input_shape)
    if len(shape) == 4 and shape[0] == 1:
        shape = shape[1:]
    weight = _weight(conv)
    c_out, c_in, kh, kw = weight.shape
    if len(shape) != 3 or shape[0] != c_in:
        raise ValueError(f"input_shape must be (C_in, H, W) with C_in={c_in} for this "
                         f"convolution, got {tuple(input_shape)}.")
    _, height, width = shape
    (top, bottom), (left, right) = _conv_padding(conv)
    if height + top + bottom < kh or width + left + right < kw:
        raise ValueError(f"input_shape {tuple(input_shape)} is smaller than the "
                         f"{kh}x{kw} kernel even after padding.")

    # Certified upper bound: the circular convolution on a large enough torus, applied to
    # the stride x stride polyphase components of the input (an orthogonal regrouping).
    s_h, s_w = _pair(conv.stride)
    rows = _polyphase_axis(height, kh, s_h, top, bottom)
    cols = _polyphase_axis(width, kw, s_w, left, right)
    torus = (rows[2], cols[2])
    kernel = _polyphase_kernel(weight, rows, cols, (s_h, s_w))
    spectrum = torch.fft.rfft2(kernel, s=torus)  # (C_out, C_in s_h s_w, N_h, N_w // 2 + 1)
    per_frequency = torch.linalg.matrix_norm(spectrum.permute(2, 3, 0, 1), ord=2)
    upper = float(per_frequency.max())

    reshaped = float(torch.linalg.matrix_norm(weight.reshape(c_out, -1), ord=2))

    # Power iteration on the operator itself, in float64.
    stride, padding = conv.stride, conv.padding

    def apply(x):
        return F.conv2d(x, weight, None, stride, padding)

    generator = torch.Generator().manual_seed(int(seed))
    v = torch.randn((1, c_in, height, width), generator=generator, dtype=torch.float64)
    v = v / torch.linalg.vector_norm(v)
    _, adjoint = torch.func.vjp(apply, torch.zeros_like(v))  # linear map: any point will do
    estimate, converged, iterations = 0.0, False, 0
    for step in range(1, n_iter + 1):
        iterations = step
        image = apply(v)
        sigma = float(torch.linalg.vector_norm(image))
        (back,) = adjoint(image)
        norm_back = float(torch.linalg.vector_norm(back))
        if sigma == 0.0 or norm_back == 0.0:
            estimate, converged = max(estimate, sigma), True
            break
        change = abs(sigma - estimate) / sigma
        estimate = max(estimate, sigma)
        v = back / norm_back
        if change < tol:
            converged = True
            break
    estimate = max(estimate, float(torch.linalg.vector_norm(apply(v))))
    return OperatorNorm(upper=upper, power_iteration=estimate, reshaped_matrix_norm=reshaped,
                        iterations=iterations, kind="conv2d", converged=converged,
                        torus_shape=torus)


def activation_lipschitz(module: nn.Module) -> float:
    """Lipschitz constant ``sup |act'|`` of an elementwise activation.

    ReLU 1, LeakyReLU ``max(1, |slope|)``, GELU :data:`GELU_LIPSCHITZ` (about 1.1289;
    :data:`GELU_TANH_LIPSCHITZ` for the tanh approximation), SiLU :data:`SILU_LIPSCHITZ`
    (about 1.0998), Tanh 1, Sigmoid 1/4. An elementwise map with slope at most ``c`` is
    ``c``-Lipschitz in l2.

    Raises
    ------
    UnsupportedLayerError
        For any other module.
    """
    if isinstance(module, (nn.ReLU, nn.ReLU6, nn.Tanh)):
        return 1.0
    if isinstance(module, nn.LeakyReLU):
        return max(1.0, abs(float(module.negative_slope)))
    if isinstance(module, nn.GELU):
        return GELU_TANH_LIPSCHITZ if module.approximate == "tanh" else GELU_LIPSCHITZ
    if isinstance(module, nn.SiLU):
        return SILU_LIPSCHITZ
    if isinstance(module, nn.Sigmoid):
        return 0.25
    raise UnsupportedLayerError(f"{type(module).__name__} is not an activation with a known "
                                "Lipschitz constant (supported: ReLU, ReLU6, LeakyReLU, GELU, "
                                "SiLU, Tanh, Sigmoid).")


def _windows_per_pixel(kernel, stride, dilation) -> int:
    """Most pooling windows (per axis) that one input position can belong to."""
    span = (kernel - 1) * dilation + 1
    return min(kernel, math.ceil(span / stride))


def _pool_overlap(module) -> tuple[int, int]:
    kernel, stride = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
    dilation = _pair(getattr(module, "dilation", 1))
    overlap = 1
    for k, s, d in zip(kernel, stride, dilation, strict=True):
        overlap *= _windows_per_pixel(k, s, d)
    return overlap, kernel[0] * kernel[1]


def _constant(value: float, kind: str) -> OperatorNorm:
    return OperatorNorm(upper=value, power_iteration=value, reshaped_matrix_norm=value,
                        iterations=0, kind=kind)


def layer_operator_norm(layer: nn.Module, input_shape, *, name: str = "layer",
                        n_iter: int = 100, tol: float = 1e-6, seed: int = 0) -> OperatorNorm:
    """Lipschitz constant of one (leaf) layer on inputs of ``input_shape``.

    Dispatches to :func:`linear_operator_norm`, :func:`conv_operator_norm` and
    :func:`activation_lipschitz`, and handles pooling (max pooling ``sqrt(m)`` with ``m``
    the most windows a position lies in, 1 when ``kernel_size == stride``; average pooling
    ``sqrt(m / window size)``, times the ``gain`` of
    :class:`~helpers.nets.models.ScaledAvgPool2d`; ``AdaptiveAvgPool2d(1)`` ``1 / sqrt(H * W)``),
    Flatten, Identity and Dropout (1, in eval mode).

    Parameters
    ----------
    layer : torch.nn.Module
    input_shape : tuple of int
        Shape of one input to the layer (no batch axis).
    name : str
        The layer's position in the model, for error messages.
    n_iter, tol, seed :
        Passed to :func:`conv_operator_norm`.

    Raises
    ------
    UnsupportedLayerError
        For a layer type without a rule; the message names the type and ``name``.
    """
    kind_name = type(layer).__name__
    if isinstance(layer, nn.Linear):
        return linear_operator_norm(layer)
    if isinstance(layer, nn.Conv2d):
        return conv_operator_norm(layer, input_shape, n_iter=n_iter, tol=tol, seed=seed)
    if isinstance(layer, (nn.Flatten, nn.Identity, nn.Dropout)):
        return _constant(1.0, "identity")
    if isinstance(layer, nn.MaxPool2d):
        overlap, _ = _pool_overlap(layer)
        return _constant(math.sqrt(overlap), "max-pool")
    if isinstance(layer, nn.AvgPool2d):
        if layer.divisor_override is not None or layer.ceil_mode or (
                not layer.count_include_pad and _pair(layer.padding) != (0, 0)):
            raise UnsupportedLayerError(
                f"{kind_name} at {name} is not supported with divisor_override, ceil_mode, or "
                "count_include_pad=False and padding (the divisor changes at the border).")
        overlap, size = _pool_overlap(layer)
        # ScaledAvgPool2d multiplies by a constant gain (sqrt of the window area)
        gain = float(getattr(layer, "gain", 1.0))
        return _constant(gain * math.sqrt(overlap / size), "avg-pool")
    if isinstance(layer, nn.AdaptiveAvgPool2d):
        if _pair(layer.output_size) != (1, 1):
            raise UnsupportedLayerError(f"{kind_name} at {name} is supported with "
                                        f"output_size=1 only, got {layer.output_size}.")
        height, width = _check_shape(input_shape)[-2:]
        return _constant(1.0 / math.sqrt(height * width), "global-avg-pool")
    try:
        return _constant(activation_lipschitz(layer), "activation")
    except UnsupportedLayerError:
        pass
    for cls, reason in _UNSUPPORTED_REASONS.items():
        if isinstance(layer, cls):
            raise UnsupportedLayerError(f"{kind_name} at {name} {reason}. Supported layers: "
                                        f"{SUPPORTED_LAYERS}.")
    raise UnsupportedLayerError(f"{kind_name} at {name} is not supported: there is no "
                                f"Lipschitz rule for it. Supported layers: {SUPPORTED_LAYERS}.")


# --------------------------------------------------------------------------- whole model


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _is_residual_block(module) -> bool:
    """A block ``act(conv2(act(conv1 x)) + shortcut x)`` (the book's ResNet block), by shape:
    the estimator knows nets by their parts, not by importing the model classes."""
    return all(isinstance(getattr(module, part, None), nn.Module)
               for part in ("conv1", "act", "conv2", "shortcut"))


def _is_residual_network(model) -> bool:
    """A stem, residual stages and global average pooling (the book's ResNet-8)."""
    return all(isinstance(getattr(model, part, None), nn.Module) for part in ("stem", "stages"))


def _reads_tokens(model) -> bool:
    """A model whose input is token ids (an embedding layer): it has no input Jacobian."""
    return isinstance(model, nn.Module) and any(isinstance(m, nn.Embedding)
                                                for m in model.modules())


class _Walker:
    """Walk a representation path, one dummy example at a time, collecting per-layer rows."""

    def __init__(self, **conv_options):
        self.conv_options = conv_options
        self.rows: list[LayerBound] = []

    def walk(self, module: nn.Module, name: str, x: torch.Tensor, role: str):
        """Return ``(factors, output)``; ``factors`` = (certified, power, reshaped)."""
        if isinstance(module, nn.Sequential):
            total = np.ones(3)
            for child_name, child in module.named_children():
                factors, x = self.walk(child, _join(name, child_name), x, role)
                total = total * factors
            return total, x
        if _is_residual_block(module):
            return self.block(module, name, x)
        norm = layer_operator_norm(module, tuple(x.shape[1:]), name=name or "the top level",
                                   **self.conv_options)
        y = module(x)
        self.rows.append(LayerBound(
            name=name, layer_type=type(module).__name__, input_shape=tuple(x.shape[1:]),
            output_shape=tuple(y.shape[1:]), upper=norm.upper,
            power_iteration=norm.power_iteration,
            reshaped_matrix_norm=norm.reshaped_matrix_norm, kind=norm.kind, role=role))
        return np.array([norm.upper, norm.power_iteration, norm.reshaped_matrix_norm]), y

    def block(self, block: nn.Module, name: str, x: torch.Tensor):
        """``act(conv2(act(conv1 x)) + shortcut x)``: ``L(act) (L2 L(act) L1 + L(shortcut))``."""
        first, h = self.walk(block.conv1, _join(name, "conv1"), x, "branch")
        act, h = self.walk(block.act, _join(name, "act"), h, "branch")
        second, h = self.walk(block.conv2, _join(name, "conv2"), h, "branch")
        shortcut, _ = self.walk(block.shortcut, _join(name, "shortcut"), x, "branch")
        combined = act * (second * act * first + shortcut)
        y = block(x)
        self.rows.append(LayerBound(
            name=name, layer_type=type(block).__name__, input_shape=tuple(x.shape[1:]),
            output_shape=tuple(y.shape[1:]), upper=float(combined[0]),
            power_iteration=float(combined[1]), reshaped_matrix_norm=float(combined[2]),
            kind="residual", role="block"))
        return combined, y

    def global_average_pool(self, name: str, x: torch.Tensor):
        """``x.mean((2, 3))`` over ``H * W`` positions: ``1 / sqrt(H * W)`` in l2."""
        value = 1.0 / math.sqrt(x.shape[2] * x.shape[3])
        y = x.mean(dim=(2, 3))
        self.rows.append(LayerBound(
            name=name, layer_type="GlobalAveragePool", input_shape=tuple(x.shape[1:]),
            output_shape=tuple(y.shape[1:]), upper=value, power_iteration=value,
            reshaped_matrix_norm=value, kind="global-avg-pool", role="layer"))
        return np.full(3, value), y


def _default_input_shape(model) -> tuple:
    config = getattr(model, "config", None)
    if isinstance(config, dict) and "in_channels" in config and "image_size" in config:
        side = int(config["image_size"])
        return (int(config["in_channels"]), side, side)
    raise ValueError(f"pass input_shape (one example's shape without the batch axis, e.g. "
                     f"(1, 8, 8)): {type(model).__name__} has no config with in_channels and "
                     "image_size to infer it from.")


def certified_upper_bound(model: nn.Module, input_shape=None, *, n_iter: int = 100,
                          tol: float = 1e-6, seed: int = 0,
                          num_threads: int | None = None) -> LipschitzBound:
    """Certified upper bound on the Lipschitz constant of ``model``'s representation map.

    Parameters
    ----------
    model : torch.nn.Module
        One of the book's models (CNN-MNIST and CNN-CIFAR: the ``features`` stack; ResNet-8:
        stem, residual stages, global average pooling; the classifier head is left out), any
        module with a ``features`` stack that *is* its representation, or an
        ``nn.Sequential`` / single layer (the map is then the module itself). With or without
        spectral normalization. The model is switched to eval mode for the computation (so
        spectral normalization's stored vectors are used and not updated) and switched back.
    input_shape : tuple of int, optional
        One input's shape without the batch axis, e.g. ``(1, 8, 8)``. Defaults to
        ``(in_channels, image_size, image_size)`` from ``model.config``. Convolution norms
        depend on it.
    n_iter, tol, seed :
        Power iteration settings for the convolution estimates
        (:func:`conv_operator_norm`); the certified bound does not depend on them.
    num_threads : int, optional
        Torch CPU threads inside the call (restored after). The tensors are small; 1 avoids
        the large OpenMP slowdowns of a busy machine with few cores. None leaves it as it is.

    Returns
    -------
    LipschitzBound
        ``upper`` with the per-layer rows. For Transformer-Tiny: ``certified=False``,
        ``upper = nan`` and a ``note`` saying why (no exception).

    Raises
    ------
    UnsupportedLayerError
        For a layer without a Lipschitz rule (BatchNorm, Softmax, LayerNorm, ...); the
        message names the layer type and its position.
    NotImplementedError
        For a convolution with groups or dilation.
    ValueError
        If ``input_shape`` is missing or does not fit the model.
    """
    name = (model.config.get("name") if isinstance(getattr(model, "config", None), dict)
            else None) or type(model).__name__
    if _reads_tokens(model) or name == "transformer-tiny":
        return LipschitzBound(upper=float("nan"), certified=False,
                              layerwise_estimate=float("nan"), reshaped_estimate=float("nan"),
                              layers=(), input_shape=(), output_shape=None, model=name,
                              note=_TRANSFORMER_NOTE)
    if not isinstance(model, nn.Module):
        raise ValueError(f"certified_upper_bound takes a torch module, got "
                         f"{type(model).__name__}.")
    shape = _default_input_shape(model) if input_shape is None else _check_shape(input_shape)
    if num_threads is not None:
        check_count(num_threads, name="num_threads")
    walker = _Walker(n_iter=check_count(n_iter, name="n_iter"),
                     tol=check_real(tol, name="tol", low=0.0), seed=int(seed))
    dummy = torch.zeros((1, *shape), dtype=_model_dtype(model))
    with _torch_threads(num_threads), _eval_mode(model), torch.no_grad():
        expected = None
        if callable(getattr(model, "represent", None)):
            try:
                expected = tuple(model.represent(dummy).shape[1:])
            except RuntimeError as error:
                raise ValueError(f"input_shape {shape} does not fit {name}: {error}") from error
        try:
            if _is_residual_network(model):
                factors, x = walker.walk(model.stem, "stem", dummy, "layer")
                more, x = walker.walk(model.stages, "stages", x, "layer")
                pooled, output = walker.global_average_pool("mean(2, 3)", x)
                factors = factors * more * pooled
                note = ("stem, residual blocks L(act) (L(conv2) L(act) L(conv1) + "
                        "L(shortcut)), global average pooling 1/sqrt(H W)")
            elif isinstance(getattr(model, "features", None), nn.Module):
                factors, output = walker.walk(model.features, "features", dummy, "layer")
                note = "product over the features stack"
            elif isinstance(model, nn.Sequential) or not list(model.children()):
                factors, output = walker.walk(model, "", dummy, "layer")
                note = "product over the layers of the module"
            else:
                raise ValueError(
                    f"certified_upper_bound does not know the representation path of "
                    f"{type(model).__name__}: pass one of the book's image models, a model "
                    "whose `features` stack is its representation, or an nn.Sequential.")
        except NotImplementedError:
            raise
        except RuntimeError as error:  # shape mismatches in the dummy forward pass
            raise ValueError(f"input_shape {shape} does not fit {name}: {error}") from error
        if expected is not None and expected != tuple(output.shape[1:]):
            raise ValueError(f"the walked path of {name} gives outputs of shape "
                             f"{tuple(output.shape[1:])} but model.represent gives "
                             f"{expected}; its representation is not its features stack.")
    return LipschitzBound(upper=float(factors[0]), certified=True,
                          layerwise_estimate=float(factors[1]),
                          reshaped_estimate=float(factors[2]), layers=tuple(walker.rows),
                          input_shape=shape, output_shape=tuple(output.shape[1:]), model=name,
                          note=note)


# --------------------------------------------------------------------------- lower bounds


def _representation_function(fn_or_model):
    """Return ``(fn, module_or_None)`` for a model (its ``represent``) or a callable."""
    if _reads_tokens(fn_or_model):
        raise ValueError("Transformer-Tiny reads discrete token ids: there is no input "
                         "Jacobian and no Lipschitz constant in the input to measure.")
    represent = getattr(fn_or_model, "represent", None)
    if callable(represent):
        return represent, fn_or_model if isinstance(fn_or_model, nn.Module) else None
    if callable(fn_or_model):
        return fn_or_model, fn_or_model if isinstance(fn_or_model, nn.Module) else None
    raise ValueError(f"{type(fn_or_model).__name__} has no `represent` method and is not "
                     "callable; pass a model with represent(x) or a function of a batch of "
                     "inputs.")


def _as_inputs(points, dtype) -> torch.Tensor:
    if isinstance(points, torch.Tensor):
        tensor = points.detach().cpu()
    else:
        try:
            tensor = torch.as_tensor(np.asarray(points))
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"points could not be read as an array: {error}") from error
    if tensor.dim() < 2 or tensor.shape[0] == 0:
        raise ValueError(f"points must have shape (n_points, ...) with n_points >= 1, e.g. "
                         f"(n, 1, 8, 8) for images, got {tuple(tensor.shape)}.")
    if tensor.dtype == torch.bool or tensor.is_complex():
        raise ValueError(f"points must be real numbers, got dtype {tensor.dtype}.")
    tensor = tensor.to(dtype)
    bad = int((~torch.isfinite(tensor)).sum())
    if bad:
        rows = torch.nonzero(~torch.isfinite(tensor.flatten(1)).all(dim=1)).flatten()
        raise ValueError(f"points hold {bad} NaN or infinite values (first bad rows: "
                         f"{rows[:5].tolist()}); drop or repair them first.")
    return tensor


def _row_norms(tensor: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(tensor.flatten(1), dim=1)


def _per_row(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return values.reshape((-1,) + (1,) * (like.dim() - 1))


def _jacobian_lower_bounds(fn, x: torch.Tensor, n_iter: int, generator) -> torch.Tensor:
    """Largest ``||J_i v_i||`` seen per row over power iteration on ``J_i^T J_i``.

    Assumes row ``i`` of ``fn(x)`` depends on row ``i`` of ``x`` only (no batch statistics),
    so that one batched jvp/vjp applies every row's own Jacobian.
    """
    v = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    v = v / _per_row(_row_norms(v), v)
    best = torch.zeros(x.shape[0], dtype=torch.float64)
    with warnings.catch_warnings():  # torch's first forward-mode call scripts decompositions
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*",
                                category=FutureWarning)
        torch.func.jvp(fn, (x[:1],), (v[:1],))
    output, pullback = torch.func.vjp(fn, x)
    if output.shape[0] != x.shape[0]:
        raise ValueError(f"the function returned {output.shape[0]} rows for {x.shape[0]} "
                         "inputs; it must map a batch (n, ...) to (n, ...).")
    for step in range(n_iter + 1):
        _, image = torch.func.jvp(fn, (x,), (v,))
        best = torch.maximum(best, _row_norms(image).detach().to(torch.float64))
        if step == n_iter:
            break
        (back,) = pullback(image)
        norms = _row_norms(back)
        safe = torch.where(norms > 0, norms, torch.ones_like(norms))
        v = torch.where(_per_row(norms > 0, back), back / _per_row(safe, back), v).detach()
    return best


def empirical_lower_bound(fn_or_model, points, *, n_iter: int = 20, seed: int = 0,
                          pairs=None, max_pair_points: int = 256, batch_size: int = 128,
                          num_threads: int | None = None) -> EmpiricalLowerBound:
    """Lower bounds on the Lipschitz constant from the data: Jacobian norms and pair ratios.

    Parameters
    ----------
    fn_or_model : torch.nn.Module or callable
        A model (its ``represent`` is used, in eval mode, restored afterwards) or a function
        mapping a batch ``(n, ...)`` to ``(n, d)``. Row ``i`` of the output must depend on
        row ``i`` of the input only (no batch statistics).
    points : array_like or torch.Tensor, shape (n, ...)
        Inputs, e.g. ``(n, 1, 8, 8)`` images.
    n_iter : int
        Power iterations on ``J^T J`` per point (``torch.func.jvp`` then
        ``torch.func.vjp``, batched). Each ``||J v||`` seen is a lower bound, converged or
        not, at points where the map is differentiable (almost every point for ReLU networks).
    seed : int
        Seed of the start vectors and of the pair subsample.
    pairs : array_like of shape (m, 2), optional
        Index pairs into ``points`` to scan. Default: all pairs among up to
        ``max_pair_points`` points drawn at random. Pairs of identical inputs are skipped.
    max_pair_points : int
        Subsample size for the default pairs.
    batch_size : int
        Points per jvp/vjp batch.
    num_threads : int, optional
        Torch CPU threads inside the call, as in :func:`certified_upper_bound`.

    Returns
    -------
    EmpiricalLowerBound
        ``lower = max(jacobian, pairs)``, with where each was found. Computed in the model's
        dtype (float32 for the book's models); a pair ratio over a very close pair carries
        the rounding error of ``f(x) - f(x')``.

    Raises
    ------
    ValueError
        If ``fn_or_model`` has no ``represent`` and is not callable, if the points are empty
        or hold NaN or infinite values (the message gives the count), or if ``pairs`` is
        malformed.
    """
    fn, module = _representation_function(fn_or_model)
    n_iter = check_count(n_iter, name="n_iter", minimum=0)
    max_pair_points = check_count(max_pair_points, name="max_pair_points", minimum=2)
    batch_size = check_count(batch_size, name="batch_size")
    dtype = _model_dtype(module) if module is not None else torch.get_default_dtype()
    x = _as_inputs(points, dtype)
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(int(seed))
    if num_threads is not None:
        check_count(num_threads, name="num_threads")
    context = _eval_mode(module) if module is not None else contextlib.nullcontext()
    with _torch_threads(num_threads), context:
        per_point = torch.cat([_jacobian_lower_bounds(fn, x[start:start + batch_size], n_iter,
                                                      generator)
                               for start in range(0, n, batch_size)]).numpy()
        if pairs is None:
            chosen = np.sort(rng.choice(n, size=min(n, max_pair_points), replace=False))
            first, second = np.triu_indices(len(chosen), k=1)
            first, second = chosen[first], chosen[second]
        else:
            index = np.asarray(pairs)
            if index.ndim != 2 or index.shape[1] != 2 or index.dtype.kind not in "iu":
                raise ValueError(f"pairs must be an integer array of shape (m, 2), got shape "
                                 f"{index.shape} and dtype {index.dtype}.")
            if index.size and (index.min() < 0 or index.max() >= n):
                raise ValueError(f"pairs index points 0..{n - 1}; got indices from "
                                 f"{index.min()} to {index.max()}.")
            first, second = index[:, 0], index[:, 1]
        needed = np.unique(np.concatenate([first, second])).astype(np.int64)
        with torch.no_grad():
            selected = x[torch.as_tensor(needed)]
            outputs = torch.cat([fn(selected[start:start + batch_size])
                                 for start in range(0, len(needed), batch_size)])
    position = {int(i): row for row, i in enumerate(needed)}
    flat_x = selected.flatten(1).to(torch.float64).numpy()
    flat_z = outputs.detach().flatten(1).to(torch.float64).numpy()
    rows_a = np.array([position[int(i)] for i in first], dtype=np.int64)
    rows_b = np.array([position[int(i)] for i in second], dtype=np.int64)
    input_gaps = np.linalg.norm(flat_x[rows_a] - flat_x[rows_b], axis=1)
    output_gaps = np.linalg.norm(flat_z[rows_a] - flat_z[rows_b], axis=1)
    distinct = input_gaps > 0
    if np.any(distinct):
        ratios = np.where(distinct, output_gaps / np.where(distinct, input_gaps, 1.0), -np.inf)
        best_pair = int(np.argmax(ratios))
        pair_bound = float(ratios[best_pair])
        pair = (int(first[best_pair]), int(second[best_pair]))
    else:
        pair_bound, pair = 0.0, None
    best_point = int(np.argmax(per_point))
    jacobian = float(per_point[best_point])
    return EmpiricalLowerBound(lower=max(jacobian, pair_bound), jacobian=jacobian,
                               jacobian_point=best_point, pairs=pair_bound, pair=pair,
                               n_points=int(n), n_pairs=int(np.count_nonzero(distinct)),
                               n_iter=n_iter, per_point=per_point)


# --------------------------------------------------------------------------- book units


def input_diameter(points, *, sample: int = 2000, seed: int = 0) -> DiameterBounds:
    """Bracket the diameter of a finite set of inputs (flattened, l2).

    Parameters
    ----------
    points : array_like or torch.Tensor, shape (n, ...)
    sample : int
        Size of the random subsample for the lower bound (all points if fewer).
    seed : int

    Returns
    -------
    DiameterBounds
        ``(lower, upper)``. ``lower``: the largest pairwise distance within the subsample,
        a distance actually attained, so a lower bound on the diameter. ``upper``: twice the
        largest distance from the subsample's mean to *any* of the points (triangle
        inequality), a certified upper bound on the finite set's diameter. Use ``upper`` for
        a certified Lipschitz radius; it is at most twice the true diameter.
    """
    sample = check_count(sample, name="sample", minimum=2)
    array = _as_inputs(points, torch.float64).flatten(1).numpy()
    rng = np.random.default_rng(seed)
    n = len(array)
    subset = array[np.sort(rng.choice(n, size=min(n, sample), replace=False))]
    squared = np.einsum("ij,ij->i", subset, subset)
    largest = 0.0
    for start in range(0, len(subset), 512):
        block = subset[start:start + 512]
        gram = squared[start:start + 512, None] + squared[None, :] - 2.0 * block @ subset.T
        candidate = int(np.argmax(gram))
        i, j = divmod(candidate, gram.shape[1])
        # recompute the winner directly (the Gram form loses precision)
        largest = max(largest, float(np.linalg.norm(block[i] - subset[j])))
    centre = subset.mean(axis=0)
    radius = max(float(np.max(np.linalg.norm(array[start:start + 4096] - centre, axis=1)))
                 for start in range(0, n, 4096))
    return DiameterBounds(lower=largest, upper=2.0 * radius)


def book_units(lipschitz, *, input_diameter: float, output_scale: float) -> float:
    """Lipschitz constant of the normalized map ``t -> output_scale * (f(D t) - offset)``.

    Parameters
    ----------
    lipschitz : float or LipschitzBound
        ``L`` of ``f`` in l2 (a certified :class:`LipschitzBound` is read for its ``upper``).
    input_diameter : float
        ``D``, the diameter of the inputs (the ``upper`` of :func:`input_diameter` for a
        certified result), so that ``t = x / D`` ranges over a set of diameter at most 1.
    output_scale : float
        ``s`` of the unit-cube normalization ``u = s * (z - offset)``, i.e.
        ``1 / (high - low)`` of :func:`helpers.measure.quantize.fit_unit_cube` (for the
        per-coordinate variant pass the largest ``1 / (high - low)``: a diagonal scaling has
        norm equal to its largest entry).

    Returns
    -------
    float
        ``L * D * s``: the normalized representations of the data lie within this distance
        of one another, i.e. in a ball of radius ``R = L * D * s`` around any one of them, so
        ``d_Z * log2(1 + 2 R / eps)`` bounds their log2 covering number at scale ``eps``.
    """
    if isinstance(lipschitz, LipschitzBound):
        if not lipschitz.certified:
            raise ValueError(f"the bound for {lipschitz.model} is not certified: "
                             f"{lipschitz.note}")
        lipschitz = lipschitz.upper
    values = {"lipschitz": lipschitz, "input_diameter": input_diameter,
              "output_scale": output_scale}
    for name, value in values.items():
        check_real(value, name=name, low=0.0)
    return float(lipschitz) * float(input_diameter) * float(output_scale)


__all__ = [
    "GELU_LIPSCHITZ",
    "GELU_TANH_LIPSCHITZ",
    "SILU_LIPSCHITZ",
    "SUPPORTED_LAYERS",
    "DiameterBounds",
    "EmpiricalLowerBound",
    "LayerBound",
    "LipschitzBound",
    "OperatorNorm",
    "UnsupportedLayerError",
    "activation_lipschitz",
    "book_units",
    "certified_upper_bound",
    "conv_operator_norm",
    "empirical_lower_bound",
    "input_diameter",
    "layer_operator_norm",
    "linear_operator_norm",
]
