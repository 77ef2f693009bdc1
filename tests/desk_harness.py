"""Test harness for the teller-desk screens: the real ``TellerApp`` on fixed data.

``make_desk(tmp_path, db_path, db, clock, locale=...)`` builds the services on the test
database (FakeClock, an ephemeral secret box) through ``make_services``, creates staff through
the auth service (a teller and a supervisor, with passwords and authenticator secrets), a fixed
set of customers with wallets (including hostile names), and the app through
``screens.app.make_app`` with those services and that clock. ``await desk.start(pilot)``
signs the teller in at the sign-in screen with keys and waits for the home screen
(``async with desk.signed_in(size=(80, 24)) as pilot`` runs the app and does both); the journey
helpers (:func:`find`, :func:`open_customer`, :func:`from_customer`, :func:`fill_amount`) go on
from there by keys.

The ``desk`` fixture is that world on the test's database and clock; a test module takes it with
``from desk_harness import Desk, desk  # noqa: F401``, or defines its own ``desk`` on
:func:`make_desk` when it needs another world (:func:`with_pin` for a customer's PIN).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from textual.widgets import Input, Static

from pilot_helpers import settle, sign_in
from screens.app import make_app
from screens.pinpad.app import make_pinpad_app
from teller_tui.auth import passwords
from teller_tui.auth.secretbox import SecretBox
from teller_tui.auth.service import system_actor
from teller_tui.branch.setup import open_demo_drawer
from teller_tui.common.clock import FakeClock
from teller_tui.common.i18n import set_locale
from teller_tui.common.money import Money
from teller_tui.common.settings import load_settings
from teller_tui.models import Customer, JournalEntry
from teller_tui.services import make_services
from teller_tui.wallets.identity import make_prc_id

__all__ = ["CLICK_NAME", "CUSTOMERS", "Desk", "ESC_NAME", "MARKUP_NAME", "SUPERVISOR_PW", "SUPERVISOR_SECRET",
           "TELLER_PW", "TELLER_SECRET", "consent_desk", "desk", "fill_amount", "find", "from_customer", "ids",
           "make_desk", "open_customer", "paired_display", "settle", "static_text", "with_pin"]

TELLER_PW = "desk teller long passphrase 1"
TELLER_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SUPERVISOR_PW = "desk supervisor long passphrase 2"
SUPERVISOR_SECRET = "KRSXG5CTMVRXEZLUKN2XAZLSONSWG4TF"

#: Hostile names used by the markup-safety tests (kept literal everywhere they show).
MARKUP_NAME = "[b]x[/b]"
CLICK_NAME = "[@click=app.quit]x[/]"
ESC_NAME = "\x1b[31mRed\x1b[0m"

CUSTOMERS: list[dict[str, Any]] = [
    # key, full_name, name_latin, phone, tier, (birth, seq, sex)
    dict(key="wang", full_name="王芳", name_latin="wang fang", phone="13800138000", tier=1,
         birth=date(1990, 3, 7), seq=15, sex="F"),
    dict(key="zhang", full_name="张伟", name_latin="zhang wei", phone="13912345678", tier=2,
         birth=date(1985, 6, 1), seq=20, sex="M"),
    dict(key="li", full_name="李娜", name_latin="li na", phone="13700001111", tier=3,
         birth=date(1999, 1, 9), seq=30, sex="F"),
    dict(key="markup", full_name=MARKUP_NAME, name_latin=CLICK_NAME, phone="13600002222", tier=2,
         birth=date(1970, 2, 2), seq=40, sex="M"),
    dict(key="esc", full_name=ESC_NAME, name_latin="red esc", phone="13500003333", tier=2,
         birth=date(1975, 5, 5), seq=50, sex="M"),
]


@dataclass
class Desk:
    app: Any
    services: Any
    clock: FakeClock
    staff: Any
    customers: dict[str, int] = field(default_factory=dict)  # key -> customer id
    wallets: dict[str, Any] = field(default_factory=dict)  # key -> WalletInfo

    @property
    def actor(self) -> Any:
        return self.staff.actor(self.services.settings.terminal_id)

    async def start(self, pilot: Any) -> None:
        """Sign the teller in at the real sign-in screen (keys) and wait for the home screen."""
        await sign_in(pilot, "wang", TELLER_PW, TELLER_SECRET, self.clock)
        assert type(pilot.app.screen).__name__ == "HomeScreen", pilot.app.screen

    @asynccontextmanager
    async def signed_in(self, size: tuple[int, int] = (120, 40)) -> AsyncIterator[Any]:
        """The app running at ``size`` with the teller signed in (:meth:`start`): the Pilot."""
        async with self.app.run_test(size=size) as pilot:
            await self.start(pilot)
            yield pilot

    # -- ledger facts for assertions ----------------------------------------------------------
    def entries(self, kind: str | None = None) -> list[Any]:
        with self.services.db.read() as s:
            stmt = select(JournalEntry).order_by(JournalEntry.seq)
            if kind:
                stmt = stmt.where(JournalEntry.kind == kind)
            return [(e.id, e.kind, e.reference, e.idempotency_key) for e in s.execute(stmt).scalars()]

    def balance(self, key: str) -> Money:
        view = self.services.customers.get_customer(self.customers[key])
        return view.wallets[0].balance


# -- journeys: from home, by keys -------------------------------------------------------------
def static_text(app: Any, selector: str) -> str:
    """The text a ``Static`` on the current screen shows."""
    return str(app.screen.query_one(selector, Static).render())


async def find(pilot: Any, query: str) -> Any:
    """From home: F2, type ``query``, wait for the results."""
    await pilot.press("f2")
    await settle(pilot)
    screen = pilot.app.screen
    assert type(screen).__name__ == "LookupScreen"
    if query.isascii():
        await pilot.press(*query)
    else:
        screen.query_one("#lookup-query", Input).value = query
    await settle(pilot)
    return screen


async def open_customer(pilot: Any, desk: Desk, key: str) -> Any:
    """From home: find customer ``key`` (of :data:`CUSTOMERS`) by phone and open the customer view."""
    spec_phone = {c["key"]: c["phone"] for c in CUSTOMERS}[key]
    await find(pilot, spec_phone)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert type(screen).__name__ == "CustomerScreen"
    assert screen.customer_id == desk.customers[key]
    return screen


async def fill_amount(pilot: Any, amount: str, memo: str = "") -> Any:
    """On a cash form: type ``amount`` into its amount field (and set the memo); the form."""
    form = pilot.app.screen
    assert type(form).__name__ in ("CashInForm", "CashOutForm", "TransferForm")
    form.query_one("#cash-amount", Input).focus()
    await pilot.press(*amount)
    if memo:
        form.query_one("#cash-memo", Input).value = memo
    await settle(pilot)
    return form


async def from_customer(pilot: Any, desk: Desk, key: str, press: str) -> Any:
    """From home: open customer ``key`` (:func:`open_customer`), press ``press`` there (F5 a cash-in,
    F8 the service screen…) and wait; the screen it led to."""
    await open_customer(pilot, desk, key)
    await pilot.press(press)
    await settle(pilot)
    return pilot.app.screen


def ids(desk: Desk, kind: str) -> list[int]:
    """The ids of the desk's journal entries of ``kind``, in order."""
    return [row[0] for row in desk.entries(kind)]


def make_desk(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock, *, locale: str = "en",
              seed_balances: bool = True, **settings_extra: Any) -> Desk:
    """The world, and the real app on it (not started: ``run_test`` starts it)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    settings = load_settings(home=home, database_url=f"sqlite:///{db_path}", locale=locale, terminal_id="T01",
                             branch_code="B001", idle_lock_seconds=3600, **settings_extra)
    services = make_services(settings, clock=clock, database=db, box=SecretBox.ephemeral())
    system = system_actor(settings)
    with passwords.test_parameters():
        staff, _otp = services.auth.create_staff(system, "wang", "王小明", "teller", password=TELLER_PW,
                                                 totp_secret=TELLER_SECRET)
        services.auth.create_staff(system, "chen", "陈主管", "supervisor", password=SUPERVISOR_PW,
                                   totp_secret=SUPERVISOR_SECRET)
    desk = Desk(app=None, services=services, clock=clock, staff=staff)
    actor = desk.actor
    open_demo_drawer(services, "wang")  # business day + the teller's drawer with a float
    for spec in CUSTOMERS:
        with services.db.write() as s:
            row = Customer(customer_no=f"C{spec['seq']:08d}", full_name=spec["full_name"],
                           name_latin=spec["name_latin"], phone=spec["phone"], id_type="prc_id",
                           id_number=make_prc_id("110101", spec["birth"], spec["seq"], spec["sex"]),
                           id_expiry=date(2035, 1, 1), birth_date=spec["birth"], sex=spec["sex"],
                           kyc_level="in_person", branch_code="B001", created_at=clock.now())
            s.add(row)
            s.flush()
            desk.customers[spec["key"]] = int(row.id)  # type: ignore[arg-type]
        desk.wallets[spec["key"]] = services.wallets.open_wallet_now(actor, desk.customers[spec["key"]],
                                                                     spec["tier"])
    if seed_balances:
        # Fixed opening balances (posted by the same teller: the drawer holds the cash).
        for key, amount in (("wang", "1000.00"), ("zhang", "300.00"), ("markup", "10.00"), ("esc", "20.00")):
            services.cash.cash_in(actor, desk.wallets[key].wallet_id, Money.of(amount), memo="opening",
                                  idempotency_key=f"seed-{key}")
    desk.app = make_app(settings, services=services, clock=clock)  # sets the UI language
    set_locale(locale)
    return desk


@pytest.fixture
def desk(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> Desk:
    """The desk world (:func:`make_desk`) on the test's database and clock, in English."""
    return make_desk(tmp_path, db_path, db, clock)


@pytest.fixture
def consent_desk(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Desk:
    """:func:`desk` with the customer's consent step on (the tests' conftest turns it off)."""
    monkeypatch.setenv("TELLER_COUNTER_CONSENT", "1")
    return make_desk(tmp_path, db_path, db, clock)


def with_pin(desk: Desk, key: str, pin: str, **columns: Any) -> Desk:
    """``desk`` with customer ``key``'s wallet PIN set to ``pin`` (and any other ``Customer`` columns)."""
    with desk.services.db.write() as s:
        s.execute(update(Customer).where(Customer.id == desk.customers[key]).values(
            pin_hash=passwords.hash_pin(pin), **columns))
    return desk


def paired_display(desk: Desk, tmp_path: Path, locale: str = "en") -> Any:
    """A customer display (the real app of ``teller pinpad``) paired with the desk's terminal T01, on
    the desk app's services and clock. Not started: ``async with pad_app.run_test() as pad``."""
    settings = load_settings(home=tmp_path / "pad", locale=locale, terminal_id="PAD-T01")
    return make_pinpad_app(settings, pair_terminal="T01", services=desk.app.services, clock=desk.app.clock)
