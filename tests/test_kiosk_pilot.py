"""The kiosk app under Pilot: lock-down (every forbidden key and action), idle reset, a transfer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pilot_helpers import settle
from teller_tui.audit.trail import AuditTrail
from teller_tui.common.clock import FakeClock
from teller_tui.ledger import Ledger
from teller_tui.common.money import Money

PIN = "246810"
SIZE = (110, 40)


@pytest.fixture
def services(db: Any, clock: FakeClock, tmp_path: Path) -> Iterator[Any]:
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.services import make_services
    from teller_tui.common.settings import load_settings

    # No minimum answer time here: tests/test_kiosk_enumeration.py checks the pace with a fake clock.
    settings = load_settings(home=tmp_path / "home", locale="en", terminal_id="K01", kiosk_min_response_seconds=0)
    yield make_services(settings, clock=clock, database=db, box=SecretBox.ephemeral())


def _customer(services: Any, name: str, phone: str, fund: str = "1000") -> tuple[int, int]:
    from teller_tui.audit.trail import Actor
    from teller_tui.auth.passwords import hash_pin
    from teller_tui.ledger import EntryRequest, credit, debit
    from teller_tui.ledger.accounts import AccountKind, equity_code
    from sqlalchemy import select

    from teller_tui.models import Customer, Staff, Wallet

    with services.db.write() as s:
        staff = s.execute(select(Staff).where(Staff.username == "teller1")).scalar_one_or_none()
        if staff is None:
            staff = Staff(username="teller1", display_name="t", role="teller", branch_code="B001",
                          created_at=services.clock.now())
            s.add(staff)
            s.flush()
        c = Customer(customer_no=f"C{phone}", full_name=name, phone=phone, branch_code="B001",
                     created_at=services.clock.now(), pin_hash=hash_pin(PIN))
        s.add(c)
        s.flush()
        teller = Actor(staff.id, "teller1", "T01", "teller", "B001")
    wid = services.wallets.open_wallet_now(teller, c.id, 1).wallet_id
    if fund != "0":
        with services.db.write() as s:
            w = s.get(Wallet, wid)
            eq = services.ledger.open_account(s, code=equity_code("B001"), name="Equity", kind=AccountKind.EQUITY,
                                              branch_code="B001")
            services.ledger.post(s, EntryRequest(f"fund-{phone}", "opening", (debit(eq, Money.of(fund)),
                                                                            credit(w.account_id, Money.of(fund))),
                                                 None, "T01", "B001"))
    return c.id, wid


def _text(app: Any) -> str:
    """Every piece of text on the current screen (what a person would read)."""
    from textual.widgets import Button, DataTable, Input, Label, Static

    parts: list[str] = []
    for w in app.screen.query("*"):
        if isinstance(w, Static | Label):
            parts.append(str(w.render()))
        elif isinstance(w, Button):
            parts.append(str(w.label))
        elif isinstance(w, Input):
            parts.append(w.value)
        elif isinstance(w, DataTable):
            for row in range(w.row_count):
                parts.extend(str(c) for c in w.get_row_at(row))
    return "\n".join(parts)


async def _settle(app: Any, pilot: Any) -> None:
    """Until the click was handled and its worker finished (the screen is no longer busy)."""
    await settle(pilot)
    assert not getattr(app.screen, "busy", False), "the screen stayed busy"


async def _ready(app: Any, pilot: Any) -> None:
    await settle(pilot)
    assert app.ready


async def _sign_in(app: Any, pilot: Any, ident: str, pin: str = PIN) -> None:
    from screens.kiosk.signin import KioskSignInScreen

    await pilot.click("#lang-en")
    await settle(pilot)
    assert isinstance(app.screen, KioskSignInScreen)
    app.screen.query_one("#identifier").value = ident
    app.screen.query_one("#pin").value = pin
    await pilot.click("#submit")
    await _settle(app, pilot)


@pytest.mark.slow  # Pilot
async def test_forbidden_keys_and_actions_are_refused(services: Any) -> None:
    from screens.kiosk.app import make_kiosk_app
    from screens.kiosk.welcome import WelcomeScreen

    app = make_kiosk_app(services.settings, services=services)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        theme = app.theme
        for key in ("ctrl+c", "ctrl+q", "ctrl+z", "ctrl+backslash", "ctrl+p", "ctrl+s", "ctrl+t",
                    "escape"):
            await pilot.press(key)
            await settle(pilot)
            assert app.is_running and isinstance(app.screen, WelcomeScreen), key
        for action in ("quit", "app.quit", "suspend_process", "command_palette", "screenshot", "change_theme",
                       "toggle_dark", "show_help_panel", "help_quit", "app.pop_screen", "app.simulate_key('ctrl+q')",
                       "app.push_screen('x')", "app.switch_theme('textual-light')", "app.bell",
                       "screen.copy_text", "screen.maximize", "app.command_palette"):
            await app.run_action(action)
            await settle(pilot)
            assert app.is_running and isinstance(app.screen, WelcomeScreen), action
        assert app.theme == theme == "kiosk-contrast"
        assert "CommandPalette" not in {type(s).__name__ for s in app.screen_stack}
        assert {"quit", "suspend_process", "command_palette", "screenshot", "change_theme"} <= set(app.refused)
        # Even direct calls of the dangerous actions do nothing.
        await app.action_quit()
        app.action_suspend_process()
        app.action_command_palette()
        app.action_screenshot()
        app.theme = "textual-light"
        await settle(pilot)
        assert app.theme == "kiosk-contrast"
        # A link with an action in text is refused too.
        assert not app.check_action("quit", ())
        assert app.is_running and "Welcome" in _text(app)
        # Also on a customer's screen.
        await pilot.click("#lang-en")
        await settle(pilot)
        for key in ("ctrl+c", "ctrl+q", "ctrl+z", "ctrl+backslash", "ctrl+p"):
            await pilot.press(key)
            await settle(pilot)
            assert app.is_running, key
        assert type(app.screen).__name__ == "KioskSignInScreen"


def test_no_inherited_quit_or_palette_bindings(tmp_path: Path) -> None:
    from screens.kiosk.app import KioskApp
    from teller_tui.common.settings import load_settings

    app = KioskApp(load_settings(home=tmp_path))
    for key in ("ctrl+q", "ctrl+c", "ctrl+z", "ctrl+backslash", "ctrl+p"):
        bound = [b for k, b in app._bindings if k == key]
        assert bound and all(b.action == "ignore_key" for b in bound), key
    assert not app.ENABLE_COMMAND_PALETTE and not app.COMMANDS


@pytest.mark.slow  # Pilot
async def test_sign_in_home_history_and_idle_reset_clears_customer(services: Any, clock: FakeClock) -> None:
    from screens.kiosk.app import make_kiosk_app
    from screens.kiosk.home import KioskHomeScreen
    from screens.kiosk.welcome import WelcomeScreen

    _customer(services, "张三明", "13812345678", fund="1234.5")
    app = make_kiosk_app(services.settings, services=services, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        await _sign_in(app, pilot, "13812345678")
        assert isinstance(app.screen, KioskHomeScreen)
        text = _text(app)
        assert "张*明" in text and "1,234.50" in text and "张三明" not in text
        await pilot.press("1")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert type(app.screen).__name__ == "KioskHistoryScreen"
        assert any(line.startswith("+") and line.endswith("1,234.50") for line in _text(app).splitlines())
        # Idle: nothing pressed for kiosk_idle_seconds.
        clock.advance(seconds=services.settings.kiosk_idle_seconds - 1)
        app.check_customer_idle()
        assert type(app.screen).__name__ == "KioskHistoryScreen"
        clock.advance(seconds=2)
        app.check_customer_idle()
        await settle(pilot)
        # First a warning with a countdown (screens/kiosk/idle.py), then the reset at its end.
        assert type(app.screen).__name__ == "IdleWarning" and app.session is not None
        from screens.kiosk.idle import WARNING_SECONDS

        clock.advance(seconds=WARNING_SECONDS)
        app.check_customer_idle()
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen) and len(app.screen_stack) == 1
        assert app.session is None and services.kiosk.active_sessions() == 0
        assert "张" not in _text(app) and "1,234.50" not in _text(app)
        assert not app._notifications


@pytest.mark.slow  # Pilot
async def test_pin_lockout_at_five_in_the_ui(services: Any) -> None:
    from screens.kiosk.app import make_kiosk_app
    from teller_tui.models import Customer

    cid, _wid = _customer(services, "王芳", "13900000001")
    app = make_kiosk_app(services.settings, services=services)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        await _sign_in(app, pilot, "13900000001", "000000")
        for _ in range(4):
            app.screen.query_one("#pin").value = "000000"
            app.screen.submit()  # what the Sign in button does
            await _settle(app, pilot)
        assert "teller at the counter can lift it" in _text(app) and "30 minutes" in _text(app)
        with services.db.read() as s:
            c = s.get(Customer, cid)
            assert c.pin_locked and c.pin_failed_attempts == 5


async def _to_confirmation(app: Any, pilot: Any, customer: str, payee: str, amount: str) -> None:
    """Signed in as ``customer``, a transfer to ``payee`` filled in and sent on to its confirmation."""
    await _ready(app, pilot)
    await _sign_in(app, pilot, customer)
    await pilot.press("2")
    await settle(pilot)
    app.screen.query_one("#payee").value = payee
    app.screen.query_one("#amount").value = amount
    await pilot.click("#continue")
    await _settle(app, pilot)


@pytest.mark.slow  # Pilot
async def test_transfer_confirms_with_masked_payee(services: Any) -> None:
    from screens.kiosk.app import make_kiosk_app
    from screens.kiosk.transfer import KioskConfirmTransfer, KioskReceiptScreen

    _customer(services, "王芳", "13900000002", fund="500")
    _c2, w2 = _customer(services, "张三明", "13812345678", fund="0")
    app = make_kiosk_app(services.settings, services=services)
    async with app.run_test(size=SIZE) as pilot:
        await _to_confirmation(app, pilot, "13900000002", "13812345678", "120")
        assert isinstance(app.screen, KioskConfirmTransfer)
        text = _text(app)
        assert "张*明 138****5678" in text and "张三明" not in text
        await pilot.click("#confirm")
        await _settle(app, pilot)
        await _settle(app, pilot)
        assert isinstance(app.screen, KioskReceiptScreen)
    from teller_tui.models import Wallet

    with services.db.read() as s:
        assert services.ledger.balance(s, s.get(Wallet, w2).account_id).posted == Money.of("120")


@pytest.mark.slow  # Pilot
@pytest.mark.parametrize("with_code", [False, True])
async def test_sign_in_fits_80x24_with_the_answer_in_view(services: Any, with_code: bool) -> None:
    """At 80x24 the refusal, the buttons and (for a wallet with an authenticator) the code field are
    all inside the screen: the answer used to be below the fold."""
    from textual.widgets import Static

    from screens.kiosk.app import make_kiosk_app
    from screens.kiosk.signin import KioskSignInScreen

    _customer(services, "王芳", "13900001111")
    app = make_kiosk_app(services.settings, services=services)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot)
        await _sign_in(app, pilot, "13900001111", "000000")
        screen = app.screen
        assert isinstance(screen, KioskSignInScreen)
        if with_code:
            screen._show_code(True)
            await settle(pilot)
        status = screen.query_one("#signin-status", Static)
        assert str(status.render()).strip(), "no answer shown"
        for selector in ("#signin-status", "#submit", "#cancel", "#pin", *(("#code",) if with_code else ())):
            region = screen.query_one(selector).region
            assert region.height and region.bottom <= 24, (selector, region)


@pytest.mark.slow  # Pilot, a printer on loopback
@pytest.mark.parametrize("with_printer", [True, False], ids=["printer", "no-printer"])
async def test_the_kiosk_prints_its_receipt_or_keeps_a_copy_and_says_so(db: Any, clock: FakeClock, tmp_path: Path,
                                                                       with_printer: bool) -> None:
    """Print on the kiosk's receipt: the ESC/POS printer on loopback gets the receipt; with none set
    up, a copy is kept in the receipts folder (a posting writes no file of its own) and the customer
    is told to ask at the counter instead of "take your receipt"."""
    from screens.kiosk.app import make_kiosk_app
    from screens.kiosk.transfer import KioskReceiptScreen
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.common.printing.escpos import decode_escpos
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services
    from test_printing import Listener

    listener = Listener() if with_printer else None
    printers: dict[str, Any] = {"printers": {"kiosk": {"kind": "escpos-tcp", "host": "127.0.0.1",
                                                       "port": listener.port, "timeout_seconds": 3}},
                                "default_printer": "kiosk"} if listener is not None else {}
    settings = load_settings(home=tmp_path / "home", locale="en", terminal_id="K01", kiosk_min_response_seconds=0,
                             **printers)
    services = make_services(settings, clock=clock, database=db, box=SecretBox.ephemeral())
    _customer(services, "王芳", "13900000002", fund="500")
    _customer(services, "张三明", "13812345678", fund="0")
    app = make_kiosk_app(services.settings, services=services)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _to_confirmation(app, pilot, "13900000002", "13812345678", "20")
            await pilot.click("#confirm")
            await _settle(app, pilot)
            await _settle(app, pilot)
            assert isinstance(app.screen, KioskReceiptScreen)
            reference = app.screen.receipt.reference
            kept = settings.receipts_dir / f"{reference}.txt"
            assert not kept.exists()  # the posting wrote no file
            await pilot.click("#print")
            await settle(pilot)
            said = [str(n.message) for n in app._notifications]
            if listener is not None:
                assert listener.done.wait(5) and reference in decode_escpos(listener.jobs[0]).text
                assert "Printing… please take your receipt." in said and not kept.exists()
            else:
                assert any("could not be printed" in m and "ask at the counter" in m for m in said)
                assert kept.read_text(encoding="utf-8") == app.screen.receipt.receipt_text
    finally:
        if listener is not None:
            listener.close()
