"""Test harness for the teller-desk screens: a signed-in ``TellerApp`` on fixed data.

``make_desk(tmp_path, db_path, db, clock, locale=...)`` builds the services on the test
database (FakeClock), creates staff through the auth service, a fixed set of customers with
wallets (including hostile names), and a ``TellerApp`` whose session is already signed in:
``await desk.start(pilot)`` waits for the services and shows the home screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from teller_tui.common.clock import FakeClock
from teller_tui.common.money import Money

TELLER_PW = "desk teller long passphrase 1"
TELLER_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

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


def _desk_app_class() -> type:
    """A tiny app exposing ``services``/``actor``/``session`` the way ``TellerApp`` does."""
    from textual.app import App
    from textual.binding import Binding

    from screens.commands import TellerCommands
    from teller_tui.common.i18n import get_locale, set_locale

    class _DeskTestApp(App[int]):
        COMMANDS = App.COMMANDS | {TellerCommands}
        BINDINGS = [Binding("f1", "app.show_help_panel", "Keys", id="keys")]

        def __init__(self, services: Any, session: Any) -> None:
            super().__init__()
            self.services = services
            self.session = session
            self.locked = False
            self.theme = "textual-dark"

        @property
        def actor(self) -> Any:
            return self.session.actor if self.session is not None else None

        def get_theme_variable_defaults(self) -> dict[str, str]:
            return {"credit": "#4EBF71", "debit": "#E0645C"}

        def show_home(self) -> None:
            from screens.home import HomeScreen

            self.push_screen(HomeScreen())

        def action_switch_language(self) -> None:
            from screens.base import LanguageChanged

            set_locale("en" if get_locale() == "zh_CN" else "zh_CN")
            self.refresh_bindings()
            for screen in self.screen_stack:
                screen.post_message(LanguageChanged())

    return _DeskTestApp


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

    def signed_in(self) -> Any:
        from teller_tui.auth.service import SignedIn

        return SignedIn(staff=self.staff, terminal_id=self.services.settings.terminal_id,
                        at=self.clock.now(), must_change_password=False, needs_totp_enrolment=False)

    async def start(self, pilot: Any) -> None:
        """Wait for the app's services, sign the teller in and show the home screen."""
        await self.app.workers.wait_for_complete()
        await pilot.pause()
        assert self.app.services is not None
        self.app.session = self.signed_in()
        self.app.show_home()
        await settle(pilot)

    # -- ledger facts for assertions ----------------------------------------------------------
    def entries(self, kind: str | None = None) -> list[Any]:
        from sqlalchemy import select

        from teller_tui.models import JournalEntry

        with self.services.db.read() as s:
            stmt = select(JournalEntry).order_by(JournalEntry.seq)
            if kind:
                stmt = stmt.where(JournalEntry.kind == kind)
            return [(e.id, e.kind, e.reference, e.idempotency_key) for e in s.execute(stmt).scalars()]

    def balance(self, key: str) -> Money:
        view = self.services.customers.get_customer(self.customers[key])
        return view.wallets[0].balance


async def settle(pilot: Any) -> None:
    """Let workers finish and their messages land (no sleeps)."""
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def make_desk(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock, *, locale: str = "en",
              seed_balances: bool = True, real_app: bool = False) -> Desk:
    """The world; ``real_app=True`` drives ``screens.app.TellerApp``, else the tiny test app."""
    from teller_tui.auth import passwords
    from teller_tui.auth.service import system_actor
    from teller_tui.common.i18n import set_locale
    from teller_tui.wallets.identity import make_prc_id
    from teller_tui.models import Customer
    from teller_tui.services import make_services
    from teller_tui.common.settings import load_settings

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    settings = load_settings(home=home, database_url=f"sqlite:///{db_path}", locale=locale, terminal_id="T01",
                             branch_code="B001", idle_lock_seconds=3600)
    services = make_services(settings, clock=clock, database=db)
    system = system_actor(settings)
    with passwords.test_parameters():
        staff, _otp = services.auth.create_staff(system, "wang", "王小明", "teller", password=TELLER_PW,
                                                 totp_secret=TELLER_SECRET)
    desk = Desk(app=None, services=services, clock=clock, staff=staff)
    actor = desk.actor
    from teller_tui.branch.setup import open_demo_drawer

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
    set_locale(locale)
    if real_app:
        from screens.app import make_app

        desk.app = make_app(settings, services=services, clock=clock)
    else:
        desk.app = _desk_app_class()(services, None)
    return desk
