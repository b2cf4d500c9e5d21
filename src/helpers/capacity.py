"""Measure your own representation: the book's question asked of any array of vectors.

Introduced in the appendix "Your own representation"
(``notebooks/09_your_own_representation``), which runs everything here on a file the reader
gives it, and exposed as a command::

    python -m helpers.capacity FILE [--bits 1 2 4 8] [--normalization global] [--json OUT]

The file is a ``.npy`` holding one float32 or float64 matrix (one representation per row),
or a ``.npz`` holding ``train`` and ``test`` matrices and, optionally, integer or string
``train_labels`` and ``test_labels``. :func:`load_representations` checks it completely
before anything is computed, and every problem gets an error that names the file and says
how to fix it (:class:`RepresentationFileError`).

:func:`measure_representation` then measures, with the chapters' own functions:

- the normalization to the unit cube: one global minimum and maximum (the book's units,
  :func:`helpers.measure.quantize.fit_unit_cube`) or one per coordinate, fitted on ``train`` (on the
  whole matrix for a ``.npy``);
- at every precision ``p``, on the measured points (``test``; the whole matrix for a
  ``.npy``): ``C_num(2^-p)``, log2 of the greedy net size, with the certified lower and
  upper bounds on the sample's covering number (:func:`helpers.measure.covering.capacity_curve`,
  chapters "Precision lower bound" and "Greedy covering"), the occupied grid cells, and the
  plug-in, Miller-Madow and Chao-Shen entropies of the codes
  (:func:`helpers.measure.information.entropy_estimates`, chapter "Numerical entropy"),
  all below the
  ``log2 n`` ceiling;
- the intrinsic dimension by MLE and TwoNN with bootstrap intervals
  (:mod:`helpers.measure.geometry`);
- with labels: linear-probe accuracy against precision, the collapse threshold
  (:func:`helpers.measure.thresholds.observed_collapse`) and the precision x dimension map
  (:func:`helpers.measure.probes.precision_dimension_map`);
- a verdict: the coarsest precision that keeps the probe within 5 points of full precision,
  and the precision from which ``C_num`` is within one bit of the ``log2 n`` ceiling (beyond
  it the sample size, not the representation, decides the value).

Large inputs are subsampled where an estimator's cost grows faster than linearly (intrinsic
dimension, probes and the map), at random with the given seed; the report says how many
points each figure used. The covering numbers, cells and entropies always use every measured
point.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from helpers.book.params import parse_bits_option

__all__ = [
    "DEFAULT_BITS",
    "MIN_POINTS",
    "NORMALIZATIONS",
    "CapacityReport",
    "RepresentationFile",
    "RepresentationFileError",
    "book_example",
    "load_representations",
    "main",
    "measure_representation",
    "save_representations",
    "verdict_text",
]

#: Precisions swept when none are given.
DEFAULT_BITS = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
#: Normalizations: the book's global unit cube, or one minimum and maximum per coordinate.
NORMALIZATIONS = ("global", "per-coordinate")
#: Fewest rows per matrix: the MLE intrinsic dimension averages over up to 20 neighbours, so
#: it needs more than 21 distinct points, and its bootstrap and the probes need some more.
MIN_POINTS = 50
#: Distinct points the intrinsic dimension needs: the MLE's 20 neighbours and the point itself.
_DIMENSION_POINTS = 21
#: A precision is "saturated" once C_num is within this many bits of log2 n (the chapters'
#: margin).
CEILING_MARGIN = 1.0
#: Collapse: probe accuracy more than this below full precision (5 points).
TOLERANCE = 0.05
#: Rows from which a progress bar is shown by the command.
PROGRESS_ROWS = 20_000

_ARRAYS = ("train", "test", "train_labels", "test_labels")
_SAVE_HINT = ("save it with np.savez(path, train=train_matrix, test=test_matrix) (labels "
              "optional: train_labels=..., test_labels=...), or a single matrix with "
              "np.save(path, matrix)")


class RepresentationFileError(ValueError):
    """A representation file that cannot be measured; the message names the file and the fix."""


@dataclass(frozen=True)
class RepresentationFile:
    """A checked representation file (:func:`load_representations`).

    Attributes
    ----------
    path : pathlib.Path
    train : numpy.ndarray of float64, shape (n_train, d)
        The rows the normalization is fitted on (the whole matrix of a ``.npy``).
    test : numpy.ndarray of float64 or None
        The rows that are measured; ``None`` for a ``.npy``, whose matrix is measured itself.
    train_labels, test_labels : numpy.ndarray of int64 or None
        Class indices (string labels are numbered in sorted order); ``classes`` holds the
        original labels.
    """

    path: Path
    train: np.ndarray = field(repr=False)
    test: np.ndarray | None = field(repr=False)
    train_labels: np.ndarray | None = field(default=None, repr=False)
    test_labels: np.ndarray | None = field(default=None, repr=False)
    classes: tuple = ()
    dtype: str = "float32"

    @property
    def measured(self) -> np.ndarray:
        """The rows every figure is measured on: ``test``, or the whole ``.npy`` matrix."""
        return self.train if self.test is None else self.test

    @property
    def has_labels(self) -> bool:
        return self.train_labels is not None

    @property
    def dim(self) -> int:
        return int(self.train.shape[1])

    def describe(self) -> str:
        """One line: file, shapes, dtype and labels."""
        if self.test is None:
            shapes = f"one matrix of {len(self.train):,} x {self.dim}"
        else:
            shapes = (f"train {len(self.train):,} x {self.dim}, test {len(self.test):,} x "
                      f"{self.dim}")
        labels = f", {len(self.classes)} classes" if self.has_labels else ", no labels"
        return f"{self.path.name}: {shapes} ({self.dtype}){labels}"


def _fail(path: Path, problem: str, fix: str):
    raise RepresentationFileError(f"{path}: {problem}. {fix}")


def _check_matrix(path: Path, name: str, array) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype.kind != "f" or array.dtype.itemsize < 4:
        if array.dtype == np.float16:
            problem = (f"array {name!r} is float16, whose 11-bit significand is itself a "
                       "coarse quantization and would be measured instead of your "
                       "representation")
        elif array.dtype.kind in "iub":
            problem = (f"array {name!r} holds {array.dtype} values: integer codes are "
                       "already quantized, so there is no full-precision representation "
                       "to measure")
        else:
            problem = f"array {name!r} has dtype {array.dtype}, not a floating-point type"
        _fail(path, problem, f"Save the full-precision representations as float32 or float64 "
                             f"(for example {name}.astype(np.float32)).")
    if array.ndim != 2:
        _fail(path, f"array {name!r} has {array.ndim} dimension(s), shape {array.shape}; a "
                    "representation file holds a 2-D matrix, one representation per row",
              "Flatten each representation into a row first, for example "
              f"{name}.reshape(len({name}), -1)." if array.ndim > 2 else
              "Give a matrix of shape (n, d): a single vector is one representation, not a "
              "sample, and a list of scalars is reshape(-1, 1).")
    if array.shape[1] < 1:
        _fail(path, f"array {name!r} has no columns (shape {array.shape})",
              "Save at least one coordinate per representation.")
    finite = np.isfinite(array)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        _fail(path, f"array {name!r} holds {int((~finite).sum()):,} NaN or infinite values in "
                    f"{len(bad_rows):,} rows (first row {int(bad_rows[0])})",
              "Remove or repair those rows before saving; a representation with NaN has no "
              "covering number.")
    return array


def _check_labels(path: Path, name: str, array, n_rows: int, matrix: str) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 1:
        _fail(path, f"array {name!r} has shape {array.shape}; labels are one per row",
              f"Save a 1-D array of {n_rows:,} class labels (integers or strings).")
    if array.dtype.kind not in "iuUSb":
        _fail(path, f"array {name!r} has dtype {array.dtype}; labels must be integers or "
                    "strings",
              f"Convert them, for example {name}.astype(np.int64) if they are whole numbers.")
    if len(array) != n_rows:
        _fail(path, f"array {name!r} has {len(array):,} labels but {matrix!r} has {n_rows:,} "
                    "rows",
              f"Give one label per row of {matrix!r}, in the same order.")
    return array


def _memory_bytes() -> int | None:
    """Physical memory of this machine in bytes (None where the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def _gib(size: int) -> str:
    return f"{size / 2**30:,.1f} GiB"


def _check_claimed_size(path: Path, name: str, handle, stored: int) -> None:
    """Refuse an array whose header claims more than the file holds or memory can take.

    NumPy allocates the whole array before reading it, so a damaged or hostile header (say
    10**12 x 256 values in a 1 kB file) would end in a raw ``MemoryError``; the header alone
    is read here, before anything is loaded. ``stored`` is the byte count of the array's
    entry (the file, or its member of an ``.npz``); headers NumPy cannot read are left to
    :func:`numpy.load`, which reports them.
    """
    from numpy.lib import format as npy_format

    try:
        version = npy_format.read_magic(handle)
        reader = {(1, 0): npy_format.read_array_header_1_0,
                  (2, 0): npy_format.read_array_header_2_0}.get(version)
        if reader is None:
            return
        shape, _, dtype = reader(handle)
        data = stored - handle.tell()
    except (OSError, ValueError, EOFError):
        return
    if dtype.hasobject or not shape:  # refused with their own messages after loading
        return
    values = math.prod(shape)
    claimed = values * dtype.itemsize
    if claimed > data:
        _fail(path, f"{name} claims shape {shape} ({dtype}, {claimed:,} bytes) but the "
                    f"file holds {max(data, 0):,} bytes of data: it is truncated or its header "
                    "is damaged", f"Write it again with NumPy: {_SAVE_HINT}.")
    memory = _memory_bytes()
    needed = values * 8  # measured in float64
    if memory is not None and needed > memory:
        _fail(path, f"{name} has shape {shape}, which needs {_gib(needed)} in float64, "
                    f"more than this machine's {_gib(memory)} of memory",
              "Measure a random subset of the rows, for example "
              "matrix[np.random.default_rng(0).choice(len(matrix), 100_000, replace=False)].")


def _check_sizes(path: Path, suffix: str) -> None:
    """:func:`_check_claimed_size` for the matrix of a ``.npy`` or every array of an ``.npz``."""
    import zipfile

    try:
        if suffix == ".npy":
            with open(path, "rb") as handle:
                _check_claimed_size(path, "the matrix", handle, path.stat().st_size)
            return
        if not zipfile.is_zipfile(path):
            return
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith(".npy"):
                    with archive.open(info) as handle:
                        _check_claimed_size(path, f"array {info.filename[:-4]!r}", handle,
                                            info.file_size)
    except (OSError, zipfile.BadZipFile):
        return  # unreadable: numpy.load names the problem


def _distinct_rows(matrix: np.ndarray, enough: int) -> int:
    """Distinct rows of ``matrix``, counted exactly up to ``enough`` (then any number >= it)."""
    for rows in (matrix[: 4 * enough], matrix):  # most files show enough in their first rows
        values = np.ascontiguousarray(rows + 0.0)  # + 0.0 turns -0.0 into 0.0: equal values
        count = len(np.unique(values.view(np.dtype((np.void, values.strides[0]))).ravel()))
        if count >= enough or len(rows) == len(matrix):
            return count
    return count


def load_representations(path) -> RepresentationFile:
    """Read and check a representation file before anything is computed.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.npy`` (one matrix) or ``.npz`` (``train``, ``test``, optionally
        ``train_labels`` and ``test_labels``).

    Returns
    -------
    RepresentationFile

    Raises
    ------
    RepresentationFileError
        A missing or unreadable file, a wrong or missing array name, an array that is not a
        2-D matrix, NaN or infinite values, float16 or integer values, label counts that do
        not match, matrices of different widths, a single class, fewer than
        :data:`MIN_POINTS` rows (or distinct rows in the measured matrix), or a header that
        claims more data than the file holds or than memory can take (checked before
        loading). The message names the file and the fix.
    """
    path = Path(path)
    if not path.is_file():
        _fail(path, "no such file" if not path.exists() else "not a file",
              "Give the path of a .npy or .npz file of representations.")
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".npz"):
        _fail(path, f"unknown file type {suffix or '(no extension)'!r}",
              f"Use a .npy or .npz file: {_SAVE_HINT}.")
    _check_sizes(path, suffix)
    try:
        loaded = np.load(path, allow_pickle=False)
    except MemoryError:
        _fail(path, "is too large to load into this machine's memory",
              "Measure a random subset of the rows, saved as a smaller file.")
    except (OSError, ValueError, EOFError) as error:
        _fail(path, f"cannot be read as a NumPy {suffix} file ({type(error).__name__}: "
                    f"{error})", f"Write it with NumPy: {_SAVE_HINT}.")
    if suffix == ".npy":
        if isinstance(loaded, np.lib.npyio.NpzFile):  # an .npz archive under a .npy name
            loaded.close()
            _fail(path, "is an .npz archive saved under a .npy name",
                  "Rename it to .npz so that its arrays are read by name.")
        train = _check_matrix(path, "the matrix", loaded)
        arrays = {"train": train}
        test = train_labels = test_labels = None
    else:
        with loaded:
            names = list(loaded.files)
            unknown = [name for name in names if name not in _ARRAYS]
            missing = [name for name in ("train", "test") if name not in names]
            if unknown or missing:
                found = ", ".join(repr(n) for n in names) or "none"
                problem = (f"unexpected array name(s) {', '.join(repr(n) for n in unknown)}"
                           if unknown else f"no array named {', '.join(map(repr, missing))}")
                _fail(path, f"{problem} (arrays found: {found}); the recognized names are "
                            f"{', '.join(_ARRAYS)}", f"Rename the arrays: {_SAVE_HINT}.")
            try:
                arrays = {name: loaded[name] for name in names}
            except MemoryError:
                _fail(path, "is too large to load into this machine's memory",
                      "Measure a random subset of the rows, saved as a smaller file.")
            except (OSError, ValueError) as error:
                _fail(path, f"an array cannot be read ({type(error).__name__}: {error})",
                      f"Write the file again with NumPy: {_SAVE_HINT}.")
        train = _check_matrix(path, "train", arrays["train"])
        test = _check_matrix(path, "test", arrays["test"])
        if test.shape[1] != train.shape[1]:
            _fail(path, f"'train' has {train.shape[1]} columns but 'test' has "
                        f"{test.shape[1]}", "Both must be representations by the same "
                        "encoder, of the same width.")
        has = [name in arrays for name in ("train_labels", "test_labels")]
        if any(has) and not all(has):
            given = "train_labels" if has[0] else "test_labels"
            _fail(path, f"only {given!r} is given", "Give both train_labels and test_labels, "
                  "or neither (then the probes are skipped).")
        train_labels = test_labels = None
        if all(has):
            train_labels = _check_labels(path, "train_labels", arrays["train_labels"],
                                         len(train), "train")
            test_labels = _check_labels(path, "test_labels", arrays["test_labels"],
                                        len(test), "test")
    for name, matrix in (("train", train), ("test", test)):
        if matrix is not None and len(matrix) < MIN_POINTS:
            label = "the matrix" if test is None else repr(name)
            _fail(path, f"{label} has {len(matrix)} rows; the estimators need at least "
                        f"{MIN_POINTS} (the intrinsic dimension averages over 20 nearest "
                        "neighbours)", f"Give at least {MIN_POINTS} representations per matrix.")
    measured = train if test is None else test
    distinct = _distinct_rows(measured, MIN_POINTS)
    if distinct < MIN_POINTS:
        label = "the matrix" if test is None else "'test'"
        _fail(path, f"{label} has {len(measured):,} rows but only {distinct} distinct ones; the "
                    f"estimators need at least {MIN_POINTS} distinct representations (repeated "
                    "rows add no points to measure: the intrinsic dimension drops them)",
              f"Give at least {MIN_POINTS} different representations, for example more inputs "
              "or a layer that has not collapsed.")
    classes: tuple = ()
    if train_labels is not None:
        if train_labels.dtype.kind != test_labels.dtype.kind and not (
                train_labels.dtype.kind in "iub" and test_labels.dtype.kind in "iub"):
            _fail(path, f"train_labels are {train_labels.dtype} but test_labels are "
                        f"{test_labels.dtype}", "Use the same kind of label in both.")
        both = np.concatenate([train_labels, test_labels])
        values, codes = np.unique(both, return_inverse=True)
        if len(np.unique(train_labels)) < 2:
            _fail(path, "train_labels hold a single class",
                  "A probe needs at least two classes; leave the labels out to measure "
                  "capacity only.")
        classes = tuple(v.item() for v in values)
        train_labels = codes[:len(train_labels)].astype(np.int64)
        test_labels = codes[len(train_labels):].astype(np.int64)
    dtype = str(train.dtype)
    return RepresentationFile(
        path=path, train=np.asarray(train, dtype=np.float64),
        test=None if test is None else np.asarray(test, dtype=np.float64),
        train_labels=train_labels, test_labels=test_labels, classes=classes, dtype=dtype)


def save_representations(path, train, test=None, *, train_labels=None,
                         test_labels=None) -> Path:
    """Write representations in the format :func:`load_representations` reads, atomically.

    With ``test`` given the file is an ``.npz`` (``path`` should end in ``.npz``); without, a
    ``.npy`` of the one matrix. The arrays are checked as the reader checks them, so a file
    written here always loads.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    from helpers._io import atomic_path

    path = Path(path)
    arrays = {"train": train} if test is None else {"train": train, "test": test}
    if train_labels is not None or test_labels is not None:
        arrays.update(train_labels=train_labels, test_labels=test_labels)
    if (test is None) != (path.suffix == ".npy") or path.suffix not in (".npy", ".npz"):
        raise ValueError(f"{path}: use a .npz name for train and test matrices (with or without "
                         "labels) and a .npy name for a single matrix.")
    if test is None and len(arrays) > 1:
        raise ValueError("labels need a test split: pass test=... and an .npz path.")
    with atomic_path(path) as temporary:
        # written and checked under the final name's suffix in a private folder, then moved
        # into place: a file the reader would refuse is never left at ``path``
        with tempfile.TemporaryDirectory(dir=path.parent) as folder:
            draft = Path(folder) / path.name
            with open(draft, "wb") as handle:
                if test is None:
                    np.save(handle, np.asarray(train))
                else:
                    np.savez(handle, **{k: np.asarray(v) for k, v in arrays.items()
                                        if v is not None})
            try:
                load_representations(draft)
            except RepresentationFileError as error:
                raise RepresentationFileError(str(error).replace(str(draft), str(path))) \
                    from None
            os.replace(draft, temporary)
    return path


def book_example(folder, *, profile: str = "default", model: str = "cnn-mnist",
                 dataset: str | None = None, seed: int = 0, log=None) -> Path:
    """Write one network of the book's suite as a representation file; return its path.

    The appendix measures this file when the reader gives none: the representations of
    ``model`` (without spectral normalization) as trained for ``profile`` by
    :func:`helpers.nets.suite.train_suite` (from the cache in a normal build), with their labels.
    ``dataset`` trains it on other data (:func:`helpers.nets.suite.with_dataset`); ``None`` keeps
    the profile's.
    """
    from helpers.nets.suite import train_suite, with_dataset

    suite = train_suite(with_dataset(profile, dataset), models=[model], spectral_norm=[False],
                        seed=seed, log=log)
    if not suite:
        raise ValueError(f"the book's example needs {model} in profile {profile!r}: "
                         f"{suite.skipped_text()} Give a representation_path instead.")
    record = suite[0]
    path = Path(folder) / f"{record.model}-{profile}-{record.dataset}.npz"
    return save_representations(path, record.train_Z, record.test_Z,
                                train_labels=record.train_y, test_labels=record.test_y)


# --------------------------------------------------------------------------- measurement


def _subsample(n: int, limit: int | None, rng) -> np.ndarray:
    if limit is None or n <= limit:
        return np.arange(n)
    return np.sort(rng.choice(n, size=int(limit), replace=False))


def _finite(value):
    """JSON-safe number: ``None`` for NaN, a string for infinity."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


@dataclass
class CapacityReport:
    """Everything :func:`measure_representation` measured (see the module docstring).

    Attributes
    ----------
    source : str
        What was measured (:meth:`RepresentationFile.describe`).
    normalization : str
    n_fit, n_measured, dim : int
        Rows the normalization was fitted on, rows measured, width.
    ceiling : float
        ``log2 n_measured``: no estimate from the sample can exceed it.
    capacity : list of dict
        One row per precision: ``p``, ``eps``, ``C_num``, ``C_num lower``, ``C_num upper``
        (certified, log2), ``log2 cells``, ``singletons`` (fraction of points alone in their
        cell), the three entropies with intervals, and ``saturated``.
    dimension : dict
        ``mle`` and ``twonn``: estimate, ``ci_low``, ``ci_high``, and ``n_points`` used.
    probes : list of dict or None
        With labels: ``p`` (``None`` = full precision), ``accuracy``, ``ci_low``, ``ci_high``.
    collapse : dict or None
        With labels: ``threshold``, ``ci_low``, ``ci_high``, ``at_coarsest`` and ``text``.
    precision_map : dict or None
        With labels: ``k``, ``bits`` (the last column is full precision) and ``accuracy``.
    verdict : str
        The short paragraph the appendix and the command print.
    sizes : dict
        How many rows each kind of figure used.
    seconds : dict
        Wall time per step.
    """

    source: str
    normalization: str
    n_fit: int
    n_measured: int
    dim: int
    bits: list
    ceiling: float
    capacity: list
    dimension: dict
    probes: list | None
    collapse: dict | None
    precision_map: dict | None
    verdict: str
    sizes: dict
    seconds: dict
    coarsest_within_tolerance: float | None = None
    saturation_bits: float | None = None
    formats: dict | None = None

    def as_dict(self) -> dict:
        """The report as JSON-safe data (NaN becomes ``null``, infinity ``"inf"``)."""

        def clean(value):
            if isinstance(value, dict):
                return {str(k): clean(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            if isinstance(value, (int, np.integer)):
                return int(value)
            if isinstance(value, (float, np.floating)):
                return _finite(value)
            return value

        return clean({
            "source": self.source, "normalization": self.normalization, "n_fit": self.n_fit,
            "n_measured": self.n_measured, "dim": self.dim, "bits": self.bits,
            "log2_n_ceiling": self.ceiling, "capacity": self.capacity,
            "intrinsic_dimension": self.dimension, "probes": self.probes,
            "collapse": self.collapse, "precision_map": self.precision_map,
            "coarsest_bits_within_5_points": self.coarsest_within_tolerance,
            "saturation_bits": self.saturation_bits, "verdict": self.verdict,
            "sizes": self.sizes, "seconds": self.seconds,
            **({"formats": self.formats} if self.formats else {}),
        })

    def capacity_frame(self):
        """The capacity rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.capacity)

    def summary(self) -> str:
        """The key figures as plain text (what the command prints)."""
        lines = [f"{self.source}", f"normalization: {self.normalization} unit cube, fitted on "
                 f"{self.n_fit:,} rows; {self.n_measured:,} rows measured; log2 n ceiling "
                 f"{self.ceiling:.2f} bits", "",
                 f"{'p':>5} {'C_num':>7} {'certified':>17} {'log2 cells':>10} "
                 f"{'plug-in':>8} {'Miller-Madow':>12} {'Chao-Shen':>10}  saturated"]
        for row in self.capacity:
            certified = f"[{row['C_num lower']:.2f}, {row['C_num upper']:.2f}]"
            lines.append(
                f"{row['p']:>5g} {row['C_num']:>7.2f} {certified:>17} "
                f"{row['log2 cells']:>10.2f} {row['plugin']:>8.2f} {row['miller-madow']:>12.2f} "
                f"{row['chao-shen']:>10.2f}  {'yes' if row['saturated'] else 'no'}")
        lines.append("")
        for name, title in (("mle", "MLE (Levina-Bickel)"), ("twonn", "TwoNN")):
            d = self.dimension[name]
            lines.append(f"intrinsic dimension, {title}: {d['estimate']:.2f} "
                         f"[{d['ci_low']:.2f}, {d['ci_high']:.2f}] from {d['n_points']:,} points")
        if self.probes:
            lines.append("")
            lines.append("linear-probe test accuracy: " + ", ".join(
                f"{'full' if r['p'] is None else format(r['p'], 'g')}: {r['accuracy']:.3f}"
                for r in self.probes))
            lines.append(f"collapse threshold: {self.collapse['text']} bits")
        lines += ["", self.verdict]
        if self.formats:
            lines += ["", f"{'format':>14} {'bits/dim':>8} {'codes':>6} {'H plug-in':>9} "
                      f"{'accuracy':>8} {'recall@10':>9} {'rel. error':>10} "
                      f"{'eff. bits (acc)':>15} {'eff. bits (recall)':>18}"]
            effective = {row["name"]: row for row in self.formats["effective"]}
            for row in self.formats["rows"]:
                eff = effective.get(row["name"], {})
                lines.append(
                    f"{row['name']:>14} {row['bits']:>8.2f} {row['distinct']:>6} "
                    f"{row['H_plugin']:>9.2f} {_shown(row['accuracy'], '.3f'):>8} "
                    f"{row['recall']:>9.3f} {row['relative_error']:>10.3f} "
                    f"{_shown(eff.get('accuracy_bits'), '.2f'):>15} "
                    f"{_shown(eff.get('recall_bits'), '.2f'):>18}")
        return "\n".join(lines)


def _shown(value, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _check_measure_args(bits, normalization, n_bootstrap, seed):
    from helpers._validation import check_bits_list, check_bootstrap, check_choice, check_count

    bits = [float(p) for p in check_bits_list(bits)]  # floats: the report's JSON keeps 1.0
    check_choice(normalization, NORMALIZATIONS, name="normalization")
    check_bootstrap(n_bootstrap)
    check_count(seed, name="seed", minimum=0)
    return bits


def measure_representation(representation, bits=DEFAULT_BITS, *, normalization: str = "global",
                           n_bootstrap: int = 200, seed: int = 0,
                           max_dimension_points: int | None = 5000,
                           max_probe_rows: int | None = 10000,
                           map_dims=(1, 2, 4, 8, 16, 32, 64),
                           max_map_rows: int | None = 2000,
                           progress: bool = False) -> CapacityReport:
    """Measure a representation file at the precisions ``bits`` (see the module docstring).

    Parameters
    ----------
    representation : RepresentationFile or path
        A checked file, or a path for :func:`load_representations`.
    bits : sequence of float
        Precisions ``p > 0`` (grid step ``2**-p`` in unit-cube units); sorted.
    normalization : {"global", "per-coordinate"}
        The book's unit cube (one minimum and maximum for all coordinates), or one per
        coordinate.
    n_bootstrap, seed :
        Resamples behind every interval, and the seed of every random choice.
    max_dimension_points, max_probe_rows, max_map_rows : int or None
        Rows used for the intrinsic dimension, for each side of the probes, and for the
        precision x dimension map (``None``: all).
    map_dims : sequence of int
        Components of the map (those above the width are left out).
    progress : bool
        Show a progress bar over the steps (on stderr).

    Returns
    -------
    CapacityReport
    """
    from tqdm import tqdm

    from helpers.measure import covering, geometry, information, probes, quantize
    from helpers.measure.thresholds import observed_collapse

    if not isinstance(representation, RepresentationFile):
        representation = load_representations(representation)
    bits = _check_measure_args(bits, normalization, n_bootstrap, seed)
    rep = representation
    steps = ["normalization", "capacity", "cells and entropy", "intrinsic dimension"]
    if rep.has_labels:
        steps += ["probes", "precision map"]
    bar = tqdm(total=len(steps), desc=rep.path.name, unit="step", disable=not progress,
               file=sys.stderr, leave=False)
    seconds: dict = {}
    sizes: dict = {}

    def step(name):
        bar.set_postfix_str(name)
        return time.perf_counter()

    def done(name, started):
        seconds[name] = round(time.perf_counter() - started, 3)
        bar.update(1)

    started = step("normalization")
    if np.ptp(rep.train) == 0:
        bar.close()
        raise RepresentationFileError(
            f"{rep.path}: every value of the {'matrix' if rep.test is None else 'train'} "
            f"rows is {rep.train.flat[0]:g}: the representation has collapsed, so every "
            "precision gives one cell and zero capacity. Check that the file holds the layer "
            "you meant (a dead layer gives this).")
    scaler = quantize.fit_unit_cube(rep.train, per_coordinate=normalization == "per-coordinate")
    measured = scaler.transform(rep.measured)
    n, dim = measured.shape
    ceiling = math.log2(n)
    sizes["capacity"] = n
    # The points of the intrinsic dimension are drawn now, so that too few distinct ones
    # stop the run before anything is measured (the draw is the first use of the seed).
    rng = np.random.default_rng(seed)
    chosen = measured[_subsample(n, max_dimension_points, rng)]
    distinct = _distinct_rows(chosen, _DIMENSION_POINTS)
    if distinct < _DIMENSION_POINTS:
        bar.close()
        whole = len(chosen) == n
        rows = "measured rows" if whole else "rows drawn for the intrinsic dimension"
        raise RepresentationFileError(
            f"{rep.path}: the {len(chosen):,} {rows} hold only {distinct} distinct points "
            f"after normalization; the maximum-likelihood dimension needs "
            f"{_DIMENSION_POINTS}. "
            + ("Give more distinct representations." if whole else
               "Raise max_dimension_points, or remove repeated rows from the file."))
    done("normalization", started)

    started = step("capacity")
    eps = 2.0 ** -np.asarray(bits)
    curve = covering.capacity_curve(measured, eps, lower_from="doubled")
    by_eps = {float(e): i for i, e in enumerate(curve.eps)}
    done("capacity", started)

    started = step("cells and entropy")
    rows = []
    for p in bits:
        index = by_eps[float(2.0 ** -p)]
        codes = quantize.grid_codes(measured, p)
        entropy = information.entropy_estimates(codes, n_bootstrap=n_bootstrap, seed=seed)
        c_num = float(curve.log2_net_size[index])
        rows.append({
            "p": p, "eps": float(2.0 ** -p), "C_num": c_num,
            "C_num lower": float(curve.log2_lower[index]),
            "C_num upper": float(curve.log2_upper[index]),
            "log2 cells": math.log2(entropy.n_distinct),
            "singletons": entropy.n_singletons / entropy.n,
            **{name: estimate.estimate for name, estimate in
               zip(("plugin", "miller-madow", "chao-shen"), entropy, strict=True)},
            **{f"{name} low": estimate.ci_low for name, estimate in
               zip(("plugin", "miller-madow", "chao-shen"), entropy, strict=True)},
            **{f"{name} high": estimate.ci_high for name, estimate in
               zip(("plugin", "miller-madow", "chao-shen"), entropy, strict=True)},
            "saturated": bool(c_num >= ceiling - CEILING_MARGIN),
        })
    done("cells and entropy", started)

    started = step("intrinsic dimension")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geometry.DuplicatePointsWarning)
        estimates = {"mle": geometry.mle_dimension(chosen, n_bootstrap=n_bootstrap, seed=seed),
                     "twonn": geometry.twonn_dimension(chosen, n_bootstrap=n_bootstrap,
                                                       seed=seed)}
    dimension = {name: {"estimate": e.estimate, "ci_low": e.ci_low, "ci_high": e.ci_high,
                        "n_points": e.n_points, "n_duplicates": e.n_duplicates}
                 for name, e in estimates.items()}
    sizes["intrinsic dimension"] = len(chosen)
    done("intrinsic dimension", started)

    probe_rows = collapse = precision_map = None
    coarsest = None
    if rep.has_labels:
        from helpers.nets.suite import NormalizedSample

        started = step("probes")
        train_rows = _subsample(len(rep.train), max_probe_rows, rng)
        test_rows = _subsample(len(rep.test), max_probe_rows, rng)
        sample = NormalizedSample(
            scaler=scaler, train_u=scaler.transform(rep.train[train_rows]),
            train_y=rep.train_labels[train_rows], test_u=measured[test_rows],
            test_y=rep.test_labels[test_rows], train_index=train_rows, test_index=test_rows)
        probe_curve, estimate = observed_collapse(sample, bits, tolerance=TOLERANCE,
                                                  n_bootstrap=max(n_bootstrap, 1), seed=seed)
        probe_rows = [{"p": r.bits, "accuracy": r.accuracy, "ci_low": r.ci_low,
                       "ci_high": r.ci_high, "converged": r.converged}
                      for r in probe_curve.results]
        collapse = {"threshold": estimate.threshold, "ci_low": estimate.ci_low,
                    "ci_high": estimate.ci_high, "at_coarsest": estimate.at_coarsest,
                    "text": estimate.describe(),
                    "interval_text": "[" + estimate.describe().split("[", 1)[1]}
        if math.isfinite(estimate.threshold):
            coarsest = float(estimate.threshold)
        sizes["probe train"], sizes["probe test"] = len(train_rows), len(test_rows)
        done("probes", started)

        started = step("precision map")
        map_train = train_rows[_subsample(len(train_rows), max_map_rows, rng)]
        map_test = test_rows[_subsample(len(test_rows), max_map_rows, rng)]
        ks, grid = probes.precision_dimension_map(
            scaler.transform(rep.train[map_train]), rep.train_labels[map_train],
            scaler.transform(rep.test[map_test]), rep.test_labels[map_test],
            [k for k in map_dims if k <= dim] or [dim], bits, seed=seed)
        precision_map = {"k": ks, "bits": [*bits, None], "accuracy": grid.tolist()}
        sizes["map train"], sizes["map test"] = len(map_train), len(map_test)
        done("precision map", started)
    bar.close()

    saturation = next((row["p"] for row in rows if row["saturated"]), None)
    report = CapacityReport(
        source=rep.describe(), normalization=normalization, n_fit=len(rep.train),
        n_measured=n, dim=dim, bits=bits, ceiling=ceiling, capacity=rows,
        dimension=dimension, probes=probe_rows, collapse=collapse,
        precision_map=precision_map, verdict="", sizes=sizes, seconds=seconds,
        coarsest_within_tolerance=coarsest, saturation_bits=saturation)
    report.verdict = verdict_text(report)
    return report


def _bits_word(p: float) -> str:
    return "bit" if p == 1 else "bits"


def verdict_text(report: CapacityReport) -> str:
    """The short verdict paragraph: coarsest precision within 5 points, where C_num saturates."""
    parts = []
    if report.probes is None:
        parts.append("Without labels there is no probe, so no precision can be called safe "
                     "for a task; the capacity figures still hold.")
    else:
        full = report.probes[0]["accuracy"]
        collapse = report.collapse
        if report.coarsest_within_tolerance is None:
            parts.append(f"No swept precision keeps the probe within {TOLERANCE * 100:.0f} "
                         f"points of its full-precision accuracy ({full:.3f}): sweep finer "
                         "precisions.")
        else:
            p = report.coarsest_within_tolerance
            limit = (" (the coarsest precision swept, so a coarser one may do as well)"
                     if collapse["at_coarsest"] else "")
            parts.append(f"The coarsest precision that keeps the linear probe within "
                         f"{TOLERANCE * 100:.0f} points of its full-precision accuracy "
                         f"({full:.3f}) is p = {p:g} {_bits_word(p)}{limit}; with the "
                         "bootstrap over the test points the threshold lies in "
                         f"{collapse['interval_text']} bits.")
    if report.saturation_bits is None:
        parts.append(f"C_num stays more than {CEILING_MARGIN:g} bit below the sample ceiling "
                     f"log2 n = {report.ceiling:.2f} at every precision swept, so the "
                     "curve measures the representation, not the sample size.")
    else:
        parts.append(f"From p = {report.saturation_bits:g} {_bits_word(report.saturation_bits)} "
                     f"on, C_num is within "
                     f"{CEILING_MARGIN:g} bit of the sample ceiling log2 n = "
                     f"{report.ceiling:.2f}: there the measurement saturates, and finer "
                     "precisions say more about the number of points than about the "
                     "representation.")
    return " ".join(parts)


# --------------------------------------------------------------------------- command


def check_formats(names) -> list[str]:
    """Check ``--formats`` names against the number formats and store quantizers, up front.

    Introduced in the chapter "Number formats in practice".

    Raises
    ------
    ValueError
        For an unknown or repeated name; the message lists the known ones.
    """
    from helpers.measure.formats import FORMATS
    from helpers.measure.stored import STORES

    known = [*FORMATS, *STORES]
    names = list(names)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}; known formats and store quantizers: "
                         f"{', '.join(known)}.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"--formats names {repeated[0]!r} twice; name each format once.")
    return names


def measure_formats(rep: RepresentationFile, bits, names, *, n_bootstrap: int = 200,
                    seed: int = 0, max_rows: int = 2000) -> dict:
    """Each number format and store quantizer of ``names`` beside the book's grid at ``bits``.

    Introduced in the chapter "Number formats in practice", which measures the book's own
    networks this way: distinct codes, entropies, probe accuracy (with labels), recall@10
    against the float neighbours, reconstruction error, and each format's effective uniform
    bits (:func:`helpers.measure.stored.effective_rows`). At most ``max_rows`` random rows of
    each split are used.

    Returns
    -------
    dict
        ``rows`` (every quantizer, the grid included) and ``effective`` (the formats and
        store quantizers with their effective bits).
    """
    from helpers.measure.formats import FORMATS
    from helpers.measure.stored import effective_rows, quantizer_rows

    rng = np.random.default_rng(seed)
    train_rows = _subsample(len(rep.train), max_rows, rng)
    test_rows = _subsample(len(rep.measured), max_rows, rng)
    labels = (None, None) if not rep.has_labels else (
        rep.train_labels[train_rows],
        (rep.train_labels if rep.test is None else rep.test_labels)[test_rows])
    rows = quantizer_rows(rep.train[train_rows], rep.measured[test_rows], *labels, bits=bits,
                          formats=[n for n in names if n in FORMATS],
                          stores=[n for n in names if n not in FORMATS],
                          n_bootstrap=max(n_bootstrap, 1), seed=seed)
    return {"rows": rows, "effective": effective_rows(rows)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.capacity",
        description="How much of a representation survives quantization to p bits: "
                    "capacity curve with certified bounds, occupied cells, entropies, "
                    "intrinsic dimension and, with labels, probe accuracy and the collapse "
                    "threshold.")
    parser.add_argument("file", help=".npy (one matrix) or .npz (train, test, optionally "
                                     "train_labels, test_labels)")
    parser.add_argument("--bits", nargs="+", default=None, metavar="P",
                        help="precisions in bits (default: "
                             f"{' '.join(format(p, 'g') for p in DEFAULT_BITS)})")
    parser.add_argument("--normalization", choices=NORMALIZATIONS, default="global")
    parser.add_argument("--n-bootstrap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", nargs="?", const="-", default=None, metavar="OUT",
                        help="also write the figures as JSON to OUT (or to stdout with no OUT)")
    parser.add_argument("--formats", nargs="+", default=None, metavar="NAME",
                        help="also measure these number formats and store quantizers against "
                             "the book's grid (e.g. fp8_e4m3 int8_channel mxfp4 pq1)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def _check_output(path: Path) -> None:
    """Refuse a ``--json`` path that cannot be written, before anything is measured."""
    folder = path.parent
    if path.is_dir():
        raise ValueError(f"--json {path}: is a folder. Give a file name, for example "
                         f"--json {path / 'figures.json'}.")
    if not folder.is_dir():
        raise ValueError(f"--json {path}: the folder {folder} does not exist. Create it first "
                         "or write the figures elsewhere.")
    try:  # the real test, as the final write makes its temporary file in the same folder
        with tempfile.TemporaryFile(dir=folder):
            pass
        if path.exists():
            with open(path, "ab"):
                pass
    except OSError as error:
        raise ValueError(f"--json {path}: cannot be written ({error.strerror or error}). "
                         "Choose a path in a folder you can write to.") from None


def main(argv=None) -> int:
    """Entry point of ``python -m helpers.capacity``; returns the exit status."""
    from helpers._io import write_bytes_atomic

    args = build_parser().parse_args(argv)
    try:
        bits = parse_bits_option(args.bits) or DEFAULT_BITS
        if args.json not in (None, "-"):
            _check_output(Path(args.json))
        formats = check_formats(args.formats) if args.formats else []
        representation = load_representations(args.file)
        progress = (not args.no_progress
                    and len(representation.measured) + len(representation.train) >= PROGRESS_ROWS)
        report = measure_representation(representation, bits, normalization=args.normalization,
                                        n_bootstrap=args.n_bootstrap, seed=args.seed,
                                        progress=progress)
        if formats:
            report.formats = measure_formats(representation, bits, formats,
                                             n_bootstrap=args.n_bootstrap, seed=args.seed)
    except ValueError as error:  # RepresentationFileError is one
        print(f"error: {error}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"error: {args.file}: measuring it ran out of memory. Measure a random subset "
              "of the rows, saved as a smaller file.", file=sys.stderr)
        return 1
    payload = json.dumps(report.as_dict(), indent=2)
    if args.json == "-":
        print(payload)
        return 0
    print(report.summary())
    if args.json:
        write_bytes_atomic(Path(args.json), (payload + "\n").encode())
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
