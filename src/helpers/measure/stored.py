"""What a stored representation keeps: one row of measurements per quantizer, and the
uniform-grid precision that matches it.

Introduced in the chapter "Number formats in practice" (``notebooks/10_number_formats``),
which sets deployed number formats (:mod:`.formats`) and embedding-store quantizers
(:mod:`.embedding_store`) beside the book's uniform p-bit grid (:mod:`.quantize`). Every
quantizer is measured in the same way by :func:`stored_scores` (codes and their entropy,
probe accuracy, k-NN recall, reconstruction error), and :func:`equivalent_bits` reads off
the grid's curve the stored bits at which the grid does as well as a given quantizer.
"""

from __future__ import annotations

import numpy as np

from helpers.measure import embedding_store
from helpers.measure.embedding_store import (
    knn_recall_per_query,
    recall_interval,
    relative_reconstruction_error,
)
from helpers.measure.formats import bits_per_value, round_to
from helpers.measure.information import entropy_estimates
from helpers.measure.probes import probe_accuracy
from helpers.measure.quantize import code_length_bits, fit_unit_cube, grid_codes, quantize

#: Store quantizers by name, each with what it is: faiss's scalar quantizers, product
#: quantization as ``pq<b>`` (b stored bits per dimension, 8-bit codes per sub-vector) and
#: ``store_`` in front of the names that are also number formats (:data:`.formats.FORMATS`).
STORES = {
    "sq8": "faiss 8-bit scalar codes, one min/max range per dimension",
    "sq6": "faiss 6-bit scalar codes, one range per dimension",
    "sq4": "faiss 4-bit scalar codes, one range per dimension",
    "store_fp16": "faiss half-precision store",
    "pq2": "product quantization at 2 bits per dimension (8-bit sub-vector codes)",
    "pq1": "product quantization at 1 bit per dimension",
    "pq0.5": "product quantization at 1/2 bit per dimension",
    "store_binary": "sign bits searched by Hamming distance (faiss IndexBinaryFlat)",
}


def equivalent_bits(grid_bits, grid_values, value) -> float:
    """The stored bits at which a reference curve first reaches ``value``, interpolated.

    Introduced in the chapter "Number formats in practice", where the curve is the uniform
    grid's probe accuracy (or k-NN recall) against its stored bits per dimension and
    ``value`` a number format's accuracy: the answer is the format's *effective uniform
    bits*. The curve is made monotone by its running maximum (a measured curve wobbles by
    its noise, and "first reaches" needs a non-decreasing curve), then interpolated
    linearly between its points.

    Parameters
    ----------
    grid_bits : array_like, shape (m,)
        Stored bits of the curve's points, strictly increasing.
    grid_values : array_like, shape (m,)
        The curve's values at those bits.
    value : float
        The level to match.

    Returns
    -------
    float
        ``grid_bits[0]`` when the curve's first point already reaches ``value`` (the curve
        cannot resolve less), ``inf`` when the curve never reaches it, and otherwise the
        interpolated bits.

    Raises
    ------
    ValueError
        For mismatched or empty arrays, non-finite entries, or bits that do not increase.

    Examples
    --------
    >>> equivalent_bits([1, 2, 4], [0.5, 0.7, 0.9], 0.8)
    3.0
    >>> equivalent_bits([1, 2, 4], [0.5, 0.7, 0.9], 0.95)
    inf
    """
    bits = np.asarray(grid_bits, dtype=np.float64).reshape(-1)
    values = np.asarray(grid_values, dtype=np.float64).reshape(-1)
    value = float(value)
    if bits.size == 0 or bits.shape != values.shape:
        raise ValueError(f"grid_bits and grid_values must be non-empty and of equal length, "
                         f"got {bits.size} and {values.size}.")
    if not (np.all(np.isfinite(bits)) and np.all(np.isfinite(values))
            and np.isfinite(value)):
        raise ValueError("grid_bits, grid_values and value must be finite.")
    if np.any(np.diff(bits) <= 0):
        raise ValueError(f"grid_bits must increase strictly, got {bits.tolist()}.")
    envelope = np.maximum.accumulate(values)
    if value <= envelope[0]:
        return float(bits[0])
    if value > envelope[-1]:
        return float("inf")
    above = int(np.argmax(envelope >= value))  # first point at or above value
    low_bits, high_bits = bits[above - 1], bits[above]
    low_value, high_value = envelope[above - 1], envelope[above]
    return float(low_bits + (value - low_value) / (high_value - low_value)
                 * (high_bits - low_bits))


def stored_scores(reference, stored, codes, labels, *, search=None, k: int = 10,
                  n_bootstrap: int = 200, seed: int = 0) -> dict:
    """Measure one quantizer on a train/test split: information, probe, recall, error.

    Introduced in the chapter "Number formats in practice". The quantizer has been applied
    to both splits already; this function only measures.

    Parameters
    ----------
    reference : (train, test) pair of arrays
        The float32 representations; their exact neighbours are the recall's truth.
    stored : (train, test) pair of arrays
        What the store gives back (dequantized), on which the probe is trained (train) and
        scored (test), and whose test rows give the reconstruction error.
    codes : array_like
        The stored codes of the test rows (one row per point), whose distinct values and
        entropy are counted.
    labels : (train_y, test_y) pair of arrays, or None
        Without labels the probe's figures are ``None``.
    search : (train, test) pair, optional
        What the store searches when it is not ``stored`` (packed sign bits, searched by
        Hamming distance).
    k, n_bootstrap, seed
        Neighbours of the recall; resamples and seed of every interval.

    Returns
    -------
    dict
        ``distinct`` codes, ``H_plugin`` and ``H_miller_madow`` (bits), ``ceiling``
        (log2 n), ``accuracy`` with ``accuracy_low``/``accuracy_high``, ``recall`` with
        ``recall_low``/``recall_high``, and ``relative_error``.
    """
    search = stored if search is None else search
    entropy = entropy_estimates(codes, n_bootstrap=0)
    # without labels there is no probe: its figures are None, the others are measured
    probe = None if labels is None else probe_accuracy(
        stored[0], labels[0], stored[1], labels[1], n_bootstrap=n_bootstrap, seed=seed)
    per_query = knn_recall_per_query(reference[0], reference[1], search[0], search[1], k)
    recall_low, recall_high = recall_interval(per_query, n_bootstrap=n_bootstrap, seed=seed)
    return {"distinct": entropy.n_distinct, "H_plugin": entropy.plugin.estimate,
            "H_miller_madow": entropy.miller_madow.estimate, "ceiling": float(np.log2(len(codes))),
            "accuracy": None if probe is None else probe.accuracy,
            "accuracy_low": None if probe is None else probe.ci_low,
            "accuracy_high": None if probe is None else probe.ci_high,
            "recall": float(per_query.mean()),
            "recall_low": recall_low, "recall_high": recall_high,
            "relative_error": relative_reconstruction_error(reference[1], stored[1])}


def fit_store(name: str, train, *, seed: int = 0) -> embedding_store.StoreQuantizer:
    """Train the store quantizer ``name`` (a key of :data:`STORES`) on ``train``.

    Introduced in the chapter "Number formats in practice". ``pq<b>`` takes
    ``m = b * d / 8`` sub-vectors of 8-bit codes, which must divide the dimension d.

    Raises
    ------
    ValueError
        For an unknown name (the known ones are listed), or a ``pq`` setting that does not
        fit the dimension.
    """
    if name not in STORES:
        raise ValueError(f"unknown store quantizer {name!r}; known ones: {', '.join(STORES)}.")
    if name.startswith("pq"):
        d = np.shape(train)[1]
        sub_vectors = max(1, round(float(name[2:]) * d / 8))
        return embedding_store.fit("pq", train, m=sub_vectors, nbits=8, seed=seed)
    return embedding_store.fit(name.removeprefix("store_"), train, seed=seed)


def quantizer_rows(train, test, train_y, test_y, *, bits, formats=(), stores=(), k: int = 10,
                   n_bootstrap: int = 200, seed: int = 0) -> list[dict]:
    """:func:`stored_scores` of the book's grid, number formats and store quantizers.

    Introduced in the chapter "Number formats in practice"; ``python -m helpers.capacity
    --formats`` prints the same rows for a reader's own representations.

    Parameters
    ----------
    train, test : array_like, shape (n, d)
        Raw (float) representations: the stores are applied to them as they would be kept.
    train_y, test_y : array_like of int, or None
        Labels of the probe; ``None`` leaves the probe out.
    bits : sequence of float
        Precisions p of the book's grid ``Q_eps`` after :func:`.quantize.fit_unit_cube` on
        the training split, read back in raw units; it stores ``log2(2^p + 1)`` bits per
        dimension (:func:`.quantize.code_length_bits`).
    formats : sequence of str
        Number formats (:data:`.formats.FORMATS`), applied to one tensor holding the training
        and the test rows, so that per-tensor and per-dimension scales are the whole store's.
    stores : sequence of str
        Store quantizers (:data:`STORES`), trained on the training rows.
    k, n_bootstrap, seed
        As :func:`stored_scores`.

    Returns
    -------
    list of dict
        One row per quantizer: ``kind`` (``"grid"``, ``"format"`` or ``"store"``), ``name``,
        ``bits`` (stored bits per dimension) and the keys of :func:`stored_scores`.
    """
    train = np.asarray(train, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    labels = None if train_y is None else (train_y, test_y)
    common = dict(reference=(train, test), labels=labels, k=k,
                  n_bootstrap=n_bootstrap, seed=seed)
    scaler, rows = fit_unit_cube(train), []
    for p in bits:
        grid = [scaler.low + quantize(scaler.transform(z), p) * (scaler.high - scaler.low)
                for z in (train, test)]
        codes = grid_codes(scaler.transform(test), p)
        rows.append(dict(kind="grid", name=f"grid p={p:g}", bits=code_length_bits(p).bits,
                         **stored_scores(stored=grid, codes=codes, **common)))
    for name in formats:
        store = round_to(np.vstack([train, test]), name)
        stored = (store[:len(train)], store[len(train):])
        rows.append(dict(kind="format", name=name, bits=bits_per_value(name),
                         **stored_scores(stored=stored, codes=stored[1], **common)))
    for name in stores:
        quantizer = fit_store(name, train, seed=seed)
        codes = quantizer.encode(test)
        # sign bits are searched as a binary index searches them, by Hamming distance
        search = (quantizer.encode(train), codes) if quantizer.name == "binary" else None
        stored = (quantizer.reconstruct(train), quantizer.decode(codes))
        rows.append(dict(kind="store", name=name, bits=quantizer.code_bits_per_dimension,
                         **stored_scores(stored=stored, codes=codes, search=search, **common)))
    return rows


def effective_rows(rows: list[dict]) -> list[dict]:
    """The non-grid rows of :func:`quantizer_rows`, with their effective uniform bits.

    Introduced in the chapter "Number formats in practice". For ``score`` in accuracy and
    recall, ``{score}_bits`` is :func:`equivalent_bits` of the row's score on the grid rows'
    curve, with ``{score}_bits_low``/``_high`` from the ends of the score's interval, capped
    at the grid's finest stored bits (where the grid never reaches the score the value means
    "at least"); ``recall_share`` is the effective bits by recall over the stored bits.
    """
    grid = [row for row in rows if row["kind"] == "grid"]
    if not grid:
        raise ValueError("effective_rows needs the grid's rows (quantizer_rows with bits).")
    # precisions below one bit can share a code length (two levels): keep the best of each
    grid_bits = sorted({g["bits"] for g in grid})
    curves = {score: [max(g[score] for g in grid if g["bits"] == b) for b in grid_bits]
              for score in ("accuracy", "recall") if grid[0][score] is not None}
    out = []
    for row in rows:
        if row["kind"] == "grid":
            continue
        row = dict(row)
        for score, curve in curves.items():
            for end in ("", "_low", "_high"):
                row[f"{score}_bits{end}"] = min(grid_bits[-1], equivalent_bits(
                    grid_bits, curve, row[score + end]))
        row["recall_share"] = row["recall_bits"] / row["bits"]
        out.append(row)
    return out
