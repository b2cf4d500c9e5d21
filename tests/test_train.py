"""Cache (hits, misses, corruption) and deterministic, cached training and representations."""

from __future__ import annotations

import json
import math
import random
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pytest

try:
    import torch
except ImportError:  # the cache tests run without torch; the training tests need it
    torch = None

from helpers.nets.cache import (
    CacheCorruptionWarning,
    array_fingerprint,
    cached,
    cached_result,
    canonical_json,
    key_hash,
)

# --------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Split:
    inputs: object
    labels: np.ndarray


@dataclass(frozen=True)
class DatasetSplits:
    name: str
    train: Split
    test: Split
    n_classes: int
    class_names: tuple = ()
    source: str = "tests"
    description: str = ""


def tiny_images(n_train=96, n_test=32, seed=0, n_classes=3, size=8):
    """Class c is a bright c-th horizontal band plus noise: learnable in one epoch."""
    rng = np.random.default_rng(seed)

    def make(n):
        labels = rng.integers(0, n_classes, n).astype(np.int64)
        images = 0.2 * rng.random((n, 1, size, size)).astype(np.float32)
        for i, c in enumerate(labels):
            images[i, 0, 2 * c: 2 * c + 2] += 0.8
        return Split(images, labels)

    return DatasetSplits("tiny-images", make(n_train), make(n_test), n_classes)


WORDS = {0: "goal team match coach".split(), 1: "stock bank market profit".split()}


def tiny_texts(n_train=60, n_test=20, seed=0):
    rng = np.random.default_rng(seed)

    def make(n):
        labels = rng.integers(0, 2, n).astype(np.int64)
        texts = [" ".join(rng.choice(WORDS[int(c)] + ["the", "a", "new"], 6)) for c in labels]
        return Split(texts, labels)

    return DatasetSplits("tiny-texts", make(n_train), make(n_test), 2)


class Recorder:
    def __init__(self):
        self.lines = []

    def __call__(self, line):
        self.lines.append(line)

    def text(self):
        return "\n".join(self.lines)


# --------------------------------------------------------------------------- cache


def _counting(value):
    calls = []

    def compute():
        calls.append(1)
        return value

    return compute, calls


def test_cache_hit_does_not_recompute(tmp_path):
    key = {"model": "m", "seed": 0, "profile": "smoke"}
    compute, calls = _counting(np.arange(5.0))
    log = Recorder()
    first = cached_result(key, compute, kind="reps", cache_dir=tmp_path, log=log)
    second = cached_result(key, compute, kind="reps", cache_dir=tmp_path, log=log)
    assert calls == [1]
    assert not first.hit and second.hit
    np.testing.assert_array_equal(second.value, np.arange(5.0))
    assert "cache miss" in log.lines[0] and "cache hit" in log.lines[-1]
    metadata = json.loads(second.path.read_text())
    assert metadata["full_key"]["key"] == key and len(metadata["sha256"]) == 64


@pytest.mark.parametrize("change", [
    {"seed": 1}, {"model": "other"}, {"profile": "full"}, {"extra": None}, {"seed": 0.0 + 1e-9},
])
def test_cache_miss_when_key_changes(tmp_path, change):
    key = {"model": "m", "seed": 0, "profile": "smoke"}
    compute, calls = _counting({"w": np.ones(3)})
    cached(key, compute, kind="reps", cache_dir=tmp_path, log=None)
    cached({**key, **change}, compute, kind="reps", cache_dir=tmp_path, log=None)
    assert calls == [1, 1]


def test_cache_kind_and_version_are_part_of_key(monkeypatch):
    import helpers.nets.cache as cache_module

    key = {"a": 1}
    assert key_hash(key, "weights") != key_hash(key, "reps")
    before = key_hash(key, "weights")
    monkeypatch.setattr(cache_module, "__version__", "999")
    assert key_hash(key, "weights") != before


def test_canonical_json_is_order_independent_and_strict():
    assert canonical_json({"b": 1, "a": (1, 2)}) == canonical_json({"a": [1, 2], "b": 1})
    assert canonical_json({"x": np.int64(3), "y": np.float32(0.5)}) == '{"x":3,"y":0.5}'
    with pytest.raises(TypeError, match="canonical JSON"):
        canonical_json({"f": object()})
    with pytest.raises(TypeError, match="finite"):
        canonical_json({"f": float("nan")})


def _corrupt_truncate(meta_path, payload_path):
    payload_path.write_bytes(payload_path.read_bytes()[:-7])


def _corrupt_flip(meta_path, payload_path):
    data = bytearray(payload_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    payload_path.write_bytes(bytes(data))


def _corrupt_meta(meta_path, payload_path):
    meta_path.write_text("{not json")


def _remove_meta(meta_path, payload_path):
    meta_path.unlink()


def _remove_payload(meta_path, payload_path):
    payload_path.unlink()


@pytest.mark.parametrize("corrupt", [_corrupt_truncate, _corrupt_flip, _corrupt_meta,
                                     _remove_meta, _remove_payload])
@pytest.mark.parametrize("value", [np.arange(100.0), "torch"])
def test_corrupt_entry_is_reported_and_rebuilt(tmp_path, corrupt, value):
    if isinstance(value, str):
        if torch is None:
            pytest.skip("torch is not installed")
        value = {"state_dict": {"w": torch.arange(100.0)}, "accuracy": 0.5, "history": [1, 2]}
    key = {"name": "entry"}
    compute, calls = _counting(value)
    result = cached_result(key, compute, kind="weights", cache_dir=tmp_path, log=None)
    payload_path = result.path.parent / json.loads(result.path.read_text())["payload"]
    corrupt(result.path, payload_path)
    log = Recorder()
    with pytest.warns(CacheCorruptionWarning):
        again = cached_result(key, compute, kind="weights", cache_dir=tmp_path, log=log)
    assert calls == [1, 1] and not again.hit
    assert "rebuilding" in log.text()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = cached_result(key, compute, kind="weights", cache_dir=tmp_path, log=None)
    assert third.hit and calls == [1, 1]


def test_cache_rejects_unstorable_values(tmp_path):
    with pytest.raises(TypeError, match="cache stores"):
        cached({"k": 1}, lambda: {"f": object()}, kind="x", cache_dir=tmp_path, log=None)
    assert not list(tmp_path.rglob("*.json"))


def test_cache_stores_table_rows_with_numpy_scalars(tmp_path):
    if torch is None:
        pytest.skip("torch is not installed")
    row = {"bits": np.float64(2.0), "n": np.int64(60), "at ceiling": np.bool_(True),
           "missing": None, "ceiling": math.inf, "estimate": math.nan,
           "shape": (np.int64(3), 4), "rows": [{"p": np.float32(0.5)}]}
    compute, calls = _counting(row)
    cached({"k": 1}, compute, kind="rows", cache_dir=tmp_path, log=None)
    loaded = cached({"k": 1}, compute, kind="rows", cache_dir=tmp_path, log=None)
    assert calls == [1]
    assert loaded["bits"] == 2.0 and type(loaded["bits"]) is float
    assert loaded["n"] == 60 and type(loaded["n"]) is int
    assert loaded["at ceiling"] is True and loaded["missing"] is None
    assert loaded["ceiling"] == math.inf and math.isnan(loaded["estimate"])
    assert loaded["shape"] == (3, 4) and loaded["rows"] == [{"p": 0.5}]


def test_cache_keeps_a_state_dicts_metadata(tmp_path):
    if torch is None:
        pytest.skip("torch is not installed")
    state = torch.nn.BatchNorm1d(3).state_dict()
    assert state._metadata  # the module versions that load_state_dict consults
    cached({"k": 1}, lambda: {"state_dict": state}, kind="w", cache_dir=tmp_path, log=None)
    loaded = cached({"k": 1}, lambda: None, kind="w", cache_dir=tmp_path, log=None)
    assert loaded["state_dict"]._metadata == state._metadata


def test_cache_dir_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("HELPERS_CACHE_DIR", str(tmp_path / "envcache"))
    result = cached_result({"k": 1}, lambda: np.zeros(2), kind="x", log=None)
    assert result.path.is_relative_to(tmp_path / "envcache")


def test_array_fingerprint():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert array_fingerprint(a) == array_fingerprint(a.copy())
    assert array_fingerprint(a) != array_fingerprint(a.reshape(4, 3))
    b = a.copy()
    b[1, 1] += 1
    assert array_fingerprint(a) != array_fingerprint(b)
    assert array_fingerprint(["ab", "c"]) != array_fingerprint(["a", "bc"])
    big = np.zeros((1000, 10))
    assert array_fingerprint(big, max_bytes=1000) != array_fingerprint(big)


# --------------------------------------------------------------------------- training

if torch is not None:
    from helpers.nets.train import deterministic, extract_representations, train_model

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
FAST = dict(epochs=1, batch_size=32, progress=False)


def _same_weights(a, b):
    sa, sb = a.model.state_dict(), b.model.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@needs_torch
@pytest.mark.parametrize("name,spectral_norm", [("cnn-mnist", False), ("resnet8", True)])
def test_training_is_deterministic(tmp_path, name, spectral_norm):
    data = tiny_images()
    kwargs = dict(seed=3, spectral_norm=spectral_norm, log=None, **FAST)
    if name == "resnet8":
        kwargs["width"] = 0.25
    first = train_model(name, data, cache_dir=tmp_path / "a", **kwargs)
    second = train_model(name, data, cache_dir=tmp_path / "b", **kwargs)
    assert not first.cache_hit and not second.cache_hit
    assert _same_weights(first, second)
    assert first.history == second.history
    other = train_model(name, data, cache_dir=tmp_path / "c", **{**kwargs, "seed": 4})
    assert not _same_weights(first, other)


@needs_torch
def test_training_is_cached_and_learns(tmp_path):
    data = tiny_images()
    log = Recorder()
    first = train_model("cnn-mnist", data, seed=0, cache_dir=tmp_path, log=log, epochs=3,
                        batch_size=16, progress=False, profile="smoke")
    assert "cache miss" in log.text() and "training cnn-mnist" in log.text()
    assert first.test_accuracy > 0.8 and first.train_accuracy > 0.8
    assert len(first.history) == 3 and first.epochs_run == 3
    log2 = Recorder()
    second = train_model("cnn-mnist", data, seed=0, cache_dir=tmp_path, log=log2, epochs=3,
                         batch_size=16, progress=False, profile="smoke")
    assert second.cache_hit and "cache hit" in log2.text()
    assert "training cnn-mnist" not in log2.text()
    assert _same_weights(first, second)
    assert second.test_accuracy == first.test_accuracy and second.seconds == first.seconds
    # a different profile, or data that differ in one label, are different entries
    third = train_model("cnn-mnist", data, seed=0, cache_dir=tmp_path, log=None, epochs=3,
                        batch_size=16, progress=False, profile="full")
    assert not third.cache_hit
    labels = data.train.labels.copy()
    labels[0] = (labels[0] + 1) % 3
    changed = replace(data, train=Split(data.train.inputs, labels))
    fourth = train_model("cnn-mnist", changed, seed=0, cache_dir=tmp_path, log=None, epochs=3,
                         batch_size=16, progress=False, profile="smoke")
    assert not fourth.cache_hit and fourth.key_hash != first.key_hash


@needs_torch
def test_extract_representations(tmp_path):
    data = tiny_images()
    trained = train_model("cnn-cifar", data, seed=0, cache_dir=tmp_path, log=None, width=0.25,
                          **FAST)
    log = Recorder()
    z = extract_representations(trained, data, "test", cache_dir=tmp_path, log=log)
    assert z.shape == (32, 128) and z.dtype == np.float32
    with torch.no_grad():
        direct = trained.model.represent(torch.from_numpy(data.test.inputs)).numpy()
    np.testing.assert_allclose(z, direct, rtol=1e-5, atol=1e-6)
    again = extract_representations(trained, data, "test", cache_dir=tmp_path, log=log)
    assert "cache hit" in log.lines[-1]
    np.testing.assert_array_equal(z, again)
    train_z = extract_representations(trained, data, "train", cache_dir=tmp_path, log=None)
    assert train_z.shape == (96, 128)
    with pytest.raises(ValueError, match="split"):
        extract_representations(trained, data, "validation", cache_dir=tmp_path, log=None)


@needs_torch
def test_transformer_on_text(tmp_path):
    data = tiny_texts()
    kwargs = dict(seed=0, cache_dir=tmp_path, epochs=2, batch_size=16, progress=False,
                  min_count=1, max_length=8, model_kwargs={"n_layers": 2})
    first = train_model("transformer-tiny", data, log=None, **kwargs)
    assert first.tokenizer is not None and first.config["vocab_size"] == len(first.tokenizer)
    assert first.test_accuracy > 0.7
    second = train_model("transformer", data, log=None, **kwargs)
    assert second.cache_hit and second.tokenizer.itos == first.tokenizer.itos
    assert _same_weights(first, second)
    z = extract_representations(second, data, "test", cache_dir=tmp_path, log=None)
    assert z.shape == (20, 128)


@needs_torch
def test_early_stopping_keeps_best_epoch(tmp_path):
    data = tiny_images(n_train=120)
    trained = train_model("cnn-mnist", data, seed=0, cache_dir=tmp_path, log=None, epochs=6,
                          batch_size=16, progress=False, val_fraction=0.25, patience=1,
                          lr=0.05)
    assert 1 <= trained.epochs_run <= 6
    val = [record["val_accuracy"] for record in trained.history]
    assert trained.val_accuracy == max(val)
    assert trained.history[trained.best_epoch - 1]["val_accuracy"] == max(val)


@needs_torch
def test_training_errors(tmp_path):
    images, texts = tiny_images(), tiny_texts()
    common = dict(cache_dir=tmp_path, log=None, **FAST)
    with pytest.raises(ValueError, match="unknown model"):
        train_model("alexnet", images, **common)
    with pytest.raises(ValueError, match="holds texts"):
        train_model("cnn-mnist", texts, **common)
    with pytest.raises(ValueError, match="holds images"):
        train_model("transformer-tiny", images, **common)
    bad = replace(images, train=Split(images.train.inputs, images.train.labels[:-1]))
    with pytest.raises(ValueError, match="labels"):
        train_model("cnn-mnist", bad, **common)
    out_of_range = replace(images, n_classes=2)
    with pytest.raises(ValueError, match="n_classes"):
        train_model("cnn-mnist", out_of_range, **common)
    with pytest.raises(ValueError, match="val_fraction"):
        train_model("cnn-mnist", images, patience=2, **common)
    assert not list(tmp_path.rglob("*.json"))


@needs_torch
def test_deterministic_restores_global_state():
    random.seed(123)
    np.random.seed(123)  # noqa: NPY002
    torch.manual_seed(123)
    expected = (random.random(), np.random.random(), torch.rand(1))  # noqa: NPY002
    random.seed(123)
    np.random.seed(123)  # noqa: NPY002
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    with deterministic(7, num_threads=1):
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.get_num_threads() == 1
        torch.rand(10), np.random.random(10), random.random()  # noqa: NPY002
    assert (random.random(), np.random.random(), torch.rand(1)) == expected  # noqa: NPY002
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()


# --------------------------------------------------------------------------- recipe and resuming

RECIPE = dict(augment="flip-crop", schedule="onecycle", label_smoothing=0.1, weight_decay=1e-3)


@needs_torch
@pytest.mark.parametrize("recipe", [RECIPE, dict(precision="bfloat16", **RECIPE)])
def test_an_interrupted_training_resumes_to_the_same_weights(tmp_path, monkeypatch, recipe):
    from helpers.nets import train as train_module

    data = tiny_images()
    kwargs = dict(seed=5, epochs=3, batch_size=32, progress=False, spectral_norm=True,
                  **recipe)
    whole = train_model("cnn-mnist", data, cache_dir=tmp_path / "whole", log=None, **kwargs)

    def interrupt(epoch):
        if epoch == 2:
            raise KeyboardInterrupt("the build was stopped")

    monkeypatch.setattr(train_module, "_after_epoch_hook", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train_model("cnn-mnist", data, cache_dir=tmp_path / "cut", log=None, **kwargs)
    checkpoints = list((tmp_path / "cut" / "checkpoints").glob("*.pt"))
    assert [p.stem for p in checkpoints] == [whole.key_hash]  # saved under the final key
    monkeypatch.setattr(train_module, "_after_epoch_hook", None)
    lines = []
    resumed = train_model("cnn-mnist", data, cache_dir=tmp_path / "cut", log=lines.append,
                          **kwargs)
    assert any("resuming cnn-mnist on tiny-images after epoch 2 of 3" in line for line in lines)
    assert resumed.key_hash == whole.key_hash and not resumed.cache_hit
    assert _same_weights(resumed, whole)
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in whole.history]
    assert not list((tmp_path / "cut" / "checkpoints").glob("*.pt"))  # removed once cached


def _cut_after_epoch(monkeypatch, data, cache_dir, kwargs, stop: int) -> None:
    """Train until the end of epoch ``stop``, then interrupt, leaving its checkpoint."""
    from helpers.nets import train as train_module

    def interrupt(epoch):
        if epoch == stop:
            raise KeyboardInterrupt("the build was stopped")

    monkeypatch.setattr(train_module, "_after_epoch_hook", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train_model("cnn-mnist", data, cache_dir=cache_dir, log=None, **kwargs)
    monkeypatch.setattr(train_module, "_after_epoch_hook", None)


@needs_torch
def test_a_planted_checkpoint_never_runs_code_and_training_starts_again(tmp_path, monkeypatch):
    import hashlib
    import pickle

    data = tiny_images()
    kwargs = dict(seed=5, epochs=2, batch_size=32, progress=False)
    whole = train_model("cnn-mnist", data, cache_dir=tmp_path / "whole", log=None, **kwargs)
    _cut_after_epoch(monkeypatch, data, tmp_path / "cut", kwargs, stop=1)
    checkpoint = tmp_path / "cut" / "checkpoints" / f"{whole.key_hash}.pt"
    marker = tmp_path / "code-ran"

    class Planted:
        def __reduce__(self):
            return (marker.write_text, ("the checkpoint ran code",))

    payload = pickle.dumps({"epoch": 1, "payload": Planted()}, protocol=2)
    checkpoint.write_bytes(payload)
    # with a matching checksum, so that only the loading itself stands in the way
    metadata = checkpoint.with_suffix(".json")
    entry = json.loads(metadata.read_text())
    metadata.write_text(json.dumps({**entry, "size": len(payload),
                                    "sha256": hashlib.sha256(payload).hexdigest()}))
    lines = []
    again = train_model("cnn-mnist", data, cache_dir=tmp_path / "cut", log=lines.append,
                        **kwargs)
    assert not marker.exists()
    assert any("ignoring the unreadable checkpoint" in line and "not a plain training state"
               in line for line in lines)
    assert not any(line.startswith("resuming") for line in lines)  # no earlier one to use
    assert _same_weights(again, whole)


@needs_torch
@pytest.mark.parametrize("damage", ["flip", "truncate", "no-checksum"])
def test_a_damaged_checkpoint_is_skipped_for_the_one_before_it(tmp_path, monkeypatch, damage):
    data = tiny_images()
    kwargs = dict(seed=5, epochs=3, batch_size=32, progress=False)
    whole = train_model("cnn-mnist", data, cache_dir=tmp_path / "whole", log=None, **kwargs)
    _cut_after_epoch(monkeypatch, data, tmp_path / "cut", kwargs, stop=2)
    checkpoint = tmp_path / "cut" / "checkpoints" / f"{whole.key_hash}.pt"
    payload = bytearray(checkpoint.read_bytes())
    if damage == "flip":
        payload[len(payload) // 2] ^= 0xFF
        checkpoint.write_bytes(bytes(payload))
    elif damage == "truncate":
        checkpoint.write_bytes(bytes(payload[:100]))
    else:
        checkpoint.with_suffix(".json").unlink()
    lines = []
    resumed = train_model("cnn-mnist", data, cache_dir=tmp_path / "cut", log=lines.append,
                          **kwargs)
    assert any("ignoring the unreadable checkpoint" in line for line in lines)
    # the last good state is the checkpoint of epoch 1: one epoch is trained again
    assert any("resuming cnn-mnist on tiny-images after epoch 1 of 3" in line for line in lines)
    assert _same_weights(resumed, whole)
    assert not list((tmp_path / "cut" / "checkpoints").rglob("*.*"))  # all removed once cached


@needs_torch
def test_recipe_settings_enter_the_key_only_when_used_and_are_checked(tmp_path):
    data = tiny_images()
    plain = train_model("cnn-mnist", data, cache_dir=tmp_path, log=None, **FAST)
    # weight_decay was always in the key; the recipe's new settings appear only when used
    assert set(plain.key["training"]).isdisjoint({"augment", "schedule", "label_smoothing",
                                                  "precision"})
    tuned = train_model("cnn-mnist", data, cache_dir=tmp_path, log=None, **FAST, **RECIPE)
    assert tuned.key["training"]["augment"] == "flip-crop" and tuned.key_hash != plain.key_hash
    assert tuned.images_per_second > 0
    for bad, match in ((dict(augment="rotate"), "augment must be one of"),
                       (dict(schedule="cosine"), "schedule must be one of"),
                       (dict(precision="float16"), "precision must be one of"),
                       (dict(label_smoothing=1.5), "label_smoothing")):
        with pytest.raises(ValueError, match=match):
            train_model("cnn-mnist", data, cache_dir=tmp_path, log=None, **FAST, **bad)


def test_flip_crop_matches_a_plain_per_image_reference():
    from helpers.nets.train import CROP_PADDING, _flip_crop

    images = torch.rand(5, 2, 6, 6)
    out = _flip_crop(images, torch.Generator().manual_seed(4))
    generator = torch.Generator().manual_seed(4)  # the same draws, one image at a time
    flip = torch.rand(5, generator=generator) < 0.5
    offsets = torch.randint(0, 2 * CROP_PADDING + 1, (2, 5), generator=generator)
    for i in range(5):
        image = images[i].flip(2) if flip[i] else images[i]
        padded = torch.nn.functional.pad(image, (CROP_PADDING,) * 4)
        dy, dx = int(offsets[0, i]), int(offsets[1, i])
        assert torch.equal(out[i], padded[:, dy:dy + 6, dx:dx + 6])
    assert flip.any() and not flip.all()  # both branches were exercised


def test_word_dropout_replaces_only_real_tokens_at_the_rate():
    from helpers.nets.models import PAD_ID, UNK_ID
    from helpers.nets.train import WORD_DROPOUT_RATE, _word_dropout

    ids = torch.randint(2, 500, (400, 50))
    mask = torch.arange(50)[None, :] < torch.randint(1, 51, (400, 1))
    ids[~mask] = PAD_ID
    out = _word_dropout(ids, mask, torch.Generator().manual_seed(3))
    changed = out != ids
    assert torch.equal(out[~mask], ids[~mask])  # padding stays padding
    assert bool((out[changed] == UNK_ID).all())
    rate = float(changed.sum()) / float(mask.sum())
    n = float(mask.sum())
    sd = (WORD_DROPOUT_RATE * (1 - WORD_DROPOUT_RATE) / n) ** 0.5
    assert abs(rate - WORD_DROPOUT_RATE) < 5 * sd
    again = _word_dropout(ids, mask, torch.Generator().manual_seed(3))
    assert torch.equal(out, again)  # drawn from the generator only (resumable)


@needs_torch
def test_augmentations_fit_their_kind_of_model(tmp_path):
    with pytest.raises(ValueError, match="'word-dropout' is for text models"):
        train_model("cnn-mnist", tiny_images(), cache_dir=tmp_path, log=None, **FAST,
                    augment="word-dropout")
    with pytest.raises(ValueError, match="'flip-crop' is for image models"):
        train_model("transformer-tiny", tiny_texts(), cache_dir=tmp_path, log=None, **FAST,
                    augment="flip-crop")
    trained = train_model("transformer-tiny", tiny_texts(), cache_dir=tmp_path, log=None,
                          **FAST, augment="word-dropout", model_kwargs={"n_layers": 1})
    assert trained.key["training"]["augment"] == "word-dropout"
    from helpers.nets.train import WORD_DROPOUT_RATE, recipe_text
    assert trained.key["training"]["word_dropout_rate"] == WORD_DROPOUT_RATE  # cached apart
    assert f"word-dropout {WORD_DROPOUT_RATE:g}" in recipe_text(trained.key)


def test_recipe_text_names_the_settings_that_differ_from_the_defaults():
    from helpers.nets.train import recipe_text

    plain = {"model": {"name": "cnn-mnist"},
             "training": {"batch_size": 64, "lr": 1e-3, "weight_decay": 0.0, "logit_scale": 1.0}}
    assert recipe_text(plain) == "batch 64, lr 0.001"
    tuned = {"model": {"name": "transformer-tiny", "dropout": 0.1},
             "training": {"batch_size": 128, "lr": 3e-3, "weight_decay": 5e-4,
                          "logit_scale": 16.0, "schedule": "onecycle",
                          "augment": "word-dropout", "label_smoothing": 0.1,
                          "precision": "bfloat16", "word_dropout_rate": 0.25}}
    assert recipe_text(tuned) == ("batch 128, lr 0.003 one-cycle, weight decay 0.0005, "
                                  "word-dropout 0.25, dropout 0.1, label smoothing 0.1, "
                                  "logit scale 16, bfloat16")
    with pytest.raises(ValueError, match="cache key with a 'training' section"):
        recipe_text({"model": {"name": "cnn-mnist"}})
