"""Atomic writes (helpers._io): whole files or none, with the mode an ordinary write gives."""

import os
import stat

import pytest

from helpers import _io


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_a_new_file_gets_the_mode_of_an_ordinary_write_under_the_umask(tmp_path, mask):
    previous = os.umask(mask)
    try:
        ordinary = tmp_path / "ordinary.json"
        ordinary.write_text("{}")
        written = _io.write_json_atomic(tmp_path / "atomic.json", {"a": 1})
        with _io.atomic_path(tmp_path / "through_path.bin") as temporary:
            temporary.write_bytes(b"x")
    finally:
        os.umask(previous)
    assert _mode(written) == _mode(ordinary) == 0o666 & ~mask
    assert _mode(tmp_path / "through_path.bin") == 0o666 & ~mask


def test_replacing_a_file_keeps_its_mode(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    _io.write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new" and _mode(target) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "entry.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="broke"):
        with _io.atomic_path(target) as temporary:
            temporary.write_bytes(b"half")
            raise RuntimeError("broke")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["entry.bin"]
