"""The counter's risk warning: one or two lines above a customer's wallet or a cash form.

``RiskBanner`` asks ``services.risk.warnings_for`` in a thread worker whenever it is given a wallet
(:meth:`RiskBanner.show_for`) and stays hidden when there is nothing to say. The warning starts
with the words "Risk warning" (and how many there are), so its meaning never rests on colour; the
message is what the teller should ask or say (a watch-list match only tells the teller to call a
supervisor, never the customer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.content import Content
from textual.widgets import Static

from teller_tui.common.i18n import _

from .safe import clean

if TYPE_CHECKING:
    from teller_tui.risk.warnings import RiskWarning

__all__ = ["RiskBanner", "banner_content"]


def banner_content(warnings: list[RiskWarning]) -> Content:
    """``⚠Risk warnings (n): <first message>`` (the first is the most important: the oldest alert)."""
    if not warnings:
        return Content("")
    message = clean(warnings[0].message)
    if len(warnings) > 1:
        message += " " + _("Also: {others}").format(others="; ".join(clean(w.message) for w in warnings[1:]))
    text = "⚠" + (_("Risk warning: {message}").format(message=message) if len(warnings) == 1 else
                  _("Risk warnings ({count}): {message}").format(count=len(warnings), message=message))
    head = text.rfind(message)  # the label (and the sign) in bold, the message plain
    return Content(text).stylize("bold", 0, head) if head > 0 else Content(text)


class RiskBanner(Static):
    DEFAULT_CSS = """
    RiskBanner {
        height: auto;
        max-height: 3;
        display: none;
        background: $warning 20%;
        padding: 0 1;
    }
    RiskBanner.-shown {
        display: block;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.wallet_id: int | None = None
        self.warnings: list[RiskWarning] = []

    def show_for(self, wallet_id: int | None) -> None:
        self.wallet_id = wallet_id
        if wallet_id is None:
            self._shown([], None)
            return
        self._load(wallet_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="risk-banner")
    def _load(self, wallet_id: int) -> None:
        app: Any = self.app
        services, actor = app.services, app.actor
        if services is None or actor is None:
            return
        try:
            found = services.risk.warnings_for(actor, wallet_id)
        except Exception:  # noqa: BLE001 - a warning that cannot be read must not stop the counter
            return
        self.app.call_from_thread(self._shown, found, wallet_id)

    def _shown(self, warnings: list[RiskWarning], wallet_id: int | None) -> None:
        if wallet_id != self.wallet_id:
            return  # another wallet was selected meanwhile
        self.warnings = warnings
        self.update(banner_content(warnings))
        self.set_class(bool(warnings), "-shown")
