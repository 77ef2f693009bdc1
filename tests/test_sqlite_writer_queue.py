"""SQLite writers queue first come, first served (teller_tui.db.writer_queue): 16 real processes
all finish, their commits come in the order of their tickets, and none is overtaken by more than
the queue in front of it — counted in commits, not timed. The negative control runs the same
writers on SQLite's busy handler alone and is overtaken by hundreds."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from teller_tui.db.engine import SQLITE_BUSY_TIMEOUT_MS, classify_error, make_database
from teller_tui.db import writer_queue
from teller_tui.db.writer_queue import (
    AUTOCHECKPOINT_BACKSTOP, CHECKPOINT_EVERY, YOUNG_GC_IN_TURN, WriterQueue, WriterQueueTimeout, checkpoint_passive,
    queue_path,
)

WORKER = Path(__file__).with_name("writer_queue_worker.py")
WRITERS = 16
EACH = 25
SLACK = 3  # commits between a writer's last read and its ticket (see the test)


def run_writers(path: Path, mode: str) -> tuple[list[dict[str, Any]], list[tuple[int, int, int, int]]]:
    db = make_database(f"sqlite:///{path}")
    with db.write() as s:
        s.execute(text("CREATE TABLE queue_probe (id INTEGER PRIMARY KEY AUTOINCREMENT, writer INT NOT NULL, "
                       "seen INT NOT NULL, ticket INT NOT NULL)"))
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(path), str(i), str(EACH), mode],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(WRITERS)]
    for p in procs:  # every writer has imported everything and opened the database
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    summaries = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    with db.read() as s:
        rows = [(int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in s.execute(text(
            "SELECT id, writer, seen, ticket FROM queue_probe ORDER BY id"))]
    db.dispose()
    return summaries, rows


def overtaken(rows: list[tuple[int, int, int, int]]) -> list[int]:
    """Per transaction: how many other writers' commits came between its request and its own commit."""
    return [commit - seen - 1 for commit, _writer, seen, _ticket in rows]


@pytest.mark.slow
def test_sixteen_writers_all_finish_in_turn(db_path: Path) -> None:
    summaries, rows = run_writers(db_path, "queue")
    assert sorted(s["writer"] for s in summaries) == list(range(WRITERS))
    assert all(s["done"] == EACH for s in summaries)
    assert len(rows) == WRITERS * EACH
    per_writer = {w: sum(1 for _c, x, _s, _t in rows if x == w) for w in range(WRITERS)}
    assert per_writer == dict.fromkeys(range(WRITERS), EACH)
    # Strictly first come, first served: the commits came in the order the writers took their tickets.
    tickets = [t for _c, _w, _s, t in rows]
    assert tickets == sorted(tickets) and len(set(tickets)) == len(tickets)
    assert sum(s["waited"] for s in summaries) > WRITERS  # they really did queue
    counts = overtaken(rows)
    # First come, first served: at most the other 15 writers are in line ahead of a request. The
    # count starts at the read just before the writer asks for its ticket, so a commit or two in
    # that gap (a writer descheduled there) is allowed; the busy handler alone reaches hundreds.
    print(f"overtaken: max {max(counts)}, mean {sum(counts) / len(counts):.1f}")
    assert max(counts) <= (WRITERS - 1) + SLACK
    assert sum(s["retried"] for s in summaries) == 0


@pytest.mark.slow
def test_negative_control_busy_handler_lets_writers_be_overtaken(db_path: Path) -> None:
    """Without the queue SQLite's busy handler sleeps and retries: a writer is overtaken by far more
    commits than there are writers (the unfairness the queue removes). All still finish."""
    summaries, rows = run_writers(db_path, "busy")
    assert len(rows) == WRITERS * EACH
    counts = overtaken(rows)
    print(f"overtaken without the queue: max {max(counts)}, mean {sum(counts) / len(counts):.1f}")
    assert max(counts) > 2 * (WRITERS - 1) + SLACK


def test_threads_of_one_process_queue_too(tmp_path: Path) -> None:
    queue = WriterQueue(tmp_path / "x-writers", timeout=5)
    order: list[str] = []
    inside = threading.Event()

    def second() -> None:
        with queue.turn():
            order.append("second")

    with queue.turn():
        t = threading.Thread(target=second)
        t.start()
        inside.wait(0.2)  # the second thread is blocked in line, not inside
        order.append("first")
    t.join(5)
    assert order == ["first", "second"]
    assert queue.waited == 1


def test_the_writer_before_wakes_the_next_one_with_its_notice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    """The hand-over: the next writer in line is blocked on its ticket's socket and the writer before
    wakes it the moment it passes its turn on (no re-check is due within the test: only the notice
    can wake it)."""
    monkeypatch.setattr(writer_queue, "RECHECK_SECONDS", 60.0)
    path = tmp_path / "x-writers"
    first, second = WriterQueue(path, timeout=30), WriterQueue(path, timeout=30)
    order: list[str] = []

    def later() -> None:
        with second.turn():
            order.append("second")

    with first.turn():
        t = threading.Thread(target=later)
        t.start()
        deadline = time.monotonic() + 5
        while second.waited == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # blocked on its socket by now
        order.append("first")
    t.join(5)
    assert order == ["first", "second"]
    assert (second.waited, second.notified) == (1, 1)
    assert second.last_granted - first.last_released < 5  # woken, not timed out
    first.close()
    second.close()


def test_a_writer_whose_notice_never_comes_gets_its_turn_at_its_re_check(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer before that dies in its turn sends no notice (the kernel frees its lock all the same):
    the next one finds the slot free at its next look at the lock."""
    monkeypatch.setattr(writer_queue, "RECHECK_SECONDS", 0.05)
    path = tmp_path / "x-writers"
    silent, second = WriterQueue(path, timeout=30), WriterQueue(path, timeout=30)
    monkeypatch.setattr(silent, "_notify", lambda *_args: None)
    done = threading.Event()

    def later() -> None:
        with second.turn():
            done.set()

    with silent.turn():
        t = threading.Thread(target=later)
        t.start()
        time.sleep(0.2)
        assert not done.is_set()
    assert done.wait(5)
    t.join(5)
    assert (second.waited, second.notified) == (1, 0)
    second.close()


def test_a_turn_not_granted_in_time_is_a_retryable_conflict_and_is_passed_on(tmp_path: Path) -> None:
    path = tmp_path / "x-writers"
    holder, late = WriterQueue(path, timeout=5), WriterQueue(path, timeout=0.05)
    with holder.turn():
        with pytest.raises(WriterQueueTimeout) as caught:
            with late.turn():
                pass
    assert classify_error(caught.value) == "conflict"
    # The abandoned request got its turn when the holder finished and let go of it at once.
    deadline = time.monotonic() + 5
    while True:
        try:
            with WriterQueue(path, timeout=0.2).turn():
                break
        except WriterQueueTimeout:
            assert time.monotonic() < deadline, "the abandoned turn was never passed on"


def test_the_queue_file_sits_beside_the_database_and_is_private(db_path: Path) -> None:
    db = make_database(f"sqlite:///{db_path}")
    try:
        assert db.writer_queue is not None and db.writer_queue.path == queue_path(db_path)
        assert queue_path(db_path).name == db_path.name + "-writers"
        with db.write() as s:
            s.execute(text("SELECT 1"))
        assert queue_path(db_path).stat().st_mode & 0o077 == 0
    finally:
        db.dispose()


def test_a_queue_file_that_cannot_be_opened_is_a_storage_error(tmp_path: Path) -> None:
    from teller_tui.common.errors import StorageError

    not_a_folder = tmp_path / "plain-file"
    not_a_folder.write_text("")
    with pytest.raises(StorageError):
        with WriterQueue(not_a_folder / "teller.db-writers", timeout=1).turn():
            pass


# -- nothing that can wait runs while a turn is held ------------------------------------------------
def _next_ticket(db_path: Path, ticket: int) -> None:
    """Set the queue's counter so that the next turn gets ``ticket``."""
    path = queue_path(db_path)
    with open(path, "r+b" if path.exists() else "w+b") as f:
        f.write(ticket.to_bytes(8, "big"))


def test_the_writer_whose_ticket_is_due_checkpoints_the_wal_after_its_turn(db_path: Path) -> None:
    """SQLite's own checkpoint is only a backstop on queued connections; the writer holding every
    CHECKPOINT_EVERY-th ticket checkpoints once it has left the line (frames really copied)."""
    db = make_database(f"sqlite:///{db_path}")
    try:
        assert db.writer_queue is not None
        with db.write() as s:
            s.execute(text("CREATE TABLE ck_probe (id INTEGER PRIMARY KEY, pad TEXT)"))
            auto = s.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
        assert auto == AUTOCHECKPOINT_BACKSTOP
        _next_ticket(db_path, CHECKPOINT_EVERY - 3)
        for _ in range(2):  # tickets not due: no checkpoint
            with db.write() as s:
                s.execute(text("INSERT INTO ck_probe (pad) VALUES (:p)"), {"p": "x" * 3000})
        assert db.writer_queue.checkpoints == 0
        with db.write() as s:  # ticket CHECKPOINT_EVERY - 1: still not due
            s.execute(text("INSERT INTO ck_probe (pad) VALUES (:p)"), {"p": "x" * 3000})
        assert db.writer_queue.checkpoints == 0
        with db.write() as s:  # ticket CHECKPOINT_EVERY
            s.execute(text("INSERT INTO ck_probe (pad) VALUES (:p)"), {"p": "x" * 3000})
        assert db.writer_queue.last_ticket == CHECKPOINT_EVERY
        assert db.writer_queue.checkpoints == 1 and db.writer_queue.checkpointed_frames > 0
        with db.read() as s:
            assert s.execute(text("SELECT COUNT(*) FROM ck_probe")).scalar_one() == 4
    finally:
        db.dispose()


@pytest.mark.parametrize("catch_up", [True, False], ids=["catch-up", "negative-control"])
def test_a_checkpoint_after_the_line_has_the_next_turn_catch_up_so_the_wal_starts_over(
        db_path: Path, catch_up: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checkpoint after the line cannot copy what is committed while it runs (here: what a
    reader's snapshot still holds back), so SQLite would not start the WAL over and it would grow to
    the backstop. It asks for a catch-up; the next turn copies the rest after its COMMIT, and the WAL
    file stops growing (written from its beginning again). Without the request it keeps growing."""
    import sqlite3

    if not catch_up:
        monkeypatch.setattr(WriterQueue, "_ask_catch_up", lambda self: None)
    db = make_database(f"sqlite:///{db_path}")
    wal = db_path.with_name(db_path.name + "-wal")
    queue = queue_path(db_path)

    def insert(n: int) -> None:
        for _ in range(n):
            with db.write() as s:
                s.execute(text("INSERT INTO wal_probe (pad) VALUES (:p)"), {"p": "w" * 3000})

    line = db.writer_queue
    assert line is not None
    reader = sqlite3.connect(db_path, isolation_level=None)
    try:
        with db.write() as s:
            s.execute(text("CREATE TABLE wal_probe (id INTEGER PRIMARY KEY, pad TEXT)"))
        insert(10)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM wal_probe").fetchone() == (10,)  # a snapshot held
        insert(10)
        _next_ticket(db_path, CHECKPOINT_EVERY)
        insert(1)  # the due ticket: its checkpoint after the line stops at the reader's snapshot
        assert line.checkpoints == 1
        assert queue.read_bytes()[8:9] == (b"\1" if catch_up else b"")
        reader.execute("ROLLBACK")
        insert(1)  # this turn catches up after its COMMIT
        assert line.caught_up == (1 if catch_up else 0)
        if catch_up:
            assert queue.read_bytes()[8:9] == b"\0"
        size = wal.stat().st_size
        insert(8)  # fewer frames than the WAL holds: written over its beginning, if it started over
        assert (wal.stat().st_size == size) is catch_up
        with db.read() as s:
            assert s.execute(text("SELECT count(*) FROM wal_probe")).scalar_one() == 30
    finally:
        reader.close()
        db.dispose()


def test_the_passive_checkpoint_needs_neither_the_line_nor_the_write_lock(db_path: Path) -> None:
    """Another writer holds its turn and SQLite's write lock (an open BEGIN IMMEDIATE transaction)
    while the checkpoint runs: it copies the committed frames and returns without waiting."""
    db = make_database(f"sqlite:///{db_path}")
    other = make_database(f"sqlite:///{db_path}")
    try:
        with db.write() as s:
            s.execute(text("CREATE TABLE ck_probe (id INTEGER PRIMARY KEY, pad TEXT)"))
            s.execute(text("INSERT INTO ck_probe (pad) VALUES (:p)"), {"p": "y" * 5000})
        with other.write() as s:  # in line and holding the write lock
            s.execute(text("INSERT INTO ck_probe (pad) VALUES ('z')"))
            started = time.monotonic()
            frames = checkpoint_passive(db.write_engine)
            assert frames > 0
            assert time.monotonic() - started < SQLITE_BUSY_TIMEOUT_MS / 1000  # it did not wait for the lock
    finally:
        db.dispose()
        other.dispose()


def test_no_garbage_collection_while_a_turn_is_held(db_path: Path) -> None:
    """While a turn is held (any thread of the process) the oldest generation's threshold is out of
    reach and the youngest's is raised so that a posting's allocations run no collection inside the
    turn (the middle generation keeps its own); the thresholds come back when the turn ends, even on
    failure, and the collection that fell due runs after the turn."""
    db = make_database(f"sqlite:///{db_path}")
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []
    collected: list[str] = []

    def count(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            collected.append("in turn" if inside else "after")

    inside = False
    gc.callbacks.append(count)
    try:
        with db.write() as s:
            s.execute(text("SELECT 1"))
            inside = True
            garbage = [[i] for i in range(before[0] * 5)]  # five times what starts a collection outside a turn
            inside = False
            seen.append(gc.get_threshold())
            inner = threading.Thread(target=lambda: seen.append(gc.get_threshold()))
            inner.start()
            inner.join(5)
        seen.append(gc.get_threshold())
        after = [[i] for i in range(before[0] * 2)]
        with pytest.raises(RuntimeError):  # a failed transaction gives it back too
            with db.write() as s:
                raise RuntimeError("refused")
        seen.append(gc.get_threshold())
    finally:
        gc.callbacks.remove(count)
        db.dispose()
        gc.set_threshold(*before)
    held = (max(before[0], YOUNG_GC_IN_TURN), before[1], seen[0][2])
    assert seen[0][2] > 1_000_000 and seen == [held, held, before, before]
    assert len(garbage) > before[0] and len(after) > before[0]
    assert "in turn" not in collected and "after" in collected
    assert gc.isenabled()


def test_only_begin_to_commit_runs_in_the_turn(db_path: Path) -> None:
    """BEGIN IMMEDIATE runs after the turn is granted and COMMIT (or ROLLBACK) before it is passed
    on, on the process's line connection: taken from the pool once, kept across turns, given back
    after a failed turn (the next takes another) and when the database is disposed."""
    db = make_database(f"sqlite:///{db_path}")
    marks: dict[str, list[float]] = {}

    def mark(name: str) -> Any:
        return lambda *_args: marks.setdefault(name, []).append(time.perf_counter())

    for name in ("checkout", "checkin", "begin", "commit", "rollback"):
        event.listen(db.write_engine, name, mark(name))
    line = db.writer_queue
    assert line is not None
    try:
        for fail in (False, True, False):
            for name in ("begin", "commit", "rollback"):
                marks.pop(name, None)
            try:
                with db.write() as s:
                    s.execute(text("SELECT 1"))
                    if fail:
                        raise RuntimeError("refused")
            except RuntimeError:
                assert fail
            end = marks["rollback" if fail else "commit"]
            assert line.last_asked <= line.last_granted < marks["begin"][0] < end[0] < line.last_released
            assert "commit" not in marks if fail else "rollback" not in marks
        kept = db.line.conn
        assert kept is not None and not kept.in_transaction()
        # One checkout in the first turn, kept by the second; the refused write gave it back (the
        # pool's reset rolls the driver back) and the third turn took another.
        assert len(marks["checkout"]) == 2 and len(marks["checkin"]) == 1
    finally:
        db.dispose()
    assert db.line.conn is None and len(marks["checkin"]) == 2


def test_a_broken_line_connection_is_replaced(db_path: Path) -> None:
    """A turn whose connection cannot roll back (here: closed under it) drops that connection; the
    next turn opens another and writes."""
    db = make_database(f"sqlite:///{db_path}")
    try:
        with db.write() as s:
            s.execute(text("CREATE TABLE t (x INTEGER)"))
        first = db.line.conn
        assert first is not None
        with pytest.raises(Exception):
            with db.write() as s:
                s.execute(text("INSERT INTO t VALUES (1)"))
                first.connection.dbapi_connection.close()  # the driver's connection dies mid-transaction
                s.execute(text("INSERT INTO t VALUES (2)"))
        assert db.line.conn is None and first.closed
        with db.write() as s:
            s.execute(text("INSERT INTO t VALUES (3)"))
        with db.read() as s:
            assert s.execute(text("SELECT x FROM t")).scalars().all() == [3]
        assert db.line.conn is not None and db.line.conn is not first
    finally:
        db.dispose()


def test_after_the_pool_is_disposed_the_next_turn_opens_a_new_line_connection(db_path: Path) -> None:
    """Disposing the write engine's pool (after a fault, a failover, a test making the disk read-only)
    retires the line connection too: the next turn runs on a connection opened from then on."""
    db = make_database(f"sqlite:///{db_path}")
    try:
        with db.write() as s:
            s.execute(text("CREATE TABLE t (x INTEGER)"))
        first = db.line.conn
        db.write_engine.dispose()

        @event.listens_for(db.write_engine, "connect")
        def _query_only(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA query_only=ON")

        with pytest.raises(Exception, match="readonly|read-only|read only|only be read"):
            with db.write() as s:
                s.execute(text("INSERT INTO t VALUES (1)"))
        assert first is not None and first.closed and db.line.conn is not first
    finally:
        db.dispose()


def test_a_failed_commit_leaves_no_transaction_behind(db_path: Path) -> None:
    """COMMIT itself fails (a deferred foreign key): the driver's transaction is rolled back with the
    connection given back, other connections can write at once, and so can this process's next turn."""
    import sqlite3

    db = make_database(f"sqlite:///{db_path}")
    try:
        with db.write() as s:
            s.execute(text("CREATE TABLE p (id INTEGER PRIMARY KEY)"))
            s.execute(text("CREATE TABLE c (p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)"))
        with pytest.raises(Exception):
            with db.write() as s:
                s.execute(text("INSERT INTO c VALUES (42)"))  # no parent: refused at COMMIT
        other = sqlite3.connect(db_path, timeout=0.2, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # not "database is locked": nobody holds the write lock
        other.execute("ROLLBACK")
        other.close()
        with db.write() as s:
            s.execute(text("INSERT INTO p VALUES (1)"))
        with db.read() as s:
            assert s.execute(text("SELECT count(*) FROM c")).scalar() == 0
    finally:
        db.dispose()
