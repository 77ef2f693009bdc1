"""The self-service kiosk app: welcome -> PIN sign-in -> balance / history / transfer.

Lock-down (the kiosk must keep running whatever a customer presses):

* no inherited bindings (``inherit_bindings=False``: Textual's ctrl+q quit and ctrl+c
  help-quit are gone), no command palette (``ENABLE_COMMAND_PALETTE = False``, no providers);
* ctrl+c, ctrl+q, ctrl+z, ctrl+\\, ctrl+p (and a few more) are caught by one priority binding
  that does nothing, before any widget sees them;
* :meth:`KioskApp.check_action` lets only :data:`SAFE_APP_ACTIONS` run on the app, and every
  kiosk screen refuses screen actions it does not name (``KIOSK_ACTIONS``) — so quit, suspend,
  screenshot, theme changes, help/devtools panels, ``@click`` actions in text, key simulation and
  screen pushes/pops are refused whatever their source; the dangerous actions are also
  overridden to do nothing (defence in depth);
* in a real terminal SIGINT/SIGTSTP/SIGQUIT are ignored (Textual keeps the tty in raw mode, so
  ^C ^Z ^\\ arrive as keys anyway; Textual's own SIGTSTP handler is replaced once it is running);
* after ``settings.kiosk_idle_seconds`` without input the customer's session ends in the core and
  every screen above the welcome screen is closed (their data with them).
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from teller_tui.auth.session import IdleTracker
from teller_tui.common.clock import Clock, SystemClock
from teller_tui.common.errorlog import record_error, setup_error_log
from teller_tui.common.errors import DomainError
from teller_tui.db.faults import storage_fault
from teller_tui.common.i18n import _, set_locale

from .. import freeze_core, resume_collection
from ..keyroute import OrderedKeys
from ..refusal_text import refusal_text
from .welcome import WelcomeScreen

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.kiosk.views import KioskSession
    from teller_tui.services import Services
    from teller_tui.common.settings import Settings

log = logging.getLogger("teller.kiosk")

#: Longest the startup worker waits for the usable welcome frame before loading the core (as screens.app).
USABLE_FRAME_WAIT = 2.0

__all__ = ["BLOCKED_KEYS", "SAFE_APP_ACTIONS", "KioskApp", "make_kiosk_app"]

#: Keys swallowed before any widget: quit, copy/interrupt, suspend, quit-signal, palette, and friends.
BLOCKED_KEYS = ("ctrl+c", "ctrl+q", "ctrl+z", "ctrl+backslash", "ctrl+p", "ctrl+s", "ctrl+d",
                "ctrl+t", "ctrl+o", "ctrl+y", "ctrl+x", "ctrl+v", "ctrl+l", "super+c", "super+q")
#: The only actions that may run on the app itself.
SAFE_APP_ACTIONS = frozenset({"ignore_key", "focus_next", "focus_previous", "start", "start_over", "bell"})

KIOSK_THEME = Theme(
    name="kiosk-contrast",
    primary="#FFD400",
    secondary="#00C8FF",
    accent="#00FFFF",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#202020",
    success="#5CFF5C",
    warning="#FFD400",
    error="#FF6B6B",
    dark=True,
)


class KioskApp(OrderedKeys, App[int], inherit_bindings=False):
    CSS_PATH = Path(__file__).resolve().parent / "kiosk.tcss"
    TITLE = "Kiosk"
    ENABLE_COMMAND_PALETTE = False
    COMMANDS: ClassVar[set[Any]] = set()
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(",".join(BLOCKED_KEYS), "ignore_key", show=False, priority=True, system=True, id="kiosk.blocked"),
    ]

    class Ready(Message):
        def __init__(self, services: Services, actor: Actor) -> None:
            super().__init__()
            self.services = services
            self.actor = actor

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class DatabaseReady(Message):
        """The database is open and checked: the welcome screen can be used while the core loads."""

    def __init__(self, settings: Settings, *, services: Services | None = None, clock: Clock | None = None) -> None:
        super().__init__()
        self.settings = settings
        self._given_services = services
        self.services: Services | None = None
        self.actor: Actor | None = None
        self.session: KioskSession | None = None
        self.clock: Clock = clock or (services.clock if services is not None else SystemClock())
        self.idle = IdleTracker(self.clock, settings.kiosk_idle_seconds)
        self.refused: list[str] = []  # actions refused (for the log and the tests)
        #: The database is open and checked: the welcome screen's buttons work (the core may be loading).
        self.database_ready = False
        self._chosen: str | None = None  # a language chosen before the core was ready
        self._usable_painted = threading.Event()  # the usable welcome frame is out: the core may load
        # The theme from the start, not from on_mount: a theme set once the screen is mounted parses and
        # applies every stylesheet again before the welcome screen's first frame.
        self.register_theme(KIOSK_THEME)
        self.theme = KIOSK_THEME.name

    # -- startup -------------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        return WelcomeScreen()

    def on_mount(self) -> None:
        self.ignore_signals()
        self.set_interval(1.0, self.check_customer_idle, name="kiosk-idle")
        # After the first frame, as the teller app does: the worker's imports (SQLAlchemy, the
        # models, the services) would otherwise hold the GIL while the welcome screen is painted.
        self.call_after_refresh(resume_collection)
        self.call_after_refresh(self.open_services)

    def ignore_signals(self) -> None:
        """SIG_IGN for SIGINT/SIGTSTP/SIGQUIT in a real terminal (the driver installs its own SIGTSTP)."""
        if self.is_headless or self.is_web or threading.current_thread() is not threading.main_thread():
            return
        for name in ("SIGINT", "SIGTSTP", "SIGQUIT"):
            sig = getattr(signal, name, None)
            if sig is not None:
                signal.signal(sig, signal.SIG_IGN)

    @work(thread=True, exclusive=True, exit_on_error=False, group="startup")
    def open_services(self) -> None:
        """The teller app's progressive start: the database first (SQLAlchemy Core; the language
        buttons work from then on), then the core on the same engines. A language chosen before the
        core is ready goes ahead when it is (:meth:`action_start`)."""
        engines: Any = None
        try:
            services = self._given_services
            if services is None:
                from teller_tui.db.engines import make_engines, open_checked  # SQLAlchemy Core, no ORM

                target = self.settings.database_target
                target.ensure_home()
                engines = open_checked(make_engines(target.url, synchronous=target.sqlite_synchronous,
                                                    allow_network_fs=target.allow_network_filesystem))
                self.post_message(self.DatabaseReady())
                self._usable_painted.wait(USABLE_FRAME_WAIT)  # the core's imports after the usable frame

                from teller_tui.db.engine import Database
                from teller_tui.services import make_services

                services = make_services(self.settings, clock=self.clock, database=Database.adopt(engines))
                freeze_core()
            actor = services.kiosk.ensure_identity(self.settings.terminal_id)
        except Exception as exc:  # noqa: BLE001 - shown on the welcome screen, details in the log
            if engines is not None:
                engines.dispose()
            setup_error_log(self.settings.home)
            ref = record_error(exc, "kiosk startup")
            fault = storage_fault(exc) if not isinstance(exc, DomainError) else None
            text = refusal_text(exc) if isinstance(exc, DomainError) else str(fault) if fault else type(exc).__name__
            self.post_message(self.Failed(_("Out of service ({error}). Reference {ref}.").format(error=text, ref=ref)))
            return
        self.post_message(self.Ready(services, actor))

    def on_kiosk_app_database_ready(self, _message: DatabaseReady) -> None:
        self.database_ready = True
        self._sync_welcome()
        self.call_after_refresh(self._usable_painted.set)

    def on_kiosk_app_ready(self, message: Ready) -> None:
        self.services = message.services
        self.actor = message.actor
        self.database_ready = True
        self._sync_welcome()
        chosen, self._chosen = self._chosen, None
        if chosen is not None:
            self.action_start(chosen)  # chosen while the core was still loading
        self.settle_journal()

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-journal")
    def settle_journal(self) -> None:
        """Transfers left in the kiosk's journal by a crash or a restart: their customers are gone, so
        the outcome goes to staff — the audit trail (``kiosk_transfer_interrupted``, subject the wallet)
        and one line in ``$TELLER_HOME/logs/teller.log`` — never to the next customer's screen."""
        from teller_tui.kiosk.inflight import outcome_when_answered
        from textual.worker import get_current_worker

        services, actor, worker, pause = self.services, self.actor, get_current_worker(), threading.Event()
        if services is None or actor is None:
            return
        pending = services.kiosk_inflight.pending(actor)
        if not pending:
            return
        setup_error_log(self.settings.home)

        def wait() -> None:
            if services.db.wait_available(timeout=5):
                pause.wait(1.0)

        for sub in pending:
            outcome = outcome_when_answered(services.kiosk_inflight, actor, sub, wait=wait,
                                            cancelled=lambda: worker.is_cancelled)
            if outcome is None:
                return
            try:
                services.kiosk_inflight.settle(actor, outcome)
            except DomainError as exc:  # kept in the journal: settled at the next start
                log.warning("kiosk transfer %s interrupted by a restart: %s; not settled (%s)", sub.key,
                            "posted " + (outcome.reference or "") if outcome.posted else "not posted", exc.code)
                continue
            log.warning("kiosk transfer %s of %s from wallet %s interrupted by a restart: %s", sub.key, sub.amount,
                        sub.wallet, f"posted {outcome.reference}" if outcome.posted else "not posted")

    def on_kiosk_app_failed(self, message: Failed) -> None:
        self.database_ready = False  # out of service: the buttons stay off
        self._chosen = None
        self._sync_welcome(message.text)

    def _sync_welcome(self, problem: str | None = None) -> None:
        base = self.screen_stack[0] if self.screen_stack else None
        if isinstance(base, WelcomeScreen):
            base.sync_ready(problem)

    @property
    def ready(self) -> bool:
        return self.services is not None and self.actor is not None

    @property
    def usable(self) -> bool:
        """The welcome screen's buttons work: the database is open (the core may still be loading)."""
        return self.ready or self.database_ready

    @property
    def waiting_for_core(self) -> bool:
        """A language was chosen before the core was ready."""
        return self._chosen is not None

    # -- lock-down -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in SAFE_APP_ACTIONS:
            return True
        self.refused.append(action)
        log.info("kiosk refused action %s", action)
        return False

    def action_ignore_key(self) -> None:
        """A blocked key: nothing happens."""

    # Defence in depth: even a direct call does nothing.
    async def action_quit(self) -> None:
        self.refused.append("quit")

    def action_help_quit(self) -> None:
        self.refused.append("help_quit")

    def action_suspend_process(self) -> None:
        self.refused.append("suspend_process")

    def action_command_palette(self) -> None:
        self.refused.append("command_palette")

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        self.refused.append("screenshot")

    def action_change_theme(self) -> None:
        self.refused.append("change_theme")

    def action_toggle_dark(self) -> None:
        self.refused.append("toggle_dark")

    def action_show_help_panel(self) -> None:
        self.refused.append("show_help_panel")

    def watch_theme(self, theme: str) -> None:
        if theme != KIOSK_THEME.name and KIOSK_THEME.name in self.available_themes:
            self.call_later(setattr, self, "theme", KIOSK_THEME.name)

    # -- errors -----------------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.report_worker_error(event.worker)

    def report_worker_error(self, worker: Worker[Any]) -> None:
        error = worker.error
        if isinstance(error, DomainError):
            self.notify(refusal_text(error), severity="error", markup=False, timeout=8)
            return
        ref = record_error(error or RuntimeError(worker.name), f"kiosk worker {worker.name}")
        self.notify(_("Something went wrong; nothing more was done. Reference {ref}.").format(ref=ref),
                    severity="error", markup=False, timeout=10)

    # -- idle --------------------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp):
            self.idle.touch()
        await super().on_event(event)

    def check_customer_idle(self) -> None:
        """Every second, with a customer (or mid-way): idle for ``kiosk_idle_seconds`` -> the warning
        with its countdown (screens/kiosk/idle.py); idle through the countdown -> back to welcome."""
        from .idle import WARNING_SECONDS, IdleWarning
        from .transfer import KioskCheckingScreen

        if any(isinstance(s, KioskCheckingScreen) for s in self.screen_stack):
            self.idle.touch()  # a transfer's outcome is being looked up: it is shown before anything else
            return
        warning = next((s for s in self.screen_stack if isinstance(s, IdleWarning)), None)
        if not self.idle.expired() or (self.session is None and len(self.screen_stack) <= 1):
            if warning is not None and warning is self.screen:  # input came: the session goes on
                warning.dismiss(None)
            return
        over = self.idle.idle_for().total_seconds() - self.idle.timeout.total_seconds()
        left = int(WARNING_SECONDS - over)
        if left <= 0:
            self.reset_to_welcome()
        elif warning is None:
            self.push_screen(IdleWarning(left))
        else:
            warning.count(left)

    # -- flow --------------------------------------------------------------------------------------
    def action_start(self, locale: str) -> None:
        """Welcome -> sign-in in the chosen language."""
        if len(self.screen_stack) > 1 or not (self.ready or self.database_ready):
            return
        if not self.ready:
            self._chosen = locale  # the core is still loading: go on when it is ready
            self._sync_welcome()
            return
        set_locale("zh_CN" if locale.startswith("zh") else "en")
        self.idle.touch()
        from .signin import KioskSignInScreen

        self.push_screen(KioskSignInScreen())

    def start_customer(self, session: KioskSession) -> None:
        """After a correct PIN: the customer's home screen replaces the sign-in screen."""
        from .home import KioskHomeScreen

        self.session = session
        self.idle.touch()
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(KioskHomeScreen())

    def action_start_over(self) -> None:
        self.reset_to_welcome()

    def reset_to_welcome(self) -> None:
        """End the customer's session in the core and close every screen holding their data."""
        session, self.session = self.session, None
        if session is not None and self.services is not None and self.actor is not None:
            try:
                self.services.kiosk.sign_out(self.actor, session)
            except DomainError:  # pragma: no cover - sign_out is idempotent
                pass
        self.clear_notifications()
        while len(self.screen_stack) > 1:
            self.pop_screen()
        set_locale(self.settings.locale)
        base = self.screen_stack[0]
        if isinstance(base, WelcomeScreen):
            base.reset()
        self.idle.touch()


def make_kiosk_app(settings: Settings, *, services: Services | None = None, clock: Clock | None = None) -> KioskApp:
    set_locale(settings.locale)
    return KioskApp(settings, services=services, clock=clock)
