"""The sign-in screen: user name, password, authenticator code. The base of the screen stack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from teller_tui.common.errors import AuthenticationFailed, DatabaseUnavailable
from teller_tui.common.i18n import N_, _, get_locale

from .base import TellerScreen
from .refusal_text import refusal_text
from .widgets import CodeInput, content
from .widgets.footer import KeyFooter
from .widgets.submit import SubmitButton

if TYPE_CHECKING:
    from teller_tui.auth.service import SignedIn

__all__ = ["KEY_HOLD", "SignInForm", "SignInScreen"]

#: The reason keys are held while a sign-in is checked (``screens.keyroute.OrderedKeys.hold_keys``).
KEY_HOLD = "sign-in"


class SignInForm(Vertical):
    """User name, password and code fields with a submit button (used by sign-in and lock screens)."""

    def __init__(self, *, username: str = "", submit_label: str = "", ready: bool = True,
                 **kwargs: Any) -> None:
        """``ready`` False: the status and the button start as "opening the database" (the sign-in's
        first frame, painted before the database is open, is then final: no second style pass)."""
        super().__init__(**kwargs)
        self._username = username
        self._submit_label = submit_label
        self._ready = ready

    def compose(self) -> ComposeResult:
        # First: a refusal is never below the fold.
        yield Static("" if self._ready else _("Opening the database…"), id="status", classes="status")
        yield Label(_("User name"), classes="field-label")
        yield Input(value=self._username, id="username", max_length=64)
        yield Label(_("Password"), classes="field-label")
        yield Input(password=True, id="password", max_length=256)
        yield Label(_("Authenticator code (6 digits; leave empty on your first sign-in)"), classes="field-label")
        yield CodeInput(id="code")
        yield SubmitButton(self._submit_label or _("Sign in"), id="submit", variant="primary", disabled=not self._ready)

    @on(Input.Submitted, "#username")
    def _to_password(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    def _to_code(self) -> None:
        self.query_one("#code", Input).focus()

    def values(self) -> tuple[str, str, str]:
        return (self.query_one("#username", Input).value, self.query_one("#password", Input).value,
                self.query_one("#code", Input).value)

    def show_status(self, text: str, *, error: bool = True) -> None:
        status = self.query_one("#status", Static)
        status.update(content(text))
        status.set_class(error, "error")

    def clear_secrets(self) -> None:
        self.query_one("#password", Input).value = ""
        self.query_one("#code", Input).value = ""

    def show_failure(self, text: str) -> None:
        """A refused attempt: keep the user name, clear the secrets, let them try again."""
        self.clear_secrets()
        self.show_status(text)
        self.query_one("#submit", Button).disabled = False
        self.query_one("#password", Input).focus()


class SignInScreen(TellerScreen[None]):
    HELP = N_("Type your user name, password and the 6-digit code from your authenticator app. "
              "F2 switches the language.")
    BINDINGS = [
        Binding("f2", "app.switch_language", N_("中文/English"), id="language"),
        Binding("f4", "app.enter_training", N_("Training desk"), id="sign_in.training"),
        Binding("ctrl+j", "submit", N_("Sign in"), id="sign_in_submit", show=False),
    ]

    class Succeeded(Message):
        def __init__(self, signed: SignedIn, password: str) -> None:
            super().__init__()
            self.signed = signed
            self.password = password

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def compose(self) -> ComposeResult:
        # The screen centres the box (app.tcss: align center middle): no Center container, one widget less to style.
        with Vertical(id="signin-box", classes="auth-box"):
            yield Static(_("Teller workstation"), id="signin-title", classes="auth-title")
            yield Static(self._where(), id="signin-where", classes="auth-subtitle")
            app: Any = self.app
            yield SignInForm(id="signin-form", ready=bool(getattr(app, "database_ready", False)
                                                          or getattr(app, "services_ready", False)))
        yield KeyFooter()

    def _where(self) -> str:
        settings = getattr(self.app, "settings", None)
        language = "中文" if get_locale() == "zh_CN" else "English"
        if settings is None:
            return language
        return _("Branch {branch} · terminal {terminal} · {language}").format(
            branch=settings.branch_code, terminal=settings.terminal_id, language=language)

    def settings_changed(self) -> None:
        """The app's settings replaced the preview shown at startup: show the branch and terminal again."""
        if self.is_mounted:
            self.query_one("#signin-where", Static).update(content(self._where()))

    def on_mount(self) -> None:
        self.sync_ready()
        self.query_one("#username", Input).focus()
        self._refresh_queue()

    def on_screen_resume(self) -> None:
        self.sync_ready()
        self._refresh_queue()

    def _refresh_queue(self) -> None:
        """The offline queue's figures as they are now (cash still pending is in this terminal's drawer)."""
        refresh = getattr(self.app, "refresh_offline_summary", None)
        if refresh is not None and getattr(self.app, "services", None) is not None:
            refresh()

    def sync_ready(self) -> None:
        """Enable signing in once the database is open (the app calls this when it is, and again when
        the core is ready); a sign-in submitted before the core was ready goes ahead then."""
        if not self.is_mounted:
            return  # on_mount calls this again
        app: Any = self.app
        core = bool(getattr(app, "services_ready", False))
        usable = core or bool(getattr(app, "database_ready", False))
        queued = getattr(self, "_submit_when_ready", False)
        self.query_one("#submit", Button).disabled = not usable or queued
        form = self.query_one(SignInForm)
        if not usable:
            form.show_status(_("Opening the database…"), error=False)
            self._waiting = True
        elif queued and not core:
            form.show_status(_("Loading…"), error=False)  # submitted ahead of the core: it goes on by itself
            self._waiting = True
        elif getattr(self, "_waiting", False):
            form.show_status("", error=False)
            self._waiting = False
        if core and queued:
            self._submit_when_ready = False
            if getattr(app, "first_run", False) or app.screen is not self:
                self.query_one("#submit", Button).disabled = False
                self._release_keys()  # no staff yet: the first administrator's screen has the keys
            else:
                self.action_submit()  # Enter was pressed while the database or the core was still loading

    async def relabel(self) -> None:
        self._waiting = False
        await super().relabel()
        self.sync_ready()

    def reset(self) -> None:
        """Empty the form for the next person."""
        form = self.query_one(SignInForm)
        self.query_one("#username", Input).value = ""
        form.clear_secrets()
        form.show_status("", error=False)
        self.query_one("#username", Input).focus()

    # -- submit ----------------------------------------------------------------------------------------
    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        if not getattr(self.app, "services_ready", False):
            if not getattr(self, "_submit_when_ready", False):
                self._submit_when_ready = True  # typed ahead of startup: sign in as soon as it is ready
                self._hold_keys()
                self.sync_ready()
            return
        username, password, code = self.query_one(SignInForm).values()
        if not username.strip() or not password:
            self.query_one(SignInForm).show_status(_("Enter your user name and password."))
            return
        self.query_one("#submit", Button).disabled = True
        self.query_one(SignInForm).show_status(_("Checking…"), error=False)
        self._hold_keys()
        self.authenticate(username, password, code)

    def _hold_keys(self) -> None:
        """Keys typed behind the submit wait for the screen the sign-in leads to (``screens.keyroute``)."""
        hold = getattr(self.app, "hold_keys", None)
        if hold is not None:
            hold(KEY_HOLD)

    def _release_keys(self) -> None:
        release = getattr(self.app, "release_keys", None)
        if release is not None:
            self.app.call_later(release, KEY_HOLD)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sign-in")
    def authenticate(self, username: str, password: str, code: str) -> None:
        app: Any = self.app
        try:
            signed = app.services.auth.authenticate(username, password, code, app.settings.terminal_id)
        except AuthenticationFailed as exc:
            self.post_message(self.Failed(refusal_text(exc)))
            return
        except DatabaseUnavailable:
            # A new sign-in needs the database (passwords, lockouts and one-time codes live there);
            # a teller already signed in elsewhere keeps taking cash-ins offline (screens/offline.py).
            self.post_message(self.Failed(_("Signing in needs the database, which cannot be reached now. Tellers "
                                            "already signed in can still take cash-ins offline.")))
            raise
        except Exception:
            self.post_message(self.Failed(""))
            raise
        self.post_message(self.Succeeded(signed, password))

    def on_sign_in_screen_failed(self, message: Failed) -> None:
        self.query_one(SignInForm).show_failure(message.text)
        self._release_keys()  # the keys typed behind go to the sign-in form again

    def on_sign_in_screen_succeeded(self, message: Succeeded) -> None:
        self.query_one("#submit", Button).disabled = False
        self.reset()
        app: Any = self.app
        app.start_session(message.signed, message.password)
        self._release_keys()  # after the next screen is up (start_session pushes it on the app's loop)
