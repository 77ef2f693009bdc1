"""Onboarding drafts of this branch: resume one (Enter) or discard it (Delete).

Opening the list purges expired drafts first (``services.onboarding.purge_expired``), in a
thread worker like every other database call here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from teller_tui.common.i18n import N_, _

from .base import TellerScreen
from .widgets.desk import DeskScreenMixin
from .widgets.safe import literal
from .widgets.footer import KeyFooter

if TYPE_CHECKING:
    from teller_tui.wallets.onboarding import DraftInfo, DraftState

__all__ = ["DraftsScreen"]


class DraftsScreen(DeskScreenMixin, TellerScreen[None]):
    CSS_PATH = Path(__file__).resolve().parent / "onboarding.tcss"
    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="drafts.back"),
        Binding("enter", "resume", N_("Resume"), id="drafts.resume", priority=True),
        Binding("delete", "discard", N_("Discard"), id="drafts.discard"),
    ]
    HELP = N_("Interrupted onboardings of this branch. Enter resumes one (the customer types the PIN again); "
              "Delete discards it. Drafts expire on their own.")

    class Loaded(Message):
        def __init__(self, drafts: list[DraftInfo] | None, error: BaseException | None, purged: int = 0) -> None:
            super().__init__()
            self.drafts, self.error, self.purged = drafts, error, purged

    class Opened(Message):
        def __init__(self, state: DraftState | None, error: BaseException | None) -> None:
            super().__init__()
            self.state, self.error = state, error

    def __init__(self) -> None:
        super().__init__()
        self.drafts: list[DraftInfo] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="drafts-body"):
            yield Static(Content(_("Onboarding drafts")), id="drafts-title")
            yield Static(Content(_("Loading…")), id="drafts-status")
            table: DataTable[Any] = DataTable(id="drafts-table", cursor_type="row")
            yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#drafts-table", DataTable)
        table.add_columns(_("Customer"), _("Step"), _("Last saved by"), _("Saved at"), _("Expires"))
        self.load(purge=True)

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="drafts")
    def load(self, purge: bool = False) -> None:
        try:
            svc = self.services.onboarding
            purged = svc.purge_expired(self.actor) if purge else 0
            self.post_message(self.Loaded(svc.list_drafts(self.actor), None, purged))
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.Loaded(None, exc))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        from teller_tui.wallets.onboarding import STEP_TITLES

        status = self.query_one("#drafts-status", Static)
        if message.error is not None:
            self.show_error(message.error)
            return
        self.drafts = message.drafts or []
        table = self.query_one("#drafts-table", DataTable)
        table.clear()
        for d in self.drafts:
            table.add_row(literal(d.label or "—"), literal(_(STEP_TITLES.get(d.step, d.step))),
                          literal(d.updated_by), literal(_short(d.updated_at)),
                          literal(_short(d.expires_at)), key=str(d.draft_id))
        text = _("{n} drafts").format(n=len(self.drafts)) if self.drafts else _("No drafts in this branch.")
        if message.purged:
            text += " " + _("({n} expired drafts removed)").format(n=message.purged)
        status.update(Content(text))
        table.focus()

    def _selected(self) -> DraftInfo | None:
        table = self.query_one("#drafts-table", DataTable)
        if not self.drafts or table.cursor_row is None or table.cursor_row >= len(self.drafts):
            return None
        return self.drafts[table.cursor_row]

    def action_resume(self) -> None:
        draft = self._selected()
        if draft is not None:
            self._open(draft.draft_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="drafts-open")
    def _open(self, draft_id: int) -> None:
        try:
            self.post_message(self.Opened(self.services.onboarding.load_draft(self.actor, draft_id), None))
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.Opened(None, exc))

    @on(Opened)
    def _opened(self, message: Opened) -> None:
        if message.error is not None or message.state is None:
            self.show_error(message.error or RuntimeError())
            self.load()
            return
        from .onboarding import OnboardingScreen

        self.app.push_screen(OnboardingScreen(draft=message.state))

    def action_discard(self) -> None:
        draft = self._selected()
        if draft is None:
            return
        from .confirm import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self._discard(draft.draft_id)

        self.app.push_screen(ConfirmScreen(_("Discard this draft?"), [(_("Customer"), draft.label or "—")],
                                           danger=True, confirm_label=_("Discard")), answer)

    @work(thread=True, exit_on_error=False, group="drafts-discard")
    def _discard(self, draft_id: int) -> None:
        try:
            self.services.onboarding.discard_draft(self.actor, draft_id)
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.Loaded(None, exc))
            return
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)


def _short(when: Any) -> str:
    """Month-day and minute in branch time (``11-23 09:30``): the table fits 80 columns."""
    from teller_tui.common.clock import BRANCH_TZ

    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return f"{when.astimezone(BRANCH_TZ):%m-%d %H:%M}"
