"""Who may call what: the guard of every public service method, and the table it reads
(:data:`PERMISSIONS`, kept in :mod:`teller_tui.auth.permission_table`).

:data:`PERMISSIONS` names, for each field of :class:`teller_tui.services.Services` that is a
service, every public method and how it is reached:

``actor``
    Called on behalf of a person or terminal, with an :class:`~teller_tui.audit.trail.Actor`
    as its first argument. :func:`guarded` checks, before anything else runs, that the actor's
    role is one of ``roles``, then reads the person's staff row again
    (:mod:`teller_tui.auth.live`: disabled, locked or demoted people are refused at once), and
    marks the actor as acting so that every write transaction of the call re-reads the row
    inside the transaction (the postings, ``at_write``, skip the first read: their first
    database work is their write transaction, whose own re-read gives the same refusal). ``scope`` says where the method may act: ``branch`` (the actor's
    own branch: drawers, vault, business day, approvals, drafts), ``own`` (the actor's own
    things: their drawer, their request, their credentials, a kiosk customer's own wallets),
    ``bank`` (any customer of the bank: customers are served at every branch). The method itself
    enforces the scope against the target it loads (it alone knows the target).
``in_transaction``
    A building block that takes the caller's open ``Session``: called only from inside
    another service's guarded call, whose transaction already re-read the actor.
``pre_sign_in``
    Establishes an identity (sign-in, a second person's fresh credentials, first-run set-up,
    the kiosk's own identity): there is no signed-in actor yet; the method authenticates.
``read``
    A staff read without an actor argument (look-ups for the desk). The process boundary is
    what protects it: a kiosk never runs with a database login that can read these tables
    (see :mod:`teller_tui.db.roles`).
``pure``
    Computes from its arguments (validation, formatting, policy evaluation); reads nothing
    about customers.
``housekeeping``
    Resolves only what is past its time (expired approvals, expired drafts); safe to run by
    anyone, no actor.

Identities: ``teller``, ``supervisor``, ``admin``, ``kiosk``, ``system`` (the host's command
line), ``trainee`` (may do nothing in live mode: in no role set of this table) and disabled
staff (refused everything by the live check, whatever their role).

``tests/test_authorization_table.py`` enumerates the public methods of every service and calls
each one as every identity: any call allowed but not in this table fails the test, and so does
a method missing from it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from teller_tui.audit.trail import Actor
from teller_tui.auth.access import Access, Permission, Scope
from teller_tui.auth.live import acting_as, check_staff_row, checked_at_write
from teller_tui.auth.permission_table import INFRASTRUCTURE, PERMISSIONS
from teller_tui.auth.roles import Role
from teller_tui.common.errors import PermissionDenied
from teller_tui.common.i18n import _

if TYPE_CHECKING:
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database

__all__ = [
    "INFRASTRUCTURE",
    "PERMISSIONS",
    "Access",
    "Permission",
    "Scope",
    "authorize",
    "guarded",
    "permission",
]


def permission(service: str, method: str) -> Permission:
    """The table entry of ``service.method``; KeyError when it is missing (a bug, caught by the test)."""
    return PERMISSIONS[service][method]


def authorize(actor: object, service: str, method: str) -> Permission:
    """Refuse (:class:`PermissionDenied`, code ``role``) unless ``actor``'s role may call ``service.method``."""
    rule = permission(service, method)
    if rule.access is not Access.ACTOR:
        raise TypeError(f"{service}.{method} is not called on behalf of an actor ({rule.access})")
    role = getattr(actor, "role", None)
    if not isinstance(actor, Actor) or role not in rule.roles:
        if role == Role.KIOSK:
            raise PermissionDenied(_("A self-service kiosk cannot do this."), code="role", role=role,
                                   method=f"{service}.{method}")
        if role == Role.TRAINEE:
            raise PermissionDenied(_("A trainee cannot do this in live mode."), code="role", role=role,
                                   method=f"{service}.{method}")
        raise PermissionDenied(_("Your role cannot do this."), code="role", role=role, method=f"{service}.{method}")
    return rule


class _Service(Protocol):
    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...


F = TypeVar("F", bound=Callable[..., object])


def guarded(service: str) -> Callable[[F], F]:
    """Decorate a public service method whose first argument (after ``self``) is the actor.

    Checks the table entry of ``service.<method name>`` (looked up when the class is defined, so
    a method missing from the table fails at import), the actor's staff row, and marks the actor
    as acting for the call (see :mod:`teller_tui.auth.live`).
    """

    def wrap(fn: F) -> F:
        name = fn.__name__
        rule = permission(service, name)
        if rule.access is not Access.ACTOR:
            raise TypeError(f"{service}.{name} is {rule.access}, not guarded by actor")

        @functools.wraps(fn)
        def call(self: _Service, *args: object, **kwargs: object) -> object:
            actor = kwargs["actor"] if "actor" in kwargs else (args[0] if args else None)
            authorize(actor, service, name)
            assert isinstance(actor, Actor)
            if not rule.live_check:
                return fn(self, *args, **kwargs)
            if not (rule.at_write and checked_at_write(self.db)):
                with self.db.read() as s:
                    check_staff_row(s, actor, self.clock)
            with acting_as(actor):
                return fn(self, *args, **kwargs)

        return call  # type: ignore[return-value]

    return wrap
