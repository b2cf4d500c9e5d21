"""Curvature of a feature map along input directions, by forward-mode AD and by secants.

Introduced in the chapter "Curvature threshold" (``notebooks/04_curvature_threshold``).

Definition. For a map ``g: R^n -> R^m`` (``n`` the flattened input size, ``g`` a model's
representation layer, say), a point ``x`` and a unit direction ``v``, take the image curve
``c(t) = g(x + t v)``. With ``c' = Dg(x) v`` and ``c'' = D^2 g(x)[v, v]``, its **extrinsic
curvature** at ``t = 0`` is

    kappa = || c'' - (<c'', c'> / ||c'||^2) c' || / ||c'||^2,

the curvature of the image curve as a curve in ``R^m`` (one over the radius of its osculating
circle). It does not change when the curve is re-parameterized, so it does not depend on the
scale of the inputs, and its unit is one over output length: once the representations are
normalized into the unit cube by the book's single affine map ``z -> (z - offset) * scale``,
kappa is a pure number, comparable with the grid step ``2^-p``. Multiplying the outputs by
``s`` divides kappa by ``s``. Where ``c' = 0`` (the map is locally constant along ``v``, as in
a dead ReLU region) the curve has no tangent and kappa is undefined: it is reported as NaN and
counted.

The **second-derivative (Taylor) curvature** ``kappa_T = ||c''||`` is reported beside it: it
is the constant in ``||g(x + h v) - g(x) - Dg(x) h v|| <= (kappa_T / 2) h^2 + o(h^2)``, so it
depends on the input scale (``h`` is in input units) as well as on the output scale
(multiplying the outputs by ``s`` multiplies it by ``s``).

Two estimators of the same quantities:

:func:`curvature_autograd`
    ``c'`` and ``c''`` exactly (to floating point) by nested forward-mode AD,
    ``torch.func.jvp`` of ``torch.func.jvp``. A network built from ReLU, max pooling and
    linear layers is piecewise linear, so its ``c''`` is exactly 0 almost everywhere and so is
    its kappa: the second derivative does not see the kinks.
:func:`curvature_secant`
    Finite differences at an input step ``h``: the Menger curvature (one over the circumradius)
    of the three image points ``g(x - h v), g(x), g(x + h v)``, and the second difference
    ``||g(x - h v) - 2 g(x) + g(x + h v)|| / h^2``. Exact on circles at every ``h``; it tends
    to the autograd values as ``h -> 0`` for smooth maps, and at finite ``h`` it does see the
    kinks of a ReLU network, which is the curvature a grid of step ``h`` meets.

:func:`precision_threshold` turns a curvature into the proposal's bit threshold
``p* = 1/2 log2 kappa``; :func:`radius_threshold` into ``log2 kappa`` (grid step below the
radius of curvature ``1 / kappa``). Directions come from :func:`random_directions` (uniform
on the sphere of the flattened input) or :func:`data_tangent_directions` (towards nearby
samples, roughly along the data). :func:`representation_map` wraps a book model's
representation layer, normalized, as the map ``g``.

Forward-mode AD limits. PyTorch has no second-order forward-mode rule for a few operations
(``silu``, ``mish``, ``hardsigmoid``, ``glu``, and ``scaled_dot_product_attention`` on CPU at
the time of writing), and the rule of its fused ``layer_norm`` gives a wrong second
derivative (9% off on random inputs, found by comparing with secants). Inside
:func:`curvature_autograd` the ``torch.nn.functional`` versions of these are replaced by the
same functions written in elementary operations, which have correct rules; any other
operation without a rule stops with an error that says so (use :func:`curvature_secant`
then).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from helpers._validation import (
    as_array,
    check_bootstrap,
    check_choice,
    check_confidence,
    check_count,
    check_positive,
    check_real_array,
    is_number,
)

#: Default number of (point, direction) pairs per forward evaluation.
BATCH_SIZE = 256
#: Default number of bootstrap resamples for :meth:`CurvatureSample.interval`.
N_BOOTSTRAP = 1000
METHODS = ("autograd", "secant")


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False, repr=False)
class CurvatureSample:
    """Curvatures of a map at ``n`` points along ``k`` directions each.

    Attributes
    ----------
    kappa : numpy.ndarray, shape (n, k)
        Extrinsic curvature (one over output length); NaN where undefined.
    taylor : numpy.ndarray, shape (n, k)
        Second-derivative curvature ``||c''||`` (output length over input length squared).
    speed : numpy.ndarray, shape (n, k)
        ``||c'||`` (autograd) or ``||g(x + h v) - g(x - h v)|| / (2 h)`` (secant).
    method : {"autograd", "secant"}
        The estimator.
    h : float or None
        The secant step in input units; None for autograd.

    Notes
    -----
    The arrays are read-only. Row ``i`` holds the ``k`` directions of point ``i``; they are
    not independent of each other, which is why :meth:`interval` resamples whole rows.
    """

    kappa: np.ndarray
    taylor: np.ndarray
    speed: np.ndarray
    method: str
    h: float | None = None

    def __post_init__(self):
        check_choice(self.method, METHODS, name="method")
        arrays = {}
        for name in ("kappa", "taylor", "speed"):
            array = np.array(getattr(self, name), dtype=np.float64)  # a private copy
            if array.ndim != 2:
                raise ValueError(f"{name} must be a 2-D array of shape (n_points, "
                                 f"n_directions), got shape {array.shape}.")
            array.setflags(write=False)
            arrays[name] = array
        shapes = {name: array.shape for name, array in arrays.items()}
        if len(set(shapes.values())) != 1:
            raise ValueError(f"kappa, taylor and speed must have the same shape, got {shapes}.")
        for name, array in arrays.items():
            object.__setattr__(self, name, array)
        if self.method == "secant":
            object.__setattr__(self, "h", _check_step(self.h))
        elif self.h is not None:
            raise ValueError(f"h is the secant step; leave it None for method='autograd', "
                             f"got h={self.h!r}.")

    # ----------------------------------------------------------------- sizes

    @property
    def n_points(self) -> int:
        return int(self.kappa.shape[0])

    @property
    def n_directions(self) -> int:
        return int(self.kappa.shape[1])

    @property
    def n_undefined(self) -> int:
        """Pairs where kappa is undefined (zero speed, or a degenerate secant triple)."""
        return int(np.count_nonzero(np.isnan(self.kappa)))

    @property
    def fraction_undefined(self) -> float:
        return self.n_undefined / self.kappa.size if self.kappa.size else float("nan")

    # ----------------------------------------------------------------- statistics

    def values(self) -> np.ndarray:
        """The defined (finite) kappa values, flattened."""
        return self.kappa[np.isfinite(self.kappa)]

    def quantile(self, q):
        """Quantile(s) ``q`` in [0, 1] of the defined kappa values (NaN if there are none)."""
        q = _check_quantile(q)
        values = self.values()
        if values.size == 0:
            return float("nan") if np.ndim(q) == 0 else np.full(np.shape(q), np.nan)
        result = np.quantile(values, q)
        return float(result) if np.ndim(result) == 0 else result

    @property
    def median(self) -> float:
        return self.quantile(0.5)

    def summary(self, quantiles: Sequence[float] = (0.5, 0.9, 0.99)) -> dict:
        """A JSON-ready dict: sizes, undefined count and fraction, mean, max, quantiles.

        Quantiles appear under keys ``"q0.5"``, ``"q0.9"``... (``f"q{q:g}"``). Statistics of
        an empty set of defined values are NaN.
        """
        values = self.values()
        result = {
            "method": self.method,
            "h": self.h,
            "n_points": self.n_points,
            "n_directions": self.n_directions,
            "n": int(values.size),
            "n_undefined": self.n_undefined,
            "fraction_undefined": self.fraction_undefined,
            "mean": float(values.mean()) if values.size else float("nan"),
            "max": float(values.max()) if values.size else float("nan"),
        }
        for q in quantiles:
            result[f"q{float(q):g}"] = self.quantile(float(q))
        return result

    def interval(self, statistic="median", *, n_bootstrap: int = N_BOOTSTRAP,
                 confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
        """A statistic of kappa with a percentile-bootstrap interval over points.

        Each resample draws ``n_points`` rows with replacement and keeps all the directions
        of a drawn point together (the directions of one point are not independent: they
        share the point's neighbourhood), then computes the statistic of the defined values.

        Parameters
        ----------
        statistic : "median", "mean" or float
            A float ``q`` in [0, 1] is the ``q`` quantile.
        n_bootstrap : int
            Number of resamples.
        confidence : float
            Level of the interval, in (0, 1).
        seed : int
            Seed of the resampling.

        Returns
        -------
        (estimate, low, high) : tuple of float

        Raises
        ------
        ValueError
            If kappa is undefined everywhere, or for invalid arguments.
        """
        compute = _statistic(statistic)
        check_bootstrap(n_bootstrap, allow_zero=False)
        check_confidence(confidence)
        if self.values().size == 0:
            raise ValueError(f"kappa is undefined at all {self.kappa.size} pairs (zero speed "
                             "or degenerate triples), so it has no statistic to bootstrap.")
        estimate = compute(self.values())
        rng = np.random.default_rng(seed)
        samples = np.empty(int(n_bootstrap))
        for index in range(int(n_bootstrap)):
            rows = self.kappa[rng.integers(0, self.n_points, self.n_points)]
            values = rows[np.isfinite(rows)]
            # a resample can hold only undefined rows when most rows are undefined
            samples[index] = compute(values) if values.size else np.nan
        samples = samples[np.isfinite(samples)]
        tail = 100 * (1 - confidence) / 2
        low, high = np.percentile(samples, [tail, 100 - tail])
        return float(estimate), float(low), float(high)

    # ----------------------------------------------------------------- units

    def scaled(self, output_scale: float) -> CurvatureSample:
        """The sample of the map ``s * g`` for a scalar ``s = output_scale > 0``.

        Scaling the outputs by ``s`` divides the extrinsic curvature by ``s`` (a circle of
        radius r becomes one of radius s r) and multiplies the Taylor curvature and the speed
        by ``s``. Use it to move between raw and normalized representation units; a
        per-coordinate scaling is not a similarity and has no such shortcut (rerun the
        estimator on the rescaled map instead).
        """
        s = check_positive(output_scale, name="output_scale")
        return CurvatureSample(kappa=self.kappa / s, taylor=self.taylor * s,
                               speed=self.speed * s, method=self.method, h=self.h)

    def __repr__(self) -> str:
        step = "" if self.h is None else f", h={self.h:g}"
        return (f"CurvatureSample(method={self.method!r}{step}, n_points={self.n_points}, "
                f"n_directions={self.n_directions}, median={self.median:.4g}, "
                f"n_undefined={self.n_undefined})")


def _check_quantile(q):
    array = check_real_array(q, name="quantile", finite=False)
    if not np.all((array >= 0) & (array <= 1)):  # also rejects NaN
        raise ValueError(f"quantiles must lie in [0, 1], got {q!r}.")
    return float(array) if array.ndim == 0 else array


def _statistic(statistic) -> Callable[[np.ndarray], float]:
    if isinstance(statistic, str):
        if statistic == "median":
            return lambda values: float(np.median(values))
        if statistic == "mean":
            return lambda values: float(np.mean(values))
        raise ValueError(f"statistic must be 'median', 'mean' or a quantile in [0, 1], "
                         f"got {statistic!r}.")
    if not is_number(statistic):
        raise ValueError(f"statistic must be 'median', 'mean' or a quantile in [0, 1], "
                         f"got {statistic!r}.")
    q = _check_quantile(statistic)
    return lambda values: float(np.quantile(values, q))


# --------------------------------------------------------------------------- thresholds


def _check_kappa(kappa, name: str) -> np.ndarray:
    # strings and complex numbers are refused, not parsed or cut to their real part
    array = check_real_array(kappa, name=f"{name}: kappa", finite=False)
    bad = int(np.count_nonzero(np.isnan(array) | (array == -np.inf)))
    if bad:
        raise ValueError(f"{name}: kappa holds {bad} NaN or -inf values; drop undefined "
                         "curvatures first (CurvatureSample.values() keeps only the defined "
                         "ones).")
    return array


def _log2_nonnegative(array: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(array > 0, np.log2(np.where(array > 0, array, 1.0)), -np.inf)


def precision_threshold(kappa):
    """The proposal's bit threshold ``p* = 1/2 log2 kappa``.

    Parameters
    ----------
    kappa : float or array_like
        Extrinsic curvature in normalized (unit-cube) output units. ``kappa <= 0`` (a flat
        map) gives ``-inf``; ``inf`` gives ``inf``.

    Returns
    -------
    float or numpy.ndarray
        Same shape as ``kappa``.

    Raises
    ------
    ValueError
        If ``kappa`` holds NaN or ``-inf``.
    """
    result = 0.5 * _log2_nonnegative(_check_kappa(kappa, "precision_threshold"))
    return float(result) if np.ndim(result) == 0 else result


def radius_threshold(kappa):
    """The scale-consistent bit threshold ``log2 kappa``: grid step ``2^-p`` below ``1 / kappa``.

    A grid step smaller than the radius of curvature ``1 / kappa`` resolves the bending of
    the representation; ``2^-p < 1 / kappa`` means ``p > log2 kappa``. Same conventions as
    :func:`precision_threshold`.
    """
    result = _log2_nonnegative(_check_kappa(kappa, "radius_threshold"))
    return float(result) if np.ndim(result) == 0 else result


def circular_arc(start, end, kappa, *, n_points: int = 1025) -> np.ndarray:
    """Points of the shorter arc of curvature ``kappa`` between two points of the plane.

    Introduced in the chapter "Curvature threshold", whose proposition on curvature and
    collapse is checked on arcs built with it. The arc is the shorter one of a circle of
    radius ``1 / kappa`` through ``start`` and ``end`` (the segment between them when
    ``kappa`` is 0), bulging to the left of the direction from ``start`` to ``end``. It
    exists when the chord fits in the circle, ``kappa * |end - start| <= 2``; at equality
    it is a half circle. Its height above the chord (its sagitta) is
    ``r - sqrt(r^2 - L^2 / 4)`` for ``r = 1 / kappa`` and chord length ``L``.

    Parameters
    ----------
    start, end : array_like, shape (2,)
        The ends of the chord; distinct.
    kappa : float
        Curvature, ``0 <= kappa <= 2 / |end - start|``.
    n_points : int
        Points returned, evenly spaced in arc length, ends included (at least 2).

    Returns
    -------
    numpy.ndarray, shape (n_points, 2)
        The arc from ``start`` to ``end``; the first and last rows are exactly the ends.

    Raises
    ------
    ValueError
        If the ends are not two finite, distinct points of the plane, ``kappa`` is negative,
        not finite or too large for the chord, or ``n_points`` is below 2.
    """
    ends = check_real_array([np.ravel(start), np.ravel(end)], name="start and end")
    if ends.shape != (2, 2):
        raise ValueError(f"start and end must be points of the plane, got shape {ends.shape}.")
    kappa = check_real_array(kappa, name="kappa", low=0.0)
    if kappa.ndim:
        raise ValueError(f"kappa must be one number, got an array of shape {kappa.shape}.")
    kappa = float(kappa)
    n_points = check_count(n_points, name="n_points", minimum=2)
    chord = ends[1] - ends[0]
    length = float(np.hypot(*chord))
    if length == 0:
        raise ValueError("start and end must differ: a chord of length 0 fixes no arc.")
    if kappa * length > 2.0 * (1 + 1e-12):  # the tolerance admits a half circle in floats
        raise ValueError(f"no arc of curvature {kappa:g} spans a chord of length {length:g}: "
                         f"its circle's diameter {2 / kappa:g} is shorter than the chord.")
    along = chord / length
    left = np.array([-along[1], along[0]])
    middle = ends.mean(axis=0)
    if kappa == 0:
        points = middle + np.linspace(-0.5, 0.5, n_points)[:, None] * length * along
    else:
        radius = 1.0 / kappa
        half_angle = math.asin(min(1.0, 0.5 * length * kappa))
        angles = np.linspace(-half_angle, half_angle, n_points)[:, None]
        # heights as differences of cosines, not centre plus radius, so that a chord on an
        # edge of the unit square puts no point outside it by a rounding error
        points = (middle + radius * np.sin(angles) * along
                  + radius * (np.cos(angles) - math.cos(half_angle)) * left)
    points[0], points[-1] = ends[0], ends[1]
    return points


# --------------------------------------------------------------------------- input checks


def _check_step(h) -> float:
    if not is_number(h) or not math.isfinite(h) or h <= 0:
        raise ValueError(f"h must be a positive step in input units (the distance moved along "
                         f"each unit direction), got h={h!r}.")
    return float(h)


def _float_dtype(dtype):
    """numpy float dtype for an input dtype: float32/float64 kept, anything else float32.

    float32 is the dtype of the book's models (and torch's default).
    """
    dtype = np.dtype(dtype)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float32)


def _as_numpy_points(points, name: str = "points") -> np.ndarray:
    """``points`` as a finite float array of shape (n, *input_shape), n >= 1."""
    array = as_array(points, name=name)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}.")
    if array.ndim < 2:
        raise ValueError(f"{name} must have shape (n_points, *input_shape), got shape "
                         f"{array.shape}; for one-dimensional inputs use points[:, None].")
    if array.shape[0] == 0 or array[0].size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); pass at least one point.")
    array = np.asarray(array, dtype=_float_dtype(array.dtype))
    _check_finite(array, name)
    return array


def _check_finite(array, name: str) -> None:
    if hasattr(array, "detach"):
        import torch

        bad, total = int((~torch.isfinite(array)).sum()), array.numel()
    else:
        bad, total = int(np.count_nonzero(~np.isfinite(array))), array.size
    if bad:
        raise ValueError(f"{name} holds {bad} NaN or infinite values (of {total}); repair or "
                         "drop those entries before measuring curvature.")


def _as_tensor(array, name: str):
    """A detached float torch tensor on its current device (float32/64 kept, else float32)."""
    import torch

    if isinstance(array, torch.Tensor):
        tensor = array.detach()
        if not tensor.is_floating_point():
            tensor = tensor.to(torch.get_default_dtype())
    else:
        numpy_array = np.asarray(array)
        if numpy_array.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric, got dtype {numpy_array.dtype}.")
        tensor = torch.as_tensor(np.asarray(numpy_array, dtype=_float_dtype(numpy_array.dtype)))
    return tensor


def _prepare_pairs(points, directions):
    """Check and convert points (n, *shape) and directions (n, k, *shape) to tensors.

    Returns ``(points, directions, norms, k)``: the directions flattened to
    (n * k, *shape) but not yet divided by their float64 ``norms`` (the callers normalize one
    chunk at a time, so that no normalized copy of a large array is made).
    """
    import torch

    points_t = _as_tensor(points, "points")
    if points_t.dim() < 2 or points_t.shape[0] == 0 or points_t[0].numel() == 0:
        raise ValueError(f"points must have shape (n_points, *input_shape) with n_points >= 1, "
                         f"got shape {tuple(points_t.shape)}; for one-dimensional inputs use "
                         "points[:, None].")
    directions_t = _as_tensor(directions, "directions").to(points_t.device, points_t.dtype)
    n, input_shape = points_t.shape[0], tuple(points_t.shape[1:])
    if (directions_t.dim() != points_t.dim() + 1 or directions_t.shape[0] != n
            or tuple(directions_t.shape[2:]) != input_shape or directions_t.shape[1] == 0):
        raise ValueError(
            f"directions must have shape (n_points, n_directions, *input_shape) = "
            f"({n}, k, {', '.join(map(str, input_shape))}) for points of shape "
            f"{tuple(points_t.shape)}, got shape {tuple(directions_t.shape)}. For one "
            "direction per point use directions[:, None]."
        )
    _check_finite(points_t, "points")
    _check_finite(directions_t, "directions")
    k = int(directions_t.shape[1])
    flat = directions_t.reshape(n * k, -1)
    norms = torch.linalg.vector_norm(flat.to(torch.float64), dim=1)
    zero = torch.nonzero(norms == 0).flatten()
    if len(zero):
        first = [(int(i) // k, int(i) % k) for i in zero[:5]]
        raise ValueError(f"{len(zero)} directions are zero vectors (first (point, direction) "
                         f"indices: {first}); a direction must have a non-zero norm.")
    return points_t, directions_t.reshape(n * k, *input_shape), norms, k


def _default_device(fn, points, device):
    import torch

    if device is not None:
        return torch.device(device)
    own = getattr(fn, "device", None)
    if isinstance(own, torch.device):
        return own
    if isinstance(fn, torch.nn.Module):
        for tensor in list(fn.parameters()) + list(fn.buffers()):
            return tensor.device
    if isinstance(points, torch.Tensor):
        return points.device
    return torch.device("cpu")


def _check_output(output, batch: int, what: str = "the map"):
    import torch

    if not isinstance(output, torch.Tensor):
        raise ValueError(f"{what} must return a torch tensor of shape (batch, m), got "
                         f"{type(output).__name__}.")
    if output.dim() != 2 or output.shape[0] != batch:
        raise ValueError(f"{what} must return shape (batch, m) = ({batch}, m) for a batch of "
                         f"{batch} inputs, got shape {tuple(output.shape)}. Flatten "
                         "multi-dimensional outputs inside the map (out.flatten(1)).")
    bad = int((~torch.isfinite(output)).sum())
    if bad:
        raise ValueError(f"{what} returned NaN/inf in {bad} of {output.numel()} output values; "
                         "check the model (a diverged one?) and that the inputs are in the "
                         "range it was trained on.")


def _chunks(total: int, size: int):
    for start in range(0, total, size):
        yield start, min(start + size, total)


# --------------------------------------------------------------------------- forward-mode AD


def _sdpa_math(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
               scale=None, enable_gqa=False):
    """Scaled dot-product attention in elementary operations (no dropout, no GQA)."""
    import torch

    if dropout_p or enable_gqa:
        return NotImplemented
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        keep = torch.ones(query.shape[-2], key.shape[-2], dtype=torch.bool,
                          device=query.device).tril()
        scores = scores.masked_fill(~keep, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    return torch.softmax(scores, dim=-1) @ value


def _glu(input, dim=-1):
    import torch

    first, second = input.chunk(2, dim=dim)
    return first * torch.sigmoid(second)


def _layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization in elementary operations (its fused kernel's second-order forward
    derivative is wrong in the torch versions checked here: 9% off on random inputs)."""
    dims = tuple(range(-len(normalized_shape), 0))
    centred = input - input.mean(dim=dims, keepdim=True)
    variance = (centred * centred).mean(dim=dims, keepdim=True)
    output = centred / (variance + eps).sqrt()
    if weight is not None:
        output = output * weight
    if bias is not None:
        output = output + bias
    return output


def _decompositions() -> dict:
    """torch.nn.functional operations whose second-order forward AD is missing or wrong ->
    elementary forms."""
    import torch
    import torch.nn.functional as F

    return {
        F.layer_norm: _layer_norm,
        F.silu: lambda input, inplace=False: input * torch.sigmoid(input),
        F.mish: lambda input, inplace=False: input * torch.tanh(F.softplus(input)),
        F.hardsigmoid: lambda input, inplace=False: F.relu6(input + 3.0) / 6.0,
        F.glu: _glu,
        F.scaled_dot_product_attention: _sdpa_math,
    }


def _decomposing_mode():
    """A TorchFunctionMode that swaps in the elementary forms of :func:`_decompositions`.

    ``inplace=True`` is ignored (the result is returned, not written into the input): in
    evaluation the input of an in-place activation is not used again.
    """
    from torch.overrides import TorchFunctionMode

    table = _decompositions()

    class DecomposeForSecondOrderAD(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            replacement = table.get(func)
            if replacement is not None:
                result = replacement(*args, **kwargs)
                if result is not NotImplemented:
                    return result
            return func(*args, **kwargs)

    return DecomposeForSecondOrderAD()


def _derivatives(fn, x, v):
    """(g(x), c', c'') for a batch by forward-mode AD of forward-mode AD."""
    from torch.func import jvp

    def velocity(inputs):
        output, tangent = jvp(fn, (inputs,), (v,))
        return tangent, output  # the output rides along as aux

    velocity_, acceleration, output = jvp(velocity, (x,), (v,), has_aux=True)
    return output, velocity_, acceleration


def _extrinsic(velocity: np.ndarray, acceleration: np.ndarray):
    """kappa, taylor and speed (float64, shape (b,)) from c' and c'' of shape (b, m)."""
    speed_squared = np.einsum("bm,bm->b", velocity, velocity)
    taylor = np.linalg.norm(acceleration, axis=1)
    defined = speed_squared > 0
    safe = np.where(defined, speed_squared, 1.0)
    along = np.einsum("bm,bm->b", acceleration, velocity) / safe
    normal = acceleration - along[:, None] * velocity
    kappa = np.where(defined, np.linalg.norm(normal, axis=1) / safe, np.nan)
    return kappa, taylor, np.sqrt(speed_squared)


def curvature_autograd(fn: Callable, points, directions, *, batch_size: int = BATCH_SIZE,
                       device=None) -> CurvatureSample:
    """Extrinsic and Taylor curvature of ``fn`` at ``points`` along ``directions``, exactly.

    ``c' = Dg(x) v`` and ``c'' = D^2 g(x)[v, v]`` come from nested forward-mode AD
    (``torch.func.jvp`` of ``torch.func.jvp``), about three forward passes' work per pair,
    with no backward graph kept (it runs under ``torch.no_grad``, which forward mode ignores).

    Parameters
    ----------
    fn : callable
        Takes a float tensor of shape (b, *input_shape) and returns (b, m): a model's
        representation layer from :func:`representation_map`, or any torch function. Put a
        module in eval mode first (spectral normalization iterates in training mode), and give
        its parameters the dtype of the points (``model.double()`` for float64 points).
    points : array_like or torch.Tensor, shape (n, *input_shape)
        Where to measure. Float32 and float64 are kept; other types become float32.
    directions : array_like or torch.Tensor, shape (n, k, *input_shape)
        ``k`` directions per point, each divided by its Euclidean norm over the flattened
        input (so only their direction matters).
    batch_size : int
        (point, direction) pairs per evaluation.
    device : str or torch.device, optional
        Where to evaluate. Default: the device of ``fn`` (its parameters, or its ``device``
        attribute), else that of ``points``, else the CPU.

    Returns
    -------
    CurvatureSample
        ``method="autograd"``, ``h=None``; kappa is NaN where ``c' = 0``.

    Raises
    ------
    ValueError
        For non-finite or mis-shaped inputs, zero directions, outputs that are not (b, m) or
        not finite.
    NotImplementedError
        If ``fn`` uses an operation with no second-order forward-mode rule in PyTorch (other
        than those replaced, see the module docstring).
    """
    import torch

    batch_size = check_count(batch_size, name="batch_size")
    points_t, directions_t, norms, k = _prepare_pairs(points, directions)
    device = _default_device(fn, points, device)
    n = points_t.shape[0]
    kappa, taylor, speed = (np.empty(n * k) for _ in range(3))
    with torch.no_grad(), _decomposing_mode(), warnings.catch_warnings():
        # torch scripts its forward-AD decompositions on first use with a deprecated API
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated",
                                category=FutureWarning)
        for start, stop in _chunks(n * k, batch_size):
            pairs = torch.arange(start, stop)
            x = points_t[pairs // k].to(device)
            scale = (1.0 / norms[start:stop]).to(points_t.dtype)
            v = (directions_t[start:stop] * scale.view(-1, *[1] * (points_t.dim() - 1)))
            try:
                output, velocity, acceleration = _derivatives(fn, x, v.to(device))
            except NotImplementedError as error:
                if "forward AD" not in str(error):
                    raise
                raise NotImplementedError(
                    f"{error} -- the map uses an operation that PyTorch cannot differentiate "
                    "twice in forward mode. Use curvature_secant, or write that operation in "
                    "elementary functions inside the map."
                ) from error
            _check_output(output, stop - start)
            for name, tensor in (("first", velocity), ("second", acceleration)):
                if not bool(torch.isfinite(tensor).all()):
                    raise ValueError(f"the {name} derivative of the map is NaN/inf at some "
                                     "inputs (an operation not differentiable there, such "
                                     "as sqrt at 0?); use curvature_secant.")
            values = _extrinsic(velocity.double().cpu().numpy(),
                                acceleration.double().cpu().numpy())
            for target, value in zip((kappa, taylor, speed), values, strict=True):
                target[start:stop] = value
    return CurvatureSample(kappa=kappa.reshape(n, k), taylor=taylor.reshape(n, k),
                           speed=speed.reshape(n, k), method="autograd", h=None)


# --------------------------------------------------------------------------- secants


def _menger(before: np.ndarray, middle: np.ndarray, after: np.ndarray):
    """Menger curvature (1 / circumradius) of the triangles (before, middle, after), rows.

    ``kappa = 2 sqrt(|u|^2 |w|^2 - (u.w)^2) / (|u| |w| |u - w|) = 2 sin(theta) / |u - w|``
    with ``u = before - middle``, ``w = after - middle`` and theta the angle between them.
    The angle is nearly pi for small steps, where the first form cancels catastrophically;
    ``sin(theta) = |u/|u| - w/|w|| |u/|u| + w/|w|| / 2`` keeps the relative error at
    rounding over sin(theta) instead of over its square. Degenerate triangles give NaN.
    """
    u, w = before - middle, after - middle
    norm_u, norm_w = np.linalg.norm(u, axis=1), np.linalg.norm(w, axis=1)
    chord = np.linalg.norm(u - w, axis=1)
    defined = (norm_u > 0) & (norm_w > 0) & (chord > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_u, unit_w = u / norm_u[:, None], w / norm_w[:, None]
        sine = (np.linalg.norm(unit_u - unit_w, axis=1)
                * np.linalg.norm(unit_u + unit_w, axis=1) / 2)
        kappa = 2 * np.minimum(sine, 1.0) / chord
    return np.where(defined, kappa, np.nan)


def curvature_secant(fn: Callable, points, directions, h, *, batch_size: int = BATCH_SIZE,
                     device=None):
    """Secant (finite-difference) curvature of ``fn`` at input step ``h``.

    With ``A = g(x - h v)``, ``B = g(x)``, ``C = g(x + h v)`` (computed in the dtype of the
    points, compared in float64):

    - kappa is the Menger curvature of A, B, C, one over the radius of the circle through
      them: exact on circles for every ``h``, and ``kappa + O(h^2)`` on smooth curves. It
      uses only the three image points, so rounding of ``x +- h v`` moves the points but does
      not bias the formula;
    - taylor is ``||A - 2B + C|| / h^2``; in float32 its rounding error grows like
      ``1e-7 ||B|| / h^2``, so keep ``h`` well above ``sqrt(1e-7)`` times the output scale
      over the Taylor curvature;
    - speed is ``||C - A|| / (2h)``.

    Parameters
    ----------
    fn, points, directions, batch_size, device :
        As in :func:`curvature_autograd`.
    h : float or sequence of float
        Step(s) along the unit directions, in the input's own units (pixels scaled to
        [0, 1], say); the caller chooses the scale.

    Returns
    -------
    CurvatureSample or dict
        One sample for a single ``h``; for a sequence, a dict ``{float(h): CurvatureSample}``
        in the order given. ``g(x)`` is evaluated once for all steps.

    Raises
    ------
    ValueError
        If a step is not a finite number > 0, and as in :func:`curvature_autograd`.

    Notes
    -----
    Choosing ``h``. Two errors pull in opposite directions. Rounding of the outputs (relative
    ``eps``: 6e-8 in float32) perturbs kappa by about ``eps ||B|| / (h * speed)^2``, which
    swamps the curvature of the book's float32 models below ``h ~ 1e-2``; evaluate the model
    in float64 (``model.double()`` and float64 points) for small steps. And a step that
    crosses a kink (ReLU, or the max pooling that the GELU/SiLU CNNs still have) sees the
    kink's bending: on the tiny GELU CNN the secant kappa at ``h = 1e-2`` is several times
    the autograd one, and the two agree only from ``h ~ 1e-3``. That gap is the point of the
    secant estimate for a grid of step ``h``, not an error of it.
    """
    import torch

    single = is_number(h)
    if single:
        steps = [_check_step(h)]
    else:
        if isinstance(h, (str, bytes)) or not isinstance(h, (Sequence, np.ndarray)) \
                or len(h) == 0:
            raise ValueError(f"h must be a positive step in input units or a non-empty "
                             f"sequence of them, got h={h!r}.")
        steps = [_check_step(step) for step in h]
    batch_size = check_count(batch_size, name="batch_size")
    points_t, directions_t, norms, k = _prepare_pairs(points, directions)
    device = _default_device(fn, points, device)
    n = points_t.shape[0]
    extra_dims = [1] * (points_t.dim() - 1)
    with torch.no_grad():
        parts = []
        for start, stop in _chunks(n, batch_size):
            output = fn(points_t[start:stop].to(device))
            _check_output(output, stop - start)
            parts.append(output.double().cpu().numpy())
        middle = np.concatenate(parts)
        results = {}
        for step in steps:
            kappa, taylor, speed = (np.empty(n * k) for _ in range(3))
            for start, stop in _chunks(n * k, batch_size):
                pairs = torch.arange(start, stop)
                x = points_t[pairs // k]
                scale = (step / norms[start:stop]).to(points_t.dtype).view(-1, *extra_dims)
                offset = directions_t[start:stop] * scale
                output = fn(torch.cat([x - offset, x + offset]).to(device))
                _check_output(output, 2 * (stop - start))
                output = output.double().cpu().numpy()
                before, after = output[: stop - start], output[stop - start:]
                centre = middle[pairs.numpy() // k]
                kappa[start:stop] = _menger(before, centre, after)
                taylor[start:stop] = np.linalg.norm(before - 2 * centre + after, axis=1) / step**2
                speed[start:stop] = np.linalg.norm(after - before, axis=1) / (2 * step)
            results[step] = CurvatureSample(
                kappa=kappa.reshape(n, k), taylor=taylor.reshape(n, k),
                speed=speed.reshape(n, k), method="secant", h=step)
    return results[steps[0]] if single else results


# --------------------------------------------------------------------------- directions


def random_directions(points, k: int, *, seed: int = 0) -> np.ndarray:
    """``k`` random unit directions per point, uniform on the sphere of the flattened input.

    Parameters
    ----------
    points : array_like, shape (n, *input_shape)
        Only the shape and dtype are used.
    k : int
        Directions per point.
    seed : int

    Returns
    -------
    numpy.ndarray, shape (n, k, *input_shape)
        Normalized Gaussian vectors, in the dtype of the points (float32 or float64).
    """
    k = check_count(k, name="k")
    array = _as_numpy_points(points)
    n, shape = array.shape[0], array.shape[1:]
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((n, k, int(np.prod(shape))))
    directions /= np.linalg.norm(directions, axis=2, keepdims=True)
    return directions.reshape(n, k, *shape).astype(array.dtype)


def _nearest_distinct(flat: np.ndarray, neighbours: int, *, max_entries: int = 4_000_000):
    """Indices (n, neighbours) of each row's nearest rows that differ from it, nearest first.

    Exact duplicates (the row itself included) are skipped. Distances are computed in
    float64 blocks of rows, so memory stays at ``max_entries`` distances.
    """
    n = len(flat)
    _, group = np.unique(flat, axis=0, return_inverse=True)
    group = group.ravel()
    squared_norms = np.einsum("nd,nd->n", flat, flat)
    block = max(1, max_entries // n)
    result = np.empty((n, neighbours), dtype=np.int64)
    for start, stop in _chunks(n, block):
        rows = flat[start:stop]
        distances = squared_norms[start:stop, None] + squared_norms[None, :] - 2 * rows @ flat.T
        distances[group[start:stop, None] == group[None, :]] = np.inf
        nearest = np.argpartition(distances, neighbours - 1, axis=1)[:, :neighbours]
        # exact distances of the candidates for the final order (the expansion above loses
        # digits for close points)
        exact = np.linalg.norm(flat[nearest] - rows[:, None, :], axis=2)
        order = np.argsort(exact, axis=1, kind="stable")
        result[start:stop] = np.take_along_axis(nearest, order, axis=1)
    return result, int(group.max()) + 1


def data_tangent_directions(points, k: int, *, neighbours: int | None = None,
                            seed: int = 0) -> np.ndarray:
    """Unit directions from each point towards ``k`` of its nearest distinct samples.

    A cheap stand-in for the tangent space of the data: directions along which the data
    actually varies near the point, rather than the mostly off-data directions of
    :func:`random_directions`.

    Parameters
    ----------
    points : array_like, shape (n, *input_shape)
        The sample; distances are Euclidean over the flattened input.
    k : int
        Directions per point.
    neighbours : int, optional
        Size of the candidate neighbourhood, ``>= k`` (default ``k``): the ``neighbours``
        nearest other points that are not exact duplicates of the point. With
        ``neighbours == k`` all are used, nearest first; otherwise ``k`` of them are drawn
        at random (seeded), kept in order of distance.
    seed : int

    Returns
    -------
    numpy.ndarray, shape (n, k, *input_shape)
        In the dtype of the points.

    Raises
    ------
    ValueError
        If ``neighbours < k``, or the set has fewer than ``neighbours`` distinct points
        besides any given one.

    Notes
    -----
    Cost: ``n^2`` distances of the flattened inputs (10,000 CIFAR images: about
    ``6e11`` float64 operations, a few minutes on a laptop core), in blocks of rows.
    """
    k = check_count(k, name="k")
    neighbours = k if neighbours is None else check_count(neighbours, name="neighbours")
    if neighbours < k:
        raise ValueError(f"neighbours={neighbours} must be >= k={k}: k directions are drawn "
                         "from the neighbours nearest points.")
    array = _as_numpy_points(points)
    n, shape = array.shape[0], array.shape[1:]
    flat = array.reshape(n, -1).astype(np.float64)
    n_distinct = len(np.unique(flat, axis=0))
    if n_distinct - 1 < neighbours:
        raise ValueError(
            f"data_tangent_directions needs at least neighbours={neighbours} distinct points "
            f"besides each point, but the {n} points hold only {n_distinct} distinct ones "
            "(exact duplicates are skipped). Pass more points or a smaller k / neighbours."
        )
    nearest, _ = _nearest_distinct(flat, neighbours)
    if neighbours > k:
        rng = np.random.default_rng(seed)
        picks = np.sort(np.argsort(rng.random((n, neighbours)), axis=1)[:, :k], axis=1)
        nearest = np.take_along_axis(nearest, picks, axis=1)
    directions = flat[nearest] - flat[:, None, :]
    directions /= np.linalg.norm(directions, axis=2, keepdims=True)
    return directions.reshape(n, k, *shape).astype(array.dtype)


# --------------------------------------------------------------------------- models


class RepresentationMap:
    """The map ``x -> (model.represent(x) - offset) * scale`` of a book model.

    Built by :func:`representation_map`. ``offset`` and ``scale`` are scalars or arrays
    broadcast over the representation's ``d_Z`` coordinates.
    """

    def __init__(self, model, offset, scale):
        self.model = model
        self.offset = offset
        self.scale = scale

    @property
    def device(self):
        for tensor in list(self.model.parameters()) + list(self.model.buffers()):
            return tensor.device
        return None

    def __call__(self, x):
        import torch

        z = self.model.represent(x)
        offset = torch.as_tensor(self.offset, dtype=z.dtype, device=z.device)
        scale = torch.as_tensor(self.scale, dtype=z.dtype, device=z.device)
        return (z - offset) * scale

    def __repr__(self) -> str:
        return f"RepresentationMap({type(self.model).__name__}, offset=..., scale=...)"


def representation_map(model, *, offset=0.0, scale=1.0) -> RepresentationMap:
    """The normalized representation layer of a model, as a map for the estimators.

    Parameters
    ----------
    model : helpers.nets.models.RepresentationModel or helpers.nets.train.TrainedModel
        Anything with a callable ``represent`` (or a ``.model`` that has one). It is put in
        eval mode (spectral normalization would run a power iteration per call otherwise).
    offset, scale : float or array_like of shape (d_Z,)
        The book's unit-cube map ``z -> (z - offset) * scale``; from a fitted
        :class:`helpers.measure.quantize.UnitCubeScaler` use ``offset=scaler.low`` and
        ``scale=1 / (scaler.high - scaler.low)``. Curvatures are then in unit-cube units.

    Returns
    -------
    RepresentationMap
        Callable on input batches (b, *input_shape), returning (b, d_Z).

    Raises
    ------
    TypeError
        If the object has no representation layer.
    ValueError
        If offset is not finite or scale is not finite and > 0.
    """
    inner = getattr(model, "model", None)
    if not callable(getattr(model, "represent", None)) and callable(
            getattr(inner, "represent", None)):
        model = inner  # a TrainedModel
    if not callable(getattr(model, "represent", None)):
        raise TypeError(
            f"{type(model).__name__} has no representation layer (no .represent method); pass "
            "a helpers.nets.models.RepresentationModel (or a helpers.nets.train.TrainedModel) "
            "or your "
            "own callable fn(x) -> (n, d) to the curvature estimators directly."
        )
    offset_array = check_real_array(offset, name="offset", finite=False)
    scale_array = check_real_array(scale, name="scale", finite=False)
    if offset_array.ndim > 1 or not np.all(np.isfinite(offset_array)):
        raise ValueError(f"offset must be a finite scalar or a (d_Z,) array, got {offset!r}.")
    if scale_array.ndim > 1 or not np.all(np.isfinite(scale_array) & (scale_array > 0)):
        raise ValueError(f"scale must be a finite scalar > 0 or a (d_Z,) array of them, got "
                         f"{scale!r}.")
    if hasattr(model, "eval"):
        model.eval()
    return RepresentationMap(model, offset_array, scale_array)


# --------------------------------------------------------------------------- the book's models

#: Direction kinds measured for a model: towards nearby samples, and uniformly random.
DIRECTION_KINDS = ("data-tangent", "random")


def sample_diameter(points, *, max_points: int = 2000, seed: int = 0) -> float:
    """Largest distance between two of (at most ``max_points`` seeded) points: a lower bound
    on the diameter of the set, in the points' own units."""
    from scipy.spatial.distance import pdist

    array = _as_numpy_points(points)
    flat = array.reshape(len(array), -1).astype(np.float64)
    if len(flat) > max_points:
        flat = flat[np.random.default_rng(seed).choice(len(flat), max_points, replace=False)]
    if len(flat) < 2:
        raise ValueError("a diameter needs at least two points.")
    return float(pdist(flat).max())


def secant_convergence(measured: dict) -> list[dict]:
    """How far the secant curvature is from the autograd one, step by step, on smooth models.

    Parameters
    ----------
    measured : dict
        ``{label: ModelCurvature}``; only smooth models are used.

    Returns
    -------
    list of dict
        Rows ``model, directions, step h / D, median relative difference``: the median over
        (point, direction) pairs where both are defined and autograd is positive of
        ``|kappa_secant - kappa_autograd| / kappa_autograd``.
    """
    rows = []
    for label, m in measured.items():
        if not m.smooth:
            continue
        for kind in DIRECTION_KINDS:
            exact = m.autograd[kind].kappa
            for step in m.steps:
                approx = m.secant[kind, step].kappa
                usable = np.isfinite(exact) & np.isfinite(approx) & (exact > 0)
                relative = np.abs(approx[usable] - exact[usable]) / exact[usable]
                rows.append({"model": label, "directions": kind, "step h / D": step,
                             "median relative difference":
                                 float(np.median(relative)) if relative.size else float("nan")})
    return rows


__all__ = [
    "BATCH_SIZE",
    "DIRECTION_KINDS",
    "METHODS",
    "N_BOOTSTRAP",
    "CurvatureSample",
    "RepresentationMap",
    "circular_arc",
    "curvature_autograd",
    "curvature_secant",
    "data_tangent_directions",
    "precision_threshold",
    "radius_threshold",
    "random_directions",
    "representation_map",
    "sample_diameter",
    "secant_convergence",
]
