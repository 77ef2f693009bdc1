"""The lock screen: covers the work in progress until someone signs in.

The same person signing in (password + a fresh code) gets their screens back as they were;
another person gets a fresh session (the app decides, from the result).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Static

from teller_tui.common.errors import AuthenticationFailed
from teller_tui.common.i18n import N_, _

from .base import TellerModal
from .signin import KEY_HOLD, SignInForm
from .widgets import literal
from .widgets.footer import KeyFooter
from .refusal_text import refusal_text

if TYPE_CHECKING:
    from teller_tui.auth.service import SignedIn

__all__ = ["LockScreen"]


class LockScreen(TellerModal["tuple[SignedIn, str] | None"]):
    """Dismisses with (signed-in, password) of whoever signed in."""

    HELP = N_("The screen is locked. Sign in again to continue your work. If somebody else signs in, "
              "the previous session ends.")
    BINDINGS = [
        Binding("f2", "app.switch_language", N_("中文/English"), id="lock_language"),
        Binding("escape", "ignore", show=False, id="lock_escape"),
    ]

    class Unlocked(Message):
        def __init__(self, signed: SignedIn, password: str) -> None:
            super().__init__()
            self.signed = signed
            self.password = password

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, session: SignedIn) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="lock-box", classes="auth-box"):
            yield Static(_("Locked"), classes="auth-title")
            who = literal(self.session.staff.display_name)
            yield Static(_("Signed in at this terminal:"), classes="auth-subtitle")
            yield Static(who, id="lock-who")
            yield Static(_("Sign in to continue. Another person signing in starts a new session."),
                         classes="auth-subtitle")
            yield SignInForm(username=self.session.staff.username, submit_label=_("Unlock"), id="lock-form")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#password", Input).focus()

    def action_ignore(self) -> None:
        """Escape does nothing here: the lock stays until someone signs in."""

    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        username, password, code = self.query_one(SignInForm).values()
        if not username.strip() or not password:
            self.query_one(SignInForm).show_status(_("Enter your user name and password."))
            return
        self.query_one("#submit", Button).disabled = True
        app: Any = self.app
        app.hold_keys(KEY_HOLD)  # keys typed behind the unlock wait for the desk (screens.keyroute)
        self.authenticate(username, password, code)

    @work(thread=True, exclusive=True, exit_on_error=False, group="unlock")
    def authenticate(self, username: str, password: str, code: str) -> None:
        from teller_tui.auth.service import normalize_username

        app: Any = self.app
        same = normalize_username(username) == self.session.staff.username
        try:
            signed = app.services.auth.authenticate(username, password, code, app.settings.terminal_id,
                                                    purpose="unlock_screen" if same else "sign_in")
        except AuthenticationFailed as exc:
            self.post_message(self.Failed(refusal_text(exc)))
            return
        except Exception:
            self.post_message(self.Failed(""))
            raise
        self.post_message(self.Unlocked(signed, password))

    def on_lock_screen_failed(self, message: Failed) -> None:
        self.query_one(SignInForm).show_failure(message.text)
        app: Any = self.app
        app.call_later(app.release_keys, KEY_HOLD)

    def on_lock_screen_unlocked(self, message: Unlocked) -> None:
        app: Any = self.app
        self.dismiss((message.signed, message.password))
        app.call_later(app.release_keys, KEY_HOLD)
