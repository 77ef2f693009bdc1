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


# -- copies written on their own thread ---------------------------------------------------------------
def test_copies_land_in_order_whole_and_private_off_the_callers_thread(tmp_path: Path) -> None:
    writer = files.CopyWriter()
    d = tmp_path / "receipts"
    seen: list[str] = []
    real = files.save_private_text

    def spy(directory: Path, name: str, text: str, *, durable: bool = True) -> Path:
        import threading

        seen.append(f"{name}:{threading.current_thread().name}:{durable}")
        return real(directory, name, text, durable=durable)

    files.save_private_text = spy  # type: ignore[assignment]
    try:
        paths = [writer.keep(d, f"R{i}", f"第{i}张\n" * 50) for i in range(20)]
        paths.append(writer.keep(d, "R3", "again\n"))  # asked last: written last, replaces the first R3
        assert writer.flush(10)
    finally:
        files.save_private_text = real  # type: ignore[assignment]
    assert seen == [f"R{i}:teller-copies:False" for i in range(20)] + ["R3:teller-copies:False"]
    assert paths[5] == d / "R5.txt" and paths[5].read_text(encoding="utf-8") == "第5张\n" * 50
    assert paths[3].read_text(encoding="utf-8") == "again\n"
    assert sorted(p.name for p in d.iterdir()) == sorted(f"R{i}.txt" for i in range(20))  # no temporary left
    assert _mode(d) == 0o700 and all(_mode(p) == 0o600 for p in paths)
    assert (writer.written, writer.failed) == (21, 0)


def test_a_copy_that_cannot_be_written_is_logged_and_counted_never_raised(tmp_path: Path,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    writer = files.CopyWriter()
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    path = writer.keep(blocker / "receipts", "R1", "text\n")  # mkdir under a file fails on the thread
    assert writer.flush(10) and not path.exists()
    assert (writer.written, writer.failed) == (0, 1)
    assert any("could not keep the copy R1" in r.getMessage() for r in caplog.records)
    writer.keep(tmp_path / "ok", "R2", "text\n")  # the thread goes on after a failure
    assert writer.flush(10) and (tmp_path / "ok" / "R2.txt").read_text() == "text\n"


def test_an_unsafe_copy_name_is_refused_before_anything_is_queued(tmp_path: Path) -> None:
    writer = files.CopyWriter()
    for name in ("../escape", ".hidden", "a/b", ""):
        with pytest.raises(ValueError):
            writer.keep(tmp_path, name, "x\n")
    assert writer.flush(0) and not any(tmp_path.iterdir())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_writes_its_own_copies(tmp_path: Path) -> None:
    """The child of a fork does not inherit the thread (nor the parent's queue: the process's writer
    is reset after a fork): its copies are written by a thread of its own, and flushed before it exits."""
    writer = files.copies
    writer.keep(tmp_path, "parent", "p\n")
    assert writer.flush(10)
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            fresh = writer._pending == 0 and writer._thread is None
            writer.keep(tmp_path, "child", "c\n")
            code = 0 if writer.flush(10) and fresh else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / "child.txt").read_text() == "c\n" and (tmp_path / "parent.txt").read_text() == "p\n"
