"""The command palette: one registry of commands that every screen module can add to.

A command runs an *action string*, the same action a key runs, so the palette and the keys
never drift apart::

    from screens.commands import PaletteCommand, register_command
    from teller_tui.common.i18n import N_

    register_command(PaletteCommand(
        id="cash_in", title=N_("Cash in"), help=N_("Take cash into a wallet"),
        action="app.cash_in",                   # or "screen.something"
    ))

Titles and help are msgids, translated when the palette shows them. By default a command
is offered only to a signed-in person at an unlocked terminal (``needs_session=True``); pass
``available=lambda app: ...`` for finer rules (e.g. a role). Register at import time of your
screen module (that is cheap: it stores a dataclass) and import the module from
:func:`load_command_modules` or anywhere before the palette opens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.align import Align
from rich.text import Text
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.widgets.option_list import Option

from teller_tui.common.i18n import N_, _

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["PaletteCommand", "TellerCommandPalette", "TellerCommands", "available_commands", "register_command", "unregister_command"]


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    id: str
    title: str  # msgid
    action: str  # e.g. "app.sign_out", "screen.post"
    help: str = ""  # msgid
    needs_session: bool = True
    available: Callable[[Any], bool] | None = None
    roles: tuple[str, ...] = ()  # empty: any signed-in role


_REGISTRY: dict[str, PaletteCommand] = {}


def register_command(command: PaletteCommand) -> None:
    """Add (or replace, by id) a palette command."""
    _REGISTRY[command.id] = command


def unregister_command(command_id: str) -> None:
    _REGISTRY.pop(command_id, None)


def _is_available(app: Any, command: PaletteCommand) -> bool:
    if getattr(app, "locked", False):
        return False
    session = getattr(app, "session", None)
    if command.needs_session and (session is None or not session.complete):
        return False
    if command.roles and (session is None or session.staff.role not in command.roles):
        return False
    if command.available is not None:
        try:
            return bool(command.available(app))
        except Exception:  # noqa: BLE001 - a broken predicate hides its command, nothing more
            return False
    return True


def available_commands(app: Any) -> Iterator[PaletteCommand]:
    for command in list(_REGISTRY.values()):
        if _is_available(app, command):
            yield command


class TellerCommands(Provider):
    """Searches the registry; each hit runs its action on the app."""

    def _run(self, action: str) -> None:
        app: App[Any] = self.app
        app.call_later(app.run_action, action)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in available_commands(self.app):
            title = _(command.title)
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, command.action), text=title,
                          help=_(command.help) if command.help else None)

    async def discover(self) -> Hits:
        for command in available_commands(self.app):
            title = _(command.title)
            yield DiscoveryHit(title, partial(self._run, command.action), text=title,
                               help=_(command.help) if command.help else None)


class TellerCommandPalette(CommandPalette):
    """Textual's palette with its one built-in sentence in the person's language: it wrote
    "No matches found" in English in a Chinese session (the text is fixed in
    ``CommandPalette._start_no_matches_countdown``, repeated here with ``_()``)."""

    def _start_no_matches_countdown(self, search_value: str) -> None:
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(Align.center(Text(_("No matches found"), style="not bold")), disabled=True,
                           id=self._NO_MATCHES))
                self._list_visible = True
            else:
                self._list_visible = False  # discovery mode: nothing to say

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)


# The shell's own commands.
register_command(PaletteCommand("language", N_("Switch language / 切换语言"), "app.switch_language",
                                N_("English or Simplified Chinese"), needs_session=False))
register_command(PaletteCommand("sign_out", N_("Sign out"), "app.sign_out", N_("End your session at this terminal")))
register_command(PaletteCommand("lock", N_("Lock the screen"), "app.lock", N_("Keep your work; sign in again to continue")))
register_command(PaletteCommand("change_password", N_("Change my password"), "app.change_password"))
register_command(PaletteCommand("kb_review", N_("Articles to review"), "app.kb_review",
                                N_("Publish or reject knowledge-base revisions (a second person)"),
                                roles=("supervisor", "admin")))
