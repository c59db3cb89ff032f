"""Files written whole or not at all."""

import os

import pytest

from imps.core.files import written_whole


def test_the_file_appears_whole_with_the_usual_permissions(tmp_path):
    target = tmp_path / "sub" / "data.bin"
    old_umask = os.umask(0o022)
    try:
        with written_whole(target, ".bin") as tmp:
            assert tmp.parent == target.parent and tmp.name.endswith(".bin") and tmp != target
            tmp.write_bytes(b"complete")
            assert not target.exists()  # nothing to see until the block ends
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"complete"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["data.bin"]


def test_a_failure_keeps_the_old_file_and_removes_the_new(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with written_whole(target, ".bin") as tmp:
            tmp.write_bytes(b"half")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]
