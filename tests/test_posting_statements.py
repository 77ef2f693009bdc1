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
#: (once by each; a repeat to fold into one read). 38 since branches post in parallel: the branch's
#: head row (locked per posting for its hash chain) also gives the predecessor's time and business
#: date, so the bank-wide ``ledger_head`` lock-read and the read of the predecessor's date went; the
#: counter's update takes the number with RETURNING (teller_tui/ledger/chain.py).
CASH_IN_STATEMENTS = 38


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
