"""The offline counter on a real PostgreSQL server, stopped and started (issue 26).

* core: cash-ins taken while the server is stopped stay queued (an upload then changes nothing),
  and upload once it is back, each once;
* Pilot, the real TellerApp: the teller's cash-in form meets a stopped server; the banner says so,
  Ctrl+O takes the cash-in offline with the wallet and amount on screen, the receipt says
  "pending confirmation" with an OFFLINE- reference; the banner shows the queue; once the server
  is back the queue uploads by itself and the banner goes.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Input

from desk_harness import fill_amount, make_desk, from_customer
from pilot_helpers import settle
from teller_tui.common.clock import FakeClock
from teller_tui.common.errors import StorageError
from teller_tui.common.i18n import set_locale
from teller_tui.common.money import Money
from teller_tui.db import schema
from teller_tui.db.engine import make_database
from teller_tui.models import AuditRecord, JournalEntry
from teller_tui.offline.types import ItemStatus


pytestmark = pytest.mark.slow  # a private PostgreSQL server, stopped and started; Pilot


async def wait_until(pilot: Any, condition: Any, what: str, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def entries(desk: Any, key: str) -> int:
    with desk.services.db.read() as s:
        return len(s.execute(select(JournalEntry.id).where(JournalEntry.idempotency_key == key)).all())


def _world(pg_server_factory: Any, tmp_path: Any) -> tuple[Any, Any, Any]:
    srv = pg_server_factory()
    srv.execute("CREATE DATABASE bank TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
    db = make_database(srv.url("bank"), reconnect_seconds=1.0)
    schema.upgrade(db)
    desk = make_desk(tmp_path, tmp_path / "unused.db", db, FakeClock())
    return srv, db, desk


def test_taken_while_the_server_is_stopped_uploaded_once_it_is_back(pg_server_factory: Any, tmp_path: Any) -> None:
    srv, db, desk = _world(pg_server_factory, tmp_path)
    try:
        off, teller = desk.services.offline, desk.actor
        wang, zhang = desk.wallets["wang"], desk.wallets["zhang"]
        with db.write() as s:  # the teller signed in here before the outage (the upload checks it)
            desk.services.audit.append(s, teller, "sign_in", subject=f"staff:{teller.username}")
        for w in (wang, zhang):
            off.remember(teller, w.wallet_id)
        srv._signal_stop("fast")
        a = off.take_cash_in(teller, wang.number, Money.of("500"))
        b = off.take_cash_in(teller, zhang.number, Money.of("260.40"))
        unguarded = type(off).upload.__wrapped__  # type: ignore[attr-defined]
        assert unguarded(off, teller).left == 2  # the server is away: nothing sent, nothing lost
        with pytest.raises(StorageError):
            off.upload(teller)
        srv._launch(retries=1)
        db.wait_available(timeout=30)
        report = off.upload(teller)
        assert [i.key for i in report.posted] == [a.item.key, b.item.key]
        assert entries(desk, a.item.key) == 1 and entries(desk, b.item.key) == 1
        assert off.upload(teller).posted == [] and entries(desk, a.item.key) == 1
        with db.read() as s:
            uploads = s.execute(select(AuditRecord.subject).where(AuditRecord.action == "offline_upload")).all()
        assert sorted(r[0] for r in uploads) == sorted([a.item.reference, b.item.reference])
    finally:
        db.dispose()


async def test_pilot_banner_and_offline_receipt(pg_server_factory: Any, tmp_path: Any) -> None:
    srv, db, desk = _world(pg_server_factory, tmp_path)
    try:
        async with desk.signed_in(size=(80, 24)) as pilot:
            await from_customer(pilot, desk, "wang", "f5")
            await fill_amount(pilot, "500")
            offline = desk.services.offline
            await wait_until(pilot, lambda: offline.cached_wallet(desk.actor, desk.wallets["wang"].number)
                             is not None, "the wallet to be kept for an outage")
            srv._signal_stop("fast")  # the database goes away mid-day
            await pilot.press("enter")
            app = pilot.app
            await wait_until(pilot, lambda: app.database_down, "the app to see the outage")
            await wait_until(pilot, lambda: bool(app.screen.query("#outage-banner")), "the banner")
            assert "unreachable" in str(app.screen.query_one("#outage-banner").render())
            await pilot.press("ctrl+o")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "OfflineCashInScreen", "the offline form")
            form = app.screen
            assert form.query_one("#offline-wallet", Input).value == desk.wallets["wang"].number
            assert form.query_one("#offline-amount", Input).value == "500"
            await wait_until(pilot, lambda: form.found is not None, "the wallet from the cache")
            await pilot.press("f10")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the confirmation")
            await pilot.press("enter")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ReceiptScreen", "the offline receipt")
            receipt = app.screen
            assert receipt.reference.startswith("OFFLINE-")
            assert "PENDING CONFIRMATION" in (receipt.text or "")
            await wait_until(pilot, lambda: "Offline queue: 1" in app.outage_text, "the banner's queue")
            assert "500.00" in app.outage_text
            assert "Offline queue: 1" in str(app.screen.query_one("#outage-banner").render())
            [item] = offline.items(desk.actor)
            assert item.status == ItemStatus.QUEUED  # the server is stopped: the upload below checks the books
            srv._launch(retries=1)  # back: the queue uploads by itself
            await wait_until(pilot, lambda: not app.database_down, "the reconnect", timeout=60)
            await wait_until(pilot, lambda: offline.items(desk.actor)[0].status == ItemStatus.POSTED, "the upload",
                             timeout=60)
            await wait_until(pilot, lambda: app.outage_text == "", "the banner to go")
            assert entries(desk, item.key) == 1
            assert any("Offline cash-ins posted: 1" in n.message for n in app._notifications)
            # A new sign-in needs the database, and the sign-in screen says so.
            await pilot.press("f12")
            await settle(pilot)
            srv._signal_stop("fast")
            signin = app.screen
            assert type(signin).__name__ == "SignInScreen"
            signin.query_one("#username", Input).value = "wang"
            signin.query_one("#password", Input).value = "whatever it is"
            signin.query_one("#code", Input).value = "123456"
            signin.query_one("#code", Input).focus()
            await pilot.press("enter")
            await wait_until(pilot, lambda: "Signing in needs the database" in str(
                signin.query_one("#status").render()), "the sign-in screen to say why")
            assert app.session is None
    finally:
        set_locale("en")
        db.dispose()

