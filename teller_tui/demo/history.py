"""Four weeks of demo history (cash in, cash out, transfers) posted THROUGH THE LEDGER.

The branch vault and a drawer for each teller are funded first (equity -> vault -> drawer);
amounts stay inside each wallet's class limits as they were on the first day.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from teller_tui.audit.trail import Actor
from teller_tui.common.clock import FakeClock
from teller_tui.common.money import Money
from teller_tui.common.settings import Settings
from teller_tui.db.engine import Database
from teller_tui.demo.customers import ActiveWallet
from teller_tui.ledger import EntryRequest, Ledger, credit, debit
from teller_tui.ledger.accounts import AccountKind, drawer_code, equity_code, vault_code
from teller_tui.ledger.kinds import EntryKind
from teller_tui.wallets.classes import default_table

HISTORY_DAYS = 28
_KINDS = (EntryKind.CASH_IN, EntryKind.CASH_OUT, EntryKind.TRANSFER)
_MEMOS = {EntryKind.CASH_IN: "现金存入", EntryKind.CASH_OUT: "现金支取", EntryKind.TRANSFER: "转账"}
#: No class limit: more than any demo amount.
_UNLIMITED = 10**15


def _minor(limit: Money | None) -> int:
    return _UNLIMITED if limit is None else limit.minor


def post_history(database: Database, settings: Settings, clock: FakeClock, rng: random.Random,
                 wallets: list[ActiveWallet], staff: dict[str, Actor], branch: str, real_now: datetime,
                 advance: Callable[[int], None]) -> int:
    ledger = Ledger(clock)
    tellers = [staff["teller1"], staff["teller2"], staff["super1"]]
    count = 0
    with database.write() as s:
        eq = ledger.open_account(s, code=equity_code(branch), name="Opening equity", kind=AccountKind.EQUITY,
                                 branch_code=branch)
        vault = ledger.open_account(s, code=vault_code(branch), name="Branch vault", kind=AccountKind.VAULT,
                                    branch_code=branch)
        ledger.post(s, EntryRequest("demo-vault-open", EntryKind.DEMO_VAULT_OPEN, (debit(vault, Money.of("20000000")),
                                                                       credit(eq, Money.of("20000000"))),
                                    None, settings.terminal_id, branch, memo="Demo: vault cash brought in"))
        drawers: dict[str, int] = {}
        for person in tellers:
            d = ledger.open_account(s, code=drawer_code(branch, person.username), name=f"Drawer {person.username}",
                                    kind=AccountKind.DRAWER, branch_code=branch)
            drawers[person.username] = d
            ledger.post(s, EntryRequest(f"demo-drawer-{person.username}", EntryKind.DEMO_DRAWER_ISSUE,
                                        (debit(d, Money.of("2000000")), credit(vault, Money.of("2000000"))),
                                        person.staff_id, settings.terminal_id, branch, memo="Demo: drawer float"))
            count += 1
    if not wallets:
        return count + 1
    table = default_table()
    start_day = (real_now - timedelta(days=HISTORY_DAYS)).date()
    caps = {n: table.tier(n, on=start_day) for n in (1, 2, 3, 4)}
    # Events: (when, kind, wallet index, other index, amount minor)
    events: list[tuple[datetime, int, EntryKind, int, int]] = []
    for idx, (_cid, _wid, _acct, tier, _num) in enumerate(wallets):
        n_events = rng.randrange(1, 6)
        for k in range(n_events):
            day = rng.randrange(HISTORY_DAYS) if k else rng.randrange(3)
            when = datetime.combine(start_day + timedelta(days=day), time(1 + rng.randrange(8), rng.randrange(60)),
                                    tzinfo=UTC)
            kind = EntryKind.CASH_IN if k == 0 else rng.choices(_KINDS, (4, 3, 2))[0]
            events.append((when, k, kind, idx, rng.randrange(len(wallets))))
    events.sort()
    balances = [0] * len(wallets)
    out_day: dict[tuple[int, date], int] = {}
    batch = 500
    pos = 0
    seen_idx: set[int] = set()
    while pos < len(events):
        chunk = events[pos:pos + batch]
        pos += batch
        with database.write() as s:
            for when, k, kind, idx, other in chunk:
                cid, _wid, acct, tier, number = wallets[idx]
                t = caps[tier]
                teller = tellers[(idx + k) % 2]
                drawer = drawers[teller.username]
                clock.set(when)
                on_day = when.date()
                room_out = min(_minor(t.per_txn), _minor(t.daily) - out_day.get((idx, on_day), 0), balances[idx])
                if kind == EntryKind.CASH_IN:
                    room = _minor(t.balance_cap) - balances[idx]
                    amt = min(room, rng.choice((100, 200, 500, 1000, 2000, 5000)) * 100)
                    if amt <= 0:
                        continue
                    legs = (debit(drawer, Money(amt)), credit(acct, Money(amt)))
                    balances[idx] += amt
                elif kind == EntryKind.CASH_OUT:
                    amt = min(room_out, rng.choice((50, 100, 200, 300, 500)) * 100)
                    if amt <= 0:
                        continue
                    legs = (debit(acct, Money(amt)), credit(drawer, Money(amt)))
                    balances[idx] -= amt
                    out_day[(idx, on_day)] = out_day.get((idx, on_day), 0) + amt
                else:
                    if other == idx:
                        continue
                    ot = caps[wallets[other][3]]
                    amt = min(room_out, _minor(ot.balance_cap) - balances[other],
                              rng.choice((20, 50, 88, 100, 200, 520)) * 100)
                    if amt <= 0:
                        continue
                    legs = (debit(acct, Money(amt)), credit(wallets[other][2], Money(amt)))
                    balances[idx] -= amt
                    balances[other] += amt
                    out_day[(idx, on_day)] = out_day.get((idx, on_day), 0) + amt
                memo = _MEMOS[kind]
                ledger.post(s, EntryRequest(f"demo-{number}-{k}-{when:%Y%m%d%H%M}", kind, legs, teller.staff_id,
                                            settings.terminal_id, branch, memo=memo, customer_id=cid,
                                            meta={"wallet": number, "demo": True}))
                count += 1
                if idx not in seen_idx:
                    seen_idx.add(idx)
                    advance(1)
    advance(len(wallets) - len(seen_idx))
    return count
