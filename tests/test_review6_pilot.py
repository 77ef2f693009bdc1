"""Findings of the wave-6 review walk (a new user in tmux), each pinned on the real ``TellerApp``
(or the real kiosk app): the keys a person pressed, and what they should have led to."""

from __future__ import annotations

from typing import Any

import pytest

from desk_harness import Desk, from_customer, ids, make_desk
from desk_harness import desk  # noqa: F401  (the fixture)
from pilot_helpers import burst, settle
from teller_tui.common.money import Money

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


async def test_payee_picked_with_f2_then_amount_typed_straight_away(desk: Desk) -> None:
    """Transfer form: F2, find the payee, Enter, then type the amount. The amount used to land in
    the (empty) payee field, which dropped the payee just chosen; focus now moves to the amount."""
    async with desk.signed_in(size=(80, 24)) as pilot:
        form: Any = await from_customer(pilot, desk, "wang", "f7")
        await pilot.press("f2")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "LookupScreen"
        await pilot.press(*"13912345678", "enter")
        await settle(pilot)
        assert pilot.app.screen is form
        assert form.to_wallet_id == desk.wallets["zhang"].wallet_id
        await pilot.press("5", "0", "ctrl+j")
        await settle(pilot)
        assert form.to_wallet_id == desk.wallets["zhang"].wallet_id
        assert type(pilot.app.screen).__name__ == "ConfirmScreen"
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ReceiptScreen"
    assert len(ids(desk, "transfer")) == 1
    assert desk.balance("zhang") == Money.of("350.00")


async def test_payee_picked_with_f2_and_the_amount_in_one_burst(desk: Desk) -> None:
    """The same with no pause: Enter on the payee and the amount typed in one burst (a fast typist,
    ``tmux send-keys``). The digits arrived before the payee's wallet was found and went into the
    payee field, dropping the choice."""
    async with desk.signed_in(size=(80, 24)) as pilot:
        form: Any = await from_customer(pilot, desk, "wang", "f7")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*"13912345678")
        await settle(pilot)
        await burst(pilot, "<enter>50<ctrl+j>")
        await settle(pilot)
        assert form.to_wallet_id == desk.wallets["zhang"].wallet_id
        assert type(pilot.app.screen).__name__ == "ConfirmScreen"
        await pilot.press("enter")
        await settle(pilot)
    assert len(ids(desk, "transfer")) == 1
    assert desk.balance("zhang") == Money.of("350.00")


@pytest.fixture
def zh_desk(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> Desk:
    return make_desk(tmp_path, db_path, db, clock, locale="zh_CN")


async def test_palette_says_no_match_in_chinese(zh_desk: Desk) -> None:
    """Ctrl+P, type a word no command has: Textual's palette wrote "No matches found" in English."""
    from textual.command import CommandList

    async with zh_desk.signed_in(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"qqq")
        await pilot.pause(0.8)  # the palette waits half a second before it says so
        await settle(pilot)
        options = pilot.app.screen.query_one(CommandList)
        shown = [str(options.get_option_at_index(i).prompt.renderable)  # type: ignore[union-attr]
                 for i in range(options.option_count)]
        assert shown == ["没有匹配的命令"], shown


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_kiosk_transfer_refusal_is_in_view_at_80x24(db: Any, clock: Any, tmp_path: Any, locale: str) -> None:
    """Kiosk at 80x24: 2 (transfer), payee, Enter, an amount over the kiosk's limit, Enter. The
    refusal was written below the fold: the customer saw nothing happen."""
    from textual.widgets import Static

    from screens.kiosk.app import make_kiosk_app
    from screens.kiosk.transfer import KioskTransferScreen
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services
    from test_kiosk_pilot import PIN, _customer

    settings = load_settings(home=tmp_path / "home", locale=locale, terminal_id="K01", kiosk_min_response_seconds=0)
    services = make_services(settings, clock=clock, database=db, box=SecretBox.ephemeral())
    _customer(services, "王芳", "13900000002", fund="500")
    _customer(services, "张三明", "13812345678", fund="0")
    app = make_kiosk_app(services.settings, services=services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.click("#lang-zh" if locale == "zh_CN" else "#lang-en")
        await settle(pilot)
        await pilot.press(*"13900000002", "enter", *PIN, "enter")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, KioskTransferScreen)
        await pilot.press(*"13812345678", "enter", *"5000", "enter")
        await settle(pilot)
        status = screen.query_one("#transfer-status", Static)
        assert str(status.render()).strip(), "no answer"
        for selector in ("#transfer-status", "#continue", "#back", "#amount", "#payee"):
            region = screen.query_one(selector).region
            assert region.height and region.bottom <= 24, (selector, region)


async def test_customer_tables_follow_a_resize_to_80_columns(desk: Desk) -> None:
    """Customer open at 120x40, terminal resized to 80x24: the history kept its wide columns (full
    date and time, the reference), so the amount and the balance after fell off the right edge."""
    from textual.widgets import DataTable

    from desk_harness import open_customer

    async with desk.signed_in(size=(120, 40)) as pilot:
        screen = await open_customer(pilot, desk, "wang")
        history = screen.query_one("#customer-history", DataTable)
        assert "ref" in [str(c.key.value) for c in history.ordered_columns]
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        keys = [str(c.key.value) for c in history.ordered_columns]
        assert "ref" not in keys and "amount" in keys
        assert history.row_count >= 1
        amount_x = sum(c.get_render_width(history) for c in history.ordered_columns[:keys.index("amount") + 1])
        assert amount_x <= history.size.width, (amount_x, history.size.width)
        wallets = screen.query_one("#customer-wallets", DataTable)
        assert wallets.row_count == 1
        assert sum(c.get_render_width(wallets) for c in wallets.ordered_columns) <= wallets.size.width
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert "ref" in [str(c.key.value) for c in history.ordered_columns]
        assert history.row_count >= 1


async def test_lookup_columns_follow_a_resize_to_80_columns(desk: Desk) -> None:
    """F2 at 120x40, type a phone prefix, resize to 80x24: the pinyin column stayed, so the wallet
    number and the match column fell off the right edge."""
    from desk_harness import find
    from screens.widgets.results import ResultList

    async with desk.signed_in(size=(120, 40)) as pilot:
        screen = await find(pilot, "139")
        results = screen.query_one("#lookup-results", ResultList)
        assert "Pinyin" in str(results._header)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert "Pinyin" not in str(results._header)
        assert results._width <= results.size.width, (results._width, results.size.width)
        assert results.row_count >= 1 and len(results._rows[0]) == len(results._widths)
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "CustomerScreen"
        assert pilot.app.screen.customer_id == desk.customers["zhang"]


async def test_dashboard_stacks_its_panels_after_a_resize_to_80_columns(db: Any, db_path: Any, clock: Any,
                                                                        tmp_path: Any) -> None:
    """Supervisor, Ctrl+D at 120x40, terminal resized to 80x24: the three panels stayed side by side
    with the wide columns (every table cut off); now they stack as when opened at 80 columns."""
    from textual.widgets import DataTable

    from approvals_fixtures import SUP_PW, build_env
    from auth_fixtures import SECRETS
    from pilot_helpers import sign_in
    from screens.app import make_app
    from screens.dashboard import DashboardScreen

    env = build_env(tmp_path / "home", db_path, clock, database=db)
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("100"), idempotency_key=env.key())
    app = make_app(env.services.settings, services=env.services, clock=env.clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], env.clock)
        await pilot.press("ctrl+d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen) and not screen.has_class("-narrow")
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert screen.has_class("-narrow")
        tellers = screen.query_one("#dash-tellers", DataTable)
        assert tellers.row_count >= 1
        assert [c.width for c in tellers.ordered_columns][0] == 10  # the narrow set
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert not screen.has_class("-narrow") and tellers.row_count >= 1


async def test_withdrawn_request_says_why_in_chinese(zh_desk: Desk) -> None:
    """A request sent to the queue (F8), then withdrawn with F9: the dialog said "原因：cancelled by
    the teller" — the stored reason, in English, in a Chinese session."""
    from textual.widgets import Static

    from screens.approval import WaitingScreen
    from teller_tui.common.errors import ApprovalRequired

    desk = zh_desk
    entry = desk.entries("cash_in")[0][0]
    try:
        desk.services.cash.reverse(desk.actor, entry, "错账", idempotency_key="rv6-reverse")
    except ApprovalRequired as exc:
        spec = exc.details["spec"]
    async with desk.signed_in(size=(80, 24)) as pilot:
        pilot.app.push_screen(WaitingScreen(desk.services, desk.actor, spec))
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, WaitingScreen) and screen.view is not None and screen.view.status == "pending"
        await pilot.press("f9")
        await settle(pilot)
        text = str(screen.query_one("#waiting-status", Static).render())
        assert screen.view.status == "cancelled", text
        assert "cancelled" not in text and "柜员撤销" in text, text


async def test_queue_and_alerts_footers_show_enter(db: Any, db_path: Any, clock: Any, tmp_path: Any) -> None:
    """Ctrl+A with a request waiting: the footer listed Esc, F5… but not Enter, the one key that
    opens a request (the table's own Enter binding hid the screen's). Same on Ctrl+R."""
    from approvals_fixtures import SUP_PW, build_env
    from auth_fixtures import SECRETS
    from pilot_helpers import sign_in
    from screens.app import make_app
    from screens.approvals_queue import ApprovalsQueueScreen, DecideScreen
    from screens.risk_alerts import RiskAlertsScreen
    from teller_tui.common.errors import ApprovalRequired

    env = build_env(tmp_path / "home", db_path, clock, database=db)
    try:
        env.cash.cash_in(env.teller, env.wallet_id, Money.of("60000"), idempotency_key=env.key())
    except ApprovalRequired as exc:
        env.approvals.request(env.teller, exc.details["spec"])
    app = make_app(env.services.settings, services=env.services, clock=env.clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], env.clock)
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert isinstance(app.screen, ApprovalsQueueScreen)
        shown = app.screen.active_bindings["enter"].binding
        assert shown.action == "open" and shown.show
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DecideScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, RiskAlertsScreen)
        shown = app.screen.active_bindings["enter"].binding
        assert shown.action == "open" and shown.show


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_transfer_payee_hint_fits_its_field(tmp_path: Any, db_path: Any, db: Any, clock: Any,
                                                  locale: str) -> None:
    """F7: the payee field's hint was cut off ("…；F2 查" at 80 columns; the English one at every width,
    the field is 36 cells wide): the part that says F2 searches was lost."""
    from textual.widgets import Input

    from rich.cells import cell_len

    desk = make_desk(tmp_path, db_path, db, clock, locale=locale)
    async with desk.signed_in(size=(80, 24)) as pilot:
        form: Any = await from_customer(pilot, desk, "wang", "f7")
        field = form.query_one("#cash-to", Input)
        assert "F2" in field.placeholder
        assert cell_len(field.placeholder) <= field.content_size.width, (field.placeholder, field.content_size)


async def test_f11_locks_over_a_dialog(desk: Desk) -> None:
    """F11 with the approval dialog open (supervisor's password fields on screen): nothing happened
    (a modal cuts the app's bindings off). It locks now, and the same person's unlock returns to the
    dialog as it was."""
    from textual.widgets import Input

    from pilot_helpers import code_for
    from screens.approval import ApprovalScreen
    from screens.lock import LockScreen
    from desk_harness import TELLER_PW, TELLER_SECRET
    from teller_tui.common.errors import ApprovalRequired

    entry = desk.entries("cash_in")[0][0]
    try:
        desk.services.cash.reverse(desk.actor, entry, "wrong wallet", idempotency_key="rv6-f11")
    except ApprovalRequired as exc:
        spec = exc.details["spec"]
    async with desk.signed_in(size=(80, 24)) as pilot:
        app = pilot.app
        app.push_screen(ApprovalScreen(desk.services, desk.actor, spec))
        await settle(pilot)
        dialog = app.screen
        await pilot.press(*"chen")
        await pilot.press("f11")
        await settle(pilot)
        assert app.locked and isinstance(app.screen, LockScreen)
        desk.clock.advance(seconds=31)
        assert app.focused is not None and app.focused.id == "password"
        await pilot.press(*TELLER_PW, "tab", *code_for(TELLER_SECRET, desk.clock), "enter")
        await settle(pilot)
        assert not app.locked and app.screen is dialog
        assert dialog.query_one("#approval-user", Input).value == "chen"


async def test_f1_opens_a_dialogs_help_but_not_behind_the_lock(desk: Desk) -> None:
    """F1 on the approval dialog did nothing (its HELP text was unreachable: a modal cuts the app's
    bindings off). It opens the dialog's help now and F1 again returns; on the lock screen it stays
    off (nothing to read or search behind the lock)."""
    from screens.approval import ApprovalScreen
    from screens.help import HelpScreen
    from screens.lock import LockScreen
    from teller_tui.common.errors import ApprovalRequired

    entry = desk.entries("cash_in")[0][0]
    try:
        desk.services.cash.reverse(desk.actor, entry, "wrong wallet", idempotency_key="rv6-f1")
    except ApprovalRequired as exc:
        spec = exc.details["spec"]
    async with desk.signed_in(size=(80, 24)) as pilot:
        app = pilot.app
        app.push_screen(ApprovalScreen(desk.services, desk.actor, spec))
        await settle(pilot)
        dialog = app.screen
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "supervisor present" in app.screen.info.purpose
        await pilot.press("f1")
        await settle(pilot)
        assert app.screen is dialog
        await pilot.press("f11")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
