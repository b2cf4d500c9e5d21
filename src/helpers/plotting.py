"""Shared figure style and the reference lines every capacity plot carries.

Introduced in the chapter "Numerical entropy" (``notebooks/01_numerical_entropy``). Every
capacity plot draws the ``log2 n`` sample ceiling (theory notes section 3), and, where a
representation is plotted, the bit depth at which the grid step reaches the
nearest-neighbour scale.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

BITS_LABEL = "precision p [bits]  (grid step ε = 2^-p)"
SHORT_BITS_LABEL = "p [bits]"
LOG_COUNT_LABEL = "log₂ count [bits]"


def use_book_style() -> None:
    """Apply the book's plotting style (seaborn whitegrid, readable sizes)."""
    sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "axes.titleweight": "bold"})


def draw_sample_ceiling(ax, n_samples: int, *, label: bool = True):
    """Draw the horizontal ``log2 n`` line that no finite-sample estimate can pass."""
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}.")
    ceiling = np.log2(n_samples)
    ax.axhline(ceiling, color="0.3", linestyle=":", linewidth=1.5,
               label=f"sample ceiling log₂ n = {ceiling:.1f}" if label else None)
    return ceiling


def draw_scale_marker(ax, bits: float, text: str):
    """Draw a vertical dashed line at a bit depth (such as the nearest-neighbour scale)."""
    ax.axvline(bits, color="0.45", linestyle="--", linewidth=1.2, label=text)
    return bits


def panel_grid(labels, *, columns: int = 4, width: float = 3.5, height: float = 3.0):
    """One small axes per label, ``columns`` to a row: ``(figure, {label: axes})``.

    Introduced in the chapter "Curvature threshold" for its per-model figures; unused panels
    of the last row are hidden.
    """
    labels = list(labels)
    if not labels:
        raise ValueError("panel_grid needs at least one label.")
    columns = max(1, min(int(columns), len(labels)))
    rows = -(-len(labels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows),
                                squeeze=False)
    for ax in axes.flat[len(labels):]:
        ax.set_visible(False)
    return figure, dict(zip(labels, axes.flat, strict=False))


def bits_for_scale(scale: float) -> float:
    """Bit depth ``p = -log2(scale)`` at which the grid step equals a length ``scale``."""
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}.")
    return float(-np.log2(scale))
