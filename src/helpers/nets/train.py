"""Deterministic, cached training of the book's models and extraction of representations.

Introduced in the chapter "Models and training". :func:`train_model` trains one model on a
:class:`helpers.data.DatasetSplits` with a fixed epoch budget (optionally stopping early on
a validation part of the training split) and caches the weights under a key made of the
model, the data's identity and content fingerprint, and every training setting.
:func:`extract_representations` caches the representation matrix of a split the same way.
A rerun loads both from the cache (``HELPERS_CACHE_DIR``) and says so in its log.

Determinism. Each training seeds torch (model initialisation, spectral-norm vectors and
batch order use it), numpy and Python's ``random``, and turns on
:func:`torch.use_deterministic_algorithms` for its duration; the global random states and
settings are restored afterwards, so a notebook's own randomness is not disturbed. On CPU
the same call gives bit-identical weights on the same machine with the same number of
threads (``num_threads``); another CPU, thread count or torch version may change the last
bits of floating-point sums, and CUDA runs differ from CPU runs (the device is part of the
key).
"""

from __future__ import annotations

import copy
import random
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn

from helpers._settings import cache_dir as _cache_dir
from helpers._validation import check_choice, check_count, check_real
from helpers.nets.cache import (
    array_fingerprint,
    cached_result,
    key_hash,
    load_checkpoint,
    remove_checkpoint,
    save_checkpoint,
)
from helpers.nets.models import (
    TEXT_MODELS,
    UNK_ID,
    RepresentationModel,
    Tokenizer,
    build_model,
    build_vocabulary,
    canonical_model_name,
    rebuild_model,
)

#: Samples per forward pass when evaluating or extracting representations.
EVAL_BATCH_SIZE = 512
#: Default inverse temperature of the loss for spectrally normalized image models.
SPECTRAL_NORM_LOGIT_SCALE = 16.0
#: Training recipes (:func:`train_model`): augmentations, learning-rate schedules and
#: forward-pass precisions, and the defaults that keep a cache key unchanged.
AUGMENTATIONS = (None, "flip-crop", "word-dropout")
SCHEDULES = ("constant", "onecycle")
PRECISIONS = ("float32", "bfloat16")
RECIPE_DEFAULTS = {"augment": None, "schedule": "constant", "label_smoothing": 0.0,
                   "precision": "float32"}
#: Share of real tokens ``augment="word-dropout"`` replaces by ``<unk>`` in each batch.
WORD_DROPOUT_RATE = 0.4
#: Padding of the random crop of ``augment="flip-crop"``, in pixels.
CROP_PADDING = 4
#: Called after every epoch's checkpoint with the epoch number (tests interrupt training here).
_after_epoch_hook = None


def default_logit_scale(model_name: str, spectral_norm: bool) -> float:
    """Default ``logit_scale`` of :func:`train_model`.

    :data:`SPECTRAL_NORM_LOGIT_SCALE` for the image models with spectral normalization, whose
    every layer then has unit spectral norm and whose logits are correspondingly small; 1
    otherwise. The transformer keeps 1 in both variants: its final LayerNorm gives features
    of norm about sqrt(128) before the head, so its logits are not small (a scale of 16 made
    its first epoch's loss 26 in a check on a synthetic topic corpus).
    """
    name = canonical_model_name(model_name)
    return SPECTRAL_NORM_LOGIT_SCALE if spectral_norm and name not in TEXT_MODELS else 1.0


@dataclass
class TrainedModel:
    """A trained model and what is known about its training.

    Attributes
    ----------
    model : RepresentationModel
        In eval mode, on the training device.
    model_name : str
        Registry name (``"cnn-mnist"``...).
    config : dict
        The model's constructor arguments (``helpers.nets.models.rebuild_model(config)``).
    train_accuracy, test_accuracy : float
        Accuracy on the part of the training split it was fitted on, and on the test split.
    val_accuracy : float or None
        Best validation accuracy when early stopping was used.
    seconds : float
        Wall time of the training itself (as measured when it ran, also on a cache hit).
    cache_hit : bool
        True when the weights were loaded from the cache rather than trained now.
    history : list of dict
        Per epoch: ``epoch``, ``loss`` (mean training loss), ``train_accuracy`` (running,
        on the batches), and ``val_accuracy`` when there is a validation part.
    epochs_run, best_epoch : int
        Epochs actually run, and the epoch whose weights were kept.
    tokenizer : Tokenizer or None
        For text models, the tokenizer built from the training split.
    snapshots : list of dict or None
        State dicts after each epoch, when trained with ``snapshots=True``
        (:func:`snapshot_models` rebuilds them as models).
    images_per_second : float or None
        Training throughput (images or texts per second over the epochs, without
        evaluation), as measured when it ran; ``None`` for weights cached before it was
        recorded.
    key : dict
        The cache key of the weights; ``key_hash`` names the entry.
    dataset_name : str
    device : str
    """

    model: RepresentationModel
    model_name: str
    config: dict
    train_accuracy: float
    test_accuracy: float
    val_accuracy: float | None
    seconds: float
    cache_hit: bool
    history: list = field(default_factory=list)
    epochs_run: int = 0
    best_epoch: int = 0
    tokenizer: Tokenizer | None = None
    key: dict = field(default_factory=dict, repr=False)
    key_hash: str = ""
    dataset_name: str = ""
    device: str = "cpu"
    snapshots: list | None = field(default=None, repr=False)
    images_per_second: float | None = None

    @property
    def representation_dim(self) -> int:
        return self.model.representation_dim

    @property
    def n_parameters(self) -> int:
        return self.model.n_parameters()

    def summary(self) -> str:
        """One line: model, data, accuracies, time and whether it came from the cache."""
        source = "loaded from cache" if self.cache_hit else "trained now"
        sn = "spectral norm" if self.config.get("spectral_norm") else "no spectral norm"
        return (f"{self.model_name} ({sn}, {self.config.get('activation')}) on "
                f"{self.dataset_name}: train accuracy {self.train_accuracy:.3f}, test accuracy "
                f"{self.test_accuracy:.3f}, {self.epochs_run} epochs in {self.seconds:.1f} s "
                f"({source})")


# --------------------------------------------------------------------------- determinism


@contextmanager
def deterministic(seed: int, *, num_threads: int | None = None):
    """Seed torch, numpy and ``random``, force deterministic algorithms; restore on exit."""
    check_count(seed, name="seed", minimum=0)
    python_state = random.getstate()
    numpy_state = np.random.get_state()  # noqa: NPY002 - libraries may use the global state
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    threads = torch.get_num_threads()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        try:
            if num_threads is not None:
                torch.set_num_threads(int(num_threads))
            torch.use_deterministic_algorithms(True, warn_only=True)
            random.seed(int(seed))
            np.random.seed(int(seed))  # noqa: NPY002
            torch.manual_seed(int(seed))
            yield
        finally:
            torch.use_deterministic_algorithms(was_deterministic, warn_only=was_warn_only)
            torch.set_num_threads(threads)
            random.setstate(python_state)
            np.random.set_state(numpy_state)  # noqa: NPY002


def _resolve_device(device) -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but torch sees no CUDA device; "
                         "use device='cpu' or 'auto'.")
    return device


# --------------------------------------------------------------------------- data


def _is_text(inputs) -> bool:
    return isinstance(inputs, (list, tuple)) and (len(inputs) == 0 or isinstance(inputs[0], str))


def _check_split(split, name: str, n_classes: int):
    inputs, labels = split.inputs, np.asarray(split.labels)
    if labels.ndim != 1:
        raise ValueError(f"{name} labels must be 1-D, got shape {labels.shape}.")
    if len(inputs) != len(labels):
        raise ValueError(f"{name} has {len(inputs)} inputs but {len(labels)} labels.")
    if len(labels) == 0:
        raise ValueError(f"{name} is empty.")
    if labels.dtype.kind not in "iu":
        raise ValueError(f"{name} labels must be integers, got dtype {labels.dtype}.")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"{name} labels must lie in 0..{n_classes - 1} (n_classes={n_classes}), "
                         f"got {labels.min()}..{labels.max()}.")
    if not _is_text(inputs):
        array = np.asarray(inputs)
        if array.ndim != 4 or array.shape[2] != array.shape[3]:
            raise ValueError(f"{name} images must have shape (N, C, H, H), got {array.shape}.")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} images hold NaN or infinite values.")
    return labels.astype(np.int64)


def dataset_identity(splits) -> dict:
    """Identity of a :class:`DatasetSplits` for cache keys: name, sizes and content fingerprints.

    Source-independent: the same arrays give the same identity whether they were
    downloaded, read from a data folder or embedded.
    """
    identity = {
        "name": splits.name,
        "n_classes": int(splits.n_classes),
        "n_train": len(splits.train.labels),
        "n_test": len(splits.test.labels),
    }
    for part in ("train", "test"):
        split = getattr(splits, part)
        identity[f"{part}_inputs"] = array_fingerprint(_text_or_array(split.inputs))
        identity[f"{part}_labels"] = array_fingerprint(np.asarray(split.labels))
    return identity


def _text_or_array(inputs):
    return list(inputs) if _is_text(inputs) else np.asarray(inputs)


def _encode(model_name, inputs, tokenizer):
    """Return the input tensors for a split: ``(x,)`` for images, ``(ids, mask)`` for text."""
    if model_name in TEXT_MODELS:
        if not _is_text(inputs):
            raise ValueError(f"{model_name} is a text model but the dataset holds arrays; use "
                             "a text dataset (ag_news, topics).")
        return tokenizer.encode(inputs)
    if _is_text(inputs):
        raise ValueError(f"{model_name} is an image model but the dataset holds texts; use "
                         "transformer-tiny for text.")
    return (torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32)),)


def _take(tensors, index):
    return tuple(t[index] for t in tensors)


def _trim(batch):
    """Cut a text batch ``(ids, mask)`` to its longest real sequence (padding sits at the end).

    Padded positions are masked out of attention and pooling, so this changes nothing but the
    cost, which is quadratic in the length for attention.
    """
    if len(batch) == 2:
        ids, mask = batch
        length = max(1, int(mask.sum(dim=1).max()))
        return [ids[:, :length], mask[:, :length]]
    return batch


@torch.no_grad()
def _batched(model, tensors, device, fn, batch_size=EVAL_BATCH_SIZE):
    outputs = []
    n = len(tensors[0])
    for start in range(0, n, batch_size):
        batch = _trim([t[start:start + batch_size].to(device) for t in tensors])
        outputs.append(fn(*batch).cpu())
    return torch.cat(outputs)


def _accuracy(model, tensors, labels, device) -> float:
    model.eval()
    logits = _batched(model, tensors, device, model)
    return float((logits.argmax(dim=1) == labels).float().mean())


# --------------------------------------------------------------------------- training


def train_model(model_name: str, dataset_splits, *, seed: int = 0, epochs: int = 5,
                batch_size: int = 64, lr: float = 1e-3, spectral_norm: bool = False,
                activation: str | None = None, profile: str = "default", cache_dir=None,
                weight_decay: float = 0.0, logit_scale: float | None = None,
                width: float = 1.0, val_fraction: float = 0.0,
                patience: int | None = None, max_vocab: int = 5000, min_count: int = 2,
                max_length: int = 64, model_kwargs: dict | None = None, device="auto",
                num_threads: int | None = None, progress: bool = True, log=print,
                refresh: bool = False, snapshots: bool = False, augment: str | None = None,
                schedule: str = "constant", label_smoothing: float = 0.0,
                precision: str = "float32", checkpoint: bool = True) -> TrainedModel:
    """Train (or load from the cache) one model on a dataset.

    Parameters
    ----------
    model_name : str
        A name from :data:`helpers.nets.models.MODELS`.
    dataset_splits : DatasetSplits
        From :func:`helpers.data.load_dataset`: images (N, C, H, H) in [0, 1] for the image
        models, lists of texts for ``transformer-tiny``.
    seed : int
        Seeds initialisation, batch order and the validation split.
    epochs : int
        Epoch budget (the maximum when early stopping).
    batch_size, lr, weight_decay : training settings (Adam; AdamW when weight_decay > 0).
    logit_scale : float, optional
        The loss is the cross-entropy of ``logit_scale * logits`` (an inverse temperature;
        predictions and the representation do not depend on it). A network whose every layer
        is spectrally normalized has bounded logit differences and learns slowly with plain
        cross-entropy, as is known for Lipschitz classifiers (Bethune et al. 2022, "Pay
        attention to your loss"). Default: :func:`default_logit_scale` (16 for the image models
        with spectral normalization, else 1); in a check on 8x8 digits (10 epochs) it lifted
        the spectrally normalized CNN-MNIST from 0.79 to 0.97 test accuracy.
    spectral_norm, activation, width : passed to :func:`helpers.nets.models.build_model`.
    profile : str
        Name of the build profile; part of the cache key.
    cache_dir : path, optional
        Overrides ``HELPERS_CACHE_DIR``.
    val_fraction : float
        Fraction of the training split held out for validation (0 = none). With
        ``patience`` set, training stops after that many epochs without a better validation
        accuracy; the weights of the best epoch are kept either way.
    max_vocab, min_count, max_length : text models only: vocabulary size cap, minimum word
        count, and tokens per text. The tokenizer is built from the training part only.
    model_kwargs : dict, optional
        Further arguments for :func:`~helpers.nets.models.build_model` (e.g. ``n_layers``).
    device : {"auto", "cpu", "cuda"}
        ``"auto"`` (the default) trains on CUDA when torch sees a GPU, as in Colab, and on
        the CPU otherwise. The device type is part of the cache key, so CPU results are the
        same as with ``"cpu"``.
    num_threads : int, optional
        torch CPU threads during training (restored afterwards); ``None`` keeps the current
        setting.
    progress : bool
        Show a tqdm progress bar over epochs (on stderr).
    log : callable or None
        Receives the cache and training log lines (``print`` by default).
    refresh : bool
        Retrain even if the cache holds the weights.
    snapshots : bool
        Also keep the weights after every epoch (``TrainedModel.snapshots``), for measuring a
        quantity along training (chapter "Lipschitz regularization"). Part of the cache key
        only when true, so it never changes the key of an ordinary run.
    augment : {None, "flip-crop", "word-dropout"}
        ``"flip-crop"``, image models: each batch is augmented on the fly by a random
        horizontal flip and a random crop of the image padded by 4 pixels (zeros), the
        standard CIFAR-10 recipe. ``"word-dropout"``, text models: each real token of a batch
        is replaced by ``<unk>`` with probability :data:`WORD_DROPOUT_RATE`, so that a small
        corpus cannot be memorized word by word.
    schedule : {"constant", "onecycle"}
        Learning rate: constant ``lr``, or a one-cycle schedule that warms up to ``lr`` over
        the first 25% of the steps and anneals (cosine) to almost zero.
    label_smoothing : float
        Label smoothing of the cross-entropy (0 = none).
    precision : {"float32", "bfloat16"}
        ``"bfloat16"`` runs the forward pass under :func:`torch.autocast` in bfloat16 (on
        CPUs with AMX or AVX-512 BF16 several times faster; image models then also use the
        channels-last memory layout); weights, optimizer and loss stay in float32, and
        evaluation and representations are computed in float32.
    checkpoint : bool
        Save the whole training state after every epoch (atomically, under
        ``<cache>/checkpoints``) and resume from it when a run was interrupted: the resumed
        run ends with the same weights as an uninterrupted one. The checkpoint is removed
        once the weights are in the cache. Not part of the cache key.

    The settings ``augment``, ``schedule``, ``label_smoothing`` and ``precision`` enter the
    cache key only when they differ from their defaults, so they never change the key of a
    run that does not use them.

    Returns
    -------
    TrainedModel
    """
    name = canonical_model_name(model_name)
    n_classes = int(dataset_splits.n_classes)
    train_labels = _check_split(dataset_splits.train, "the training split", n_classes)
    test_labels = _check_split(dataset_splits.test, "the test split", n_classes)
    for label, value in (("epochs", epochs), ("batch_size", batch_size)):
        check_count(value, name=label)
    check_real(lr, name="lr", low=0.0, include_low=False)
    if not (0.0 <= val_fraction < 1.0):
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}.")
    check_choice(augment, AUGMENTATIONS, name="augment")
    check_choice(schedule, SCHEDULES, name="schedule")
    check_choice(precision, PRECISIONS, name="precision")
    check_real(label_smoothing, name="label_smoothing", low=0.0, high=1.0, include_high=False)
    if patience is not None and val_fraction == 0.0:
        raise ValueError("early stopping (patience) needs a validation split: set val_fraction.")
    if not isinstance(profile, str):
        raise ValueError(f"profile must be a profile name (str), got {profile!r}.")
    is_text = name in TEXT_MODELS
    if augment is not None and is_text != (augment == "word-dropout"):
        kind = "text" if augment == "word-dropout" else "image"
        raise ValueError(f"augment={augment!r} is for {kind} models; {name} reads "
                         f"{'texts' if is_text else 'images'}.")
    if is_text != _is_text(dataset_splits.train.inputs):
        kind = "texts" if _is_text(dataset_splits.train.inputs) else "images"
        raise ValueError(f"model {name} does not fit dataset {dataset_splits.name!r}, which "
                         f"holds {kind}.")
    torch_device = _resolve_device(device)
    if activation is None:
        activation = "gelu" if is_text else "relu"
    if logit_scale is None:
        logit_scale = default_logit_scale(name, spectral_norm)
    check_real(logit_scale, name="logit_scale", low=0.0, include_low=False)
    model_kwargs = dict(model_kwargs or {})
    if is_text:
        model_kwargs.setdefault("max_length", max_length)
    training = {
        "seed": int(seed), "epochs": int(epochs), "batch_size": int(batch_size),
        "lr": float(lr), "weight_decay": float(weight_decay), "optimizer": "adam",
        "logit_scale": float(logit_scale),
        "val_fraction": float(val_fraction), "patience": patience,
    }
    if is_text:
        training.update(max_vocab=int(max_vocab), min_count=int(min_count),
                        max_length=int(max_length))
    if snapshots:
        training["snapshots"] = True
    recipe = {"augment": augment, "schedule": schedule,
              "label_smoothing": float(label_smoothing), "precision": precision}
    training.update({k: v for k, v in recipe.items() if v != RECIPE_DEFAULTS[k]})
    if augment == "word-dropout":  # the rate is a module constant: the key must still see it
        training["word_dropout_rate"] = WORD_DROPOUT_RATE
    key = {
        "model": {"name": name, "spectral_norm": bool(spectral_norm),
                  "activation": activation, "width": float(width), **model_kwargs},
        "dataset": dataset_identity(dataset_splits),
        "training": training,
        "profile": profile,
        "device": torch_device.type,
    }
    description = (f"weights of {name} ({'spectral norm' if spectral_norm else 'no spectral norm'}"
                   f", {activation}) on {dataset_splits.name}, seed {seed}, profile {profile}")

    checkpoint_path = (_cache_dir(cache_dir) / "checkpoints"
                       / f"{key_hash(key, 'weights')}.pt") if checkpoint else None

    def compute():
        return _fit(name, dataset_splits, train_labels, test_labels, n_classes=n_classes,
                    seed=int(seed), epochs=int(epochs), batch_size=int(batch_size),
                    lr=float(lr), weight_decay=float(weight_decay),
                    logit_scale=float(logit_scale), spectral_norm=spectral_norm,
                    activation=activation, width=width, val_fraction=val_fraction,
                    patience=patience, max_vocab=max_vocab, min_count=min_count,
                    max_length=max_length, model_kwargs=model_kwargs, device=torch_device,
                    num_threads=num_threads, progress=progress, log=log, snapshots=snapshots,
                    augment=augment, schedule=schedule,
                    label_smoothing=float(label_smoothing), precision=precision,
                    checkpoint_path=checkpoint_path)

    result = cached_result(key, compute, kind="weights", cache_dir=cache_dir, log=log,
                           description=description, refresh=refresh)
    remove_checkpoint(checkpoint_path)  # the weights are in the cache now
    payload = result.value
    model = rebuild_model(payload["config"])
    model.load_state_dict(payload["state_dict"])
    model.to(torch_device).eval()
    tokenizer = Tokenizer.from_dict(payload["tokenizer"]) if payload["tokenizer"] else None
    trained = TrainedModel(
        model=model, model_name=name, config=dict(payload["config"]),
        train_accuracy=float(payload["train_accuracy"]),
        test_accuracy=float(payload["test_accuracy"]),
        val_accuracy=payload["val_accuracy"], seconds=float(payload["seconds"]),
        cache_hit=result.hit, history=list(payload["history"]),
        epochs_run=int(payload["epochs_run"]), best_epoch=int(payload["best_epoch"]),
        tokenizer=tokenizer, key=key, key_hash=result.key_hash,
        dataset_name=dataset_splits.name, device=torch_device.type,
        snapshots=payload.get("snapshots"),
        images_per_second=payload.get("images_per_second"),
    )
    if log is not None:
        log(trained.summary())
    return trained


def recipe_text(key: dict) -> str:
    """The training recipe of a cache key (:attr:`TrainedModel.key`) in one line.

    Introduced in the chapter "Execution statistics", whose training table shows how each
    network was trained: ``"batch 128, lr 0.003 one-cycle, weight decay 0.0005, flip-crop,
    label smoothing 0.1, logit scale 16, bfloat16"``. Settings at their defaults are left out.
    """
    if not (isinstance(key, dict) and isinstance(key.get("training"), dict)):
        raise ValueError("recipe_text takes a cache key with a 'training' section "
                         f"(TrainedModel.key), got {type(key).__name__}.")
    training, model = key["training"], key.get("model", {})
    lr = f"lr {training.get('lr', 0):g}"
    if training.get("schedule", "constant") != "constant":
        lr += f" {training['schedule'].replace('onecycle', 'one-cycle')}"
    parts = [f"batch {training.get('batch_size', '?')}", lr]
    if training.get("weight_decay"):
        parts.append(f"weight decay {training['weight_decay']:g}")
    if training.get("augment"):
        rate = training.get("word_dropout_rate")
        parts.append(str(training["augment"]) + (f" {rate:g}" if rate is not None else ""))
    if model.get("dropout"):
        parts.append(f"dropout {model['dropout']:g}")
    if training.get("label_smoothing"):
        parts.append(f"label smoothing {training['label_smoothing']:g}")
    if training.get("logit_scale", 1.0) != 1.0:
        parts.append(f"logit scale {training['logit_scale']:g}")
    if training.get("precision", "float32") != "float32":
        parts.append(str(training["precision"]))
    return ", ".join(parts)


def _flip_crop(images, generator, padding: int = CROP_PADDING):
    """Random horizontal flip and random crop (zero padding) of a batch ``(B, C, H, W)``.

    Draws from ``generator`` only, so a resumed run draws the same augmentations.
    """
    b, _, h, w = images.shape
    flip = torch.rand(b, generator=generator) < 0.5
    offsets = torch.randint(0, 2 * padding + 1, (2, b), generator=generator)
    images = torch.where(flip.view(b, 1, 1, 1).to(images.device), images.flip(3), images)
    padded = nn.functional.pad(images, (padding, padding, padding, padding))
    rows = (offsets[0].view(b, 1) + torch.arange(h)).to(images.device)
    cols = (offsets[1].view(b, 1) + torch.arange(w)).to(images.device)
    batch_index = torch.arange(b, device=images.device).view(b, 1, 1, 1)
    channel_index = torch.arange(images.shape[1], device=images.device).view(1, -1, 1, 1)
    return padded[batch_index, channel_index, rows.view(b, 1, h, 1), cols.view(b, 1, 1, w)]


def _word_dropout(ids, mask, generator, rate: float = WORD_DROPOUT_RATE):
    """Replace each real token of ``ids`` by ``<unk>`` with probability ``rate``.

    Padding stays padding and the mask is unchanged. Draws from ``generator`` only, so a
    resumed run draws the same replacements.
    """
    drop = (torch.rand(ids.shape, generator=generator) < rate).to(ids.device) & mask.bool()
    return torch.where(drop, torch.full_like(ids, UNK_ID), ids)


def _fit(name, splits, train_labels, test_labels, *, n_classes, seed, epochs, batch_size, lr,
         weight_decay, logit_scale, spectral_norm, activation, width, val_fraction, patience,
         max_vocab, min_count, max_length, model_kwargs, device, num_threads, progress,
         log, snapshots=False, augment=None, schedule="constant", label_smoothing=0.0,
         precision="float32", checkpoint_path=None) -> dict:
    """Train from scratch, or resume from ``checkpoint_path``; return the cache payload."""
    from tqdm import tqdm

    start = time.perf_counter()
    with deterministic(seed, num_threads=num_threads):
        n_train = len(train_labels)
        order = np.random.default_rng(seed).permutation(n_train)
        n_val = int(round(val_fraction * n_train))
        if val_fraction > 0 and not (1 <= n_val < n_train):
            raise ValueError(f"val_fraction={val_fraction} leaves no validation or no training "
                             f"samples out of {n_train}.")
        val_index, fit_index = np.sort(order[:n_val]), np.sort(order[n_val:])
        inputs = splits.train.inputs
        tokenizer = None
        if name in TEXT_MODELS:
            fit_texts = [inputs[i] for i in fit_index]
            tokenizer = build_vocabulary(fit_texts, max_size=max_vocab, min_count=min_count,
                                         max_length=max_length)
            model = build_model(name, n_classes=n_classes, spectral_norm=spectral_norm,
                                activation=activation, width=width,
                                vocab_size=len(tokenizer), **model_kwargs)
        else:
            shape = np.shape(inputs)
            model = build_model(name, in_channels=int(shape[1]), image_size=int(shape[2]),
                                n_classes=n_classes, spectral_norm=spectral_norm,
                                activation=activation, width=width, **model_kwargs)
        fast_layout = precision == "bfloat16" and name not in TEXT_MODELS
        memory_format = torch.channels_last if fast_layout else torch.contiguous_format
        model.to(device=device, memory_format=memory_format)
        train_all = _encode(name, inputs, tokenizer)
        test_tensors = _encode(name, splits.test.inputs, tokenizer)
        y_all = torch.from_numpy(train_labels)
        y_test = torch.from_numpy(test_labels)
        fit_tensors, y_fit = _take(train_all, fit_index), y_all[fit_index]
        val_tensors, y_val = _take(train_all, val_index), y_all[val_index]
        if log is not None:
            text = f" (vocabulary {len(tokenizer)} ids)" if tokenizer else ""
            log(f"training {name} on {splits.name}: {len(y_fit)} samples, {epochs} epochs, "
                f"{model.n_parameters():,} parameters{text}")
        if weight_decay > 0:
            optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        else:
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        steps_per_epoch = -(-len(y_fit) // batch_size)
        scheduler = (torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.25)
            if schedule == "onecycle" else None)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        generator = torch.Generator().manual_seed(seed)
        augmenter = torch.Generator().manual_seed(seed + 1)
        history, best_state, best_val, best_epoch, stale = [], None, -1.0, 0, 0
        epoch_states = [] if snapshots else None
        first_epoch, spent = 1, 0.0
        resumed = load_checkpoint(checkpoint_path, log)
        if resumed is not None:
            model.load_state_dict(resumed["model"])
            optimizer.load_state_dict(resumed["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(resumed["scheduler"])
            generator.set_state(resumed["generator"])
            augmenter.set_state(resumed["augmenter"])
            torch.set_rng_state(resumed["torch_rng"])
            history, best_state = resumed["history"], resumed["best_state"]
            best_val, best_epoch = resumed["best_val"], resumed["best_epoch"]
            stale = resumed["stale"]
            epoch_states = resumed["epoch_states"]
            first_epoch, spent = resumed["epoch"] + 1, resumed["seconds"]
            if log is not None:
                log(f"resuming {name} on {splits.name} after epoch {resumed['epoch']} of "
                    f"{epochs} from {checkpoint_path}")
        stopped = resumed is not None and resumed.get("stopped", False)

        def forward_context():
            if precision == "bfloat16":
                return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
            return nullcontext()

        # a log file (not a terminal) gets a line every 30 s rather than ten a second
        bar = tqdm(total=epochs * len(y_fit), initial=(first_epoch - 1) * len(y_fit),
                   desc=f"{name} on {splits.name}", unit="img", unit_scale=True,
                   disable=not progress, file=sys.stderr, leave=True,
                   mininterval=0.5 if sys.stderr.isatty() else 30.0)
        loop_started = time.perf_counter()
        for epoch in range(first_epoch, epochs + 1):
            if stopped:
                break
            model.train()
            permutation = torch.randperm(len(y_fit), generator=generator)
            total_loss = total_correct = 0.0
            for begin in range(0, len(y_fit), batch_size):
                index = permutation[begin:begin + batch_size]
                batch = _trim([t[index].to(device) for t in fit_tensors])
                if augment == "flip-crop":
                    batch = [_flip_crop(batch[0], augmenter)]
                elif augment == "word-dropout":
                    batch = [_word_dropout(batch[0], batch[1], augmenter), batch[1]]
                if fast_layout:
                    batch = [batch[0].contiguous(memory_format=torch.channels_last)]
                target = y_fit[index].to(device)
                optimizer.zero_grad(set_to_none=True)
                with forward_context():
                    logits = model(*batch)
                logits = logits.float()
                loss = loss_fn(logit_scale * logits, target)
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                total_loss += float(loss.detach()) * len(index)
                total_correct += float((logits.argmax(dim=1) == target).sum())
                bar.update(len(index))
            record = {"epoch": epoch, "loss": total_loss / len(y_fit),
                      "train_accuracy": total_correct / len(y_fit)}
            if n_val:
                val_accuracy = _accuracy(model, val_tensors, y_val, device)
                record["val_accuracy"] = val_accuracy
                if val_accuracy > best_val:
                    best_val, best_epoch, stale = val_accuracy, epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    stale += 1
            else:
                best_epoch = epoch
            history.append(record)
            if epoch_states is not None:
                epoch_states.append({k: v.detach().cpu().clone()
                                     for k, v in model.state_dict().items()})
            bar.set_postfix({k: round(v, 4) for k, v in record.items() if k != "epoch"})
            stopped = patience is not None and stale >= patience
            if checkpoint_path is not None:
                save_checkpoint(checkpoint_path, {
                    "epoch": epoch, "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "generator": generator.get_state(), "augmenter": augmenter.get_state(),
                    "torch_rng": torch.get_rng_state(), "history": history,
                    "best_state": best_state, "best_val": best_val, "best_epoch": best_epoch,
                    "stale": stale, "epoch_states": epoch_states, "stopped": stopped,
                    "seconds": spent + time.perf_counter() - loop_started})
            if _after_epoch_hook is not None:
                _after_epoch_hook(epoch)
            if stopped:
                if log is not None:
                    log(f"early stop after epoch {epoch}: no better validation accuracy for "
                        f"{patience} epochs (best {best_val:.4f} at epoch {best_epoch})")
                break
        bar.close()
        train_seconds = spent + time.perf_counter() - loop_started
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        model.to(memory_format=torch.contiguous_format)
        train_accuracy = _accuracy(model, fit_tensors, y_fit, device)
        test_accuracy = _accuracy(model, test_tensors, y_test, device)
    seconds = time.perf_counter() - start + (spent if resumed is not None else 0.0)
    return {
        "state_dict": {k: v.detach().cpu().contiguous().clone()
                       for k, v in model.state_dict().items()},
        "config": model.config,
        "tokenizer": tokenizer.to_dict() if tokenizer else None,
        "train_accuracy": train_accuracy,
        "test_accuracy": test_accuracy,
        "val_accuracy": best_val if n_val else None,
        "seconds": seconds,
        "images_per_second": len(history) * len(y_fit) / max(train_seconds, 1e-9),
        "history": history,
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "n_parameters": model.n_parameters(),
        **({"snapshots": epoch_states} if epoch_states is not None else {}),
    }


def snapshot_models(trained: TrainedModel):
    """Yield ``(epoch, TrainedModel)`` for the weights after each epoch of a run trained with
    ``snapshots=True`` (chapter "Lipschitz regularization").

    Each yielded model is a copy in eval mode whose ``key_hash`` names the epoch, so its
    representations are cached apart from the final model's.

    Raises
    ------
    ValueError
        If the run kept no snapshots.
    """
    if not trained.snapshots:
        raise ValueError(f"{trained.model_name} was trained without snapshots; train it with "
                         "train_model(..., snapshots=True).")
    for epoch, state in enumerate(trained.snapshots, start=1):
        model = rebuild_model(trained.config)
        model.load_state_dict(state)
        model.to(next(trained.model.parameters()).device).eval()
        yield epoch, replace(trained, model=model, key_hash=f"{trained.key_hash}-epoch{epoch}",
                             snapshots=None, epochs_run=epoch)


# --------------------------------------------------------------------------- representations


def extract_representations(trained: TrainedModel, dataset_splits, split: str = "train", *,
                            batch_size: int = EVAL_BATCH_SIZE, cache_dir=None, log=print,
                            refresh: bool = False) -> np.ndarray:
    """Representations ``model.represent(x)`` of a whole split, as float32 (n, d_Z); cached.

    Parameters
    ----------
    trained : TrainedModel
        From :func:`train_model`.
    dataset_splits : DatasetSplits
        The dataset (the same one the model was trained on, or another with the same input
        format).
    split : {"train", "test"}
        Which split; the rows follow the split's order (the whole training split, the
        validation part included).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    part = getattr(dataset_splits, split)
    n_classes = int(dataset_splits.n_classes)
    _check_split(part, f"the {split} split", n_classes)
    key = {
        "weights": trained.key_hash,
        "dataset": {"name": dataset_splits.name, "split": split, "n": len(part.labels),
                    "inputs": array_fingerprint(_text_or_array(part.inputs))},
    }
    description = (f"{split} representations of {trained.model_name} "
                   f"[weights/{trained.key_hash}] on {dataset_splits.name}")

    def compute():
        tensors = _encode(trained.model_name, part.inputs, trained.tokenizer)
        model = trained.model
        model.eval()
        device = next(model.parameters()).device
        z = _batched(model, tensors, device, model.represent, batch_size=batch_size)
        return z.numpy().astype(np.float32)

    result = cached_result(key, compute, kind="representations", cache_dir=cache_dir, log=log,
                           description=description, refresh=refresh)
    return result.value


__all__ = ["EVAL_BATCH_SIZE", "SPECTRAL_NORM_LOGIT_SCALE", "TrainedModel", "dataset_identity",
           "default_logit_scale", "deterministic", "recipe_text", "extract_representations",
           "snapshot_models", "train_model"]
