"""The vocabulary of the permission table (:mod:`teller_tui.auth.permission_table`): how a method
is reached (:class:`Access`), where an actor may act (:class:`Scope`), one entry
(:class:`Permission`), and the role sets the table's rows are written with. The meaning of each
access kind is described in :mod:`teller_tui.auth.permissions`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from teller_tui.auth.roles import Role

__all__ = ["ADMINS", "APPROVING", "COUNTER", "HOUSE", "IN_TXN", "PRE", "PURE", "READ", "STAFF", "SUPERVISION",
           "Access", "Permission", "Scope", "actor_rule"]


class Access(StrEnum):
    ACTOR = "actor"
    IN_TRANSACTION = "in_transaction"
    PRE_SIGN_IN = "pre_sign_in"
    READ = "read"
    PURE = "pure"
    HOUSEKEEPING = "housekeeping"


class Scope(StrEnum):
    BANK = "bank"
    BRANCH = "branch"
    OWN = "own"


@dataclass(frozen=True, slots=True)
class Permission:
    access: Access
    roles: frozenset[str] = frozenset()
    scope: Scope = Scope.BRANCH
    #: False only for recording a session event: a disabled person's sign-out is still recorded.
    live_check: bool = True
    #: The method's first database work is one write transaction (after argument checks only), whose
    #: re-read of the staff row (:class:`teller_tui.auth.live.LiveStaffCheck`) refuses with the same
    #: :class:`~teller_tui.auth.live.StaffRefused`, before anything is read or written: the guard's own
    #: read transaction before it is skipped (one transaction less per posting).
    at_write: bool = False


def actor_rule(*roles: Role, scope: Scope = Scope.BRANCH, live_check: bool = True, at_write: bool = False
               ) -> Permission:
    return Permission(Access.ACTOR, frozenset(roles), scope, live_check, at_write)


IN_TXN = Permission(Access.IN_TRANSACTION)
PRE = Permission(Access.PRE_SIGN_IN)
READ = Permission(Access.READ)
PURE = Permission(Access.PURE)
HOUSE = Permission(Access.HOUSEKEEPING)

_T, _S, _A, _SYS = Role.TELLER, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM
COUNTER = (_T, _S, _A)  # people at the workstation (hold a drawer, hand out cash)
STAFF = (_T, _S, _A, _SYS)  # counter staff and the host's command line
SUPERVISION = (_S, _A, _SYS)
APPROVING = (_S, _A)  # the approval policy narrows further (approver roles, limits)
ADMINS = (_A, _SYS)
