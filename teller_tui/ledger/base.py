"""What every part of :class:`teller_tui.ledger.core.Ledger` shares: the hot-path statement cache,
account rows locked in id order, the state and balance-limit checks a posting or a hold judges
them by, and the result of a stored entry.

Posting (:mod:`teller_tui.ledger.core`), the hold life cycle (:mod:`teller_tui.ledger.holds`) and
the read-backs (:mod:`teller_tui.ledger.reads`) build on :class:`LedgerBase`; callers use ``Ledger``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import col

from teller_tui.common.clock import Clock
from teller_tui.db import lean
from teller_tui.common.errors import Conflict, LimitExceeded, NotFound
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _
from teller_tui.models import JournalEntry, LedgerAccount, Posting
from teller_tui.common.money import Money
from teller_tui.ledger.accounts import account_label
from teller_tui.ledger.requests import EntryResult, PostedLeg

if TYPE_CHECKING:
    from sqlmodel import Session


_STATEMENTS: dict[str, Any] = {}


def _stmt(name: str, build: Any) -> Any:
    """A hot-path statement built once (on first use) with bind parameters, so each posting
    skips constructing it; SQLAlchemy's compiled cache then serves it directly."""
    stmt = _STATEMENTS.get(name)
    if stmt is None:
        stmt = _STATEMENTS[name] = build()
    return stmt


def _table(model: Any) -> Any:
    """The Core table of a model (statements on it skip the ORM: no identity map, no autoflush)."""
    return model.__table__


def _ACCOUNT_COLUMNS(la: Any) -> tuple[Any, ...]:  # noqa: N802 - reads like the constant it stands for
    return (la.c.id, la.c.code, la.c.kind, la.c.branch_code, la.c.currency, la.c.status,
            la.c.debits_must_not_exceed_credits, la.c.credits_must_not_exceed_debits, la.c.debits_posted, la.c.credits_posted, la.c.debits_pending,
            la.c.credits_pending)


def _sync_cached_account(session: Session, account_id: int, **values: int) -> None:
    """Keep a LedgerAccount already loaded in the session in step with a Core UPDATE (what the
    ORM's synchronize_session did): set the committed values, without marking it dirty."""
    obj = session.identity_map.get(identity_key(LedgerAccount, account_id))
    if obj is not None:
        for name, value in values.items():
            set_committed_value(obj, name, value)



class LedgerBase:
    """Stateless apart from the clock; every method takes the caller's session."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    @staticmethod
    def _flushed(session: Session) -> Session:
        """The session with pending ORM changes flushed (Core statements do not autoflush)."""
        session.flush()
        return session

    def _lock(self, session: Session, account_ids: Iterable[int]) -> dict[int, Any]:
        """Lock the accounts in id order and return their current rows (Core rows with the
        LedgerAccount column names as attributes, read under the lock)."""
        ids = sorted(set(account_ids))
        session.flush()
        la = _table(LedgerAccount)
        rows = lean.all_rows(session, _stmt("accounts_lock", lambda: select(*_ACCOUNT_COLUMNS(la)).where(
            la.c.id.in_(bindparam("ids", expanding=True))).order_by(la.c.id).with_for_update()), {"ids": ids})
        found = {int(row.id): row for row in rows}
        missing = set(ids) - set(found)
        if missing:
            raise NotFound(f"No ledger account {sorted(missing)}", code="no_account")
        return found

    @staticmethod
    def _check_state(acct: LedgerAccount, dr: int, cr: int) -> None:
        if acct.status == "closed":
            raise Conflict(_("This cannot be posted: {account} is closed.").format(account=account_label(acct.kind)),
                           code="account_closed", account=acct.code)
        if acct.status == "frozen" and dr > 0 and acct.debits_must_not_exceed_credits:
            raise Conflict(_("No payments out of {account}: it is frozen.").format(account=account_label(acct.kind)),
                           code="account_frozen", account=acct.code)

    @staticmethod
    def _check_limits(acct: LedgerAccount, dr: int, cr: int, *, pending: bool) -> None:
        if acct.debits_must_not_exceed_credits and dr:
            if acct.debits_posted + acct.debits_pending + dr > acct.credits_posted:
                available = acct.credits_posted - acct.debits_posted - acct.debits_pending
                raise LimitExceeded(_("Not enough money in {account}: {amount} available.").format(
                    account=account_label(acct.kind), amount=format_money(Money(max(available, 0), acct.currency))),
                    code="insufficient_funds", account=acct.code)
        if acct.credits_must_not_exceed_debits and cr:
            if acct.credits_posted + acct.credits_pending + cr > acct.debits_posted:
                available = acct.debits_posted - acct.credits_posted - acct.credits_pending
                raise LimitExceeded(_("Not enough cash in {account}: it holds {amount}.").format(
                    account=account_label(acct.kind), amount=format_money(Money(max(available, 0), acct.currency))),
                    code="insufficient_cash", account=acct.code)

    def _result_for(self, session: Session, entry: JournalEntry, *, replayed: bool) -> EntryResult:
        rows = session.execute(select(col(Posting.account_id), col(LedgerAccount.code), col(Posting.amount),
                                      col(Posting.currency))
                               .join(LedgerAccount, col(LedgerAccount.id) == col(Posting.account_id))
                               .where(col(Posting.entry_id) == entry.id).order_by(col(Posting.id))).all()
        assert entry.id is not None
        return EntryResult(
            entry_id=entry.id, seq=entry.seq, reference=entry.reference, kind=entry.kind,
            posted_at=entry.posted_at, business_date=entry.business_date,
            legs=tuple(PostedLeg(r.account_id, r.code, r.amount, r.currency) for r in rows),
            memo=entry.memo, customer_id=entry.customer_id, reverses_entry_id=entry.reverses_entry_id,
            replayed=replayed,
        )
