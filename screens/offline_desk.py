"""The app's side of the offline counter (issue 26; the core is :mod:`teller_tui.offline`).

* While the database cannot be reached (``database_down``, set by ``TellerApp.database_unavailable``),
  a teller already signed in takes cash-ins offline with **Ctrl+O** (:mod:`screens.offline`);
  everything else is refused by the database itself, with the reconnect banner.
* The banner (:class:`~screens.widgets.outage_banner.OutageBanner`, on every screen) says the
  database is unreachable, and how many cash-ins are queued and for how much.
* Every ``OFFLINE_SYNC_SECONDS`` while it answers, and at once when it is back or someone signs in,
  the terminal notes the teller's day (``services.offline.remember``) and uploads the queue;
  the teller is told what was posted and what went to a supervisor.
* Supervisors open the exception list with **Ctrl+E** (:mod:`screens.offline_exceptions`).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from textual import work

from teller_tui.common.errors import DatabaseUnavailable
from teller_tui.common.i18n import N_, _

from .commands import PaletteCommand, register_command

#: Seconds before the same wallet is noted for offline use again.
REMEMBER_EVERY = 60.0

if TYPE_CHECKING:
    from teller_tui.offline.types import QueueSummary, UploadReport

__all__ = ["OfflineDeskMixin", "outage_text"]

log = logging.getLogger(__name__)

register_command(PaletteCommand("offline_cash_in", N_("Offline cash-in"), "app.offline_cash_in",
                                N_("While the database is unreachable: cash-in only, pending confirmation"),
                                available=lambda app: bool(getattr(app, "database_down", False))))
register_command(PaletteCommand("offline_exceptions", N_("Offline exceptions"), "app.offline_exceptions",
                                N_("Offline cash-ins the books refused: refund or post"),
                                roles=("supervisor", "admin")))


def _amounts(summary: QueueSummary) -> str:
    from teller_tui.common.formatting import format_money  # only with a queue: not at the first frame

    return " + ".join(format_money(m) for m in summary.amounts.values())


def outage_text(down: bool, summary: QueueSummary | None, signed_in: bool = True) -> str:
    """The banner's sentence ("" when there is nothing to say); nobody signed in: no Ctrl+O to offer."""
    queued = summary.queued if summary is not None else 0
    refused = summary.exceptions if summary is not None else 0
    if down:
        text = (_("Database unreachable: reconnecting. Only cash-in, offline: Ctrl+O.") if signed_in
                else _("Database unreachable: reconnecting"))
        if summary is not None and not summary.empty:
            text += " " + _("Offline queue: {count} · {amount}").format(count=queued + refused,
                                                                         amount=_amounts(summary))
        return text
    if queued:
        assert summary is not None
        return _("Offline cash-ins waiting to upload: {count} · {amount}").format(count=queued, amount=_amounts(summary))
    if refused:
        assert summary is not None
        return _("Offline cash-ins refused by the books: {count} · {amount}. A supervisor decides (Ctrl+E).").format(
            count=refused, amount=_amounts(summary))
    return ""


class OfflineDeskMixin:
    """Mixed into :class:`screens.app.TellerApp`."""

    #: How often a terminal whose database answers notes the teller's day and uploads its queue (seconds).
    OFFLINE_SYNC_SECONDS = 30.0
    #: True from a "database unreachable" until it answers again.
    database_down = False
    #: The banner's text on every screen ("" for none).
    outage_text = ""
    offline_summary: QueueSummary | None = None

    services: Any
    actor: Any
    locked: bool
    screen: Any
    screen_stack: Any

    def watch_session(self, _old: Any, _new: Any) -> None:
        """Signed in or out: the banner offers Ctrl+O only to someone signed in; the queue's figures are
        read again (the sign-in screen shows this terminal's queue as it is now, not the last teller's view)."""
        self.show_outage()
        self.refresh_offline_summary()

    def set_outage(self, down: bool) -> None:
        self.database_down = down
        self.show_outage()
        self.refresh_offline_summary()

    def show_outage(self) -> None:
        text = outage_text(self.database_down, self.offline_summary, self.actor is not None)
        if text == self.outage_text:
            return
        self.outage_text = text
        try:
            ensure = getattr(self.screen, "ensure_outage_banner", None)
        except Exception:  # noqa: BLE001 - no screen yet (start-up): each screen shows it when mounted
            return
        if ensure is not None:
            ensure()
        self.refresh_bindings()  # type: ignore[attr-defined]

    # -- the queue's figures (the terminal's own disk: no database) ---------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="offline-summary")
    def refresh_offline_summary(self) -> None:
        services, actor = self.services, self.actor
        if services is None:
            return
        try:  # nobody signed in (the sign-in screen): the terminal's own queue, counts and totals only
            summary = services.offline.summary(actor) if actor is not None else services.offline.terminal_summary()
        except Exception:  # noqa: BLE001 - the banner only: the next refresh tries again
            log.warning("offline queue not read", exc_info=True)
            return
        self.call_from_thread(self._offline_summary, summary)  # type: ignore[attr-defined]

    def _offline_summary(self, summary: QueueSummary) -> None:
        self.offline_summary = summary
        self.show_outage()

    # -- remembering the day, uploading the queue ---------------------------------------------------
    def offline_sync(self) -> None:
        """Every few seconds, after a sign-in and when the database is back."""
        if self.services is not None and self.actor is not None and not self.locked and not self.database_down:
            self._offline_sync()

    @work(thread=True, exclusive=True, exit_on_error=False, group="offline-sync")
    def _offline_sync(self) -> None:
        services, actor = self.services, self.actor
        if services is None or actor is None:
            return
        report = None
        try:
            services.offline.remember(actor)
            if services.offline.summary(actor).queued:
                report = services.offline.upload(actor)
        except DatabaseUnavailable as exc:
            self.call_from_thread(self.database_unavailable, exc)  # type: ignore[attr-defined]
            return
        except Exception:  # noqa: BLE001 - tried again at the next sync; the queue keeps everything
            log.warning("offline sync failed", exc_info=True)
        if report is not None:
            self.call_from_thread(self._offline_uploaded, report)  # type: ignore[attr-defined]
        self.refresh_offline_summary()

    def _offline_uploaded(self, report: UploadReport) -> None:
        if report.posted:
            self.notify(_("Offline cash-ins posted: {count} ({references}).").format(  # type: ignore[attr-defined]
                count=len(report.posted), references=", ".join(i.reference for i in report.posted)),
                title=_("Offline queue"), severity="information", markup=False, timeout=15)
        if report.exceptions:
            self.notify(_("Refused by the books: {count}. The cash stays in the drawer until a supervisor "  # type: ignore[attr-defined]
                          "refunds or posts it (Ctrl+E).").format(count=len(report.exceptions)),
                        title=_("Offline queue"), severity="warning", markup=False, timeout=30)

    def remember_wallet(self, wallet_id: int) -> None:
        """A wallet is on screen while the database answers: keep it for an outage (once a minute per
        wallet: the history pages through it many times, and each note is a read and three fsyncs)."""
        if self.services is None or self.actor is None or self.database_down:
            return
        now = time.monotonic()
        seen: dict[int, float] = self.__dict__.setdefault("_offline_remembered", {})
        if now - seen.get(wallet_id, -REMEMBER_EVERY) < REMEMBER_EVERY:
            return
        seen[wallet_id] = now
        self._remember_wallet(wallet_id)

    @work(thread=True, exit_on_error=False, group="offline-remember")
    def _remember_wallet(self, wallet_id: int) -> None:
        try:
            self.services.offline.remember(self.actor, wallet_id)
        except Exception:  # noqa: BLE001 - quiet: the wallet just will not be offered offline
            log.info("wallet not remembered for offline use", exc_info=True)

    # -- keys ----------------------------------------------------------------------------------------
    def action_offline_cash_in(self) -> None:
        if self.actor is None or self.locked:
            return
        from .offline import OfflineCashInScreen

        if isinstance(self.screen, OfflineCashInScreen):
            return
        wallet = getattr(self.screen, "wallet", None)
        number = getattr(wallet, "number", "") if wallet is not None else ""
        amount = ""
        try:
            amount = self.screen.query_one("#cash-amount").value if type(self.screen).__name__ == "CashInForm" else ""
        except Exception:  # noqa: BLE001 - no amount on this screen
            amount = ""
        self.push_screen(OfflineCashInScreen(number=str(number or ""), amount=str(amount or "")),  # type: ignore[attr-defined]
                         lambda _r: self.refresh_offline_summary())

    def action_offline_exceptions(self) -> None:
        from .offline_exceptions import OfflineExceptionsScreen

        if self.actor is None or self.locked or isinstance(self.screen, OfflineExceptionsScreen):
            return
        self.push_screen(OfflineExceptionsScreen(), lambda _r: self.refresh_offline_summary())  # type: ignore[attr-defined]
