"""Tests of helpers.data: real formats written small into tmp_path, embedded and synthetic sets.

No test touches the network: an autouse fixture makes the network probe answer "offline" and
makes any real transfer fail the test.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import pickle
import struct
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

import helpers.data as data
from helpers.data import (
    DATASETS,
    EMBEDDED_DATASETS,
    DatasetFormatError,
    DatasetNotFoundError,
    _download,
    dataset_status,
    load_dataset,
    real,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No network: the probe says unreachable and a real transfer fails the test."""
    monkeypatch.delenv("HELPERS_DATA_DIR", raising=False)
    monkeypatch.setattr(_download, "network_available", lambda *args, **kwargs: False)

    def no_transfer(url, target, md5):
        raise AssertionError(f"a test tried to download {url}")

    monkeypatch.setattr(_download, "_retrieve", no_transfer)


# ----------------------------------------------------------------------------- file writers


def write_idx(path: Path, array: np.ndarray, magic: int, *, compress: bool = True) -> Path:
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def make_mnist(folder: Path, n_train=30, n_test=20, *, compress=True, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        suffix = ".gz" if compress else ""
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", images, 0x803, compress=compress)
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", labels, 0x801, compress=compress)
        arrays[split] = (images, labels)
    return arrays


CIFAR_NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer"] + [
    b"dog",
    b"frog",
    b"horse",
    b"ship",
    b"truck",
]


def make_cifar(folder: Path, per_batch=6, *, seed=0, meta=True):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        pixels = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = [int(x) for x in rng.integers(0, 10, size=per_batch)]
        content = {b"batch_label": name.encode(), b"labels": labels, b"data": pixels,
                   b"filenames": [b"x.png"] * per_batch}  # fmt: skip
        (folder / name).write_bytes(pickle.dumps(content, protocol=2))
        batches[name] = (pixels, labels)
    if meta:
        content = {b"label_names": CIFAR_NAMES, b"num_cases_per_batch": per_batch}
        (folder / "batches.meta").write_bytes(pickle.dumps(content, protocol=2))
    return batches


AG_ROWS = [
    ["3", "Stocks, bonds rally", 'Investors cheer "soft landing", analysts say.'],
    ["1", "Talks resume", "Envoys meet in Geneva, again."],
    ["2", "Cup final", "A late goal, a \\ backslash and #39;quotes#39;."],
    ["4", "New chip", "Faster, cooler, cheaper."],
    ["1", "Summit ends", "Leaders sign accord."],
    ["2", "Coach fired", "Club acts after loss."],
    ["3", "Oil climbs", "Prices up 3%."],
    ["4", "Probe lands", 'Mission "a success".'],
]


def write_ag_csv(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return path


def make_ag_news(folder: Path):
    write_ag_csv(folder / "train.csv", AG_ROWS)
    write_ag_csv(folder / "test.csv", AG_ROWS[:4])


# ----------------------------------------------------------------------------- API basics


def test_names_and_exports():
    assert set(DATASETS) == {"mnist", "cifar10", "ag_news", "digits", "mnist5k", "topics"}
    assert set(EMBEDDED_DATASETS) <= set(DATASETS)
    assert all("offline" in DATASETS[name] for name in EMBEDDED_DATASETS)
    assert data.SHAPES and callable(data.sample_shape)  # synthetic exports kept


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'") as info:
        load_dataset("imagenet")
    for name in DATASETS:
        assert name in str(info.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_train": -1}, "n_train"),
        ({"n_test": 2.5}, "n_test"),
        ({"seed": -3}, "seed"),
        ({"download": "yes"}, "download"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_dataset("topics", **kwargs)


def test_results_are_frozen():
    splits = load_dataset("topics", n_train=8, n_test=4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        splits.name = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        splits.train.labels = None


# ----------------------------------------------------------------------------- MNIST


def test_mnist_standard_layout(tmp_path):
    arrays = make_mnist(tmp_path / "MNIST" / "raw")
    splits = load_dataset("mnist", data_dir=tmp_path)
    assert splits.train.inputs.shape == (30, 1, 28, 28)
    assert splits.test.inputs.shape == (20, 1, 28, 28)
    assert splits.train.inputs.dtype == np.float32 and splits.train.labels.dtype == np.int64
    assert 0.0 <= splits.train.inputs.min() and splits.train.inputs.max() <= 1.0
    np.testing.assert_allclose(splits.train.inputs[:, 0] * 255, arrays["train"][0], atol=1e-3)
    np.testing.assert_array_equal(splits.test.labels, arrays["t10k"][1])
    assert splits.n_classes == 10 and splits.class_names[3] == "3"
    assert str(tmp_path / "MNIST" / "raw") in splits.source
    assert "md5 differs" in splits.source  # small files are not the published originals


def test_mnist_uncompressed_files_and_own_folder(tmp_path):
    folder = tmp_path / "MNIST" / "raw"
    make_mnist(folder, compress=False)
    splits = load_dataset("mnist", data_dir=folder, n_train=10, n_test=0)
    assert splits.train.inputs.shape == (10, 1, 28, 28)
    assert splits.test.inputs.shape == (0, 1, 28, 28)
    assert np.bincount(splits.train.labels).tolist() == [1] * 10  # stratified


def test_mnist_truncated_gz_names_the_file(tmp_path):
    folder = tmp_path / "MNIST" / "raw"
    make_mnist(folder)
    target = folder / "train-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:200])
    with pytest.raises(DatasetFormatError, match="truncated or corrupt") as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert str(target) in str(info.value) and "Delete" in str(info.value)
    # the test split alone still loads
    assert len(load_dataset("mnist", data_dir=tmp_path, n_train=0).test) == 20


def test_mnist_not_gzip_names_the_file(tmp_path):
    folder = tmp_path / "MNIST" / "raw"
    make_mnist(folder)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(DatasetFormatError, match="cannot be decompressed") as info:
        load_dataset("mnist", data_dir=tmp_path, n_train=0)
    assert str(target) in str(info.value)


def test_mnist_wrong_magic_names_the_file(tmp_path):
    folder = tmp_path / "MNIST" / "raw"
    make_mnist(folder)
    target = write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros((20, 28, 28)), 0x803)
    with pytest.raises(DatasetFormatError, match="wrong magic number 0x00000803") as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert str(target) in str(info.value)


def test_mnist_header_and_count_mismatches(tmp_path):
    folder = tmp_path / "MNIST" / "raw"
    make_mnist(folder)
    target = folder / "train-labels-idx1-ubyte.gz"
    payload = gzip.decompress(target.read_bytes())
    target.write_bytes(gzip.compress(payload[:-5]))  # header says 30 labels, file holds 25
    with pytest.raises(DatasetFormatError, match="announces 30 = 30 bytes"):
        load_dataset("mnist", data_dir=tmp_path)
    write_idx(target, np.zeros(29), 0x801)  # consistent file, but 29 labels for 30 images
    with pytest.raises(DatasetFormatError, match="30 images but .* 29 labels"):
        load_dataset("mnist", data_dir=tmp_path)


# ----------------------------------------------------------------------------- CIFAR-10


def test_cifar_batches_folder(tmp_path):
    batches = make_cifar(tmp_path / "cifar-10-batches-py")
    # the original batches were pickled by numpy 1: name its module path as they do
    legacy = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    content = legacy.read_bytes()
    if b"numpy._core.multiarray" in content:
        legacy.write_bytes(content.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    splits = load_dataset("cifar10", data_dir=tmp_path)
    assert splits.train.inputs.shape == (30, 3, 32, 32)
    assert splits.test.inputs.shape == (6, 3, 32, 32)
    assert splits.train.inputs.dtype == np.float32 and splits.test.labels.dtype == np.int64
    pixels, labels = batches["test_batch"]
    # rows hold the red plane, then green, then blue, each row-major 32 x 32
    np.testing.assert_allclose(splits.test.inputs[0, 1, 0, 0] * 255, pixels[0, 1024], atol=1e-3)
    np.testing.assert_allclose(splits.test.inputs[2, 2, 31, 31] * 255, pixels[2, -1], atol=1e-3)
    np.testing.assert_array_equal(splits.test.labels, labels)
    np.testing.assert_array_equal(splits.train.labels[:6], batches["data_batch_1"][1])
    assert splits.class_names[0] == "airplane" and splits.n_classes == 10
    assert "cifar-10-batches-py" in splits.source


def test_cifar_tarball_is_extracted_atomically(tmp_path):
    source = tmp_path / "build"
    make_cifar(source / "cifar-10-batches-py", meta=False)
    root = tmp_path / "data"
    root.mkdir()
    with tarfile.open(root / "cifar-10-python.tar.gz", "w:gz") as archive:
        archive.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    assert dataset_status(root)["cifar10"][0]  # the tarball counts as present
    splits = load_dataset("cifar10", data_dir=root, download=False)
    assert splits.train.inputs.shape == (30, 3, 32, 32)
    assert "extracted" in splits.source
    assert splits.class_names[-1] == "truck"  # standard names without batches.meta
    assert sorted(p.name for p in root.iterdir()) == [
        "cifar-10-batches-py",
        "cifar-10-python.tar.gz",
    ]
    assert load_dataset("cifar10", data_dir=root).train.inputs.shape == (30, 3, 32, 32)


def test_cifar_corrupt_tarball_names_it(tmp_path):
    tarball = tmp_path / "cifar-10-python.tar.gz"
    tarball.write_bytes(gzip.compress(b"not a tar archive at all" * 40)[:100])
    with pytest.raises(DatasetFormatError, match="cannot be extracted") as info:
        load_dataset("cifar10", data_dir=tmp_path)
    assert str(tarball) in str(info.value)
    assert not (tmp_path / "cifar-10-batches-py").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["cifar-10-python.tar.gz"]  # no temp left


@pytest.mark.parametrize(
    "payload, match",
    [
        (b"garbage, not a pickle", "not a readable CIFAR-10 pickle"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]})[:-40],
         "not a readable CIFAR-10 pickle"),
        (pickle.dumps({b"labels": [0, 1]}), "no 'data' entry"),
        (pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}), "N x 3072"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 12]}), "0-9"),
        (pickle.dumps([1, 2, 3]), "expected the dict"),
    ],
)  # fmt: skip
def test_cifar_bad_batch_names_the_file(tmp_path, payload, match):
    folder = tmp_path / "cifar-10-batches-py"
    make_cifar(folder)
    (folder / "data_batch_3").write_bytes(payload)
    with pytest.raises(DatasetFormatError, match=match) as info:
        load_dataset("cifar10", data_dir=tmp_path)
    assert str(folder / "data_batch_3") in str(info.value)
    assert load_dataset("cifar10", data_dir=tmp_path, n_train=0).test.inputs.shape[0] == 6


class _Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_cifar_pickle_cannot_run_code(tmp_path, capsys):
    folder = tmp_path / "cifar-10-batches-py"
    make_cifar(folder)
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": _Exploit(), b"labels": []}))
    with pytest.raises(DatasetFormatError, match="unexpected object builtins.print"):
        load_dataset("cifar10", data_dir=tmp_path, n_train=0)
    assert "never run" not in capsys.readouterr().out


# ----------------------------------------------------------------------------- AG News


def test_ag_news_csv(tmp_path):
    make_ag_news(tmp_path / "ag_news_csv")
    splits = load_dataset("ag_news", data_dir=tmp_path)
    assert isinstance(splits.train.inputs, list) and len(splits.train) == 8
    assert (
        splits.train.inputs[0]
        == 'Stocks, bonds rally Investors cheer "soft landing", analysts say.'
    )
    assert "\\ backslash" in splits.train.inputs[2]  # kept verbatim
    assert splits.train.labels.tolist() == [2, 0, 1, 3, 0, 1, 2, 3]
    assert splits.train.labels.dtype == np.int64
    assert splits.class_names == ("World", "Sports", "Business", "Sci/Tech")
    (tmp_path / "ag_news_csv" / "classes.txt").write_text("W\nS\nB\nT\n")
    assert load_dataset("ag_news", data_dir=tmp_path).class_names == ("W", "S", "B", "T")


@pytest.mark.parametrize(
    "bad_line, match",
    [
        ('"2","only a title"\n', "expected 3 fields"),
        ('"2","a","b","c"\n', "expected 3 fields"),
        ('"5","title","text"\n', "class must be 1, 2, 3 or 4"),
        ('"1","title","unclosed quote\n', "broken CSV quoting"),
    ],
)
def test_ag_news_malformed_row_gives_file_and_line(tmp_path, bad_line, match):
    folder = tmp_path / "ag_news_csv"
    make_ag_news(folder)
    with open(folder / "test.csv", "a", encoding="utf-8") as handle:
        handle.write(bad_line)
    with pytest.raises(DatasetFormatError, match=match) as info:
        load_dataset("ag_news", data_dir=tmp_path)
    assert f"{folder / 'test.csv'}, line 5" in str(info.value)


def test_ag_news_test_only_folder(tmp_path):
    folder = tmp_path / "ag_news_test_only"
    write_ag_csv(folder / "test.csv", AG_ROWS)
    with pytest.raises(DatasetNotFoundError, match="train.csv") as info:
        load_dataset("ag_news", data_dir=folder)
    assert "pass n_train=0" in str(info.value)
    splits = load_dataset("ag_news", data_dir=folder, n_train=0)
    assert len(splits.train) == 0 and splits.train.inputs == [] and len(splits.test) == 8


# ----------------------------------------------------------------------------- missing, download


@pytest.mark.parametrize("name, expected", [
    ("mnist", "MNIST/raw/train-images-idx3-ubyte.gz"),
    ("cifar10", "cifar-10-batches-py/data_batch_1"),
    ("ag_news", "ag_news_csv/train.csv"),
])  # fmt: skip
def test_missing_dataset_offline_teaches(tmp_path, monkeypatch, name, expected):
    monkeypatch.setenv("HELPERS_DATA_DIR", str(tmp_path))
    start = time.perf_counter()
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset(name)
    assert time.perf_counter() - start < 2
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    assert str(tmp_path / expected) in message
    assert "environment variable HELPERS_DATA_DIR" in message  # how the folder was chosen
    assert "data_dir=" in message and "network is unreachable" in message
    assert "digits" in message  # the offline alternative
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_download_false_never_probes(tmp_path, monkeypatch):
    def probe(*args, **kwargs):
        raise AssertionError("probed the network")

    monkeypatch.setattr(_download, "network_available", probe)
    with pytest.raises(DatasetNotFoundError, match="download=False"):
        load_dataset("mnist", data_dir=tmp_path, download=False)


def _serve_from(folder: Path):
    """A fake transfer that copies the file named at the end of the URL from ``folder``."""

    def transfer(url, target, md5):
        target.write_bytes((folder / url.rsplit("/", 1)[-1]).read_bytes())

    return transfer


def test_fetch_url_verifies_md5_and_lands_atomically(tmp_path, monkeypatch):
    served = tmp_path / "server"
    served.mkdir()
    (served / "file.bin").write_bytes(b"payload")
    monkeypatch.setattr(_download, "_retrieve", _serve_from(served))
    target = tmp_path / "data" / "file.bin"
    good = hashlib.md5(b"payload").hexdigest()
    with pytest.raises(_download.DownloadError, match="expected 0123"):
        _download.fetch_url("https://example.org/file.bin", target, "0123")
    assert not target.parent.exists() or not any(target.parent.iterdir())
    _download.fetch_url("https://example.org/file.bin", target, good)
    assert target.read_bytes() == b"payload"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


def test_download_path_with_checksums(tmp_path, monkeypatch):
    served = tmp_path / "server"
    make_ag_news(served)
    monkeypatch.setattr(_download, "_retrieve", _serve_from(served))
    monkeypatch.setattr(_download, "network_available", lambda *args, **kwargs: True)
    root = tmp_path / "data"
    # the published md5s do not match these small files: nothing lands, the error says why
    with pytest.raises(DatasetNotFoundError, match="download failed.*md5") as info:
        load_dataset("ag_news", data_dir=root)
    assert "train.csv" in str(info.value)
    assert not (root / "ag_news_csv" / "train.csv").exists()
    # with checksums that match, the files land in the standard layout
    md5s = {
        key: (name, real.md5_of(served / name)) for key, (name, _) in real.AG_NEWS_FILES.items()
    }
    monkeypatch.setattr(real, "AG_NEWS_FILES", md5s)
    splits = load_dataset("ag_news", data_dir=root)
    assert len(splits.train) == 8 and "downloaded and md5-verified" in splits.source
    assert sorted(p.name for p in (root / "ag_news_csv").iterdir()) == ["test.csv", "train.csv"]


def test_download_mnist_and_cifar_land_in_standard_layout(tmp_path, monkeypatch):
    served = tmp_path / "server"
    make_mnist(served)
    make_cifar(served / "cifar-10-batches-py")
    with tarfile.open(served / "cifar-10-python.tar.gz", "w:gz") as archive:
        archive.add(served / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    monkeypatch.setattr(_download, "_retrieve", _serve_from(served))
    monkeypatch.setattr(_download, "network_available", lambda *args, **kwargs: True)
    mnist_md5 = {
        key: (name, real.md5_of(served / f"{name}.gz"))
        for key, (name, _) in real.MNIST_FILES.items()
    }
    monkeypatch.setattr(real, "MNIST_FILES", mnist_md5)
    tarball_md5 = real.md5_of(served / "cifar-10-python.tar.gz")
    monkeypatch.setattr(real, "CIFAR_TARBALL", ("cifar-10-python.tar.gz", tarball_md5))
    root = tmp_path / "data"
    mnist = load_dataset("mnist", data_dir=root)
    assert mnist.train.inputs.shape == (30, 1, 28, 28) and "downloaded" in mnist.source
    assert len(list((root / "MNIST" / "raw").iterdir())) == 4
    cifar = load_dataset("cifar10", data_dir=root, n_train=0)
    assert cifar.test.inputs.shape == (6, 3, 32, 32) and "downloaded" in cifar.source
    assert (root / "cifar-10-batches-py" / "batches.meta").is_file()
    assert sorted(p.name for p in root.iterdir()) == [
        "MNIST", "cifar-10-batches-py", "cifar-10-python.tar.gz",
    ]  # fmt: skip


def test_download_true_replaces_non_original_files(tmp_path, monkeypatch):
    make_mnist(tmp_path / "MNIST" / "raw")

    def probe(*args, **kwargs):
        raise AssertionError("download=True must not probe")

    monkeypatch.setattr(_download, "network_available", probe)

    def unreachable(url, target, md5):
        raise OSError("network unreachable")

    monkeypatch.setattr(_download, "_retrieve", unreachable)
    with pytest.raises(_download.DownloadError, match="download=True asked to replace"):
        load_dataset("mnist", data_dir=tmp_path, download=True)
    assert len(load_dataset("mnist", data_dir=tmp_path).train) == 30  # files left as they were


def test_network_probe_times_out_quickly(monkeypatch):
    monkeypatch.undo()  # the real probe, with a socket that hangs

    def hang(*args, **kwargs):
        time.sleep(1.0)
        raise OSError("no answer")

    monkeypatch.setattr(_download.socket, "create_connection", hang)
    start = time.perf_counter()
    assert _download.network_available("example.org", timeout=0.2) is False
    assert time.perf_counter() - start < 1


# ----------------------------------------------------------------------------- status


def test_dataset_status(tmp_path):
    status = dataset_status(tmp_path)
    assert set(status) == set(DATASETS)
    for name in ("mnist", "cifar10", "ag_news"):
        present, detail = status[name]
        assert not present and str(tmp_path) in detail and "HELPERS_DATA_DIR" in detail
    assert all(status[name][0] for name in EMBEDDED_DATASETS)
    make_mnist(tmp_path / "MNIST" / "raw")
    write_ag_csv(tmp_path / "ag_news_csv" / "test.csv", AG_ROWS)
    status = dataset_status(tmp_path)
    assert status["mnist"][0] and "md5 differs" in status["mnist"][1]
    assert not status["ag_news"][0] and "n_train=0" in status["ag_news"][1]


def test_published_checksums_match_torchvision():
    datasets = pytest.importorskip("torchvision.datasets")
    assert dict(datasets.MNIST.resources) == {
        name + ".gz": md5 for name, md5 in real.MNIST_FILES.values()
    }
    cifar = dict(datasets.CIFAR10.train_list + datasets.CIFAR10.test_list)
    cifar[datasets.CIFAR10.meta["filename"]] = datasets.CIFAR10.meta["md5"]
    assert cifar == real.CIFAR_FILES
    assert datasets.CIFAR10.tgz_md5 == real.CIFAR_TARBALL[1]


# ----------------------------------------------------------------------------- embedded


def test_digits_offline_and_deterministic():
    splits = load_dataset("digits")
    assert splits.train.inputs.shape == (1297, 1, 8, 8)
    assert splits.test.inputs.shape == (500, 1, 8, 8)
    assert splits.train.inputs.dtype == np.float32 and splits.train.labels.dtype == np.int64
    assert splits.train.inputs.min() == 0.0 and splits.train.inputs.max() == 1.0
    assert splits.source.startswith("embedded")
    everything = np.concatenate([splits.train.labels, splits.test.labels])
    expected = 500 * np.bincount(everything) / len(everything)
    assert np.all(np.abs(np.bincount(splits.test.labels) - expected) <= 1)  # stratified
    again = load_dataset("digits")
    np.testing.assert_array_equal(again.test.inputs, splits.test.inputs)
    other = load_dataset("digits", seed=1)
    assert not np.array_equal(other.test.labels, splits.test.labels)
    small = load_dataset("digits", n_train=100, n_test=50)
    assert len(small.train) == 100 and np.bincount(small.train.labels).tolist() == [10] * 10


def test_mnist5k_offline():
    splits = load_dataset("mnist5k", n_test=200)
    assert splits.train.inputs.shape == (4000, 1, 28, 28)
    assert splits.test.inputs.shape == (200, 1, 28, 28)
    assert np.bincount(splits.train.labels).tolist() == [400] * 10
    assert 0.0 <= splits.train.inputs.min() and splits.train.inputs.max() <= 1.0


def test_n_train_too_big():
    with pytest.raises(ValueError, match="only 1297 examples"):
        load_dataset("digits", n_train=5000)
    with pytest.raises(ValueError, match="n_test=501"):
        load_dataset("digits", n_test=501)


# ----------------------------------------------------------------------------- topics


def test_topics_structure_and_determinism():
    splits = load_dataset("topics", n_train=400, n_test=2000, seed=3)
    assert len(splits.train) == 400 and isinstance(splits.test.inputs[0], str)
    assert np.bincount(splits.test.labels).tolist() == [500] * 4
    assert splits.class_names == ("sports", "science", "business", "politics")
    model = data.topics_model()
    np.testing.assert_allclose(model.word_probs.sum(axis=1), 1.0)
    lengths = [len(text.split()) for text in splits.test.inputs]
    assert min(lengths) >= model.min_length and max(lengths) <= model.max_length
    assert set(" ".join(splits.test.inputs).split()) <= set(model.vocabulary)
    accuracy = model.bayes_accuracy(splits.test)
    assert 0.85 < accuracy < 0.97
    assert f"{accuracy:.3f}" in splits.description
    again = load_dataset("topics", n_train=400, n_test=2000, seed=3)
    assert again.test.inputs == splits.test.inputs
    assert (
        load_dataset("topics", n_train=400, n_test=2000, seed=4).test.inputs != splits.test.inputs
    )


# ----------------------------------------------------------------------------- shared data


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="no shared data folder on this machine")
def test_real_shared_data():
    mnist = load_dataset("mnist", data_dir=SHARED_DATA, n_train=1000, download=False)
    assert mnist.train.inputs.shape == (1000, 1, 28, 28) and len(mnist.test) == 10_000
    assert "md5 matches the published checksums" in mnist.source
    folder = SHARED_DATA / "ag_news_test_only"
    with pytest.raises(DatasetNotFoundError, match="train.csv"):
        load_dataset("ag_news", data_dir=folder, download=False)
    news = load_dataset("ag_news", data_dir=folder, n_train=0, download=False)
    assert len(news.test) == 7600 and np.bincount(news.test.labels).tolist() == [1900] * 4
    assert "md5 matches" in news.source
    status = dataset_status(SHARED_DATA)
    assert status["mnist"][0] and not status["cifar10"][0] and not status["ag_news"][0]


def test_missing_real_dataset_is_substituted_and_said(tmp_path):
    splits, note = data.load_dataset_or_substitute(
        "mnist", "digits", data_dir=tmp_path, download=False, n_train=100, n_test=50,
        substitute_sizes={"n_train": 40, "n_test": 20})
    assert splits.name == "digits" and len(splits.train) == 40
    assert "mnist is not available" in note and "digits" in note


def test_present_dataset_is_not_substituted():
    splits, note = data.load_dataset_or_substitute("digits", "mnist5k", n_train=30)
    assert splits.name == "digits" and note is None


def test_partial_copies_and_a_provenance_file_are_named_in_the_source(tmp_path):
    make_mnist(tmp_path / "MNIST" / "raw")
    (tmp_path / "PROVENANCE.txt").write_text(
        "How these files were made.\n\n"
        "    DEST/MNIST/raw/*-ubyte.gz      a resampled copy,\n"
        "                                   not the published digits\n"
        "    DEST/other/                    something else\n")
    splits = load_dataset("mnist", data_dir=tmp_path)
    # 30 / 20 rows instead of the published 60,000 / 10,000
    assert "the train split holds 30 of the published 60,000 rows (a partial copy)" in (
        splits.source)
    assert ("PROVENANCE.txt says: a resampled copy, not the published digits" in splits.source)
    assert "something else" not in splits.source
    (tmp_path / "PROVENANCE.txt").unlink()
    assert "PROVENANCE" not in load_dataset("mnist", data_dir=tmp_path).source
