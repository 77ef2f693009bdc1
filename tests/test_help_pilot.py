"""F1 help, the knowledge base on screen, the palette without a bare Quit, and article revisions with
four eyes — all through the real ``TellerApp`` (Pilot), driven by keys."""

from __future__ import annotations

import os
import stat
from typing import Any

import pytest
from textual.widgets import Input, Markdown, OptionList, Static, TextArea

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, Desk, make_desk
from pilot_helpers import settle, sign_in
from screens.app import TellerApp
from screens.cash import CashOutForm
from screens.help import ArticleScreen, HelpScreen, key_caps
from screens.home import HomeScreen
from screens.kb_edit import EditArticleScreen, ReviewListScreen, RevisionScreen
from screens.signin import SignInScreen
from teller_tui.auth import passwords
from teller_tui.auth.staff import system_actor
from teller_tui.common.i18n import set_locale
from teller_tui.models.kb import KbStatus

pytestmark = pytest.mark.slow

ADMIN_PW = "desk admin long passphrase 3"
ADMIN_SECRET = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"


def _world(tmp_path: Any, db_path: Any, db: Any, clock: Any, locale: str) -> Desk:
    desk = make_desk(tmp_path, db_path, db, clock, locale=locale)
    system = system_actor(desk.services.settings)
    desk.services.kb.sync_shipped(system)
    with passwords.test_parameters():
        desk.services.auth.create_staff(system, "zhao", "赵管理", "admin", password=ADMIN_PW, totp_secret=ADMIN_SECRET)
    return desk


@pytest.fixture
def desk(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> Desk:
    return _world(tmp_path, db_path, db, clock, "en")


@pytest.fixture
def desk_zh(tmp_path: Any, db_path: Any, db: Any, clock: Any) -> Desk:
    return _world(tmp_path, db_path, db, clock, "zh_CN")


def text_of(app: Any, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def listed(app: Any) -> list[str]:
    return [str(o.id) for o in app.screen.query_one("#help-articles", OptionList).options]


def audit(services: Any, action: str) -> list[Any]:
    with services.db.read() as s:
        return services.audit.recent(s, action=action)


@pytest.mark.asyncio
async def test_key_caps() -> None:
    assert [key_caps(k) for k in ("f1", "ctrl+a", "escape", "pagedown", "enter", "down", "r")] == \
        ["F1", "Ctrl+A", "Esc", "PgDn", "Enter", "↓", "R"]


@pytest.mark.asyncio
async def test_f1_from_home_is_our_help_with_keys_and_articles(desk: Desk) -> None:
    app = desk.app
    async with app.run_test(size=(120, 40)) as pilot:
        await desk.start(pilot)
        home = app.screen
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert not app.screen.query("HelpPanel")  # not Textual's key panel
        keys = text_of(app, "#help-keys")
        assert "F5" in keys and "Cash in" in keys and "F12" in keys and "Sign out" in keys
        assert "Ctrl+P" in keys and "palette" not in keys and "Quit" not in keys
        assert "Teller desk" in text_of(app, "#help-title")
        home_articles = {a.article_id for a in desk.services.kb.for_screen(desk.actor, "home", "en")}
        assert home_articles and set(listed(app)) == home_articles
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is home


@pytest.mark.asyncio
async def test_f1_on_a_cash_form_keeps_the_form_and_links_the_refusal(desk: Desk) -> None:
    app = desk.app
    async with app.run_test(size=(120, 40)) as pilot:
        await desk.start(pilot)
        await pilot.press("f6")  # cash out: find the customer first
        await settle(pilot)
        app.screen.query_one("#lookup-query", Input).value = "13912345678"  # 张伟, ¥300.00
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CashOutForm), form
        form.query_one("#cash-memo", Input).value = "rent"
        form.query_one("#cash-amount", Input).focus()
        await pilot.press(*"900")
        await settle(pilot)
        # F1 before any refusal: the cash form's help and articles; Esc returns to the form as it was.
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "payment-failed" in listed(app)
        assert not app.screen.query("#help-refusal")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#cash-amount", Input).value == "900"
        assert form.query_one("#cash-memo", Input).value == "rent"
        assert app.focused is form.query_one("#cash-amount", Input)
        # A refusal (more than the wallet holds): the notice offers F1, F1 puts its article first.
        await pilot.press("enter")
        await settle(pilot)
        assert form.help_refusal is not None
        code = form.help_refusal[0]
        assert any("F1" in str(n.message) for n in app._notifications)
        expected = desk.services.kb.for_refusal(desk.actor, code, "en", screen="cash")
        assert code == "insufficient_funds" and expected is not None and expected.article_id == "payment-failed"
        assert expected is not None
        await pilot.press("f1")
        await settle(pilot)
        assert "Refused" in text_of(app, "#help-refusal")
        assert listed(app)[0] == expected.article_id
        await pilot.press("enter")  # from the search box: the highlighted (first) article
        await settle(pilot)
        assert isinstance(app.screen, ArticleScreen) and app.screen.article_id == expected.article_id
        assert expected.title in text_of(app, "#article-title")
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert app.screen is form and form.query_one("#cash-amount", Input).value == "900"


@pytest.mark.asyncio
async def test_search_as_you_type_in_chinese(desk_zh: Desk) -> None:
    app = desk_zh.app
    async with app.run_test(size=(80, 24)) as pilot:
        await desk_zh.start(pilot)
        await pilot.press("f1")
        await settle(pilot)
        keys = text_of(app, "#help-keys")
        assert "找客户" in keys or "查找客户" in keys or "客户" in keys
        for english in ("escape", "ctrl+", "Keys", "palette", "Quit", "Find customer", "Cash in"):
            assert english not in keys, english
        app.screen.query_one("#help-search", Input).focus()
        app.screen.query_one("#help-search", Input).value = "锁定"
        await settle(pilot)
        ids = listed(app)
        assert ids[:2] and set(ids[:2]) == {"kiosk-pin-locked", "staff-signin-locked"}
        await pilot.press("down")  # to the list
        await settle(pilot)
        assert isinstance(app.focused, OptionList)
        app.screen.query_one("#help-articles", OptionList).highlighted = ids.index("kiosk-pin-locked")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ArticleScreen)
        title = desk_zh.services.kb.article(desk_zh.actor, "kiosk-pin-locked", "zh_CN").title
        assert text_of(app, "#article-title") == title
        assert "怎么跟客户说" in app.screen.query_one("#article-body", Markdown).source


@pytest.mark.asyncio
async def test_palette_has_no_quit_and_sign_out_is_audited(desk: Desk, tmp_path: Any) -> None:
    app: TellerApp = desk.app
    async with app.run_test(size=(120, 40)) as pilot:
        await desk.start(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Quit" not in titles and "Keys" not in titles and "Theme" not in titles
        assert "Screenshot" in titles and "Help" in titles
        # Ctrl+Q signed in: nothing exits, the session stays.
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert app.is_running and app.session is not None
        # The palette's screenshot: a private file under the teller's home.
        app.action_save_screenshot()
        shots = list((desk.services.settings.home / "screenshots").glob("*.svg"))
        assert len(shots) == 1 and stat.S_IMODE(os.stat(shots[0]).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(shots[0].parent).st_mode) == 0o700
        # Sign out through the palette, typed.
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Sign out")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.session is None and isinstance(app.screen, SignInScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Quit" not in titles and "Close the program" in titles
    records = audit(desk.services, "sign_out")
    assert records and records[0].actor == "wang"


@pytest.mark.asyncio
async def test_zh_palette_entries_are_chinese(desk_zh: Desk) -> None:
    app: TellerApp = desk_zh.app
    async with app.run_test(size=(80, 24)) as pilot:
        await desk_zh.start(pilot)
        for command in app.get_system_commands(app.screen):
            assert not command.title.isascii(), command.title
            assert not command.help.isascii(), command.help


async def _edit_and_propose(pilot: Any, app: Any, article_id: str, addition: str) -> None:
    await pilot.press("f1")
    await settle(pilot)
    app.screen.query_one("#help-search", Input).value = "lost phone"
    await settle(pilot)
    ids = listed(app)
    app.screen.query_one("#help-articles", OptionList).highlighted = ids.index(article_id)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, ArticleScreen)
    await pilot.press("f4")
    await settle(pilot)
    assert isinstance(app.screen, EditArticleScreen)
    body = app.screen.query_one("#kb-edit-body", TextArea)
    assert app.focused is body
    await pilot.press("ctrl+end")  # TextArea: to the end of the text
    await pilot.press("enter", *addition)
    await pilot.press("f10")
    await settle(pilot)
    assert isinstance(app.screen, ArticleScreen)


@pytest.mark.asyncio
async def test_supervisor_proposes_and_a_second_person_publishes(desk: Desk) -> None:
    app = desk.app
    kb, services = desk.services.kb, desk.services
    addition = "Branch note: call the duty officer on 8001."
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
        await _edit_and_propose(pilot, app, "lost-phone", addition)
        sup = app.actor
        pending = kb.revisions(sup, status=KbStatus.PENDING)
        assert len(pending) == 1 and addition in pending[0].article.body and pending[0].author == "chen"
        assert addition not in kb.article(sup, "lost-phone", "en").body  # not shown before the review
        # The author cannot publish it: the review screen says so and nothing changes.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, ReviewListScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RevisionScreen)
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, RevisionScreen)  # refused: still open
        assert any("second person" in str(n.message) for n in app._notifications)
        assert kb.revisions(sup, status=KbStatus.PENDING)
        assert addition not in kb.article(sup, "lost-phone", "en").body
        await pilot.press("f12")  # sign out
        await settle(pilot)
        desk.clock.advance(seconds=31)
        # A second person (an administrator) publishes it.
        await sign_in(pilot, "zhao", ADMIN_PW, ADMIN_SECRET, desk.clock)
        app.action_kb_review()
        await settle(pilot)
        assert isinstance(app.screen, ReviewListScreen)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, ReviewListScreen)
        assert addition in kb.article(app.actor, "lost-phone", "en").body
        assert not kb.revisions(app.actor, status=KbStatus.PENDING)
    published = audit(services, "kb_publish")
    assert published and published[0].actor == "zhao"
    assert audit(services, "kb_propose")[0].actor == "chen"


@pytest.mark.asyncio
async def test_a_teller_sees_no_editing_keys(desk: Desk) -> None:
    app = desk.app
    async with app.run_test(size=(120, 40)) as pilot:
        await desk.start(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert app.screen.check_action("review", ()) is False
        await pilot.press("enter")  # the first of home's articles
        await settle(pilot)
        assert isinstance(app.screen, ArticleScreen)
        assert app.screen.check_action("revise", ()) is False
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, ArticleScreen)


def test_help_snapshot_80x24_zh(snap_compare: Any, tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    desk = _world(tmp_path, db_path, db, clock, "zh_CN")

    async def run_before(pilot: Any) -> None:
        await desk.start(pilot)
        await pilot.press("f1")
        await settle(pilot)
        pilot.app.screen.set_focus(None)
        await settle(pilot)

    try:
        assert snap_compare(desk.app, terminal_size=(80, 24), run_before=run_before)
    finally:
        set_locale("en")


def test_article_snapshot_80x24_zh(snap_compare: Any, tmp_path: Any, db_path: Any, db: Any, clock: Any) -> None:
    desk = _world(tmp_path, db_path, db, clock, "zh_CN")

    async def run_before(pilot: Any) -> None:
        await desk.start(pilot)
        pilot.app.push_screen(ArticleScreen("class-limits"))
        await settle(pilot)
        pilot.app.screen.set_focus(None)
        await settle(pilot)

    try:
        assert snap_compare(desk.app, terminal_size=(80, 24), run_before=run_before)
    finally:
        set_locale("en")


__all__ = ["HomeScreen"]
