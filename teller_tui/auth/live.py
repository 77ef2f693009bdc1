"""Sessions stay honest: the acting person's staff row is read again before anything is done.

A signed-in terminal holds an :class:`~teller_tui.audit.trail.Actor` (role, branch) taken at
sign-in. Nothing in the core trusts it beyond that moment:

* every guarded service call (:func:`teller_tui.auth.permissions.guarded`) first reads the
  person's row and refuses a disabled, locked, demoted or moved person at once;
* every write transaction started while a guarded call runs reads the row again *inside that
  transaction* (:func:`install` registers :meth:`LiveStaffCheck.in_transaction` as a
  ``Database.write_checks`` hook), so a person disabled between the two reads is still refused
  and nothing is written.

The refusal is :class:`StaffRefused` with one of :data:`STAFF_REFUSAL_CODES`; the teller app
signs the person out with the message when it sees one. The host's command line (``system``,
no staff row) is not checked here: it has no session to go stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import bindparam, select
from sqlmodel import col

from teller_tui.auth.session import STAFF_REFUSAL_CODES
from teller_tui.common.errors import PermissionDenied
from teller_tui.common.i18n import _
from teller_tui.db import lean
from teller_tui.models import Staff

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database

__all__ = [
    "STAFF_REFUSAL_CODES",
    "LiveStaffCheck",
    "StaffRefused",
    "acting_as",
    "check_staff_row",
    "checked_at_write",
    "current_actor",
    "StaffState",
    "install",
    "read_staff_state",
    "staff_refusal",
]


_current: ContextVar[Actor | None] = ContextVar("teller_acting_staff", default=None)


class StaffRefused(PermissionDenied):
    """The person's account changed since they signed in (disabled, locked, role or branch changed)."""

    code = "staff_disabled"


def current_actor() -> Actor | None:
    """The actor of the guarded service call running in this thread, if any."""
    return _current.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Mark ``actor`` as the one acting for the duration (nested calls restore the outer actor)."""
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)


def staff_refusal(actor: Actor, row: Staff | StaffState | None, now: datetime) -> StaffRefused | None:
    """Why ``row`` (the actor's staff row as stored now) no longer lets ``actor`` act, or None."""
    if row is None:
        return StaffRefused(_("Your account no longer exists. You have been signed out."), code="staff_missing")
    if row.disabled:
        return StaffRefused(_("Your account has been disabled. You have been signed out."), code="staff_disabled")
    if row.locked_until is not None and row.locked_until > now:
        return StaffRefused(_("Your account is locked. You have been signed out; ask a supervisor."),
                            code="staff_locked")
    if row.role != actor.role or row.branch_code != actor.branch_code:
        return StaffRefused(_("Your role or branch has changed. Sign in again."), code="staff_role_changed")
    return None


_STAFF_STATE = (select(col(Staff.disabled), col(Staff.locked_until), col(Staff.role), col(Staff.branch_code))
                .where(col(Staff.id) == bindparam("id")))  # built once


class StaffState(NamedTuple):
    """The columns the check reads (only these: a kiosk's database role may read no credentials)."""

    disabled: bool
    locked_until: datetime | None
    role: str
    branch_code: str


def read_staff_state(session: Session, staff_id: int) -> StaffState | None:
    found = lean.first(session, _STAFF_STATE, {"id": staff_id})
    return None if found is None else StaffState(bool(found[0]), found[1], str(found[2]), str(found[3]))


def check_staff_row(session: Session, actor: Actor, clock: Clock) -> None:
    """Read the actor's staff row in ``session`` and refuse if it no longer matches the actor.

    Staff without a row (``staff_id`` None: the host's command line) are not checked.
    """
    if actor.staff_id is None:
        return
    refusal = staff_refusal(actor, read_staff_state(session, actor.staff_id), clock.now())
    if refusal is not None:
        raise refusal


class LiveStaffCheck:
    """The hook every write transaction runs (see the module docstring)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def in_transaction(self, session: Session) -> None:
        actor = _current.get()
        if actor is not None:
            check_staff_row(session, actor, self.clock)


def checked_at_write(db: Database) -> bool:
    """Whether every write transaction on ``db`` re-reads the acting person's row (:func:`install` ran)."""
    return any(isinstance(getattr(check, "__self__", None), LiveStaffCheck) for check in db.write_checks)


def install(db: Database, clock: Clock) -> LiveStaffCheck:
    """Register the check on ``db`` (once; the composition root calls this)."""
    for existing in db.write_checks:
        owner = getattr(existing, "__self__", None)
        if isinstance(owner, LiveStaffCheck):
            return owner
    check = LiveStaffCheck(clock)
    db.write_checks.append(check.in_transaction)
    return check
