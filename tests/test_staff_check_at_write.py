"""The postings (``at_write`` in the permission table) check the acting person's staff row once,
inside their write transaction, instead of also in a read transaction before it: the refusal is
the same (code, nothing written, no refusal record, nothing logged), and a database without the
in-transaction check falls back to the read."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, update

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.auth.live import StaffRefused, checked_at_write
from teller_tui.auth.permissions import PERMISSIONS
from teller_tui.auth.service import system_actor
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.models import JournalEntry, Staff
from teller_tui.models.cases import RefusedAttempt


def _count(d: Desk, model: Any) -> int:
    with d.db.read() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


@contextmanager
def _transactions(engine: Any) -> Iterator[list[str]]:
    """The transactions begun on ``engine`` while the block runs."""
    begun: list[str] = []

    def on_begin(_conn: Any) -> None:
        begun.append("begin")

    event.listen(engine, "begin", on_begin)
    try:
        yield begun
    finally:
        event.remove(engine, "begin", on_begin)


def _postings(d: Desk, wid: int, other: int) -> dict[str, Callable[[], object]]:
    return {
        "cash_in": lambda: d.cash.cash_in(d.teller, wid, Money.of("10"), idempotency_key=new_idempotency_key()),
        "cash_out": lambda: d.cash.cash_out(d.teller, wid, Money.of("1"), idempotency_key=new_idempotency_key()),
        "transfer": lambda: d.cash.transfer(d.teller, wid, other, Money.of("1"), idempotency_key=new_idempotency_key()),
    }


def test_only_the_postings_skip_the_read_before_the_write() -> None:
    marked = sorted(f"{svc}.{name}" for svc, table in PERMISSIONS.items() for name, rule in table.items()
                    if rule.at_write)
    assert marked == ["cash.cash_in", "cash.cash_out", "cash.transfer"]


@pytest.mark.parametrize("change,code", [
    ({"disabled": True}, "staff_disabled"),
    ({"role": "supervisor"}, "staff_role_changed"),
    ({"branch_code": "B002"}, "staff_role_changed"),
    ("locked", "staff_locked"),
])
def test_a_changed_teller_is_refused_by_every_posting_with_nothing_kept(desk: Desk, change: Any, code: str,  # noqa: F811
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    wid, other = desk.wallet(desk.customer()), desk.wallet(desk.customer())
    desk.cash.cash_in(desk.teller, wid, Money.of("50"), idempotency_key=new_idempotency_key())
    values = {"locked_until": desk.clock.now() + timedelta(minutes=30)} if change == "locked" else change
    with desk.db.write() as s:
        s.execute(update(Staff).where(Staff.username == "teller1").values(**values))
    entries, refusals = _count(desk, JournalEntry), _count(desk, RefusedAttempt)
    caplog.set_level(logging.INFO, logger="teller")
    for name, post in _postings(desk, wid, other).items():
        with pytest.raises(StaffRefused) as refused:
            post()
        assert refused.value.code == code, name
    assert _count(desk, JournalEntry) == entries
    assert _count(desk, RefusedAttempt) == refusals  # as when the guard's read refused: no record
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_posting_runs_no_read_transaction_before_its_write(desk: Desk) -> None:  # noqa: F811
    wid = desk.wallet(desk.customer())
    desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=new_idempotency_key())
    assert checked_at_write(desk.db)
    if desk.db.read_engine is desk.db.write_engine:
        pytest.skip("one engine: the reads are not told apart")
    with _transactions(desk.db.read_engine) as begun:
        desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=new_idempotency_key())
    assert begun == []
    with _transactions(desk.db.read_engine) as begun:  # a read still checks first (and then reads)
        desk.cash.preview_cash_in(desk.teller, wid, Money.of("10"))
    assert len(begun) == 2


def test_without_the_in_transaction_check_the_guard_reads_first(desk: Desk) -> None:  # noqa: F811
    wid = desk.wallet(desk.customer())
    desk.services.auth.disable(system_actor(desk.settings), "teller1")
    hooks = list(desk.db.write_checks)
    desk.db.write_checks.clear()
    try:
        assert not checked_at_write(desk.db)
        with pytest.raises(StaffRefused) as refused:
            desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=new_idempotency_key())
        assert refused.value.code == "staff_disabled"
    finally:
        desk.db.write_checks[:] = hooks
    assert checked_at_write(desk.db)
