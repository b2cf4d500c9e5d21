"""The figure helpers of helpers.book.plotting that overlay the suite's networks (chapter 6)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.book import plotting


def _table():
    rows = [{"model": model, "bits": p, "value": p * scale, "low": p * scale - 0.1,
             "high": np.nan if p == 2 else p * scale + 0.2, "open": p == 4}
            for model, scale in (("A", 1.0), ("A + SN", 0.5), ("B", 2.0)) for p in (1, 2, 4)]
    return pd.DataFrame(rows)


def test_suite_styles_pair_each_network_with_its_spectrally_normalized_twin():
    styles = plotting.suite_styles(["A", "A + SN", "B", "B + SN"])
    assert styles["A"][0] == "C0" and styles["A + SN"][0] == "C1"
    assert styles["A"][1] == styles["A + SN"][1] != styles["B"][1] == styles["B + SN"][1]


def test_precision_axis_is_log_two_with_plain_tick_labels():
    figure, ax = plt.subplots()
    ax.plot([0.25, 1, 4], [1, 2, 3])
    plotting.precision_axis(ax)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == plotting.SHORT_BITS_LABEL
    assert ax.xaxis.get_major_formatter()(0.5, 0) == "0.5"
    plt.close(figure)


def test_interval_errorbar_draws_no_bar_for_a_missing_or_inverted_bound():
    figure, ax = plt.subplots()
    bars = plotting.interval_errorbar(ax, [1, 2, 3], [1.0, 1.0, 1.0], [0.5, np.nan, 1.5],
                                      [1.5, 2.0, np.nan], fmt="o")
    segments = bars.lines[2][0].get_segments()
    lengths = [abs(segment[1][1] - segment[0][1]) for segment in segments]
    assert np.allclose(lengths, [1.0, 1.0, 0.0])  # the inverted low end draws nothing
    plt.close(figure)


def test_panel_curves_draw_one_panel_per_model_and_skip_missing_values():
    table = _table().assign(value=lambda t: t.value.where(t.bits != 1))
    figure, axes = plotting.panel_curves(
        table, (("value", "value", "o-", "k"), ("low", "with bars", "s-", "C1", "low", "high")),
        ylabel="bits", columns=2)
    assert list(axes) == ["A", "A + SN", "B"]
    assert len(axes["A"].get_lines()[0].get_xdata()) == 2  # the NaN row is left out
    plotting.shared_legend(figure, axes, columns=2)
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["value", "with bars"]
    plt.close(figure)


def test_suite_overlay_labels_filled_points_once_and_draws_hollow_ones_apart():
    figure, ax = plt.subplots()
    styles = plotting.suite_overlay(ax, _table(), "bits", "value", hollow="open",
                                    interval=("low", "high"))
    assert list(styles) == ["A", "A + SN", "B"]
    labels = [handle.get_label() for handle in ax.collections if
              not handle.get_label().startswith("_")]
    assert labels == ["A", "A + SN", "B"]
    hollow = [c for c in ax.collections if c.get_label().startswith("_")
              and len(c.get_offsets()) == 1 and c.get_offsets()[0][0] == 4]
    assert len(hollow) == 3
    plt.close(figure)


def test_capacity_collapse_panels_keep_finer_precision_to_the_right():
    """Chapter 2's figure: inverted log-2 radius axis, the ceiling drawn, data added later."""
    figure, axes = plotting.capacity_collapse_panels(64)
    axes[1].plot([1.0, 0.5, 0.25], [1.0, 3.0, 6.0])
    for ax in axes:
        assert ax.get_xscale() == "log" and ax.xaxis_inverted()
        assert any(np.allclose(line.get_ydata(), 6.0) for line in ax.get_lines())  # log2 64
    assert "with spectral" in axes[1].get_title() and "without" in axes[0].get_title()
    plt.close(figure)


def test_stored_bits_panels_draw_the_grid_as_a_line_and_each_format_as_a_marker():
    rows = [{"model": model, "kind": kind, "name": name, "bits": bits, "recall": value,
             "recall_low": value - 0.05, "recall_high": value + 0.05}
            for model in ("A", "B")
            for kind, name, bits, value in (("grid", "grid p=1", 1.58, 0.4),
                                            ("grid", "grid p=4", 4.09, 0.9),
                                            ("format", "int8", 8.0, 0.95),
                                            ("store", "pq1", 1.0, 0.7))]
    figure = plotting.stored_bits_panels(pd.DataFrame(rows), "recall", ylabel="recall@10")
    axes = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["A", "B"]
    assert all(ax.get_xscale() == "log" for ax in axes)
    assert len(axes[0].lines) >= 3  # the grid's line and one marker per format
    plt.close(figure)
