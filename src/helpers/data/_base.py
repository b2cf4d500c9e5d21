"""Shared pieces of the data layer: result types, errors, the data directory, subsampling.

Introduced with the loaders in the chapter "Numerical entropy" (notebooks/01_numerical_entropy).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import _settings as settings
from helpers._validation import check_count


class DatasetNotFoundError(FileNotFoundError):
    """A real dataset is not in the data directory and could not be downloaded.

    The message names the files expected, the exact layout, how to point the book at another
    data directory, and why no download happened (``download=False``, network unreachable, or
    the download itself failed).
    """


class DatasetFormatError(ValueError):
    """A dataset file exists but cannot be read: truncated, corrupt, or in the wrong format.

    The message names the file and says how to fix it.
    """


@dataclass(frozen=True, eq=False)
class Split:
    """One split of a dataset.

    Attributes
    ----------
    inputs : numpy.ndarray or list of str
        Images as float32 in ``[0, 1]`` with shape ``(N, C, H, W)``, or texts as ``list[str]``.
    labels : numpy.ndarray
        int64 class indices in ``0 .. n_classes - 1``, shape ``(N,)``.
    """

    inputs: np.ndarray | list
    labels: np.ndarray

    def __len__(self) -> int:
        return int(len(self.labels))


@dataclass(frozen=True, eq=False)
class DatasetSplits:
    """A dataset as returned by :func:`helpers.data.load_dataset`.

    Attributes
    ----------
    name : str
        Name it was loaded under (a key of :data:`helpers.data.DATASETS`).
    train, test : Split
        The two splits.
    n_classes : int
        Number of classes; labels run from 0 to ``n_classes - 1``.
    class_names : tuple of str
        Human-readable name of each class, indexed by label.
    source : str
        Where the data came from (data directory and layout, download, or embedded copy).
    description : str
        What the data are, in one or two sentences.
    """

    name: str
    train: Split
    test: Split
    n_classes: int
    class_names: tuple
    source: str
    description: str


# --------------------------------------------------------------------------- data directory


def resolve_data_dir(data_dir=None) -> tuple[Path, str]:
    """Return the data directory and a phrase saying where that choice came from."""
    if data_dir is not None:
        how = "the data_dir argument"
    elif os.environ.get(settings.DATA_DIR_VARIABLE):
        how = f"the environment variable {settings.DATA_DIR_VARIABLE}"
    else:
        how = f"the default ./data ({settings.DATA_DIR_VARIABLE} is not set)"
    return settings.data_dir(data_dir), how


def how_to_point_elsewhere() -> str:
    """One sentence on how to choose another data directory."""
    return (
        f"To use a folder that already has the data, set the environment variable "
        f"{settings.DATA_DIR_VARIABLE}=/path/to/data or pass load_dataset(..., data_dir=...)."
    )


# --------------------------------------------------------------------------- checksums


def md5_of(path: Path, chunk_size: int = 1 << 20) -> str:
    """Return the hex MD5 digest of a file."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def md5_summary(files: dict[Path, str | None]) -> str:
    """Say whether ``files`` (path -> published md5) are the published originals."""
    checked = {path: md5 for path, md5 in files.items() if md5 is not None}
    if not checked:
        return "no published checksum to compare"
    differing = [path.name for path, md5 in checked.items() if md5_of(path) != md5]
    if not differing:
        return "md5 matches the published checksums"
    return (
        f"md5 differs from the published checksum for {', '.join(differing)}: not the original "
        "files, read after structural checks only"
    )


# --------------------------------------------------------------------------- sizes, subsampling


def check_size(value, *, name: str) -> int | None:
    """Return ``value`` (None or an int >= 0) or raise a ValueError that says what is wrong."""
    if value is None:
        return None
    return check_count(value, name=f"{name} (None for all)", minimum=0)


def stratified_indices(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Pick ``n`` indices with each class in proportion to its share of ``labels``.

    Classes get ``n * share`` examples up to one (largest shares of the remainder go to
    random classes); within a class the examples are a uniform random draw. The indices are
    returned sorted, so the subsample keeps the original order.
    """
    labels = np.asarray(labels)
    total = len(labels)
    order = rng.permutation(total)
    position = np.empty(total)
    for label in np.unique(labels):
        members = order[labels[order] == label]
        position[members] = (np.arange(len(members)) + 0.5) / len(members)
    tie_break = np.empty(total, dtype=np.int64)
    tie_break[order] = np.arange(total)
    chosen = np.lexsort((tie_break, position))[:n]
    return np.sort(chosen)


def subsample(split: Split, n: int | None, *, seed, split_name: str, dataset: str) -> Split:
    """Return a stratified subsample of ``n`` examples of ``split`` (all of it when n is None).

    Raises
    ------
    ValueError
        If ``n`` exceeds the number of examples available.
    """
    available = len(split)
    if n is None or n == available:
        return split
    if n > available:
        raise ValueError(
            f"{dataset}: asked for n_{split_name}={n} but the {split_name} split has only "
            f"{available} examples. Pass n_{split_name}=None for all of them, or a number "
            f"<= {available}."
        )
    rng = np.random.default_rng([int(seed), 0 if split_name == "train" else 1])
    chosen = stratified_indices(split.labels, n, rng)
    return take(split, chosen)


def take(split: Split, indices: np.ndarray) -> Split:
    """Return the examples of ``split`` at ``indices``."""
    if isinstance(split.inputs, list):
        inputs = [split.inputs[i] for i in indices]
    else:
        inputs = split.inputs[indices]
    return Split(inputs, split.labels[indices])


def image_split(images: np.ndarray, labels: np.ndarray) -> Split:
    """Build a Split from float images and labels, with the canonical dtypes."""
    return Split(np.ascontiguousarray(images, dtype=np.float32), np.asarray(labels, np.int64))


def empty_image_split(shape: tuple[int, ...]) -> Split:
    """An empty image split with per-example shape ``shape``."""
    return Split(np.zeros((0, *shape), dtype=np.float32), np.zeros(0, dtype=np.int64))


def empty_text_split() -> Split:
    """An empty text split."""
    return Split([], np.zeros(0, dtype=np.int64))
