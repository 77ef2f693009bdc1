"""Activation: a wallet's first real use, and the first-use reward it earns. THE one owner of the rule.

A wallet's **transactions** are the journal entries of :data:`TRANSACTION_KINDS` with a posting on
its wallet account, made for the wallet's own customer (``journal_entry.customer_id``): money a
customer receives from someone else is not their use of the wallet. In entry order:

* the **opening deposit** is the first transaction when it is a deposit (:data:`DEPOSIT_KINDS`):
  the money a customer loads into a new wallet is not yet using it;
* the **activation** is the first transaction that is not the opening deposit. The welcome
  reward is on the points account and of another kind, so it never counts.

A reversed transaction still counts (it happened; the reversal is a new entry of another kind).

The analytics (``teller_tui.analytics``) count activation within 7 and 30 days of the wallet's
opening business date by the same rule, in SQL (:func:`first_transactions`).

**First-use reward** (``data/rewards.toml``, ``grant = "first_use"``): :func:`grant_first_use` is
called by every path that posts a customer's payment (counter cash and transfers, kiosk, linked
accounts) inside the payment's own write transaction. It credits the welcome points when the
wallet has an activation and no reward yet, through the ledger, under the idempotency key
``first-use:<wallet number>``: once per wallet whoever calls it, however often. The reward set in
force on the day the wallet was opened decides the points and the rule; a wallet rewarded at issue
(``grant = "at_issue"``) is never rewarded again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.common.clock import local_date
from teller_tui.common.money import Money
from teller_tui.ledger import EntryRequest, Ledger, credit, debit
from teller_tui.ledger.accounts import AccountKind, points_pool_code
from teller_tui.ledger.business_day import Dating
from teller_tui.ledger.facts import entry_facts
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models import JournalEntry, Posting, Wallet
from teller_tui.wallets.rewards import GRANT_FIRST_USE, reward_rule

__all__ = [
    "DEPOSIT_KINDS", "TRANSACTION_KINDS", "Activation", "activation_of", "first_transactions", "grant_first_use",
    "reward_key",
]

#: A customer's transactions on a wallet (what "active" and "activation" count).
TRANSACTION_KINDS: tuple[str, ...] = (EntryKind.CASH_IN, EntryKind.CASH_OUT, EntryKind.TRANSFER,
                                      EntryKind.LINKED_TOP_UP, EntryKind.LINKED_WITHDRAW)
#: Transactions that load money: the first transaction of one of these kinds is the opening deposit.
DEPOSIT_KINDS: frozenset[str] = frozenset({EntryKind.CASH_IN, EntryKind.LINKED_TOP_UP})


@dataclass(frozen=True, slots=True)
class Activation:
    entry_id: int
    business_date: date


def first_transactions(*where: ColumnElement[bool]) -> Select[tuple[int, int, str, date, int]]:
    """(wallet id, entry id, kind, business date, rank) of every wallet's FIRST TWO transactions
    (rank 1 and 2, entry order), for the wallets the ``where`` clauses on :class:`Wallet` pick. The
    activation is rank 1 unless rank 1 is a deposit, then rank 2 (:func:`pick_activation`)."""
    ranked = (select(col(Wallet.id).label("wallet_id"), col(JournalEntry.id).label("entry_id"),
                     col(JournalEntry.kind).label("kind"), col(JournalEntry.business_date).label("business_date"),
                     func.row_number().over(partition_by=col(Wallet.id), order_by=col(JournalEntry.id)).label("rank"))
              .join(Posting, col(Posting.account_id) == col(Wallet.account_id))
              .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
              .where(col(JournalEntry.kind).in_(TRANSACTION_KINDS),
                     col(JournalEntry.customer_id) == col(Wallet.customer_id)))
    if where:
        ranked = ranked.where(*where)
    sub = ranked.subquery("ranked")
    return select(sub.c.wallet_id, sub.c.entry_id, sub.c.kind, sub.c.business_date, sub.c.rank).where(sub.c.rank <= 2)


def pick_activation(first: tuple[int, str, date] | None, second: tuple[int, str, date] | None
                    ) -> Activation | None:
    """The activation among a wallet's first two transactions ((entry id, kind, date) each)."""
    if first is None:
        return None
    if first[1] in DEPOSIT_KINDS:
        return None if second is None else Activation(second[0], second[2])
    return Activation(first[0], first[2])


def activation_of(session: Session, wallet_id: int) -> Activation | None:
    """The wallet's activation (None while it has none)."""
    rows = session.execute(first_transactions(col(Wallet.id) == wallet_id).order_by("rank")).all()
    firsts = [(int(r.entry_id), str(r.kind), r.business_date) for r in rows]
    return pick_activation(firsts[0] if firsts else None, firsts[1] if len(firsts) > 1 else None)


@cache
def _wallet_reward_stmt() -> Any:
    """The wallet's fields the reward needs, and whether its points account already got the reward."""
    w, je, p = Wallet.__table__, JournalEntry.__table__, Posting.__table__  # type: ignore[attr-defined]
    rewarded = (select(je.c.id).select_from(p.join(je, je.c.id == p.c.entry_id))
                .where(p.c.account_id == w.c.points_account_id, je.c.kind == EntryKind.WELCOME_REWARD).exists())
    return select(w.c.number, w.c.customer_id, w.c.points_account_id, w.c.opened_on, w.c.opened_at,
                  rewarded.label("rewarded")).where(w.c.id == bindparam("w"))


def reward_key(wallet_number: str) -> str:
    return f"first-use:{wallet_number}"[:80]


def grant_first_use(session: Session, ledger: Ledger, audit: AuditTrail, actor: Actor, wallet_id: int) -> int:
    """Credit the wallet's first-use reward if it is due (see the module docstring); the points
    credited by this call, 0 when none is due or it was already granted. Call it inside the write
    transaction that posted the customer's payment. The grant is audited (``reward_first_use``, naming
    its entry, as every money-moving record does)."""
    # Cheapest first: this runs after every customer payment. One indexed read once rewarded.
    wallet = session.connection().execute(_wallet_reward_stmt(), {"w": wallet_id}).first()
    if wallet is None or wallet.points_account_id is None:
        return 0
    if wallet.rewarded or activation_of(session, wallet_id) is None:
        return 0
    rule = reward_rule(wallet.opened_on or local_date(wallet.opened_at))
    if rule.grant != GRANT_FIRST_USE or rule.points <= 0:
        return 0
    pool = ledger.open_account(session, code=points_pool_code(actor.branch_code),
                               name=f"Points pool {actor.branch_code}", kind=AccountKind.POINTS_POOL,
                               currency="PTS", branch_code=actor.branch_code)
    pts = Money(rule.points, "PTS")
    result = ledger.post(session, EntryRequest(
        idempotency_key=reward_key(wallet.number), kind=EntryKind.WELCOME_REWARD,
        legs=(debit(pool, pts), credit(wallet.points_account_id, pts)), actor_id=actor.staff_id,
        terminal_id=actor.terminal_id, branch_code=actor.branch_code, memo="first-use reward",
        customer_id=wallet.customer_id, meta={"wallet": wallet.number, "first_use": True},
        dating=Dating.AFTER_HOURS))  # automatic reward: any hour
    if result.replayed:
        return 0
    audit.append(session, actor, "reward_first_use", subject=wallet.number,
                 detail={"points": rule.points, **entry_facts((result, actor.staff_id))})
    return rule.points
