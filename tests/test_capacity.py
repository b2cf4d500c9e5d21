"""The representation-file reader, the measurements, the command and the appendix notebook."""

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from helpers import capacity
from helpers.measure import comparison, covering, geometry, information, probes, quantize
from helpers.measure.thresholds import observed_collapse
from helpers.nets.suite import NormalizedSample

ROOT = Path(__file__).resolve().parents[1]


def _clusters(n, rng, *, dim=12, classes=3, basis=None):
    """Labelled points near a 3-D subspace: class means apart, so a probe finds the labels."""
    y = rng.integers(0, classes, n)
    latent = rng.normal(size=(n, 3)) + 2.0 * np.eye(3)[y % 3]
    return (latent @ basis).astype(np.float32), y


@pytest.fixture(scope="module")
def labelled_file(tmp_path_factory):
    rng = np.random.default_rng(3)
    basis = rng.normal(size=(3, 12))
    train, train_y = _clusters(400, rng, basis=basis)
    test, test_y = _clusters(200, rng, basis=basis)
    path = tmp_path_factory.mktemp("rep") / "labelled.npz"
    np.savez(path, train=train, test=test, train_labels=train_y, test_labels=test_y)
    return path


# --------------------------------------------------------------------------- bad files


def _bad(tmp_path, name, **arrays):
    path = tmp_path / name
    if name.endswith(".npy"):
        np.save(path, arrays["matrix"])
    else:
        np.savez(path, **arrays)
    return path


GOOD = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
LABELS = np.arange(60) % 3


@pytest.mark.parametrize("name, arrays, problem, fix", [
    ("wrong.npz", dict(x_train=GOOD, test=GOOD), "unexpected array name(s) 'x_train'",
     "Rename the arrays"),
    ("missing.npz", dict(train=GOOD), "no array named 'test'", "Rename the arrays"),
    ("labels.npz", dict(train=GOOD, test=GOOD, labels=LABELS), "unexpected array name(s) "
     "'labels'", "train_labels"),
    ("flat.npy", dict(matrix=GOOD[:, 0]), "1 dimension(s)", "reshape(-1, 1)"),
    ("cube.npz", dict(train=np.zeros((60, 2, 2), np.float32), test=GOOD), "3 dimension(s)",
     "reshape(len(train), -1)"),
    ("nan.npy", dict(matrix=np.where(np.arange(240).reshape(60, 4) == 9, np.nan, GOOD)),
     "1 NaN or infinite values in 1 rows (first row 2)", "Remove or repair"),
    ("inf.npz", dict(train=GOOD, test=np.where(GOOD > 1.5, np.inf, GOOD)), "NaN or infinite",
     "Remove or repair"),
    ("counts.npz", dict(train=GOOD, test=GOOD, train_labels=LABELS[:50], test_labels=LABELS),
     "has 50 labels but 'train' has 60 rows", "one label per row"),
    ("one_label.npz", dict(train=GOOD, test=GOOD, test_labels=LABELS), "only 'test_labels'",
     "or neither"),
    ("half.npy", dict(matrix=GOOD.astype(np.float16)), "float16", "astype(np.float32)"),
    ("codes.npz", dict(train=(GOOD * 10).astype(np.int32), test=GOOD), "int32 values",
     "astype(np.float32)"),
    ("small.npz", dict(train=GOOD[:20], test=GOOD), "has 20 rows; the estimators need at least",
     f"at least {capacity.MIN_POINTS}"),
    ("repeats.npz", dict(train=GOOD, test=np.repeat(GOOD[:10], 6, axis=0)),
     "'test' has 60 rows but only 10 distinct ones", "at least 50 different representations"),
    ("repeats.npy", dict(matrix=np.vstack([GOOD[:40], GOOD[:40] * -0.0 + GOOD[:40]])),
     "the matrix has 80 rows but only 40 distinct ones", "at least 50 different"),
    ("widths.npz", dict(train=GOOD, test=GOOD[:, :3]), "'train' has 4 columns but 'test' has 3",
     "same width"),
    ("single.npz", dict(train=GOOD, test=GOOD, train_labels=np.zeros(60, int),
                        test_labels=np.zeros(60, int)), "a single class", "at least two"),
    ("float_labels.npz", dict(train=GOOD, test=GOOD, train_labels=LABELS * 0.5,
                              test_labels=LABELS * 0.5), "labels must be integers or strings",
     "astype(np.int64)"),
])
def test_every_bad_file_gets_an_error_that_names_the_file_and_the_fix(tmp_path, name, arrays,
                                                                      problem, fix):
    path = _bad(tmp_path, name, **arrays)
    with pytest.raises(capacity.RepresentationFileError) as caught:
        capacity.load_representations(path)
    message = str(caught.value)
    assert str(path) in message
    assert problem in message and fix in message


def test_unreadable_missing_and_unknown_files(tmp_path):
    garbage = tmp_path / "garbage.npy"
    garbage.write_bytes(b"not a numpy file at all")
    for path, problem in ((garbage, "cannot be read as a NumPy .npy file"),
                          (tmp_path / "absent.npz", "no such file"),
                          (tmp_path, "not a file")):
        with pytest.raises(capacity.RepresentationFileError, match="Give|Write") as caught:
            capacity.load_representations(path)
        assert problem in str(caught.value) and str(path) in str(caught.value)
    text = tmp_path / "rep.csv"
    text.write_text("1,2\n")
    with pytest.raises(capacity.RepresentationFileError, match="unknown file type '.csv'"):
        capacity.load_representations(text)


def test_a_collapsed_representation_is_refused_before_measuring(tmp_path):
    path = _bad(tmp_path, "constant.npy", matrix=np.full((80, 3), 2.5, np.float32))
    with pytest.raises(capacity.RepresentationFileError, match="collapsed") as caught:
        capacity.measure_representation(path, [1, 2])
    assert str(path) in str(caught.value)


def test_string_labels_are_numbered_and_shapes_reported(tmp_path):
    names = np.array(["cat", "dog", "eel"])[LABELS]
    path = _bad(tmp_path, "strings.npz", train=GOOD, test=GOOD[:55], train_labels=names,
                test_labels=names[:55])
    loaded = capacity.load_representations(path)
    assert loaded.classes == ("cat", "dog", "eel")
    assert np.array_equal(loaded.train_labels, LABELS) and loaded.train.dtype == np.float64
    assert loaded.describe() == "strings.npz: train 60 x 4, test 55 x 4 (float32), 3 classes"


def test_save_representations_writes_files_the_reader_accepts(tmp_path):
    path = capacity.save_representations(tmp_path / "a.npz", GOOD, GOOD, train_labels=LABELS,
                                         test_labels=LABELS)
    assert capacity.load_representations(path).has_labels
    single = capacity.save_representations(tmp_path / "b.npy", GOOD)
    assert capacity.load_representations(single).test is None
    with pytest.raises(ValueError, match=".npz name"):
        capacity.save_representations(tmp_path / "c.npy", GOOD, GOOD)
    with pytest.raises(capacity.RepresentationFileError, match="float16") as caught:
        capacity.save_representations(tmp_path / "d.npy", GOOD.astype(np.float16))
    assert str(caught.value).startswith(f"{tmp_path / 'd.npy'}: ")
    assert not (tmp_path / "d.npy").exists()  # a file the reader refuses is never left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npy"]


# --------------------------------------------------------------------------- measurements


def test_measurements_agree_with_the_chapters_own_functions(labelled_file):
    bits = [1, 2, 3, 5]
    report = capacity.measure_representation(labelled_file, bits, n_bootstrap=50, seed=4)
    rep = capacity.load_representations(labelled_file)
    scaler = quantize.fit_unit_cube(rep.train)
    test_u = scaler.transform(rep.test)
    frame = report.capacity_frame()
    assert np.allclose(frame.C_num, comparison.capacity_bits(test_u, bits))
    curve = covering.capacity_curve(test_u, 2.0 ** -np.array(bits, float), lower_from="doubled")
    assert np.allclose(sorted(frame["C_num lower"]), sorted(curve.log2_lower))
    assert np.allclose(sorted(frame["C_num upper"]), sorted(curve.log2_upper))
    for row in report.capacity:
        codes = quantize.grid_codes(test_u, row["p"])
        assert row["log2 cells"] == pytest.approx(
            math.log2(quantize.count_occupied_cells(test_u, row["p"])))
        entropy = information.entropy_estimates(codes, n_bootstrap=50, seed=4)
        assert row["miller-madow"] == pytest.approx(entropy.miller_madow.estimate)
        assert row["chao-shen high"] == pytest.approx(entropy.chao_shen.ci_high)
        assert row["C_num lower"] <= row["C_num"] <= row["C_num upper"] <= report.ceiling
    mle = geometry.mle_dimension(test_u, n_bootstrap=50, seed=4)
    assert report.dimension["mle"]["estimate"] == pytest.approx(mle.estimate)
    assert 2.0 < report.dimension["mle"]["estimate"] < 4.5  # points near a 3-D subspace
    sample = NormalizedSample(scaler=scaler, train_u=scaler.transform(rep.train),
                              train_y=rep.train_labels, train_index=np.arange(len(rep.train)),
                              test_u=test_u, test_y=rep.test_labels,
                              test_index=np.arange(len(rep.test)))
    curve, estimate = observed_collapse(sample, bits, n_bootstrap=50, seed=4)
    assert [r["accuracy"] for r in report.probes] == pytest.approx(list(curve.accuracy))
    assert report.collapse["threshold"] == estimate.threshold
    ks, grid = probes.precision_dimension_map(scaler.transform(rep.train), rep.train_labels,
                                              test_u, rep.test_labels, [1, 2, 4, 8], bits,
                                              seed=4)
    assert report.precision_map["k"] == ks
    assert np.allclose(report.precision_map["accuracy"], grid)
    assert report.probes[0]["accuracy"] > 0.8  # the labels are recoverable


def test_a_known_answer_grid_points_and_the_ceiling(tmp_path):
    # the 64 points of an 8 x 8 grid (step 1/7 after normalization): at p = 3 each point has a
    # cell of its own, at p = 1 the cells are the 3 x 3 rounding levels
    side = np.arange(8, dtype=np.float64)
    grid = np.array([[a, b] for a in side for b in side])
    path = capacity.save_representations(tmp_path / "grid.npy", grid)
    report = capacity.measure_representation(path, [1, 3], n_bootstrap=0)
    by_p = {row["p"]: row for row in report.capacity}
    assert by_p[3]["log2 cells"] == pytest.approx(6.0) == report.ceiling
    assert by_p[1]["log2 cells"] == pytest.approx(math.log2(9))
    assert by_p[3]["C_num"] == pytest.approx(6.0)  # eps = 1/8 is below the grid step 1/7
    assert not by_p[1]["saturated"] and report.saturation_bits == 3
    assert report.probes is None and "Without labels" in report.verdict


def test_per_coordinate_normalization_and_bad_arguments(labelled_file):
    report = capacity.measure_representation(labelled_file, [2], normalization="per-coordinate",
                                             n_bootstrap=0, map_dims=(2,))
    assert report.normalization == "per-coordinate" and report.precision_map["k"] == [2]
    for bits, match in (([], "empty"), ([0], "outside the supported range"),
                        ([1, 1], "repeat"), ("1", "list of precisions")):
        with pytest.raises(ValueError, match=match):
            capacity.measure_representation(labelled_file, bits)
    with pytest.raises(ValueError, match="normalization must be one of"):
        capacity.measure_representation(labelled_file, [1], normalization="minmax")


def test_report_json_is_finite_and_holds_the_figures_the_appendix_glues(labelled_file):
    report = capacity.measure_representation(labelled_file, [1, 8], n_bootstrap=20)
    text = json.dumps(report.as_dict(), allow_nan=False)  # NaN would raise here
    assert json.loads(text)["log2_n_ceiling"] == pytest.approx(math.log2(200))
    assert report.sizes["map train"] == 400 and "labelled.npz" in report.source
    mle = report.dimension["mle"]
    assert mle["ci_low"] <= mle["estimate"] <= mle["ci_high"]


# --------------------------------------------------------------------------- command


def test_command_prints_the_figures_and_writes_the_same_json(labelled_file, tmp_path, capsys):
    out = tmp_path / "figures.json"
    assert capacity.main([str(labelled_file), "--bits", "1", "2", "4", "--json", str(out),
                          "--n-bootstrap", "30"]) == 0
    printed = capsys.readouterr().out
    figures = json.loads(out.read_text())
    report = capacity.measure_representation(labelled_file, [1, 2, 4], n_bootstrap=30)
    assert [row["C_num"] for row in figures["capacity"]] == pytest.approx(
        [row["C_num"] for row in report.capacity])
    assert f"{report.capacity[0]['C_num']:.2f}" in printed and "collapse threshold" in printed
    assert capacity.main([str(labelled_file), "--bits", "2", "--json", "--n-bootstrap",
                          "0"]) == 0
    assert json.loads(capsys.readouterr().out)["bits"] == [2.0]


def test_formats_are_measured_beside_the_grid_on_npz_and_npy(labelled_file, tmp_path, capsys):
    out = tmp_path / "figures.json"
    assert capacity.main([str(labelled_file), "--bits", "1", "4", "8", "--n-bootstrap", "20",
                          "--formats", "fp8_e4m3", "int8_channel", "mxfp4", "pq1",
                          "--json", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    formats = json.loads(out.read_text())["formats"]
    names = [row["name"] for row in formats["rows"]]
    assert names == ["grid p=1", "grid p=4", "grid p=8", "fp8_e4m3", "int8_channel", "mxfp4",
                     "pq1"]
    effective = {row["name"]: row for row in formats["effective"]}
    assert set(effective) == {"fp8_e4m3", "int8_channel", "mxfp4", "pq1"}
    # eight stored bits per value, and an effective precision within the grid's range
    assert effective["int8_channel"]["bits"] == 8
    assert 0 < effective["int8_channel"]["recall_bits"] <= formats["rows"][2]["bits"]
    assert "int8_channel" in printed and "eff. bits" in printed
    # a .npy has no labels: the probe's columns are empty, the rest is measured
    matrix = np.load(labelled_file)["train"]
    plain = tmp_path / "plain.npy"
    np.save(plain, matrix)
    assert capacity.main([str(plain), "--bits", "2", "--formats", "int4", "--json",
                          "--n-bootstrap", "0", "--no-progress"]) == 0
    rows = json.loads(capsys.readouterr().out)["formats"]["rows"]
    assert rows[1]["name"] == "int4" and rows[1]["accuracy"] is None
    assert 0 <= rows[1]["recall"] <= 1


def test_unknown_formats_are_refused_before_measuring_with_the_known_ones(labelled_file,
                                                                          capsys):
    assert capacity.main([str(labelled_file), "--formats", "fp9", "--no-progress"]) == 1
    error = capsys.readouterr().err
    assert "unknown format 'fp9'" in error and "mxfp4" in error and "pq1" in error
    assert capacity.main([str(labelled_file), "--formats", "int8", "int8"]) == 1
    assert "twice" in capsys.readouterr().err


def test_command_errors_go_to_stderr_with_status_1(tmp_path, capsys):
    path = _bad(tmp_path, "half.npy", matrix=GOOD.astype(np.float16))
    assert capacity.main([str(path)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "float16" in error and str(path) in error
    assert capacity.main([str(path.with_suffix(".npz")), "--bits", "x"]) == 1
    assert "--bits takes numbers" in capsys.readouterr().err


def test_command_runs_as_a_module(labelled_file):
    result = subprocess.run([sys.executable, "-m", "helpers.capacity", str(labelled_file),
                             "--bits", "2", "--n-bootstrap", "0", "--json"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["n_measured"] == 200


# --------------------------------------------------------------------------- appendix


def test_the_appendix_runs_through_papermill_on_a_generated_file(labelled_file, tmp_path,
                                                                   monkeypatch):
    import papermill

    results_dir = tmp_path / "results"
    monkeypatch.setenv("HELPERS_RESULTS_DIR", str(results_dir))  # the kernel inherits it
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "09_your_own_representation.ipynb"), str(tmp_path / "out.ipynb"),
        parameters={"representation_path": str(labelled_file), "bits": "[1, 2, 4, 8]",
                    "profile": "smoke", "n_bootstrap": 30},
        cwd=str(ROOT), progress_bar=False, kernel_name="python3")
    payload = json.loads((results_dir / "your_own_representation.json").read_text())
    from_notebook = payload["results"]["report"]["value"]
    report = capacity.measure_representation(labelled_file, [1, 2, 4, 8], n_bootstrap=30)
    assert from_notebook["bits"] == [1.0, 2.0, 4.0, 8.0]
    assert [r["C_num"] for r in from_notebook["capacity"]] == pytest.approx(
        [r["C_num"] for r in report.capacity])
    assert from_notebook["verdict"] == report.verdict
    assert payload["parameters"]["representation_path"] == str(labelled_file)


# --------------------------------------------------------------------------- issue 23, item 7


def _claiming(path, shape, data_bytes, *, inside=None):
    """A .npy (or an .npz member ``inside``) whose header claims ``shape`` float32 values."""
    import zipfile

    from numpy.lib import format as npy_format

    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    if inside is None:
        with open(path, "wb") as handle:
            npy_format.write_array_header_1_0(handle, header)
            handle.write(bytes(data_bytes))
        return path
    with zipfile.ZipFile(path, "w") as archive:
        for name, claimed in inside.items():
            with archive.open(f"{name}.npy", "w") as handle:
                npy_format.write_array_header_1_0(handle, {**header, "shape": claimed})
                handle.write(bytes(4 * math.prod(claimed) if claimed != shape else data_bytes))
    return path


def _no_measuring(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("measuring started before the input was refused")

    monkeypatch.setattr(covering, "capacity_curve", refuse)
    monkeypatch.setattr(capacity, "measure_representation", refuse)


def test_a_header_claiming_more_than_the_file_holds_is_refused_before_loading(
        tmp_path, capsys, monkeypatch):
    """A 1 kB file whose header claims 10**12 x 256 values ended in a raw MemoryError."""
    huge = (10**12, 256)
    for path in (_claiming(tmp_path / "huge.npy", huge, 1024),
                 _claiming(tmp_path / "huge.npz", huge, 64, inside={"train": huge,
                                                                   "test": (60, 2)})):
        with pytest.raises(capacity.RepresentationFileError, match="truncated") as caught:
            capacity.load_representations(path)
        assert str(path) in str(caught.value) and "(1000000000000, 256)" in str(caught.value)
        assert capacity.main([str(path)]) == 1
        error = capsys.readouterr().err
        assert error.startswith("error: ") and str(path) in error and "Write it again" in error


def test_an_array_larger_than_memory_is_refused_before_loading(tmp_path, monkeypatch):
    path = capacity.save_representations(tmp_path / "rep.npy", GOOD)
    monkeypatch.setattr(capacity, "_memory_bytes", lambda: 1000)
    with pytest.raises(capacity.RepresentationFileError, match="more than this machine") as caught:
        capacity.load_representations(path)
    assert str(path) in str(caught.value) and "random subset" in str(caught.value)
    monkeypatch.setattr(capacity, "_memory_bytes", lambda: None)

    def out_of_memory(*args, **kwargs):  # what is left: numpy's own allocation failing
        raise MemoryError

    monkeypatch.setattr(np, "load", out_of_memory)
    with pytest.raises(capacity.RepresentationFileError, match="too large to load"):
        capacity.load_representations(path)


@pytest.mark.parametrize("target, problem", [
    ("folder", "is a folder"), ("absent/figures.json", "does not exist"),
    ("locked/figures.json", "cannot be written")])
def test_a_json_path_that_cannot_be_written_is_refused_before_measuring(
        labelled_file, tmp_path, capsys, monkeypatch, target, problem):
    (tmp_path / "folder").mkdir()
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    real = tempfile.TemporaryFile

    def no_write(*args, dir=None, **kwargs):  # as root, chmod alone does not stop a write
        if dir is not None and Path(dir) == locked:
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", no_write)
    _no_measuring(monkeypatch)
    out = tmp_path / target
    try:
        assert capacity.main([str(labelled_file), "--json", str(out)]) == 1
    finally:
        locked.chmod(0o700)
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing measured, no summary
    assert captured.err.startswith(f"error: --json {out}: ") and problem in captured.err


def test_too_few_distinct_points_for_the_dimension_are_refused_before_measuring(
        labelled_file, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("measuring started before the input was refused")

    monkeypatch.setattr(covering, "capacity_curve", refuse)
    with pytest.raises(capacity.RepresentationFileError,
                       match="only 15 distinct points") as caught:
        capacity.measure_representation(labelled_file, [1], max_dimension_points=15)
    assert str(labelled_file) in str(caught.value)
    assert "max_dimension_points" in str(caught.value)


def test_far_outliers_at_high_precision_give_exact_cells_and_entropy(tmp_path):
    """Codes wrapped around int64: 201 cells for 400 distinct rows, plug-in 4.82 bits."""
    rng = np.random.default_rng(0)
    train, test = rng.random((400, 2)), rng.random((400, 2))
    test[::2] *= 1e9  # 200 rows about 1e9 unit-cube widths away
    path = capacity.save_representations(tmp_path / "outliers.npz", train, test)
    report = capacity.measure_representation(path, [40], n_bootstrap=0,
                                             max_dimension_points=100)
    row = report.capacity[0]
    assert row["log2 cells"] == pytest.approx(math.log2(400))
    assert row["plugin"] == pytest.approx(math.log2(400))
    assert row["singletons"] == 1.0
