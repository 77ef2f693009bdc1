"""The knowledge base where the question arises, on the real apps (Pilot, keys): the kiosk's F1 with
articles for customers only, the customer view naming the articles for the customer's situation, help
laid out for 80x24, supervisors creating articles and resolving upgrade conflicts with a second person."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from textual.widgets import Checkbox, Input, Markdown, OptionList, Static, TabbedContent, TextArea

from desk_harness import SUPERVISOR_PW, SUPERVISOR_SECRET, Desk
from pilot_helpers import settle, sign_in
from test_help_pilot import ADMIN_PW, ADMIN_SECRET, listed, text_of
from test_help_pilot import desk, desk_zh  # noqa: F401  (the fixtures)
from test_kiosk_pilot import services  # noqa: F401  (the kiosk's services: the fixture)
from teller_tui.auth.staff import system_actor
from teller_tui.kb.articles import load_shipped
from teller_tui.models import Customer, Wallet
from teller_tui.models.kb import KbStatus

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


# -- the kiosk ----------------------------------------------------------------------------------------

@pytest.fixture
def kiosk_services(services: Any) -> Any:
    """The kiosk's services (``services`` of tests/test_kiosk_pilot.py) with the shipped articles."""
    services.kb.sync_shipped(system_actor(services.settings))
    return services


def _kiosk_titles(app: Any) -> list[str]:
    return [str(o.id) for o in app.screen.query_one("#kiosk-help-list", OptionList).options]


async def test_kiosk_f1_shows_only_customer_articles_and_the_refusal_first(kiosk_services: Any) -> None:
    from test_kiosk_pilot import PIN, _customer, _ready, _settle, _text

    from screens.kiosk.app import make_kiosk_app
    from screens.kiosk.help import KioskHelpScreen
    from screens.kiosk.home import KioskHomeScreen
    from screens.kiosk.transfer import KioskTransferScreen
    from screens.kiosk.welcome import WelcomeScreen

    services = kiosk_services
    customer_ids = {a.article_id for a in load_shipped() if a.audience == "customer"}
    staff_titles = {a.title for a in load_shipped() if a.audience == "staff"}
    _customer(services, "王芳", "13900000002", fund="500")
    _customer(services, "张三明", "13812345678", fund="0")
    app = make_kiosk_app(services.settings, services=services)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(app, pilot)
        # On the welcome screen, before anyone signs in: the customers' help, nothing else.
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, KioskHelpScreen)
        assert set(_kiosk_titles(app)) == customer_ids
        assert not any(title in _text(app) for title in staff_titles)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        # Signed in, in Chinese: F1 on the home screen; the arrows read the next article.
        await pilot.click("#lang-zh")
        await settle(pilot)
        app.screen.query_one("#identifier").value = "13900000002"
        app.screen.query_one("#pin").value = PIN
        await pilot.click("#submit")
        await _settle(app, pilot)
        assert isinstance(app.screen, KioskHomeScreen)
        assert "F1" in _text(app)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, KioskHelpScreen)
        first = app.screen.query_one("#kiosk-help-body", Markdown).source
        await pilot.press("down")
        await settle(pilot)
        second = app.screen.query_one("#kiosk-help-body", Markdown).source
        assert first and second and first != second
        assert all("\u4e00" <= ch <= "\u9fff" for ch in _text(app) if ch.isalpha() and not ch.isascii())
        await pilot.press("f1")  # F1 again closes it
        await settle(pilot)
        assert isinstance(app.screen, KioskHomeScreen) and app.session is not None
        # A transfer over the kiosk's limit: refused; F1 puts the article that explains it first.
        await pilot.press("2")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, KioskTransferScreen)
        form.query_one("#payee", Input).value = "13812345678"
        form.query_one("#amount", Input).value = "450"
        services.settings  # noqa: B018 - the kiosk's per-transfer limit (data/kiosk.toml) is 2,000
        form.query_one("#amount", Input).value = "2500"
        await pilot.click("#continue")
        await _settle(app, pilot)
        assert form.help_refusal in {"kiosk_per_txn", "insufficient_funds"}, form.help_refusal
        assert "F1" in str(form.query_one("#transfer-status", Static).render())
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, KioskHelpScreen)
        assert _kiosk_titles(app)[0] == "customer-transfer-refused"
        assert "限额" in app.screen.query_one("#kiosk-help-body", Markdown).source
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form and form.query_one("#amount", Input).value == "2500"
        # The lock-down still holds inside the help.
        await pilot.press("f1")
        await settle(pilot)
        for key in ("ctrl+c", "ctrl+q", "ctrl+p", "ctrl+z"):
            await pilot.press(key)
            await settle(pilot)
            assert app.is_running and isinstance(app.screen, KioskHelpScreen), key
        # The idle reset closes the help with every other screen.
        app.reset_to_welcome()
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen) and len(app.screen_stack) == 1


# -- the customer's situation -------------------------------------------------------------------------

async def _open_customer(pilot: Any, app: Any, phone: str) -> Any:
    from screens.customer import CustomerScreen

    await pilot.press("f2")
    await settle(pilot)
    app.screen.query_one("#lookup-query", Input).value = phone
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, CustomerScreen), app.screen
    return app.screen


async def test_customer_view_offers_the_articles_for_the_customers_situation(desk_zh: Desk) -> None:
    desk, app = desk_zh, desk_zh.app
    with desk.services.db.write() as s:
        c = s.get(Customer, desk.customers["zhang"])
        c.pin_locked, c.id_expiry = True, date(2020, 1, 1)
        w = s.get(Wallet, desk.wallets["zhang"].wallet_id)
        w.status = "frozen"
    kb = desk.services.kb
    expected = [kb.for_refusal(desk.actor, code, "zh_CN", screen="customer").article_id
                for code in ("kiosk_pin_locked", "wallet_frozen", "id_expired")]
    assert expected == ["kiosk-pin-locked", "freeze-unfreeze", "id-expired"]
    async with app.run_test(size=(80, 24)) as pilot:
        await desk.start(pilot)
        view = await _open_customer(pilot, app, "13912345678")
        await settle(pilot)
        line = str(view.query_one("#customer-kb", Static).render())
        assert view.query_one("#customer-kb").display and line.startswith("F1")
        for article_id in expected:
            assert kb.article(desk.actor, article_id, "zh_CN").title in line, (article_id, line)
        assert view.query_one("#customer-kb").region.height >= 1  # on screen at 80x24
        await pilot.press("f1")
        await settle(pilot)
        assert listed(app)[:3] == expected
        assert text_of(app, "#help-list-label") == "本客户及本屏相关文章"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is view
        # A customer in good standing: no line.
        await pilot.press("escape")
        await settle(pilot)
        if type(app.screen).__name__ != "HomeScreen":
            await pilot.press("escape")
            await settle(pilot)
        view = await _open_customer(pilot, app, "13800138000")
        await settle(pilot)
        assert not view.query_one("#customer-kb").display and view.help_situation == ()


async def test_limits_reached_point_to_class_limits(desk: Desk) -> None:
    from screens.customer import situation_codes

    view = desk.services.customers.get_customer(desk.customers["wang"])
    assert situation_codes(view) == ()
    from teller_tui.common.money import Money

    wallet = view.wallets[0]
    assert wallet.limits is not None

    def with_limits(**changes: Any) -> Any:
        return replace(view, wallets=[replace(wallet, limits=replace(wallet.limits, **changes))])

    assert situation_codes(with_limits(daily=Money.of("500"), used_today=Money.of("500"))) == ("tier_daily",)
    assert situation_codes(with_limits(daily=Money.of("500"), used_today=Money.of("499.99"))) == ()
    assert situation_codes(with_limits(yearly=Money.of("9000"), used_year=Money.of("9000"))) == ("tier_yearly",)
    assert situation_codes(with_limits(balance_cap=Money.of("1000"))) == ("tier_balance_cap",)  # holds ¥1,000
    assert desk.services.kb.for_refusal(desk.actor, "tier_daily", "en", screen="customer").article_id == \
        "class-limits"


# -- help at 80x24 ------------------------------------------------------------------------------------

async def test_help_tabs_give_purpose_and_keys_the_screen_at_80x24(desk_zh: Desk) -> None:
    app = desk_zh.app
    async with app.run_test(size=(80, 24)) as pilot:
        await desk_zh.start(pilot)
        await pilot.press("f1")
        await settle(pilot)
        tabs = app.screen.query_one("#help-tabs", TabbedContent)
        assert tabs.active == "help-tab-articles" and app.screen.query_one("#help-articles").region.height >= 10
        await pilot.press("f3")
        await settle(pilot)
        assert tabs.active == "help-tab-screen"
        about = app.screen.query_one("#help-about")
        assert about.region.height >= 15, about.region  # was ~6 lines under the article list
        assert app.focused is about
        keys = app.screen.query_one("#help-keys", Static)
        await pilot.press("end")
        await settle(pilot)
        assert keys.region.height > 0 and about.region.contains_region(keys.region) or keys.region.y < about.region.bottom
        await pilot.press("f2")
        await settle(pilot)
        assert tabs.active == "help-tab-articles" and isinstance(app.focused, Input)


# -- supervisors: new articles, conflicts, the editor ----------------------------------------------------

async def test_editor_opens_with_the_cursor_at_the_end(desk: Desk) -> None:
    from screens.help import ArticleScreen
    from screens.kb_edit import EditArticleScreen

    app = desk.app
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
        app.push_screen(ArticleScreen("lost-phone"))
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, EditArticleScreen)
        body = app.screen.query_one("#kb-edit-body", TextArea)
        assert app.focused is body and body.cursor_location == body.document.end
        await pilot.press(*" Added.")
        assert body.text.endswith(" Added.")


async def test_supervisor_creates_an_article_and_another_publishes_it(desk: Desk) -> None:
    from screens.help import HelpScreen
    from screens.kb_edit import EditArticleScreen, ReviewListScreen, RevisionScreen

    app, kb = desk.app, desk.services.kb
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("f4")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EditArticleScreen) and form.new
        assert form.query_one("#kb-edit-screens", Input).value == "home"
        assert form.query_one("#kb-edit-body", TextArea).region.height >= 5  # fits at 80x24
        assert app.focused is form.query_one("#kb-edit-id", Input)
        await pilot.press(*"Branch Parking")  # not a valid name: refused, the form stays
        await pilot.press("tab", "tab", "tab", *"Parking at the branch", "tab", *"parking, car")
        await pilot.press("tab", *"Customers may park in the back yard.")
        await pilot.press("f10")
        await settle(pilot)
        assert app.screen is form and any("lower-case" in str(n.message) for n in app._notifications)
        form.query_one("#kb-edit-id", Input).value = "branch-parking"
        assert not form.query_one("#kb-edit-customer", Checkbox).value
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        pending = kb.revisions(app.actor, status=KbStatus.PENDING)
        assert [(p.article.article_id, p.article.locale, p.article.screens, p.article.audience) for p in pending] == \
            [("branch-parking", "en", ("home",), "staff")]
        assert pending[0].article.title == "Parking at the branch"
        await pilot.press("f12")
        await settle(pilot)
        desk.clock.advance(seconds=31)
        await sign_in(pilot, "zhao", ADMIN_PW, ADMIN_SECRET, desk.clock)
        app.action_kb_review()
        await settle(pilot)
        assert isinstance(app.screen, ReviewListScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RevisionScreen)
        await pilot.press("f10")
        await settle(pilot)
        hits = kb.search(app.actor, "parking", "en")
        assert hits and hits[0].article.article_id == "branch-parking"


def _actor(services: Any, username: str) -> Any:
    from sqlalchemy import select

    from teller_tui.audit.trail import Actor
    from teller_tui.models import Staff

    with services.db.read() as s:
        staff = s.execute(select(Staff).where(Staff.username == username)).scalar_one()
        return Actor(staff.id, staff.username, "T01", staff.role, staff.branch_code)


async def test_conflicts_are_resolved_by_keys_and_published_by_a_second_person(desk: Desk) -> None:
    from screens.kb_edit import ConflictScreen, EditArticleScreen, ReviewListScreen, RevisionScreen

    app, kb, services = desk.app, desk.services.kb, desk.services
    sup = system_actor(services.settings)
    local_sup, other = _actor(services, "chen"), _actor(services, "zhao")
    for article_id in ("lost-phone", "system-down"):
        base = kb.article(sup, article_id, "en")
        rev = kb.propose(local_sup, replace(base, body=base.body + "\n\nLocal rule."))
        kb.review(other, rev.revision_id, approve=True)
    shipped = [replace(a, body=a.body + "\n\nVendor fix.") if a.locale == "en" and a.article_id in
               ("lost-phone", "system-down") else a for a in load_shipped()]
    assert kb.sync_shipped(sup, shipped).conflicts == 2
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "chen", SUPERVISOR_PW, SUPERVISOR_SECRET, desk.clock)
        app.action_kb_review()
        await settle(pilot)
        assert isinstance(app.screen, ReviewListScreen)
        options = app.screen.query_one("#kb-review-list", OptionList)
        labels = [str(o.prompt) for o in options.options]
        assert sum("CONFLICT" in label for label in labels) == 2
        # The first conflict: read both texts, keep the local one (F5).
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConflictScreen)
        first = screen.conflict.article.article_id
        assert "Local rule." in screen.query_one("#kb-conflict-local-body", Markdown).source
        await pilot.press("f3")
        await settle(pilot)
        assert screen.query_one("#kb-conflict-tabs", TabbedContent).active == "kb-conflict-shipped"
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, ReviewListScreen)
        # The second: merge by editing (F4), the editor opens on the local text, cursor at the end.
        app.screen.load()
        await settle(pilot)
        prompts = [str(o.prompt) for o in app.screen.query_one("#kb-review-list", OptionList).options]
        assert sum("waits for review" in p for p in prompts) == 1  # the one just answered says so
        conflict_index = next(i for i, p in enumerate(prompts) if "CONFLICT" in p and "waits for review" not in p)
        app.screen.query_one("#kb-review-list", OptionList).highlighted = conflict_index
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConflictScreen)
        second = app.screen.conflict.article.article_id
        await pilot.press("f4")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, EditArticleScreen) and editor.conflict_id is not None
        await pilot.press("enter", *"Vendor fix, merged.")
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, ReviewListScreen)
        pending = kb.revisions(app.actor, status=KbStatus.PENDING)
        assert {p.article.article_id for p in pending} == {first, second}
        assert kb.revisions(app.actor, status=KbStatus.CONFLICT)  # open until published
        # The author cannot publish them; the administrator can.
        await pilot.press("f12")
        await settle(pilot)
        desk.clock.advance(seconds=31)
        await sign_in(pilot, "zhao", ADMIN_PW, ADMIN_SECRET, desk.clock)
        for _ in range(2):
            app.action_kb_review()
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, RevisionScreen)
            await pilot.press("f10")
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
        history = {a: [(h.version, h.status, h.source) for h in kb.history(app.actor, a, "en")]
                   for a in (first, second)}
        assert not kb.revisions(app.actor, status=KbStatus.CONFLICT), history
        assert not kb.revisions(app.actor, status=KbStatus.PENDING)
        bodies = {a: kb.article(app.actor, a, "en").body for a in (first, second)}
        assert "Local rule." in bodies[first] and "Vendor fix." not in bodies[first]
        assert "Vendor fix, merged." in bodies[second]
    assert kb.sync_shipped(sup, shipped).conflicts == 0  # answered: not raised again
    with services.db.read() as s:
        assert services.audit.recent(s, action="kb_resolve")


async def test_f1_on_the_lookup_lists_the_lookup_articles(desk: Desk) -> None:
    from screens.help import HelpScreen
    from screens.lookup import LookupScreen

    app = desk.app
    async with app.run_test(size=(80, 24)) as pilot:
        await desk.start(pilot)
        await pilot.press("f2")
        await settle(pilot)
        lookup = app.screen
        assert isinstance(lookup, LookupScreen)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        expected = [a.article_id for a in desk.services.kb.for_screen(desk.actor, "lookup", "en")]
        assert "kiosk-pin-locked" in expected and listed(app) == expected
        assert all(not a.startswith("customer-") for a in listed(app))  # never the kiosk's customer articles
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is lookup
