"""Synthetic point sets whose covering numbers and dimensions are known.

Introduced in the chapter "Numerical entropy", where they check the grid-cell sandwich
against analytic answers. All sets live in the unit cube ``[0, 1]^d`` (the sphere is
centred at 1/2 with radius 1/2), so they follow the book's normalization convention.
"""

from __future__ import annotations

import math

import numpy as np

from helpers._validation import check_count

SHAPES = ("segment", "square", "circle", "sphere", "cube")


def sample_shape(shape: str, n_points: int, *, ambient_dim: int | None = None, seed: int = 0):
    """Sample ``n_points`` uniformly from a set with known geometry.

    Parameters
    ----------
    shape : {"segment", "square", "circle", "sphere", "cube"}
        ``segment`` is ``[0,1] x {0}^(D-1)`` (intrinsic dimension 1), ``square`` is
        ``[0,1]^2 x {0}^(D-2)`` (dimension 2), ``circle`` is the circle of radius 1/2 centred
        in ``[0,1]^2`` (dimension 1), ``sphere`` is the 2-sphere of radius 1/2 centred in
        ``[0,1]^3`` (dimension 2), and ``cube`` is the full ``[0,1]^D``.
    n_points : int
        Sample size, >= 1.
    ambient_dim : int, optional
        Dimension D of the ambient space. Defaults to the smallest that holds the shape.
    seed : int
        Seed of the random generator.

    Returns
    -------
    numpy.ndarray, shape (n_points, D)
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {SHAPES}.")
    check_count(n_points, name="n_points")
    base_dim = {"segment": 1, "square": 2, "circle": 2, "sphere": 3, "cube": 3}[shape]
    dim = base_dim if ambient_dim is None else int(ambient_dim)
    if dim < base_dim:
        raise ValueError(f"a {shape} needs ambient_dim >= {base_dim}, got {ambient_dim}.")
    rng = np.random.default_rng(seed)
    points = np.zeros((n_points, dim))
    if shape in ("segment", "square"):
        points[:, :base_dim] = rng.random((n_points, base_dim))
    elif shape == "cube":
        points[:] = rng.random((n_points, dim))
    else:
        direction = rng.standard_normal((n_points, base_dim))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        points[:, :base_dim] = 0.5 + 0.5 * direction
    return points


def analytic_covering_number(shape: str, eps: float, *, ambient_dim: int | None = None):
    """Known Euclidean covering numbers, exact where possible, else (lower, upper) bounds.

    Returns a pair ``(lower, upper)``; they are equal where the answer is exact.

    - segment of length 1: exactly ``ceil(1 / (2 eps))`` (a ball meets a line in an interval
      of length at most ``2 eps``).
    - circle of radius r = 1/2: exactly ``ceil(pi / asin(eps / r))`` for ``eps < r`` (a ball
      meets the circle in an arc of angle at most ``2 asin(eps / r)``), and 1 otherwise.
    - square of side 1: lower ``1 / (pi eps^2)`` (area), upper ``ceil(1 / (eps sqrt 2))^2``
      (each ball holds a square of side ``eps sqrt 2``).
    - sphere of radius r = 1/2: for ``eps < r`` a ball meets it in a cap whose rim has radius
      at most ``eps``, of area at most ``2 pi r (r - sqrt(r^2 - eps^2))`` (Archimedes), so
      lower ``2 r / (r - sqrt(r^2 - eps^2))``; upper from a grid of cubes of side
      ``2 eps / sqrt 3``.
    - cube ``[0,1]^D``: volume lower bound and the grid upper bound ``ceil(sqrt(D)/(2 eps))^D``.
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {SHAPES}.")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}.")
    if shape == "segment":
        exact = math.ceil(1.0 / (2.0 * eps) - 1e-12)
        return max(exact, 1), max(exact, 1)
    if shape == "circle":
        radius = 0.5
        if eps >= radius:
            return 1, 1
        exact = math.ceil(math.pi / math.asin(eps / radius) - 1e-12)
        return exact, exact
    if shape == "square":
        lower = max(1, math.ceil(1.0 / (math.pi * eps**2) - 1e-12))
        upper = math.ceil(1.0 / (eps * math.sqrt(2.0)) - 1e-12) ** 2
        return lower, max(upper, 1)
    if shape == "sphere":
        radius = 0.5
        if eps >= radius:
            return 1, 1
        cap_height = radius - math.sqrt(radius**2 - eps**2)
        lower = max(1, math.ceil(2.0 * radius / cap_height - 1e-9))
        side = math.ceil(1.0 / (2.0 * eps / math.sqrt(3.0)) - 1e-12)
        return lower, max(side**3, 1)
    dim = 3 if ambient_dim is None else int(ambient_dim)
    unit_ball_volume = math.pi ** (dim / 2) / math.gamma(dim / 2 + 1)
    lower = max(1, math.ceil(1.0 / (unit_ball_volume * eps**dim) - 1e-12))
    upper = math.ceil(math.sqrt(dim) / (2.0 * eps) - 1e-12) ** dim
    return lower, max(upper, 1)


def sample_covering_number(shape: str, points, eps: float) -> int | None:
    """The exact covering number ``N_eps`` of a sample of a segment or a circle, else None.

    A ball of radius ``eps`` meets the segment's line in an interval of length at most
    ``2 eps`` and the circle of radius 1/2 in an arc of half-angle ``asin(2 eps)``, so the
    sample's covering number is an interval or arc covering problem, solved exactly by a sweep
    (:func:`helpers.measure.minimum_cover.interval_covering_number` and
    ``arc_covering_number``). Introduced in the chapter "Greedy covering"
    (``notebooks/03_greedy_covering``).

    Parameters
    ----------
    shape : {"segment", "square", "circle", "sphere", "cube"}
        The set the sample was drawn from with :func:`sample_shape`.
    points : array_like, shape (n, D)
    eps : float
        Radius of the closed Euclidean balls.

    Returns
    -------
    int or None
        The covering number of the sample, or None where no exact answer is known (the
        square, the sphere and the cube).
    """
    from helpers.measure import minimum_cover

    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {SHAPES}.")
    points = np.asarray(points, dtype=np.float64)
    if shape == "segment":
        return minimum_cover.interval_covering_number(points[:, 0], eps)
    if shape == "circle":
        if eps >= 0.5:  # a ball around the centre of the circle holds all of it
            return 1
        angles = np.arctan2(points[:, 1] - 0.5, points[:, 0] - 0.5)
        return minimum_cover.arc_covering_number(angles, math.asin(2 * eps))
    return None
