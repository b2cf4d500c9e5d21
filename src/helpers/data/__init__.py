"""Datasets for the book: data directory, download, embedded offline default, synthetic sets.

One entry point, :func:`load_dataset` (introduced in the chapter "Numerical entropy",
notebooks/01_numerical_entropy); :func:`dataset_status` says which datasets are present.
The synthetic ``topics`` corpus and its exact model (:func:`topics_model`) belong to the
chapter "Precision lower bound"; the synthetic point sets (:func:`sample_shape`) to
"Numerical entropy".
"""

from ._base import DatasetFormatError, DatasetNotFoundError, DatasetSplits, Split
from ._download import DownloadError
from .loaders import (
    DATASETS,
    EMBEDDED_DATASETS,
    REAL_DATASETS,
    dataset_status,
    load_dataset,
    load_dataset_or_substitute,
)
from .synthetic import SHAPES, analytic_covering_number, sample_covering_number, sample_shape
from .topics import TopicModel, topics_model

__all__ = [
    "DATASETS",
    "EMBEDDED_DATASETS",
    "REAL_DATASETS",
    "SHAPES",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "DatasetSplits",
    "DownloadError",
    "Split",
    "TopicModel",
    "analytic_covering_number",
    "dataset_status",
    "load_dataset",
    "load_dataset_or_substitute",
    "sample_covering_number",
    "sample_shape",
    "topics_model",
]
