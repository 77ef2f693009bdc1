"""The drawer's own postings in flight (vault transfer, opening float, close) are accounted for like the
cash forms: the key is written to the terminal's journal before sending; a fault is "not known yet —
checking"; the lookup says "Vault transfer R… was posted" or "… was not posted" (no wallet, no receipt).

Core: each kind posted / not posted / unknown. App (Pilot, the real TellerApp): a vault transfer whose
transaction cannot commit (read-only database) is checked and told, never "Refused".
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import OptionList

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, Desk
from desk_harness import desk  # noqa: F401  (the fixture)
from pilot_helpers import approve_here, code_for, settle
from screens.inflight import outcome_line
from teller_tui.auth import passwords
from teller_tui.auth.service import system_actor
from teller_tui.branch.views import SupervisorCredentials
from teller_tui.common.errors import Conflict, DatabaseUnavailable
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.desk.inflight import Submission
from teller_tui.desk.inflight_service import OutcomeUnknown, submit_tracked
from teller_tui.models import JournalEntry

from test_inflight_desk import _read_only_writes

def sup(desk: Desk) -> SupervisorCredentials:
    """The supervisor's fresh credentials (dual control), a new code step each time."""
    desk.clock.advance(seconds=31)
    return SupervisorCredentials("chen", SUPERVISOR_PW, code_for(SUPERVISOR_SECRET, desk.clock))


def _keyed(desk: Desk, key: str) -> list[Any]:
    with desk.services.db.read() as s:
        return list(s.execute(select(JournalEntry.kind, JournalEntry.reference)
                              .where(JournalEntry.idempotency_key == key)).all())


def _lost() -> Any:
    raise DatabaseUnavailable("gone")


# -- core ----------------------------------------------------------------------------------------
def test_vault_transfer_unknown_then_looked_up_by_key(desk: Desk) -> None:
    svc, actor, drawers = desk.services.inflight, desk.actor, desk.services.drawers
    key, counts, amount = new_idempotency_key("vault"), {"note:100": 2}, Money.of("200.00")
    with pytest.raises(OutcomeUnknown) as info:
        submit_tracked(svc, actor, "vault_transfer", key, wallet="", amount=amount, subject="to_vault", send=_lost)
    sub = info.value.submission
    assert [s.key for s in svc.pending(actor)] == [key]
    lost = svc.outcome_of(actor, sub)
    assert not lost.posted and lost.reference is None
    assert outcome_line(lost) == "Vault transfer of CN¥200.00 was not posted. Count it again if the cash must " \
                                 "still move."
    # The same key sent again (the form keeps it): posted once, found by its key, no wallet receipt.
    result = submit_tracked(svc, actor, "vault_transfer", key, wallet="", amount=amount, subject="to_vault",
                            send=lambda: drawers.transfer_with_vault(actor, "to_vault", counts, sup(desk),
                                                                     idempotency_key=key))
    assert svc.pending(actor) == []
    found = svc.outcome_of(actor, sub)
    assert found.posted and found.result is None and found.reference == result.reference
    assert outcome_line(found) == f"Vault transfer {result.reference} was posted: CN¥200.00."
    assert "wallet" not in outcome_line(found).lower()
    with pytest.raises(Conflict) as again:  # the key is spent: never twice (a new approval is another request)
        drawers.transfer_with_vault(actor, "to_vault", counts, sup(desk), idempotency_key=key)
    assert again.value.code == "idempotency_conflict" and len(_keyed(desk, key)) == 1


def test_drawer_close_is_looked_up_by_its_drawer(desk: Desk) -> None:
    svc, actor, drawers = desk.services.inflight, desk.actor, desk.services.drawers
    status = drawers.status(actor, include_balance=True)
    assert status.balance is not None
    count = drawers.submit_blind_count(actor, {"note:100": status.balance.minor // 10000})
    key, subject = f"drawer:{count.drawer_id}:close", f"drawer:{count.drawer_id}"
    with pytest.raises(OutcomeUnknown) as info:
        submit_tracked(svc, actor, "drawer_close", key, wallet="", amount=count.counted, subject=subject, send=_lost)
    sub = info.value.submission
    not_yet = svc.outcome_of(actor, sub)
    assert not not_yet.posted
    assert outcome_line(not_yet).startswith("The drawer was not closed (counted CN¥") and "Close it again" in \
        outcome_line(not_yet)
    closed = drawers.close_drawer(actor, sup(desk), write_report=False)
    outcome = svc.outcome_of(actor, sub)
    assert outcome.posted and outcome.reference == (closed.return_reference or closed.over_short_reference)
    assert outcome_line(outcome).startswith(f"Drawer close {outcome.reference} was posted: counted CN¥")
    # Another person's drawer id in a journal is not theirs to be told about.
    from teller_tui.audit.trail import Actor
    from teller_tui.models import Staff

    with desk.services.db.read() as s:
        row = s.execute(select(Staff).where(Staff.username == "chen")).scalar_one()
        chen = Actor(row.id, "chen", actor.terminal_id, row.role, row.branch_code)
    other = Submission(sub.key, sub.kind, "chen", "", sub.amount, sub.started_at, subject)
    assert not svc.outcome_of(chen, other).posted


def test_drawer_open_carries_the_terminal_key(desk: Desk) -> None:
    svc, drawers, auth = desk.services.inflight, desk.services.drawers, desk.services.auth
    with passwords.test_parameters():
        li, _otp = auth.create_staff(system_actor(desk.services.settings), "li", "李", "teller",
                                     password="teller-test-pass-1", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ")
    actor = li.actor(desk.services.settings.terminal_id)
    key, counts = new_idempotency_key("drawer_open"), {"note:100": 5}
    sub = svc.record(actor, "drawer_open", key, wallet="", amount=Money.of("500.00"), subject="drawer_open:li")
    assert not svc.outcome_of(actor, sub).posted
    status = drawers.open_drawer(actor, counts, sup(desk), idempotency_key=key)
    assert [k for k, _ref in _keyed(desk, key)] == ["drawer_float"]  # the float's entry carries the terminal's key
    outcome = svc.outcome_of(actor, sub)
    assert outcome.posted and outcome.reference == _keyed(desk, key)[0][1]
    assert outcome_line(outcome) == f"Drawer opening {outcome.reference} was posted: float CN¥500.00."
    # Sent again after it was posted (the answer was lost): the drawer as it is, no second float.
    assert drawers.open_drawer(actor, counts, sup(desk), idempotency_key=key).drawer_id == status.drawer_id
    assert len(_keyed(desk, key)) == 1
    with pytest.raises(Conflict):  # a new key is a new opening: refused, the drawer is open
        drawers.open_drawer(actor, counts, sup(desk), idempotency_key=new_idempotency_key("drawer_open"))


def test_an_old_journal_file_without_a_subject_still_reads(desk: Desk) -> None:
    svc, actor = desk.services.inflight, desk.actor
    journal = svc.journal(actor)
    journal.directory.mkdir(parents=True, exist_ok=True)
    (journal.directory / "cash_in-old.json").write_text(
        '{"key": "cash_in-old", "kind": "cash_in", "username": "wang", "wallet": "w", "amount": "CN¥1.00", '
        '"started_at": "2026-01-01T00:00:00+00:00"}', encoding="utf-8")
    assert [(s.key, s.subject) for s in svc.pending(actor)] == [("cash_in-old", "")]


# -- app -----------------------------------------------------------------------------------------
@pytest.mark.slow  # Pilot
async def test_a_fault_during_a_vault_transfer_is_checked_and_told(desk: Desk) -> None:
    from screens.drawer import DenominationGrid, VaultTransferScreen, open_drawer_screen

    before = [e for e in desk.entries("vault_transfer")]
    async with desk.signed_in(size=(120, 40)) as pilot:
        open_drawer_screen(pilot.app)
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, VaultTransferScreen)
        form.query_one(DenominationGrid).set_counts({"note:100": 3})
        await settle(pilot)
        original = form._retry

        def approved_then_fault(approval_id: int | None) -> None:
            _read_only_writes(desk)  # approved; now the transfer's own transaction cannot commit
            original(approval_id)

        form._retry = approved_then_fault  # type: ignore[method-assign]
        await pilot.press("f10")
        await approve_here(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
        await settle(pilot)
        notes = " ".join(n.message for n in pilot.app._notifications)
        assert "Not known yet — checking" in notes and "Refused" not in notes and "Traceback" not in notes
        screen = pilot.app.screen  # the terminal looked the key up: not posted
        assert type(screen).__name__ == "InflightOutcomesScreen", (screen, notes)
        (line,) = [str(o.prompt) for o in screen.query_one(OptionList).options]
        assert line == "Vault transfer of CN¥300.00 was not posted. Count it again if the cash must still move."
        await pilot.press("p")  # nothing to reprint: said so, no receipt screen
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "InflightOutcomesScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "DrawerScreen"  # the form closed: no second submit
    assert desk.entries("vault_transfer") == before
    assert desk.services.inflight.pending(desk.actor) == []  # told once
