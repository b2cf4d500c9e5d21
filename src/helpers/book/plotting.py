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


def precision_axis(ax, label: str = SHORT_BITS_LABEL):
    """Put the precision ``p`` on a log-2 x axis whose ticks read as values of ``p``.

    Introduced in the chapter "MI comparison", whose sweeps mix fractional and whole
    precisions (0.25 to 16): on a log scale they are evenly spread, and plain tick labels
    (``0.5``, ``1``, ``2``) read better than powers of two.
    """
    from matplotlib.ticker import FuncFormatter

    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.set_xlabel(label)
    return ax


def suite_styles(labels) -> dict:
    """Colour and marker of each network of the suite, for figures that overlay them all.

    Introduced in the chapter "MI comparison". A spectrally normalized network (label ending
    in ``" + SN"``) is orange and its plain twin blue; both share the marker of their
    architecture, so a pair reads as one shape in two colours.

    Returns
    -------
    dict
        Label to ``(colour, marker)``.
    """
    labels = [str(label) for label in labels]
    bases = list(dict.fromkeys(label.removesuffix(" + SN") for label in labels))
    markers = "osD^v<>ph*"
    return {label: ("C1" if label.endswith(" + SN") else "C0",
                    markers[bases.index(label.removesuffix(" + SN")) % len(markers)])
            for label in labels}


def suite_overlay(ax, table, x: str, y: str, *, by: str = "model", hollow: str | None = None,
                  interval: tuple[str, str] | None = None, line: bool = True, size: float = 24):
    """Every network's points of a long table on one axes, in the styles of :func:`suite_styles`.

    Introduced in the chapter "MI comparison". Each network's rows are joined by a thin line
    in table order (``line=True``); rows where the boolean column ``hollow`` is true are drawn
    as unfilled markers, so that a reader can tell, say, untestable comparisons apart; with
    ``interval=(low, high)`` each point gets error bars to those columns
    (:func:`interval_errorbar`). Only filled markers are labelled, once per network, for the
    legend.

    Returns
    -------
    dict
        The styles used, label to ``(colour, marker)``.
    """
    styles = suite_styles(dict.fromkeys(table[by]))
    for label, (colour, marker) in styles.items():
        part = table[table[by] == label]
        if line:
            ax.plot(part[x], part[y], "-", color=colour, lw=1, alpha=0.6)
        if interval:
            interval_errorbar(ax, part[x], part[y], part[interval[0]], part[interval[1]],
                              fmt="none", ecolor=colour, elinewidth=1)
        empty = (part[hollow].to_numpy(dtype=bool) if hollow
                 else np.zeros(len(part), dtype=bool))
        ax.scatter(part[x][~empty], part[y][~empty], color=colour, marker=marker, s=size,
                   label=label)
        if empty.any():
            ax.scatter(part[x][empty], part[y][empty], facecolors="none", edgecolors=colour,
                       marker=marker, s=size)
    return styles


def interval_errorbar(ax, x, estimate, low, high, **style):
    """Draw estimates with error bars that reach the bounds of their intervals.

    Introduced in the chapter "MI comparison". A missing bound (NaN: the estimator gives no
    interval) draws no bar, and a bound on the wrong side of its estimate (an interval that
    does not contain it, as a bias-shifted one may not) draws none on that side, because
    ``errorbar`` refuses negative lengths.
    """
    estimate = np.asarray(estimate, dtype=float)
    below = np.nan_to_num(estimate - np.asarray(low, dtype=float)).clip(min=0)
    above = np.nan_to_num(np.asarray(high, dtype=float) - estimate).clip(min=0)
    return ax.errorbar(x, estimate, yerr=[below, above], capsize=2, **style)


def panel_curves(table, curves, *, by: str = "model", x: str = "bits", ylabel: str = "",
                 columns: int = 4, height: float = 3.3):
    """One panel per group of a long table, each drawing the same columns against precision.

    Introduced in the chapter "MI comparison" for its per-network figures. Rows whose value
    in a curve's column is missing (an estimator not run there) are left out of that curve.

    Parameters
    ----------
    table : pandas.DataFrame
        Long table with a ``by`` column (one panel each, in order of appearance) and ``x``.
    curves : sequence of tuple
        ``(column, label, format, colour)``, or ``(column, label, format, colour, low,
        high)`` to draw error bars to the interval columns ``low`` and ``high``.
    by, x : str
        Grouping column and the precision column (drawn by :func:`precision_axis`).
    ylabel : str
        Label of every panel's y axis.
    columns, height :
        As in :func:`panel_grid`.

    Returns
    -------
    (matplotlib.figure.Figure, dict)
        The figure and group to axes; finish with :func:`shared_legend`.
    """
    figure, axes = panel_grid(list(dict.fromkeys(table[by])), columns=columns, height=height)
    for group, ax in axes.items():
        part = table[table[by] == group]
        for column, label, fmt, colour, *bounds in curves:
            shown = part[part[column].notna()]
            if bounds:
                interval_errorbar(ax, shown[x], shown[column], shown[bounds[0]],
                                  shown[bounds[1]], fmt=fmt, color=colour, ms=3, label=label)
            else:
                ax.plot(shown[x], shown[column], fmt, color=colour, ms=3, label=label)
        ax.set_title(str(group), fontsize=10)
        ax.set_ylabel(ylabel)
        precision_axis(ax)
    return figure, axes


def shared_legend(figure, axes, *, columns: int = 4):
    """One legend below a figure of panels, from the first panel's labelled artists.

    Introduced in the chapter "MI comparison", where every panel draws the same curves.
    """
    first = next(iter(axes.values())) if isinstance(axes, dict) else axes
    handles, names = first.get_legend_handles_labels()
    figure.legend(handles, names, loc="upper center", ncol=columns, fontsize=8,
                  bbox_to_anchor=(0.5, 0.0))
    figure.tight_layout()
    return figure


def draw_ecdf(ax, values, **style):
    """Draw the empirical distribution function of a sample: the share of values ``<= x``.

    Introduced in the chapter "Curvature threshold" for the distribution of the curvature
    over points and directions. Values that are not finite are left out; an empty sample
    draws nothing. ``style`` goes to ``ax.plot``.

    Returns
    -------
    numpy.ndarray
        The values drawn, sorted.
    """
    values = np.sort(np.asarray(values, dtype=float).reshape(-1))
    values = values[np.isfinite(values)]
    if values.size:
        ax.plot(values, np.linspace(0, 1, values.size), **style)
    return values


def draw_probe_accuracy(ax, curve, *, tolerance: float = 0.05, label: str = "probe accuracy"):
    """Draw a probe's test accuracy against precision, its bootstrap band and the collapse line.

    Introduced in the chapter "Curvature threshold" for its per-model panels; it draws any
    :class:`helpers.measure.probes.ProbeCurve`. The full-precision result is left out of the
    sweep and shown instead as a dotted line ``tolerance`` below its accuracy: accuracy under
    that line counts as collapsed.

    Returns
    -------
    list of float
        The precisions drawn, in the curve's order.
    """
    swept = [index for index, bits in enumerate(curve.bits) if bits is not None]
    bits = [curve.bits[index] for index in swept]
    ax.fill_between(bits, curve.ci_low[swept], curve.ci_high[swept], color="C0", alpha=0.2)
    ax.plot(bits, curve.accuracy[swept], "o-", color="C0", ms=3, label=label)
    full = curve.full_precision()
    if full is not None:
        ax.axhline(full.accuracy - tolerance, color="0.3", ls=":", lw=1,
                   label=f"full precision − {100 * tolerance:g} points")
    return bits


def capacity_collapse_panels(n_samples: int, *, size=(13, 4.6)):
    """The two empty panels of the capacity collapse figure, one per spectral-norm variant.

    Introduced in the chapter "Precision lower bound" for the proposal's headline figure and
    drawn again, with the predicted thresholds, by the chapter "Curvature threshold". Each
    panel has the covering radius on a log-2 axis, inverted so that finer precision lies to
    the right, and the sample ceiling ``log2 n_samples``; plot a network on
    ``axes[int(spectral_norm)]``.

    Returns
    -------
    (matplotlib.figure.Figure, numpy.ndarray of two axes)
    """
    figure, axes = plt.subplots(1, 2, figsize=size, sharey=True)
    for ax, title in zip(axes, ("without spectral normalization", "with spectral normalization"),
                         strict=True):
        draw_sample_ceiling(ax, n_samples)
        ax.set_xscale("log", base=2)
        ax.invert_xaxis()
        ax.set(title=title,
               xlabel="covering radius ε [unit-cube units] (log scale, finer to the right)")
    axes[0].set_ylabel("C_num = log₂ N_ε [bits]")
    return figure, axes


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


def interval_pairs_figure(points, first: str, second: str, *, labels=("first", "second"),
                          band_from: float | None = None, band_label: str = "",
                          xlabel: str = BITS_LABEL, empty: str = "nothing to show"):
    """Two estimates with their intervals on one row per item, drawn as horizontal bars.

    Introduced in the chapter "Claims ledger", which sets each network's observed collapse
    threshold beside the predicted ``p*``. ``points`` is a list of dicts with ``label`` and,
    for each prefix of ``first`` and ``second``, the keys ``<prefix>``, ``<prefix>_low``
    and ``<prefix>_high``. ``band_from`` shades the axis from that value on (labelled
    ``band_label``); ``empty`` is written in place of the rows when there are none.
    """
    figure, ax = plt.subplots(figsize=(8, 0.45 * max(len(points), 6) + 1.4))
    if not points:
        ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    for index, point in enumerate(points):
        for shift, prefix, marker, colour, label in ((0.12, first, "o", "C0", labels[0]),
                                                     (-0.12, second, "D", "C3", labels[1])):
            value = point[prefix]
            ax.errorbar(value, index + shift, fmt=marker, color=colour, capsize=3,
                        xerr=[[value - point[f"{prefix}_low"]],
                              [point[f"{prefix}_high"] - value]],
                        label=label if index == 0 else None)
    if points:
        right = max(max(max(p[f"{first}_high"], p[f"{second}_high"]) for p in points) + 0.5,
                    2 * band_from if band_from is not None else 0)
        if band_from is not None:
            ax.axvspan(band_from, right, color="0.88", zorder=0, label=band_label)
        ax.set_xlim(0, right)
        ax.set_yticks(range(len(points)), [point["label"] for point in points])
        ax.invert_yaxis()
        ax.legend(fontsize=8, loc="lower right")
    ax.set_xlabel(xlabel)
    figure.tight_layout()
    return figure


def run_times_figure(seconds: dict, training_seconds: float | None, *,
                     empty: str = "run times: not available"):
    """Horizontal bars of wall time per chapter, after the training stage (grey) if any.

    Introduced in the chapter "Execution statistics". ``seconds`` is ``{chapter title:
    seconds}``; ``training_seconds`` is ``None`` when the build ran no training stage.
    """
    figure, ax = plt.subplots(figsize=(7.5, 3.6))
    if seconds:
        training = [] if training_seconds is None else [("training stage", training_seconds)]
        bars = training + list(seconds.items())
        ax.barh([name for name, _ in bars], [value for _, value in bars],
                color=["0.6"] * len(training) + ["C0"] * len(seconds))
        ax.invert_yaxis()
    else:
        ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_xlabel("wall time [s]")
    figure.tight_layout()
    return figure


def stored_bits_panels(table, score: str, *, ylabel: str, by: str = "model",
                       columns: int = 4):
    """One panel per network: ``score`` against stored bits per dimension (log scale).

    Introduced in the chapter "Number formats in practice". ``table`` holds the rows of
    :func:`helpers.measure.stored.quantizer_rows` with a ``by`` column: the rows of kind
    ``"grid"`` are drawn as the book's uniform grid, a line, and every other row as a marker
    of its own with its interval (``{score}_low`` to ``{score}_high``) as a bar.
    """
    figure, axes = panel_grid(table[by].unique(), columns=columns, width=3.6)
    names = table.name[table.kind != "grid"].unique()
    markers = dict(zip(names, "osD^v<>phHX*d8P+x1234" * 2, strict=False))
    for label, ax in axes.items():
        rows = table[table[by] == label]
        grid = rows[rows.kind == "grid"]
        ax.plot(grid.bits, grid[score], "-", color="0.4", label="uniform grid")
        for _, row in rows[rows.kind != "grid"].iterrows():
            ax.errorbar(row.bits, row[score], fmt=markers[row["name"]], ms=5,
                        yerr=[[row[score] - row[f"{score}_low"]],
                              [row[f"{score}_high"] - row[score]]], label=row["name"])
        ax.set(xscale="log", title=label, xlabel="stored bits per dimension", ylabel=ylabel)
    return shared_legend(figure, axes, columns=7)
