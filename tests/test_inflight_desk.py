"""Postings in flight, in the real app: the form writes its key down before sending, a fault is "not known
yet — checking", never "Refused", and after a restart the teller is told what became of each submission.

The core (services.inflight) against the test database; the app (Pilot) through the desk harness.
The real-process versions (SIGKILL in a pty, PostgreSQL stopped mid-submit) are in
tests/test_inflight_pty.py and tests/test_inflight_pg.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from textual.widgets import OptionList, Static

from desk_harness import TELLER_PW, TELLER_SECRET, Desk, fill_amount, ids, from_customer
from desk_harness import desk  # noqa: F401  (the fixture)
from pilot_helpers import settle, sign_in
from teller_tui.common.errors import PermissionDenied
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key



def text_of(app: Any, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


# -- core ----------------------------------------------------------------------------------------
def test_outcome_by_key_posted_and_not_posted(desk: Desk) -> None:
    svc, actor = desk.services.inflight, desk.actor
    wallet = desk.wallets["wang"]
    posted_key, lost_key = new_idempotency_key("cash_in"), new_idempotency_key("cash_in")
    svc.record(actor, "cash_in", posted_key, wallet=wallet.number, amount=Money.of("50.00"))
    svc.record(actor, "cash_in", lost_key, wallet=wallet.number, amount=Money.of("60.00"))
    result = desk.services.cash.cash_in(actor, wallet.wallet_id, Money.of("50.00"), idempotency_key=posted_key)
    outcomes = {o.submission.key: o for o in svc.check_pending(actor)}
    assert set(outcomes) == {posted_key, lost_key}
    assert outcomes[posted_key].posted and outcomes[posted_key].reference == result.reference
    assert outcomes[posted_key].result is not None and result.reference in outcomes[posted_key].result.receipt_text
    assert not outcomes[posted_key].result.replayed  # the original posting, found again
    assert not outcomes[lost_key].posted and outcomes[lost_key].result is None
    assert outcomes[lost_key].submission.amount.endswith("60.00")
    assert [s.key for s in svc.pending(actor, exclude={lost_key})] == [posted_key]
    svc.resolve(actor, posted_key)
    svc.resolve(actor, lost_key)
    assert svc.pending(actor) == []


def test_the_journal_is_per_person_and_staff_only(desk: Desk) -> None:
    from dataclasses import replace

    svc, actor = desk.services.inflight, desk.actor
    svc.record(actor, "cash_out", "cash_out-k", wallet="w", amount=Money.of("1.00"))
    other = replace(actor, username="someone_else", staff_id=None)
    assert svc.pending(other) == []
    kiosk = replace(actor, role="kiosk")
    with pytest.raises(PermissionDenied):
        svc.record(kiosk, "cash_out", "cash_out-x", wallet="w", amount=Money.of("1.00"))
    assert svc.journal(actor).directory == desk.services.settings.home / "inflight" / "T01"


# -- app -----------------------------------------------------------------------------------------
@pytest.mark.slow  # Pilot
async def test_after_a_restart_the_teller_is_told_what_became_of_each(desk: Desk) -> None:
    """Two submissions left in the journal by a crashed session: one reached the books, one did not."""
    svc, actor = desk.services.inflight, desk.actor
    wallet = desk.wallets["wang"]
    posted_key, lost_key = "cash_in-" + "a" * 32, "cash_out-" + "b" * 32
    svc.record(actor, "cash_in", posted_key, wallet=wallet.number, amount=Money.of("70.00"))
    desk.clock.advance(seconds=1)
    svc.record(actor, "cash_out", lost_key, wallet=wallet.number, amount=Money.of("80.00"))
    result = desk.services.cash.cash_in(actor, wallet.wallet_id, Money.of("70.00"), idempotency_key=posted_key)
    before = ids(desk, "cash_in")
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "wang", TELLER_PW, TELLER_SECRET, desk.clock)  # the home screen, and on top
        screen = pilot.app.screen  # of it what became of the postings interrupted here
        assert type(screen).__name__ == "InflightOutcomesScreen"
        lines = [str(o.prompt) for o in screen.query_one(OptionList).options]
        assert lines[0].startswith(f"{result.reference} was posted: Cash in of CN¥70.00, wallet {wallet.number}")
        assert lines[1] == f"Cash out of CN¥80.00, wallet {wallet.number} was not posted. Enter it again if the " \
                           "customer still wants it."
        await pilot.press("p")  # reprint the posted one (highlighted first)
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
        assert result.reference in text_of(pilot.app, "#receipt-text")
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "InflightOutcomesScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "HomeScreen"
    assert svc.pending(actor) == []  # told once
    assert ids(desk, "cash_in") == before  # looking up posts nothing


def _read_only_writes(desk: Desk) -> None:
    """From now on SQLite refuses every write of this terminal (SQLITE_READONLY), reads still work."""
    engine = desk.services.db.write_engine
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _query_only(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA query_only=ON")


@pytest.mark.slow  # Pilot
async def test_a_storage_fault_while_posting_is_not_a_refusal(desk: Desk) -> None:
    before = ids(desk, "cash_in")
    async with desk.signed_in(size=(120, 40)) as pilot:
        await from_customer(pilot, desk, "wang", "f5")
        form = await fill_amount(pilot, "500")
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ConfirmScreen"
        _read_only_writes(desk)
        seen: list[str] = []  # every message the form showed, in order
        original = form._set_message

        def spy(text: str, kind: str = "") -> None:
            seen.append(text)
            original(text, kind)

        form._set_message = spy
        await pilot.press("enter")  # confirm
        await settle(pilot)
        assert pilot.app.screen is form  # no receipt
        message = text_of(pilot.app, "#cash-message")
        assert "Not known yet — checking…" in seen  # the lookup by key, not a verdict
        assert message.startswith("Not posted: The database can only be read, not written")
        assert "Refused" not in message and "Refused" not in " ".join(seen)
        assert not [n for n in pilot.app._notifications if "Traceback" in n.message]
        assert not form.busy  # the teller may try again (same key: never twice)
    assert ids(desk, "cash_in") == before
    assert desk.services.inflight.pending(desk.actor) == []  # the outcome was shown: forgotten


@pytest.mark.slow  # Pilot
async def test_on_unlock_the_same_person_is_told(desk: Desk) -> None:
    """A submission whose outcome was not shown (the form was closed while checking) is reported on unlock."""
    from textual.widgets import Input

    from pilot_helpers import code_for

    svc, actor = desk.services.inflight, desk.actor
    async with desk.signed_in(size=(120, 40)) as pilot:
        svc.record(actor, "transfer", "transfer-" + "c" * 32, wallet=desk.wallets["wang"].number,
                   amount=Money.of("9.00"))
        await pilot.press("f11")
        await settle(pilot)
        lock = pilot.app.screen
        assert type(lock).__name__ == "LockScreen"
        desk.clock.advance(seconds=30)  # a fresh authenticator code
        for field, value in (("#password", TELLER_PW), ("#code", code_for(TELLER_SECRET, desk.clock))):
            lock.query_one(field, Input).value = value
        if lock.query("#username"):
            lock.query_one("#username", Input).value = "wang"
        lock.query_one("#code", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "InflightOutcomesScreen"
        (line,) = [str(o.prompt) for o in pilot.app.screen.query_one(OptionList).options]
        assert line.startswith("Transfer of CN¥9.00") and "was not posted" in line
        await pilot.press("escape")
        await settle(pilot)
    assert svc.pending(actor) == []
