"""What a counter posting locks first on PostgreSQL (:mod:`teller_tui.db.scopes`): its branch and
its customers, so postings of other branches and customers run beside it.

The keys cover every row the posting's checks read before it posts: the teller's branch (drawer,
business day, the teller's own daily totals), the branch of each wallet it moves (cash at another
branch's wallet and a cross-branch transfer post to both branches' clearing accounts:
:mod:`teller_tui.ledger.clearing`) and each customer whose wallet it reads or moves (balance, tier
caps, daily and yearly usage, blocks, consents, approvals, large-value totals). A reversal also
takes the branch of the entry it undoes (the ledger chains the reversal there) and the branch of
every account that entry moved. The scope functions read only what never changes (a wallet's
customer, an entry's branch, an account's branch).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select

from teller_tui.audit.trail import Actor
from teller_tui.db.scopes import LockKey, WriteScope, scope_keys
from teller_tui.desk.statements import cached_statement
from teller_tui.models import JournalEntry, LedgerAccount, Posting, Wallet

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["posting_scope", "reversal_scope"]


def posting_scope(actor: Actor, wallet_ids: Iterable[int | None]) -> WriteScope:
    """The actor's branch, the branches holding these wallets (cash at another branch's wallet and a
    cross-branch transfer post to both branches' clearing accounts, made on first use; the first-use
    reward to the points pool of the actor's branch and the wallet's points account at its branch)
    and the wallets' customers."""
    ids = sorted({int(w) for w in wallet_ids if w is not None})

    def keys(session: Session) -> list[LockKey]:
        w, a = Wallet.__table__, LedgerAccount.__table__  # type: ignore[attr-defined]
        rows = session.execute(cached_statement("scope_wallets", lambda: select(w.c.customer_id, a.c.branch_code)
                                                .join(a, a.c.id == w.c.account_id)
                                                .where(w.c.id.in_(bindparam("ids", expanding=True)))),
                               {"ids": ids}).all()
        return scope_keys([actor.branch_code, *(str(r.branch_code) for r in rows)], [r.customer_id for r in rows])

    return keys


def reversal_scope(actor: Actor, entry_id: int) -> WriteScope:
    """The actor's branch, the entry's branch, the branch of every account it moved (cash at another
    branch's wallet: the wallet's and both clearing accounts') and the entry's customer."""

    def keys(session: Session) -> list[LockKey]:
        je, p = JournalEntry.__table__, Posting.__table__  # type: ignore[attr-defined]
        a = LedgerAccount.__table__  # type: ignore[attr-defined]
        rows = session.execute(cached_statement("scope_entry", lambda: select(
            je.c.branch_code, je.c.customer_id, a.c.branch_code.label("account_branch"))
            .select_from(je.join(p, p.c.entry_id == je.c.id).join(a, a.c.id == p.c.account_id))
            .where(je.c.id == bindparam("id"))), {"id": entry_id}).all()
        if not rows:
            return scope_keys([actor.branch_code])
        branches = {str(r.branch_code) for r in rows} | {str(r.account_branch) for r in rows}
        return scope_keys([actor.branch_code, *sorted(branches)], [rows[0].customer_id])

    return keys
