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

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.common.clock import local_date
from teller_tui.common.money import Money
from teller_tui.db import lean
from teller_tui.ledger import EntryRequest, Ledger, credit, debit
from teller_tui.ledger.accounts import AccountKind, points_pool_code
from teller_tui.ledger.business_day import Dating
from teller_tui.ledger.facts import entry_facts
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models import JournalEntry, Posting, Wallet
from teller_tui.wallets.rewards import GRANT_FIRST_USE, reward_rule

__all__ = [
    "DEPOSIT_KINDS", "TRANSACTION_KINDS", "Activation", "activation_of", "activations", "first_transactions",
    "grant_first_use", "pick_activation", "reward_key",
]

#: A customer's transactions on a wallet (what "active" and "activation" count).
TRANSACTION_KINDS: tuple[str, ...] = (EntryKind.CASH_IN, EntryKind.CASH_OUT, EntryKind.TRANSFER,
                                      EntryKind.LINKED_TOP_UP, EntryKind.LINKED_WITHDRAW)
#: Transactions that load money: the first transaction of one of these kinds is the opening deposit.
DEPOSIT_KINDS: frozenset[str] = frozenset({EntryKind.CASH_IN, EntryKind.LINKED_TOP_UP})
#: Entry ids per ``IN (...)`` read (well under every driver's bound-parameter limit).
_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Activation:
    entry_id: int
    business_date: date


def _next_transaction(account_id: Any, customer_id: Any, after: Any = None) -> Any:
    """The entry id of the wallet's first transaction (after entry ``after``), as a correlated scalar
    subquery: ``ix_posting_account_entry`` walks the wallet's postings in entry order and stops at the
    first that qualifies, so its cost does not grow with the wallet's history."""
    q = (select(col(Posting.entry_id)).join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
         .where(col(Posting.account_id) == account_id, col(JournalEntry.customer_id) == customer_id,
                col(JournalEntry.kind).in_(TRANSACTION_KINDS)))
    if after is not None:
        q = q.where(col(Posting.entry_id) > after)
    return q.order_by(col(Posting.entry_id)).limit(1).scalar_subquery()


def first_transactions(*where: ColumnElement[bool]) -> Select[tuple[int, int | None, int | None]]:
    """(wallet id, entry id of its first transaction, of its second) for the wallets the ``where``
    clauses on :class:`Wallet` pick (None where there is none yet). The activation is the first unless
    the first is a deposit, then the second (:func:`pick_activation`)."""
    firsts = (select(col(Wallet.id).label("wallet_id"), col(Wallet.account_id).label("account_id"),
                     col(Wallet.customer_id).label("customer_id"),
                     _next_transaction(col(Wallet.account_id), col(Wallet.customer_id)).label("first_id"))
              .where(*where).subquery("firsts"))
    second = _next_transaction(firsts.c.account_id, firsts.c.customer_id, firsts.c.first_id)
    return select(firsts.c.wallet_id, firsts.c.first_id, second.label("second_id"))


def activations(session: Session, *where: ColumnElement[bool]) -> dict[int, Activation | None]:
    """Every picked wallet's activation (None while it has none): two bounded look-ups per wallet and
    one read of the entries they found."""
    pairs = [(int(w), f, n) for w, f, n in session.execute(first_transactions(*where)).all()]
    ids = sorted({int(i) for _w, f, n in pairs for i in (f, n) if i is not None})
    facts: dict[int, tuple[int, str, date]] = {}
    for k in range(0, len(ids), _CHUNK):
        for eid, kind, day in session.execute(select(col(JournalEntry.id), col(JournalEntry.kind),
                                                     col(JournalEntry.business_date))
                                              .where(col(JournalEntry.id).in_(ids[k:k + _CHUNK]))).all():
            facts[int(eid)] = (int(eid), str(kind), day)
    return {w: pick_activation(facts.get(f) if f is not None else None, facts.get(n) if n is not None else None)
            for w, f, n in pairs}


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
    return activations(session, col(Wallet.id) == wallet_id).get(wallet_id)


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
    wallet = lean.first(session, _wallet_reward_stmt(), {"w": wallet_id})
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
