"""Measurements of chapter results on the model suite, with their result caches (lipschitz).

Split from :mod:`helpers.measure.lipschitz`, which holds the estimators they call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from helpers.measure.lipschitz import (
    DiameterBounds,
    EmpiricalLowerBound,
    LayerBound,
    LipschitzBound,
    book_units,
    certified_upper_bound,
    empirical_lower_bound,
    input_diameter,
)


@dataclass(frozen=True)
class ModelBounds:
    """Both Lipschitz bounds of one suite model, raw and in the book's units.

    Attributes
    ----------
    label : str
    upper : LipschitzBound
        Certified (``upper.certified``) except for the transformer.
    lower : EmpiricalLowerBound
        Measured on test inputs (for the transformer: on its input embeddings, Jacobian
        only).
    input_diameter : DiameterBounds
        Of the test inputs used (for the transformer: of their embeddings).
    output_scale : float
        ``1 / (max - min)`` of the unit-cube normalization.
    seconds_upper, seconds_lower : float
        Wall time of each bound.
    """

    label: str
    upper: LipschitzBound
    lower: EmpiricalLowerBound
    input_diameter: DiameterBounds
    output_scale: float
    seconds_upper: float
    seconds_lower: float

    @property
    def gap(self) -> float:
        """``upper / lower``: how far apart the two bounds are (nan without a certificate)."""
        return self.upper.upper / self.lower.lower if self.lower.lower > 0 else float("nan")

    @property
    def book_upper(self) -> float:
        """Certified ``L * D * s`` (nan when not certified): the radius ``R`` of the
        covering bound in unit-cube units for inputs of diameter ``D``."""
        if not self.upper.certified:
            return float("nan")
        return book_units(self.upper.upper, input_diameter=self.input_diameter.upper,
                          output_scale=self.output_scale)

    @property
    def book_lower(self) -> float:
        """Measured ``L * D * s`` with the *lower* diameter bound: a lower bound on the
        normalized map's constant over inputs of that spread."""
        return book_units(self.lower.lower, input_diameter=self.input_diameter.lower,
                          output_scale=self.output_scale)

    def to_payload(self) -> dict:
        """Plain data (dicts, lists, numbers, a tensor) for :mod:`helpers.nets.cache`."""
        lower = asdict(self.lower)
        lower["per_point"] = torch.as_tensor(np.asarray(self.lower.per_point))
        return {"label": self.label, "upper": asdict(self.upper), "lower": lower,
                "input_diameter": [float(self.input_diameter.lower),
                                   float(self.input_diameter.upper)],
                "output_scale": self.output_scale, "seconds_upper": self.seconds_upper,
                "seconds_lower": self.seconds_lower}

    @classmethod
    def from_payload(cls, payload: dict) -> ModelBounds:
        """Rebuild the bounds from :meth:`to_payload`."""
        upper = dict(payload["upper"])
        upper["layers"] = tuple(LayerBound(**layer) for layer in upper["layers"])
        lower = dict(payload["lower"])
        lower["per_point"] = lower["per_point"].numpy()
        return cls(label=payload["label"], upper=LipschitzBound(**upper),
                   lower=EmpiricalLowerBound(**lower),
                   input_diameter=DiameterBounds(*payload["input_diameter"]),
                   output_scale=payload["output_scale"], seconds_upper=payload["seconds_upper"],
                   seconds_lower=payload["seconds_lower"])

    def row(self) -> dict:
        """One table row."""
        return {"model": self.label, "L upper (certified)": self.upper.upper,
                "L lower (measured)": self.lower.lower, "upper / lower": self.gap,
                "L·D·s upper": self.book_upper, "L·D·s lower": self.book_lower,
                "certified": self.upper.certified,
                "time upper [s]": self.seconds_upper, "time lower [s]": self.seconds_lower}


def model_bounds(record, sample, *, n_points: int = 100, n_iter: int = 20, seed: int = 0,
                 cache: bool = True, cache_dir=None, log=None) -> ModelBounds:
    """Certified upper and measured lower Lipschitz bounds of a suite model.

    Introduced in the chapter "Lipschitz regularization". The lower bound is measured on
    ``n_points`` seeded test inputs (pairs among them included); the input diameter is
    bracketed on the whole test split. For the transformer the inputs are its token plus
    position embeddings (token ids are discrete) and only Jacobian norms are used (pairs of
    documents with different lengths are not comparable inputs).

    Parameters
    ----------
    record : helpers.nets.suite.SuiteRecord
    sample : helpers.nets.suite.NormalizedSample
        Supplies the output scale of the unit-cube normalization.
    n_points, n_iter, seed :
        For :func:`empirical_lower_bound`.
    cache : bool
        Store the bounds on disk (:mod:`helpers.nets.cache`, kind ``"lipschitz"``), keyed by the
        model's weights, the test inputs, the normalization and every setting, so that a
        rerun of the chapter loads them. The ``seconds_*`` fields are then the times of the
        original computation. Models that were not trained through the cache (no
        ``key_hash``) are always measured afresh.
    cache_dir, log :
        As in :func:`helpers.nets.cache.cached_result`.
    """
    import time

    from helpers.experiments.curvature import _EmbeddedTextMap, _text_inputs

    model = getattr(record.trained, "model", record.trained)
    if not callable(getattr(model, "represent", None)):
        raise ValueError(f"{record.label}: the model has no representation layer (no "
                         ".represent method).")
    weights = getattr(record.trained, "key_hash", "")
    if cache and weights:
        from helpers.nets.cache import array_fingerprint, cached

        key = {"weights": weights, "test_inputs": array_fingerprint(record.data.test.inputs),
               "output_scale": float(sample.scale), "n_points": n_points, "n_iter": n_iter,
               "seed": seed}
        payload = cached(key, lambda: model_bounds(record, sample, n_points=n_points,
                                                   n_iter=n_iter, seed=seed,
                                                   cache=False).to_payload(),
                         kind="lipschitz", cache_dir=cache_dir, log=log,
                         description=f"Lipschitz bounds of {record.label}")
        return replace(ModelBounds.from_payload(payload), label=record.label)
    started = time.perf_counter()
    upper = certified_upper_bound(model, num_threads=1)
    middle = time.perf_counter()
    inputs = record.data.test.inputs
    order = np.random.default_rng([seed, len(inputs)]).permutation(len(inputs))
    if isinstance(inputs, list):  # text: differentiate with respect to the embeddings
        embedded = _text_inputs(record.trained.tokenizer, model, [inputs[i] for i in order])
        fn = _EmbeddedTextMap(model, offset=0.0, scale=1.0)
        chosen = embedded[:n_points].astype(np.float32)
        # one pair of identical inputs, which is skipped: Jacobian norms only
        lower = empirical_lower_bound(fn, chosen, n_iter=n_iter, seed=seed,
                                      pairs=np.zeros((1, 2), dtype=np.int64), num_threads=1)
        diameter = input_diameter(embedded[..., :model.representation_dim], seed=seed)
    else:
        images = np.asarray(inputs)
        lower = empirical_lower_bound(model, images[order[:n_points]], n_iter=n_iter,
                                      seed=seed, num_threads=1)
        diameter = input_diameter(images, seed=seed)
    return ModelBounds(label=record.label, upper=upper, lower=lower, input_diameter=diameter,
                       output_scale=float(sample.scale), seconds_upper=middle - started,
                       seconds_lower=time.perf_counter() - middle)


