"""One cash-in through the full service vs the raw driver running the service's own statements.

The service: ``services.cash.cash_in`` (role check, open drawer, tier limits, approval policy,
ledger with idempotency key, audit chain, notification, receipt rendered and saved), one
transaction per cash-in. The reference: every statement those cash-ins sent, captured on the
engine with its parameters (``before_cursor_execute``), replayed in the same run through the bare
driver (sqlite3 or psycopg) on a copy of the database taken just before they ran, one
transaction per cash-in, same durability settings (any read transaction the service runs besides
the write included, each transaction ended where the service ended it). So the ratio is what the service's Python
(ORM, rules, receipt) costs on top of its SQL. Medians with the middle half (IQR) of each side.
"""

from __future__ import annotations

import gc
import time
import uuid
from typing import TYPE_CHECKING, Any

from teller_tui.bench.runner import Row, median, ratio_row

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.bench.data import DataSet
    from teller_tui.bench.runner import Context

NAME = "posting"
TITLE = "one cash-in through the full service vs the raw driver running its statements"
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


class Capture:
    """Every statement the service sends on its engines (the write engine and the read engine of
    the check before the write), with its parameters, and where each transaction ends, grouped by
    the call that sent them: what :class:`Replay` runs through the bare driver."""

    def __init__(self, *engines: Any) -> None:
        self.engines = engines
        self.current: list[tuple[str, Any, bool]] = []

    def __enter__(self) -> Capture:
        from sqlalchemy import event

        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._record)
            event.listen(engine, "commit", self._commit)
            event.listen(engine, "rollback", self._rollback)
        return self

    def __exit__(self, *_exc: object) -> None:
        from sqlalchemy import event

        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._record)
            event.remove(engine, "commit", self._commit)
            event.remove(engine, "rollback", self._rollback)

    def _record(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                executemany: bool) -> None:
        self.current.append((statement, parameters, executemany))

    def _commit(self, _conn: Any) -> None:
        self.current.append(("COMMIT", None, False))

    def _rollback(self, _conn: Any) -> None:
        self.current.append(("ROLLBACK", None, False))

    def take(self) -> list[tuple[str, Any, bool]]:
        done, self.current = self.current, []
        return done


def service_cash_ins_captured(services: Any, actor: Actor, targets: list[tuple[int, int, int, str]], n: int,
                              tag: str, capture: Capture, cpu: list[float] | None = None,
                              ) -> tuple[list[float], list[list[tuple[str, Any, bool]]]]:
    """``n`` timed cash-ins through the service, each one's statements captured (and, into ``cpu``,
    each one's CPU time in this process: what load on a shared machine does not inflate)."""
    from teller_tui.common.money import Money

    samples, txns = [], []
    run_id = uuid.uuid4().hex[:8]
    for i in range(n):
        c, t = time.process_time(), time.perf_counter()
        services.cash.cash_in(actor, targets[i % len(targets)][0], Money(AMOUNT_MINOR),
                              idempotency_key=f"bench-{tag}-{run_id}-{i}")
        samples.append(time.perf_counter() - t)
        if cpu is not None:
            cpu.append(time.process_time() - c)
        txns.append(capture.take())
    return samples, txns


class Replay:
    """The service's own captured statements, replayed through the bare driver (sqlite3 or psycopg)
    on a copy of the database taken before they ran: the same statements with the same values, in
    the same order, one transaction per cash-in, on the same durability settings."""

    def __init__(self, data: DataSet, copy: Any) -> None:
        self.dialect = "sqlite" if data.db_path is not None else "postgresql"
        if self.dialect == "sqlite":
            import sqlite3

            from teller_tui.db.engine import SQLITE_BUSY_TIMEOUT_MS

            self.con: Any = sqlite3.connect(copy, isolation_level=None, timeout=10)
            sync = data.services().db.synchronous
            for pragma in (f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}", "journal_mode=WAL", f"synchronous={sync}",
                           "foreign_keys=ON", "case_sensitive_like=ON"):
                self.con.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            self.con = psycopg.connect(copy, autocommit=False)

    def close(self) -> None:
        self.con.close()

    def run(self, txn: list[tuple[str, Any, bool]], cpu: list[float] | None = None) -> float:
        """Run one call's statements in order, ending each transaction where the service did (its
        CPU time in this thread appended to ``cpu``)."""
        cur = self.con.cursor()
        c, t = time.thread_time(), time.perf_counter()
        for statement, params, many in txn:
            if statement in ("COMMIT", "ROLLBACK"):
                if self.dialect == "sqlite":
                    cur.execute(statement)
                elif statement == "COMMIT":
                    self.con.commit()
                else:
                    self.con.rollback()
            elif many:
                cur.executemany(statement, params)
            elif params is None or params == () or params == {}:
                cur.execute(statement)
            else:
                cur.execute(statement, params)
            if cur.description is not None:
                cur.fetchall()
        elapsed = time.perf_counter() - t
        if cpu is not None:
            cpu.append(time.thread_time() - c)
        return elapsed


def database_copy(data: DataSet, services: Any) -> tuple[Any, Any]:
    """A copy of the database as it stands now (SQLite: the backup API; PostgreSQL: a new database
    from it as a template, the service's pooled connections closed first): (what Replay opens, a cleanup)."""
    if data.db_path is not None:
        import sqlite3

        path = data.db_path.with_name("replay.db")
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        src, dst = sqlite3.connect(data.db_path), sqlite3.connect(path)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        return path, lambda: None
    import psycopg

    services.db.dispose()
    url = data.url.replace("postgresql+psycopg://", "postgresql://")
    base, _, name = url.rpartition("/")
    copy_name = f"{name}_replay"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{copy_name}"')
        admin.execute(f'CREATE DATABASE "{copy_name}" TEMPLATE "{name}"')

    def drop() -> None:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{copy_name}"')
    return f"{base}/{copy_name}", drop


def spread(samples: list[float]) -> str:
    """The middle half of the samples (25th–75th percentile), in ms."""
    data = sorted(samples)
    if not data:
        return "—"
    q1, q3 = data[len(data) // 4], data[min(len(data) - 1, (3 * len(data)) // 4)]
    return f"{q1 * 1000:,.2f}–{q3 * 1000:,.2f} ms"


def measure(data: DataSet, ctx: Context, *, label: str) -> Row:
    """The service vs the raw driver running the service's own statements, for one database."""
    services = data.services()
    actor = data.actor("teller1")
    targets = wallets(data, 200)
    # PostgreSQL's read engine is the write engine with options: its events reach the write engine's listeners.
    engines = (services.db.write_engine, services.db.read_engine) if data.db_path is not None \
        else (services.db.write_engine,)
    capture = Capture(*engines)
    with capture:  # caches, first receipt directory, statements (each wallet's first posting is heavier)
        service_cash_ins_captured(services, actor, targets, len(targets), "warm", capture)
    copy, cleanup = database_copy(data, services)
    replay = Replay(data, copy)
    # This process's heap frozen out of the collector's walks, as the app freezes its start and its
    # core once loaded (screens.resume_collection, screens.freeze_core): a full collection here would
    # walk the bench's data builders and every earlier figure's objects, which no teller's process holds.
    gc.collect()
    gc.freeze()
    svc: list[float] = []
    raw: list[float] = []
    svc_cpu: list[float] = []
    raw_cpu: list[float] = []
    n = max(2, ctx.opts.cash_ins)
    try:
        with capture:
            for half in ("a", "b"):  # interleaved, so drift in machine load hits both sides alike
                times, txns = service_cash_ins_captured(services, actor, targets, n // 2, half, capture, svc_cpu)
                svc += times
                raw += [replay.run(txn, raw_cpu) for txn in txns]
    finally:
        gc.unfreeze()
        replay.close()
        cleanup()
    s_ms, r_ms = median(svc) * 1000, median(raw) * 1000
    row = ratio_row(NAME, f"one cash-in through the full service ({label}; median of {len(svc)})", s_ms, r_ms, 3.0,
                    unit="ms", fmt=lambda v: f"{v:,.2f} ms", service_mean_ms=sum(svc) / len(svc) * 1000,
                    raw_mean_ms=sum(raw) / len(raw) * 1000, service_per_s=1 / median(svc), raw_per_s=1 / median(raw),
                    service_iqr=spread(svc), raw_iqr=spread(raw))
    row.reference = f"{r_ms:,.2f} ms (raw driver, the service's own statements replayed)"
    count = statements_per_cash_in(services, actor, targets)
    row.values["statements_per_cash_in"] = count
    # CPU time of this process (SQLite: the whole cash-in; PostgreSQL: the client's side only):
    # load on a shared machine inflates wall times, far less the CPU each side used.
    cs_ms, cr_ms = median(svc_cpu) * 1000, median(raw_cpu) * 1000
    row.values.update(service_cpu_ms=cs_ms, raw_cpu_ms=cr_ms, cpu_ratio=cs_ms / cr_ms if cr_ms else None)
    cpu_note = f"CPU median service {cs_ms:,.2f} ms, raw {cr_ms:,.2f} ms ({cs_ms / cr_ms:.2f}×)" if cr_ms else ""
    row.detail = (row.detail + f"; IQR service {spread(svc)}, raw {spread(raw)}; {cpu_note}; {count} SQL "
                  "statements per cash-in").strip("; ")
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
