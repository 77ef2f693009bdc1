"""Staff administration through the real app (Pilot, ``make_app``): the administrator adds a person
(ctrl+g from home), the role grant waits for a second person (a supervisor at the counter), the
one-time password is shown once; a role change waits the same way and is then in force."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from auth_fixtures import ADMIN_PW, SECRETS, SUP_PW, cheap_hashing, seed_staff  # noqa: F401
from pilot_helpers import approve_here, settle, sign_in, teller_app, type_text
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
    app = teller_app(services, clock)
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
    app = teller_app(services, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], clock)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert not isinstance(app.screen, StaffAdminScreen)


@pytest.mark.parametrize(("size", "locale"), [((80, 24), "zh_CN"), ((80, 24), "en"), ((120, 40), "en")])
async def test_user_names_fit_and_the_add_dialog_shows_only_its_keys(tmp_path: Path, db_path: Path, db: Any,
                                                                      clock: FakeClock, size: tuple[int, int],
                                                                      locale: str) -> None:
    from teller_tui.common.i18n import set_locale
    from test_zh_walk import screen_text

    services = services_for(tmp_path, db_path, db, clock)
    seed_staff(services)
    services.kiosk.ensure_identity("PAD-T01")  # a customer display's identity: "kiosk-pad-t01"
    services.kiosk.ensure_identity("PAD-" + "X" * 40)  # 32 characters, beyond what the column shows whole
    app = teller_app(services, clock)
    try:
        async with app.run_test(size=size) as pilot:
            await sign_in(pilot, "admin", ADMIN_PW, SECRETS["admin"], clock)
            set_locale(locale)
            await pilot.press("ctrl+g")
            await settle(pilot)
            assert isinstance(app.screen, StaffAdminScreen)
            lines = screen_text(app)
            assert any("kiosk-pad-t01 " in line for line in lines), lines
            # beyond the column's room: cut with "…" (24 cells wide, or 16 when 80 columns leave less)
            cut = "kiosk-pad-xxxxx…" if size[0] == 80 else "kiosk-pad-xxxxxxxxxxxxx…"
            assert any(cut in line for line in lines), lines
            if (size, locale) != ((80, 24), "en"):  # English dates and roles leave the names 8 cells at 80
                assert any("Kiosk PAD-T01 " in line for line in lines), lines  # names whole when they fit
            assert all(len(line.rstrip()) <= size[0] for line in lines)
            footer_keys = lines[-1] + lines[-2]
            for key, dialog in (("a", AddStaffScreen), ("r", StaffChangeScreen)):
                await pilot.press(key)
                await settle(pilot)
                assert isinstance(app.screen, dialog)
                lines = screen_text(app)
                bottom = "\n".join(lines[-4:])
                assert "f10" in bottom
                for list_key in (" a ", " d ", " t ", " u ", " f5 "):  # the list's keys stay hidden
                    if list_key in footer_keys:
                        assert list_key not in bottom, bottom
                await pilot.press("escape")
                await settle(pilot)
    finally:
        set_locale("en")
