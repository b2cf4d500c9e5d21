"""The model suite: profiles, cached training, record shapes, skipped datasets."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("torch")

from helpers.nets import suite as suite_module
from helpers.nets.suite import (
    DISPLAY_NAMES,
    PROFILES,
    ModelSpec,
    SuiteProfile,
    suite_profile,
    train_suite,
    with_specs,
)

TINY = SuiteProfile(
    name="tiny-test",
    description="two tiny models for the tests",
    specs=(
        ModelSpec("cnn-mnist", "digits", 80, 40, epochs=1, width=0.125),
        ModelSpec("transformer-tiny", "topics", 60, 30, epochs=1, width=0.125,
                  model_kwargs={"n_layers": 1}, stand_in="synthetic"),
    ),
)


class Lines(list):
    def __call__(self, line):
        self.append(line)


def test_tiny_suite_trains_caches_and_has_consistent_records(tmp_path):
    first_log, second_log = Lines(), Lines()
    first = train_suite(TINY, cache_dir=tmp_path, log=first_log)
    assert [record.label for record in first] == [
        "CNN-MNIST", "CNN-MNIST + SN", "Transformer-Tiny", "Transformer-Tiny + SN"]
    assert not any(record.cache_hit for record in first)
    assert first.skipped == [] and first.profile is TINY
    for record in first:
        assert record.train_Z.dtype == np.float32 and record.test_Z.dtype == np.float32
        assert record.train_Z.shape == (len(record.train_y), record.representation_dim)
        assert record.test_Z.shape == (len(record.test_y), record.representation_dim)
        assert record.representation_dim == {"cnn-mnist": 64, "transformer-tiny": 128}[
            record.model]
        assert 0.0 <= record.test_accuracy <= 1.0 and record.seconds > 0
        assert record.source and record.dataset in ("digits", "topics")
        assert record.summary()["weights"] == "trained now"
    assert len(first[0].train_y) == 80 and len(first[0].test_y) == 40
    assert first[2].stand_in == "synthetic" and first[0].stand_in is None

    second = train_suite(TINY, cache_dir=tmp_path, log=second_log)
    assert second.all_cache_hits
    assert any(line.startswith("cache hit") for line in second_log)
    assert not any(line.startswith("training ") for line in second_log)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.test_Z, b.test_Z)
        assert a.test_accuracy == b.test_accuracy and a.seconds == b.seconds

    record = second.by_label("CNN-MNIST + SN")
    z, y, index = record.subset("test", 10, seed=3)
    assert z.shape == (10, 64) and np.array_equal(y, record.test_y[index])
    again = second.by_label("CNN-MNIST").subset("test", 10, seed=3)[2]
    assert np.array_equal(index, again)  # same rows for every model on the same data
    assert record.subset("test", None)[0].shape[0] == 40
    with pytest.raises(KeyError, match="no model labelled"):
        second.by_label("ResNet-8")


def test_model_and_variant_selection(tmp_path):
    only = train_suite(TINY, models=["CNN-MNIST"], spectral_norm=False, cache_dir=tmp_path,
                       log=None)
    assert [record.label for record in only] == ["CNN-MNIST"]
    with pytest.raises(ValueError, match="not in suite profile"):
        train_suite(TINY, models=["resnet8"], cache_dir=tmp_path, log=None)
    with pytest.raises(ValueError, match="unknown model"):
        train_suite(TINY, models=["vgg"], cache_dir=tmp_path, log=None)
    with pytest.raises(ValueError, match="spectral_norm"):
        train_suite(TINY, spectral_norm=[], cache_dir=tmp_path, log=None)


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown suite profile 'huge'.*smoke"):
        train_suite("huge")
    with pytest.raises(ValueError, match="unknown suite profile"):
        suite_profile(3)


def test_profiles_cover_the_four_architectures():
    for name in ("smoke", "default", "full"):
        profile = suite_profile(name)
        assert [spec.model for spec in profile.specs] == list(DISPLAY_NAMES)
        assert profile.spectral_norm == (False, True)
    full = {spec.model: spec.dataset for spec in PROFILES["full"].specs}
    assert full == suite_module.PROPOSAL_DATASETS
    assert all(spec.stand_in for spec in PROFILES["default"].specs)
    assert all(spec.epochs == 1 for spec in PROFILES["smoke"].specs)
    assert with_specs("smoke", epochs=2).specs[0].epochs == 2


def test_missing_dataset_is_skipped_not_failed(tmp_path, monkeypatch):
    profile = SuiteProfile(
        name="tiny-test",
        description="a real dataset that is missing, and an embedded one",
        specs=(ModelSpec("cnn-mnist", "mnist", 80, 40, epochs=1, width=0.125),
               ModelSpec("cnn-mnist", "digits", 80, 40, epochs=1, width=0.125)),
    )
    real_status = suite_module.dataset_status

    def status(data_dir=None):
        table = dict(real_status(data_dir))
        table["mnist"] = (False, "MNIST missing from /nowhere: put MNIST/raw there.")
        return table

    monkeypatch.setattr(suite_module, "dataset_status", status)
    log = Lines()
    result = train_suite(profile, spectral_norm=False, cache_dir=tmp_path, log=log)
    assert [record.dataset for record in result] == ["digits"]
    assert len(result.skipped) == 1
    skipped = result.skipped[0]
    assert (skipped.model, skipped.dataset, skipped.name) == ("cnn-mnist", "mnist", "CNN-MNIST")
    assert "put MNIST/raw there" in skipped.reason
    assert any(line.startswith("skipped CNN-MNIST") for line in log)

    nothing = train_suite("full", cache_dir=tmp_path, log=None,
                          data_dir=tmp_path / "empty")  # no real data at all
    assert list(nothing) == [] and len(nothing.skipped) == 4
    assert {s.dataset for s in nothing.skipped} == {"mnist", "cifar10", "ag_news"}


def test_dataset_override_changes_only_the_matching_models_and_labels_them():
    from helpers.nets.suite import suite_profile, with_dataset

    base = suite_profile("default")
    assert with_dataset("default", None) == base
    images = with_dataset("default", "mnist5k")
    for before, after in zip(base.specs, images.specs, strict=True):
        if after.model == "transformer-tiny":
            assert after == before
        else:
            assert after.dataset == "mnist5k" and "in place of" in after.stand_in
    text = with_dataset("default", "ag_news")
    transformer = next(spec for spec in text.specs if spec.model == "transformer-tiny")
    assert transformer.dataset == "ag_news" and transformer.stand_in is None
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        with_dataset("default", "imagenet")


def test_smooth_variants_are_labelled_and_cached_apart(tmp_path):
    both = train_suite(TINY, models="cnn-mnist", include_smooth=True, cache_dir=tmp_path,
                       log=None)
    assert [record.label for record in both] == [
        "CNN-MNIST", "CNN-MNIST + SN", "CNN-MNIST (smooth)", "CNN-MNIST (smooth) + SN"]
    assert [record.key for record in both] == [
        "cnn_mnist", "cnn_mnist_sn", "cnn_mnist_smooth", "cnn_mnist_smooth_sn"]
    assert [record.activation for record in both] == ["relu", "relu", "gelu", "gelu"]
    assert [record.trained.config["activation"] for record in both] == [
        "relu", "relu", "gelu", "gelu"]
    assert [record.trained.config.get("pooling", "max") for record in both] == [
        "max", "max", "scaled-avg", "scaled-avg"]
    pools = [type(m).__name__ for m in both[2].trained.model.modules()
             if "Pool" in type(m).__name__]
    assert pools == ["ScaledAvgPool2d", "ScaledAvgPool2d"]
    assert not np.allclose(both[0].test_Z, both[2].test_Z)
    only = train_suite(TINY, include_smooth="only", spectral_norm=False, cache_dir=tmp_path,
                       log=None)  # the transformer has no smooth variant: only CNN-MNIST's
    assert [record.label for record in only] == ["CNN-MNIST (smooth)"] and only.all_cache_hits
    with pytest.raises(ValueError, match="include_smooth"):
        train_suite(TINY, include_smooth="yes", cache_dir=tmp_path, log=None)


def test_split_smaller_than_the_profile_asks_is_used_whole(tmp_path):
    greedy = SuiteProfile(
        name="tiny-test", description="asks for more digits than exist",
        specs=(ModelSpec("cnn-mnist", "digits", 100_000, 40, epochs=1, width=0.125),))
    log = Lines()
    result = train_suite(greedy, spectral_norm=False, cache_dir=tmp_path, log=log)
    record = result[0]
    assert len(record.train_y) == 1297 and len(record.test_y) == 40
    assert "100,000 train examples" in record.data_note and "all 1,297" in record.data_note
    assert any(line.startswith("note for CNN-MNIST") for line in log)


def test_sizes_are_checked_before_anything_trains(tmp_path, monkeypatch):
    calls = []
    profile = SuiteProfile(
        name="tiny-test", description="a model, then data that cannot be loaded",
        specs=(ModelSpec("cnn-mnist", "digits", 80, 40, epochs=1, width=0.125),
               ModelSpec("cnn-cifar", "digits", 80, 40, epochs=1, width=0.125)))
    real_load = suite_module.load_dataset

    def load(name, **kwargs):
        calls.append(name)
        return real_load(name, **kwargs)

    monkeypatch.setattr(suite_module, "load_dataset", load)
    from helpers.nets import train as train_module

    real_train = train_module.train_model

    def train(*args, **kwargs):
        calls.append("train")
        return real_train(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_model", train)
    train_suite(profile, spectral_norm=False, cache_dir=tmp_path, log=None)
    assert calls == ["digits", "train", "train"]  # one load, before the first training


def test_retrain_changes_only_what_it_is_asked_to(tmp_path):
    from helpers.nets.suite import retrain
    from helpers.nets.train import snapshot_models

    record = train_suite(TINY, models="cnn-mnist", spectral_norm=True, cache_dir=tmp_path,
                         log=None)[0]
    same = retrain(record, cache_dir=tmp_path)
    assert same.cache_hit and np.array_equal(same.test_Z, record.test_Z)
    other = retrain(record, seed=1, cache_dir=tmp_path)
    assert not other.cache_hit and other.trained.key["training"]["seed"] == 1
    assert other.data is record.data and not np.allclose(other.test_Z, record.test_Z)
    assert other.label == record.label
    cool = retrain(record, logit_scale=1.0, cache_dir=tmp_path)
    assert cool.trained.key["training"]["logit_scale"] == 1.0
    assert record.trained.key["training"]["logit_scale"] == 16.0
    tracked = retrain(record, snapshots=True, epochs=2, cache_dir=tmp_path)
    epochs = list(snapshot_models(tracked.trained))
    assert [epoch for epoch, _ in epochs] == [1, 2]
    final = epochs[-1][1].model.state_dict()
    assert all(np.array_equal(final[k].numpy(), v.numpy())
               for k, v in tracked.trained.model.state_dict().items())
    with pytest.raises(ValueError, match="snapshots"):
        next(snapshot_models(record.trained))
    with pytest.raises(ValueError, match="cannot change"):
        retrain(record, width=2.0)


def test_variant_settings_change_only_the_named_variant():
    spec = ModelSpec("cnn-mnist", "digits", 80, 40, epochs=2, lr=1e-3,
                     model_kwargs={"representation_dim": 32},
                     variant_settings={"smooth+sn": {"epochs": 5, "logit_scale": 32.0,
                                                     "model_kwargs": {"pooling": "avg"}}})
    plain = spec.training_settings()
    assert plain["epochs"] == 2 and "logit_scale" not in plain
    assert plain["model_kwargs"] == {"representation_dim": 32}
    assert spec.training_settings(spectral_norm=True) == plain
    assert spec.training_settings(smooth=True) == plain
    hot = spec.training_settings(smooth=True, spectral_norm=True)
    assert hot["epochs"] == 5 and hot["logit_scale"] == 32.0 and hot["lr"] == 1e-3
    assert hot["model_kwargs"] == {"representation_dim": 32, "pooling": "avg"}
    assert spec.model_kwargs == {"representation_dim": 32}  # the spec is not mutated


@pytest.mark.parametrize("settings, fragment", [
    ({"smooth+relu": {"epochs": 3}}, "unknown variants ['smooth+relu']"),
    ({"sn": {"width": 2.0}}, "cannot change ['width']"),
])
def test_variant_settings_reject_unknown_names(settings, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        ModelSpec("cnn-mnist", "digits", 80, 40, epochs=1, variant_settings=settings)


def test_variant_settings_reach_training(tmp_path):
    profile = SuiteProfile(
        name="tiny-test", description="variant settings",
        specs=(ModelSpec("cnn-mnist", "digits", 80, 40, epochs=1, width=0.125,
                         variant_settings={"sn": {"epochs": 2}}),))
    suite = train_suite(profile, cache_dir=tmp_path, log=Lines())
    assert [record.epochs for record in suite] == [1, 2]
