"""The SQL statements of one cash-in, counted on the real engine, so that growth is a decision.

A ``before_cursor_execute`` listener on the database's write engine records every statement
the service sends for one counter cash-in (after a first cash-in has warmed the wallet: a
wallet's first posting also records its activation). The count is pinned: a change that adds
a statement must change :data:`CASH_IN_STATEMENTS` too, and say why. The same count is printed
by ``teller bench`` (posting).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key

#: SQL statements sent for one cash-in on SQLite, ``BEGIN IMMEDIATE`` included (COMMIT is not a
#: cursor statement). 38 before the ledger returned the totals it wrote (no re-read); known repeats
#: left: the idempotency key (2 reads), the business day (3), the drawer's last event (2), the
#: receipt's entry and legs (2, read back in the same transaction). 38 since the one notification
#: writer (teller_tui/notify/postings.py) replaced the counter's own: one more read (the wallets the
#: entry moved, then the customer, contacts, the outbox row's existence and its insert). 40 since the
#: customer's needs choose the notification's and the receipt's language and print size: read twice
#: (once by each; a repeat to fold into one read).
#: 25 with the lean posting path (40 before): the idempotency key read once (the ledger is told the
#: caller found nothing), the open day, the drawer and its last break and hand-over events in one
#: select whose day is then remembered for the limits and the ledger's dating (5 reads -> 1), no
#: hold read when the locked accounts hold nothing pending, both account totals in one executemany,
#: the first-use reward's wallet and "already rewarded" in one select, the notification from the
#: wallets and totals the posting already holds (no wallet re-read), the customer's phone and needs
#: in one select, the outbox row inserted once by ON CONFLICT DO NOTHING (no existence read), the
#: receipt built from what was just written (no read back; the needs remembered). Left to the
#: branch-parallel work: the ledger head (2), the previous entry's date (1), the audit head (4).
#: 26 since the ledger keeps each wallet's usage per business day (one upsert,
#: teller_tui.ledger.usage), so the class limits read at most a year of day rows, not the wallet's
#: whole history.
#: 24 since branches post in parallel: the branch's head row (locked per posting for its hash chain)
#: also gives the predecessor's time and business date, so the bank-wide ``ledger_head`` lock-read
#: and the read of the predecessor's date went; the counter's update takes the number with RETURNING
#: (teller_tui/ledger/chain.py). Left: the audit head (4), one bank-wide chain.
#: 25 since the ledger keeps each teller's and customer's cash per business day (one upsert,
#: teller_tui.ledger.cash_day): the approval policy's day totals read one row each instead of the
#: teller's or customer's entries of the day and their postings (a read that grew with their day).
#: The customer's day is read for a cash-in as before, now from its row (no statement saved there).
CASH_IN_STATEMENTS = 25
#: A cash-out (first pinned at 29, the usage upsert included; 27 with per-branch heads, as a cash-in)
#: also reads the wallet's usage for its
#: class limits, the drawer's cash (the preview's "not enough cash in your drawer") and the teller's
#: cash paid out today (the approval policy's teller limit).
#: Still 27 with the cash days (teller_tui.ledger.cash_day): one more upsert, and the customer's and the
#: teller's day totals are read together, two primary-key rows in one statement (two reads before).
CASH_OUT_STATEMENTS = 27
#: A transfer between two customers' wallets (first pinned at 30, the usage upsert included); 28 with per-branch heads: no
#: drawer, so the open day is read on its own (locked, once); both wallets (blocks read for both at
#: once), the payer's usage, and a notification to each customer (phone and needs, contacts, insert:
#: 3 each); no cash-today reads.
TRANSFER_STATEMENTS = 28
#: Cash at another branch's wallet (a B002 teller, a B001 wallet): one more than at the wallet's own
#: branch, the inter-branch clearing accounts locked by code (teller_tui.ledger.clearing); before the
#: ledger owned the rule such a cash-in had no clearing legs at all (24, each branch's books off). A
#: cross-branch transfer costs the same one more (29; 30 when the transfer opened both accounts itself).
CROSS_BRANCH_CASH_IN_STATEMENTS = CASH_IN_STATEMENTS + 1


@contextmanager
def recording(engine: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_cash_in_statement_count(desk: Desk) -> None:
    wid = desk.wallet(desk.customer("王芳"), 1)
    for _ in range(2):  # the first postings also record the activation and its reward; caches warm
        desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=key())
    with recording(desk.db.write_engine) as seen:
        result = desk.cash.cash_in(desk.teller, wid, Money.of("25"), idempotency_key=key())
    assert result.new_balance == Money.of("45")
    assert len(seen) == CASH_IN_STATEMENTS, "\n".join(seen)


def test_cash_out_statement_count(desk: Desk) -> None:
    wid = desk.wallet(desk.customer("王芳"), 1)
    for _ in range(2):
        desk.cash.cash_in(desk.teller, wid, Money.of("100"), idempotency_key=key())
    desk.cash.cash_out(desk.teller, wid, Money.of("10"), idempotency_key=key())
    with recording(desk.db.write_engine) as seen:
        result = desk.cash.cash_out(desk.teller, wid, Money.of("25"), idempotency_key=key())
    assert result.new_balance == Money.of("165")
    assert len(seen) == CASH_OUT_STATEMENTS, "\n".join(seen)


def test_transfer_statement_count(desk: Desk) -> None:
    a = desk.wallet(desk.customer("王芳"), 1)
    b = desk.wallet(desk.customer("李雷", latin="li lei"), 1)
    for wid in (a, b):
        desk.cash.cash_in(desk.teller, wid, Money.of("100"), idempotency_key=key())
    desk.cash.transfer(desk.teller, a, b, Money.of("10"), idempotency_key=key())
    with recording(desk.db.write_engine) as seen:
        result = desk.cash.transfer(desk.teller, a, b, Money.of("25"), idempotency_key=key())
    assert result.new_balance == Money.of("65")
    assert len(seen) == TRANSFER_STATEMENTS, "\n".join(seen)


def test_cross_branch_cash_in_statement_count(desk: Desk) -> None:
    far = desk.staff("far1", branch="B002")
    desk.fund_drawer(far)
    wid = desk.wallet(desk.customer("王芳"))  # held at B001
    for _ in range(2):
        desk.cash.cash_in(far, wid, Money.of("10"), idempotency_key=key())
    with recording(desk.db.write_engine) as seen:
        result = desk.cash.cash_in(far, wid, Money.of("25"), idempotency_key=key())
    assert result.new_balance == Money.of("45")
    assert len(seen) == CROSS_BRANCH_CASH_IN_STATEMENTS, "\n".join(seen)
