"""The database itself refuses edits to the journal and the audit trail; retries are idempotent."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DatabaseError

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.common.errors import Conflict, LimitExceeded, ValidationError
from teller_tui.ledger import Ledger, Leg
from teller_tui.ledger.verify import verify_ledger

from ledger_fixtures import entry, open_chart, transfer


@pytest.fixture
def booked(db, clock):  # type: ignore[no-untyped-def]
    ledger = Ledger(clock)
    chart = open_chart(db, ledger, wallets=2, drawers=1)
    with db.write() as s:
        ledger.post(s, transfer("open", "opening", chart.vault, chart.equity, 1_000_000))
        ledger.post(s, transfer("fund", "vault_to_drawer", chart.drawers[0], chart.vault, 500_000))
        res = ledger.post(s, transfer("in-1", "cash_in", chart.drawers[0], chart.wallets[0], 10_000, memo="cash in"))
        AuditTrail(clock).append(s, Actor(1, "alice", "T01"), "cash_in", subject="wallet:1", detail={"amount": 10_000})
    return ledger, chart, res


@pytest.mark.parametrize("sql", [
    "UPDATE posting SET amount = amount + 1",
    "DELETE FROM posting",
    "UPDATE journal_entry SET memo = 'edited'",
    "DELETE FROM journal_entry",
    "UPDATE audit_record SET outcome = 'denied'",
    "DELETE FROM audit_record",
])
def test_database_refuses_edits_to_append_only_tables(db, booked, sql: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DatabaseError, match="append-only"):
        with db.write() as s:
            s.connection().exec_driver_sql(sql)
    with db.read() as s:
        assert verify_ledger(s).ok


def test_retry_with_same_payload_returns_the_original(db, booked) -> None:  # type: ignore[no-untyped-def]
    ledger, chart, first = booked
    with db.write() as s:
        again = ledger.post(s, transfer("in-1", "cash_in", chart.drawers[0], chart.wallets[0], 10_000, memo="cash in"))
    assert again.replayed and again.entry_id == first.entry_id and again.reference == first.reference
    with db.read() as s:
        assert ledger.balance(s, chart.wallets[0]).posted.minor == 10_000
        assert s.connection().exec_driver_sql("SELECT COUNT(*) FROM journal_entry").scalar() == 3


def test_retry_with_different_payload_names_the_difference(db, booked) -> None:  # type: ignore[no-untyped-def]
    ledger, chart, _ = booked
    with pytest.raises(Conflict) as err:
        with db.write() as s:
            ledger.post(s, transfer("in-1", "cash_in", chart.drawers[0], chart.wallets[0], 10_001, memo="cash in"))
    assert "legs" in str(err.value) and err.value.details["fields"] == ["legs"]
    with pytest.raises(Conflict, match="memo"):
        with db.write() as s:
            ledger.post(s, transfer("in-1", "cash_in", chart.drawers[0], chart.wallets[0], 10_000, memo="other"))


def test_multi_leg_entry_is_all_or_nothing(db, booked) -> None:  # type: ignore[no-untyped-def]
    ledger, chart, _ = booked
    w0, w1 = chart.wallets
    # The second debit overdraws wallet 1: nothing of the entry may remain.
    req = entry("multi", "transfer", (w0, 5_000), (w1, 1), (chart.drawers[0], -5_001))
    with pytest.raises(LimitExceeded):
        with db.write() as s:
            ledger.post(s, req)
    with db.read() as s:
        assert s.connection().exec_driver_sql("SELECT COUNT(*) FROM journal_entry WHERE idempotency_key = 'multi'"
                                              ).scalar() == 0
        assert ledger.balance(s, w0).posted.minor == 10_000
        assert verify_ledger(s).ok


def test_reversal_once_and_not_of_a_reversal(db, booked) -> None:  # type: ignore[no-untyped-def]
    ledger, chart, first = booked
    with db.write() as s:
        rev = ledger.reverse(s, first.entry_id, idempotency_key="rev-1", actor_id=None, terminal_id="T01")
    with db.write() as s:  # a retry of the same reversal is a replay, not a conflict
        assert ledger.reverse(s, first.entry_id, idempotency_key="rev-1", actor_id=None, terminal_id="T01").replayed
    with pytest.raises(Conflict, match="already been reversed"):
        with db.write() as s:
            ledger.reverse(s, first.entry_id, idempotency_key="rev-2", actor_id=None, terminal_id="T01")
    with pytest.raises(Conflict, match="cannot itself be reversed"):
        with db.write() as s:
            ledger.reverse(s, rev.entry_id, idempotency_key="rev-3", actor_id=None, terminal_id="T01")
    with db.read() as s:
        assert ledger.balance(s, chart.wallets[0]).posted.minor == 0
        assert verify_ledger(s).ok


def test_floats_and_bad_entries_are_refused(db, booked) -> None:  # type: ignore[no-untyped-def]
    ledger, chart, _ = booked
    with pytest.raises(TypeError):
        Leg(chart.wallets[0], 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Leg(chart.wallets[0], True)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        with db.write() as s:
            ledger.post(s, entry("one-leg", "x", (chart.wallets[0], 0)))
    with pytest.raises(ValidationError, match="balance"):
        with db.write() as s:
            ledger.post(s, entry("unbal", "x", (chart.drawers[0], 5), (chart.wallets[0], -4)))
    with pytest.raises(ValidationError, match="two postings"):
        with db.write() as s:
            ledger.post(s, entry("single", "x", (chart.drawers[0], 5)))


def test_business_date_never_goes_backwards(db, booked, clock) -> None:  # type: ignore[no-untyped-def]
    """The ledger dates entries itself (a request carries no date): an open day dated before the
    last entry is refused; with no day open, an entry keeps the later date (never a closed day)."""
    from datetime import timedelta

    from teller_tui.models.drawers import BusinessDay

    ledger, chart, first = booked
    with pytest.raises(TypeError):
        transfer("dated", "cash_in", chart.drawers[0], chart.wallets[0], 1, business_date=first.business_date)
    clock.advance(seconds=1)  # the day opens after the entries already booked
    with db.write() as s:
        s.add(BusinessDay(branch_code="B001", business_date=first.business_date - timedelta(days=1), status="open",
                          opened_at=clock.now(), opened_by="test"))
    with pytest.raises(ValidationError, match="before the last entry"):
        with db.write() as s:
            ledger.post(s, transfer("old", "cash_in", chart.drawers[0], chart.wallets[0], 1))
    with db.write() as s:
        s.connection().exec_driver_sql("UPDATE business_day SET status = 'closed', closed_at = opened_at, "
                                       f"business_date = '{first.business_date + timedelta(days=1)}'")
    clock.advance(seconds=1)  # after the close
    with db.write() as s:  # the clock's own date is earlier: the entry takes the next business day
        res = ledger.post(s, transfer("same-day", "cash_in", chart.drawers[0], chart.wallets[0], 1))
    assert res.business_date == first.business_date + timedelta(days=2)
    with db.read() as s:
        report = verify_ledger(s)
        assert report.ok, report.render()


def test_expired_hold_no_longer_blocks_funds(db, booked, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from teller_tui.ledger import HoldRequest
    from teller_tui.common.money import Money

    ledger, chart, _ = booked
    w, d = chart.wallets[0], chart.drawers[0]
    with db.write() as s:
        hold = ledger.create_hold(s, HoldRequest("h1", "cash_out", w, d, Money(10_000), None, "T01",
                                                 expires_at=clock.now() + timedelta(minutes=10)))
    with pytest.raises(LimitExceeded):
        with db.write() as s:
            ledger.post(s, transfer("out-1", "cash_out", w, d, 1))
    clock.advance(minutes=11)
    with pytest.raises(Conflict, match="expired"):
        with db.write() as s:
            ledger.post_hold(s, hold.hold_id, idempotency_key="hp", actor_id=None, terminal_id="T01",
                             branch_code="B001")
    with db.write() as s:  # no sweeper ran, yet the expired reservation does not block the payment
        ledger.post(s, transfer("out-2", "cash_out", w, d, 10_000))
    with db.read() as s:
        assert ledger.hold_status(s, hold.hold_id).status == "expired"
        assert verify_ledger(s).ok
