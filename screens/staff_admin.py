"""Staff administration for administrators (ctrl+g on the home screen, palette "Staff administration").

:class:`StaffAdminScreen` lists everyone with role, status and last sign-in (``services.staff_admin``);
``a`` adds a person (:class:`AddStaffScreen`: the one-time password is shown once; the person changes it
and enrols an authenticator at their first sign-in, as after ``teller staff add``), ``r`` changes the
role, ``d`` disables, ``e`` re-enables, ``t`` resets the authenticator (:class:`StaffChangeScreen`),
``u`` unlocks (:class:`screens.custody.StaffUnlockScreen`). A role grant (adding is one), a re-enable
and an authenticator reset wait for a second administrator or a supervisor through the app's approval
dialog (at this terminal or from the queue). On PostgreSQL the application role cannot write staff
roles: the screen says so when this terminal is not connected as the admin role.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from teller_tui.common.formatting import display_width, format_datetime, truncate
from teller_tui.common.i18n import N_, _

from .base import TellerScreen
from .commands import PaletteCommand, register_command
from .confirm import facts_content
from .drawer import CSS_FILE, ApprovalForm
from .widgets.footer import KeyFooter
from .widgets.safe import clean, literal

if TYPE_CHECKING:
    from teller_tui.approvals.staff_admin import StaffEntry
    from teller_tui.auth.staff import StaffView

STAFF_CSS = Path(__file__).resolve().parent / "staff_admin.tcss"

__all__ = ["AddStaffScreen", "StaffAdminScreen", "StaffChangeScreen", "admin_connection_needed"]

register_command(PaletteCommand("staff_admin", N_("Staff administration"), "app.open_staff_admin",
                                N_("Add, disable, re-enable staff; change roles; reset authenticators"),
                                roles=("admin",)))

ROLES: tuple[tuple[str, str], ...] = (("teller", N_("Teller")), ("supervisor", N_("Supervisor")),
                                      ("admin", N_("Administrator")))


def role_label(role: str) -> str:
    return next((_(label) for key, label in (*ROLES, ("kiosk", N_("Kiosk"))) if key == role), role)


def admin_connection_needed() -> str:
    """The one sentence shown when this terminal connects with a database role that cannot write staff."""
    return _("Staff changes need the database's admin role: start this terminal with TELLER_DATABASE_URL "
             "set to the admin role's connection, as for `teller staff`.")


def status_label(view: StaffView, now: Any) -> str:
    if view.disabled:
        return _("disabled")
    if view.locked(now):
        return _("locked")
    if view.role != "kiosk" and (view.must_change_password or not view.totp_active):
        return _("set-up due")  # a kiosk or customer display identity never signs in with a password
    return _("active")


#: A user name shows whole up to USER_MAX cells; longer ones end with "…". On a narrow screen the column
#: gives room to the person's name down to USER_FIT (kiosk and display identities such as
#: ``kiosk-pad-t01`` are within both).
USER_MAX, USER_FIT = 24, 16
#: The person's name takes the room the other columns leave, between these.
NAME_MIN, NAME_MAX = 8, 30
#: DataTable's cell padding, both sides of every column.
CELL_PAD = 2


def fit_columns(rows: list[tuple[str, str, str, str, str]], headers: tuple[str, str, str, str, str],
                available: int) -> tuple[int, int, int, int, int]:
    """Cells per column (user, name, role, status, last sign-in) so that the table fits ``available``
    cells: user names, roles, statuses and dates whole (a user name up to :data:`USER_MAX`), the person's
    name in the rest."""
    def widest(i: int) -> int:
        return max([display_width(headers[i]), *(display_width(r[i]) for r in rows)])

    user = min(widest(0), USER_MAX)
    role, status, last = widest(2), widest(3), widest(4)
    wanted = min(widest(1), NAME_MAX)
    rest = available - user - role - status - last - 5 * CELL_PAD
    if rest < wanted and user > USER_FIT:  # narrow: the longest user names give way to the names
        user = max(USER_FIT, user - (wanted - rest))
        rest = available - user - role - status - last - 5 * CELL_PAD
    name = max(NAME_MIN, min(wanted, rest))
    return user, name, role, status, last


class StaffAdminScreen(TellerScreen[None]):
    CSS_PATH = STAFF_CSS

    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="staff.back"),
        Binding("a", "add", N_("Add"), id="staff.add"),
        Binding("r", "change('role')", N_("Role"), id="staff.role"),
        Binding("d", "change('disable')", N_("Disable"), id="staff.disable"),
        Binding("e", "change('enable')", N_("Re-enable"), id="staff.enable"),
        Binding("t", "change('totp')", N_("Reset authenticator"), id="staff.totp"),
        Binding("u", "unlock", N_("Unlock"), id="staff.unlock"),
        Binding("f5", "refresh", N_("Refresh"), id="staff.refresh"),
    ]
    HELP = N_("Everyone with a staff account. a add a person, r change the role, d disable, e re-enable, "
              "t reset the authenticator, u unlock, F5 refresh. A role grant (adding a person is one), a "
              "re-enable and an authenticator reset wait for a second administrator or a supervisor.")

    class Loaded(Message):
        def __init__(self, entries: list[StaffEntry] | None, writable: bool, error: BaseException | None) -> None:
            super().__init__()
            self.entries, self.writable, self.error = entries, writable, error

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[StaffEntry] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="staff-body"):
            yield Static(Content(_("Staff administration")), id="staff-title")
            yield Static(Content(admin_connection_needed()), id="staff-warning")
            yield DataTable(id="staff-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="staff-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#staff-warning").display = False
        self._setup_table()
        self.action_refresh()

    def _headers(self) -> tuple[str, str, str, str, str]:
        return _("User"), _("Name"), _("Role"), _("Status"), _("Last sign-in")

    def _setup_table(self, rows: list[tuple[str, str, str, str, str]] | None = None) -> None:
        """The columns, sized to the rows (user names whole up to USER_MAX) and to the screen's width."""
        table = self.query_one("#staff-table", DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        headers = self._headers()
        # The table's width: the screen less the body's padding (2) and a vertical scrollbar's room (2).
        available = max(self.app.size.width, 40) - 4
        widths = fit_columns(rows or [], headers, available)
        for label, key, width in zip(headers, ("user", "name", "role", "status", "last"), widths, strict=True):
            table.add_column(label, key=key, width=width)
        for row in rows or []:
            table.add_row(*(literal(truncate(text, width)) for text, width in zip(row, widths, strict=True)),
                          key=row[0])
        if rows and 0 <= keep < len(rows):
            table.move_cursor(row=keep)
        table.focus()

    def on_resize(self) -> None:
        if self.entries:
            self._setup_table(self._rows())

    def _rows(self) -> list[tuple[str, str, str, str, str]]:
        now = self.app.services.clock.now()  # type: ignore[attr-defined]
        return [(clean(e.staff.username), clean(e.staff.display_name), role_label(e.staff.role),
                 status_label(e.staff, now), format_datetime(e.last_sign_in) if e.last_sign_in else "—")
                for e in self.entries]

    async def relabel(self) -> None:
        await super().relabel()
        self._setup_table()
        self.action_refresh()

    def action_refresh(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="staff-load")
    def _load(self) -> None:
        app: Any = self.app
        try:
            entries = app.services.staff_admin.roster(app.actor)
            writable = app.services.staff_admin.can_write_staff(app.actor)
        except Exception as exc:  # noqa: BLE001 - shown on the screen
            self.post_message(self.Loaded(None, True, exc))
            return
        self.post_message(self.Loaded(entries, writable, None))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        from .widgets.desk import error_text

        note = self.query_one("#staff-message", Static)
        if message.entries is None:
            note.update(Content(error_text(message.error) if message.error else ""))
            return
        self.query_one("#staff-warning").display = not message.writable
        self.entries = message.entries
        self._setup_table(self._rows())
        note.update(Content(_("{count} people. The keys below act on the selected person.").format(
            count=len(message.entries))))

    def _selected(self) -> StaffView | None:
        table = self.query_one("#staff-table", DataTable)
        if not self.entries or not 0 <= table.cursor_row < len(self.entries):
            return None
        return self.entries[table.cursor_row].staff

    def action_back(self) -> None:
        self.dismiss(None)

    def action_add(self) -> None:
        self.app.push_screen(AddStaffScreen(), lambda _r: self.action_refresh())

    def action_change(self, kind: str) -> None:
        view = self._selected()
        if view is not None:
            self.app.push_screen(StaffChangeScreen(kind, view), lambda _r: self.action_refresh())

    def action_unlock(self) -> None:
        from .custody import StaffUnlockScreen

        view = self._selected()
        if view is not None:
            self.app.push_screen(StaffUnlockScreen(username=view.username), lambda _r: self.action_refresh())


def _buttons(ok: str) -> ComposeResult:
    with Horizontal(id="drawer-buttons"):
        yield Button(Content(ok), id="drawer-ok", variant="primary")
        yield Button(Content(_("Cancel")), id="drawer-cancel")


class _StaffForm(ApprovalForm):
    CSS_PATH = [CSS_FILE, STAFF_CSS]

    @on(Button.Pressed, "#drawer-cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#drawer-ok")
    def _ok(self) -> None:
        self.action_submit()

    def value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()


_CHANGE_TITLES = {"role": N_("Change the role of {user}"), "disable": N_("Disable the account of {user}"),
                  "enable": N_("Re-enable the account of {user}"), "totp": N_("Reset the authenticator of {user}")}
_CHANGE_OK = {"role": N_("Change role"), "disable": N_("Disable"), "enable": N_("Re-enable"),
              "totp": N_("Reset")}
_CHANGE_HINTS = {
    "role": N_("A second administrator or a supervisor approves the new role."),
    "disable": N_("The person is signed out at their next action and cannot sign in until re-enabled."),
    "enable": N_("A second administrator or a supervisor approves."),
    "totp": N_("They enrol a new authenticator at their next sign-in. A second administrator or a "
               "supervisor approves."),
}


class StaffChangeScreen(_StaffForm):
    """One change to one person: role, disable, re-enable or authenticator reset, with a reason."""

    HELP = N_("Give a reason (and the new role), then F10. Changes that need approval open the approval "
              "dialog. Esc cancels.")

    def __init__(self, kind: str, view: StaffView) -> None:
        super().__init__()
        self.kind, self.view = kind, view

    def compose(self) -> ComposeResult:
        v = self.view
        with VerticalScroll(id="drawer-box"):
            yield Static(Content(_(_CHANGE_TITLES[self.kind]).format(user=clean(v.username))), id="drawer-title")
            yield Static(facts_content([(_("Name"), v.display_name), (_("Role"), role_label(v.role))]))
            if self.kind == "role":
                yield Label(Content(_("New role")))
                yield Select([(_(label), key) for key, label in ROLES if key != v.role], id="staff-role",
                             allow_blank=False)
            yield Label(Content(_("Reason")))
            yield Input(id="staff-reason", max_length=200)
            yield Static(Content(_(_CHANGE_HINTS[self.kind])), classes="hint")
            yield Static("", id="drawer-message")
            yield from _buttons(_(_CHANGE_OK[self.kind]))
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#staff-role" if self.kind == "role" else "#staff-reason").focus()

    def action_submit(self) -> None:
        if self.busy:
            return
        reason, user = self.value("#staff-reason"), self.view.username
        if not reason:
            self.message_line(_("Give a reason."), "error")
            self.query_one("#staff-reason").focus()
            return
        staff, actor = self.services.staff_admin, self.actor
        if self.kind == "role":
            role = str(self.query_one("#staff-role", Select).value)
            self.run_service(lambda a: staff.change_role(actor, user, role, reason, approval_id=a))
        elif self.kind == "disable":
            self.run_service(lambda _a: staff.disable(actor, user, reason))
        elif self.kind == "enable":
            self.run_service(lambda a: staff.enable(actor, user, reason, approval_id=a))
        else:
            self.run_service(lambda a: staff.reset_authenticator(actor, user, reason, approval_id=a))

    def succeeded(self, result: Any) -> None:
        self.notify(clean(_("Done: {user} is now {role}, {status}.").format(
            user=result.username, role=role_label(result.role),
            status=status_label(result, self.services.clock.now()))), markup=False)
        self.dismiss(True)


class AddStaffScreen(_StaffForm):
    """Add a person; once approved, show the one-time password exactly once."""

    HELP = N_("User name, the person's name and the role, then F10. A second administrator or a supervisor "
              "approves the role. The one-time password is shown once: give it to the person.")

    def __init__(self) -> None:
        super().__init__()
        self.created: Any = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="drawer-box"):
            if self.created is not None:
                yield from self._compose_created()
            else:
                yield Static(Content(_("Add a person")), id="drawer-title")
                yield Label(Content(_("User name")))
                yield Input(id="staff-username", max_length=32)
                yield Label(Content(_("Name")))
                yield Input(id="staff-name", max_length=80)
                yield Label(Content(_("Role")))
                yield Select([(_(label), key) for key, label in ROLES], id="staff-role", allow_blank=False)
                yield Static(Content(_("They change the password and enrol an authenticator at their first "
                                       "sign-in.")), classes="hint")
                yield Static("", id="drawer-message")
                yield from _buttons(_("Add"))
        yield KeyFooter()

    def _compose_created(self) -> ComposeResult:
        new = self.created
        yield Static(Content(_("{user} is added as {role}").format(
            user=clean(new.staff.username), role=role_label(new.staff.role))), id="drawer-title")
        yield Label(Content(_("One-time password (shown once):")))
        yield Static(Content(new.one_time_password), id="staff-password")
        yield Static(Content(_("Give it to the person in private. At their first sign-in they choose their own "
                               "password and enrol an authenticator.")), classes="hint")
        yield Static("", id="drawer-message")
        with Horizontal(id="drawer-buttons"):
            yield Button(Content(_("Done")), id="drawer-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#staff-username").focus()

    def action_cancel(self) -> None:
        self.dismiss(self.created is not None)

    def action_submit(self) -> None:
        if self.created is not None:
            self.dismiss(True)
            return
        if self.busy:
            return
        user, name = self.value("#staff-username"), self.value("#staff-name")
        role = str(self.query_one("#staff-role", Select).value)
        if not user or not name:
            self.message_line(_("Type the user name and the person's name."), "error")
            return
        staff, actor = self.services.staff_admin, self.actor
        self.run_service(lambda a: staff.add(actor, user, name, role, approval_id=a))

    async def _show_created(self) -> None:
        await self.recompose()
        self.query_one("#drawer-ok", Button).focus()

    def succeeded(self, result: Any) -> None:
        self.created = result
        self.call_later(self._show_created)
