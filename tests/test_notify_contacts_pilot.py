"""The customer's notification contacts and consent per channel, on the real app (Pilot, 80x24, zh_CN):
**n** on the customer screen, Space ticks/clears a channel's consent, an e-mail address typed, **F10**
saves what changed (recorded and audited by the core), a bad address refused on the screen, **Esc** back."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from desk_harness import make_desk, from_customer, static_text
from pilot_helpers import settle
from teller_tui.common.i18n import set_locale
from teller_tui.models import AuditRecord, CustomerContact


@pytest.mark.asyncio
@pytest.mark.slow
async def test_contacts_and_consent_by_keyboard_zh_80x24(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    desk = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    cid = desk.customers["wang"]
    try:
        async with desk.signed_in(size=(80, 24)) as pilot:
            await from_customer(pilot, desk, "wang", "n")
            screen = pilot.app.screen
            assert type(screen).__name__ == "NotifyContactsScreen"
            assert "通知" in static_text(pilot.app, "#notify-title")
            status = static_text(pilot.app, "#notify-status")
            assert "138****8000" in status and "同意" in status  # SMS to the mobile on file by default
            box = screen.query_one("#notify-box").region
            assert box.right <= 80 and box.bottom <= 24  # fits 80x24 in Chinese
            # F10 with nothing changed records nothing.
            await pilot.press("f10")
            await settle(pilot)
            # A bad address is refused on the screen, nothing recorded.
            await pilot.press("tab", "tab", "space", "tab", *"not-an-address", "f10")
            await settle(pilot)
            assert screen.query_one("#notify-message").has_class("-error")
            with desk.services.db.read() as s:
                assert s.execute(select(CustomerContact).where(CustomerContact.customer_id == cid)).first() is None
            # Opt out of SMS (Space on the first checkbox), a valid e-mail with consent, F10.
            email = screen.query_one("#notify-email-address")
            email.value = ""
            email.focus()
            await pilot.press(*"wang.fang@example.cn")
            screen.query_one("#notify-sms-consent").focus()
            await pilot.press("space", "f10")
            await settle(pilot)
            assert not screen.query_one("#notify-message").has_class("-error")
            assert "已保存" in static_text(pilot.app, "#notify-message")
            with desk.services.db.read() as s:
                rows = {r.channel: (r.address, r.consent) for r in s.execute(
                    select(CustomerContact).where(CustomerContact.customer_id == cid)).scalars()}
                audited = s.execute(select(AuditRecord.detail_json).where(
                    AuditRecord.action == "notify_contact")).scalars().all()
            assert rows == {"sms": ("", False), "email": ("wang.fang@example.cn", True)}
            assert len(audited) == 2 and all("wang.fang@example.cn" not in a for a in audited)  # masked
            status = static_text(pilot.app, "#notify-status")
            assert "已退订" in status and "w***@example.cn" in status
            await pilot.press("escape")
            await settle(pilot)
            assert type(pilot.app.screen).__name__ == "CustomerScreen"
    finally:
        set_locale("en")
