"""Covering-number upper bounds and the enclosing ball they start from.

Introduced in the chapter "Precision lower bound" (``notebooks/02_precision_lower_bound``),
which proves and measures the bound of the theory notes section 4:

:func:`ball_covering_bound_bits`
    ``dim * log2(1 + 2 R / eps)``. A set inside a Euclidean ball of radius ``R`` in
    ``R^dim`` has ``log2 N_eps <= log2 M_eps <=`` this (volumetric argument: disjoint
    ``eps/2``-balls around an eps-separated set lie in the ball of radius ``R + eps/2``).
    Since a greedy net is eps-separated, it also bounds ``log2`` of every greedy net size.
:func:`intrinsic_covering_bits`
    The same expression with an intrinsic dimension ``k`` in place of ``dim``:
    ``k * log2(1 + 2 R / eps) = k * log2(R / eps) + k * log2(2 + eps / R)``, so the
    "const" of the form ``k log2(R / eps) + const`` is about ``k`` bits for ``eps << R``.
    It is a *theorem* only for sets inside a k-dimensional affine subspace (a PCA
    projection to k components, say). For a curved k-dimensional set it is a heuristic: a
    circle of radius 1/2 (k = 1) needs about ``pi / (2 eps)`` balls, more than the
    ``1 + 1/eps`` this formula allows once eps is small; a long curve wound inside a small
    ball needs arbitrarily many.
:func:`enclosing_ball`
    A ball that provably contains a finite sample, with a certified bracket on the radius of
    the smallest one (Frank–Wolfe on the dual problem, Yildirim 2008).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from helpers._validation import check_count, check_points, check_real, check_real_array, is_number


def _check_dimension(value, *, name: str, integer: bool) -> float:
    if not is_number(value):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    if not math.isfinite(float(value)) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}.")
    if integer and float(value) != int(value):
        raise ValueError(f"{name} must be a whole number of dimensions, got {value!r}; use "
                         "intrinsic_covering_bits for a fractional (estimated) dimension.")
    return float(value)


def _check_eps(eps) -> np.ndarray:
    array = check_real_array(eps, name="eps", finite=False)
    if array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"eps must be finite and > 0, got {eps!r}.")
    return array


def _volumetric_bits(dim: float, radius: float, eps):
    array = _check_eps(eps)
    bits = dim * np.log2(1.0 + 2.0 * radius / array)
    return float(bits) if array.ndim == 0 else bits


def ball_covering_bound_bits(dim: int, radius: float, eps):
    """Volumetric bound ``dim * log2(1 + 2 radius / eps)`` on ``log2 N_eps`` of a ball's subset.

    Parameters
    ----------
    dim : int
        Dimension of the space (or of an affine subspace) holding the set.
    radius : float
        Radius of a Euclidean ball containing the set (>= 0).
    eps : float or array_like
        Covering radius (> 0).

    Returns
    -------
    float or numpy.ndarray
        Bits; an upper bound on ``log2`` of the covering number ``N_eps`` and of the packing
        number ``M_eps`` (so of every greedy eps-net) of any subset of that ball.

    Notes
    -----
    Proof: let ``S`` be an eps-separated subset of a set ``A`` inside the ball ``B(c, R)``.
    The balls of radius ``eps/2`` around the points of ``S`` are disjoint and lie in
    ``B(c, R + eps/2)``, so ``|S| (eps/2)^dim <= (R + eps/2)^dim``. A maximal such ``S`` is
    an eps-cover of ``A``, whence ``N_eps(A) <= M_eps(A) <= (1 + 2R/eps)^dim``.
    """
    return _volumetric_bits(_check_dimension(dim, name="dim", integer=True),
                            check_real(radius, name="radius", low=0.0), eps)


def intrinsic_covering_bits(k: float, radius: float, eps):
    """The intrinsic-dimension form ``k * log2(1 + 2 radius / eps)`` (a heuristic for k < dim).

    Equal to ``k * log2(radius / eps) + const`` with ``const = k * log2(2 + eps / radius)``,
    about ``k`` bits for ``eps << radius``. A proven bound when the set lies in a
    k-dimensional affine subspace (then it is :func:`ball_covering_bound_bits` there); for a
    curved k-dimensional set it is only a guide (see the module docstring). ``k`` may be
    fractional, as estimated dimensions are.
    """
    return _volumetric_bits(_check_dimension(k, name="k", integer=False),
                            check_real(radius, name="radius", low=0.0), eps)


@dataclass(frozen=True)
class EnclosingBall:
    """A ball containing every sample point, and a certified bracket on the smallest radius.

    Attributes
    ----------
    centre : numpy.ndarray, shape (d,)
    radius : float
        ``max_i |x_i - centre|``: the ball ``B(centre, radius)`` contains the sample.
    lower : float
        A certified lower bound on the radius ``r*`` of the minimum enclosing ball (the
        square root of the dual value, see :func:`enclosing_ball`).
    iterations : int
        Frank–Wolfe steps taken.
    """

    centre: np.ndarray
    radius: float
    lower: float
    iterations: int

    @property
    def gap(self) -> float:
        """``radius / lower - 1``: how far ``radius`` may be above the smallest possible."""
        return self.radius / self.lower - 1.0 if self.lower > 0 else math.inf


def enclosing_ball(points, *, tolerance: float = 1e-3, max_iterations: int = 5000) -> EnclosingBall:
    """Approximate the minimum enclosing ball of a sample, with a certified bracket.

    For weights ``u`` on the points (``u >= 0``, summing to 1) with mean ``c(u) = sum u_i x_i``,
    the dual value ``phi(u) = sum u_i |x_i - c(u)|^2`` is a lower bound on ``r*^2``: for any
    centre ``c``, ``max_i |x_i - c|^2 >= sum u_i |x_i - c|^2 = phi(u) + |c - c(u)|^2``.
    The radius of the ball centred at ``c(u)`` is an upper bound. Frank–Wolfe ascent on
    ``phi`` with exact line search (Yildirim 2008; with step ``1/(i+1)`` it is the
    Badoiu–Clarkson iteration) moves weight to the farthest point until
    ``radius / sqrt(phi) - 1 <= tolerance``.

    Parameters
    ----------
    points : array_like, shape (n, d)
    tolerance : float
        Stop when the certified relative gap ``radius / lower - 1`` is at most this.
    max_iterations : int
        Step budget (each step costs O(n d)); the bracket is valid whenever it stops.

    Returns
    -------
    EnclosingBall
    """
    check_real(tolerance, name="tolerance", low=0.0, include_low=False)
    check_count(max_iterations, name="max_iterations")
    x = check_points(points, name="points")
    origin = x.mean(axis=0)
    x = x - origin  # distances do not change; rounding does less harm near the origin
    n = len(x)

    def squared_distances(centre):
        difference = x - centre
        return np.einsum("ij,ij->i", difference, difference)

    first = int(np.argmax(squared_distances(x[0])))
    second = int(np.argmax(squared_distances(x[first])))
    weights = np.zeros(n)
    weights[first] += 0.5
    weights[second] += 0.5
    best_centre, best_radius, lower = None, math.inf, 0.0
    steps = 0
    while True:
        centre = weights @ x
        distances = squared_distances(centre)
        far = int(np.argmax(distances))
        radius = math.sqrt(float(distances[far]))
        dual = float(weights @ distances)  # phi(u), exact for the current weights
        if radius < best_radius:
            best_centre, best_radius = centre, radius
        lower = max(lower, math.sqrt(max(dual, 0.0)))
        if n == 1 or best_radius == 0.0 or best_radius <= (1.0 + tolerance) * lower \
                or steps >= max_iterations:
            break
        # exact line search along e_far - u: phi rises by (D^2 - phi)^2 / (4 D^2)
        step = (float(distances[far]) - dual) / (2.0 * float(distances[far]))
        weights *= 1.0 - step
        weights[far] += step
        steps += 1
    return EnclosingBall(centre=best_centre + origin, radius=float(best_radius),
                         lower=float(min(lower, best_radius)), iterations=steps)


__all__ = [
    "EnclosingBall",
    "ball_covering_bound_bits",
    "enclosing_ball",
    "intrinsic_covering_bits",
]
