"""Measurements of chapter results on the model suite, with their result caches (curvature).

Split from :mod:`helpers.measure.curvature`, which holds the estimators they call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers._validation import check_choice, check_count
from helpers.measure.curvature import (
    BATCH_SIZE,
    DIRECTION_KINDS,
    N_BOOTSTRAP,
    CurvatureSample,
    _check_step,
    curvature_autograd,
    curvature_secant,
    data_tangent_directions,
    precision_threshold,
    random_directions,
    representation_map,
    sample_diameter,
)


class _EmbeddedTextMap:
    """A transformer's normalized representation as a function of its input embeddings.

    Inputs are arrays (b, L, width + 1): the token-plus-position embeddings with the
    document's mask appended as one more channel (1 on real tokens). Token ids are discrete,
    so the embeddings are where the transformer can be differentiated; directions leave the
    mask channel and the padded positions at zero, so the mask never changes.
    """

    def __init__(self, model, offset: float, scale: float):
        self.model = model.eval()
        self.offset = float(offset)
        self.scale = float(scale)
        self.width = int(model.representation_dim)

    def __call__(self, x):
        mask = x[..., self.width] > 0.5
        z = self.model.represent_embedded(x[..., : self.width], mask)
        return (z - self.offset) * self.scale


def _text_inputs(tokenizer, model, texts) -> np.ndarray:
    import torch

    ids, mask = tokenizer.encode(texts)
    with torch.no_grad():
        embedded, mask = model.embed(ids, mask)
    return torch.cat([embedded, mask[..., None].to(embedded.dtype)], dim=-1).numpy()


def _restrict_to_tokens(directions: np.ndarray, inputs: np.ndarray, width: int, seed: int):
    """Zero the mask channel and the padded positions of each point's directions; renormalize.

    A direction that vanishes there (a neighbour that differs only in padding) is replaced by
    a random direction on the point's real tokens.
    """
    real = inputs[:, None, :, width:width + 1] > 0.5  # (n, 1, L, 1)
    directions = np.where(real, directions, 0.0)
    directions[..., width] = 0.0
    norms = np.sqrt((directions.reshape(*directions.shape[:2], -1) ** 2).sum(axis=2))
    empty = norms <= 0
    if empty.any():
        rng = np.random.default_rng(seed)
        fresh = np.where(real, rng.standard_normal(directions.shape), 0.0)
        fresh[..., width] = 0.0
        directions[empty] = fresh[empty]
        norms = np.sqrt((directions.reshape(*directions.shape[:2], -1) ** 2).sum(axis=2))
    return (directions / norms[..., None, None]).astype(inputs.dtype)


@dataclass(frozen=True, eq=False)
class ModelCurvature:
    """Curvature of one suite model's normalized representation map (chapter 4).

    Attributes
    ----------
    label : str
        The model's display label.
    smooth : bool
        Whether the network is smooth (no ReLU): then autograd curvature is the estimate
        that feeds ``p*``; otherwise the secant curvature at ``main_step``.
    input_diameter : float
        Diameter D of the sampled inputs (largest pairwise distance); secant steps are
        ``step * D``, so ``steps`` are fractions of the input diameter.
    autograd : dict
        ``{kind: CurvatureSample}`` for each direction kind.
    secant : dict
        ``{(kind, step): CurvatureSample}``.
    steps : tuple of float
    main_step : float
    seconds : float
        Wall time of all the estimates of this model.
    """

    label: str
    smooth: bool
    input_diameter: float
    autograd: dict
    secant: dict
    steps: tuple
    main_step: float
    seconds: float

    @property
    def primary_method(self) -> str:
        return "autograd" if self.smooth else "secant"

    def estimate(self, kind: str = "data-tangent", method: str | None = None,
                 step: float | None = None) -> CurvatureSample:
        """The sample for a direction kind and method (default: the one that feeds p*)."""
        check_choice(kind, DIRECTION_KINDS, name="kind")
        method = method or self.primary_method
        if method == "autograd":
            return self.autograd[kind]
        step = self.main_step if step is None else step
        if (kind, step) not in self.secant:
            raise ValueError(f"no secant estimate at step {step!r}; measured steps: "
                             f"{list(self.steps)}.")
        return self.secant[kind, step]

    def threshold(self, statistic=0.9, *, kind: str = "data-tangent", method=None, step=None,
                  n_bootstrap: int = N_BOOTSTRAP, seed: int = 0, rule=None):
        """``(p*, low, high)``: a threshold rule applied to a kappa statistic and its interval.

        ``rule`` defaults to :func:`precision_threshold` (the proposal's ``½·log2 κ``); pass
        :func:`radius_threshold` for the scale-consistent variant. The rule is increasing, so
        the interval maps to an interval.
        """
        rule = precision_threshold if rule is None else rule
        value, low, high = self.estimate(kind, method, step).interval(
            statistic, n_bootstrap=n_bootstrap, seed=seed)
        return tuple(float(rule(v)) for v in (value, low, high))

    def to_arrays(self) -> dict:
        """The measurement as a dict of numpy arrays (for the on-disk cache)."""
        arrays = {"steps": np.asarray(self.steps, dtype=np.float64),
                  "scalars": np.array([self.input_diameter, self.main_step, self.seconds,
                                       float(self.smooth)])}
        for index, kind in enumerate(DIRECTION_KINDS):
            for field in ("kappa", "taylor", "speed"):
                arrays[f"autograd_{index}_{field}"] = getattr(self.autograd[kind], field)
                for position, step in enumerate(self.steps):
                    arrays[f"secant_{index}_{position}_{field}"] = getattr(
                        self.secant[kind, step], field)
        return arrays

    @classmethod
    def from_arrays(cls, label: str, arrays: dict) -> ModelCurvature:
        """Rebuild a measurement stored by :meth:`to_arrays`."""
        steps = tuple(float(step) for step in arrays["steps"])
        diameter, main_step, seconds, smooth = (float(v) for v in arrays["scalars"])
        autograd, secant = {}, {}
        for index, kind in enumerate(DIRECTION_KINDS):
            fields = {f: arrays[f"autograd_{index}_{f}"] for f in ("kappa", "taylor", "speed")}
            autograd[kind] = CurvatureSample(**fields, method="autograd")
            for position, step in enumerate(steps):
                fields = {f: arrays[f"secant_{index}_{position}_{f}"]
                          for f in ("kappa", "taylor", "speed")}
                secant[kind, step] = CurvatureSample(**fields, method="secant",
                                                     h=step * diameter)
        return cls(label=label, smooth=bool(smooth), input_diameter=diameter,
                   autograd=autograd, secant=secant, steps=steps, main_step=main_step,
                   seconds=seconds)

    def rows(self, quantiles=(0.5, 0.9)) -> list[dict]:
        """One row per (direction kind, estimator): the kappa quantiles and undefined share."""
        rows = []
        samples = [(kind, "autograd", None, s) for kind, s in self.autograd.items()]
        samples += [(kind, "secant", step, s) for (kind, step), s in self.secant.items()]
        for kind, method, step, sample in samples:
            row = {"model": self.label, "directions": kind, "estimator": method,
                   "step h / D": step}
            for q in quantiles:
                row[f"κ q{q:g}"] = sample.quantile(q)
            row["undefined"] = sample.fraction_undefined
            rows.append(row)
        return rows


def model_curvature(record, sample, *, n_points: int, n_directions: int, steps, main_step,
                    seed: int = 0, pool: int = 1000, batch_size: int = BATCH_SIZE,
                    cache: bool = True, cache_dir=None, log=None) -> ModelCurvature:
    """Measure the curvature of a suite model's normalized representation map.

    Introduced in the chapter "Curvature threshold". Points are ``n_points`` seeded test
    inputs; each gets ``n_directions`` data-tangent directions (towards its nearest other
    inputs among ``pool`` seeded test inputs) and as many random ones. Outputs are in the
    book's unit-cube units (``sample``'s scaler, fitted on the training split), so kappa is a
    pure number. Inputs are images in their pixel units or, for the transformer, token plus
    position embeddings (the mask travels as an extra channel that directions never move).

    Parameters
    ----------
    record : helpers.nets.suite.SuiteRecord
    sample : helpers.nets.suite.NormalizedSample
        From ``record.normalized(...)``: supplies the output normalization.
    n_points, n_directions : int
    steps : sequence of float
        Secant steps as fractions of the input diameter.
    main_step : float
        The step (one of ``steps``) whose secant estimate feeds p* for ReLU networks.
    seed : int
    pool : int
        Test inputs among which neighbours are sought (the chosen points are among them).
    cache : bool
        Store the measurement on disk (:mod:`helpers.nets.cache`), keyed by the model's weights,
        the normalization and every setting, so that later chapters (Lipschitz
        regularization) reuse it. ``seconds`` is the time of the measurement itself, also
        on a cache hit.
    cache_dir, log :
        As in :func:`helpers.nets.cache.cached_result`.

    Raises
    ------
    TypeError
        When the record's model has no representation layer.
    ValueError
        For bad sizes or steps.
    """
    import time

    started = time.perf_counter()
    n_points = check_count(n_points, name="n_points")
    n_directions = check_count(n_directions, name="n_directions")
    steps = tuple(float(_check_step(step)) for step in steps)
    if float(main_step) not in steps:
        raise ValueError(f"main_step={main_step!r} must be one of the steps {list(steps)}.")
    if cache:
        from helpers.nets.cache import cached_result

        settings = dict(n_points=n_points, n_directions=n_directions,
                        steps=[float(step) for step in steps], main_step=float(main_step),
                        seed=int(seed), pool=int(pool))
        key = {"weights": getattr(record.trained, "key_hash", None) or record.label,
               "offset": float(sample.offset), "scale": float(sample.scale), **settings}
        result = cached_result(
            key, lambda: model_curvature(record, sample, **settings, batch_size=batch_size,
                                         cache=False).to_arrays(),
            kind="curvature", cache_dir=cache_dir, log=log,
            description=f"curvature of {record.label}")
        return ModelCurvature.from_arrays(record.label, result.value)
    import copy

    trained = record.trained
    model = getattr(trained, "model", trained)
    if not callable(getattr(model, "represent", None)):
        raise TypeError(f"{record.label}: the model has no representation layer (no "
                        ".represent method); curvature is measured on represent(x).")
    # float64: secants at small steps compare image points that differ by little more than
    # float32 rounding; the copy leaves the cached model as it is
    model = copy.deepcopy(model).double().eval()
    test_inputs = record.data.test.inputs
    total = len(test_inputs)
    order = np.random.default_rng([seed, total]).permutation(total)[: max(pool, n_points)]
    is_text = isinstance(test_inputs, list)
    if is_text:
        inputs = _text_inputs(trained.tokenizer, model, [test_inputs[i] for i in order])
        # positions past every chosen document's end are padding that attention and pooling
        # ignore: dropping them changes nothing but the cost
        width = model.representation_dim
        real_length = int(np.flatnonzero((inputs[..., width] > 0.5).any(axis=0)).max()) + 1
        inputs = np.ascontiguousarray(inputs[:, :real_length])
        fn = _EmbeddedTextMap(model, sample.offset, sample.scale)
    else:
        inputs = np.asarray(test_inputs)[order].astype(np.float64)
        fn = representation_map(model, offset=sample.offset, scale=sample.scale)
    n_points = min(n_points, len(inputs))
    diameter = sample_diameter(inputs, seed=seed)
    directions = {
        "data-tangent": data_tangent_directions(inputs, n_directions, seed=seed)[:n_points],
        "random": random_directions(inputs[:n_points], n_directions, seed=seed),
    }
    points = inputs[:n_points]
    if is_text:
        width = model.representation_dim
        directions = {kind: _restrict_to_tokens(d, points, width, seed)
                      for kind, d in directions.items()}
    autograd, secant = {}, {}
    for kind, chosen in directions.items():
        autograd[kind] = curvature_autograd(fn, points, chosen, batch_size=batch_size)
        by_step = curvature_secant(fn, points, chosen, [step * diameter for step in steps],
                                   batch_size=batch_size)
        for step, value in zip(steps, by_step.values(), strict=True):
            secant[kind, step] = value
    smooth = getattr(record, "activation", "relu") != "relu"
    return ModelCurvature(label=record.label, smooth=smooth, input_diameter=diameter,
                          autograd=autograd, secant=secant, steps=steps,
                          main_step=float(main_step), seconds=time.perf_counter() - started)


