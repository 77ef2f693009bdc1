"""Drawer custody: a teller who steps away locks their drawer; it takes no cash until they are back.

Public API::

    custody = DrawerCustodyService(db=db, clock=clock, audit=audit, auth=auth)   # services.custody
    custody.take_break(actor)                       # the drawer is locked (drawer event break_start)
    custody.return_from_break(actor, password, code)  # the same person, password and a fresh code

While a drawer is on a break, :func:`teller_tui.branch.drawer_lookup.require_open_drawer` (the rule
every cash transaction and vault transfer passes through) refuses with ``drawer_on_break``, for any
session: the teller's own, one left open on the terminal, or anyone else's. Returning takes a
fresh authentication of the drawer's own teller (their password and an unused code), like a sign-in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import COUNTER_ROLES
from teller_tui.branch.cashbook import record_event
from teller_tui.branch.drawer_lookup import actor_drawer, on_break, require_open_drawer
from teller_tui.common.errors import Conflict, PermissionDenied
from teller_tui.common.i18n import _
from teller_tui.models.enums import DrawerEventKind

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.auth.service import AuthService
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database

__all__ = ["DrawerCustodyService"]


class DrawerCustodyService:
    def __init__(self, *, db: Database, clock: Clock, audit: AuditTrail, auth: AuthService) -> None:
        self.db, self.clock, self.audit, self.auth = db, clock, audit, auth

    @guarded("custody")
    def take_break(self, actor: Actor) -> None:
        """Lock the actor's open drawer until they return (idempotent refusal if already on a break)."""
        with self.db.write() as s:
            drawer = require_open_drawer(s, actor)  # refuses a drawer already on a break
            record_event(s, at=self.clock.now(), drawer_id=drawer.drawer_id, branch=actor.branch_code,
                         business_date=drawer.business_date, kind=DrawerEventKind.BREAK_START,
                         currency=drawer.currency, amount=0, actor=actor, counts={})
            self.audit.append(s, actor, "drawer_break", subject=f"drawer:{drawer.drawer_id}")

    @guarded("custody")
    def on_break(self, actor: Actor) -> bool:
        """Whether the actor's drawer is locked for a break."""
        with self.db.read() as s:
            try:
                require_open_drawer(s, actor)
            except Conflict as exc:
                return exc.code == "drawer_on_break"
            return False

    @guarded("custody")
    def return_from_break(self, actor: Actor, password: str, code: str) -> None:
        """The drawer's own teller is back: their password and a fresh code unlock it."""
        staff = self.auth.verify_fresh_credentials(actor.username, password, code, required_role=COUNTER_ROLES,
                                                   not_staff_id=None, terminal_id=actor.terminal_id,
                                                   action="drawer_return")
        if staff.id != actor.staff_id:
            raise PermissionDenied(_("Only the drawer's own teller can unlock it."), code="drawer_not_own")
        with self.db.write() as s:
            found = actor_drawer(s, actor)
            drawer = found[0] if found is not None else None
            if drawer is None or drawer.id is None or not on_break(s, drawer.id):
                raise Conflict(_("Your drawer is not locked for a break."), code="drawer_not_on_break")
            record_event(s, at=self.clock.now(), drawer_id=drawer.id, branch=actor.branch_code,
                         business_date=drawer.business_date, kind=DrawerEventKind.BREAK_END,
                         currency=drawer.currency, amount=0, actor=actor, counts={})
            self.audit.append(s, actor, "drawer_return", subject=f"drawer:{drawer.id}")
