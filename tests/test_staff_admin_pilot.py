"""Staff administration through the real app (Pilot, ``make_app``): the administrator adds a person
(ctrl+g from home), the role grant waits for a second person (a supervisor at the counter), the
one-time password is shown once; a role change waits the same way and is then in force."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from auth_fixtures import ADMIN_PW, SECRETS, SUP_PW, cheap_hashing, seed_staff  # noqa: F401
from pilot_helpers import approve_here, settle, sign_in, type_text
from screens.app import make_app
from screens.staff_admin import AddStaffScreen, StaffAdminScreen, StaffChangeScreen
from teller_tui.common.clock import FakeClock
from teller_tui.common.errors import PermissionDenied
from teller_tui.models import AuditRecord
from test_drawer_pilot import services_for

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


async def test_admin_adds_a_teller_and_promotes_with_a_second_person(tmp_path: Path, db_path: Path, db: Any,
                                                                       clock: FakeClock) -> None:
    services = services_for(tmp_path, db_path, db, clock)
    seed_staff(services)
    app = make_app(services.settings, services=services, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "admin", ADMIN_PW, SECRETS["admin"], clock)
        await pilot.press("ctrl+g")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StaffAdminScreen), screen
        assert not screen.query_one("#staff-warning").display  # SQLite: this terminal may write staff
        assert [e.staff.username for e in screen.entries] == ["admin", "li", "wang"]
        # -- add sun as a teller: the grant waits for li ------------------------------------------------
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AddStaffScreen)
        await type_text(pilot, "sun")
        await pilot.press("tab")
        await type_text(pilot, "Sun Li")
        await pilot.press("f10")
        spec = await approve_here(pilot, "li", SUP_PW, SECRETS["li"], clock)
        assert spec.kind == "staff_role" and spec.subject == "staff:sun:teller"
        await settle(pilot)
        added = app.screen
        assert isinstance(added, AddStaffScreen) and added.created is not None
        one_time = added.created.one_time_password
        assert one_time in str(added.query_one("#staff-password").render())
        await pilot.press("f10")  # Done
        await settle(pilot)
        assert app.screen is screen
        assert "sun" in [e.staff.username for e in screen.entries]
        sun = services.auth.get_staff("sun")
        assert sun.role == "teller" and sun.must_change_password and not sun.totp_active
        # -- promote sun to supervisor: nothing changes until the second person approves ---------------
        sun_actor = sun.actor("T09")
        with pytest.raises(PermissionDenied):
            services.risk.alerts(sun_actor)
        screen.query_one("#staff-table").move_cursor(row=[e.staff.username for e in screen.entries].index("sun"))
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, StaffChangeScreen)
        app.screen.query_one("#staff-reason").focus()
        await type_text(pilot, "runs the counter on Saturdays")
        await pilot.press("f10")
        await settle(pilot)
        assert services.auth.get_staff("sun").role == "teller"  # waiting at the approval dialog
        spec = await approve_here(pilot, "li", SUP_PW, SECRETS["li"], clock)
        assert spec.kind == "staff_role" and spec.subject == "staff:sun:supervisor"
        await settle(pilot)
        assert app.screen is screen
    assert services.auth.get_staff("sun").role == "supervisor"
    services.risk.alerts(services.auth.get_staff("sun").actor("T09"))  # in force: a supervisor's read
    with services.db.read() as s:
        actions = list(s.execute(select(AuditRecord.action).where(AuditRecord.subject == "staff:sun")).scalars())
    assert "staff_create" in actions and "staff_role" in actions


async def test_staff_admin_is_for_administrators_only(tmp_path: Path, db_path: Path, db: Any,
                                                      clock: FakeClock) -> None:
    services = services_for(tmp_path, db_path, db, clock)
    seed_staff(services)
    app = make_app(services.settings, services=services, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], clock)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert not isinstance(app.screen, StaffAdminScreen)
