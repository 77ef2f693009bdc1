"""Helpers for the ledger tests: a small chart of accounts, a seeded random workload with an
independent model of what every balance must be, and checks that recompute invariants from
raw SQL without the code under test (``teller_tui.ledger.verify``)."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from teller_tui.common.clock import FakeClock
from teller_tui.common.errors import Conflict, DomainError, LimitExceeded
from teller_tui.ledger import EntryRequest, HoldRequest, Ledger, Leg
from teller_tui.ledger.accounts import (
    BALANCE_RULES, AccountKind, drawer_code, equity_code, vault_code, wallet_code,
)
from teller_tui.common.money import Money

BRANCH = "B001"


@dataclass
class Chart:
    equity: int
    vault: int
    drawers: list[int]
    wallets: list[int]


def open_chart(db: Any, ledger: Ledger, *, wallets: int = 8, drawers: int = 2, branch: str = BRANCH) -> Chart:
    with db.write() as s:
        equity = ledger.open_account(s, code=equity_code(branch), name="Opening", kind=AccountKind.EQUITY,
                                     branch_code=branch)
        vault = ledger.open_account(s, code=vault_code(branch), name="Vault", kind=AccountKind.VAULT,
                                    branch_code=branch)
        ds = [ledger.open_account(s, code=drawer_code(branch, f"T{i + 1:02d}"), name=f"Drawer {i + 1}",
                                  kind=AccountKind.DRAWER, branch_code=branch) for i in range(drawers)]
        ws = [ledger.open_account(s, code=wallet_code(f"86{i + 1:014d}"), name=f"Wallet {i + 1}",
                                  kind=AccountKind.WALLET, branch_code=branch) for i in range(wallets)]
    return Chart(equity, vault, ds, ws)


def entry(key: str, kind: str, *legs: tuple[int, int], memo: str = "", meta: dict[str, Any] | None = None,
          branch: str = BRANCH) -> EntryRequest:
    return EntryRequest(idempotency_key=key, kind=kind, legs=tuple(Leg(a, amt) for a, amt in legs), actor_id=None,
                        terminal_id="T01", branch_code=branch, memo=memo or kind, meta=meta or {})


def transfer(key: str, kind: str, debit_id: int, credit_id: int, amount: int, **kw: Any) -> EntryRequest:
    return entry(key, kind, (debit_id, amount), (credit_id, -amount), **kw)


# -- the model ------------------------------------------------------------------------------
@dataclass
class ModelHold:
    debit: int
    credit: int
    amount: int
    expires_at: Any
    status: str = "pending"


@dataclass
class Model:
    """What every figure must be, computed from acknowledged operations only."""

    kinds: dict[int, AccountKind]
    dr: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    cr: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    dp: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    cp: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    status: dict[int, str] = field(default_factory=lambda: defaultdict(lambda: "active"))
    holds: dict[int, ModelHold] = field(default_factory=dict)
    entries: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # entry id -> legs
    reversed: set[int] = field(default_factory=set)
    reversals: set[int] = field(default_factory=set)

    def expire_overdue(self, accounts: set[int], now: Any, keep: int | None = None) -> None:
        for hid, h in self.holds.items():
            if hid != keep and h.status == "pending" and h.expires_at is not None and h.expires_at <= now \
                    and (h.debit in accounts or h.credit in accounts):
                self.release(hid, "expired")

    def release(self, hid: int, status: str) -> None:
        h = self.holds[hid]
        self.dp[h.debit] -= h.amount
        self.cp[h.credit] -= h.amount
        h.status = status

    def refusal(self, legs: list[tuple[int, int]], *, skip_limits: bool = False) -> set[type]:
        """Which errors posting these legs must raise (empty: it must succeed)."""
        per: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for acct, amt in legs:
            per[acct][0 if amt > 0 else 1] += abs(amt)
        errors: set[type] = set()
        for acct, (d, c) in per.items():
            dnec, cned = BALANCE_RULES[self.kinds[acct]]
            if self.status[acct] == "closed" or (self.status[acct] == "frozen" and d > 0 and dnec):
                errors.add(Conflict)
            if skip_limits:
                continue
            if dnec and d and self.dr[acct] + self.dp[acct] + d > self.cr[acct]:
                errors.add(LimitExceeded)
            if cned and c and self.cr[acct] + self.cp[acct] + c > self.dr[acct]:
                errors.add(LimitExceeded)
        return errors

    def apply(self, entry_id: int, legs: list[tuple[int, int]]) -> None:
        for acct, amt in legs:
            if amt > 0:
                self.dr[acct] += amt
            else:
                self.cr[acct] -= amt
        self.entries[entry_id] = legs


class Workload:
    """Seeded random operations against a ledger, each checked against the model."""

    def __init__(self, db: Any, seed: int, *, wallets: int = 6, drawers: int = 2,
                 rnd: random.Random | None = None) -> None:
        self.db = db
        self.seed = seed
        self.rnd = rnd or random.Random(seed)
        self.clock = FakeClock()
        self.ledger = Ledger(self.clock)
        self.chart = open_chart(db, self.ledger, wallets=wallets, drawers=drawers)
        kinds = {self.chart.equity: AccountKind.EQUITY, self.chart.vault: AccountKind.VAULT}
        kinds.update({d: AccountKind.DRAWER for d in self.chart.drawers})
        kinds.update({w: AccountKind.WALLET for w in self.chart.wallets})
        self.model = Model(kinds)
        self.n = 0
        self.log: list[str] = []
        self.post(transfer(self.key(), "opening", self.chart.vault, self.chart.equity, 50_000_000))

    def key(self) -> str:
        self.n += 1
        return f"s{self.seed}-k{self.n}"

    # -- operations --------------------------------------------------------------------------
    def post(self, req: EntryRequest) -> None:
        legs = [(leg.account_id, leg.amount) for leg in req.legs]
        now = self.clock.now()
        self.model.expire_overdue({a for a, _ in legs}, now)
        expected = self.model.refusal(legs)
        self._run(f"post {req.kind} {legs}", expected, lambda s: self.ledger.post(s, req),
                  lambda r: self.model.apply(r.entry_id, legs))

    def _run(self, what: str, expected: set[type], fn: Any, on_ok: Any) -> Any:
        self.log.append(what)
        try:
            with self.db.write() as s:
                result = fn(s)
        except DomainError as exc:
            assert expected, f"seed {self.seed}: {what} refused unexpectedly: {exc!r}"
            assert type(exc) in expected, f"seed {self.seed}: {what} raised {exc!r}, expected {expected}"
            self._resync_after_rollback()
            return None
        assert not expected, f"seed {self.seed}: {what} succeeded, expected {expected}"
        on_ok(result)
        return result

    def _resync_after_rollback(self) -> None:
        """A refused operation rolls back everything, including lazy hold expiry; the model
        expired those holds optimistically, so restore them from the database."""
        with self.db.read() as s:
            rows = s.execute(text("SELECT id, status FROM ledger_hold")).all()
        for hid, status in rows:
            h = self.model.holds.get(hid)
            if h is not None and h.status == "expired" and status == "pending":
                h.status = "pending"
                self.model.dp[h.debit] += h.amount
                self.model.cp[h.credit] += h.amount

    def step(self) -> None:
        r = self.rnd.random()
        c, m = self.chart, self.model
        w = self.rnd.choice(c.wallets)
        d = self.rnd.choice(c.drawers)
        amount = self.rnd.choice([1, 99, 1000, 5000, 20000, 100000, 2_000_000])
        self.clock.advance(seconds=self.rnd.randint(1, 90))
        if r < 0.08:
            self.post(transfer(self.key(), "vault_to_drawer", d, c.vault, amount * 3))
        elif r < 0.30:
            self.post(transfer(self.key(), "cash_in", d, w, amount))
        elif r < 0.42:
            available = m.cr[w] - m.dr[w] - m.dp[w]
            if available > 0 and self.rnd.random() < 0.7:
                amount = self.rnd.randint(1, available)
            self.post(transfer(self.key(), "cash_out", w, d, amount))
        elif r < 0.55:
            w2 = self.rnd.choice([x for x in c.wallets if x != w])
            self.post(transfer(self.key(), "transfer", w, w2, amount))
        elif r < 0.63:
            # Mostly a payable cash-out awaiting approval; sometimes one that must be refused.
            payable = [x for x in c.wallets if m.status[x] == "active" and m.cr[x] - m.dr[x] - m.dp[x] > 0]
            if payable and self.rnd.random() < 0.8:
                w = self.rnd.choice(payable)
                cash = m.dr[d] - m.cr[d] - m.cp[d]
                top = min(m.cr[w] - m.dr[w] - m.dp[w], cash)
                if top > 0:
                    amount = self.rnd.randint(1, top)
            self.create_hold(w, d, amount)
        elif r < 0.70:
            self.resolve_hold(post=True)
        elif r < 0.75:
            self.resolve_hold(post=False)
        elif r < 0.78:
            self.clock.advance(minutes=self.rnd.choice([5, 30, 120]))
            now = self.clock.now()
            with self.db.write() as s:
                expired = self.ledger.expire_holds(s)
            for hid in expired:
                assert m.holds[hid].status == "pending" and m.holds[hid].expires_at <= now
                m.release(hid, "expired")
            overdue = [hid for hid, h in m.holds.items()
                       if h.status == "pending" and h.expires_at is not None and h.expires_at <= now]
            assert not overdue, f"seed {self.seed}: sweeper left {overdue}"
        elif r < 0.86:
            self.reverse()
        elif r < 0.90:
            self.set_status(w)
        else:
            self.retry()

    def create_hold(self, w: int, d: int, amount: int) -> None:
        m = self.model
        now = self.clock.now()
        expires = now + timedelta(minutes=self.rnd.choice([1, 10, 60]))
        req = HoldRequest(idempotency_key=self.key(), kind="cash_out", debit_account_id=w, credit_account_id=d,
                          amount=Money(amount), actor_id=None, terminal_id="T01", expires_at=expires)
        m.expire_overdue({w, d}, now)
        expected = m.refusal([(w, amount), (d, -amount)])

        def ok(res: Any) -> None:
            m.holds[res.hold_id] = ModelHold(w, d, amount, expires)
            m.dp[w] += amount
            m.cp[d] += amount

        self._run(f"hold {w}->{d} {amount}", expected, lambda s: self.ledger.create_hold(s, req), ok)

    def resolve_hold(self, *, post: bool) -> None:
        m = self.model
        pending = [hid for hid, h in m.holds.items() if h.status == "pending"]
        if not pending:
            return
        hid = self.rnd.choice(pending)
        h = m.holds[hid]
        now = self.clock.now()
        overdue = h.expires_at is not None and h.expires_at <= now
        if not post:
            with self.db.write() as s:
                res = self.ledger.void_hold(s, hid)
            assert res.status == ("expired" if overdue else "voided"), (self.seed, res)
            m.release(hid, res.status)
            return
        key = self.key()
        if overdue:
            expected: set[type] = {Conflict}
        else:
            m.release(hid, "posted")  # provisional: the legs are judged without the hold
            m.expire_overdue({h.debit, h.credit}, now, keep=hid)
            expected = m.refusal([(h.debit, h.amount), (h.credit, -h.amount)], skip_limits=True)
            if expected:  # undo the provisional release
                h.status = "pending"
                m.dp[h.debit] += h.amount
                m.cp[h.credit] += h.amount

        def ok(res: Any) -> None:
            m.apply(res.entry_id, [(h.debit, h.amount), (h.credit, -h.amount)])

        self._run(f"post hold {hid}", expected, lambda s: self.ledger.post_hold(
            s, hid, idempotency_key=key, actor_id=None, terminal_id="T01", branch_code=BRANCH), ok)

    def reverse(self) -> None:
        m = self.model
        candidates = [e for e in m.entries if e not in m.reversed and e not in m.reversals]
        if not candidates:
            return
        eid = self.rnd.choice(candidates)
        legs = [(a, -amt) for a, amt in m.entries[eid]]
        m.expire_overdue({a for a, _ in legs}, self.clock.now())
        expected = m.refusal(legs)
        key = self.key()

        def ok(res: Any) -> None:
            m.apply(res.entry_id, legs)
            m.reversed.add(eid)
            m.reversals.add(res.entry_id)

        self._run(f"reverse {eid}", expected, lambda s: self.ledger.reverse(
            s, eid, idempotency_key=key, actor_id=None, terminal_id="T01"), ok)

    def set_status(self, w: int) -> None:
        m = self.model
        if m.status[w] == "closed":
            return
        target = self.rnd.choice(["frozen", "active", "active", "active", "closed"])
        expected: set[type] = set()
        if target == "closed" and (m.dr[w] != m.cr[w] or m.dp[w] or m.cp[w]):
            expected = {Conflict}

        def ok(_: Any) -> None:
            m.status[w] = target

        self._run(f"status {w} {target}", expected, lambda s: self.ledger.set_status(s, w, target), ok)

    def retry(self) -> None:
        """Repeat an earlier posting with the same key: the original result, nothing new."""
        if not self.model.entries:
            return
        with self.db.read() as s:
            row = s.execute(text("SELECT id, idempotency_key FROM journal_entry WHERE kind IN "
                                 "('cash_in', 'cash_out', 'transfer') AND hold_id IS NULL ORDER BY id DESC LIMIT 1")).first()
        if row is None:
            return
        legs = self.model.entries[row.id]
        kind = "transfer"
        with self.db.read() as s:
            kind = s.execute(text("SELECT kind FROM journal_entry WHERE id = :i"), {"i": row.id}).scalar()
        req = entry(row.idempotency_key, kind, *legs)
        with self.db.write() as s:
            res = self.ledger.post(s, req)
        assert res.replayed and res.entry_id == row.id, (self.seed, res)

    # -- checks ------------------------------------------------------------------------------
    def check_model(self) -> None:
        """Cached totals == model == sums of postings (raw SQL, not the verifier)."""
        with self.db.read() as s:
            cached = {r.id: (r.debits_posted, r.credits_posted, r.debits_pending, r.credits_pending, r.status)
                      for r in s.execute(text("SELECT * FROM ledger_account"))}
            sums = {r.account_id: (r.dr, r.cr) for r in s.execute(text(
                "SELECT account_id, SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS dr, "
                "SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END) AS cr FROM posting GROUP BY account_id"))}
            holds = {r.id: r.status for r in s.execute(text("SELECT id, status FROM ledger_hold"))}
        m = self.model
        for acct, (dr, cr, dp, cp, status) in cached.items():
            if acct not in m.kinds:
                continue
            want = (m.dr[acct], m.cr[acct], m.dp[acct], m.cp[acct], m.status[acct])
            assert (dr, cr, dp, cp, status) == want, f"seed {self.seed}: account {acct} {dr, cr, dp, cp, status} != {want}"
            assert sums.get(acct, (0, 0)) == (dr, cr), f"seed {self.seed}: account {acct} postings {sums.get(acct)}"
        for hid, h in m.holds.items():
            assert holds[hid] == h.status, f"seed {self.seed}: hold {hid} is {holds[hid]}, model {h.status}"


def independent_invariants(db: Any) -> list[str]:
    """Recompute the core invariants with plain queries and Python (no verifier code)."""
    problems: list[str] = []
    with db.read() as s:
        postings = s.execute(text("SELECT entry_id, account_id, currency, amount FROM posting")).all()
        entries = s.execute(text("SELECT id, seq, business_date, posted_at, reverses_entry_id, hold_id "
                                 "FROM journal_entry ORDER BY id")).all()
        accounts = {r.id: r for r in s.execute(text("SELECT * FROM ledger_account"))}
        holds = s.execute(text("SELECT * FROM ledger_hold")).all()
    per_entry: dict[tuple[int, str], int] = defaultdict(int)
    count: dict[int, int] = defaultdict(int)
    per_acct: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for p in postings:
        if type(p.amount) is not int:
            problems.append(f"posting amount {p.amount!r} not int")
        per_entry[(p.entry_id, p.currency)] += p.amount
        count[p.entry_id] += 1
        per_acct[p.account_id][0 if p.amount > 0 else 1] += abs(p.amount)
        if accounts[p.account_id].currency != p.currency:
            problems.append(f"posting currency {p.currency} on account {p.account_id}")
    problems += [f"entry {k} sums to {v}" for k, v in per_entry.items() if v]
    problems += [f"entry {e.id} has {count[e.id]} postings" for e in entries if count[e.id] < 2]
    for aid, a in accounts.items():
        if (a.debits_posted, a.credits_posted) != tuple(per_acct[aid]):
            problems.append(f"account {a.code} cache differs from postings")
        dnec, cned = BALANCE_RULES[AccountKind(a.kind)]
        if dnec and a.debits_posted + a.debits_pending > a.credits_posted:
            problems.append(f"wallet {a.code} below zero")
        if cned and a.credits_posted + a.credits_pending > a.debits_posted:
            problems.append(f"drawer {a.code} paid out more than it holds")
        if a.status == "closed" and (a.debits_posted != a.credits_posted or a.debits_pending or a.credits_pending):
            problems.append(f"closed account {a.code} not at zero")
    pend: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for h in holds:
        if h.status == "pending":
            pend[h.debit_account_id][0] += h.amount
            pend[h.credit_account_id][1] += h.amount
    for aid, a in accounts.items():
        if (a.debits_pending, a.credits_pending) != tuple(pend[aid]):
            problems.append(f"account {a.code} pending cache differs from holds")
    for cur in {a.currency for a in accounts.values()}:
        total = sum(a.debits_posted - a.credits_posted for a in accounts.values() if a.currency == cur)
        if total:
            problems.append(f"trial balance {cur} {total}")
    prev = None
    for e in entries:
        if prev is not None and (e.seq != prev.seq + 1 or e.business_date < prev.business_date
                                 or e.posted_at < prev.posted_at):
            problems.append(f"entry {e.id} out of sequence")
        prev = e
    rev = [e.reverses_entry_id for e in entries if e.reverses_entry_id is not None]
    if len(rev) != len(set(rev)):
        problems.append("an entry reversed twice")
    by_hold = [e.hold_id for e in entries if e.hold_id is not None]
    if len(by_hold) != len(set(by_hold)):
        problems.append("a hold posted twice")
    for h in holds:
        if (h.status == "posted") != (h.id in by_hold):
            problems.append(f"hold {h.id} is {h.status} but entries say {h.id in by_hold}")
    return problems
