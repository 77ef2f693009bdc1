"""The teller's home screen: who is here, where, which business day, the drawer, today's count.

Every action is on an F-key (shown in the Footer) and in the command palette (ctrl+p):
F2 find customer, F5 cash in, F6 cash out, F7 transfer, F8 reprint a receipt, F3 language;
the shell adds F1 keys, F11 lock and F12 sign out. Cash in/out/transfer start with the
customer lookup and open the form on the chosen customer's wallet.

The summary comes from ``services.drawers.status(actor)`` (never the drawer balance: the
end-of-day count is blind).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from teller_tui.common.clock import local_date
from teller_tui.common.formatting import format_date
from teller_tui.common.i18n import N_, _, n_

from .base import TellerScreen
from .commands import PaletteCommand, register_command
from .confirm import facts_content
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.safe import clean
from .widgets.footer import KeyFooter

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.services import Services

__all__ = ["DaySummary", "HomeScreen", "day_summary"]


@dataclass(frozen=True, slots=True)
class DaySummary:
    business_date: date
    transactions: int
    drawer_status: str  # no_business_day | not_opened | open | counting | closed | unknown
    message: str = ""


ROLES = {"teller": N_("teller"), "supervisor": N_("supervisor"), "admin": N_("administrator"),
         "kiosk": N_("kiosk")}
DRAWER_STATUS = {"open": N_("open"), "closed": N_("closed"), "unknown": N_("not known"),
                 "not_opened": N_("not opened yet"), "counting": N_("being counted"),
                 "no_business_day": N_("business day not open")}


def day_summary(services: Services, actor: Actor) -> DaySummary:
    """Today's figures for this teller (runs in a worker thread).

    From ``services.drawers.status(actor)`` (state, business date, count; never the drawer's
    balance: the end-of-day count is blind); without the drawers feature, from the journal.
    """
    today = local_date(services.clock.now())
    drawers = getattr(services, "drawers", None)
    if drawers is not None:
        status = drawers.status(actor)
        return DaySummary(business_date=status.business_date or today, transactions=int(status.transactions),
                          drawer_status=str(status.state), message=str(getattr(status, "message", "") or ""))
    from sqlalchemy import func, select

    from teller_tui.models import JournalEntry

    with services.db.read() as session:
        count = session.execute(
            select(func.count()).select_from(JournalEntry).where(
                JournalEntry.actor_id == actor.staff_id, JournalEntry.business_date == today)
        ).scalar_one()
    return DaySummary(business_date=today, transactions=int(count), drawer_status="unknown")


class HomeScreen(DeskScreenMixin, TellerScreen[None]):
    BINDINGS = [
        Binding("f2", "find", N_("Find customer"), id="home.find"),
        Binding("f5", "cash_in", N_("Cash in"), id="home.cash_in"),
        Binding("f6", "cash_out", N_("Cash out"), id="home.cash_out"),
        Binding("f7", "transfer", N_("Transfer"), id="home.transfer"),
        Binding("f8", "reprint", N_("Reprint"), id="home.reprint"),
        Binding("j", "journal", N_("Journal"), id="home.journal"),
        Binding("f3", "app.switch_language", N_("Language"), id="home.language"),
        Binding("f4", "new_customer", N_("New customer"), id="home.new_customer"),
        Binding("f9", "onboarding_drafts", N_("Drafts"), id="home.onboarding_drafts"),
        Binding("f10", "drawer", N_("Drawer"), id="home.drawer"),
        Binding("ctrl+d", "open_dashboard", N_("Dashboard"), id="home.dashboard"),
        Binding("ctrl+k", "app.open_cases", N_("Cases"), id="home.cases", show=False),
        Binding("ctrl+g", "app.open_staff_admin", N_("Staff"), id="home.staff_admin", show=False),
        Binding("ctrl+y", "app.open_consent_policy", N_("Consent policy"), id="home.consent_policy", show=False),
    ]

    #: Actions only some roles have; the footer hides them from everyone else.
    ROLE_ACTIONS = {"open_dashboard": ("supervisor", "admin")}

    HELP = N_(
        "## Teller desk\n\n"
        "- **F2** find a customer (phone, ID, name, wallet number)\n"
        "- **F5 / F6 / F7** cash in, cash out, transfer: find the customer, then fill in the form\n"
        "- **F8** reprint a receipt by its reference; **j** search the journal (dates, amount, wallet, teller, "
        "reference) and reprint from the results\n"
        "- **F4** new customer (guided onboarding), **F9** onboarding drafts, **F10** cash drawer\n"
        "- **ctrl+k** case queue and kiosk help requests (the home screen says when some wait)\n"
        "- Supervisors: **ctrl+a** approval queue (the footer counts what waits), **ctrl+r** risk alerts "
        "(counted too), **ctrl+d** dashboard, **ctrl+y** the customer consent policy\n"
        "- Administrators: **ctrl+g** staff administration (add, roles, disable, authenticators, unlock)\n"
        "- **F3** language, **F11** lock, **F12** sign out, **ctrl+p** all commands\n"
        "- **Esc** always goes back one step"
    )

    class Summary(Message):
        def __init__(self, summary: DaySummary | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.summary = summary
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.summary: DaySummary | None = None
        self.waiting: tuple[int, int] = (0, 0)  # (help requests open, cases overdue)

    def compose(self) -> ComposeResult:
        with Vertical(id="home-body"):
            yield Static(Content(_("Teller desk")), id="home-title")
            yield Static(self._facts(), id="home-facts")
            yield Static(self._hint(), id="home-hint")
        yield KeyFooter()

    def _hint(self) -> Content:
        """Every area the teller can reach from here, one line per kind of work."""
        lines = [
            _("F2 find customer · F5 cash in · F6 cash out · F7 transfer · F8 reprint"),
            _("F4 new customer · F9 onboarding drafts · F10 cash drawer · J journal"),
            _("Ctrl+K case queue and kiosk help requests · Ctrl+P all commands"),
            _("F1 help · F3 language · F11 lock · F12 sign out"),
        ]
        session = getattr(self.app, "session", None)
        if session is not None and session.staff.role == "supervisor":
            lines.append(_("Ctrl+A approval queue · Ctrl+R risk alerts · Ctrl+D dashboard"))
        elif session is not None and session.staff.role == "admin":
            lines.append(_("Ctrl+R risk alerts · Ctrl+D dashboard · Ctrl+G staff"))
        return Content("\n".join(lines))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        roles = self.ROLE_ACTIONS.get(action)
        if roles is not None:
            session = getattr(self.app, "session", None)
            return session is not None and session.staff.role in roles
        return super().check_action(action, parameters)

    def on_mount(self) -> None:
        self.refresh_summary()
        self.set_interval(30, self.refresh_summary)  # kiosk help requests appear without a keypress

    def on_screen_resume(self) -> None:
        self.refresh_summary()

    def after_relabel(self) -> None:
        self.query_one("#home-facts", Static).update(self._facts())

    def _facts(self) -> Content:
        session = getattr(self.app, "session", None)
        actor = self.actor
        if session is not None:
            who = f"{session.staff.display_name} ({session.staff.username})"
            role = session.staff.role
        else:
            who = actor.username if actor is not None else "—"
            role = actor.role if actor is not None else ""
        summary = self.summary
        if summary is None:
            day, count, drawer = "…", "…", "…"
        else:
            day = format_date(summary.business_date)
            count = n_("{count} cash transaction", "{count} cash transactions", summary.transactions).format(
                count=summary.transactions)
            drawer = _(DRAWER_STATUS[summary.drawer_status]) if summary.drawer_status in DRAWER_STATUS \
                else clean(summary.drawer_status)
            if summary.drawer_status != "open" and summary.message:
                drawer += " · " + clean(summary.message)
        terminal = f"{actor.terminal_id} · {actor.branch_code}" if actor is not None else "—"
        facts = [
            (_("Signed in"), f"{who} · {_(ROLES[role])}" if role in ROLES else who),
            (_("Terminal"), terminal),
            (_("Business date"), day),
            (_("Drawer"), drawer),
            (_("Today"), count),
        ]
        helps, overdue = self.waiting
        if helps or overdue:  # said only when something waits: Ctrl+K opens the queue
            facts.append((_("Service"), _("{helps} help request(s) waiting · {overdue} case(s) overdue · "
                                          "Ctrl+K").format(helps=helps, overdue=overdue)))
        return facts_content(facts, emphasis=(_("Business date"), _("Service")))

    def refresh_summary(self) -> None:
        if self.actor is None or getattr(self.app, "services", None) is None:
            return
        self._load_summary()

    @work(thread=True, exclusive=True, exit_on_error=False, group="home-summary")
    def _load_summary(self) -> None:
        try:
            summary = day_summary(self.services, self.actor)
            self.waiting = (self.services.help_requests.open_count(self.actor),
                            len(self.services.cases.list_cases(self.actor, due=True)))
        except Exception as exc:
            self.post_message(self.Summary(None, exc))
            return
        self.post_message(self.Summary(summary))

    @on(Summary)
    def _summary(self, message: Summary) -> None:
        if message.error is not None:
            self.query_one("#home-hint", Static).update(Content(error_text(message.error)))
            return
        self.summary = message.summary
        self.query_one("#home-facts", Static).update(self._facts())

    # -- actions (the palette runs the same ones) -------------------------------------------
    def _lookup(self, purpose: str | None) -> None:
        from .lookup import LookupScreen

        self.app.push_screen(LookupScreen(purpose=purpose))

    def action_find(self) -> None:
        self._lookup(None)

    def action_cash_in(self) -> None:
        self._lookup("cash_in")

    def action_cash_out(self) -> None:
        self._lookup("cash_out")

    def action_transfer(self) -> None:
        self._lookup("transfer")

    def action_reprint(self) -> None:
        from .receipt import open_reprint

        open_reprint(self)

    def action_journal(self) -> None:
        from teller_tui.common.clock import local_date

        from .journal import JournalScreen

        self.app.push_screen(JournalScreen(local_date(self.services.clock.now())))  # the branch's date, not UTC's

    def action_new_customer(self) -> None:
        from .onboarding import open_onboarding

        open_onboarding(self.app)

    def action_open_dashboard(self) -> None:
        self.app.action_open_dashboard()  # type: ignore[attr-defined]

    def action_drawer(self) -> None:
        from .drawer import DrawerScreen

        self.app.push_screen(DrawerScreen())

    def action_onboarding_drafts(self) -> None:
        from .drafts import DraftsScreen

        self.app.push_screen(DraftsScreen())


# -- palette ---------------------------------------------------------------------------------
def _screen_under_palette(app: Any) -> Any:
    from textual.command import CommandPalette

    for screen in reversed(app.screen_stack):
        if not isinstance(screen, CommandPalette):
            return screen
    return None


def _offers(action: str) -> Any:
    def available(app: Any) -> bool:
        return hasattr(_screen_under_palette(app), f"action_{action}")

    return available


for _id, _title, _help in (
    ("find", N_("Find customer…"), N_("By phone, ID number, name or wallet number")),
    ("cash_in", N_("Cash in…"), N_("Take cash into a customer's wallet")),
    ("cash_out", N_("Cash out…"), N_("Pay cash out of a customer's wallet")),
    ("transfer", N_("Transfer…"), N_("Move money from one wallet to another")),
    ("reprint", N_("Reprint receipt…"), N_("Show and print a receipt again")),
    ("journal", N_("Journal search…"), N_("Entries by dates, amount, wallet, teller or reference; reprint")),
):
    register_command(PaletteCommand(id=f"desk.{_id}", title=_title, action=f"screen.{_id}", help=_help,
                                    available=_offers(_id)))
del _id, _title, _help
from . import onboarding as _onboarding_commands  # noqa: E402,F401  (registers its palette commands)
from . import drawer as _drawer_commands  # noqa: E402,F401  (registers the drawer palette command)
