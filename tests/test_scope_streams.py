"""One transaction writing two branches' audit streams (a supervisor of branch A approving at branch B,
a cross-branch transfer, a sweep over several branches) never deadlocks with another doing B then A.

PostgreSQL, two threads, each one write transaction: an audit record in one branch's stream, then (after
both have written their first, a barrier) one in the other branch's stream, in opposite orders. Each
stream's head row is locked by its appends, so without keys this is the textbook deadlock.

* both streams' keys up front (the scope names both: taken in one fixed-order statement) — both finish;
* each scope names only its first branch, the check on (``require_keys``): the second append tries the
  other branch's key without waiting, gives up (``ScopeWidened``) and ``write_retrying`` runs it again
  with both keys up front — both finish;
* negative control, the check off (``Database.scope_guard``, test-only) and each scope naming only its
  first branch: PostgreSQL finds the deadlock (40P01) and kills one of them.
Afterwards ``audit verify`` is clean. No timing assertions (the barrier's timeout only ends a wait that
the keys make impossible).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.audit.trail import verify as verify_audit
from teller_tui.common.clock import SystemClock
from teller_tui.db.engine import Database, make_database
from teller_tui.db.scopes import ScopeWidened, fixed_scope, held_keys, stream_key

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

A, B = "B001", "B002"


def _actor(branch: str) -> Actor:
    return Actor(None, f"system:{branch.lower()}", "T99", "system", branch)


def _cross(db: Database, scopes: dict[str, list[str]], *, retrying: bool) -> tuple[list[BaseException], int]:
    """Two threads: A then B, and B then A; each thread's scope names ``scopes[first]``. Returns
    (errors raised, attempts made)."""
    audit = AuditTrail(SystemClock())
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    attempts = [0]
    lock = threading.Lock()

    def work(first: str, second: str) -> Callable[[Any], None]:
        def run(s: Any) -> None:
            with lock:
                attempts[0] += 1
                tries = attempts[0]
            audit.append(s, _actor(first), "scope_test", subject=f"{first}>{second}")
            if tries <= 2:  # the first attempts meet: each holds its first stream's head row
                try:
                    barrier.wait(timeout=3)
                except threading.BrokenBarrierError:
                    pass  # the other waits for our key: nothing to meet
            audit.append(s, _actor(second), "scope_test", subject=f"{first}>{second}")
            assert held_keys(s) is not None
        return run

    def thread(first: str, second: str) -> None:
        scope = fixed_scope([stream_key(b) for b in scopes[first]])
        try:
            if retrying:
                db.write_retrying(work(first, second), scope=scope)
            else:
                with db.write(scope) as s:
                    work(first, second)(s)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertions
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=thread, args=pair) for pair in ((A, B), (B, A))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a transaction never finished"
    return errors, attempts[0]


def _records(db: Database) -> int:
    with db.read() as s:
        report = verify_audit(s)
        assert report.ok, report.problem
        return int(s.execute(text("SELECT COUNT(*) FROM audit_record WHERE action = 'scope_test'")).scalar_one())


def test_both_streams_up_front_both_finish(pg_app_url: str) -> None:
    db = make_database(pg_app_url)
    try:
        errors, _ = _cross(db, {A: [A, B], B: [B, A]}, retrying=False)
        assert errors == []
        assert _records(db) == 4
    finally:
        db.dispose()


def test_a_stream_found_inside_widens_the_scope_and_both_finish(pg_app_url: str) -> None:
    db = make_database(pg_app_url)
    try:
        errors, attempts = _cross(db, {A: [A], B: [B]}, retrying=True)
        assert errors == []
        assert attempts > 2  # at least one gave up without waiting and ran again with both keys
        assert _records(db) == 4
    finally:
        db.dispose()


def test_a_stream_found_inside_is_refused_without_retry(pg_app_url: str) -> None:
    """Plain ``write()``: the widened scope is an error the caller sees, never a wait."""
    db = make_database(pg_app_url)
    try:
        errors, _ = _cross(db, {A: [A], B: [B]}, retrying=False)
        assert errors and all(isinstance(e, ScopeWidened) for e in errors), errors
        assert _records(db) == 4 - 2 * len(errors)
    finally:
        db.dispose()


def test_negative_control_without_the_check_deadlocks(pg_app_url: str) -> None:
    db = make_database(pg_app_url)
    db.scope_guard = False
    try:
        errors, _ = _cross(db, {A: [A], B: [B]}, retrying=False)
        states = [getattr(getattr(e, "orig", None), "sqlstate", None) for e in errors]
        assert "40P01" in states, errors  # PostgreSQL found the deadlock and killed one
        assert _records(db) == 2
    finally:
        db.dispose()
