"""Entropy of quantized codes, and the ceilings every finite-sample estimate runs into.

Introduced in the chapter "Numerical entropy" (``notebooks/01_numerical_entropy``). For a
deterministic encoder, ``I(X; Z_q) = H(Z_q)``; these estimators work from the code counts.
"""

from __future__ import annotations

import numpy as np


def _check_counts(counts) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError("counts must be a non-empty 1-D array of how often each code occurs.")
    if counts.dtype.kind not in "iu" or np.any(counts < 0):
        raise ValueError("counts must be non-negative integers.")
    counts = counts[counts > 0]
    if counts.size == 0:
        raise ValueError("counts are all zero; there is no sample to estimate from.")
    return counts.astype(np.int64)


def plugin_entropy_bits(counts) -> float:
    """Plug-in (maximum-likelihood) entropy in bits of the empirical code distribution.

    Biased low, and never above ``log2 n`` for n samples.
    """
    counts = _check_counts(counts)
    probabilities = counts / counts.sum()
    return float(-(probabilities * np.log2(probabilities)).sum())


def miller_madow_entropy_bits(counts) -> float:
    """Plug-in entropy plus the Miller-Madow correction ``(K - 1) / (2 n ln 2)`` bits.

    ``K`` is the number of codes seen. The correction removes the first-order bias of the
    plug-in estimate when every code is seen many times; it cannot recover codes never seen.
    """
    counts = _check_counts(counts)
    return plugin_entropy_bits(counts) + (counts.size - 1) / (2.0 * counts.sum() * np.log(2.0))


def singleton_fraction(counts) -> float:
    """Fraction of the sample whose code was seen exactly once (Good-Turing missing mass)."""
    counts = _check_counts(counts)
    return float(np.count_nonzero(counts == 1) / counts.sum())


def sample_ceiling_bits(n_samples: int) -> float:
    """``log2 n``: no estimate from n samples (cover size, distinct codes, plug-in) exceeds it."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    return float(np.log2(n_samples))
