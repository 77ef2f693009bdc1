"""Issue 16's new screens at 80x24 in Chinese: the teller's PIN-and-authenticator dialog (k on the
customer view), the supervisor's consent policy (ctrl+y), and the customer display asking for a PIN
change and showing an authenticator's QR code, key and URI (a fixed secret, so the picture is stable)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, make_desk
from pilot_helpers import settle, sign_in
from teller_tui.auth import passwords
from teller_tui.models import Customer

pytestmark = pytest.mark.slow  # snapshots (Pilot)

SIZE = (80, 24)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"


def _desk_runner(desk: Any, target: str) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        if target == "consent_policy":
            await sign_in(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
            await pilot.press("ctrl+y")
            await settle(pilot)
        else:
            await desk.start(pilot)
            await pilot.press("f2")
            await settle(pilot)
            await pilot.press(*"13800138000")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("k")
            await settle(pilot)
            await pilot.press("f3")  # the ID-check fields in view too
            await settle(pilot)
        pilot.app.screen.set_focus(None)
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("target", ["credentials", "consent_policy"])
def test_counter_screens_at_80x24_in_chinese(snap_compare: Any, tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                             target: str) -> None:
    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    assert snap_compare(desk.app, terminal_size=SIZE, run_before=_desk_runner(desk, target))


@pytest.mark.parametrize("kind", ["pin_change", "totp_enrol"])
def test_customer_display_at_80x24_in_chinese(snap_compare: Any, tmp_path: Path, db_path: Any, db: Any, clock: Any,
                                              kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from screens.pinpad.app import make_pinpad_app
    from teller_tui.common.settings import load_settings

    monkeypatch.setattr("teller_tui.kiosk.pad_credentials.new_secret", lambda: SECRET)
    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    services = desk.services
    cid = desk.customers["wang"]
    with db.write() as s:
        s.execute(update(Customer).where(Customer.id == cid).values(pin_hash=passwords.hash_pin("135790")))
    settings = load_settings(home=tmp_path / "pad", locale="zh_CN", terminal_id="PAD-T01")
    app = make_pinpad_app(settings, pair_terminal="T01", services=services, clock=clock)

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        pad = services.kiosk.ensure_identity("PAD-T01")
        app.link = services.pinpad.pair(pad, "T01", services.consent.start_pairing(desk.actor))
        services.credentials.begin(desk.actor, cid, kind)
        app.screen.show_waiting()
        for _ in range(4):
            await pilot.pause(1.2)
            await settle(pilot)
        if kind == "totp_enrol":  # the customer's PIN first, then the QR code (the view that must fit)
            await pilot.press(*"135790", "enter")
            for _ in range(3):
                await pilot.pause(0.5)
                await settle(pilot)
        app.screen.set_focus(None)
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
