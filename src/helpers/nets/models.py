"""The four small models of the book, each with and without spectral normalization.

Introduced in the chapter "Models and training". Every model maps an input to a fixed-size
*representation* (:meth:`represent`, the layer whose capacity curve the book measures) and
then to class logits (:meth:`forward`). The representation is the input of the final
linear classifier, after its activation, so a linear probe on it can do at least as well as
the model's own last layer.

================  ==========================================  ======  =====================
name              layers (weighted)                           d_Z     data
================  ==========================================  ======  =====================
``cnn-mnist``     2 conv + 2 FC                               64      MNIST, digits 8x8
``cnn-cifar``     4 conv + 2 FC                               128     CIFAR-10
``resnet8``       stem conv + 3 x (basic block of 2 conv)     256     CIFAR-10
                  + FC = 8
``transformer-   token + position embedding, 4 pre-LN        128     AG News, topics
``tiny``          encoder layers (width 128, 4 heads),
                  masked mean pooling, linear head
================  ==========================================  ======  =====================

Spectral normalization (``spectral_norm=True``) wraps every convolution and every linear
layer in :func:`torch.nn.utils.parametrizations.spectral_norm`. Two caveats the book states:
it divides the *reshaped weight matrix* of a convolution by its largest singular value,
which is not the operator norm of the convolution itself (that needs power iteration on the
operator), and embeddings, layer norms and attention are not Lipschitz-controlled by it.
The CNNs and the ResNet have no batch normalization, so that spectral normalization is not
undone by a learned rescaling and the two variants differ in that one respect only.

"ResNet-8" follows the CIFAR ResNet naming of He et al. (2016), depth ``6n + 2`` with
``n = 1``: one stem convolution, three stages of one basic block (two 3x3 convolutions
each), and the final linear layer, eight weighted layers in all (the 1x1 projection
shortcuts are not counted, as usual). The proposal's table says "8 residual blocks"; eight
blocks would be a ResNet-18-sized network, far above its "< 1M parameters". The last stage
has ``representation_dim`` (256) channels, so the global-average-pooled output *is* the
256-d representation.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import torch
from torch import nn
from torch.nn.utils import parametrizations

from helpers._validation import check_count, check_real, is_integer

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU}

PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
PAD_ID = 0
UNK_ID = 1

#: Lower-case words (letters/digits, with inner apostrophes or hyphens) or single symbols.
TOKEN_PATTERN = r"[a-z0-9]+(?:['\-][a-z0-9]+)*|[^\sa-z0-9]"


# --------------------------------------------------------------------------- building blocks


class ScaledAvgPool2d(nn.AvgPool2d):
    """Average pooling times the square root of the window area (chapter "Curvature threshold").

    On non-overlapping windows its l2 Lipschitz constant is 1, like max pooling, where plain
    2x2 average pooling has 1/2. A network whose layers are spectrally normalized one by one
    then does not shrink its signal at every pooling; with plain average pooling the signal of
    a smooth CNN with spectral normalization becomes so small that GELU works in its nearly
    linear range around zero, and the network underfits (CNN-CIFAR: 54% after five epochs,
    against 58% with this pooling). The scale is a constant, so the map stays smooth.

    Parameters
    ----------
    kernel_size : int or tuple of int
        Window size; ``stride`` defaults to it, as for :class:`torch.nn.AvgPool2d`.
    stride : int or tuple of int, optional
    """

    def __init__(self, kernel_size, stride=None):
        super().__init__(kernel_size, stride)
        height, width = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        self.gain = math.sqrt(height * width)

    def forward(self, x):
        return super().forward(x) * self.gain


#: ``"scaled-avg"`` is the smooth variants' pooling (chapter "Curvature threshold").
POOLING = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d, "scaled-avg": ScaledAvgPool2d}


def _check_pooling(pooling: str) -> str:
    if pooling not in POOLING:
        raise ValueError(f"pooling must be one of {sorted(POOLING)}, got {pooling!r}; 'avg' "
                         "and 'scaled-avg' make the network smooth when the activation is.")
    return pooling


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}.")
    return activation


def _sn(layer: nn.Module, enabled: bool) -> nn.Module:
    """Wrap ``layer`` in spectral normalization when ``enabled``."""
    return parametrizations.spectral_norm(layer) if enabled else layer


def _channels(base: int, width: float) -> int:
    """Scale a channel count by ``width``, keeping at least 4 channels."""
    return max(4, int(round(base * width)))


def _check_image_args(in_channels, image_size, n_classes, width):
    check_count(in_channels, name="in_channels")
    if not is_integer(image_size) or image_size < 4:
        raise ValueError(f"image_size must be an integer >= 4 (pixels per side), "
                         f"got {image_size!r}.")
    check_count(n_classes, name="n_classes", minimum=2)
    check_real(width, name="width (a scale factor)", low=0.0, include_low=False)


class RepresentationModel(nn.Module):
    """Base class: ``forward(x) = classifier(represent(x))``.

    Attributes
    ----------
    representation_dim : int
        Size of the vector returned by :meth:`represent`.
    config : dict
        The constructor arguments (JSON-serializable); ``build_model(**config)`` rebuilds an
        identical architecture. Used as part of cache keys.
    """

    representation_dim: int
    config: dict

    def represent(self, x, mask=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x, mask=None):
        z = self.represent(x) if mask is None else self.represent(x, mask)
        return self.classifier(z)

    def _attach_head(self, name: str, *, n_classes: int, spectral_norm: bool,
                     representation_dim: int, **settings) -> None:
        """Add the linear classifier on the representation and record ``config``."""
        self.classifier = _sn(nn.Linear(representation_dim, n_classes), spectral_norm)
        self.representation_dim = representation_dim
        self.config = dict(name=name, n_classes=n_classes, spectral_norm=bool(spectral_norm),
                           representation_dim=representation_dim, **settings)

    def n_parameters(self) -> int:
        """Number of trainable parameters (spectral-norm buffers excluded)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


# --------------------------------------------------------------------------- CNNs


class _FeatureStackModel(RepresentationModel):
    """A model whose representation is the output of one ``features`` stack."""

    def represent(self, x, mask=None):
        return self.features(x)

    def _build_cnn(self, name: str, convolutions, *, in_channels, image_size, n_classes,
                   spectral_norm, activation, width, representation_dim, pooling) -> None:
        """Check the settings, then stack ``convolutions``, a flatten and the FC layer.

        ``convolutions(act, pool, c1, c2)`` returns the convolution layers with their two 2x2
        poolings, so the maps reaching the FC layer are ``image_size // 4`` on a side.
        """
        _check_image_args(in_channels, image_size, n_classes, width)
        _check_activation(activation)
        act, pool = ACTIVATIONS[activation], POOLING[_check_pooling(pooling)]
        c1, c2 = _channels(32, width), _channels(64, width)
        side = image_size // 4
        self.features = nn.Sequential(
            *convolutions(act, pool, c1, c2),
            nn.Flatten(),
            _sn(nn.Linear(c2 * side * side, representation_dim), spectral_norm), act(),
        )
        # the config (part of cache keys) names the pooling only when it is not max pooling
        self._attach_head(name, n_classes=n_classes, spectral_norm=spectral_norm,
                          representation_dim=representation_dim, in_channels=in_channels,
                          image_size=image_size, activation=activation, width=float(width),
                          **({"pooling": pooling} if pooling != "max" else {}))


class CNNMnist(_FeatureStackModel):
    """CNN-MNIST: two 3x3 convolutions (each followed by 2x2 max pooling) and two FC layers.

    ``conv(C->32) - act - pool - conv(32->64) - act - pool - flatten - FC(->64) - act`` is the
    representation; ``FC(64 -> n_classes)`` gives the logits. The flatten size follows from
    ``image_size`` (8x8 digits give 2x2 maps, 28x28 MNIST 7x7), so one class serves both.
    About 220k parameters on 28x28 inputs, 36k on 8x8.
    """

    def __init__(self, *, in_channels=1, image_size=28, n_classes=10, spectral_norm=False,
                 activation="relu", width=1.0, representation_dim=64, pooling="max"):
        super().__init__()

        def convolutions(act, pool, c1, c2):
            return [_sn(nn.Conv2d(in_channels, c1, 3, padding=1), spectral_norm), act(), pool(2),
                    _sn(nn.Conv2d(c1, c2, 3, padding=1), spectral_norm), act(), pool(2)]

        self._build_cnn("cnn-mnist", convolutions, in_channels=in_channels,
                        image_size=image_size, n_classes=n_classes, spectral_norm=spectral_norm,
                        activation=activation, width=width,
                        representation_dim=representation_dim, pooling=pooling)


class CNNCifar(_FeatureStackModel):
    """CNN-CIFAR: four 3x3 convolutions in two pooled pairs and two FC layers.

    ``[conv(C->32) - act - conv(32->32) - act - pool] - [conv(32->64) - act - conv(64->64) -
    act - pool] - flatten - FC(->128) - act`` is the representation; ``FC(128 -> n_classes)``
    gives the logits. About 590k parameters on 32x32 inputs.
    """

    def __init__(self, *, in_channels=3, image_size=32, n_classes=10, spectral_norm=False,
                 activation="relu", width=1.0, representation_dim=128, pooling="max"):
        super().__init__()

        def convolutions(act, pool, c1, c2):
            return [_sn(nn.Conv2d(in_channels, c1, 3, padding=1), spectral_norm), act(),
                    _sn(nn.Conv2d(c1, c1, 3, padding=1), spectral_norm), act(), pool(2),
                    _sn(nn.Conv2d(c1, c2, 3, padding=1), spectral_norm), act(),
                    _sn(nn.Conv2d(c2, c2, 3, padding=1), spectral_norm), act(), pool(2)]

        self._build_cnn("cnn-cifar", convolutions, in_channels=in_channels,
                        image_size=image_size, n_classes=n_classes, spectral_norm=spectral_norm,
                        activation=activation, width=width,
                        representation_dim=representation_dim, pooling=pooling)


# --------------------------------------------------------------------------- ResNet-8


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity (or 1x1 projection) shortcut, no batch norm.

    ``out = act(conv2(act(conv1(x))) + shortcut(x))``.
    """

    def __init__(self, c_in, c_out, stride, *, spectral_norm, activation):
        super().__init__()
        self.conv1 = _sn(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), spectral_norm)
        self.conv2 = _sn(nn.Conv2d(c_out, c_out, 3, padding=1), spectral_norm)
        self.act = ACTIVATIONS[activation]()
        if stride != 1 or c_in != c_out:
            self.shortcut = _sn(nn.Conv2d(c_in, c_out, 1, stride=stride), spectral_norm)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        return self.act(self.conv2(self.act(self.conv1(x))) + self.shortcut(x))


class ResNet8(RepresentationModel):
    """ResNet-8 (depth 6n+2 with n = 1): stem conv, three one-block stages, linear head.

    Stage widths are ``(32 * width, 64 * width, representation_dim)`` with strides
    ``(1, 2, 2)``; global average pooling of the last stage is the representation (256-d by
    default). About 0.84M parameters (on any image size, since pooling is global). No batch
    normalization (see the module docstring).
    """

    def __init__(self, *, in_channels=3, image_size=32, n_classes=10, spectral_norm=False,
                 activation="relu", width=1.0, representation_dim=256):
        super().__init__()
        _check_image_args(in_channels, image_size, n_classes, width)
        _check_activation(activation)
        c1, c2 = _channels(32, width), _channels(64, width)
        c3 = representation_dim
        self.stem = nn.Sequential(
            _sn(nn.Conv2d(in_channels, c1, 3, padding=1), spectral_norm),
            ACTIVATIONS[activation](),
        )
        blocks = dict(spectral_norm=spectral_norm, activation=activation)
        self.stages = nn.Sequential(
            BasicBlock(c1, c1, 1, **blocks),
            BasicBlock(c1, c2, 2, **blocks),
            BasicBlock(c2, c3, 2, **blocks),
        )
        self._attach_head("resnet8", n_classes=n_classes, spectral_norm=spectral_norm,
                          representation_dim=representation_dim, in_channels=in_channels,
                          image_size=image_size, activation=activation, width=float(width))

    def represent(self, x, mask=None):
        return self.stages(self.stem(x)).mean(dim=(2, 3))


# --------------------------------------------------------------------------- text


class Tokenizer:
    """Lower-casing regex word tokenizer with a fixed vocabulary.

    Ids: ``0 = <pad>``, ``1 = <unk>``, then the vocabulary words, most frequent first.
    :meth:`encode` cuts or pads every text to ``max_length`` tokens and returns a mask that
    is true on real tokens. A text with no token at all is encoded as a single ``<unk>``, so
    attention and mean pooling always see at least one position.

    Build one from a training split with :func:`build_vocabulary`; :meth:`to_dict` and
    :meth:`from_dict` store it (as JSON-ready data) beside the weights.
    """

    def __init__(self, words: Sequence[str], *, max_length: int = 64,
                 pattern: str = TOKEN_PATTERN):
        check_count(max_length, name="max_length")
        words = list(words)
        if PAD_TOKEN in words or UNK_TOKEN in words:
            raise ValueError(f"the vocabulary must not contain {PAD_TOKEN} or {UNK_TOKEN}.")
        if len(set(words)) != len(words):
            raise ValueError("the vocabulary has repeated words.")
        self.itos = [PAD_TOKEN, UNK_TOKEN, *words]
        self.stoi = {word: index for index, word in enumerate(self.itos)}
        self.max_length = max_length
        self.pattern = pattern
        self._regex = re.compile(pattern)

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def vocab_size(self) -> int:
        """Number of ids, ``<pad>`` and ``<unk>`` included."""
        return len(self.itos)

    def tokenize(self, text: str) -> list[str]:
        """Split ``text`` into lower-case tokens."""
        if not isinstance(text, str):
            raise ValueError(f"texts must be strings, got {type(text).__name__}.")
        return self._regex.findall(text.lower())

    def encode(self, texts: Iterable[str]):
        """Return ``(ids, mask)``: int64 and bool tensors of shape (n_texts, max_length)."""
        if isinstance(texts, str):
            raise ValueError("encode takes a list of texts, not a single string; wrap it in [].")
        texts = list(texts)
        ids = torch.full((len(texts), self.max_length), PAD_ID, dtype=torch.int64)
        for row, text in enumerate(texts):
            tokens = self.tokenize(text)[: self.max_length] or [UNK_TOKEN]
            ids[row, : len(tokens)] = torch.tensor([self.stoi.get(t, UNK_ID) for t in tokens])
        return ids, ids != PAD_ID

    def unknown_rate(self, texts: Iterable[str]) -> float:
        """Fraction of tokens (before truncation) that are out of vocabulary."""
        total = unknown = 0
        for text in texts:
            tokens = self.tokenize(text)
            total += len(tokens)
            unknown += sum(token not in self.stoi for token in tokens)
        return unknown / total if total else 0.0

    def to_dict(self) -> dict:
        return {"words": self.itos[2:], "max_length": self.max_length, "pattern": self.pattern}

    @classmethod
    def from_dict(cls, data: dict) -> Tokenizer:
        return cls(data["words"], max_length=int(data["max_length"]), pattern=data["pattern"])


def build_vocabulary(texts: Iterable[str], *, max_size: int = 5000, min_count: int = 2,
                     max_length: int = 64, pattern: str = TOKEN_PATTERN) -> Tokenizer:
    """Build a :class:`Tokenizer` from the words of ``texts`` (use the training split only).

    Parameters
    ----------
    texts : iterable of str
        Training texts.
    max_size : int
        At most this many words (``<pad>`` and ``<unk>`` come on top).
    min_count : int
        Words seen fewer times are left out (they map to ``<unk>``).
    max_length : int
        Tokens per encoded text.

    Returns
    -------
    Tokenizer
        Words sorted by decreasing count, ties broken alphabetically, so the vocabulary is
        the same on every run.
    """
    if isinstance(texts, str):
        raise ValueError("build_vocabulary takes a list of texts, not a single string.")
    check_count(max_size, name="max_size")
    check_count(min_count, name="min_count")
    regex = re.compile(pattern)
    counts: Counter = Counter()
    n_texts = 0
    for text in texts:
        if not isinstance(text, str):
            raise ValueError(f"texts must be strings, got {type(text).__name__}.")
        counts.update(regex.findall(text.lower()))
        n_texts += 1
    if n_texts == 0:
        raise ValueError("build_vocabulary needs at least one text.")
    counts.pop(PAD_TOKEN, None)
    counts.pop(UNK_TOKEN, None)
    kept = sorted((item for item in counts.items() if item[1] >= min_count),
                  key=lambda item: (-item[1], item[0]))[:max_size]
    return Tokenizer([word for word, _ in kept], max_length=max_length, pattern=pattern)


class EncoderLayer(nn.Module):
    """Pre-LayerNorm transformer encoder layer with explicit q/k/v/out and feed-forward Linears.

    Written out (rather than :class:`torch.nn.TransformerEncoderLayer`) so that spectral
    normalization applies to each projection separately and padding is masked explicitly.
    """

    def __init__(self, dim, heads, ff_dim, *, spectral_norm, activation, dropout):
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by the number of heads {heads}.")
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.query = _sn(nn.Linear(dim, dim), spectral_norm)
        self.key = _sn(nn.Linear(dim, dim), spectral_norm)
        self.value = _sn(nn.Linear(dim, dim), spectral_norm)
        self.out = _sn(nn.Linear(dim, dim), spectral_norm)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(
            _sn(nn.Linear(dim, ff_dim), spectral_norm), ACTIVATIONS[activation](),
            _sn(nn.Linear(ff_dim, dim), spectral_norm),
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask):
        n, length, dim = x.shape
        h = self.norm1(x)

        def split(t):
            return t.view(n, length, self.heads, dim // self.heads).transpose(1, 2)

        q, k, v = split(self.query(h)), split(self.key(h)), split(self.value(h))
        scores = q @ k.transpose(-2, -1) / math.sqrt(dim // self.heads)
        scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
        attention = torch.softmax(scores, dim=-1)
        h = (attention @ v).transpose(1, 2).reshape(n, length, dim)
        x = x + self.dropout(self.out(h))
        return x + self.dropout(self.ff(self.norm2(x)))


class TransformerTiny(RepresentationModel):
    """Transformer-Tiny: 4 pre-LN encoder layers of width 128, masked mean pooling, linear head.

    Inputs are token ids ``(n, L)`` from :meth:`Tokenizer.encode` with the boolean ``mask``
    (true on real tokens); without a mask, positions equal to ``<pad>`` (id 0) are masked.
    Padding is ignored by attention (as keys) and by the mean pooling. The 128-d
    representation is the mean over real tokens of the final LayerNorm's output. About 1.45M
    parameters with a 5,000-word vocabulary (the token embedding is 0.64M of them).
    """

    def __init__(self, *, vocab_size, n_classes=4, spectral_norm=False, activation="gelu",
                 width=1.0, representation_dim=128, n_layers=4, n_heads=4, ff_multiplier=4,
                 max_length=64, dropout=0.0):
        super().__init__()
        if not is_integer(vocab_size) or vocab_size < 3:
            raise ValueError(
                f"vocab_size must be an integer >= 3 (<pad>, <unk> and at least one word), "
                f"got {vocab_size!r}. Pass len(tokenizer)."
            )
        check_count(n_classes, name="n_classes", minimum=2)
        check_real(width, name="width (a scale factor)", low=0.0, include_low=False)
        _check_activation(activation)
        dim = representation_dim
        ff_dim = max(8, int(round(dim * ff_multiplier * width)))
        self.token_embedding = nn.Embedding(vocab_size, dim, padding_idx=PAD_ID)
        self.position_embedding = nn.Embedding(max_length, dim)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.position_embedding.weight, std=0.02)
        with torch.no_grad():
            self.token_embedding.weight[PAD_ID].zero_()
        self.layers = nn.ModuleList(
            EncoderLayer(dim, n_heads, ff_dim, spectral_norm=spectral_norm,
                         activation=activation, dropout=dropout)
            for _ in range(n_layers)
        )
        self.final_norm = nn.LayerNorm(dim)
        self.classifier = _sn(nn.Linear(dim, n_classes), spectral_norm)
        self.max_length = max_length
        self.representation_dim = dim
        self.config = dict(name="transformer-tiny", vocab_size=vocab_size, n_classes=n_classes,
                           spectral_norm=bool(spectral_norm), activation=activation,
                           width=float(width), representation_dim=representation_dim,
                           n_layers=n_layers, n_heads=n_heads, ff_multiplier=ff_multiplier,
                           max_length=max_length, dropout=dropout)

    def represent(self, ids, mask=None):
        embedded, mask = self.embed(ids, mask)
        return self.represent_embedded(embedded, mask)

    def embed(self, ids, mask=None):
        """Token plus position embeddings of ``ids`` and the checked mask: ``(x, mask)``.

        The representation is a smooth function of ``x`` (:meth:`represent_embedded`), which
        is where the chapter "Curvature threshold" differentiates the transformer: token ids
        are discrete, so derivatives with respect to them do not exist.
        """
        if ids.dim() != 2:
            raise ValueError(f"token ids must have shape (n, length), got {tuple(ids.shape)}.")
        if ids.shape[1] > self.max_length:
            raise ValueError(f"sequences are {ids.shape[1]} tokens long; this model takes at "
                             f"most max_length={self.max_length}.")
        if mask is None:
            mask = ids != PAD_ID
        mask = mask.bool()
        if not bool(mask.any(dim=1).all()):
            raise ValueError("every sequence needs at least one unmasked token "
                             "(Tokenizer.encode encodes an empty text as <unk>).")
        positions = torch.arange(ids.shape[1], device=ids.device)
        return self.token_embedding(ids) + self.position_embedding(positions)[None], mask

    def represent_embedded(self, x, mask):
        """The representation of embedded sequences ``x`` (n, L, width) under ``mask``."""
        for layer in self.layers:
            x = layer(x, mask)
        x = self.final_norm(x)
        weights = mask.to(x.dtype)[..., None]
        return (x * weights).sum(dim=1) / weights.sum(dim=1)


# --------------------------------------------------------------------------- registry

#: Model names -> classes. ``build_model`` also accepts the aliases in :data:`ALIASES`.
MODELS = {
    "cnn-mnist": CNNMnist,
    "cnn-cifar": CNNCifar,
    "resnet8": ResNet8,
    "transformer-tiny": TransformerTiny,
}
ALIASES = {"resnet-8": "resnet8", "transformer": "transformer-tiny"}
#: Models that read token ids rather than images.
TEXT_MODELS = ("transformer-tiny",)
#: Image models with a pooling choice (``pooling="max"``, ``"avg"`` or ``"scaled-avg"``).
POOLED_MODELS = ("cnn-mnist", "cnn-cifar")


def canonical_model_name(name: str) -> str:
    """Return the registry name for ``name`` (case-insensitive; aliases accepted)."""
    if not isinstance(name, str):
        raise ValueError(f"model name must be a string, got {name!r}.")
    key = name.strip().lower().replace("_", "-")
    key = ALIASES.get(key, key)
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}.")
    return key


def build_model(name: str, *, in_channels: int | None = None, image_size: int | None = None,
                n_classes: int = 10, spectral_norm: bool = False, activation: str | None = None,
                width: float = 1.0, representation_dim: int | None = None,
                vocab_size: int | None = None, **extra) -> RepresentationModel:
    """Build one of the book's models by name.

    Parameters
    ----------
    name : str
        ``"cnn-mnist"``, ``"cnn-cifar"``, ``"resnet8"`` or ``"transformer-tiny"`` (aliases
        ``"ResNet-8"``, ``"transformer"``; case-insensitive).
    in_channels, image_size : int
        Image models only: channels and side length of the (square) inputs. Defaults: 1 and 28
        for ``cnn-mnist``, 3 and 32 for the others.
    n_classes : int
        Number of output classes.
    spectral_norm : bool
        Spectral normalization on every convolution and linear layer.
    activation : {"relu", "gelu", "silu"}
        Defaults to ``"relu"`` for the image models, ``"gelu"`` for the transformer.
    width : float
        Scale factor for hidden widths (conv channels; transformer feed-forward width). The
        representation dimension does not change with it.
    representation_dim : int, optional
        Defaults to the proposal's 64 / 128 / 256 / 128.
    vocab_size : int
        Transformer only, required: ``len(tokenizer)``.
    **extra
        Further transformer options (``n_layers``, ``n_heads``, ``ff_multiplier``,
        ``max_length``, ``dropout``), or ``pooling`` (``"max"``, the default, ``"avg"`` or
        ``"scaled-avg"``) for the two CNNs: with a smooth activation, average pooling makes the
        whole representation map smooth (chapter "Curvature threshold").

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or invalid arguments.
    """
    key = canonical_model_name(name)
    cls = MODELS[key]
    kwargs = dict(n_classes=n_classes, spectral_norm=spectral_norm, width=width)
    if activation is not None:
        kwargs["activation"] = activation
    if representation_dim is not None:
        check_count(representation_dim, name="representation_dim")
        kwargs["representation_dim"] = representation_dim
    if key in TEXT_MODELS:
        if in_channels is not None or image_size is not None:
            raise ValueError(f"{key} reads token ids: leave in_channels and image_size out.")
        if vocab_size is None:
            raise ValueError(f"{key} needs vocab_size (len(tokenizer)).")
        return cls(vocab_size=vocab_size, **kwargs, **extra)
    if "pooling" in extra and key in POOLED_MODELS:
        kwargs["pooling"] = extra.pop("pooling")
    if vocab_size is not None or extra:
        unexpected = sorted(["vocab_size"] * (vocab_size is not None) + list(extra))
        raise ValueError(f"{key} is an image model; unexpected arguments {unexpected}.")
    defaults = {"cnn-mnist": (1, 28)}.get(key, (3, 32))
    kwargs["in_channels"] = defaults[0] if in_channels is None else in_channels
    kwargs["image_size"] = defaults[1] if image_size is None else image_size
    return cls(**kwargs)


def rebuild_model(config: dict) -> RepresentationModel:
    """Build an (untrained) model from a model's :attr:`config` dict."""
    config = dict(config)
    return build_model(config.pop("name"), **config)


__all__ = [
    "ACTIVATIONS", "ALIASES", "MODELS", "PAD_ID", "POOLED_MODELS", "POOLING", "TEXT_MODELS",
    "UNK_ID", "BasicBlock", "CNNCifar", "CNNMnist", "EncoderLayer", "RepresentationModel",
    "ResNet8", "ScaledAvgPool2d", "Tokenizer", "TransformerTiny", "build_model",
    "build_vocabulary", "canonical_model_name", "rebuild_model",
]
