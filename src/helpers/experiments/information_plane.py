"""Measurements of chapter results on the model suite, with their result caches (information_plane).

Split from :mod:`helpers.measure.information_plane`, which holds the estimators they call.
"""

from __future__ import annotations

import math
import time

import numpy as np

from helpers._validation import check_points
from helpers.measure.information_plane import (
    GroundTruthCase,
    case_estimators,
    estimate_case,
)

#: Part of every cache key with neural estimates: entries made before MINE ranked its inputs
#: (``mine_mi(scaling="rank")``, issue 22) hold other MINE values and must not be reused.
NEURAL_REVISION = "mine-rank-scaling"


def _neural_key(neural: dict | None) -> dict:
    return {"neural": neural} if neural is None else {"neural": neural,
                                                      "neural_revision": NEURAL_REVISION}


def case_rows(case: GroundTruthCase, *, neural: dict | None = None, seed: int = 0,
              n_bootstrap: int = 200, cache: bool = False, cache_dir=None,
              log=None) -> list[dict]:
    """:func:`estimate_case` with the estimators of :func:`case_estimators`, optionally cached.

    Used by the chapter "MI comparison" for its ground-truth table.

    Parameters
    ----------
    case : GroundTruthCase
    neural, seed, n_bootstrap :
        As in :func:`case_estimators`.
    cache : bool
        Store the rows on disk (:mod:`helpers.nets.cache`, kind ``"mi-truth"``), keyed by the
        sample's content, the case and every setting: a rerun loads them instead of training
        the neural critics again. ``seconds`` is then the time of the original estimate.
    cache_dir, log :
        As in :func:`helpers.nets.cache.cached_result`.

    Returns
    -------
    list of dict
        As :func:`estimate_case`.
    """
    def compute():
        return estimate_case(case, case_estimators(case, neural=neural, seed=seed,
                                                   n_bootstrap=n_bootstrap))

    if not cache:
        return compute()
    from helpers.nets.cache import array_fingerprint, cached

    key = {"x": array_fingerprint(case.x), "y": array_fingerprint(case.y),
           "family": case.family, "dims": case.dims, "truth": case.truth,
           "discrete": case.discrete, **_neural_key(neural), "seed": seed,
           "n_bootstrap": n_bootstrap}
    return cached(key, compute, kind="mi-truth", cache_dir=cache_dir, log=log,
                  description=f"MI estimates on {case.family}, d = {case.dims}")


def precision_row(unit, bits: float, *, inputs=None, n_bootstrap: int = 200, seed: int = 0,
                  neural: dict | None = None, cache: bool = False, cache_dir=None,
                  log=None) -> dict:
    """Capacity and information measurements of one representation at one precision.

    Used by the chapter "MI comparison" for every model of the suite and every precision.

    Parameters
    ----------
    unit : array_like, shape (n, d)
        Representations in unit-cube units (:meth:`helpers.nets.suite.SuiteRecord.normalized`).
    bits : float
        Precision p; the codes are :func:`helpers.measure.quantize.grid_codes` (round to nearest).
    inputs : array_like, shape (n, d_x), optional
        What plays X for the neural estimators (flattened model inputs, or a stand-in).
    n_bootstrap, seed :
        For the entropy intervals and the neural estimators' intervals.
    neural : dict, optional
        Keyword arguments for :func:`helpers.measure.mi_neural.infonce_mi` and
        :func:`helpers.measure.mi_neural.mine_mi` (``batch_size``, ``epochs``, ``patience``...);
        ``None`` skips both (their columns are then NaN).
    cache : bool
        Store the row on disk (:mod:`helpers.nets.cache`, kind ``"mi-precision"``), keyed by the
        content of ``unit`` and ``inputs``, the precision and every setting, so that a rerun
        of the chapter loads it instead of training the critics again. The ``[s]`` columns
        then give the time of the original estimate.
    cache_dir, log :
        As in :func:`helpers.nets.cache.cached_result`.

    Returns
    -------
    dict
        ``bits``, ``n``, ``C_num``, ``log2 cells`` (occupied cells), ``singletons``, and for
        each estimator in ``plugin``, ``miller-madow``, ``chao-shen``, ``infonce``, ``mine``
        the columns ``<name>``, ``<name> low``, ``<name> high``, ``<name> ceiling``,
        ``<name> at ceiling``; plus ``infonce [s]`` and ``mine [s]``, the time per estimate.
    """
    from helpers.measure.comparison import capacity_bits
    from helpers.measure.information import entropy_estimates
    from helpers.measure.quantize import grid_codes

    unit = check_points(unit, name="unit")
    if cache:
        from helpers.nets.cache import array_fingerprint, cached

        key = {"unit": array_fingerprint(unit),
               "inputs": None if inputs is None else array_fingerprint(inputs),
               "bits": float(bits), "n_bootstrap": n_bootstrap, "seed": seed,
               **_neural_key(neural)}
        return cached(key, lambda: precision_row(unit, bits, inputs=inputs,
                                                 n_bootstrap=n_bootstrap, seed=seed,
                                                 neural=neural),
                      kind="mi-precision", cache_dir=cache_dir, log=log,
                      description=f"capacity and MI at p = {float(bits):g}")
    codes = grid_codes(unit, bits)
    entropies = entropy_estimates(codes, n_bootstrap=n_bootstrap, seed=seed)
    row = {"bits": float(bits), "n": len(unit),
           "C_num": float(capacity_bits(unit, [bits])[0]),
           "log2 cells": math.log2(entropies.n_distinct),
           "singletons": entropies.n_singletons}
    estimates = dict(zip(("plugin", "miller-madow", "chao-shen"), entropies, strict=True))
    if neural is not None:
        from helpers.measure.mi_neural import infonce_mi, mine_mi

        if inputs is None:
            raise ValueError("neural estimates need inputs (what plays X).")
        for name, estimator in (("infonce", infonce_mi), ("mine", mine_mi)):
            started = time.perf_counter()
            estimates[name] = estimator(inputs, codes, seed=seed, n_bootstrap=n_bootstrap,
                                        **neural)
            row[f"{name} [s]"] = time.perf_counter() - started
    for name in ("plugin", "miller-madow", "chao-shen", "infonce", "mine"):
        estimate = estimates.get(name)
        row[name] = estimate.estimate if estimate else math.nan
        row[f"{name} low"] = estimate.ci_low if estimate else math.nan
        row[f"{name} high"] = estimate.ci_high if estimate else math.nan
        row[f"{name} ceiling"] = estimate.ceiling if estimate else math.nan
        row[f"{name} at ceiling"] = estimate.at_ceiling if estimate else None
    row.setdefault("infonce [s]", math.nan)
    row.setdefault("mine [s]", math.nan)
    return row


def neural_inputs(record, sample) -> tuple[np.ndarray, str]:
    """What plays X for InfoNCE and MINE on a suite model, and a description of it.

    Images: the model inputs of the sample's test rows, flattened. Texts (the transformer)
    have no vector form, so the full-precision representation stands in: for a deterministic
    encoder ``I(X; Z_q) = H(Z_q) = I(Z; Z_q)`` whenever ``Z_q`` is a function of ``Z``,
    so the quantity estimated is the same.

    Parameters
    ----------
    record : helpers.nets.suite.SuiteRecord
    sample : helpers.nets.suite.NormalizedSample
        From ``record.normalized(...)``.
    """
    inputs = record.data.test.inputs
    if isinstance(inputs, np.ndarray):
        chosen = np.asarray(inputs[sample.test_index], dtype=np.float64)
        return chosen.reshape(len(chosen), -1), "flattened input images"
    return np.asarray(sample.test_u, dtype=np.float64), (
        "full-precision representation (stand-in for the text input)")


