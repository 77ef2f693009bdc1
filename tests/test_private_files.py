"""The private file writer: the directory is made private once per process (and again when it went
away), every file lands whole, 0600, with no temporary file left, whatever the umask."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from teller_tui.common import files
from teller_tui.common.files import save_private_text, write_private_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("durable", [True, False])
def test_files_are_whole_private_and_leave_no_temporary(tmp_path: Path, durable: bool) -> None:
    old = os.umask(0o002)
    try:
        d = tmp_path / "receipts"
        paths = [save_private_text(d, f"R{i}", f"第{i}张 receipt\n" * 200, durable=durable) for i in range(5)]
        paths.append(save_private_text(d, "R0", "again\n", durable=durable))  # replaced whole
    finally:
        os.umask(old)
    assert _mode(d) == 0o700
    assert sorted(p.name for p in d.iterdir()) == [f"R{i}.txt" for i in range(5)]
    assert all(_mode(p) == 0o600 for p in paths)
    assert paths[1].read_text(encoding="utf-8") == "第1张 receipt\n" * 200
    assert paths[0].read_text(encoding="utf-8") == "again\n"


def test_the_directory_is_made_private_once_then_remembered(tmp_path: Path) -> None:
    d = tmp_path / "receipts"
    save_private_text(d, "R1", "x\n")
    assert os.path.abspath(d) in files._private_dirs
    d.chmod(0o755)  # remembered: not checked on every receipt
    save_private_text(d, "R2", "x\n")
    assert _mode(d) == 0o755
    files._private_dirs.discard(os.path.abspath(d))  # a new process makes it private again
    save_private_text(d, "R3", "x\n")
    assert _mode(d) == 0o700


def test_a_directory_removed_after_its_first_use_is_made_again(tmp_path: Path) -> None:
    d = tmp_path / "home" / "receipts"
    save_private_text(d, "R1", "one\n")
    shutil.rmtree(d.parent)
    path = save_private_text(d, "R2", "two\n")
    assert path.read_text() == "two\n" and _mode(d) == 0o700


def test_a_leftover_temporary_of_the_same_name_is_not_reused(tmp_path: Path) -> None:
    target = tmp_path / "R1.txt"
    n = next(files._temp_numbers) + 1  # the number the next write takes
    stale = tmp_path / f".{target.name}.{os.getpid()}.{n}.tmp"
    stale.write_text("stale from a crashed process")
    write_private_file(target, "fresh\n")
    assert target.read_text() == "fresh\n"
    assert stale.read_text() == "stale from a crashed process"  # opened exclusively: never written through
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, stale.name])


def test_a_failed_write_leaves_neither_file_nor_temporary(tmp_path: Path) -> None:
    with pytest.raises(UnicodeEncodeError):
        write_private_file(tmp_path / "R1.txt", "\ud800")  # cannot be encoded: fails before the rename
    assert list(tmp_path.iterdir()) == []
