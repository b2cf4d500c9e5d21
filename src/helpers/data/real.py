"""Readers for the real datasets in their standard on-disk layouts: MNIST, CIFAR-10, AG News.

Introduced in the chapter "Numerical entropy" (notebooks/01_numerical_entropy). Use them
through :func:`helpers.data.load_dataset`; this module holds the formats.

Layouts, relative to the data directory (``$HELPERS_DATA_DIR``, default ``./data``):

- MNIST: ``MNIST/raw/{train-images-idx3-ubyte,train-labels-idx1-ubyte,t10k-images-idx3-ubyte,
  t10k-labels-idx1-ubyte}.gz`` (torchvision's layout; the uncompressed files are read too).
- CIFAR-10: ``cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}`` (the Python
  pickles), or the tarball ``cifar-10-python.tar.gz``, which is extracted beside itself.
- AG News: ``ag_news_csv/{train,test}.csv`` (rows ``"class 1-4","title","description"``,
  no header) and optionally ``classes.txt``.

The data directory may also be the dataset's own folder (``.../MNIST/raw``,
``.../cifar-10-batches-py``, ``.../ag_news_csv`` or any folder holding those files).

Integrity policy. Downloads are checked against the published MD5s and land only if they
match. Files found on disk are checked *structurally* (gzip stream, IDX magic numbers and
dimensions, pickle contents, CSV fields), which catches truncation and mix-ups with a clear
error; their MD5 is compared with the published one only to *report* whether they are the
original files (in ``source`` and :func:`helpers.data.dataset_status`). That keeps small
hand-made files (the tests write such files) and re-compressed copies usable, while
``download=True`` replaces any file that differs from the published original.
"""

from __future__ import annotations

import csv
import gzip
import os
import pickle
import struct
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _download
from ._base import (
    DatasetFormatError,
    Split,
    empty_image_split,
    empty_text_split,
    image_split,
    md5_of,
)


@dataclass
class Found:
    """Where a dataset's files are: the folder used and each expected file (None if absent)."""

    root: Path
    folder: Path
    files: dict[str, Path | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def missing(self, keys) -> list[str]:
        """Keys among ``keys`` whose file is absent."""
        return [key for key in keys if self.files.get(key) is None]


def _fix_hint(path: Path) -> str:
    return (
        f"Delete {path} and load again (it is downloaded where the network is reachable), "
        "pass download=True to replace it with a fresh verified download, or copy a good copy "
        "of the file there."
    )


def _first_folder(candidates: list[Path], names: list[str]) -> Path | None:
    """The first candidate folder that holds any of ``names``."""
    for folder in candidates:
        if any((folder / name).is_file() for name in names):
            return folder
    return None


class RealDataset:
    """Interface shared by the three real datasets (see the concrete classes)."""

    name: str = ""
    title: str = ""
    host: str = ""
    split_keys: dict[str, list[str]] = {}
    image_shape: tuple[int, ...] | None = None

    def locate(self, root: Path) -> Found:  # pragma: no cover - interface
        raise NotImplementedError

    def layout(self, root: Path) -> list[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def layout_summary(self, root: Path) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def prepare(self, found: Found, keys: list[str]) -> Found:
        """Make missing files available without the network (e.g. from a tarball)."""
        return found

    def outdated(self, found: Found, keys: list[str]) -> list[str]:
        """Keys whose present file differs from the published original (for download=True)."""
        published = self.published_md5()
        stale = []
        for key in keys:
            path = found.files.get(key)
            expected = published.get(key)
            if path is not None and expected is not None and md5_of(path) != expected:
                stale.append(key)
        return stale

    def published_md5(self) -> dict[str, str]:
        """Published md5 per key of the file as stored (only for the canonical file names)."""
        return {}

    def checked_files(self, found: Found, keys: list[str]) -> dict[Path, str | None]:
        """Files read for ``keys`` mapped to their published md5, where one applies."""
        published = self.published_md5()
        out = {}
        for key in keys:
            path = found.files.get(key)
            if path is not None:
                out[path] = published.get(key) if self._is_canonical(key, path) else None
        return out

    def _is_canonical(self, key: str, path: Path) -> bool:
        return True

    def download(self, root: Path, found: Found, keys: list[str]) -> str:  # pragma: no cover
        raise NotImplementedError

    def read_split(self, found: Found, split: str) -> Split:  # pragma: no cover - interface
        raise NotImplementedError

    def class_names(self, found: Found) -> tuple[str, ...]:  # pragma: no cover - interface
        raise NotImplementedError

    def empty_split(self) -> Split:
        """An empty split of this dataset's input type."""
        if self.image_shape is None:
            return empty_text_split()
        return empty_image_split(self.image_shape)


# ============================================================================ MNIST

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train_labels": ("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432"),
    "test_images": ("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3"),
    "test_labels": ("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c"),
}
IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Read an IDX file (gzip-compressed if its name ends in .gz) of unsigned bytes.

    Raises
    ------
    DatasetFormatError
        If the gzip stream is truncated or corrupt, the magic number is not ``magic``, or the
        payload size disagrees with the dimensions in the header. The message names the file.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                raw = handle.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetFormatError(
            f"{path}: cannot be decompressed ({error}); the file is truncated or corrupt. "
            + _fix_hint(path)
        ) from error
    kind = "image" if magic == IDX_IMAGES_MAGIC else "label"
    if len(raw) < 4:
        raise DatasetFormatError(
            f"{path}: only {len(raw)} bytes, not an IDX file. " + _fix_hint(path)
        )
    found_magic = int.from_bytes(raw[:4], "big")
    if found_magic != magic:
        raise DatasetFormatError(
            f"{path}: wrong magic number {found_magic:#010x}, expected {magic:#010x} for an MNIST "
            f"{kind} file (IDX, unsigned bytes, {magic & 0xFF} dimensions). Is it the right file, "
            "or an HTML error page saved by a failed download? " + _fix_hint(path)
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetFormatError(f"{path}: IDX header is truncated. " + _fix_hint(path))
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != expected:
        raise DatasetFormatError(
            f"{path}: the header announces {' x '.join(map(str, dims))} = {expected} bytes of "
            f"data but the file holds {len(raw) - header}; it is truncated or corrupt. "
            + _fix_hint(path)
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


class Mnist(RealDataset):
    """MNIST handwritten digits from the four original IDX files."""

    name = "mnist"
    title = "MNIST"
    host = "ossci-datasets.s3.amazonaws.com"
    split_keys = {"train": ["train_images", "train_labels"], "test": ["test_images", "test_labels"]}
    image_shape = (1, 28, 28)

    def locate(self, root: Path) -> Found:
        names = [base + suffix for base, _ in MNIST_FILES.values() for suffix in (".gz", "")]
        candidates = [root / "MNIST" / "raw", root / "raw", root]
        folder = _first_folder(candidates, names) or candidates[0]
        files = {}
        for key, (base, _) in MNIST_FILES.items():
            compressed, plain = folder / f"{base}.gz", folder / base
            files[key] = compressed if compressed.is_file() else plain if plain.is_file() else None
        return Found(root, folder, files)

    def layout(self, root: Path) -> list[str]:
        return [f"{root / 'MNIST' / 'raw' / (base + '.gz')}" for base, _ in MNIST_FILES.values()]

    def layout_summary(self, root: Path) -> str:
        names = ",".join(base for base, _ in MNIST_FILES.values())
        return f"{root / 'MNIST' / 'raw'}/{{{names}}}.gz"

    def published_md5(self) -> dict[str, str]:
        return {key: md5 for key, (_, md5) in MNIST_FILES.items()}

    def _is_canonical(self, key: str, path: Path) -> bool:
        return path.suffix == ".gz"

    def outdated(self, found: Found, keys: list[str]) -> list[str]:
        stale = super().outdated(found, keys)
        # an uncompressed file has no published md5: fetch the original .gz beside it
        return stale + [k for k in keys if found.files.get(k) and found.files[k].suffix != ".gz"]

    def download(self, root: Path, found: Found, keys: list[str]) -> str:
        fetched = []
        for key in keys:
            base, md5 = MNIST_FILES[key]
            errors = []
            for mirror in MNIST_MIRRORS:
                try:
                    _download.fetch_url(mirror + base + ".gz", found.folder / f"{base}.gz", md5)
                    fetched.append(f"{base}.gz from {mirror}")
                    break
                except _download.DownloadError as error:
                    errors.append(str(error))
            else:
                raise _download.DownloadError("; ".join(errors))
        return "downloaded and md5-verified: " + ", ".join(fetched)

    def read_split(self, found: Found, split: str) -> Split:
        images_path = found.files[f"{split}_images"]
        labels_path = found.files[f"{split}_labels"]
        images = read_idx(images_path, IDX_IMAGES_MAGIC)
        labels = read_idx(labels_path, IDX_LABELS_MAGIC)
        if images.shape[1:] != (28, 28):
            raise DatasetFormatError(
                f"{images_path}: images are {images.shape[1]} x {images.shape[2]}, MNIST's are "
                "28 x 28. " + _fix_hint(images_path)
            )
        if len(images) != len(labels):
            raise DatasetFormatError(
                f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} "
                "labels; the two files do not belong together. " + _fix_hint(labels_path)
            )
        if labels.size and labels.max() > 9:
            raise DatasetFormatError(
                f"{labels_path}: label {int(labels.max())} is outside 0-9. "
                + _fix_hint(labels_path)
            )
        return image_split(images[:, None, :, :] / np.float32(255), labels)

    def class_names(self, found: Found) -> tuple[str, ...]:
        return tuple(str(digit) for digit in range(10))


# ============================================================================ CIFAR-10

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR_TARBALL = ("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a")
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_FILES = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
CIFAR_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

# The only globals a CIFAR-10 batch may name: numpy arrays and the bytes codec.
_PICKLE_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),
}


class _BatchUnpickler(pickle.Unpickler):
    """Unpickler that builds only numpy arrays, so a stray pickle cannot run code."""

    def find_class(self, module, name):
        if (module, name) not in _PICKLE_ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a CIFAR-10 batch")
        if module.startswith("numpy.core.") and hasattr(np, "_core"):
            module = "numpy._core." + module.split(".", 2)[2]  # numpy 2 name, no warning
        return super().find_class(module, name)


def read_pickle(path: Path) -> dict:
    """Unpickle a CIFAR-10 file (Python 2 pickles, bytes keys) with numpy-only globals."""
    try:
        with open(path, "rb") as handle:
            content = _BatchUnpickler(handle, encoding="bytes").load()
    except Exception as error:  # truncated (EOFError), garbage (UnpicklingError), etc.
        raise DatasetFormatError(
            f"{path}: not a readable CIFAR-10 pickle ({type(error).__name__}: {error}); the file "
            "is truncated, corrupt or of another format. " + _fix_hint(path)
        ) from error
    if not isinstance(content, dict):
        raise DatasetFormatError(
            f"{path}: holds a {type(content).__name__}, expected the dict of a CIFAR-10 batch. "
            + _fix_hint(path)
        )
    return {
        key.decode("latin1") if isinstance(key, bytes) else key: v for key, v in content.items()
    }


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images uint8 (N, 3, 32, 32), labels int64)`` from one CIFAR-10 batch file."""
    content = read_pickle(path)
    for key in ("data", "labels"):
        if key not in content:
            raise DatasetFormatError(
                f"{path}: no {key!r} entry (found {sorted(content)}); not a CIFAR-10 batch. "
                + _fix_hint(path)
            )
    data = np.asarray(content["data"])
    labels = np.asarray(content["labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DatasetFormatError(
            f"{path}: 'data' is {data.dtype} with shape {data.shape}, expected uint8 N x 3072 "
            "(3 x 32 x 32 pixels per row). " + _fix_hint(path)
        )
    if labels.ndim != 1 or len(labels) != len(data):
        raise DatasetFormatError(
            f"{path}: {len(data)} images but labels of shape {labels.shape}. " + _fix_hint(path)
        )
    if labels.size and (labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9):
        raise DatasetFormatError(f"{path}: labels must be integers 0-9. " + _fix_hint(path))
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def extract_tarball(tarball: Path, target: Path, names: list[str], *, replace: bool) -> list[str]:
    """Extract ``names`` of ``cifar-10-batches-py/`` from ``tarball`` into ``target``, atomically.

    The archive is unpacked into a temporary folder beside ``target``; then either the whole
    folder is renamed into place (``target`` absent) or each file is renamed in, so a reader
    sees each file complete or not at all. Returns the names placed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    placed = []
    with tempfile.TemporaryDirectory(prefix=".extract-", dir=target.parent) as folder:
        try:
            with tarfile.open(tarball, "r:gz") as archive:
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(folder, filter="data")
                else:  # pragma: no cover - Python without extraction filters
                    for member in archive.getmembers():
                        if member.name.startswith(("/", "..")) or ".." in Path(member.name).parts:
                            raise tarfile.TarError(f"unsafe member {member.name}")
                    archive.extractall(folder)  # noqa: S202 - members checked above
        except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
            raise DatasetFormatError(
                f"{tarball}: cannot be extracted ({error}); the tarball is truncated or corrupt. "
                + _fix_hint(tarball)
            ) from error
        extracted = Path(folder) / CIFAR_FOLDER
        absent = [name for name in names if not (extracted / name).is_file()]
        if absent:
            raise DatasetFormatError(
                f"{tarball}: has no {CIFAR_FOLDER}/{', '.join(absent)}; not the CIFAR-10 python "
                "tarball. " + _fix_hint(tarball)
            )
        if not target.exists():
            try:
                os.replace(extracted, target)
                return sorted(p.name for p in target.iterdir())
            except OSError:  # another process created it meanwhile: place file by file
                if not target.is_dir():
                    raise
        for name in names:
            if replace or not (target / name).exists():
                os.replace(extracted / name, target / name)
                placed.append(name)
    return placed


class Cifar10(RealDataset):
    """CIFAR-10 from the Python pickles (or the tarball holding them)."""

    name = "cifar10"
    title = "CIFAR-10"
    host = "www.cs.toronto.edu"
    split_keys = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
    image_shape = (3, 32, 32)

    def locate(self, root: Path) -> Found:
        folder = (
            _first_folder([root / CIFAR_FOLDER, root], list(CIFAR_FILES)) or root / CIFAR_FOLDER
        )
        files = {name: folder / name if (folder / name).is_file() else None for name in CIFAR_FILES}
        tarball = root / CIFAR_TARBALL[0]
        files["tarball"] = tarball if tarball.is_file() else None
        return Found(root, folder, files)

    def layout(self, root: Path) -> list[str]:
        folder = root / CIFAR_FOLDER
        return [f"{folder / name}" for name in CIFAR_FILES] + [
            f"or the tarball {root / CIFAR_TARBALL[0]} (extracted on first use)"
        ]

    def layout_summary(self, root: Path) -> str:
        return (
            f"{root / CIFAR_FOLDER}/{{data_batch_1..5,test_batch,batches.meta}} "
            f"or the tarball {root / CIFAR_TARBALL[0]}"
        )

    def published_md5(self) -> dict[str, str]:
        return {**CIFAR_FILES, "tarball": CIFAR_TARBALL[1]}

    def prepare(self, found: Found, keys: list[str]) -> Found:
        missing = found.missing(keys)
        if missing and found.files.get("tarball") is not None:
            tarball = found.files["tarball"]
            placed = extract_tarball(tarball, found.folder, missing, replace=False)
            found = self.locate(found.root)
            found.notes.append(f"extracted {', '.join(placed)} from {tarball}")
        return found

    def download(self, root: Path, found: Found, keys: list[str]) -> str:
        tarball = root / CIFAR_TARBALL[0]
        note = []
        if found.files.get("tarball") is None or md5_of(tarball) != CIFAR_TARBALL[1]:
            _download.fetch_url(CIFAR_URL, tarball, CIFAR_TARBALL[1])
            note.append(f"downloaded and md5-verified {CIFAR_URL}")
        names = list(keys) + (["batches.meta"] if found.files.get("batches.meta") is None else [])
        placed = extract_tarball(tarball, found.folder, names, replace=True)
        note.append(f"extracted {', '.join(placed)}")
        return "; ".join(note)

    def read_split(self, found: Found, split: str) -> Split:
        parts = [read_cifar_batch(found.files[key]) for key in self.split_keys[split]]
        images = np.concatenate([images for images, _ in parts])
        labels = np.concatenate([labels for _, labels in parts])
        return image_split(images / np.float32(255), labels)

    def class_names(self, found: Found) -> tuple[str, ...]:
        path = found.files.get("batches.meta")
        if path is None:
            return CIFAR_CLASSES
        content = read_pickle(path)
        names = content.get("label_names")
        if not isinstance(names, (list, tuple)) or len(names) != 10:
            raise DatasetFormatError(
                f"{path}: expected 'label_names' with 10 entries. " + _fix_hint(path)
            )
        return tuple(n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names)


# ============================================================================ AG News

AG_NEWS_FOLDER = "ag_news_csv"
AG_NEWS_MIRROR = (
    "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/"
)
# Published in torchtext (pytorch/text, torchtext/datasets/ag_news.py) for this mirror.
AG_NEWS_FILES = {
    "train": ("train.csv", "b1a00f826fdfbd249f79597b59e1dc12"),
    "test": ("test.csv", "d52ea96a97a2d943681189a97654912d"),
}
AG_NEWS_CLASSES = ("World", "Sports", "Business", "Sci/Tech")


def read_ag_news_csv(path: Path) -> tuple[list[str], np.ndarray]:
    """Read an AG News CSV file: rows ``"class","title","description"`` with class 1-4.

    Returns the texts ``title + " " + description`` (both stripped, fields kept verbatim
    otherwise, including the corpus's backslashes and HTML entities such as ``#39;``) and the
    labels shifted to 0-3. Blank lines are skipped.

    Raises
    ------
    DatasetFormatError
        For a row without exactly three fields, a class outside 1-4, broken quoting, or text
        that is not UTF-8; the message gives the file and line number.
    """
    texts: list[str] = []
    labels: list[int] = []
    line = 1
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                for row in reader:
                    start, line = line, reader.line_num + 1
                    if not row:
                        continue
                    if len(row) != 3:
                        raise DatasetFormatError(
                            f"{path}, line {start}: expected 3 fields "
                            f'("class","title","description"), found {len(row)}: {row!r:.200}'
                        )
                    if row[0].strip() not in ("1", "2", "3", "4"):
                        raise DatasetFormatError(
                            f"{path}, line {start}: class must be 1, 2, 3 or 4, found {row[0]!r}."
                        )
                    labels.append(int(row[0]) - 1)
                    texts.append(f"{row[1].strip()} {row[2].strip()}".strip())
            except csv.Error as error:
                raise DatasetFormatError(
                    f"{path}, line {line}: broken CSV quoting ({error}). " + _fix_hint(path)
                ) from error
    except UnicodeDecodeError as error:
        raise DatasetFormatError(f"{path}: not UTF-8 text ({error}). " + _fix_hint(path)) from error
    return texts, np.asarray(labels, dtype=np.int64)


class AgNews(RealDataset):
    """AG News topic classification from the original CSV files."""

    name = "ag_news"
    title = "AG News"
    host = "raw.githubusercontent.com"
    split_keys = {"train": ["train"], "test": ["test"]}
    image_shape = None

    def locate(self, root: Path) -> Found:
        names = [name for name, _ in AG_NEWS_FILES.values()]
        folder = _first_folder([root / AG_NEWS_FOLDER, root], names) or root / AG_NEWS_FOLDER
        files = {}
        for key, (name, _) in AG_NEWS_FILES.items():
            files[key] = folder / name if (folder / name).is_file() else None
        return Found(root, folder, files)

    def layout(self, root: Path) -> list[str]:
        folder = root / AG_NEWS_FOLDER
        return [f"{folder / name}" for name, _ in AG_NEWS_FILES.values()] + [
            f"(optional) {folder / 'classes.txt'}"
        ]

    def layout_summary(self, root: Path) -> str:
        return f"{root / AG_NEWS_FOLDER}/{{train.csv,test.csv}}"

    def published_md5(self) -> dict[str, str]:
        return {key: md5 for key, (_, md5) in AG_NEWS_FILES.items()}

    def download(self, root: Path, found: Found, keys: list[str]) -> str:
        fetched = []
        for key in keys:
            name, md5 = AG_NEWS_FILES[key]
            _download.fetch_url(AG_NEWS_MIRROR + name, found.folder / name, md5)
            fetched.append(name)
        return f"downloaded and md5-verified {', '.join(fetched)} from {AG_NEWS_MIRROR}"

    def read_split(self, found: Found, split: str) -> Split:
        texts, labels = read_ag_news_csv(found.files[split])
        return Split(texts, labels)

    def class_names(self, found: Found) -> tuple[str, ...]:
        path = found.folder / "classes.txt"
        if not path.is_file():
            return AG_NEWS_CLASSES
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        names = [name for name in names if name]
        if len(names) != 4:
            raise DatasetFormatError(
                f"{path}: expected 4 class names, one a line, found {len(names)}. Delete it (the "
                "standard names are used without it) or repair it."
            )
        return tuple(names)


REAL = {dataset.name: dataset for dataset in (Mnist(), Cifar10(), AgNews())}
