"""The per-chapter results file: content, atomic writes, and refusing NaN."""

import json

import numpy as np
import pytest

from helpers import __version__
from helpers.book.results import ChapterResults


def test_results_file_holds_values_parameters_and_version(tmp_path):
    results = ChapterResults("demo_chapter", {"profile": "smoke", "dataset": "digits", "seed": 3,
                                              "bits": [1, 2]}, results_dir=tmp_path)
    results.glue("answer", np.float64(0.5), fmt=".2f")
    results.glue_interval("accuracy", 0.9, 0.85, 0.95)
    results.record("curve", np.arange(3))
    path = results.save()
    payload = json.loads(path.read_text())
    assert payload["chapter"] == "demo_chapter"
    assert payload["helpers_version"] == __version__
    assert (payload["profile"], payload["dataset"], payload["seed"]) == ("smoke", "digits", 3)
    assert payload["parameters"]["bits"] == [1, 2]
    assert payload["results"]["answer"]["value"] == 0.5
    assert payload["results"]["accuracy"]["interval"] == [0.85, 0.95]
    assert payload["results"]["curve"]["value"] == [0, 1, 2]


def test_a_nan_result_is_refused_and_the_old_file_survives(tmp_path):
    good = ChapterResults("demo", {"profile": "smoke"}, results_dir=tmp_path)
    good.record("x", 1.0)
    path = good.save()
    before = path.read_text()
    bad = ChapterResults("demo", {"profile": "smoke"}, results_dir=tmp_path)
    bad.record("x", [1.0, float("nan")])
    with pytest.raises(ValueError, match="'x' is not finite"):
        bad.save()
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["demo.json"]  # no temporary left behind


def test_chapter_name_must_be_an_identifier(tmp_path):
    with pytest.raises(ValueError, match="chapter"):
        ChapterResults("../escape", {}, results_dir=tmp_path)


def test_glue_texts_records_every_phrase_and_refuses_non_text(tmp_path):
    results = ChapterResults("demo", {}, results_dir=tmp_path)
    results.glue_texts({"a": "one", "b": "two"})
    assert results.values["a"]["value"] == "one" and results.values["b"]["value"] == "two"
    with pytest.raises(TypeError, match="'c' is float"):
        results.glue_texts({"c": 1.5})


def test_glue_values_records_raw_values_and_takes_formats(tmp_path):
    results = ChapterResults("demo", {}, results_dir=tmp_path)
    results.glue_values({"n": 500, "ceiling": (8.9657, ".1f"), "word": "below"})
    assert results.values["n"]["value"] == 500
    assert results.values["ceiling"]["value"] == pytest.approx(8.9657)  # unformatted
    assert results.values["word"]["value"] == "below"
    with pytest.raises(TypeError, match="'bad' is"):
        results.glue_values({"bad": (1.0, ".1f", "extra")})


def test_record_table_stores_columns_with_nan_as_null_and_returns_the_table(tmp_path):
    import pandas as pd

    results = ChapterResults("demo", {}, results_dir=tmp_path)
    frame = pd.DataFrame({"model": ["a", "b"], "value": [1.5, float("nan")]})
    assert results.record_table("table", frame) is frame
    assert results.values["table"]["value"] == {"model": ["a", "b"], "value": [1.5, None]}
    results.save()  # the NaN became null, so the file can be written


def test_extent_is_min_and_max_of_the_finite_values_or_none():
    from helpers.book.results import extent

    assert extent([2, np.float64(-1.0), float("nan"), 3]) == [-1.0, 3.0]
    assert extent([float("nan")]) is None
    assert extent([]) is None
    assert all(type(v) is float for v in extent(np.array([1, 2])))


def test_record_values_records_each_pair_and_returns_the_mapping(tmp_path):
    results = ChapterResults("demo", {}, results_dir=tmp_path)
    values = {"count": 3, "span": [1.0, 2.0], "verdicts": {"a": "holds"}, "missing": None}
    assert results.record_values(values) is values
    assert {name: entry["value"] for name, entry in results.values.items()} == values


def test_glue_figure_can_close_the_figure_it_glued(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = ChapterResults("demo", {"profile": "smoke"}, results_dir=tmp_path)
    kept, closed = plt.figure(), plt.figure()
    assert results.glue_figure("kept", kept) is kept
    assert results.glue_figure("closed", closed, close=True) is None  # a cell shows nothing
    assert plt.fignum_exists(kept.number) and not plt.fignum_exists(closed.number)
    plt.close(kept)
