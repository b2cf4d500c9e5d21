"""Measurements of chapter results on the model suite, with their result caches (comparison).

Split from :mod:`helpers.measure.comparison`, which holds the estimators they call.
"""

from __future__ import annotations

import numpy as np

from helpers._validation import check_bits_list, check_bootstrap, check_confidence
from helpers.measure.comparison import (
    CapacityDifference,
    _check_variant,
    capacity_bits,
)


def capacity_difference(variant_a, variant_b, bits, *, n_bootstrap: int = 200,
                        confidence: float = 0.95, seed: int = 0, margin: float = 1.0,
                        cache: bool = False, cache_dir=None,
                        log=None) -> list[CapacityDifference]:
    """Percentage difference in ``C_num`` between two variants, per precision, with intervals.

    Parameters
    ----------
    variant_a, variant_b : list of array_like, each (n, d)
        Normalized test representations of each variant, one array per training seed. Every
        array must hold the same n test inputs in the same order (the variants saw the same
        data), so that the point resample can be shared.
    bits : sequence of float
        Precisions at which to compare.
    n_bootstrap : int
        Replicates. Each draws seeds with replacement for each variant independently and one
        set of n points with replacement for both, and recomputes the two mean capacities.
    confidence : float
        Level of the percentile interval.
    seed : int
    margin : float
        A precision is "at the ceiling" when both means are within ``margin`` bits of
        ``log2 n``.
    cache : bool
        Store the result on disk (:mod:`helpers.nets.cache`, kind ``"capacity-difference"``),
        keyed by the content of every array and every setting: the bootstrap recomputes
        ``2 * n_bootstrap`` capacity curves, which a rerun of the chapter then loads.
    cache_dir, log :
        As in :func:`helpers.nets.cache.cached_result`.

    Returns
    -------
    list of CapacityDifference
        One per precision. With one seed per variant the interval covers the test points
        only, not the variation between training runs; the ``n_seeds_*`` fields say which.

    Raises
    ------
    ValueError
        Mismatched numbers of points, bad precisions or bootstrap settings.
    """
    a, b = _check_variant(variant_a, "variant_a"), _check_variant(variant_b, "variant_b")
    bits = np.asarray(check_bits_list(bits), dtype=np.float64)
    sizes = {len(s) for s in a + b}
    if len(sizes) != 1:
        raise ValueError(f"every array must hold the same test points; got sizes {sorted(sizes)}.")
    check_bootstrap(n_bootstrap, allow_zero=False)
    check_confidence(confidence)
    if cache:
        from helpers.nets.cache import array_fingerprint, cached

        key = {"a": [array_fingerprint(s) for s in a], "b": [array_fingerprint(s) for s in b],
               "bits": bits.tolist(), "n_bootstrap": n_bootstrap, "confidence": confidence,
               "seed": seed, "margin": margin}
        rows = cached(key, lambda: [d.as_dict() for d in capacity_difference(
                          a, b, bits, n_bootstrap=n_bootstrap, confidence=confidence,
                          seed=seed, margin=margin)],
                      kind="capacity-difference", cache_dir=cache_dir, log=log,
                      description="capacity difference between two variants")
        return [CapacityDifference(**row) for row in rows]
    n = sizes.pop()
    base_a = np.array([capacity_bits(s, bits) for s in a])  # (seeds, bits)
    base_b = np.array([capacity_bits(s, bits) for s in b])
    rng = np.random.default_rng(seed)
    replicates = np.empty((int(n_bootstrap), bits.size))
    for r in range(int(n_bootstrap)):
        rows = rng.integers(0, n, n)
        pick_a = rng.integers(0, len(a), len(a))
        pick_b = rng.integers(0, len(b), len(b))
        mean_a = np.mean([capacity_bits(a[i][rows], bits) for i in pick_a], axis=0)
        mean_b = np.mean([capacity_bits(b[i][rows], bits) for i in pick_b], axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            replicates[r] = 100 * (mean_b - mean_a) / mean_a
    tail = 100 * (1 - confidence) / 2
    ceiling = np.log2(n)
    results = []
    for j, p in enumerate(bits):
        mean_a, mean_b = float(base_a[:, j].mean()), float(base_b[:, j].mean())
        percent = 100 * (mean_b - mean_a) / mean_a if mean_a > 0 else float("nan")
        finite = replicates[:, j][np.isfinite(replicates[:, j])]
        # a resample with replacement holds about 63% distinct points, which lowers both
        # capacities and moves the replicates away from the estimate: centre them on it
        bias = float(np.median(finite) - percent) if finite.size and np.isfinite(percent) \
            else 0.0
        low, high = (np.percentile(finite - bias, [tail, 100 - tail]) if finite.size
                     else (float("nan"), float("nan")))
        results.append(CapacityDifference(
            bits=float(p), a=mean_a, b=mean_b, percent=float(percent), ci_low=float(low),
            ci_high=float(high), n_seeds_a=len(a), n_seeds_b=len(b), n_points=n,
            n_bootstrap=int(n_bootstrap),
            at_ceiling=bool(min(mean_a, mean_b) >= ceiling - margin), bootstrap_bias=bias))
    return results


def training_trace(record, bits, *, n_test: int | None = None, seed: int = 0,
                   cache_dir=None) -> list[dict]:
    """``C_num`` at a few precisions and test accuracy after every epoch of a training run.

    The proposal's fourth guideline: monitor ``C_num`` during training. ``record`` must come
    from :func:`helpers.nets.suite.retrain` with ``snapshots=True``. At each epoch the training
    representations fix that epoch's unit-cube normalization and ``C_num`` is measured on
    ``n_test`` seeded test points; accuracy is the network's own head on the whole test split.

    Returns
    -------
    list of dict
        ``epoch``, ``test accuracy`` and ``C_num at p=...`` for each precision.
    """
    import torch

    from helpers.measure.quantize import fit_unit_cube
    from helpers.nets.train import extract_representations, snapshot_models

    bits = check_bits_list(bits)
    labels = np.asarray(record.test_y)
    _, _, index = record.subset("test", n_test, seed=seed)
    rows = []
    for epoch, trained in snapshot_models(record.trained):
        train_Z, test_Z = (extract_representations(trained, record.data, split, log=None,
                                                   cache_dir=cache_dir)
                           for split in ("train", "test"))
        with torch.no_grad():
            logits = trained.model.classifier(torch.as_tensor(test_Z, dtype=torch.float32))
        accuracy = float((logits.argmax(dim=1).numpy() == labels).mean())
        unit = fit_unit_cube(train_Z).transform(test_Z[index])
        row = {"epoch": epoch, "test accuracy": accuracy}
        row.update({f"C_num at p={p:g}": c for p, c in zip(bits, capacity_bits(unit, bits),
                                                            strict=True)})
        rows.append(row)
    return rows


