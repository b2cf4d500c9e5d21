"""On-disk cache for heavy results (trained weights, extracted representations).

Introduced in the chapter "Models and training". An entry is keyed by a hash of
*everything that determines it*: a canonical JSON of the kind of entry, the caller's key
dict (model config, dataset identity and fingerprint, split, seed, profile, training
settings...) and the helpers version :data:`helpers.__version__`. Change any of them and
the entry is computed afresh; rerun with the same ones and it is loaded, which the log says
in so many words (``cache hit: ...`` against ``cache miss: ... computing``), so a papermill
log shows whether a rerun retrained.

Where entries live is the one setting ``HELPERS_CACHE_DIR`` (see :mod:`helpers._settings`;
default ``_build/cache``). Each entry is two files in ``<cache>/<kind>/``:

``<hash>.npz`` or ``<hash>.pt``
    The payload: numpy arrays via :func:`numpy.savez`, anything else (state dicts, nested
    dicts and lists of tensors, numbers and strings, such as table rows) via
    :func:`torch.save`, read back with ``weights_only=True``; numpy scalars in them are stored
    as Python numbers.
``<hash>.json``
    Metadata: the full key, the payload's file name, format, size and SHA-256 checksum,
    written after the payload, so its presence marks a complete entry.

Both are written atomically (:mod:`helpers._io`). On load, an entry that is incomplete
(payload without metadata, or the reverse), unreadable, truncated, fails its checksum or
holds a different key is reported (a :class:`CacheCorruptionWarning` and a log line) and
rebuilt, never used.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import numbers
import os
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from helpers import __version__
from helpers._io import atomic_path, write_bytes_atomic, write_json_atomic
from helpers._settings import cache_dir as _default_cache_dir

#: Characters of the SHA-256 hex digest used in file names (80 bits).
HASH_CHARS = 20


class CacheCorruptionWarning(UserWarning):
    """A cache entry was incomplete or corrupt and is being rebuilt."""


@dataclass
class CacheResult:
    """What :func:`cached_result` returns: the value and where it came from."""

    value: Any
    hit: bool
    key_hash: str
    path: Path
    metadata: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- keys


def _canonical(obj, where: str = "key"):
    """Return ``obj`` as plain JSON data, or raise TypeError naming the offending entry."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        value = float(obj)
        if not math.isfinite(value):
            raise TypeError(f"{where} is {value!r}; cache keys must be finite numbers.")
        return value
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, dict):
        out = {}
        for name, value in obj.items():
            if not isinstance(name, str):
                raise TypeError(f"{where} has a non-string key {name!r}; use strings.")
            out[name] = _canonical(value, f"{where}[{name!r}]")
        return out
    if isinstance(obj, (list, tuple)):
        return [_canonical(value, f"{where}[{index}]") for index, value in enumerate(obj)]
    raise TypeError(
        f"{where} is a {type(obj).__name__}, which has no canonical JSON form; put plain "
        "numbers, strings, lists and dicts in cache keys (for arrays, a fingerprint)."
    )


def canonical_json(obj) -> str:
    """Canonical JSON text of ``obj``: sorted keys, no spaces, tuples as lists."""
    return json.dumps(_canonical(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def full_key(key: dict, kind: str) -> dict:
    """The dict that is actually hashed: ``kind``, the helpers version and ``key``."""
    if not isinstance(kind, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", kind):
        raise ValueError(f"kind must be a short name of letters, digits, - or _, got {kind!r}.")
    if not isinstance(key, dict):
        raise TypeError(f"key must be a dict, got {type(key).__name__}.")
    return {"kind": kind, "helpers_version": __version__, "key": _canonical(key)}


def key_hash(key: dict, kind: str) -> str:
    """Hex digest (first :data:`HASH_CHARS` characters of SHA-256) naming an entry."""
    text = canonical_json(full_key(key, kind))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


def array_fingerprint(array, *, max_bytes: int = 64 * 2**20) -> str:
    """Cheap content fingerprint of an array or a list of strings (SHA-256 hex, 16 chars).

    Shape and dtype are always included. Arrays up to ``max_bytes`` are hashed whole; larger
    ones through an evenly strided subset of rows (still deterministic, and any change of
    order, subsample or preprocessing changes it in practice).
    """
    digest = hashlib.sha256()
    if isinstance(array, (list, tuple)) and (not array or isinstance(array[0], str)):
        digest.update(f"text:{len(array)}".encode())
        for text in array:
            encoded = str(text).encode("utf-8")
            digest.update(len(encoded).to_bytes(8, "little"))
            digest.update(encoded)
        return digest.hexdigest()[:16]
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    array = np.ascontiguousarray(np.asarray(array))
    digest.update(f"array:{array.dtype.str}:{array.shape}".encode())
    if array.nbytes > max_bytes and array.ndim >= 1 and len(array) > 1:
        step = int(math.ceil(array.nbytes / max_bytes))
        array = np.ascontiguousarray(array[::step])
        digest.update(f"stride:{step}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- payloads

_TORCH_SCALARS = (str, bytes, int, float, bool, type(None))


def _check_torch_payload(obj, where="value"):
    """Raise TypeError unless ``obj`` loads back with ``torch.load(weights_only=True)``."""
    import torch

    if isinstance(obj, _TORCH_SCALARS) or isinstance(obj, torch.Tensor):
        return
    if isinstance(obj, (dict, OrderedDict)):
        for name, value in obj.items():
            if not isinstance(name, (str, int)):
                raise TypeError(f"{where} has a key of type {type(name).__name__}.")
            _check_torch_payload(value, f"{where}[{name!r}]")
        return
    if isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            _check_torch_payload(value, f"{where}[{index}]")
        return
    raise TypeError(
        f"{where} is a {type(obj).__name__}; the cache stores numpy arrays, dicts of arrays, "
        "or tensors, numbers, strings and dicts/lists of them (convert numpy inside a dict "
        "to tensors or lists)."
    )


def _plain_scalars(obj):
    """``obj`` with numpy scalars (``np.float64``, ``np.bool_``...) turned into Python ones.

    Table rows computed with numpy hold such scalars; ``torch.load(weights_only=True)``
    cannot read them back, while their Python equivalents store and compare the same. A
    container without such scalars is returned as it is (a state dict keeps its
    ``_metadata``).
    """
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        plain = {name: _plain_scalars(value) for name, value in obj.items()}
        if all(plain[name] is value for name, value in obj.items()):
            return obj
        return type(obj)(plain)
    if isinstance(obj, (list, tuple)):
        plain = [_plain_scalars(value) for value in obj]
        if all(new is old for new, old in zip(plain, obj, strict=True)):
            return obj
        return plain if isinstance(obj, list) else tuple(plain)
    return obj


def _serialize(value) -> tuple[bytes, str, str]:
    """Return ``(payload bytes, format, file suffix)``."""
    buffer = io.BytesIO()
    if isinstance(value, np.ndarray):
        np.savez(buffer, array=value)
        return buffer.getvalue(), "npz-array", ".npz"
    if isinstance(value, dict) and value and all(
        isinstance(v, np.ndarray) for v in value.values()
    ):
        if not all(isinstance(k, str) and k.isidentifier() for k in value):
            raise TypeError("a dict of arrays needs identifier-like string keys for np.savez.")
        np.savez(buffer, **value)
        return buffer.getvalue(), "npz-dict", ".npz"
    import torch

    value = _plain_scalars(value)
    _check_torch_payload(value)
    torch.save(value, buffer)
    return buffer.getvalue(), "torch", ".pt"


def _deserialize(payload: bytes, fmt: str):
    buffer = io.BytesIO(payload)
    if fmt in ("npz-array", "npz-dict"):
        with np.load(buffer, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        return arrays["array"] if fmt == "npz-array" else arrays
    if fmt == "torch":
        import torch

        return torch.load(buffer, map_location="cpu", weights_only=True)
    raise ValueError(f"unknown payload format {fmt!r}")


# --------------------------------------------------------------------------- entries


def _entry_dir(kind: str, cache_dir) -> Path:
    return _default_cache_dir(cache_dir) / kind


def _report(message: str, log) -> None:
    warnings.warn(message, CacheCorruptionWarning, stacklevel=4)
    if log is not None:
        log(f"cache: {message}")


def _try_load(directory: Path, digest: str, expected_key: dict, log):
    """Return ``(value, metadata)`` for a sound entry, ``None`` after reporting a bad one."""
    meta_path = directory / f"{digest}.json"
    payloads = sorted(directory.glob(f"{digest}.npz")) + sorted(directory.glob(f"{digest}.pt"))
    if not meta_path.exists():
        if payloads:
            _report(f"incomplete entry {payloads[0]} (payload without metadata); rebuilding.", log)
        return None
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        payload_name, fmt = metadata["payload"], metadata["format"]
        expected_sha, expected_size = metadata["sha256"], int(metadata["size"])
    except Exception as error:
        _report(f"unreadable metadata {meta_path} ({error}); rebuilding.", log)
        return None
    if metadata.get("full_key") != expected_key:
        _report(f"entry {meta_path} holds a different key (hash collision or edited file); "
                "rebuilding.", log)
        return None
    payload_path = directory / payload_name
    try:
        payload = payload_path.read_bytes()
    except OSError as error:
        _report(f"missing or unreadable payload {payload_path} ({error}); rebuilding.", log)
        return None
    if len(payload) != expected_size:
        _report(f"truncated payload {payload_path} ({len(payload)} bytes, expected "
                f"{expected_size}); rebuilding.", log)
        return None
    if hashlib.sha256(payload).hexdigest() != expected_sha:
        _report(f"checksum mismatch for {payload_path} (corrupted on disk); rebuilding.", log)
        return None
    try:
        value = _deserialize(payload, fmt)
    except Exception as error:
        _report(f"payload {payload_path} could not be read ({error}); rebuilding.", log)
        return None
    return value, metadata


def cached_result(key: dict, compute: Callable[[], Any], *, kind: str, cache_dir=None,
                  log: Callable[[str], None] | None = print, description: str | None = None,
                  refresh: bool = False) -> CacheResult:
    """Load the entry for ``(kind, key)`` or compute, store and return it.

    Parameters
    ----------
    key : dict
        Everything that determines the value, as plain JSON data (numbers, strings, bools,
        lists, dicts). The helpers version and ``kind`` are added automatically.
    compute : callable
        Called with no argument on a miss; returns a numpy array, a dict of numpy arrays, or
        tensors / numbers / strings in dicts and lists (a state dict, say).
    kind : str
        Kind of entry (``"weights"``, ``"representations"``...); also the sub-folder.
    cache_dir : path, optional
        Overrides ``HELPERS_CACHE_DIR``.
    log : callable or None
        Receives one line per event (hit, miss, stored, rebuilt). ``None`` silences it.
    description : str, optional
        Human-readable name of the entry for the log lines.
    refresh : bool
        Recompute and overwrite even if a sound entry exists.

    Returns
    -------
    CacheResult
        ``value``, ``hit`` (loaded rather than computed), ``key_hash``, ``path`` of the
        metadata file and its ``metadata``.
    """
    expected = full_key(key, kind)
    digest = key_hash(key, kind)
    directory = _entry_dir(kind, cache_dir)
    meta_path = directory / f"{digest}.json"
    label = f"{description or kind} [{kind}/{digest}]"
    if not refresh:
        loaded = _try_load(directory, digest, expected, log)
        if loaded is not None:
            value, metadata = loaded
            if log is not None:
                log(f"cache hit: {label}")
            return CacheResult(value, True, digest, meta_path, metadata)
    if log is not None:
        reason = "refresh requested" if refresh else "cache miss"
        log(f"{reason}: {label}; computing")
    start = time.perf_counter()
    value = compute()
    seconds = time.perf_counter() - start
    payload, fmt, suffix = _serialize(value)
    for stale in (directory / f"{digest}{other}" for other in (".npz", ".pt")):
        if stale.suffix != suffix and stale.exists():
            stale.unlink()
    payload_path = write_bytes_atomic(directory / f"{digest}{suffix}", payload)
    metadata = {
        "full_key": expected,
        "key_hash": digest,
        "payload": payload_path.name,
        "format": fmt,
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "compute_seconds": round(seconds, 3),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "description": description,
    }
    write_json_atomic(meta_path, metadata)
    if log is not None:
        log(f"cached: {label} ({seconds:.1f} s, {len(payload) / 2**20:.2f} MiB)")
    return CacheResult(value, False, digest, meta_path, metadata)


def cached(key: dict, compute: Callable[[], Any], *, kind: str, cache_dir=None,
           log: Callable[[str], None] | None = print, description: str | None = None,
           refresh: bool = False):
    """Like :func:`cached_result`, returning the value only."""
    return cached_result(key, compute, kind=kind, cache_dir=cache_dir, log=log,
                         description=description, refresh=refresh).value


# --------------------------------------------------------------------------- checkpoints

#: Folder, beside a checkpoint, that keeps the one saved an epoch before it.
PREVIOUS_CHECKPOINT = "previous"


def _checkpoint_metadata_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _previous_checkpoint(path: Path) -> Path:
    return path.parent / PREVIOUS_CHECKPOINT / path.name


def _sha256_of_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def save_checkpoint(path, state: dict) -> Path:
    """Save a training state at ``path`` with a checksum, keeping the previous one.

    Introduced in the chapter "Models and training" (a training run that is interrupted
    resumes from its last finished epoch). Like a cache entry, a checkpoint is a payload
    (``torch.save`` of tensors, numbers, strings and dicts/lists of them, which
    ``torch.load(weights_only=True)`` reads back) and a metadata file with its size and
    SHA-256, written after it. The checkpoint it replaces moves to ``previous/``, so that a
    damaged newest one costs one epoch rather than the whole run.

    Raises
    ------
    TypeError
        If ``state`` holds something that ``weights_only`` loading could not read back.
    """
    import torch

    path = Path(path)
    state = _plain_scalars(state)
    _check_torch_payload(state, "the checkpoint")
    metadata_path = _checkpoint_metadata_path(path)
    if path.is_file() and metadata_path.is_file():
        previous = _previous_checkpoint(path)
        previous.parent.mkdir(parents=True, exist_ok=True)
        os.replace(metadata_path, _checkpoint_metadata_path(previous))  # stale first: a
        os.replace(path, previous)  # payload without metadata is refused, never used
    with atomic_path(path) as temporary:
        torch.save(state, temporary)
        sha, size = _sha256_of_file(temporary)
    write_json_atomic(metadata_path, {"format": "torch-checkpoint", "key_hash": path.stem,
                                      "size": size, "sha256": sha,
                                      "epoch": state.get("epoch"),
                                      "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    return path


def _read_checkpoint(path: Path):
    """The state saved at ``path``; ``None`` when there is none; ValueError when damaged."""
    import torch

    metadata_path = _checkpoint_metadata_path(path)
    if not path.exists() and not metadata_path.exists():
        return None
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
        expected_sha, expected_size = metadata["sha256"], int(metadata["size"])
    except Exception as error:
        raise ValueError(f"no readable checksum in {metadata_path.name} "
                         f"({type(error).__name__})") from None
    if metadata.get("key_hash") != path.stem:
        raise ValueError(f"{metadata_path.name} belongs to another run")
    try:
        payload = path.read_bytes()
    except OSError as error:
        raise ValueError(f"unreadable payload ({error.strerror})") from None
    if len(payload) != expected_size:
        raise ValueError(f"truncated: {len(payload)} bytes, expected {expected_size}")
    if hashlib.sha256(payload).hexdigest() != expected_sha:
        raise ValueError("checksum mismatch")
    try:  # weights_only: a planted file cannot run code even with a matching checksum
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"not a plain training state ({type(error).__name__})") from None
    if not isinstance(state, dict) or "epoch" not in state:
        raise ValueError("not a training state")
    return state


def load_checkpoint(path, log: Callable[[str], None] | None = None):
    """The newest sound training state saved by :func:`save_checkpoint`, or ``None``.

    A checkpoint that is incomplete, fails its checksum or holds anything but tensors,
    numbers, strings and containers of them is treated as absent: it is logged
    (``ignoring the unreadable checkpoint ...``), removed, and the one saved an epoch
    earlier is tried; without a sound one training starts from the beginning. Introduced in
    the chapter "Models and training".
    """
    if path is None:
        return None
    path = Path(path)
    for candidate, fallback in ((path, "trying the one saved an epoch earlier"),
                                (_previous_checkpoint(path), "training from the start")):
        try:
            state = _read_checkpoint(candidate)
        except ValueError as error:
            if log is not None:
                log(f"ignoring the unreadable checkpoint {candidate} ({error}); {fallback}")
            _remove_checkpoint_files(candidate)
            continue
        if state is not None:
            return state
    return None


def _remove_checkpoint_files(path: Path) -> None:
    for stale in (path, _checkpoint_metadata_path(path)):
        stale.unlink(missing_ok=True)


def remove_checkpoint(path) -> None:
    """Delete a checkpoint and the one kept before it (the finished run is cached)."""
    if path is None:
        return
    path = Path(path)
    _remove_checkpoint_files(path)
    _remove_checkpoint_files(_previous_checkpoint(path))


def clear_cache(kind: str | None = None, *, cache_dir=None) -> int:
    """Delete cache entries (all, or one kind's); return the number of files removed."""
    root = _default_cache_dir(cache_dir)
    folders = [root / kind] if kind is not None else [p for p in root.glob("*") if p.is_dir()]
    removed = 0
    for folder in folders:
        for path in folder.glob("*"):
            if path.is_file() and path.suffix in (".json", ".npz", ".pt", ".tmp"):
                path.unlink()
                removed += 1
    return removed


__all__ = [
    "CacheCorruptionWarning", "CacheResult", "array_fingerprint", "cached", "cached_result",
    "canonical_json", "clear_cache", "full_key", "key_hash", "load_checkpoint",
    "remove_checkpoint", "save_checkpoint",
]
