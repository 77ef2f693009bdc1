"""Every desk screen of the real app at 80x24 in zh_CN, walked with keys: no English a teller would
read. Text that is data (customer names typed in Latin letters, memos), key names and codes are
allowed; anything else in Latin letters fails the test. A planted English label shows it can fail."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Input, Static

from desk_harness import CUSTOMERS, Desk, make_desk
from pilot_helpers import settle
from screens.cash import CashForm
from teller_tui.common.i18n import set_locale

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

#: Words in Latin letters that are not untranslated labels: key names on the footer, currency and
#: unit codes, the product's command name. Customer data comes from the harness (below).
ALLOWED = {"esc", "enter", "tab", "ctrl", "shift", "up", "down", "left", "right", "space", "cny", "teller", "ok",
           "id", "pos", "pgup", "pgdn", "del",
           "chn", "csv", "txt", "cs",  # nationality, file formats, case numbers (CS-000001)
           "english"}  # the language key names the other language in that language
WORD = re.compile(r"[A-Za-z]{2,}")
#: A saved file's path, or the rest of one the screen wrapped onto the next line ("ports/eod-….txt").
PATH = re.compile(r"(?:/[\w.\-]+){2,}/?|[\w.\-]*(?:/[\w.\-]+)+\.[A-Za-z]{2,4}\b")


def _data_words() -> set[str]:
    words: set[str] = set()
    for spec in CUSTOMERS:
        for field in ("full_name", "name_latin"):
            words |= {w.lower() for w in WORD.findall(spec[field])}
    # memos, staff user names (the harness's drawer was opened by the system actor, shown as such)
    return words | {"counter", "deposit", "opening", "op", "wang", "chen", "system", "demo", "zhao", "min"}


def screen_text(app: Any) -> list[str]:
    """What a person reads: the lines of the terminal as drawn (the app's own screenshot), footer
    included; nothing hidden below the fold or scrolled away counts."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(float(m.group(2)), []).append((float(m.group(1)), html.unescape(m.group(3))))
    return ["".join(t for _x, t in sorted(parts)).replace("\xa0", " ") for _y, parts in sorted(rows.items())]


def english(app: Any) -> list[str]:
    allowed = ALLOWED | _data_words()
    found = []
    for part in screen_text(app):
        part = PATH.sub(" ", part)  # a file the app saved is named as it is on disk
        for word in WORD.findall(part):
            if word.lower() not in allowed:
                found.append(f"{word!r} in {part[:60]!r}")
    return found


@pytest.fixture
def desk(tmp_path: Any, db_path: Any, db: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setattr(CashForm, "LIVE_DELAY", 0.0)
    world = make_desk(tmp_path, db_path, db, clock, locale="zh_CN")
    yield world
    set_locale("en")


async def back_to(pilot: Any, name: str) -> None:
    for _ in range(5):
        if type(pilot.app.screen).__name__ == name:
            return
        await pilot.press("escape")
        await settle(pilot)
    raise AssertionError(f"{pilot.app.screen} is not {name}")


async def _walk(pilot: Any, desk: Desk, seen: dict[str, list[str]], screens: dict[str, str]) -> None:
    app = pilot.app

    async def look(name: str) -> None:
        await settle(pilot)
        seen[name] = english(app)
        screens[name] = type(app.screen).__name__

    async def keys(*ks: str) -> None:
        await pilot.press(*ks)
        await settle(pilot)

    await look("signin")
    await desk.start(pilot)
    await look("home")
    await keys("f2", *"13800138000")
    await look("lookup")
    await keys("enter")
    await look("customer")
    await keys("f5")
    await look("cash_in")
    app.screen.query_one("#cash-amount", Input).focus()
    await keys(*"60000")
    await look("cash_in_typed")
    await keys("f4")
    await look("count_notes")
    await keys("escape")
    await keys("enter")
    await look("confirm")
    await keys("f10")
    await look("approval")
    await back_to(pilot, "CustomerScreen")
    await keys("f6")
    await look("cash_out")
    await back_to(pilot, "CustomerScreen")
    await keys("f7")
    await look("transfer")
    await back_to(pilot, "HomeScreen")
    await keys("f10")
    await look("drawer")
    await keys("f4")
    await look("blind_count")


async def test_every_desk_screen_speaks_chinese(desk: Desk) -> None:
    seen: dict[str, list[str]] = {}
    screens: dict[str, str] = {}
    async with desk.app.run_test(size=(80, 24)) as pilot:
        await _walk(pilot, desk, seen, screens)
    assert screens == {
        "signin": "SignInScreen", "home": "HomeScreen", "lookup": "LookupScreen", "customer": "CustomerScreen",
        "cash_in": "CashInForm", "cash_in_typed": "CashInForm", "count_notes": "CountNotesDialog",
        "confirm": "ConfirmScreen", "approval": "ApprovalScreen", "cash_out": "CashOutForm",
        "transfer": "TransferForm", "drawer": "DrawerScreen", "blind_count": "BlindCountScreen"}, screens
    bad = {name: words for name, words in seen.items() if words}
    assert not bad, bad


async def test_the_walk_catches_a_planted_english_label(desk: Desk) -> None:
    """Negative control: an English label on the home screen is caught."""
    async with desk.signed_in(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not english(pilot.app)
        await pilot.app.screen.mount(Static("Insufficient funds: available 10"))
        await settle(pilot)
        found = english(pilot.app)
        assert any("Insufficient" in f for f in found) and any("available" in f for f in found), found
