"""Posting throughput on any backend, for ``teller bench`` to report PostgreSQL next to SQLite.

``posting_throughput(url, clients=8, postings=2000)`` opens ``clients`` independent
:class:`Database` objects (one per thread, as separate terminals would) on a MIGRATED database
at ``url``, and posts ``postings`` two-leg transfers between a small set of hot wallets
through :meth:`Ledger.post` inside :meth:`Database.write_retrying` (the real posting path:
idempotency check, ``FOR UPDATE`` locks in account order, balance update, ledger head).
It returns rate and latency percentiles plus retry counts. Nothing is printed.

What to compare (same machine, same run): SQLite WAL+FULL with 1 and 8 clients against
PostgreSQL with 1 and 8 clients; commit-bound figures depend on the disk's fsync time
(PERFORMANCE.md: ~0.12 ms here, 1–5 ms on a branch PC), so state it next to them. Threads
share one GIL: for client counts above the core count, processes give truer figures.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlmodel import Session

from teller_tui.common.clock import SystemClock
from teller_tui.common.errors import LimitExceeded
from teller_tui.db.engine import make_database
from teller_tui.ledger import AccountKind, EntryRequest, EntryResult, Leg, Ledger


@dataclass(frozen=True, slots=True)
class BenchResult:
    backend: str
    clients: int
    postings: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    refused: int  # LimitExceeded (should be 0: wallets are funded)
    reconnects: int

    def line(self) -> str:
        return (f"{self.backend:<10} {self.clients:>3} clients  {self.per_second:8.0f} postings/s  "
                f"p50 {self.p50_ms:.2f} ms  p95 {self.p95_ms:.2f} ms  p99 {self.p99_ms:.2f} ms  "
                f"max {self.max_ms:.1f} ms")


def _post(ledger: Ledger, req: EntryRequest, session: Session) -> EntryResult:
    return ledger.post(session, req)


def posting_throughput(url: str, *, clients: int = 1, postings: int = 2000, hot_accounts: int = 16,
                       **database_kwargs: Any) -> BenchResult:
    """Measure ``postings`` ledger postings from ``clients`` threads against ``url`` (migrated)."""
    run = uuid.uuid4().hex[:8]
    ledger = Ledger(SystemClock())
    setup = make_database(url, **database_kwargs)
    backend = setup.dialect
    try:
        def make_accounts(s: Any) -> list[int]:
            drawer = ledger.open_account(s, code=f"bench:{run}:drawer", name="bench drawer",
                                         kind=AccountKind.DRAWER, branch_code="BENCH")
            ids = [ledger.open_account(s, code=f"bench:{run}:w{i}", name=f"bench {i}", kind=AccountKind.WALLET,
                                       branch_code="BENCH") for i in range(hot_accounts)]
            fund = 10 ** 12
            ledger.post(s, EntryRequest(f"bench-{run}-fund", "bench", (
                Leg(drawer, fund * len(ids)), *(Leg(w, -fund) for w in ids)), None, "BENCH", "BENCH"))
            return ids

        wallets = setup.write_retrying(make_accounts)
    finally:
        setup.dispose()

    per_client = [postings // clients + (1 if i < postings % clients else 0) for i in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    refused = [0] * clients
    reconnects = [0] * clients
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        db = make_database(url, pool_size=1, **database_kwargs)
        try:
            barrier.wait()
            for i in range(per_client[n]):
                a = wallets[(n * 7 + i) % len(wallets)]
                b = wallets[(n * 7 + i * 3 + 1) % len(wallets)]
                if a == b:
                    b = wallets[(wallets.index(a) + 1) % len(wallets)]
                req = EntryRequest(f"bench-{run}-{n}-{i}", "bench", (Leg(a, 1), Leg(b, -1)), None, "BENCH", "BENCH")
                t0 = time.perf_counter()
                try:
                    db.write_retrying(partial(_post, ledger, req), attempts=20)
                except LimitExceeded:
                    refused[n] += 1
                latencies[n].append((time.perf_counter() - t0) * 1000)
            reconnects[n] = db.reconnects
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    flat = sorted(x for lat in latencies for x in lat)
    q = statistics.quantiles(flat, n=100, method="inclusive") if len(flat) >= 2 else flat * 99 or [0.0] * 99
    return BenchResult(backend, clients, len(flat), seconds, len(flat) / seconds if seconds else 0.0,
                       q[49], q[94], q[98], flat[-1] if flat else 0.0, sum(refused), sum(reconnects))
