"""Drawer custody screens: a break, a hand-over to another teller, and unlocking a colleague's account.

* :class:`BreakScreen` — the drawer is locked for a break (``services.custody``); the teller's
  password and a fresh code unlock it. Shown when the break starts (drawer F7) and again from F7
  while the drawer stays locked (after a sign-out, on another terminal).
* :class:`HandOverScreen` — the giver names the receiving teller (drawer F8); the drawer takes no
  cash from then on. F8 again withdraws the offer (before the receiver's count).
* :class:`TakeOverScreen` — the receiver's blind count of the drawer offered to them (drawer F8),
  then the countersignature of a third person through the app's one approval dialog (at this
  terminal or from the branch queue); the expected figure appears only after the count.
* :class:`StaffUnlockScreen` — a colleague locked out by wrong passwords or codes: user name and a
  reason, approved in person by a supervisor or an administrator (dashboard F6, palette).

The forms share the drawer forms' run-with-approval machinery (:class:`screens.drawer.ApprovalForm`).
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from teller_tui.branch.handover import HandedOver, HandoverOffer
from teller_tui.branch.views import CountResult
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import N_, _

from .commands import PaletteCommand, register_command
from .confirm import ConfirmScreen, facts_content
from .drawer import CSS_FILE, ApprovalForm, DenominationGrid
from .widgets.footer import KeyFooter
from .widgets.safe import clean

__all__ = ["BreakScreen", "HandOverScreen", "StaffUnlockScreen", "TakeOverScreen"]


def _buttons(ok: str) -> ComposeResult:
    with Horizontal(id="drawer-buttons"):
        yield Button(Content(ok), id="drawer-ok", variant="primary")
        yield Button(Content(_("Cancel")), id="drawer-cancel")


class _Form(ApprovalForm):
    CSS_PATH = CSS_FILE

    @on(Button.Pressed, "#drawer-cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#drawer-ok")
    def _ok(self) -> None:
        self.action_submit()

    def value(self, selector: str) -> str:
        return self.query_one(selector, Input).value


class BreakScreen(_Form):
    """The drawer is locked for a break; its own teller's password and a fresh code unlock it."""

    HELP = N_("Your drawer takes no cash while you are away. Back: type your password and a new code from your "
              "authenticator, then F10. Esc leaves this form; the drawer stays locked.")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="drawer-box"):
            yield Static(Content(_("On a break: drawer locked")), id="drawer-title")
            yield Static(Content(_("No cash transactions until you return and sign in again.")), classes="hint")
            yield Label(Content(_("Password")))
            yield Input(password=True, id="break-password")
            yield Label(Content(_("Authenticator code")))
            yield Input(restrict=r"[0-9]*", max_length=6, id="break-code")
            yield Static("", id="drawer-message")
            yield from _buttons(_("Return from break"))
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#break-password", Input).focus()

    def action_submit(self) -> None:
        if self.busy:
            return
        password, code = self.value("#break-password"), self.value("#break-code").strip()
        self.query_one("#break-password", Input).value = ""
        self.query_one("#break-code", Input).value = ""
        services, actor = self.services, self.actor
        self.run_service(lambda _approval_id: services.custody.return_from_break(actor, password, code))

    def succeeded(self, result: Any) -> None:
        self.notify(_("Welcome back: your drawer takes cash again."), markup=False)
        self.dismiss(True)


class HandOverScreen(_Form):
    """The giver names the colleague who takes the drawer over."""

    HELP = N_("Type the user name of the teller who takes your drawer over, then F10. From then on your drawer "
              "takes no cash; they count it and a supervisor countersigns. Esc cancels.")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="drawer-box"):
            yield Static(Content(_("Hand my drawer to another teller")), id="drawer-title")
            yield Label(Content(_("Receiving teller (user name)")))
            yield Input(id="handover-receiver", max_length=64)
            yield Static(Content(_("They count the cash blind at their sign-in (Drawer, F8); a third person "
                                   "countersigns. Any over/short is recorded against your drawer.")), classes="hint")
            yield Static("", id="drawer-message")
            yield from _buttons(_("Hand over"))
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#handover-receiver", Input).focus()

    def action_submit(self) -> None:
        if self.busy:
            return
        receiver = self.value("#handover-receiver").strip()
        if not receiver:
            self.message_line(_("Type the receiving teller's user name."), "error")
            return
        services, actor = self.services, self.actor
        self.run_service(lambda _approval_id: services.handover.offer(actor, receiver))

    def succeeded(self, result: HandoverOffer) -> None:
        self.notify(clean(_("Drawer offered to {user}: it takes no cash until the hand-over.").format(
            user=result.receiver)), markup=False)
        self.dismiss(True)


class TakeOverScreen(_Form):
    """The receiver counts the offered drawer blind; a third person countersigns the hand-over."""

    HELP = N_("Count every note and coin of the drawer handed to you. The expected figure appears only after you "
              "submit the count. Taking it over needs a third person's countersignature (at this terminal or from "
              "the approvals queue).")

    def __init__(self, offer: HandoverOffer, pending: CountResult | None = None) -> None:
        super().__init__()
        self.offer = offer
        self.result = pending

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="drawer-box"):
            yield Static(Content(_("Take over the drawer of {user}").format(user=clean(self.offer.giver))),
                         id="drawer-title")
            if self.result is None:
                yield Static(Content(_("Count the cash in the drawer. You will see the expected amount after "
                                       "you submit.")), id="count-hint")
                yield DenominationGrid(id="grid")
            else:
                yield Static(self._facts(), id="count-result")
            yield Static("", id="drawer-message")
            yield from _buttons(_("Submit count") if self.result is None else _("Take over"))
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.result is None:
            self.query_one(DenominationGrid).focus_first()
        else:
            self.query_one("#drawer-ok", Button).focus()

    def _facts(self) -> Content:
        r = self.result
        assert r is not None
        label = _("Short") if r.difference.minor < 0 else _("Over") if r.difference.minor > 0 else _("Balanced")
        return facts_content([
            (_("Counted"), format_money(r.counted)),
            (_("Expected"), format_money(r.expected)),
            (_("Difference"), f"{format_money(r.difference, sign=True)} ({label})"),
            (_("Tolerance"), format_money(r.tolerance)),
        ], emphasis=(_("Difference"),))

    def action_submit(self) -> None:
        if self.busy:
            return
        services, actor, giver = self.services, self.actor, self.offer.giver
        if self.result is None:
            grid = self.query_one(DenominationGrid)
            counts, total = grid.counts, grid.total
            self.app.push_screen(ConfirmScreen(
                _("Submit the count?"), [(_("Counted"), format_money(total))],
                warning=_("The count cannot be changed after you submit it.")),
                lambda ok: self.run_service(lambda _a: services.handover.count(actor, giver, counts)) if ok else None)
            return
        self.run_service(lambda approval_id: services.handover.take_over(actor, giver, approval_id=approval_id))

    async def _show_result(self) -> None:
        await self.recompose()
        self.query_one("#drawer-ok", Button).focus()

    def succeeded(self, result: Any) -> None:
        if isinstance(result, CountResult):
            self.result = result
            self.call_later(self._show_result)
            return
        if isinstance(result, HandedOver):
            self.notify(clean(_("Your drawer is open with {amount}, countersigned by {user}.").format(
                amount=format_money(result.counted), user=result.approver)), markup=False)
            self.dismiss(True)


class StaffUnlockScreen(_Form):
    """Unlock a colleague locked out by wrong passwords or codes; a supervisor approves in person."""

    HELP = N_("Type the colleague's user name and why you unlock the account, then F10. A supervisor or an "
              "administrator approves (at this terminal or from the approvals queue). Esc cancels.")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="drawer-box"):
            yield Static(Content(_("Unlock a colleague's account")), id="drawer-title")
            yield Label(Content(_("User name")))
            yield Input(id="unlock-username", max_length=64)
            yield Label(Content(_("Reason")))
            yield Input(id="unlock-reason", max_length=200)
            yield Static(Content(_("Check who they are in person before you unlock.")), classes="hint")
            yield Static("", id="drawer-message")
            yield from _buttons(_("Unlock"))
        yield KeyFooter()

    def __init__(self, username: str = "") -> None:
        super().__init__()
        self._username = username

    def on_mount(self) -> None:
        if self._username:
            self.query_one("#unlock-username", Input).value = self._username
            self.query_one("#unlock-reason", Input).focus()
            return
        self.query_one("#unlock-username", Input).focus()

    def action_submit(self) -> None:
        if self.busy:
            return
        username, reason = self.value("#unlock-username").strip(), self.value("#unlock-reason").strip()
        if not username:
            self.message_line(_("Type the colleague's user name."), "error")
            return
        services, actor = self.services, self.actor
        self.run_service(lambda approval_id: services.staff_unlock.unlock(actor, username, reason,
                                                                          approval_id=approval_id))

    def succeeded(self, result: Any) -> None:
        self.notify(clean(_("The account of {user} is unlocked.").format(user=result.username)), markup=False)
        self.dismiss(True)


def _counter(app: Any) -> bool:
    session = getattr(app, "session", None)
    return session is not None and session.staff.role in ("teller", "supervisor", "admin")


register_command(PaletteCommand("staff.unlock", N_("Unlock a colleague's account…"), "app.staff_unlock",
                                N_("A colleague locked out by wrong passwords or codes; a supervisor approves"),
                                available=_counter))
