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


def class_colormap():
    """A colour map of seaborn's ten colour-blind-safe colours, for points coloured by class.

    Introduced in the chapter "Lipschitz regularization" (its t-SNE panels).
    """
    from matplotlib.colors import ListedColormap

    return ListedColormap(sns.color_palette("colorblind", 10))


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


#: Colour of each verdict in the book's summary figure (seaborn's colour-blind palette).
VERDICT_COLOURS = {"holds": 0, "supported": 0, "fails": 3, "contradicted": 3, "mixed": 4,
                   "undecided": 7, "cannot be tested": 8, "not measured": None}


def book_summary_figure(curves: dict, rows: list):
    """The introduction's figure: what survives quantization, and how the claims fared.

    Introduced in the chapter "Claims ledger" (``notebooks/07_claims_ledger``), which glues it
    for the introduction. Left: linear-probe test accuracy against precision for every
    network (:func:`helpers.book.ledger.accuracy_curves`; band: 95% bootstrap interval, dotted line:
    the network at full precision; spectrally normalized networks dashed). Right: the
    verdicts of the ledger's rows (:func:`helpers.book.ledger.ledger_rows`), claims and design
    guidelines apart.

    Returns
    -------
    matplotlib.figure.Figure
    """
    palette = sns.color_palette("colorblind", 10)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2),
                                         gridspec_kw={"width_ratios": [1.5, 1]})
    if curves:
        # one colour per architecture; its spectrally normalized variant is dashed
        bases = list(dict.fromkeys(label.removesuffix(" + SN") for label in curves))
        for label, curve in curves.items():
            colour = palette[bases.index(label.removesuffix(" + SN")) % len(palette)]
            style = "--" if label.endswith(" + SN") else "-"
            left.plot(curve["bits"], curve["accuracy"], style, marker="o", markersize=3,
                      color=colour, label=label)
            left.fill_between(curve["bits"], curve["low"], curve["high"], color=colour,
                              alpha=0.15, linewidth=0)
            if curve["full"] is not None:
                left.axhline(curve["full"], color=colour, linestyle=":", linewidth=0.8)
        left.legend(fontsize=7, ncol=2, loc="lower right")
    else:
        left.text(0.5, 0.5, "probe accuracies: not measured in this build", ha="center",
                  va="center", transform=left.transAxes)
    left.set_xlabel(BITS_LABEL)
    left.set_ylabel("linear-probe test accuracy [fraction]")
    left.set_title("What survives quantization to p bits")
    kinds = (("claim", "claims"), ("guideline", "design guidelines"))
    order = [verdict for verdict in VERDICT_COLOURS
             if any(row["verdict"] == verdict for row in rows)]
    named = set()  # one legend entry per colour: "holds / supported", "fails / contradicted"
    for y, (kind, _) in enumerate(kinds):
        start = 0
        for verdict in order:
            count = sum(1 for row in rows if row["kind"] == kind and row["verdict"] == verdict)
            if not count:
                continue
            index = VERDICT_COLOURS[verdict]
            colour = "0.92" if index is None else palette[index]
            name = " / ".join(v for v in order if VERDICT_COLOURS[v] == index)
            right.barh(y, count, left=start, color=colour, edgecolor="white",
                       label=None if name in named else name)
            named.add(name)
            right.text(start + count / 2, y, str(count), ha="center", va="center", fontsize=9)
            start += count
    right.set_yticks(range(len(kinds)), [name for _, name in kinds])
    right.invert_yaxis()
    right.set_xlabel("number of rows of the claims ledger")
    right.set_title("Verdicts of the claims ledger")
    right.xaxis.get_major_locator().set_params(integer=True)
    if rows:
        right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3,
                     frameon=False)
    figure.tight_layout()
    return figure


def capacity_report_figure(report):
    """Capacity curve and probe accuracy of a :class:`helpers.capacity.CapacityReport`.

    Introduced in the appendix "Your own representation"
    (``notebooks/09_your_own_representation``). Left: ``C_num`` with its certified bounds,
    the occupied cells and the Miller-Madow entropy of the codes (with its interval) against
    precision, under the ``log2 n`` ceiling. Right: linear-probe accuracy against precision
    with its 95% interval, full precision dotted, and the collapse threshold dashed; without
    labels the panel says so.
    """
    import pandas as pd

    palette = sns.color_palette("colorblind", 10)
    frame = pd.DataFrame(report.capacity)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.fill_between(frame.p, frame["C_num lower"], frame["C_num upper"], color=palette[0],
                      alpha=0.2, linewidth=0, label="certified bounds on log₂ N_ε")
    left.plot(frame.p, frame.C_num, "o-", color=palette[0], label="C_num (greedy net)")
    left.plot(frame.p, frame["log2 cells"], "s--", color=palette[1],
              label="log₂ occupied cells")
    left.errorbar(frame.p, frame["miller-madow"],
                  yerr=[frame["miller-madow"] - frame["miller-madow low"],
                        frame["miller-madow high"] - frame["miller-madow"]],
                  fmt="^:", color=palette[2], capsize=3, label="H(Z_q), Miller-Madow")
    draw_sample_ceiling(left, report.n_measured)
    left.set_xlabel(BITS_LABEL)
    left.set_ylabel("bits")
    left.set_title("Capacity and entropy")
    left.legend(fontsize=8, loc="lower right")
    if report.probes:
        rows = [row for row in report.probes if row["p"] is not None]
        bits = [row["p"] for row in rows]
        accuracy = np.array([row["accuracy"] for row in rows])
        low = np.array([row["ci_low"] for row in rows])
        high = np.array([row["ci_high"] for row in rows])
        right.errorbar(bits, accuracy, yerr=[accuracy - low, high - accuracy], fmt="o-",
                       color=palette[0], capsize=3, label="probe on the quantized codes")
        full = report.probes[0]["accuracy"]
        right.axhline(full, color="0.3", linestyle=":", label=f"full precision ({full:.3f})")
        right.axhspan(full - 0.05, full, color="0.9", zorder=0, label="within 5 points")
        threshold = report.collapse["threshold"]
        if np.isfinite(threshold):
            right.axvline(threshold, color=palette[3], linestyle="--",
                          label=f"collapse threshold p = {threshold:g}")
        right.legend(fontsize=8, loc="lower right")
    else:
        right.text(0.5, 0.5, "no labels in the file:\nno probe", ha="center", va="center",
                   transform=right.transAxes)
    right.set_xlabel(BITS_LABEL)
    right.set_ylabel("linear-probe test accuracy [fraction]")
    right.set_title("What a linear probe still finds")
    figure.tight_layout()
    return figure


def precision_map_figure(report):
    """Heatmap of probe accuracy over (principal components k, precision p) of a report.

    Introduced in the appendix "Your own representation"; the map comes from
    :func:`helpers.measure.probes.precision_dimension_map`. Without labels the figure says so.
    """
    figure, ax = plt.subplots(figsize=(7, 3.8))
    if report.precision_map:
        data = np.array(report.precision_map["accuracy"], dtype=float)
        columns = [f"{p:g}" if p is not None else "full" for p in report.precision_map["bits"]]
        sns.heatmap(data, annot=True, fmt=".2f", cmap="cividis", ax=ax, xticklabels=columns,
                    yticklabels=report.precision_map["k"],
                    cbar_kws={"label": "probe test accuracy [fraction]"})
        ax.set_xlabel("precision p [bits]")
        ax.set_ylabel("principal components k")
    else:
        ax.text(0.5, 0.5, "no labels in the file: no map", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
    figure.tight_layout()
    return figure
