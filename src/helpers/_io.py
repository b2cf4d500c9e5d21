"""Atomic file writes: a reader never sees a half-written cache entry, result or download."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    On any error the temporary file is removed and ``path`` keeps its previous content. The
    file ends with the mode an ordinary ``open(path, "w")`` would give it: an existing file's
    own mode, or ``0o666`` less the umask for a new one (``mkstemp`` alone makes it 0600,
    which hid results and cache entries from the other users of a shared folder).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
    os.close(handle)
    temporary = Path(temporary)
    try:
        yield temporary
        os.chmod(temporary, _ordinary_mode(target))
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def _ordinary_mode(target: Path) -> int:
    """The permission bits an ordinary write to ``target`` would leave it with."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where the system allows.

    ``os.umask`` can only be read by setting it, which for an instant would apply a wrong
    mask to files other threads create; Linux reports it in ``/proc/self/status``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` atomically and return the path."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(payload)
    return Path(path)


def write_json_atomic(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically and return the path."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"))


def _json_default(value):
    """Convert numpy scalars and arrays (and paths) for JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
