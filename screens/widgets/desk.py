"""What every teller-desk screen shares, on top of :mod:`screens.base` (translated bindings,
worker-error forwarding, relabel on language change): translated ``HELP``, access to the
services and the actor, and teller-fit error messages.

``HELP`` is written with ``N_()`` at class level (import time is too early to translate: the
locale is set later and may change at run time); the instance attribute holds the translation
the Keys panel shows, refreshed on mount and after a language switch.

The app exposes ``services`` (:class:`teller_tui.services.Services`) and ``actor``
(:class:`teller_tui.audit.trail.Actor`); both the real ``TellerApp`` and the tests' harness do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.common.errors import ApprovalRequired, DatabaseUnavailable, DomainError
from teller_tui.common.i18n import _

from ..base import note_refusal
from ..refusal_text import refusal_text
from .safe import notify_plain

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.services import Services

__all__ = ["DeskScreenMixin", "error_text"]


def error_text(error: BaseException) -> str:
    """A message fit for the teller: a DomainError's own text, anything else a generic line."""
    if isinstance(error, DomainError):
        return refusal_text(error)
    return _("Something went wrong; nothing was changed. Try again or call support. ({kind})").format(
        kind=type(error).__name__)


class DeskScreenMixin:
    """Mix into a :class:`screens.base.TellerScreen` / ``TellerModal`` (put it first)."""

    HELP: str | None = None
    CSS_PATH = str(Path(__file__).resolve().parent.parent / "desk.tcss")
    app: Any

    def translate_help(self) -> None:
        help_text = type(self).HELP
        if help_text:
            self.HELP = _(help_text)

    def on_mount(self) -> None:  # runs in addition to the subclass's on_mount (MRO dispatch)
        self.translate_help()

    async def relabel(self) -> None:
        self.translate_help()
        await super().relabel()  # type: ignore[misc]
        self.after_relabel()

    def after_relabel(self) -> None:
        """Called after a language switch recomposed the screen: redo what ``on_mount`` set up."""

    # -- access to the app's wiring ------------------------------------------------------
    @property
    def services(self) -> Services:
        return self.app.services  # type: ignore[no-any-return]

    @property
    def actor(self) -> Actor:
        return self.app.actor  # type: ignore[no-any-return]

    def show_error(self, error: BaseException | str, *, title: str = "", code: str | None = None) -> None:
        """A refusal or failure as a notice; a refusal the knowledge base explains (``code``, or the
        error's own) also offers F1 (:func:`screens.base.note_refusal`). The database being unreachable is
        the app's one notice per outage and its banner, not a second notice from the form."""
        unavailable = getattr(self.app, "database_unavailable", None)
        if isinstance(error, DatabaseUnavailable) and unavailable is not None:
            unavailable(error)
            return
        text = error if isinstance(error, str) else error_text(error)
        if code is None and isinstance(error, DomainError):
            code = error.code
        if note_refusal(self, code, text):
            text += "\n" + _("F1: what to tell the customer")
        notify_plain(self.app, text, title=title or _("Not done"), severity="error", timeout=8)

    def ask_approval(self, error: ApprovalRequired, retry: Callable[[int | None], None],
                     on_cancel: Callable[[], None] | None = None) -> None:
        """The one place an "a supervisor must approve" outcome arrives on a desk screen: the app's
        approval flow (:meth:`screens.app.TellerApp.request_approval`), then ``retry(approval_id)``.
        Without a request to approve (no ``spec``) the teller sees the reasons instead."""
        if not self.app.request_approval(error, retry, on_cancel):
            self.approval_required(list(error.reasons), list(error.rules))

    def approval_required(self, reasons: list[str], rules: list[str]) -> None:
        """The reasons an approval is needed, distinctly from a refusal (when there is no request to
        approve yet, e.g. from a preview)."""
        from .safe import clean

        text = _("Needs supervisor approval: {reasons}").format(reasons="; ".join(clean(r) for r in reasons))
        notify_plain(self.app, text, title=_("Approval needed"), severity="warning", timeout=10)

    def show_info(self, text: str, *, title: str = "") -> None:
        notify_plain(self.app, text, title=title, severity="information")
