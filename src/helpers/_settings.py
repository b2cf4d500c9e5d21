"""Folder settings shared by every chapter: where data lives and where heavy results are cached.

Both are single, documented settings, read from the environment so that papermill runs,
the build and Colab sessions agree on them.

``HELPERS_DATA_DIR``
    Folder holding the datasets in their standard layouts (``MNIST/raw``,
    ``cifar-10-batches-py``, ``ag_news_csv``). Default: ``data/`` in the current folder.
``HELPERS_CACHE_DIR``
    Folder for trained weights and extracted representations, keyed by parameter hash.
    Default: ``_build/cache`` in the current folder.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_VARIABLE = "HELPERS_DATA_DIR"
CACHE_DIR_VARIABLE = "HELPERS_CACHE_DIR"
RESULTS_DIR_VARIABLE = "HELPERS_RESULTS_DIR"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """Return the data directory: ``override``, else ``$HELPERS_DATA_DIR``, else ``./data``."""
    if override is not None:
        return Path(override).expanduser()
    return Path(os.environ.get(DATA_DIR_VARIABLE, "data")).expanduser()


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """Return the cache folder: ``override``, else ``$HELPERS_CACHE_DIR``, else ``_build/cache``."""
    if override is not None:
        return Path(override).expanduser()
    return Path(os.environ.get(CACHE_DIR_VARIABLE, "_build/cache")).expanduser()


def results_dir(override: str | os.PathLike | None = None) -> Path:
    """Return where chapters write their JSON results (default ``_build/results``)."""
    if override is not None:
        return Path(override).expanduser()
    return Path(os.environ.get(RESULTS_DIR_VARIABLE, "_build/results")).expanduser()
