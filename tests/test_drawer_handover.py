"""Drawer hand-over mid-day (issue 15): the giver offers, the receiver counts blind, a third person
countersigns; over/short against the giver's custody, the cash moves between the two drawer accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import ApprovalRequired, Conflict, NotFound, PermissionDenied
from teller_tui.common.formatting import format_money
from teller_tui.common.money import Money
from teller_tui.common.reference import make_change
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.ledger.verify import verify_ledger
from teller_tui.models import AuditRecord, JournalEntry, Staff
from teller_tui.models.drawers import Drawer


def _pieces(amount: Money) -> dict[str, int]:
    return make_change(amount)


def _balance(d: Desk, username: str) -> int:
    with d.db.read() as s:
        drawer = s.execute(select(Drawer).where(Drawer.username == username)
                           .order_by(Drawer.id.desc())).scalars().first()  # type: ignore[union-attr]
        assert drawer is not None
        b = d.ledger.balance(s, drawer.account_id)
        return int(b.debits_posted - b.credits_posted)


def test_hand_over_counted_countersigned_and_posted(desk: Desk) -> None:  # noqa: F811
    ho = desk.services.handover
    giver = desk.supervisor  # super1
    receiver = desk.staff("teller3")
    wid = desk.wallet(desk.customer())
    desk.cash.cash_in(giver, wid, Money.of("500"), idempotency_key=key())
    held = _balance(desk, "super1")
    offer = ho.offer(giver, "teller3")
    assert offer.receiver == "teller3" and ho.state(giver).offered_to == "teller3"
    assert [o.giver for o in ho.state(receiver).offers] == ["super1"]
    # From the offer on, the drawer takes no cash.
    with pytest.raises(Conflict) as locked:
        desk.cash.cash_in(giver, wid, Money.of("1"), idempotency_key=key())
    assert locked.value.code == "drawer_handover_pending"
    with pytest.raises(Conflict) as uncounted:
        ho.take_over(receiver, "super1")
    assert uncounted.value.code == "drawer_not_counted"
    # The receiver's blind count: 100.00 short, beyond the tolerance.
    result = ho.count(receiver, "super1", _pieces(Money(held - 10000)))
    assert result.expected == Money(held) and result.difference == Money(-10000)
    with pytest.raises(Conflict):
        ho.withdraw(giver)  # counted: no withdrawing any more
    with pytest.raises(ApprovalRequired) as asked:
        ho.take_over(receiver, "super1")
    spec = asked.value.details["spec"]
    assert spec.rules == ("drawer_handover", "over_short") and spec.amount == Money.of("100")
    # The giver cannot countersign their own hand-over (a third person does).
    own = desk.approve(receiver, spec)  # desk.approve picks super1 for anyone but super1
    with pytest.raises(PermissionDenied) as giver_signed:
        ho.take_over(receiver, "super1", approval_id=own)
    assert giver_signed.value.code == "handover_approver_giver"
    creds = desk.credentials(giver)  # super2
    approval = desk.services.approvals.approve_at_counter(receiver, spec, creds.username, creds.password,
                                                          creds.code).approval_id
    done = ho.take_over(receiver, "super1", approval_id=approval)
    assert done.approver == "super2" and done.difference == Money(-10000) and done.over_short
    assert done.counted == Money(held - 10000)
    # Custody changed hands: the giver's drawer is closed and empty, the receiver's open with the count.
    assert desk.services.drawers.status(giver).state == "closed"
    mine = desk.services.drawers.status(receiver)
    assert mine.state == "open" and mine.opening_float == Money(held - 10000)
    assert _balance(desk, "super1") == 0 and _balance(desk, "teller3") == held - 10000
    desk.cash.cash_in(receiver, wid, Money.of("5"), idempotency_key=key())  # the receiver transacts now
    with pytest.raises(Conflict):
        desk.cash.cash_in(giver, wid, Money.of("5"), idempotency_key=key())
    with desk.db.read() as s:
        kinds = set(s.execute(select(JournalEntry.kind)).scalars())
        actions = list(s.execute(select(AuditRecord.action)).scalars())
        assert verify_ledger(s).ok
    assert {"drawer_handover", "over_short"} <= kinds
    # The end-of-day report says where each drawer's cash came from and went.
    report = desk.services.drawers.eod_report("B001", write=False)
    assert report.drawer("teller3").received_from == "super1" and report.drawer("super1").handed_to == "teller3"
    text = report.text()
    assert "Taken over from super1" in text and "Handed over to" in text
    floats = sum((d.opening_float for d in report.drawers if d.username != "teller3"), Money.zero())
    assert f"Opening floats                    {format_money(floats)}" in text  # the hand-over is no float
    assert {"drawer_handover_offer", "drawer_handover_count", "drawer_handover_out",
            "drawer_handover_in"} <= set(actions)


def test_hand_over_refusals(desk: Desk) -> None:  # noqa: F811
    ho = desk.services.handover
    me = desk.teller
    with pytest.raises(Conflict) as to_self:
        ho.offer(me, "teller1")
    assert to_self.value.code == "handover_self"
    with pytest.raises(Conflict) as holds:
        ho.offer(me, "teller2")  # already holds a drawer today
    assert holds.value.code == "handover_receiver_has_drawer"
    with pytest.raises(NotFound):
        ho.offer(me, "nobody")
    gone = desk.staff("gone")
    with desk.db.write() as s:
        s.execute(update(Staff).where(Staff.id == gone.staff_id).values(disabled=True))
    with pytest.raises(Conflict) as disabled:
        ho.offer(me, "gone")
    assert disabled.value.code == "handover_receiver_unavailable"
    locked = desk.staff("locked")
    with desk.db.write() as s:
        s.execute(update(Staff).where(Staff.id == locked.staff_id).values(
            failed_attempts=10, locked_until=desk.clock.now().replace(year=2100)))
    with pytest.raises(Conflict) as lockout:
        ho.offer(me, "locked")
    assert lockout.value.code == "handover_receiver_unavailable"
    other = desk.staff("teller4", branch="B002")
    with pytest.raises(NotFound):
        ho.offer(me, other.username)  # another branch's teller is not found here
    # Someone the drawer was not offered to cannot count or take it.
    t5 = desk.staff("teller5")
    ho.offer(me, "teller5")
    with pytest.raises(Conflict) as twice:
        ho.offer(me, "teller5")
    assert twice.value.code == "drawer_handover_pending"
    t6 = desk.staff("teller6")
    with pytest.raises(Conflict) as not_offered:
        ho.count(t6, "teller1", {"note:100": 1})
    assert not_offered.value.code == "handover_not_offered"
    # Withdrawn: the drawer takes cash again and the receiver can no longer count it.
    ho.withdraw(me)
    assert ho.state(me).offered_to == ""
    wid = desk.wallet(desk.customer())
    desk.cash.cash_in(me, wid, Money.of("1"), idempotency_key=key())
    with pytest.raises(Conflict):
        ho.count(t5, "teller1", {"note:100": 1})
    kiosk = desk.services.kiosk.ensure_identity("K01")
    with pytest.raises(PermissionDenied):
        ho.offer(kiosk, "teller5")


def test_receiver_who_took_a_drawer_meanwhile_is_refused(desk: Desk) -> None:  # noqa: F811
    """Two offers to one receiver: the second take-over finds them holding a drawer."""
    ho = desk.services.handover
    r = desk.staff("teller7")
    ho.offer(desk.teller, "teller7")
    ho.offer(desk.teller2, "teller7")
    ho.count(r, "teller1", _pieces(Money(_balance(desk, "teller1"))))
    with pytest.raises(ApprovalRequired) as asked:
        ho.take_over(r, "teller1")
    ho.take_over(r, "teller1", approval_id=desk.approve(r, asked.value.details["spec"]))
    with pytest.raises(Conflict) as second:
        ho.count(r, "teller2", _pieces(Money(_balance(desk, "teller2"))))
    assert second.value.code == "handover_receiver_has_drawer"
