"""Models: shapes, representation sizes, spectral normalization, tokenizer, registry errors."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.nn.utils import parametrize  # noqa: E402

from helpers.nets.models import (  # noqa: E402
    MODELS,
    PAD_ID,
    UNK_ID,
    ScaledAvgPool2d,
    Tokenizer,
    build_model,
    build_vocabulary,
    rebuild_model,
)

IMAGE_MODELS = {"cnn-mnist": 64, "cnn-cifar": 128, "resnet8": 256}
ACTIVATIONS = ("relu", "gelu", "silu")


def _weighted_layers(model):
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


@pytest.mark.parametrize("name", sorted(IMAGE_MODELS))
@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_image_models_shapes(name, spectral_norm, activation):
    torch.manual_seed(0)
    model = build_model(name, in_channels=1, image_size=8, n_classes=7,
                        spectral_norm=spectral_norm, activation=activation, width=0.25)
    x = torch.rand(3, 1, 8, 8)
    z = model.represent(x)
    assert z.shape == (3, IMAGE_MODELS[name]) == (3, model.representation_dim)
    assert model(x).shape == (3, 7)
    model.eval()  # in training mode every forward runs one more power iteration
    assert torch.allclose(model(x), model.classifier(model.represent(x)))
    layers = _weighted_layers(model)
    assert layers
    assert all(parametrize.is_parametrized(m, "weight") == spectral_norm for m in layers)
    assert model.config["activation"] == activation
    assert model.config["spectral_norm"] is spectral_norm


@pytest.mark.parametrize("name,channels,size", [
    ("cnn-mnist", 1, 28), ("cnn-mnist", 1, 8), ("cnn-cifar", 3, 32), ("resnet8", 3, 32),
])
def test_image_models_sizes_and_budgets(name, channels, size):
    model = build_model(name, in_channels=channels, image_size=size)
    assert model.n_parameters() < 1_000_000
    assert model(torch.rand(2, channels, size, size)).shape == (2, 10)
    rebuilt = rebuild_model(model.config)
    assert rebuilt.config == model.config
    assert rebuilt.n_parameters() == model.n_parameters()


def test_resnet8_has_eight_weighted_layers_without_shortcuts():
    model = build_model("resnet8", in_channels=3, image_size=32)
    main_path = [m for name, m in model.named_modules()
                 if isinstance(m, (nn.Conv2d, nn.Linear)) and "shortcut" not in name]
    assert len(main_path) == 8


def test_spectral_norm_bounds_weight_matrix():
    torch.manual_seed(0)
    model = build_model("cnn-mnist", in_channels=1, image_size=8, spectral_norm=True)
    model.train()
    for _ in range(20):  # power iteration runs once per training-mode forward
        model(torch.rand(4, 1, 8, 8))
    for layer in _weighted_layers(model):
        weight = layer.weight.reshape(layer.weight.shape[0], -1)
        assert torch.linalg.matrix_norm(weight, ord=2).item() == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_transformer_shapes(spectral_norm, activation):
    torch.manual_seed(0)
    tokenizer = build_vocabulary(["the cat sat", "a dog ran", "the dog sat"], min_count=1,
                                 max_length=12)
    model = build_model("Transformer-Tiny", vocab_size=len(tokenizer), n_classes=3,
                        spectral_norm=spectral_norm, activation=activation, max_length=12)
    ids, mask = tokenizer.encode(["the cat ran", "", "a a a a a a a a a a a a a a a"])
    assert model.represent(ids, mask).shape == (3, 128) == (3, model.representation_dim)
    assert model(ids, mask).shape == (3, 3)
    layers = _weighted_layers(model)
    assert len(layers) == 4 * 6 + 1
    assert all(parametrize.is_parametrized(m, "weight") == spectral_norm for m in layers)


def test_transformer_parameter_budget():
    model = build_model("transformer-tiny", vocab_size=5002, n_classes=4)
    assert model.n_parameters() < 2_000_000
    assert len(model.layers) == 4


def test_transformer_ignores_padding():
    torch.manual_seed(0)
    texts = ["stocks fell as oil rose", "the team won the match", "new chip"]
    short = build_vocabulary(texts, min_count=1, max_length=6)
    long = Tokenizer(short.itos[2:], max_length=16)
    model = build_model("transformer", vocab_size=len(short), n_classes=2, max_length=16).eval()
    with torch.no_grad():
        z_short = model.represent(*short.encode(texts))
        z_long = model.represent(*long.encode(texts))
        z_alone = model.represent(*long.encode(texts[2:]))
        z_garbage = model.represent(torch.where(long.encode(texts)[1], long.encode(texts)[0], 5),
                                    long.encode(texts)[1])
    assert torch.allclose(z_short, z_long, atol=1e-5)
    assert torch.allclose(z_alone[0], z_long[2], atol=1e-5)
    assert torch.allclose(z_garbage, z_long, atol=1e-5)  # ids under the mask do not matter


def test_tokenizer_basics():
    tokenizer = build_vocabulary(["The cat, the CAT!", "a dog", "the end"], min_count=2,
                                 max_length=4)
    assert tokenizer.itos[:2] == ["<pad>", "<unk>"]
    assert tokenizer.itos[2:] == ["the", "cat"]  # by count, then alphabetically
    ids, mask = tokenizer.encode(["THE dog cat the the", ""])
    assert ids.shape == mask.shape == (2, 4)
    assert ids[0].tolist() == [2, UNK_ID, 3, 2]
    assert ids[1].tolist() == [UNK_ID, PAD_ID, PAD_ID, PAD_ID]
    assert mask[1].tolist() == [True, False, False, False]
    assert tokenizer.tokenize("Don't stop-now, OK?") == ["don't", "stop-now", ",", "ok", "?"]
    assert Tokenizer.from_dict(tokenizer.to_dict()).itos == tokenizer.itos
    assert tokenizer.unknown_rate(["the dog"]) == 0.5
    capped = build_vocabulary(["b b a a c"], min_count=1, max_size=2)
    assert capped.itos[2:] == ["a", "b"]


def test_scaled_average_pooling_is_the_average_times_root_window_area():
    x = torch.randn(2, 3, 6, 8)
    torch.testing.assert_close(ScaledAvgPool2d(2)(x), 2 * nn.functional.avg_pool2d(x, 2))
    torch.testing.assert_close(ScaledAvgPool2d((2, 4))(x),
                               8 ** 0.5 * nn.functional.avg_pool2d(x, (2, 4)))
    model = build_model("cnn-cifar", in_channels=1, image_size=8, width=0.25, pooling="scaled-avg")
    assert [type(m) for m in model.modules() if "Pool" in type(m).__name__] == [
        ScaledAvgPool2d, ScaledAvgPool2d]
    rebuilt = rebuild_model(model.config)
    assert rebuilt.config["pooling"] == "scaled-avg"
    with pytest.raises(ValueError, match="scaled-avg"):
        build_model("cnn-mnist", pooling="sum")


def test_registry_errors():
    with pytest.raises(ValueError, match="cnn-cifar.*cnn-mnist.*resnet8.*transformer-tiny"):
        build_model("vgg16")
    with pytest.raises(ValueError, match="activation"):
        build_model("cnn-mnist", activation="tanh")
    with pytest.raises(ValueError, match="vocab_size"):
        build_model("transformer-tiny")
    with pytest.raises(ValueError, match="image model"):
        build_model("resnet8", vocab_size=100)
    with pytest.raises(ValueError, match="token ids"):
        build_model("transformer", vocab_size=100, image_size=8)
    with pytest.raises(ValueError, match="image_size"):
        build_model("cnn-mnist", image_size=2)
    with pytest.raises(ValueError, match="single string"):
        build_vocabulary("just one text")
    assert sorted(MODELS) == ["cnn-cifar", "cnn-mnist", "resnet8", "transformer-tiny"]
