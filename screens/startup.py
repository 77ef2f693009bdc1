"""Shown instead of a traceback when the database cannot be used at startup: one sentence, a reference."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.widgets import Static

from teller_tui.common.i18n import N_, _

from .base import TellerScreen
from .widgets import content
from .widgets.footer import KeyFooter

__all__ = ["StartupErrorScreen"]


class StartupErrorScreen(TellerScreen[None]):
    BINDINGS = [
        Binding("f5", "retry", N_("Try again"), id="startup_retry"),
        Binding("ctrl+q", "app.quit", N_("Quit"), id="startup_quit"),
    ]

    def __init__(self, message: str, *, upgrade_hint: bool = False) -> None:
        super().__init__()
        self.message = message
        self.upgrade_hint = upgrade_hint

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="startup-error-box", classes="auth-box"):
            yield Static(_("The teller workstation cannot start"), classes="auth-title error")
            yield Static(content(self.message, multiline=True), id="startup-error-message")
            # The upgrade hint only where it helps: a damaged or full disk is not fixed by a migration.
            hint = (_("Fix the problem (for a new or out-of-date database run `teller db upgrade`), "
                      "then press F5 to try again.") if self.upgrade_hint
                    else _("Fix the problem, then press F5 to try again. Details are in the log under "
                           "TELLER_HOME/logs."))
            yield Static(hint, classes="auth-subtitle")
        yield KeyFooter()

    def action_retry(self) -> None:
        app: Any = self.app
        self.dismiss()
        app.retry_startup()
