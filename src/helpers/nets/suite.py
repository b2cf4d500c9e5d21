"""The book's model suite: the proposal's four architectures, with and without spectral norm.

Introduced in the chapter "Precision lower bound" (``notebooks/02_precision_lower_bound``)
and reused by the chapters on curvature, Lipschitz constants and mutual information, so
that every chapter measures the *same* trained networks. :func:`train_suite` trains (or
loads from the cache, :mod:`helpers.nets.cache`) every model of a profile on the data the
profile assigns it, extracts its train and test representations, and returns one
:class:`SuiteRecord` per (model, spectral-norm) pair.

Profiles
--------
``smoke``
    Seconds: the four architectures at a quarter width (one encoder layer for the
    transformer), one epoch, on 300 / 100 embedded 8x8 digits and 300 / 100 synthetic
    ``topics`` documents. For checking that chapters run, not for reading results.
``default``
    The embedded offline data: CNN-MNIST, CNN-CIFAR and ResNet-8 on scikit-learn's 8x8
    digits (1,297 train / 500 test), Transformer-Tiny on 2,000 / 1,000 synthetic ``topics``
    documents. On digits CNN-CIFAR and ResNet-8 take one input channel and 8x8 images:
    they are *architecture stand-ins* for the CIFAR-10 models, labelled so in every record.
    About a minute of training on one CPU thread.
``full``
    The proposal's data, read from the data directory, every training split whole:
    CNN-MNIST on the 60,000 MNIST images (10 epochs), CNN-CIFAR and ResNet-8 on the 50,000
    CIFAR-10 images (20 and 24 epochs, random flips and 4-pixel crops, label smoothing 0.1,
    weight decay), Transformer-Tiny on every AG News training article present (6 epochs,
    dropout, word dropout); all with a one-cycle learning-rate schedule and bfloat16 autocast
    (:func:`helpers.nets.train.train_model`). The spectrally normalized variants that learn
    slowest train longer (:attr:`ModelSpec.variant_settings`).
    The test splits are used whole; the chapters draw their own analysis subsamples (the
    proposal's 20,000 articles are an analysis size, not a training size). Models whose
    dataset is not in the data directory are *skipped*, not failed: the returned
    :class:`Suite` lists them in ``skipped`` with what is missing and how to provide it. The
    measured accuracies and times per network are in the README.

Threads. Training uses one torch thread by default (``num_threads``): the models are small,
and on a machine shared with other work (chapters running side by side) two threads were 5
to 10 times *slower* per image than one. The book's training stage runs alone, before the
chapters, and uses every core. The cache key does not include the thread count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from helpers._threads import torch_threads as _torch_threads
from helpers._validation import check_count
from helpers.data import REAL_DATASETS, DatasetNotFoundError, dataset_status, load_dataset
from helpers.nets.models import canonical_model_name

#: Display names of the architectures, in the proposal's order.
DISPLAY_NAMES = {
    "cnn-mnist": "CNN-MNIST",
    "cnn-cifar": "CNN-CIFAR",
    "resnet8": "ResNet-8",
    "transformer-tiny": "Transformer-Tiny",
}
#: The dataset the proposal assigns to each architecture.
PROPOSAL_DATASETS = {
    "cnn-mnist": "mnist",
    "cnn-cifar": "cifar10",
    "resnet8": "cifar10",
    "transformer-tiny": "ag_news",
}
PROFILE_NAMES = ("smoke", "default", "full")


@dataclass(frozen=True)
class ModelSpec:
    """How one architecture is trained in a profile.

    Attributes
    ----------
    model : str
        Registry name (:data:`helpers.nets.models.MODELS`).
    dataset : str
        Name for :func:`helpers.data.load_dataset`.
    n_train, n_test : int or None
        Stratified subsample sizes (``None`` = the whole split).
    epochs, batch_size, lr, width : training settings for :func:`helpers.nets.train.train_model`.
    weight_decay, augment, schedule, label_smoothing, precision : the training recipe, passed
        to :func:`helpers.nets.train.train_model` (its defaults: none of them).
    model_kwargs : dict
        Further model arguments (``n_layers`` for the transformer, say).
    stand_in : str or None
        Why the data differ from the proposal's, when they do; shown in every label.
    variant_settings : dict
        Changes for one variant only, keyed by ``"sn"``, ``"smooth"`` or ``"smooth+sn"``
        (:data:`VARIANT_KEYS`): ``{"smooth+sn": {"epochs": 30, "logit_scale": 32}}`` trains the
        smooth variant with spectral normalization longer and hotter. Any setting of
        :data:`VARIANT_SETTINGS` may change; ``model_kwargs`` are merged. Only the variants
        named change their cache keys.
    """

    model: str
    dataset: str
    n_train: int | None
    n_test: int | None
    epochs: int
    batch_size: int = 64
    lr: float = 1e-3
    width: float = 1.0
    model_kwargs: dict = field(default_factory=dict)
    stand_in: str | None = None
    weight_decay: float = 0.0
    augment: str | None = None
    schedule: str = "constant"
    label_smoothing: float = 0.0
    precision: str = "float32"
    variant_settings: dict = field(default_factory=dict)

    @property
    def recipe(self) -> dict:
        """The recipe settings, as :func:`helpers.nets.train.train_model` keywords."""
        return {"weight_decay": self.weight_decay, "augment": self.augment,
                "schedule": self.schedule, "label_smoothing": self.label_smoothing,
                "precision": self.precision}

    def training_settings(self, *, smooth: bool = False, spectral_norm: bool = False) -> dict:
        """Keywords for :func:`helpers.nets.train.train_model` for one variant of this spec.

        The spec's epochs, batch size, learning rate and recipe, with the variant's
        :attr:`variant_settings` applied (``model_kwargs`` merged, not replaced).
        """
        settings = dict(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                        model_kwargs=dict(self.model_kwargs), **self.recipe)
        changes = dict(self.variant_settings.get(variant_key(smooth, spectral_norm), {}))
        settings["model_kwargs"].update(changes.pop("model_kwargs", {}))
        settings.update(changes)
        return settings

    def __post_init__(self):
        object.__setattr__(self, "model", canonical_model_name(self.model))
        unknown = sorted(set(self.variant_settings) - set(VARIANT_KEYS))
        if unknown:
            raise ValueError(f"variant_settings has unknown variants {unknown}; use "
                             f"{list(VARIANT_KEYS)} (the plain variant uses the spec itself).")
        for variant, changes in self.variant_settings.items():
            bad = sorted(set(changes) - set(VARIANT_SETTINGS))
            if bad:
                raise ValueError(f"variant_settings[{variant!r}] cannot change {bad}; it may "
                                 f"change {list(VARIANT_SETTINGS)}.")


#: Variants a :class:`ModelSpec` may train differently (``variant_settings`` keys).
VARIANT_KEYS = ("sn", "smooth", "smooth+sn")
#: Training settings a variant may change.
VARIANT_SETTINGS = ("epochs", "batch_size", "lr", "logit_scale", "weight_decay", "augment",
                    "schedule", "label_smoothing", "precision", "model_kwargs")


def variant_key(smooth: bool, spectral_norm: bool) -> str | None:
    """``"sn"``, ``"smooth"``, ``"smooth+sn"`` or ``None`` (the plain variant)."""
    parts = ["smooth"] * bool(smooth) + ["sn"] * bool(spectral_norm)
    return "+".join(parts) or None


#: Architectures that also get a smooth variant (``include_smooth=True``): GELU in place of
#: ReLU and scaled average pooling (:class:`~helpers.nets.models.ScaledAvgPool2d`, Lipschitz
#: constant 1 like max pooling) in place of max pooling. Introduced in the chapter
#: "Curvature threshold": a ReLU network is piecewise linear, so its second derivative is zero
#: almost everywhere, and max pooling switches between inputs with a kink of its own;
#: curvature by autograd needs a map that is smooth everywhere.
SMOOTH_MODELS = ("cnn-mnist", "cnn-cifar")
SMOOTH_ACTIVATION = "gelu"
SMOOTH_MODEL_KWARGS = {"pooling": "scaled-avg"}


@dataclass(frozen=True)
class SuiteProfile:
    """A named list of :class:`ModelSpec`, each trained with and without spectral norm.

    ``smooth_models`` are also trained with ``smooth_activation`` in place of ReLU and with
    ``smooth_model_kwargs`` (scaled average pooling) when :func:`train_suite` is called with
    ``include_smooth=True``.
    """

    name: str
    specs: tuple
    description: str
    spectral_norm: tuple = (False, True)
    smooth_models: tuple = SMOOTH_MODELS
    smooth_activation: str = SMOOTH_ACTIVATION
    smooth_model_kwargs: dict = field(default_factory=lambda: dict(SMOOTH_MODEL_KWARGS))


def _digits_stand_in(model: str) -> str:
    return (f"architecture stand-in: {DISPLAY_NAMES[model]} is the proposal's CIFAR-10 model; "
            "here it reads 1-channel 8x8 digits, not CIFAR-10 photographs")


_TOPICS_STAND_IN = ("synthetic stand-in for AG News: 4 topics, a known generative model "
                    "(so the Bayes-optimal accuracy is known)")
_DIGITS_NOTE = "8x8 digits stand in for 28x28 MNIST (same task, coarser images)"

#: The full profile's training recipe (issue: networks in the normal accuracy range on two
#: CPU cores): a one-cycle schedule and bfloat16 autocast (AMX on recent Xeons) for every image
#: model; for CIFAR-10 also random flips and 4-pixel crops, label smoothing and weight decay.
#: The variants with spectral normalization that learn slowest train longer (and the smooth
#: ones with a larger learning rate); the transformer, which memorizes the 10,429 AG News
#: articles of a partial copy, gets dropout, word dropout and more weight decay.
_FULL_RECIPE = dict(batch_size=128, lr=2e-3, schedule="onecycle", precision="bfloat16")
_CIFAR_RECIPE = dict(batch_size=128, lr=3e-3, weight_decay=5e-4, augment="flip-crop",
                     schedule="onecycle", label_smoothing=0.1, precision="bfloat16")

PROFILES = {
    "smoke": SuiteProfile(
        name="smoke",
        description=("seconds-long check: quarter-width models, one epoch, 300 / 100 digits "
                     "and topics documents; results are not meaningful"),
        specs=(
            ModelSpec("cnn-mnist", "digits", 300, 100, epochs=1, width=0.25,
                      stand_in=_DIGITS_NOTE),
            ModelSpec("cnn-cifar", "digits", 300, 100, epochs=1, width=0.25,
                      stand_in=_digits_stand_in("cnn-cifar")),
            ModelSpec("resnet8", "digits", 300, 100, epochs=1, width=0.25,
                      stand_in=_digits_stand_in("resnet8")),
            ModelSpec("transformer-tiny", "topics", 300, 100, epochs=1, width=0.25,
                      model_kwargs={"n_layers": 1}, stand_in=_TOPICS_STAND_IN),
        ),
    ),
    "default": SuiteProfile(
        name="default",
        description=("embedded offline data: three image architectures on scikit-learn's "
                     "8x8 digits, the transformer on the synthetic topics corpus"),
        specs=(
            ModelSpec("cnn-mnist", "digits", None, None, epochs=20, stand_in=_DIGITS_NOTE),
            ModelSpec("cnn-cifar", "digits", None, None, epochs=20,
                      stand_in=_digits_stand_in("cnn-cifar")),
            ModelSpec("resnet8", "digits", None, None, epochs=15,
                      stand_in=_digits_stand_in("resnet8")),
            ModelSpec("transformer-tiny", "topics", 2000, 1000, epochs=3,
                      stand_in=_TOPICS_STAND_IN),
        ),
    ),
    "full": SuiteProfile(
        name="full",
        description=("the proposal's datasets from the data directory, every training split "
                     "whole: MNIST, CIFAR-10 and AG News; models whose data are missing are "
                     "skipped"),
        specs=(
            ModelSpec("cnn-mnist", "mnist", None, None, epochs=10, **_FULL_RECIPE,
                      variant_settings={"smooth+sn": {"epochs": 15, "lr": 5e-3}}),
            ModelSpec("cnn-cifar", "cifar10", None, None, epochs=20, **_CIFAR_RECIPE,
                      variant_settings={"smooth+sn": {"epochs": 30, "lr": 1e-2}}),
            ModelSpec("resnet8", "cifar10", None, None, epochs=24, **_CIFAR_RECIPE,
                      variant_settings={"sn": {"epochs": 32}}),
            ModelSpec("transformer-tiny", "ag_news", None, None, epochs=6, batch_size=64,
                      lr=1e-3, weight_decay=0.05, augment="word-dropout",
                      model_kwargs={"dropout": 0.2}, schedule="onecycle", label_smoothing=0.1,
                      precision="bfloat16"),
        ),
    ),
}


def suite_profile(profile) -> SuiteProfile:
    """Return the :class:`SuiteProfile` named ``profile`` (or ``profile`` itself if it is one).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the profiles.
    """
    if isinstance(profile, SuiteProfile):
        return profile
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ValueError(f"unknown suite profile {profile!r}; use one of {PROFILE_NAMES} "
                         "(or pass a SuiteProfile).")
    return PROFILES[profile]


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class NormalizedSample:
    """Representations of a record in unit-cube units (:meth:`SuiteRecord.normalized`).

    Attributes
    ----------
    scaler : helpers.measure.quantize.UnitCubeScaler
        Fitted on the whole training split; ``scaler.low`` and ``scaler.high`` are the
        global minimum and maximum, so the map is ``z -> (z - low) / (high - low)``.
    train_u, test_u : numpy.ndarray of float64
    train_y, test_y : numpy.ndarray of int64
    train_index, test_index : numpy.ndarray
        Rows of the record's splits that were chosen.
    """

    scaler: object
    train_u: np.ndarray = field(repr=False)
    train_y: np.ndarray = field(repr=False)
    train_index: np.ndarray = field(repr=False)
    test_u: np.ndarray = field(repr=False)
    test_y: np.ndarray = field(repr=False)
    test_index: np.ndarray = field(repr=False)

    @property
    def offset(self) -> float:
        """The global minimum subtracted before scaling."""
        return float(np.asarray(self.scaler.low).reshape(-1)[0])

    @property
    def scale(self) -> float:
        """The factor ``1 / (max - min)`` that maps the training split into the unit cube."""
        low = float(np.asarray(self.scaler.low).reshape(-1)[0])
        high = float(np.asarray(self.scaler.high).reshape(-1)[0])
        return 1.0 / (high - low)


@dataclass
class SuiteRecord:
    """One trained model of the suite, its representations and what data it saw.

    Attributes
    ----------
    model : str
        Registry name; ``name`` is the display name (``"CNN-MNIST"``) and ``label`` adds
        ``" (smooth)"`` for a smooth variant and ``" + SN"`` for the spectrally normalized one.
    spectral_norm : bool
    dataset : str
        Dataset name (``"digits"``, ``"mnist"``...).
    source : str
        Where the data came from (:attr:`helpers.data.DatasetSplits.source`).
    stand_in : str or None
        How the data differ from the proposal's (``None`` when they are the proposal's).
    representation_dim : int
    train_Z, test_Z : numpy.ndarray of float32, shape (n, representation_dim)
    train_y, test_y : numpy.ndarray of int64
    train_accuracy, test_accuracy : float
        The network's own accuracy (its linear head on the representation).
    seconds : float
        Training wall time, as measured when the weights were trained (also on a cache hit).
    cache_hit : bool
        True when the weights were loaded from the cache.
    epochs : int
    n_parameters : int
    trained : helpers.nets.train.TrainedModel
        The model itself (for chapters that differentiate or probe it).
    data : helpers.data.DatasetSplits
        The data it was trained and evaluated on.
    activation : str
        The network's activation (``"relu"`` for the image models, ``"gelu"`` for the
        transformer and for the smooth variants).
    smooth_variant : bool
        True for the smooth variant of an image model: GELU and scaled average pooling (chapter
        "Curvature threshold").
    data_note : str or None
        Set when a split was smaller than the profile asked for and was used whole.
    """

    model: str
    spectral_norm: bool
    dataset: str
    source: str
    stand_in: str | None
    representation_dim: int
    train_Z: np.ndarray = field(repr=False)
    test_Z: np.ndarray = field(repr=False)
    train_y: np.ndarray = field(repr=False)
    test_y: np.ndarray = field(repr=False)
    train_accuracy: float
    test_accuracy: float
    seconds: float
    cache_hit: bool
    epochs: int
    n_parameters: int
    trained: object = field(repr=False, default=None)
    data: object = field(repr=False, default=None)
    activation: str = "relu"
    smooth_variant: bool = False
    data_note: str | None = None

    @property
    def name(self) -> str:
        return DISPLAY_NAMES[self.model]

    @property
    def label(self) -> str:
        """Display label: ``"CNN-MNIST"``, ``"CNN-MNIST + SN"``, ``"CNN-MNIST (smooth) + SN"``."""
        smooth = " (smooth)" if self.smooth_variant else ""
        return self.name + smooth + (" + SN" if self.spectral_norm else "")

    @property
    def key(self) -> str:
        """Identifier for results files: ``"cnn_mnist"``, ``"cnn_mnist_smooth_sn"``."""
        return result_key(self.label)

    @property
    def data_label(self) -> str:
        """What data the model saw, in a few words: ``"digits, 1,297 train / 500 test"``."""
        return f"{self.dataset}, {len(self.train_y):,} train / {len(self.test_y):,} test"

    def subset(self, split: str, n: int | None, *, seed: int = 0):
        """A seeded random subset of ``n`` rows of a split: ``(Z, y, index)``.

        ``n=None`` or ``n >= len(split)`` returns the whole split in its order. The same seed
        picks the same rows for every model trained on the same data, so the models are
        compared on the same inputs.
        """
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
        Z, y = (self.train_Z, self.train_y) if split == "train" else (self.test_Z, self.test_y)
        if n is None or n >= len(y):
            return Z, y, np.arange(len(y))
        check_count(n, name="n (None for every point)")
        index = np.sort(np.random.default_rng([seed, len(y)]).choice(len(y), n, replace=False))
        return Z[index], y[index], index

    def normalized(self, n_test: int | None = None, n_train: int | None = None, *,
                   seed: int = 0) -> NormalizedSample:
        """Seeded subsets of both splits in the book's units (notation page).

        The unit-cube map (one global minimum and maximum) is fitted on the *whole* training
        split, then applied to ``n_train`` training and ``n_test`` test rows chosen as in
        :meth:`subset`, so every chapter that asks for the same sizes and seed measures the
        same points in the same units.
        """
        from helpers.measure.quantize import fit_unit_cube

        scaler = fit_unit_cube(self.train_Z)
        test_z, test_y, test_index = self.subset("test", n_test, seed=seed)
        train_z, train_y, train_index = self.subset("train", n_train, seed=seed)
        return NormalizedSample(scaler=scaler, train_u=scaler.transform(train_z),
                                train_y=train_y, train_index=train_index,
                                test_u=scaler.transform(test_z), test_y=test_y,
                                test_index=test_index)

    def summary(self) -> dict:
        """One row for a table: label, data, dimension, accuracies, time, cache."""
        return {
            "model": self.label,
            "data": self.data_label,
            "d_Z": self.representation_dim,
            "parameters": self.n_parameters,
            "epochs": self.epochs,
            "train accuracy": round(self.train_accuracy, 4),
            "test accuracy": round(self.test_accuracy, 4),
            "training [s]": round(self.seconds, 1),
            "inputs per s": (round(float(self.trained.images_per_second))
                             if getattr(self.trained, "images_per_second", None) else None),
            "weights": "cache hit" if self.cache_hit else "trained now",
        }

    @property
    def variant(self) -> str:
        """``"ReLU"``-style activation name and spectral norm, e.g. ``"GELU + SN"``."""
        return self.activation.upper() + (" + SN" if self.spectral_norm else "")


@dataclass(frozen=True)
class SkippedModel:
    """A model of the profile that was not trained because its data are missing."""

    model: str
    dataset: str
    reason: str

    @property
    def name(self) -> str:
        return DISPLAY_NAMES[self.model]


class Suite(list):
    """The list of :class:`SuiteRecord` returned by :func:`train_suite`, with context.

    Attributes
    ----------
    profile : SuiteProfile
    skipped : list of SkippedModel
        Models of the profile left out because their dataset is not in the data directory.
    seconds : float
        Wall time of the :func:`train_suite` call (loading data, training or loading
        weights, extracting representations).
    """

    def __init__(self, records=(), *, profile: SuiteProfile, skipped=(), seconds: float = 0.0):
        super().__init__(records)
        self.profile = profile
        self.skipped = list(skipped)
        self.seconds = float(seconds)

    def by_label(self, label: str) -> SuiteRecord:
        """The record with this display label (``"CNN-MNIST + SN"``)."""
        for record in self:
            if record.label == label:
                return record
        raise KeyError(f"no model labelled {label!r}; the suite has "
                       f"{[record.label for record in self]}.")

    def table(self) -> list[dict]:
        """One :meth:`SuiteRecord.summary` row per record."""
        return [record.summary() for record in self]

    def skipped_text(self) -> str:
        """A sentence on the models left out, for the prose (chapter "Curvature threshold")."""
        if not self.skipped:
            return "Every model of the profile was trained or loaded."
        return " ".join(f"{item.name} was skipped: {item.reason}" for item in self.skipped)

    def data_text(self) -> str:
        """Which data the models saw, where it came from, and how it differs from the
        proposal's, as one paragraph for the prose."""
        parts = []
        for dataset in dict.fromkeys(record.dataset for record in self):
            members = [record for record in self if record.dataset == dataset]
            names = ", ".join(dict.fromkeys(record.name for record in members))
            first = members[0]
            text = f"{names} on {first.data_label} ({first.source})"
            notes = [note for note in dict.fromkeys(r.stand_in for r in members) if note]
            notes += [note for note in dict.fromkeys(r.data_note for r in members) if note]
            if notes:
                text += "; " + "; ".join(notes)
            parts.append(text)
        return ". ".join(parts) + "." if parts else "No model was trained."

    @property
    def all_cache_hits(self) -> bool:
        return bool(self) and all(record.cache_hit for record in self)


# --------------------------------------------------------------------------- training


def _select(profile: SuiteProfile, models) -> list[ModelSpec]:
    specs = list(profile.specs)
    if models is None:
        return specs
    if isinstance(models, str):
        models = [models]
    wanted = [canonical_model_name(name) for name in models]
    available = [spec.model for spec in specs]
    missing = [name for name in wanted if name not in available]
    if missing:
        raise ValueError(f"models {missing} are not in suite profile {profile.name!r}, which "
                         f"has {available}.")
    return [spec for spec in specs if spec.model in wanted]


def _check_spectral_norm(values, profile: SuiteProfile) -> tuple:
    if values is None:
        return tuple(profile.spectral_norm)
    if isinstance(values, bool):
        return (values,)
    values = tuple(values)
    if not values or not all(isinstance(v, bool) for v in values):
        raise ValueError(f"spectral_norm must be a bool or a non-empty sequence of bools, "
                         f"got {values!r}.")
    return values




def result_key(label: str) -> str:
    """Identifier for a results file from a display label (``"CNN-MNIST + SN"`` ->
    ``"cnn_mnist_sn"``, ``"CNN-MNIST (smooth)"`` -> ``"cnn_mnist_smooth"``)."""
    key = label.lower().replace(" + sn", "_sn").replace(" (", "_").replace(")", "")
    return key.replace("-", "_").replace(" ", "_")


def _fit_sizes(splits, spec: ModelSpec, seed: int):
    """Subsample ``splits`` to the spec's sizes; a split smaller than asked is used whole.

    Returns the splits and a note (``None`` when every size fitted). The subsample is the
    one :func:`helpers.data.load_dataset` draws for the same sizes and seed.
    """
    from dataclasses import replace as replace_splits

    from helpers.data._base import subsample

    notes, parts = [], {}
    for part, wanted in (("train", spec.n_train), ("test", spec.n_test)):
        split = getattr(splits, part)
        available = len(split.labels)
        if wanted is not None and wanted > available:
            notes.append(f"the profile asks for {wanted:,} {part} examples of {splits.name} but "
                         f"the data directory holds {available:,}: all {available:,} are used")
            wanted = None
        parts[part] = subsample(split, wanted, seed=seed, split_name=part, dataset=splits.name)
    note = "; ".join(notes) or None
    fitted = replace_splits(splits, train=parts["train"], test=parts["test"])
    return fitted, note


def _load_all(specs, *, data_dir, seed):
    """Load the data of every spec before anything trains: ``(loaded, notes, missing)``.

    ``loaded`` and ``notes`` map ``(dataset, n_train, n_test)`` to the splits and to a note
    (``None`` when every size fitted); ``missing`` maps it to the reason the data could not
    be loaded. Splits smaller than a spec asks for are used whole, with a note. So a build
    that cannot run stops (or skips) in seconds, not after the first networks have trained.
    """
    status, loaded, notes, missing = None, {}, {}, {}
    for spec in specs:
        key = (spec.dataset, spec.n_train, spec.n_test)
        if key in loaded or key in missing:
            continue
        if spec.dataset in REAL_DATASETS:
            if status is None:
                status = dataset_status(data_dir)
            present, detail = status[spec.dataset]
            if not present:
                missing[key] = f"{spec.dataset} is not in the data directory. {detail}"
                continue
        try:
            if spec.dataset == "topics":  # generated: the sizes are what is generated
                loaded[key] = load_dataset(spec.dataset, n_train=spec.n_train,
                                           n_test=spec.n_test, seed=seed)
                notes[key] = None
            else:
                whole = load_dataset(spec.dataset, data_dir=data_dir, download=False, seed=seed)
                loaded[key], notes[key] = _fit_sizes(whole, spec, seed)
        except DatasetNotFoundError as error:
            missing[key] = str(error)
    return loaded, notes, missing


def _variants(spec: ModelSpec, profile: SuiteProfile, spectral_norm: tuple, smooth) -> list:
    """``(activation or None, smooth_variant, spectral_norm)`` triples to train for a spec."""
    base = [(None, False, sn) for sn in spectral_norm] if smooth != "only" else []
    if smooth and spec.model in profile.smooth_models:
        base += [(profile.smooth_activation, True, sn) for sn in spectral_norm]
    return base


def train_suite(profile="default", *, models=None, spectral_norm=None, include_smooth=False,
                seed: int = 0, data_dir=None, cache_dir=None, device="auto",
                num_threads: int | None = 1, log=print, progress: bool = False,
                refresh: bool = False) -> Suite:
    """Train (or load from the cache) every model of a profile and extract representations.

    Parameters
    ----------
    profile : {"smoke", "default", "full"} or SuiteProfile
        Which models, on which data, for how long (see the module docstring).
    models : str or list of str, optional
        Restrict to these architectures (registry names or aliases).
    spectral_norm : bool or sequence of bool, optional
        Variants to train; default both, ``(False, True)``.
    include_smooth : bool or "only"
        Also train the smooth variants (GELU in place of ReLU, average in place of max
        pooling) of the profile's ``smooth_models`` (chapter "Curvature threshold");
        ``"only"`` trains just those.
    seed : int
        Seed of training and of the datasets' splits and subsamples.
    data_dir : path, optional
        Data directory for the real datasets (else ``$HELPERS_DATA_DIR``, else ``./data``).
    cache_dir : path, optional
        Overrides ``$HELPERS_CACHE_DIR``.
    device : {"auto", "cpu", "cuda"}
        Where training and representation extraction run; passed to
        :func:`helpers.nets.train.train_model` (the device type is part of the cache key).
        ``"auto"`` uses CUDA when torch sees a GPU (as in Colab) and the CPU otherwise.
        The records' models are moved to the CPU afterwards, where the chapters analyse them.
    num_threads : int or None
        torch threads while training and extracting representations (one by default; see
        the module docstring).
    log : callable or None
        Receives the cache and training log lines (``cache hit: ...`` on a rerun) and one
        line per model.
    progress : bool
        tqdm progress bars over epochs.
    refresh : bool
        Retrain even when the cache holds the weights.

    Returns
    -------
    Suite
        A list of :class:`SuiteRecord` (for each spec in order: the variants in the order of
        ``spectral_norm``, then the smooth ones), with ``skipped`` listing models whose data
        are missing.

    Raises
    ------
    ValueError
        Unknown profile or model names, bad arguments.

    Notes
    -----
    Every dataset is loaded and every size checked before the first network trains. A split
    smaller than the profile's subsample (a partial AG News file, say) is used whole, and the
    record's ``data_note`` says so.
    """
    from helpers.nets.train import extract_representations, train_model

    started = time.perf_counter()
    profile = suite_profile(profile)
    specs = _select(profile, models)
    variants = _check_spectral_norm(spectral_norm, profile)
    if include_smooth not in (True, False, "only"):
        raise ValueError(f"include_smooth must be True, False or 'only', got {include_smooth!r}.")
    loaded, notes, missing = _load_all(specs, data_dir=data_dir, seed=seed)
    records, skipped = [], []
    for spec in specs:
        key = (spec.dataset, spec.n_train, spec.n_test)
        if key in missing:
            skipped.append(SkippedModel(spec.model, spec.dataset, missing[key]))
            if log is not None:
                log(f"skipped {DISPLAY_NAMES[spec.model]}: {missing[key]}")
            continue
        if notes[key] and log is not None:
            log(f"note for {DISPLAY_NAMES[spec.model]}: {notes[key]}")
        splits = loaded[key]
        for activation, smooth, sn in _variants(spec, profile, variants, include_smooth):
            settings = spec.training_settings(smooth=smooth, spectral_norm=sn)
            if smooth:
                settings["model_kwargs"].update(profile.smooth_model_kwargs)
            trained = train_model(
                spec.model, splits, seed=seed, spectral_norm=sn, activation=activation,
                width=spec.width, profile=profile.name, cache_dir=cache_dir, device=device,
                num_threads=num_threads, progress=progress, log=log, refresh=refresh,
                **settings,
            )
            with _torch_threads(num_threads):
                train_Z = extract_representations(trained, splits, "train",
                                                  cache_dir=cache_dir, log=log, refresh=refresh)
                test_Z = extract_representations(trained, splits, "test",
                                                 cache_dir=cache_dir, log=log, refresh=refresh)
            # the chapters' analyses (curvature, Lipschitz bounds) run on the CPU copy
            trained.model.cpu()
            records.append(SuiteRecord(
                model=spec.model, spectral_norm=sn, dataset=splits.name, source=splits.source,
                stand_in=spec.stand_in, representation_dim=int(trained.representation_dim),
                train_Z=np.asarray(train_Z, dtype=np.float32),
                test_Z=np.asarray(test_Z, dtype=np.float32),
                train_y=np.asarray(splits.train.labels, dtype=np.int64),
                test_y=np.asarray(splits.test.labels, dtype=np.int64),
                train_accuracy=float(trained.train_accuracy),
                test_accuracy=float(trained.test_accuracy), seconds=float(trained.seconds),
                cache_hit=bool(trained.cache_hit), epochs=int(trained.epochs_run),
                n_parameters=int(trained.n_parameters), trained=trained, data=splits,
                activation=str(trained.config.get("activation")), smooth_variant=smooth,
                data_note=notes.get(key),
            ))
    return Suite(records, profile=profile, skipped=skipped,
                 seconds=time.perf_counter() - started)


#: Training settings :func:`retrain` may change.
RETRAIN_SETTINGS = ("seed", "logit_scale", "epochs", "snapshots")


def retrain(record: SuiteRecord, *, cache_dir=None, log=None, num_threads: int | None = 1,
            **changes) -> SuiteRecord:
    """The record's network trained again, on the same data, with some settings changed.

    Introduced in the chapter "Lipschitz regularization": other training seeds (``seed``,
    which changes initialization and batch order but not the data), another loss
    temperature (``logit_scale``), or per-epoch weights (``snapshots=True``). Everything
    else is read from the record's cache key, so ``retrain(record)`` with no change is a
    cache hit on the record's own weights.

    Raises
    ------
    ValueError
        For a setting that cannot be changed (the message lists those that can).
    """
    from helpers.nets.train import extract_representations, train_model

    unknown = sorted(set(changes) - set(RETRAIN_SETTINGS))
    if unknown:
        raise ValueError(f"retrain cannot change {unknown}; it changes {list(RETRAIN_SETTINGS)}.")
    key = record.trained.key
    model_settings = dict(key["model"])
    name = model_settings.pop("name")
    spectral_norm = model_settings.pop("spectral_norm")
    activation = model_settings.pop("activation")
    width = model_settings.pop("width")
    training = {k: v for k, v in key["training"].items() if k != "optimizer"}
    training.update(changes)
    trained = train_model(name, record.data, spectral_norm=spectral_norm, activation=activation,
                          width=width, model_kwargs=model_settings, profile=key["profile"],
                          device=key["device"], cache_dir=cache_dir, num_threads=num_threads,
                          progress=False, log=log, **training)
    with _torch_threads(num_threads):
        train_Z, test_Z = (extract_representations(trained, record.data, split,
                                                   cache_dir=cache_dir, log=log)
                           for split in ("train", "test"))
    trained.model.cpu()
    return replace(record, train_Z=np.asarray(train_Z, dtype=np.float32),
                   test_Z=np.asarray(test_Z, dtype=np.float32),
                   train_accuracy=float(trained.train_accuracy),
                   test_accuracy=float(trained.test_accuracy), seconds=float(trained.seconds),
                   cache_hit=bool(trained.cache_hit), epochs=int(trained.epochs_run),
                   trained=trained)


#: Datasets the text model reads; every other dataset feeds the image models.
TEXT_DATASETS = ("topics", "ag_news")


def with_dataset(profile, dataset: str | None) -> SuiteProfile:
    """A copy of a profile whose image models (or, for a text dataset, whose text model) train
    on ``dataset``; ``None`` returns the profile unchanged.

    Introduced in the chapter "Precision lower bound", whose ``dataset`` parameter uses it.
    The models' labels say whether the data are the proposal's or a stand-in.
    """
    profile = suite_profile(profile)
    if dataset is None:
        return profile
    from helpers.data import DATASETS

    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; valid names: {', '.join(DATASETS)}.")
    text = dataset in TEXT_DATASETS
    specs = []
    for spec in profile.specs:
        if (spec.model == "transformer-tiny") != text or spec.dataset == dataset:
            specs.append(spec)
            continue
        proposal = PROPOSAL_DATASETS[spec.model]
        note = None if dataset == proposal else (
            f"{dataset} in place of the proposal's {proposal} (chosen by the dataset parameter)")
        specs.append(replace(spec, dataset=dataset, n_train=None, n_test=None, stand_in=note))
    return replace(profile, specs=tuple(specs),
                   description=f"{profile.description}; data set to {dataset}")


def with_specs(profile, **changes) -> SuiteProfile:
    """A copy of a profile with every spec changed by ``changes`` (e.g. ``epochs=1``)."""
    profile = suite_profile(profile)
    return replace(profile, specs=tuple(replace(spec, **changes) for spec in profile.specs))


__all__ = ["DISPLAY_NAMES", "PROFILES", "PROFILE_NAMES", "PROPOSAL_DATASETS", "SMOOTH_ACTIVATION",
           "SMOOTH_MODELS", "SMOOTH_MODEL_KWARGS", "TEXT_DATASETS", "ModelSpec",
           "NormalizedSample", "RETRAIN_SETTINGS", "SkippedModel", "Suite", "SuiteProfile",
           "SuiteRecord", "result_key", "retrain", "suite_profile", "train_suite",
           "with_dataset", "with_specs"]
