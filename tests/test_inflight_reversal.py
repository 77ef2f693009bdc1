"""A reversal (F9) in flight is accounted for like a cash posting: its key is written to the
terminal's journal before it is sent; a fault is "not known yet — checking", and the terminal
then says plainly whether it was posted (with its receipt) or not.

Core: ``submit_tracked`` (posted, refused, unknown). App (Pilot, the real TellerApp): a storage
fault while the reversal is sent, then the terminal's own lookup; and a reversal left in the
journal by a crashed session, reported at the next sign-in with its receipt.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, OptionList, Static

from teller_tui.approvals.policy import ApprovalPolicy
from desk_harness import TELLER_PW, TELLER_SECRET, Desk, ids, make_desk, open_customer
from pilot_helpers import settle, sign_in, type_text
from teller_tui.common.errors import DatabaseUnavailable, ValidationError
from teller_tui.common.money import Money
from teller_tui.desk.inflight_service import OutcomeUnknown, submit_tracked

from test_inflight_desk import _read_only_writes


@pytest.fixture
def desk(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> Desk:
    """The desk under a policy without the reversal rule (a site may ship one; the approval dialog
    has its own tests): F9 asks for a reason and posts."""
    world = make_desk(tmp_path, db_path, db, clock)
    approvals = world.services.approvals
    approvals.policy = ApprovalPolicy([r for r in approvals.policy.rules if r.id != "reversal"],
                                      approvals.policy.approver_roles)
    return world


def seed_entry(desk: Desk, name: str) -> int:
    return [e for e in desk.entries("cash_in") if e[3] == f"seed-{name}"][0][0]


# -- core ----------------------------------------------------------------------------------------
def test_submit_tracked_posted_refused_and_unknown(desk: Desk) -> None:
    svc, actor, cash = desk.services.inflight, desk.actor, desk.services.cash
    wallet = desk.wallets["zhang"].number
    entry_id = seed_entry(desk, "zhang")
    seen: list[list[str]] = []

    def reverse(key: str) -> Any:
        seen.append([s.key for s in svc.pending(actor)])  # what the journal holds while it is sent
        return cash.reverse(actor, entry_id, "wrong wallet", idempotency_key=key)

    # Refused (the transaction rolled back): forgotten, the refusal raised as it was.
    with pytest.raises(ValidationError):
        submit_tracked(svc, actor, "reversal", "rev-refused", wallet=wallet, amount=Money.of("1.00"),
                       send=lambda: cash.reverse(actor, entry_id, "", idempotency_key="rev-refused"))
    assert svc.pending(actor) == []
    # Unknown (the database failed mid-way): kept, and looked up by key it says "not posted".
    def lost() -> Any:
        raise DatabaseUnavailable("gone")
    with pytest.raises(OutcomeUnknown) as info:
        submit_tracked(svc, actor, "reversal", "rev-lost", wallet=wallet, amount=Money.of("1.00"), send=lost)
    assert isinstance(info.value.cause, DatabaseUnavailable)
    assert [s.key for s in svc.pending(actor)] == ["rev-lost"]
    assert not svc.outcome_of(actor, info.value.submission).posted
    svc.resolve(actor, "rev-lost")
    # Posted: the key was in the journal while it was sent, and is forgotten after.
    result = submit_tracked(svc, actor, "reversal", "rev-ok", wallet=wallet, amount=Money.of("1.00"),
                            send=lambda: reverse("rev-ok"))
    assert seen == [["rev-ok"]]
    assert svc.pending(actor) == []
    # A crash after the commit: the key still in the journal is found posted, with the reversal's receipt.
    sub = svc.record(actor, "reversal", "rev-ok", wallet=wallet, amount=Money.of("1.00"))
    outcome = svc.outcome_of(actor, sub)
    assert outcome.posted and outcome.reference == result.reference
    assert outcome.result is not None and result.reference in outcome.result.receipt_text


# -- app -----------------------------------------------------------------------------------------
async def _reverse_zhang(pilot: Any, desk: Desk) -> None:
    customer = await open_customer(pilot, desk, "zhang")
    customer.query_one("#customer-history", DataTable).focus()
    await pilot.press("f9")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "ReasonScreen"
    await type_text(pilot, "wrong wallet")


@pytest.mark.slow  # Pilot
async def test_a_fault_while_reversing_is_checked_and_told(desk: Desk) -> None:
    before = ids(desk, "reversal")
    async with desk.signed_in(size=(120, 40)) as pilot:
        await _reverse_zhang(pilot, desk)
        _read_only_writes(desk)  # the reversal's transaction cannot commit
        await pilot.press("enter")
        await settle(pilot)
        notes = " ".join(n.message for n in pilot.app._notifications)
        assert "Not known yet — checking" in notes and "Refused" not in notes and "Traceback" not in notes
        screen = pilot.app.screen  # the terminal looked the key up: not posted
        assert type(screen).__name__ == "InflightOutcomesScreen", (screen, notes, desk.services.inflight.pending(desk.actor))
        (line,) = [str(o.prompt) for o in screen.query_one(OptionList).options]
        assert line.startswith("Reversal of CN¥") and desk.wallets["zhang"].number in line
        assert line.endswith("was not posted. Enter it again if the customer still wants it.")
        await pilot.press("escape")
        await settle(pilot)
    assert ids(desk, "reversal") == before
    assert desk.services.inflight.pending(desk.actor) == []  # told once


@pytest.mark.slow  # Pilot
async def test_a_reversal_left_by_a_crash_is_reported_posted_with_its_receipt(desk: Desk) -> None:
    """The session crashed after the reversal committed, before its receipt was shown."""
    svc, actor = desk.services.inflight, desk.actor
    wallet = desk.wallets["zhang"]
    key = "reversal-" + "d" * 32
    svc.record(actor, "reversal", key, wallet=wallet.number, amount=Money.of("100.00"))
    result = desk.services.cash.reverse(actor, seed_entry(desk, "zhang"), "wrong wallet", idempotency_key=key)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "wang", TELLER_PW, TELLER_SECRET, desk.clock)
        screen = pilot.app.screen
        assert type(screen).__name__ == "InflightOutcomesScreen"
        (line,) = [str(o.prompt) for o in screen.query_one(OptionList).options]
        assert line.startswith(f"{result.reference} was posted: Reversal of CN¥100.00, wallet {wallet.number}")
        await pilot.press("p")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
        assert result.reference in str(pilot.app.screen.query_one("#receipt-text", Static).render())
        assert [s.key for s in svc.pending(actor)] == [key]  # kept until the list is closed
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "HomeScreen"
    assert svc.pending(actor) == []  # told once
    assert ids(desk, "reversal") == [result.entry_id]  # looking it up posts nothing
