"""Sessions stay honest (issue 15): a disabled, locked or demoted person is refused at once, and
their open app signs out with a message."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from auth_fixtures import TELLER_PW, SECRETS, cheap_hashing, make_test_services, seed_staff  # noqa: F401
from pilot_helpers import settle, sign_in
from sqlalchemy import func, select, update

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.auth.live import StaffRefused, acting_as
from teller_tui.auth.service import system_actor
from teller_tui.common.clock import FakeClock
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.models import CustomerNote, JournalEntry, Staff


def _entries(d: Desk) -> int:
    with d.db.read() as s:
        return int(s.execute(select(func.count()).select_from(JournalEntry)).scalar_one())


def test_a_disabled_teller_is_refused_mid_session(desk: Desk) -> None:  # noqa: F811
    wid = desk.wallet(desk.customer())
    desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=new_idempotency_key())
    admin = system_actor(desk.settings)
    desk.services.auth.disable(admin, "teller1")
    before = _entries(desk)
    with pytest.raises(StaffRefused) as refused:
        desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=new_idempotency_key())
    assert refused.value.code == "staff_disabled"
    with pytest.raises(StaffRefused):  # reads too: nothing of a customer's is shown any more
        desk.services.onboarding.list_drafts(desk.teller)
    assert _entries(desk) == before
    assert desk.services.auth.check_session(desk.teller).code == "staff_disabled"  # type: ignore[union-attr]
    # Other tellers carry on.
    desk.cash.cash_in(desk.teller2, wid, Money.of("10"), idempotency_key=new_idempotency_key())


def test_a_demoted_supervisor_and_a_locked_teller_are_refused(desk: Desk) -> None:  # noqa: F811
    with desk.db.write() as s:
        s.execute(update(Staff).where(Staff.username == "super1").values(role="teller"))
        s.execute(update(Staff).where(Staff.username == "teller2")
                  .values(locked_until=desk.clock.now() + timedelta(minutes=30)))
    with pytest.raises(StaffRefused) as demoted:
        desk.services.business_days.close(desk.supervisor)
    assert demoted.value.code == "staff_role_changed"
    with pytest.raises(StaffRefused) as locked:
        desk.services.customers.add_note(desk.teller2, desk.customer(), "note")
    assert locked.value.code == "staff_locked"
    desk.clock.advance(timedelta(minutes=31))  # the lock ran out
    desk.services.customers.add_note(desk.teller2, desk.customer(), "note")


def test_the_write_transaction_itself_rereads_the_row(desk: Desk) -> None:  # noqa: F811
    """Disabled after the call's first check: the write transaction still refuses, nothing is written."""
    cid = desk.customer()
    with acting_as(desk.teller):
        with desk.db.write() as s:  # not disabled yet: fine
            s.add(CustomerNote(customer_id=cid, author_id=desk.teller.staff_id, at=desk.clock.now(), text="ok"))
        desk.services.auth.disable(system_actor(desk.settings), "teller1")
        with pytest.raises(StaffRefused), desk.db.write() as s:
            s.add(CustomerNote(customer_id=cid, author_id=desk.teller.staff_id, at=desk.clock.now(), text="no"))
    with desk.db.read() as s:
        assert [n.text for n in s.execute(select(CustomerNote)).scalars()] == ["ok"]


# -- the real app ---------------------------------------------------------------------------------------
@pytest.fixture
def app_services(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> Any:
    from teller_tui.auth.secretbox import SecretBox

    services = make_test_services(tmp_path / "home", db_path, clock, database=db, box=SecretBox.ephemeral(),
                                  locale="en")
    seed_staff(services)
    return services


@pytest.mark.slow
async def test_a_disabled_teller_is_signed_out_of_the_app(app_services: Any, clock: FakeClock) -> None:
    from screens.app import make_app
    from screens.signin import SignInScreen

    app = make_app(app_services.settings, services=app_services, clock=clock)
    notes: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "wang", TELLER_PW, SECRETS["wang"], clock)
        original_notify = app.notify

        def spy(message: str, **kw: Any) -> None:
            notes.append(str(message))
            original_notify(message, **kw)

        app.notify = spy  # type: ignore[method-assign]
        app_services.auth.disable(system_actor(app_services.settings), "wang")
        app.check_session_current()  # what the app's timer does every few seconds
        await settle(pilot)
        assert app.session is None
        assert isinstance(app.screen, SignInScreen)
        assert any("disabled" in n for n in notes), notes
