"""One cash-in through the full service vs the raw driver doing the same row writes.

The service: ``services.cash.cash_in`` (role check, open drawer, tier limits, approval policy,
ledger with idempotency key, audit chain, receipt rendered and saved), SQLite in WAL with
``synchronous=FULL``, one transaction per cash-in. The reference: the same rows written with
the bare driver in one transaction (journal entry with its request hash, two postings, two
account totals, the ledger head, one audit record with its chained hash, the audit head),
on the same database file. Medians per posting; the ratio is the figure.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from teller_tui.bench.runner import Row, median, ratio_row

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.bench.data import DataSet
    from teller_tui.bench.runner import Context

NAME = "posting"
TITLE = "one cash-in through the full service vs raw driver writes (SQLite FULL)"
AMOUNT_MINOR = 100  # 1.00 CNY: far from every limit


def wallets(data: DataSet, n: int) -> list[tuple[int, int, int, str]]:
    """(wallet id, account id, customer id, number) of ``n`` active wallets spread over the base."""
    from sqlalchemy import text

    services = data.services()
    with services.db.read() as s:
        total = int(s.execute(text("SELECT count(*) FROM wallet WHERE status = 'active'")).scalar_one())
        step = max(1, total // max(n, 1))
        rows = s.execute(text("SELECT id, account_id, customer_id, number FROM wallet WHERE status = 'active' "
                              "AND id % :step = 0 ORDER BY id LIMIT :n"), {"step": step, "n": n}).all()
    return [(int(a), int(b), int(c), str(d)) for a, b, c, d in rows]


def service_cash_ins(services: Any, actors: list[Actor], targets: list[tuple[int, int, int, str]], n: int,
                     tag: str) -> list[float]:
    from teller_tui.common.money import Money

    samples = []
    run = uuid.uuid4().hex[:8]
    for i in range(n):
        wallet_id = targets[i % len(targets)][0]
        actor = actors[i % len(actors)]
        t = time.perf_counter()
        services.cash.cash_in(actor, wallet_id, Money(AMOUNT_MINOR), idempotency_key=f"bench-{tag}-{run}-{i}")
        samples.append(time.perf_counter() - t)
    return samples


class RawPoster:
    """The cash-in's row writes with the bare driver (sqlite3 or psycopg), one transaction each."""

    def __init__(self, data: DataSet, actor: Actor) -> None:
        from sqlalchemy import text

        from teller_tui.branch.drawer_lookup import require_open_drawer
        from teller_tui.ledger.business_day import open_business_date

        self.actor = actor
        services = data.services()
        with services.db.read() as s:
            self.drawer_account = require_open_drawer(s, actor).account_id
            self.business_date = open_business_date(s, actor.branch_code)
            self.terminal = actor.terminal_id
            s.execute(text("SELECT 1"))
        self.dialect = services.db.dialect
        if self.dialect == "sqlite":
            import sqlite3

            assert data.db_path is not None
            self.con: Any = sqlite3.connect(data.db_path, isolation_level=None, timeout=10)
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=10000"):
                self.con.execute(f"PRAGMA {pragma}")
            self.p = "?"
        else:
            import psycopg

            url = data.url.replace("postgresql+psycopg://", "postgresql://")
            self.con = psycopg.connect(url, autocommit=True)
            self.p = "%s"

    def close(self) -> None:
        self.con.close()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.p)

    def _ts(self, dt: datetime) -> Any:
        return dt.strftime("%Y-%m-%d %H:%M:%S.%f") if self.dialect == "sqlite" else dt

    def post(self, target: tuple[int, int, int, str], key: str) -> None:
        from teller_tui.audit.trail import record_hash
        from teller_tui.bench.data import _request_json
        from teller_tui.ledger.chain import GENESIS, entry_hash

        _wid, account, customer, number = target
        a = self.actor
        ex = self.con.execute
        lock = "" if self.dialect == "sqlite" else " FOR UPDATE"
        ex("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
        try:
            # The branch's head first (its lock serializes the branch), then the bank-wide number.
            chain = ex(self._sql(f"SELECT entries, hash, last_at, last_date FROM ledger_chain_head "
                                 f"WHERE branch_code = ?{lock}"), (a.branch_code,)).fetchone()
            chained, prev_hash = (int(chain[0]), str(chain[1])) if chain else (0, GENESIS)
            if self.dialect == "sqlite":
                (seq,) = ex("UPDATE ledger_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq").fetchone()
            else:
                (seq,) = ex("SELECT nextval('journal_entry_seq')").fetchone()
            seq = int(seq)
            now = datetime.now(UTC)
            legs = [(self.drawer_account, AMOUNT_MINOR), (account, -AMOUNT_MINOR)]
            req = _request_json("cash_in", int(a.staff_id or 0), customer, legs, number, None)
            bdate = self.business_date or now.date()
            values = {"seq": seq, "idempotency_key": key, "request_hash": hashlib.sha256(req.encode()).hexdigest(),
                      "kind": "cash_in", "reference": f"R{bdate:%Y%m%d}-{seq:09d}", "memo": "", "actor_id": a.staff_id,
                      "terminal_id": self.terminal, "branch_code": a.branch_code, "business_date": bdate,
                      "posted_at": now, "customer_id": customer, "reverses_entry_id": None, "hold_id": None}
            digest = entry_hash(values, [(acct, "CNY", amount) for acct, amount in legs], prev_hash)
            (entry_id,) = ex(self._sql(
                "INSERT INTO journal_entry (seq, branch_seq, idempotency_key, request_hash, request_json, kind, "
                "reference, memo, actor_id, terminal_id, branch_code, business_date, posted_at, customer_id, prev_hash, "
                "hash) VALUES (?, ?, ?, ?, ?, 'cash_in', ?, '', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"),
                (seq, chained + 1, key, values["request_hash"], req, values["reference"], a.staff_id,
                 self.terminal, a.branch_code, bdate, self._ts(now), customer, prev_hash, digest)).fetchone()
            ex(self._sql("INSERT INTO ledger_chain_head (branch_code, last_seq, entries, hash, last_at, last_date) "
                         "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (branch_code) DO UPDATE SET last_seq = excluded.last_seq, "
                         "entries = excluded.entries, hash = excluded.hash, last_at = excluded.last_at, "
                         "last_date = excluded.last_date"),
               (a.branch_code, seq, chained + 1, digest, self._ts(now), bdate))
            for acct, amount in legs:
                ex(self._sql("INSERT INTO posting (entry_id, account_id, currency, amount) VALUES (?, ?, 'CNY', ?)"),
                   (entry_id, acct, amount))
            ex(self._sql("UPDATE ledger_account SET debits_posted = debits_posted + ? WHERE id = ?"),
               (AMOUNT_MINOR, self.drawer_account))
            ex(self._sql("UPDATE ledger_account SET credits_posted = credits_posted + ? WHERE id = ?"),
               (AMOUNT_MINOR, account))
            head_seq, head_hash = ex(self._sql(f"SELECT seq, hash FROM audit_head WHERE id = 1{lock}")).fetchone()
            detail = json.dumps({"amount": "1.00", "currency": "CNY", "reference": f"R{bdate:%Y%m%d}-{seq:09d}"},
                                sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            digest = record_hash(seq=int(head_seq) + 1, at=now, actor_id=a.staff_id, actor=a.username,
                                 terminal_id=a.terminal_id, action="cash_in", subject=number, outcome="ok",
                                 detail_json=detail, prev_hash=head_hash)
            ex(self._sql("INSERT INTO audit_record (seq, at, actor_id, actor, terminal_id, action, subject, outcome, "
                         "detail_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, 'cash_in', ?, 'ok', ?, ?, ?)"),
               (int(head_seq) + 1, self._ts(now), a.staff_id, a.username, a.terminal_id, number, detail, head_hash,
                digest))
            ex(self._sql("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1"), (int(head_seq) + 1, digest))
            ex("COMMIT")
        except BaseException:
            ex("ROLLBACK")
            raise


def raw_postings(data: DataSet, actor: Actor, targets: list[tuple[int, int, int, str]], n: int) -> list[float]:
    poster = RawPoster(data, actor)
    run = uuid.uuid4().hex[:8]
    samples = []
    try:
        for i in range(n):
            t = time.perf_counter()
            poster.post(targets[i % len(targets)], f"raw-{run}-{i}")
            samples.append(time.perf_counter() - t)
    finally:
        poster.close()
    return samples


def measure(data: DataSet, ctx: Context, *, label: str) -> Row:
    """The service vs raw row for one database (SQLite or PostgreSQL)."""
    services = data.services()
    actor = data.actor("teller1")
    targets = wallets(data, 200)
    service_cash_ins(services, [actor], targets, 10, "warm")  # caches, first receipt directory, statements
    raw_postings(data, actor, targets, 10)
    n_svc, n_raw = max(1, ctx.opts.cash_ins), max(1, ctx.opts.raw_postings)
    # Interleave halves so drift in machine load hits both sides alike.
    svc = service_cash_ins(services, [actor], targets, n_svc // 2 or 1, "a")
    raw = raw_postings(data, actor, targets, n_raw // 2 or 1)
    svc += service_cash_ins(services, [actor], targets, max(1, n_svc - n_svc // 2), "b")
    raw += raw_postings(data, actor, targets, max(1, n_raw - n_raw // 2))
    s_ms, r_ms = median(svc) * 1000, median(raw) * 1000
    row = ratio_row(NAME, f"one cash-in through the full service ({label}; median of {len(svc)})", s_ms, r_ms, 3.0,
                    unit="ms", fmt=lambda v: f"{v:,.2f} ms", service_mean_ms=sum(svc) / len(svc) * 1000,
                    raw_mean_ms=sum(raw) / len(raw) * 1000, service_per_s=1 / median(svc), raw_per_s=1 / median(raw))
    row.reference = f"{r_ms:,.2f} ms (raw driver, same writes)"
    count = statements_per_cash_in(services, actor, targets)
    row.values["statements_per_cash_in"] = count
    row.detail = (row.detail + f"; {count} SQL statements per cash-in").strip("; ")
    return row


def statements_per_cash_in(services: Any, actor: Actor, targets: list[tuple[int, int, int, str]]) -> int:
    """SQL statements one (warm) cash-in sends, counted on the engine (tests/test_posting_statements.py pins it)."""
    from sqlalchemy import event

    from teller_tui.common.money import Money

    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = services.db.write_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        services.cash.cash_in(actor, targets[0][0], Money(AMOUNT_MINOR), idempotency_key=f"bench-count-{uuid.uuid4().hex}")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def run(ctx: Context) -> list[Row]:
    data = ctx.customers()
    return [measure(data, ctx, label="SQLite WAL, synchronous=FULL")]
