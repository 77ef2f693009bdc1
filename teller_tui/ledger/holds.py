"""Holds: the life cycle of a two-phase transfer (:class:`LedgerHolds`: reserve, post, void,
expire; callers use :class:`teller_tui.ledger.core.Ledger`), and holds past their time.

Holds past their time (RELIABILITY invariant 17): an expired hold releases its funds without
anyone looking at it.

* Writers resolve overdue holds inside their own write transaction before they spend or count:
  :meth:`teller_tui.ledger.core.Ledger.release_overdue_holds` (the ledger also does it for every
  account a posting or a new hold touches).
* Readers that show or judge an available balance leave out what overdue holds still reserve:
  :meth:`Ledger.balance` / :meth:`Ledger.balances` / :func:`teller_tui.ledger.core.live_balance`
  subtract :func:`overdue_reserved`, so a hold past its time never shows as held, whether or not
  a sweep (``teller approvals sweep``, the app's periodic sweep) has run yet.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update
from sqlmodel import col

from teller_tui.common.errors import Conflict, NotFound, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.models import Hold, JournalEntry, LedgerAccount
from teller_tui.ledger.accounts import account_label
from teller_tui.ledger.base import LedgerBase, _stmt, _table
from teller_tui.ledger.business_day import Dating
from teller_tui.ledger.requests import (
    EntryRequest, EntryResult, HoldRequest, HoldResult, Leg, _differences, canonical_json, request_hash,
)

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["LedgerHolds", "overdue_reserved"]

_STATEMENT: dict[str, Any] = {}


def _overdue_stmt() -> Any:
    stmt = _STATEMENT.get("overdue")
    if stmt is None:
        h = Hold.__table__  # type: ignore[attr-defined]
        stmt = _STATEMENT["overdue"] = select(h.c.debit_account_id, h.c.credit_account_id, h.c.amount).where(
            h.c.status == "pending", h.c.expires_at.is_not(None), h.c.expires_at <= bindparam("now"),
            h.c.debit_account_id.in_(bindparam("ids", expanding=True))
            | h.c.credit_account_id.in_(bindparam("ids", expanding=True)))
    return stmt


def overdue_reserved(session: Session, account_ids: Iterable[int], now: datetime) -> dict[int, tuple[int, int]]:
    """Per account: (debits, credits) still reserved by pending holds whose time has passed.

    Accounts without any are left out (the usual case: one indexed probe, no rows)."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for dr, cr, amount in session.execute(_overdue_stmt(), {"now": now, "ids": ids}).all():
        if dr in ids:
            out[int(dr)][0] += int(amount)
        if cr in ids:
            out[int(cr)][1] += int(amount)
    return {k: (v[0], v[1]) for k, v in out.items()}


class LedgerHolds(LedgerBase):
    """The hold life cycle (two-phase transfers): reserve, post, void, expire."""

    if TYPE_CHECKING:  # posting is :class:`teller_tui.ledger.core.Ledger`'s
        def post(self, session: Session, req: EntryRequest, *, reverses_entry_id: int | None = None,
                 hold_id: int | None = None, _skip_limits: bool = False, key_unused: bool = False) -> EntryResult:
            ...

    def release_overdue_holds(self, session: Session, account_ids: Iterable[int]) -> list[int]:
        """Inside the caller's write transaction: expire the pending holds past their time on these
        accounts (their funds are free again). Call it before judging or counting a balance."""
        return self._expire_overdue(session, account_ids)

    # -- holds (two-phase transfers) --------------------------------------------------------
    def create_hold(self, session: Session, req: HoldRequest) -> HoldResult:
        """Reserve funds: they count against limits but move only when the hold is posted."""
        amount = req.amount
        if amount.minor <= 0:
            raise ValidationError("A hold must be for a positive amount", code="hold_amount")
        if req.debit_account_id == req.credit_account_id:
            raise ValidationError("A hold needs two different accounts", code="hold_accounts")
        # No bank-wide row: the hold's accounts are locked below and its writers hold their keys (db/scopes.py).
        session.flush()
        canonical = req.canonical()
        digest = request_hash(canonical)
        existing = session.execute(select(Hold).where(col(Hold.idempotency_key) == req.idempotency_key)).scalar()
        if existing is not None:
            if existing.request_hash != digest:
                diff = _differences(json.loads(existing.request_json), canonical)
                raise Conflict(f"Idempotency key reused with a different request ({', '.join(diff)})",
                               code="idempotency_conflict", fields=diff)
            return _hold_result(existing, replayed=True)
        self._expire_overdue(session, [req.debit_account_id, req.credit_account_id])
        accounts = self._lock(session, [req.debit_account_id, req.credit_account_id])
        dr_acct, cr_acct = accounts[req.debit_account_id], accounts[req.credit_account_id]
        for acct in (dr_acct, cr_acct):
            if acct.currency != amount.currency:
                raise ValidationError(_("The currency does not match: {account} holds {currency}.").format(
                    account=account_label(acct.kind), currency=acct.currency), code="currency_mismatch",
                    account=acct.code)
        self._check_state(dr_acct, amount.minor, 0)
        self._check_state(cr_acct, 0, amount.minor)
        self._check_limits(dr_acct, amount.minor, 0, pending=True)
        self._check_limits(cr_acct, 0, amount.minor, pending=True)
        hold = Hold(idempotency_key=req.idempotency_key, request_hash=digest, request_json=canonical_json(canonical),
                    kind=req.kind, debit_account_id=req.debit_account_id, credit_account_id=req.credit_account_id,
                    currency=amount.currency, amount=amount.minor, memo=req.memo, actor_id=req.actor_id,
                    terminal_id=req.terminal_id, customer_id=req.customer_id, created_at=self.clock.now(),
                    expires_at=req.expires_at)
        session.add(hold)
        session.execute(update(LedgerAccount).where(col(LedgerAccount.id) == req.debit_account_id)
                        .values(debits_pending=col(LedgerAccount.debits_pending) + amount.minor))
        session.execute(update(LedgerAccount).where(col(LedgerAccount.id) == req.credit_account_id)
                        .values(credits_pending=col(LedgerAccount.credits_pending) + amount.minor))
        session.flush()
        return _hold_result(hold)

    def post_hold(self, session: Session, hold_id: int, *, idempotency_key: str, actor_id: int | None,
                  terminal_id: str, branch_code: str, memo: str | None = None,
                  dating: Dating = Dating.AFTER_HOURS) -> EntryResult:
        """Turn a pending hold into a posted entry. Refused if it has expired or was resolved.

        Dated like every entry (:mod:`teller_tui.ledger.business_day`); a remotely approved hold
        is an automatic posting by default: after the close it belongs to the next business day."""
        hold = self._lock_hold(session, hold_id)
        if hold.status == "posted" and hold.resolved_entry_id is not None:
            entry = session.get(JournalEntry, hold.resolved_entry_id)
            if entry is not None and entry.idempotency_key == idempotency_key:
                return self._result_for(session, entry, replayed=True)
        self._require_pending(session, hold)
        self._release_pending(session, hold)
        result = self.post(session, EntryRequest(
            idempotency_key=idempotency_key, kind=hold.kind,
            legs=(Leg(hold.debit_account_id, hold.amount, hold.currency),
                  Leg(hold.credit_account_id, -hold.amount, hold.currency)),
            actor_id=actor_id, terminal_id=terminal_id, branch_code=branch_code,
            memo=hold.memo if memo is None else memo, customer_id=hold.customer_id,
            meta={"hold": hold.id}, dating=dating,
        ), hold_id=hold.id, _skip_limits=True)
        session.execute(update(Hold).where(col(Hold.id) == hold.id).values(
            status="posted", resolved_at=self.clock.now(), resolved_entry_id=result.entry_id))
        return result

    def void_hold(self, session: Session, hold_id: int) -> HoldResult:
        """Release a pending hold (rejected or cancelled). Voiding twice is a no-op replay."""
        hold = self._lock_hold(session, hold_id)
        if hold.status in ("voided", "expired"):
            return _hold_result(hold, replayed=True)
        if hold.status == "pending" and hold.expires_at is not None and hold.expires_at <= self.clock.now():
            self._expire(session, hold)  # past its time: it expires rather than being voided
            session.refresh(hold)
            return _hold_result(hold)
        self._require_pending(session, hold)
        self._release_pending(session, hold)
        session.execute(update(Hold).where(col(Hold.id) == hold.id)
                        .values(status="voided", resolved_at=self.clock.now()))
        session.refresh(hold)
        return _hold_result(hold)

    def expire_holds(self, session: Session, *, limit: int = 500) -> list[int]:
        """Sweep pending holds whose time has passed (expiry is also checked on resolution)."""
        now = self.clock.now()
        ids = session.execute(select(col(Hold.id))
                              .where(col(Hold.status) == "pending", col(Hold.expires_at).is_not(None),
                                     col(Hold.expires_at) <= now)
                              .order_by(col(Hold.id)).limit(limit)).scalars()
        expired = []
        for hold_id in list(ids):
            hold = self._lock_hold(session, hold_id)
            if hold.status == "pending":
                self._expire(session, hold)
                expired.append(hold_id)
        return expired

    def hold_status(self, session: Session, hold_id: int) -> HoldResult:
        hold = session.get(Hold, hold_id)
        if hold is None:
            raise NotFound(f"No hold {hold_id}", code="no_hold")
        return _hold_result(hold)

    def _lock_hold(self, session: Session, hold_id: int) -> Hold:
        session.flush()  # the hold row is its own lock (no bank-wide row: db/scopes.py)
        hold: Hold | None = session.execute(select(Hold).where(col(Hold.id) == hold_id).with_for_update()).scalar()
        if hold is None:
            raise NotFound(f"No hold {hold_id}", code="no_hold")
        session.refresh(hold)
        return hold

    def _expire_overdue(self, session: Session, account_ids: Iterable[int], *,
                        keep: int | None = None) -> list[int]:
        """Release overdue holds on these accounts before their limits are judged, so expired
        reservations never block a payment even if the sweeper has not run (invariant 9)."""
        ids = sorted(set(account_ids))
        h = _table(Hold)
        overdue = session.execute(_stmt("holds_overdue", lambda: select(h.c.id).where(
            h.c.status == "pending", h.c.expires_at.is_not(None), h.c.expires_at <= bindparam("now"),
            h.c.debit_account_id.in_(bindparam("ids", expanding=True))
            | h.c.credit_account_id.in_(bindparam("ids", expanding=True))).order_by(h.c.id)),
            {"now": self.clock.now(), "ids": ids}).scalars().all()
        expired = []
        for hold_id in overdue:
            if hold_id == keep:
                continue
            hold = session.execute(select(Hold).where(col(Hold.id) == hold_id).with_for_update()).scalar_one()
            session.refresh(hold)
            if hold.status == "pending":
                self._expire(session, hold)
                expired.append(hold_id)
        return expired

    def _require_pending(self, session: Session, hold: Hold) -> None:
        if hold.status != "pending":
            raise Conflict(f"This hold is already {hold.status}", code=f"hold_{hold.status}", status=hold.status)
        if hold.expires_at is not None and hold.expires_at <= self.clock.now():
            self._expire(session, hold)
            raise Conflict("This hold has expired; the funds were released", code="hold_expired")

    def _expire(self, session: Session, hold: Hold) -> None:
        self._release_pending(session, hold)
        session.execute(update(Hold).where(col(Hold.id) == hold.id)
                        .values(status="expired", resolved_at=self.clock.now()))

    def _release_pending(self, session: Session, hold: Hold) -> None:
        session.execute(update(LedgerAccount).where(col(LedgerAccount.id) == hold.debit_account_id)
                        .values(debits_pending=col(LedgerAccount.debits_pending) - hold.amount))
        session.execute(update(LedgerAccount).where(col(LedgerAccount.id) == hold.credit_account_id)
                        .values(credits_pending=col(LedgerAccount.credits_pending) - hold.amount))


def _hold_result(hold: Hold, *, replayed: bool = False) -> HoldResult:
    assert hold.id is not None
    return HoldResult(hold.id, hold.status, Money(hold.amount, hold.currency), hold.debit_account_id,
                      hold.credit_account_id, hold.expires_at, replayed)
