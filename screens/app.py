"""The Textual application shell: startup, sessions, idle lock, keys, palette, worker errors.

``make_app(settings)`` builds a :class:`TellerApp`. Startup paints the sign-in screen first,
then opens the database in a thread worker started after that first frame (SQLAlchemy is
imported there, not here); the sign-in button is enabled once the services are ready, and a
clear screen names the fix when the database cannot be used. ``teller run`` calls
``make_app(overrides=...)`` without settings: the worker loads them too (pydantic-settings
is not imported before the first frame), and until then the sign-in screen shows the
branch, terminal and language from :func:`teller_tui.common.settings_preview.preview_settings`.

Session life cycle::

    sign-in ─▶ [change one-time password] ─▶ [enrol authenticator] ─▶ show_home()
       ▲                                                                 │
       └──────── F12 sign out ◀──────────── F11 / idle: LockScreen ◀─────┘

The same person unlocking gets the stack back as it was; another person signing in at a
locked terminal starts afresh on their own home screen.

Approvals: :meth:`TellerApp.request_approval` is the one approval flow of every screen. A core
call that raises :class:`~teller_tui.common.errors.ApprovalRequired` hands the error and a
``retry(approval_id)`` here; the app opens :class:`~screens.approval.ApprovalScreen` (a supervisor
present approves at the counter, or the request goes to the branch queue) and, once approved,
calls ``retry`` with the approval id (``None`` when the approval itself already posted held funds:
the retry then finds that entry by its idempotency key). For a person who may approve, the app
polls the branch queue (:meth:`poll_approvals`): the footer of every screen shows how many
requests wait (ctrl+a opens the queue) and a notice announces each new request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.command import CommandPalette
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from teller_tui.auth.session import STAFF_REFUSAL_CODES, IdleTracker
from teller_tui.common.clock import Clock, SystemClock
from teller_tui.common.errorlog import record_error, setup_error_log
from teller_tui.common.errors import (ApprovalRequired, DatabaseUnavailable, DomainError, SchemaOutOfDate,
                                      StorageError)
from teller_tui.common.i18n import N_, _, get_locale, set_locale
from teller_tui.common.settings_preview import (DEFAULT_IDLE_LOCK_SECONDS, DatabaseTarget, SettingsPreview,
                                                preview_database, preview_settings)
from teller_tui.db.faults import storage_fault

from . import freeze_core, resume_collection
from .base import LanguageChanged, note_refusal
from .commands import TellerCommandPalette, TellerCommands
from .keyroute import OrderedKeys
from .offline_desk import OfflineDeskMixin
from .refusal_text import refusal_text
from .signin import KEY_HOLD, SignInScreen

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.auth.service import SignedIn
    from teller_tui.desk.inflight_service import SubmissionOutcome
    from teller_tui.services import Services
    from teller_tui.common.settings import Settings
    from teller_tui.db.engines import Engines

    from .training import TrainingDesk

log = logging.getLogger("teller.ui")
#: How often every running app expires overdue approval requests and releases their holds.
HOLD_SWEEP_SECONDS = 30.0

#: Longest the startup worker waits for the usable sign-in's frame before loading the core (seconds).
USABLE_FRAME_WAIT = 2.0

#: How often the app asks whether the signed-in person may still act (disabled, locked, demoted).
SESSION_CHECK_SECONDS = 5.0

__all__ = ["HomeScreenMissing", "TellerApp", "make_app"]


class HomeScreenMissing(RuntimeError):
    """``screens/home.py`` (the teller home screen) is not installed."""


class TellerApp(OfflineDeskMixin, OrderedKeys, App[int]):
    CSS_PATH = Path(__file__).resolve().parent / "app.tcss"  # absolute: subclasses live elsewhere
    TITLE = "Teller"
    COMMANDS = App.COMMANDS | {TellerCommands}
    BINDINGS = [
        Binding("f1", "app.help", N_("Help"), id="keys"),
        Binding("ctrl+p", "app.command_palette", N_("Commands"), id="palette", show=False, priority=True),
        # Replaces Textual's bare ctrl+q quit: the program closes only from the sign-in screen.
        Binding("ctrl+q", "app.quit", N_("Close the program"), id="quit", show=False, priority=True),
        # Priority: F11 locks over a dialog too (a modal cuts the app's other bindings off), as the idle lock does.
        Binding("f11", "app.lock", N_("Lock"), id="lock", priority=True),
        Binding("f12", "app.sign_out", N_("Sign out"), id="sign_out"),
        # Priority: the footer shows the pending count even while a field has focus.
        Binding("ctrl+a", "app.open_approvals", N_("Approvals"), id="approvals", priority=True),
        Binding("ctrl+r", "app.open_alerts", N_("Risk alerts"), id="risk_alerts", priority=True),
        # On every desk screen: Esc then Ctrl+K typed fast reaches Textual as Ctrl+K alone (keyroute).
        Binding("ctrl+k", "app.open_cases", N_("Cases"), id="cases", show=False, priority=True),
        # Training mode only (check_action): the simulated customer's script, finish and score.
        Binding("ctrl+t", "app.training_panel", N_("Scenario"), id="training.panel", priority=True),
        # The offline counter (screens/offline_desk.py): while the database is unreachable; supervisors.
        Binding("ctrl+o", "app.offline_cash_in", N_("Offline cash-in"), id="offline.cash_in", priority=True),
        Binding("ctrl+e", "app.offline_exceptions", N_("Offline exceptions"), id="offline.exceptions",
                priority=True, show=False),
    ]
    #: How often a person who may approve polls the branch queue (seconds).
    APPROVALS_POLL_SECONDS = 2.0
    #: How often a supervisor's terminal counts the branch's open risk alerts (seconds).
    ALERTS_POLL_SECONDS = 3.0

    #: The person signed in at this terminal (complete: password changed, authenticator active).
    session: reactive[SignedIn | None] = reactive(None, bindings=True)
    #: True while the lock screen covers the session.
    locked: reactive[bool] = reactive(False, bindings=True)
    #: True once the database is open and checked (the sign-in can be used; the core may still be loading).
    database_ready: reactive[bool] = reactive(False)
    #: True once the services are built (the core is loaded).
    services_ready: reactive[bool] = reactive(False)
    #: Refusal codes the knowledge base explains (a refusal with one offers "F1: what to tell the customer").
    kb_refusal_codes: frozenset[str] = frozenset()
    #: Requests waiting in the branch queue (for a person who may approve; 0 for everyone else).
    pending_approvals: reactive[int] = reactive(0)
    #: Open risk alerts of the branch (for a supervisor or administrator; 0 for everyone else).
    open_alerts: reactive[int] = reactive(0)

    class ServicesReady(Message):
        def __init__(self, services: Services, first_run: bool) -> None:
            super().__init__()
            self.services = services
            self.first_run = first_run

    class DatabaseReady(Message):
        """The database is open and checked: the sign-in can be used while the core loads."""

    class SettingsLoaded(Message):
        def __init__(self, settings: Settings) -> None:
            super().__init__()
            self.settings = settings

    class StartupFailed(Message):
        def __init__(self, message: str, *, upgrade_hint: bool = False) -> None:
            super().__init__()
            self.message = message
            self.upgrade_hint = upgrade_hint

    def __init__(self, settings: Settings | None = None, *, services: Services | None = None,
                 clock: Clock | None = None, overrides: Mapping[str, Any] | None = None,
                 training: bool = False) -> None:
        """``settings`` None (``teller run``): the startup worker loads them with ``overrides``.
        ``training``: open the training database (teller_tui.training.mode), watermark every screen."""
        super().__init__()
        if settings is None and services is not None:
            settings = services.settings
        #: Training mode (``teller run --training``, F4 at sign-in, or training settings given).
        self.training = training or bool(getattr(settings, "training", False))
        self.training_desk: TrainingDesk | None = None
        if self.training:
            from .training import TrainingDesk  # training only: its screens are not needed at sign-in

            self.training_desk = TrainingDesk(self)
        #: The validated settings, or — until the startup worker has loaded them — a preview
        #: (locale, terminal, branch) for the sign-in screen.
        self.settings: Settings | SettingsPreview = (
            settings if settings is not None else preview_settings(**dict(overrides or {})))
        self.settings_loaded = settings is not None
        self._settings_overrides = dict(overrides or {})
        self._given_services = services
        self.services: Services | None = None
        self.clock: Clock = clock or (services.clock if services is not None else SystemClock())
        self.idle = IdleTracker(self.clock, settings.idle_lock_seconds if settings is not None
                                else DEFAULT_IDLE_LOCK_SECONDS)
        self.first_run = False
        self._usable_painted = threading.Event()  # the usable sign-in's frame is out: the core may load
        self._pending: SignedIn | None = None  # signed in, still finishing set-up
        #: Idempotency keys that a form on screen is resolving itself (the journal check skips them).
        self.inflight_watch: set[str] = set()
        self._seen_requests: set[int] | None = None  # queue ids already announced (None: not polled yet)
        self._seen_alerts: set[int] | None = None  # open alert ids already announced

    # -- startup -------------------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        return SignInScreen()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {"credit": "#4EBF71", "debit": "#E0645C"}

    def on_mount(self) -> None:
        keymap = getattr(self.settings, "keymap", None)
        if keymap:
            self.set_keymap(keymap)
        self.set_interval(1.0, self.check_idle_lock, name="idle-lock")
        self.set_interval(SESSION_CHECK_SECONDS, self.check_session_current, name="session-check")
        self.set_interval(HOLD_SWEEP_SECONDS, self.sweep_expired_holds, name="hold-sweep")
        self.set_interval(self.APPROVALS_POLL_SECONDS, self.poll_approvals, name="approvals-count")
        self.set_interval(self.ALERTS_POLL_SECONDS, self.poll_alerts, name="alerts-count")
        self.set_interval(self.OFFLINE_SYNC_SECONDS, self.offline_sync, name="offline-sync")
        if self.training_desk is not None:
            self._start_training_supervisor()
        self.call_after_refresh(resume_collection)
        # After the first frame: the worker's imports (SQLAlchemy, pydantic) and database checks
        # would otherwise hold the GIL while the sign-in screen is being painted.
        self.call_after_refresh(self.open_services)

    @work(thread=True, exclusive=True, exit_on_error=False, group="startup")
    def open_services(self) -> None:
        """A progressive start, off the UI thread: first the database alone (SQLAlchemy Core: engines,
        pragmas, a write attempt, the schema revision) — the sign-in is usable from then on — then the
        settings (pydantic-settings) and the core (models, services) on those same engines, while the
        person types. A sign-in submitted before the core is ready waits for it (screens/signin.py)."""
        engines: Engines | None = None
        target: DatabaseTarget | None = None
        if self._given_services is None and not self.training:
            from teller_tui.db.engines import make_engines, open_checked  # SQLAlchemy Core, no ORM

            target = (self.settings.database_target if self.settings_loaded  # type: ignore[union-attr]
                      else preview_database(**self._settings_overrides))
            setup_error_log(target.home)
            try:
                target.ensure_home()
                engines = open_checked(make_engines(target.url, synchronous=target.sqlite_synchronous,
                                                    allow_network_fs=target.allow_network_filesystem))
            except Exception as exc:  # noqa: BLE001 - one sentence on a clear screen, details in the log
                self.post_message(self.StartupFailed(startup_error(exc),
                                                     upgrade_hint=isinstance(exc, SchemaOutOfDate)))
                return
            self.post_message(self.DatabaseReady())
            # The core's imports would share the GIL with painting the usable sign-in: start them once
            # that frame is out (or after a moment, whatever the UI is doing).
            self._usable_painted.wait(USABLE_FRAME_WAIT)
        self._load_core(engines, target)

    def _load_core(self, engines: Engines | None, target: DatabaseTarget | None) -> None:
        """Settings (if not given), then the services: on ``engines`` when they are what the validated
        settings name (else a fresh open, with the same checks)."""
        if self.settings_loaded:
            settings: Any = self.settings
        else:
            try:
                from teller_tui.common.settings import load_settings

                settings = load_settings(**self._settings_overrides)
            except Exception as exc:  # noqa: BLE001 - a bad value or file: shown with the fix
                if engines is not None:
                    engines.dispose()
                self.post_message(self.StartupFailed(settings_error(exc)))
                return
            self.post_message(self.SettingsLoaded(settings))
        if self.training and not settings.training:
            try:
                from teller_tui.training.mode import require_training_built, training_settings

                settings = training_settings(settings)
                require_training_built(settings)
            except DomainError as exc:
                self.post_message(self.StartupFailed(str(exc)))
                return
            self.post_message(self.SettingsLoaded(settings))
        setup_error_log(Path(settings.home))  # references shown from here on are found in the log
        try:
            services = self._given_services
            if services is None:
                from teller_tui.db.engine import Database
                from teller_tui.services import make_services

                database = None
                if engines is not None and settings.database_target == target:
                    database = Database.adopt(engines)  # opened and checked above: not opened twice
                elif engines is not None:
                    engines.dispose()  # the validated settings name another database (or another way to open it)
                services = make_services(settings, clock=self.clock, database=database)
                freeze_core()
            first_run = services.auth.is_first_run()
        except Exception as exc:  # noqa: BLE001 - one sentence on a clear screen, details in the log
            if engines is not None:
                engines.dispose()
            self.post_message(self.StartupFailed(startup_error(exc),
                                                 upgrade_hint=isinstance(exc, SchemaOutOfDate)))
            return
        self.post_message(self.ServicesReady(services, first_run))

    def start_notification_sender(self, settings: Any) -> None:
        """With ``notify_send`` and ``notify_app_interval_seconds`` set, this app delivers the outbox too
        (``teller notify run`` from cron is the usual sender; both may run: claims keep them apart)."""
        interval = float(getattr(settings, "notify_app_interval_seconds", 0) or 0)
        if getattr(settings, "notify_send", False) and interval > 0:
            self.set_interval(interval, self.send_notifications, name="notify-send")

    def send_notifications(self) -> None:
        if self.services is not None:
            self._send_notifications()

    @work(thread=True, exclusive=True, exit_on_error=False, group="notify-send")
    def _send_notifications(self) -> None:
        from teller_tui.auth.staff import system_actor

        services = self.services
        if services is None:
            return
        try:
            services.notify.run(system_actor(services.settings))
        except Exception as exc:  # noqa: BLE001 - logged; the next run tries again
            log.warning("notification sender: %s", type(exc).__name__)

    def on_teller_app_settings_loaded(self, message: SettingsLoaded) -> None:
        """The validated settings replace the preview (normally the same locale, branch, terminal)."""
        shown, settings = self.settings, message.settings
        self.settings = settings
        self.settings_loaded = True
        self.idle = IdleTracker(self.clock, settings.idle_lock_seconds)  # nobody is signed in yet
        if settings.keymap:
            self.set_keymap(settings.keymap)
        if settings.locale != get_locale():
            self.set_language(settings.locale)
        elif (settings.branch_code, settings.terminal_id) != (shown.branch_code, shown.terminal_id):
            for screen in self.screen_stack:
                changed = getattr(screen, "settings_changed", None)
                if changed is not None:
                    changed()

    def on_teller_app_database_ready(self, _message: DatabaseReady) -> None:
        self.database_ready = True
        self.call_after_refresh(self._usable_painted.set)

    def on_teller_app_services_ready(self, message: ServicesReady) -> None:
        self.services = message.services
        self.first_run = message.first_run
        self.database_ready = True
        self.services_ready = True
        self.start_notification_sender(message.services.settings)
        if message.first_run:
            from .first_admin import FirstAdminScreen

            self.push_screen(FirstAdminScreen())

    def watch_database_ready(self, ready: bool) -> None:
        self.watch_services_ready(ready)

    def watch_services_ready(self, ready: bool) -> None:
        for screen in self.screen_stack:
            sync = getattr(screen, "sync_ready", None)
            if sync is not None:
                sync()

    def on_teller_app_startup_failed(self, message: StartupFailed) -> None:
        from .startup import StartupErrorScreen

        for screen in self.screen_stack:  # a sign-in submitted ahead of the core will not go ahead
            if isinstance(screen, SignInScreen) and getattr(screen, "_submit_when_ready", False):
                screen._submit_when_ready = False
                self.release_keys(KEY_HOLD)  # the keys typed behind it reach the error screen

        self.push_screen(StartupErrorScreen(message.message, upgrade_hint=message.upgrade_hint))

    def retry_startup(self) -> None:
        self.open_services()

    # -- expired approvals ------------------------------------------------------------------------------
    def sweep_expired_holds(self) -> None:
        """Every HOLD_SWEEP_SECONDS, whoever is signed in (or nobody): approval requests past their
        time expire and release their held funds, even with no supervisor on screen (invariant 17)."""
        if self.services is not None:
            self._sweep_expired_holds()

    @work(thread=True, exclusive=True, exit_on_error=False, group="hold-sweep")
    def _sweep_expired_holds(self) -> None:
        services = self.services
        if services is None:
            return
        try:
            services.approvals.expire_sweep()
        except Exception:  # noqa: BLE001 - quiet: the next sweep retries; reads and postings release holds anyway
            log.warning("expired-hold sweep failed", exc_info=True)

    # -- errors ----------------------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.report_worker_error(event.worker)

    def report_worker_error(self, worker: Worker[Any]) -> None:
        """The one place a failed worker becomes a message for the person at the terminal."""
        error = worker.error
        if isinstance(error, DatabaseUnavailable):
            self.database_unavailable(error)
            return
        if isinstance(error, DomainError) and error.code in STAFF_REFUSAL_CODES:
            self.end_session_refused(refusal_text(error))
            return
        if error is not None and not isinstance(error, DomainError):
            fault = storage_fault(error)  # a driver error no service translated: still one sentence
            if fault is not None:
                fault.__cause__ = error
                error = fault
        if isinstance(error, StorageError):  # a storage fault: the sentence, the driver's text in the log
            ref = record_error(error, f"worker {worker.name}")
            self.notify(_("{error} Reference {ref}.").format(error=refusal_text(error), ref=ref), title=_("Not done"),
                        severity="error", markup=False, timeout=30)
            return
        if isinstance(error, DomainError):
            text = refusal_text(error)
            if note_refusal(self.screen, error.code, text):
                text += "\n" + _("F1: what to tell the customer")
            self.notify(text, title=_("Not done"), severity="error", markup=False)
            return
        ref = record_error(error or RuntimeError(worker.name), f"worker {worker.name}")
        self.notify(_("Something went wrong; nothing more was done. Reference {ref}.").format(ref=ref),
                    title=_("Error"), severity="error", markup=False, timeout=15)

    def database_unavailable(self, error: DomainError) -> None:
        """The database went away mid-session (server restart, network): say so plainly, keep the
        form as it is, and reconnect in the background. The core already retried for a while; a
        posting that was in flight is found by its idempotency key when the teller submits again."""
        banner = _("Database unreachable: reconnecting")
        if self.sub_title != banner:
            self._sub_title_before_outage = self.sub_title
        if not self.database_down:  # once per outage: every failing worker reports it, the banner stays
            self.notify(refusal_text(error), title=_("Database unreachable"), severity="error", markup=False,
                        timeout=30)
        self.sub_title = banner
        self.set_outage(True)  # the banner on every screen; Ctrl+O takes cash-ins offline
        self.wait_for_database()

    @work(thread=True, exclusive=True, exit_on_error=False, group="db-reconnect")
    def wait_for_database(self) -> None:
        from textual.worker import get_current_worker

        services = self.services
        if services is None:
            return
        worker = get_current_worker()
        while not worker.is_cancelled:  # the banner stays until the database answers
            if services.db.wait_available(timeout=5):
                self.call_from_thread(self._database_back)
                return

    def _database_back(self) -> None:
        self.sub_title = getattr(self, "_sub_title_before_outage", "")
        self.set_outage(False)
        self.offline_sync()  # the offline queue uploads now
        self.notify(_("The database is back. Nothing is ever posted twice: submit again if needed."),
                    title=_("Reconnected"), severity="information", markup=False)
        self.check_inflight()

    # -- postings in flight (teller_tui.desk.inflight_service) ------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="inflight-check")
    def check_inflight(self) -> None:
        """After a sign-in, a reconnect or an unlock (and when a form closes while still checking):
        tell the person what became of their submissions interrupted at this terminal."""
        services, actor = self.services, self.actor
        if services is None or actor is None:
            return
        try:
            outcomes = services.inflight.check_pending(actor, exclude=set(self.inflight_watch))
        except DatabaseUnavailable as exc:
            self.call_from_thread(self.database_unavailable, exc)  # checked again once it is back
            return
        if outcomes:
            self.call_from_thread(self._show_inflight, actor, outcomes)

    def _show_inflight(self, actor: Actor, outcomes: list[SubmissionOutcome]) -> None:
        if self.actor != actor or any(type(s).__name__ == "InflightOutcomesScreen" for s in self.screen_stack):
            return  # signed out meanwhile, or already showing
        from .inflight import InflightOutcomesScreen

        def shown(_result: None) -> None:
            for outcome in outcomes:
                self.forget_inflight(actor, outcome.submission.key)

        self.push_screen(InflightOutcomesScreen(outcomes), shown)

    @work(thread=True, exit_on_error=False, group="inflight-forget")
    def forget_inflight(self, actor: Actor | None, key: str) -> None:
        """The outcome of ``key`` has been shown: drop it from the terminal's journal."""
        if self.services is not None and actor is not None:
            self.services.inflight.resolve(actor, key)

    # -- input and idle lock -----------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp):
            self.idle.touch()
        if isinstance(event, events.Key) and self.training_desk is not None:
            self.training_desk.key_pressed()
        await super().on_event(event)

    def check_idle_lock(self) -> None:
        """Called every second: lock a signed-in terminal idle for ``idle_lock_seconds``."""
        if not self.idle.expired():
            return
        if self.session is not None and not self.locked:
            self.lock("idle")
        elif self._pending is not None:
            # Walked away half-way through set-up: start again from the sign-in screen.
            self._pending = None
            self.reset_to_sign_in()

    # -- session stays honest ----------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="session-check")
    def check_session_current(self) -> None:
        """Every few seconds: is the signed-in person still enabled, unlocked, in the same role?

        The core refuses a disabled or demoted person's next call at once (teller_tui/auth/live.py);
        this also signs out a person who is only looking at a screen."""
        services, session = self.services, self.session
        if services is None or session is None:
            return
        refusal = services.auth.check_session(session.actor)
        if refusal is not None:
            self.call_from_thread(self.end_session_refused, str(refusal), session.staff.id)

    def end_session_refused(self, message: str, staff_id: int | None = None) -> None:
        """The core refused the signed-in person (disabled, locked, demoted): sign them out, say why."""
        if self.session is None or (staff_id is not None and self.session.staff.id != staff_id):
            return
        actor = self.session.actor
        self.session = None
        self.record_session_event(actor, "sign_out", reason="account_changed")
        self.reset_to_sign_in()
        self.notify(message, title=_("Signed out"), severity="error", markup=False, timeout=30)

    # -- session ---------------------------------------------------------------------------------------
    @property
    def actor(self) -> Actor | None:
        """Who is working here (for service calls), or None when nobody is signed in."""
        return self.session.actor if self.session is not None else None

    def start_session(self, signed: SignedIn, password: str) -> None:
        """After a successful sign-in: finish set-up if needed, then show the home screen.

        Runs on the app's own message loop: a screen's result callback is delivered to the
        message pump that pushed it, and the screen calling this may be about to close.
        """
        self.call_later(self._start_session, signed, password)

    def _start_session(self, signed: SignedIn, password: str) -> None:
        self._pending = signed
        self.idle.touch()
        if signed.must_change_password:
            from .change_password import ChangePasswordScreen

            self.push_screen(ChangePasswordScreen(signed.actor, current=password, required=True),
                             self._after_password)
        else:
            self._after_password(True)

    def _after_password(self, changed: bool | None) -> None:
        signed = self._pending
        if signed is None:
            return
        if not changed:
            self._abandon_pending()
            return
        if signed.needs_totp_enrolment:
            from .enrol_totp import EnrolTotpScreen

            self.push_screen(EnrolTotpScreen(signed.actor), self._after_enrolment)
        else:
            self._after_enrolment(True)

    def _after_enrolment(self, enrolled: bool | None) -> None:
        signed = self._pending
        if signed is None:
            return
        if not enrolled:
            self._abandon_pending()
            return
        self._pending = None
        self.session = replace(signed, must_change_password=False, needs_totp_enrolment=False)
        self.idle.touch()
        self._seen_requests = None
        self._seen_alerts = None
        self.poll_approvals()  # the count is right from the first screen (then every few seconds)
        self.load_kb_refusals()
        self.poll_alerts()
        try:
            self.show_home()
        except HomeScreenMissing as exc:
            self.notify(str(exc), title=_("Error"), severity="error", markup=False, timeout=30)
        self.check_inflight()  # a restart after a crash: was the last posting made?
        self.offline_sync()  # the teller's day noted for an outage; anything queued here uploads

    def _abandon_pending(self) -> None:
        signed, self._pending = self._pending, None
        if signed is not None:
            self.record_session_event(signed.actor, "sign_out", reason="setup_abandoned")
        self.reset_to_sign_in()

    def show_home(self) -> None:
        """Push the teller home screen (``screens.home.HomeScreen``)."""
        try:
            from .home import HomeScreen  # type: ignore[import-not-found,unused-ignore]
        except ModuleNotFoundError as exc:
            if exc.name not in ("screens.home", f"{__package__}.home"):
                raise
            raise HomeScreenMissing(_("The home screen is not installed (screens/home.py is missing).")) from exc
        from . import approvals_queue, consent_policy, custody, risk_alerts, service, staff_admin  # noqa: F401  (register their palette commands)

        self.push_screen(HomeScreen())
        if self.training_desk is not None:
            self.training_desk.offer_scenarios()

    def reset_to_sign_in(self) -> None:
        """Close every screen above the sign-in screen and clear it."""
        self.locked = False
        while len(self.screen_stack) > 1:
            self.pop_screen()
        base = self.screen_stack[0]
        if isinstance(base, SignInScreen):
            base.reset()

    def action_sign_out(self) -> None:
        if self.session is None:
            return
        actor = self.session.actor
        self.session = None
        if self.training_desk is not None:
            self.training_desk.signed_out()
        self.record_session_event(actor, "sign_out")
        self.reset_to_sign_in()

    def action_lock(self) -> None:
        self.lock("key")

    def lock(self, reason: str) -> None:
        if self.session is None or self.locked:
            return
        from .lock import LockScreen

        self.locked = True
        self.record_session_event(self.session.actor, "lock", reason=reason)
        self.push_screen(LockScreen(self.session), self._after_unlock)

    def _after_unlock(self, result: tuple[SignedIn, str] | None) -> None:
        self.locked = False
        if result is None or self.session is None:
            return
        signed, password = result
        self.idle.touch()
        if signed.staff.id == self.session.staff.id and signed.complete:
            self.session = replace(self.session, staff=signed.staff)
            self.check_inflight()
            return
        # Somebody else: the previous session ends, the new person starts afresh.
        previous = self.session.actor
        self.session = None
        self.record_session_event(previous, "sign_out", reason="replaced_at_lock")
        self.reset_to_sign_in()
        self.start_session(signed, password)

    @work(thread=True, exit_on_error=False, group="session-events")
    def record_session_event(self, actor: Actor, action: str, **detail: Any) -> None:
        if self.services is not None:
            self.services.auth.record_session_event(actor, action, **detail)

    def action_change_password(self) -> None:
        if self.session is None:
            return
        from .change_password import ChangePasswordScreen

        self.push_screen(ChangePasswordScreen(self.session.actor, current=None, required=False))

    def action_show_keys(self) -> None:
        self.action_help()  # the old action name (keymaps, muscle memory): our own help

    # -- help, palette, screenshots (screens/help.py) -----------------------------------------------------
    def action_help(self) -> None:
        """F1: the help of the screen on top (its purpose, keys and articles); it covers the screen,
        so Esc returns to it exactly as it was."""
        from .help import HelpScreen, help_for

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(HelpScreen(help_for(self.screen)))

    def action_kb_review(self) -> None:
        from .kb_edit import ReviewListScreen

        if self.session is not None and self.session.staff.role in ("supervisor", "admin"):
            self.push_screen(ReviewListScreen())

    @work(thread=True, exclusive=True, exit_on_error=False, group="kb-codes")
    def load_kb_refusals(self) -> None:
        services, actor = self.services, self.actor
        if services is None or actor is None:
            return
        try:
            codes = services.kb.refusal_codes(actor, get_locale())
        except Exception:  # noqa: BLE001 - without the list a refusal just offers no article link
            log.warning("knowledge-base refusal codes not loaded", exc_info=True)
            return
        self.call_from_thread(setattr, self, "kb_refusal_codes", codes)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's system commands, ours instead: translated, no bare Quit (sign out is in the
        palette), help of our own, a screenshot saved privately under the teller's home."""
        yield SystemCommand(_("Help"), _("This screen's keys and the knowledge base"), self.action_help)
        if self.session is not None and not self.locked:
            yield SystemCommand(_("Screenshot"), _("Save a picture of this screen (SVG) in the teller's home folder"),
                                self.action_save_screenshot)
        if self.session is None:
            yield SystemCommand(_("Close the program"), _("Only from the sign-in screen: nobody is signed in"),
                                self.action_quit)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(TellerCommandPalette(placeholder=_("Search for commands…"), id="--command-palette"))

    async def action_quit(self) -> None:
        """Ctrl+Q closes the program only when nobody is signed in; otherwise F12 signs out first
        (the sign-out is audited), so nothing ever exits in the middle of a form."""
        if self.session is not None or self._pending is not None:
            self.notify(_("Sign out first (F12); the program closes from the sign-in screen."),
                        title=_("Still signed in"), severity="warning", markup=False)
            return
        await super().action_quit()

    def action_help_quit(self) -> None:
        """Ctrl+C: Textual's English hint about quitting, replaced."""
        if self.session is None:
            self.notify(_("Ctrl+Q closes the program."), markup=False)
        else:
            self.notify(_("F12 signs out."), markup=False)

    def action_save_screenshot(self) -> None:
        """Save the screen as SVG in ``$TELLER_HOME/screenshots`` (0700 folder, 0600 file)."""
        if self.session is None:
            return
        home = getattr(self.settings, "home", None)
        if home is None:
            return
        svg = self.export_screenshot()
        stamp = self.clock.now().strftime("%Y%m%d-%H%M%S")
        try:
            from teller_tui.common.files import save_screenshot

            path = save_screenshot(Path(home), f"teller-{stamp}", svg)
        except OSError as exc:
            ref = record_error(exc, "screenshot")
            self.notify(_("The screenshot was not saved. Reference {ref}.").format(ref=ref), title=_("Not done"),
                        severity="error", markup=False)
            return
        self.notify(_("Screenshot saved: {path}").format(path=str(path)), title=_("Screenshot"), markup=False)

    # -- the one approval flow ---------------------------------------------------------------------------
    def request_approval(self, error: ApprovalRequired, retry: Callable[[int | None], None],
                         on_cancel: Callable[[], None] | None = None) -> bool:
        """Get the approval ``error`` asks for, then ``retry(approval_id)`` (see the module docstring).

        ``on_cancel()`` runs when nothing was approved. False (nothing opened) when the error carries
        no request (``details["spec"]``) or nobody is signed in: the caller shows the reasons."""
        spec = error.details.get("spec")
        if spec is None or self.services is None or self.actor is None:
            return False
        from teller_tui.approvals.records import ApprovalResult

        from .approval import ApprovalScreen

        def done(result: ApprovalResult | None) -> None:
            if result is None:
                if on_cancel is not None:
                    on_cancel()
                return
            retry(result.approval_id if result.status == "approved" else None)

        self.push_screen(ApprovalScreen(self.services, self.actor, spec), done)
        return True

    # -- supervisor overrides (screens/approvals_queue.py, screens/dashboard.py) --------------------------
    @property
    def may_approve(self) -> bool:
        """Whether the person signed in is one the approval policy names as an approver."""
        if self.session is None or self.services is None:
            return False
        return self.session.staff.role in self.services.approvals.policy.approver_roles

    def action_open_approvals(self) -> None:
        if not self.may_approve:
            return
        from .approvals_queue import ApprovalsQueueScreen

        if isinstance(self.screen, ApprovalsQueueScreen):
            return
        self.push_screen(ApprovalsQueueScreen())

    def poll_approvals(self) -> None:
        """Every few seconds, for a person who may approve: how many requests wait, and which are new."""
        if self.may_approve and not self.locked:
            self._poll_approvals()
        elif self.pending_approvals or self._seen_requests is not None:
            self._seen_requests = None
            self.pending_approvals = 0

    @work(thread=True, exclusive=True, exit_on_error=False, group="approvals-count")
    def _poll_approvals(self) -> None:
        services, actor = self.services, self.actor
        if services is None or actor is None:
            return
        try:
            views = services.approvals.pending(actor.branch_code)
        except Exception:  # noqa: BLE001 - the next poll tries again; the queue screen shows errors
            return
        self.call_from_thread(self.approvals_polled, views, actor.staff_id)

    def approvals_polled(self, views: list[Any], staff_id: int | None) -> None:
        """The queue as just read: update the count; announce requests not seen before (not on the
        first poll of a session: the count says what was already waiting)."""
        if self.actor is None or self.actor.staff_id != staff_id:
            return  # signed out (or somebody else) meanwhile
        ids = {v.id for v in views}
        if self._seen_requests is not None:
            for view in views:
                if view.id not in self._seen_requests and view.requester_id != staff_id:
                    self.notify(_("Request {id}: {summary} ({teller}). Ctrl+A opens the queue.").format(
                        id=view.id, summary=view.summary, teller=view.requester),
                        title=_("Approval requested"), severity="warning", markup=False, timeout=10)
        self._seen_requests = ids
        self.pending_approvals = len(views)

    def watch_pending_approvals(self, _count: int) -> None:
        self.refresh_bindings()  # the footer's "Approvals (n)"

    def action_open_cases(self) -> None:
        if self.session is None:
            return
        from .cases import CaseQueueScreen

        if not isinstance(self.screen, CaseQueueScreen):
            self.push_screen(CaseQueueScreen())

    def action_open_follow_up(self) -> None:
        if self.session is None:
            return
        from .service import FollowUpScreen

        self.push_screen(FollowUpScreen())

    def action_staff_unlock(self) -> None:
        """Unlock a colleague's account (palette, dashboard F6): a supervisor approves in person."""
        if self.session is None or self.locked:
            return
        from .custody import StaffUnlockScreen

        self.push_screen(StaffUnlockScreen())

    def action_open_staff_admin(self) -> None:
        """Staff administration (home ctrl+g, palette): administrators only."""
        if self.session is None or self.locked or self.session.staff.role != "admin":
            return
        from .staff_admin import StaffAdminScreen

        self.push_screen(StaffAdminScreen())

    def action_open_consent_policy(self) -> None:
        """The branch's consent policy (home ctrl+y, palette): supervisors and administrators."""
        if self.session is None or self.locked or self.session.staff.role not in ("supervisor", "admin"):
            return
        from .consent_policy import ConsentPolicyScreen

        self.push_screen(ConsentPolicyScreen())

    # -- risk alerts (screens/risk_alerts.py) ---------------------------------------------------------------
    @property
    def may_review_alerts(self) -> bool:
        return self.session is not None and self.services is not None and \
            self.session.staff.role in ("supervisor", "admin")

    def action_open_alerts(self) -> None:
        if not self.may_review_alerts:
            return
        from .risk_alerts import RiskAlertsScreen

        if not isinstance(self.screen, RiskAlertsScreen):
            self.push_screen(RiskAlertsScreen())

    def poll_alerts(self) -> None:
        """Every few seconds, for a supervisor: how many risk alerts are open, and which are new."""
        if self.may_review_alerts and not self.locked:
            self._poll_alerts()
        elif self.open_alerts or self._seen_alerts is not None:
            self._seen_alerts = None
            self.open_alerts = 0

    @work(thread=True, exclusive=True, exit_on_error=False, group="alerts-count")
    def _poll_alerts(self) -> None:
        services, actor = self.services, self.actor
        if services is None or actor is None:
            return
        try:
            views = services.risk.alerts(actor, status="open", limit=200)
        except Exception:  # noqa: BLE001 - the next poll tries again; the alerts screen shows errors
            return
        self.call_from_thread(self.alerts_polled, views, actor.staff_id)

    def alerts_polled(self, views: list[Any], staff_id: int | None) -> None:
        if self.actor is None or self.actor.staff_id != staff_id:
            return
        if self._seen_alerts is not None:
            for view in views:
                if view.id not in self._seen_alerts:
                    self.notify(_("Risk alert {id}: {title}. Ctrl+R opens the alerts.").format(
                        id=view.id, title=view.title), title=_("Risk alert"), severity="warning", markup=False,
                        timeout=10)
        self._seen_alerts = {v.id for v in views}
        self.open_alerts = len(views)

    def watch_open_alerts(self, _count: int) -> None:
        self.refresh_bindings()  # the footer's "Risk alerts (n)"

    def action_open_dashboard(self) -> None:
        if self.session is None or self.session.staff.role not in ("supervisor", "admin"):
            return
        from .dashboard import DashboardScreen

        self.push_screen(DashboardScreen())

    def action_open_analytics(self) -> None:
        if self.session is None or self.session.staff.role not in ("supervisor", "admin"):
            return
        from .analytics import AnalyticsScreen

        self.push_screen(AnalyticsScreen())

    # -- language ----------------------------------------------------------------------------------------
    # -- training mode ---------------------------------------------------------------------------------
    def action_training_panel(self) -> None:
        if self.training_desk is not None and self.session is not None:
            self.training_desk.show_panel()

    def answer_training_approvals(self) -> None:
        if self.training_desk is not None and self.session is not None and not self.locked:
            self.training_desk.answer_approvals()

    def _start_training_supervisor(self) -> None:
        """The simulated supervisor of the training desk answers queued approvals (from its start)."""
        assert self.training_desk is not None
        self.set_interval(self.training_desk.SUPERVISOR_SECONDS, self.answer_training_approvals,
                          name="training-supervisor")

    def action_enter_training(self) -> None:
        """At sign-in: reopen on the training database (the choice offered beside ``--training``)."""
        if self.training or self.session is not None or self._given_services is not None:
            return
        from .training import TrainingDesk

        self.training = True
        self.training_desk = TrainingDesk(self)
        self._start_training_supervisor()
        if self.services is not None:
            self.services.close()
            self.services = None
        self.services_ready = False
        self.database_ready = False
        for screen in self.screen_stack:
            ensure = getattr(screen, "ensure_watermark", None)
            if ensure is not None:
                ensure()
        self.refresh_bindings()
        self.open_services()

    def action_switch_language(self) -> None:
        self.set_language("en" if get_locale() == "zh_CN" else "zh_CN")

    def set_language(self, locale: str) -> None:
        set_locale(locale)
        self.refresh_bindings()
        for screen in self.screen_stack:
            screen.post_message(LanguageChanged())

    # -- what may run now ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("sign_out", "lock", "change_password"):
            return self.session is not None and not self.locked
        if action == "open_approvals":
            return self.may_approve and not self.locked
        if action == "offline_cash_in":  # shown only while the database cannot be reached
            return self.session is not None and not self.locked and self.database_down
        if action == "offline_exceptions":
            return self.may_approve and not self.locked
        if action == "open_alerts":
            return self.may_review_alerts and not self.locked
        if action == "open_cases":  # not over a dialog (the key then stays the field's own)
            return self.session is not None and not self.locked and not isinstance(self.screen, ModalScreen)
        if action in ("command_palette", "help") and self.locked:
            return False  # nothing to read or search behind the lock screen
        if action == "training_panel":
            return self.training and self.session is not None and not self.locked
        if action == "enter_training":
            return not self.training and self.session is None and self._given_services is None
        return True


def startup_error(exc: BaseException) -> str:
    """One sentence for a start-up failure: a domain error's own, a storage fault's (the driver's
    text and a reference go to the log), anything else with a reference."""
    if isinstance(exc, SchemaOutOfDate):
        return refusal_text(exc)
    if not isinstance(exc, StorageError):
        fault = storage_fault(exc)
        if fault is None:
            ref = record_error(exc, "startup")
            return _("The database cannot be opened ({error}). Check TELLER_DATABASE_URL. Reference {ref}.").format(
                error=type(exc).__name__, ref=ref)
        fault.__cause__ = exc
        exc = fault
    ref = record_error(exc, "startup")
    return _("{error} Reference {ref}.").format(error=refusal_text(exc), ref=ref)


def settings_error(exc: BaseException) -> str:
    """A settings value or file the app cannot use, as one message naming the fields."""
    errors = getattr(exc, "errors", None)
    detail = ""
    if callable(errors):
        try:
            detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors())
        except Exception:  # noqa: BLE001 - fall back to the text
            detail = ""
    if not detail:
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
    return _("The settings cannot be used ({error}). Check the TELLER_* environment variables and the "
             "settings file.").format(error=detail)


def make_app(settings: Settings | None = None, *, services: Services | None = None, clock: Clock | None = None,
             overrides: Mapping[str, Any] | None = None, training: bool = False) -> TellerApp:
    """The one factory the CLI and the tests use. Sets the UI language from the settings.

    Without ``settings`` (``teller run``), the app loads them in its startup worker with
    ``overrides`` (``terminal_id``, ``locale``…), after the sign-in screen's first frame.
    """
    app = TellerApp(settings, services=services, clock=clock, overrides=overrides, training=training)
    set_locale(app.settings.locale)
    return app
