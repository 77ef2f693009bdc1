"""Set-up helpers for the demo, imports and tests: open drawers and stock the vault without a
supervisor countersigning (the approver is recorded as ``system:demo`` / ``system:setup``).

Never used by the app itself. They take the composition root (:class:`~teller_tui.services.Services`)
or anything with the same fields, described by :class:`SetupParts`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Protocol

from sqlmodel import select

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.roles import Role
from teller_tui.branch.cashbook import post_move, record_event, vault_account, vault_holdings
from teller_tui.branch.counts import clean_counts
from teller_tui.branch.drawer_lookup import actor_drawer
from teller_tui.branch.drawers import DrawerService
from teller_tui.branch.views import DrawerStatus
from teller_tui.common.clock import Clock
from teller_tui.common.errors import NotFound
from teller_tui.common.money import Money
from teller_tui.common.reference import count_total, make_change
from teller_tui.common.settings import Settings
from teller_tui.db.engine import Database
from teller_tui.ledger import Ledger, entry_facts
from teller_tui.ledger.accounts import drawer_code, vault_code
from teller_tui.ledger.business_day import Dating, current_business_date
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models.enums import DrawerEventKind, DrawerStatus as DrawerState
from teller_tui.models.people import Staff

__all__ = ["SetupParts", "adopt_vault_cash", "open_demo_drawer", "open_drawer_for_setup"]

DEMO_FLOAT = {"note:100": 50, "note:50": 20, "note:20": 25, "note:10": 30, "note:5": 20, "note:1": 50,
              "coin:1": 50, "coin:0.5": 40, "coin:0.1": 50}


class SetupParts(Protocol):
    """What the set-up helpers use of the composition root (read-only, as on the frozen Services)."""

    @property
    def db(self) -> Database: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def ledger(self) -> Ledger: ...
    @property
    def audit(self) -> AuditTrail: ...
    @property
    def drawers(self) -> DrawerService: ...


def open_demo_drawer(parts: SetupParts, username: str, counts: Mapping[str, int] | None = None) -> DrawerStatus:
    """Demo set-up: open today's business day and ``username``'s drawer with a float.

    No supervisor countersigns (the approver is recorded as ``system:demo``). Idempotent: a drawer
    already open today is left as it is. Cash the demo history left in the teller's drawer account
    goes back to the vault first, the vault's uncounted cash is counted into denominations
    (:func:`adopt_vault_cash`), and the vault is stocked from equity if it still lacks the float.
    """
    with parts.db.read() as session:
        row = session.exec(select(Staff).where(Staff.username == username)).one()
        actor = Actor(row.id, row.username, parts.settings.terminal_id, row.role, row.branch_code)
    system = Actor(None, "system:demo", parts.settings.terminal_id, Role.SYSTEM, actor.branch_code)
    drawers = parts.drawers
    counts = clean_counts(counts or DEMO_FLOAT)
    status = drawers.status(actor)
    if status.state in tuple(DrawerState):
        return status
    _sweep_idle_drawer(parts, system, actor)
    adopt_vault_cash(parts, system)
    vault = drawers.vault(actor.branch_code)
    if any(vault.holdings.get(k, 0) < n for k, n in counts.items()):
        drawers.receive_into_vault(system, {k: n * 4 for k, n in counts.items()}, source="equity",
                                   memo="Demo vault stock")
    drawers._open_drawer(actor, counts, "system:demo", "CNY")
    return drawers.status(actor)


def open_drawer_for_setup(parts: SetupParts, actor: Actor, amount: Money) -> int:
    """Set-up code (tests, imports): stock the vault from equity with ``amount`` in the fewest
    pieces and open ``actor``'s drawer with it as the float, recorded as approved by ``system:setup``.
    Returns the drawer id."""
    counts = make_change(amount)
    system = Actor(None, "system:setup", actor.terminal_id, Role.SYSTEM, actor.branch_code)
    parts.drawers.receive_into_vault(system, counts, source="equity", memo="Set-up stock", currency=amount.currency)
    return parts.drawers._open_drawer(actor, counts, "system:setup", amount.currency)


def adopt_vault_cash(parts: SetupParts, actor: Actor, currency: str = "CNY") -> int:
    """Count the vault's cash that has no denominations yet (ledger balance above the counted
    pieces, e.g. from an import or the demo history) into the fewest pieces. Returns the value
    adopted in minor units (0 when the vault was already fully counted). No money moves."""
    branch = actor.branch_code
    with parts.db.write() as session:
        try:
            acct = parts.ledger.account_id(session, vault_code(branch, currency))
        except NotFound:
            return 0
        b = parts.ledger.balance(session, acct)
        held = vault_holdings(session, branch, currency)
        gap = (b.debits_posted - b.credits_posted) - count_total(held, currency).minor
        if gap <= 0:
            return 0
        pieces = make_change(Money(gap, currency))
        business_date = current_business_date(session, branch, parts.clock)
        record_event(session, at=parts.clock.now(), drawer_id=None, branch=branch, business_date=business_date,
                     kind=DrawerEventKind.VAULT_COUNT, currency=currency, amount=gap, actor=actor, counts=pieces,
                     memo="Uncounted vault cash")
        parts.audit.append(session, actor, "vault_count", subject=f"vault:{branch}",
                           detail={"amount": gap, "currency": currency, "counts": pieces})
        return gap


def _sweep_idle_drawer(parts: SetupParts, system: Actor, teller: Actor, currency: str = "CNY") -> int:
    """Move cash left in a teller's drawer account outside any drawer day back to the vault."""
    with parts.db.write() as session:
        try:
            acct = parts.ledger.account_id(session, drawer_code(teller.branch_code, teller.username))
        except NotFound:
            return 0
        found = actor_drawer(session, teller)
        if found is not None and found[0] is not None:
            return 0
        b = parts.ledger.balance(session, acct)
        held = b.debits_posted - b.credits_posted
        if held <= 0:
            return 0
        vault = vault_account(session, parts.ledger, teller.branch_code, currency)
        entry = post_move(session, parts.ledger, system, kind=EntryKind.DRAWER_RETURN, debit_id=vault, credit_id=acct,
                  amount=Money(held, currency), dating=Dating.AFTER_HOURS,
                  key=f"sweep-{teller.username}-{uuid.uuid4().hex[:12]}",
                  memo=f"Idle drawer cash back to the vault ({teller.username})")
        parts.audit.append(session, system, "drawer_sweep", subject=f"drawer:{teller.username}",
                           detail={**entry_facts((entry, system.staff_id)), "amount": held, "currency": currency})
        return held
