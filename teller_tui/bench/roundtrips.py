"""What this machine allows two clients of PostgreSQL, whatever the service: a same-run reference for
the branch-scaling target (2 clients ≥ 1.8× one on 2 cores).

Each client process runs transactions of the cash-in's shape through the bare driver (psycopg):
``reads`` primary-key SELECTs and ``writes`` INSERTs on a table of its own rows, one round trip
each, then COMMIT (durable, as the service's), with ``client_us`` of CPU spent in the client before
each statement: 0 for the bare driver, and the service's own client CPU per round trip (measured by
the 1-client run of the curve) for "a client exactly as heavy as ours". The ratio of 2 clients to 1
for each is what the machine gives that transaction shape: one client and its server process take
turns (one round trip at a time), two pairs share the cores, and each round trip's wake-up costs
more when the cores are busy. Measured while building this reference (2 cores, 19 reads + 7 writes):
no client work 1.39–1.50×; 100 µs per round trip 1.69×; 140 µs (the service's weight) 1.73×; 200 µs
1.87×; 400 µs 1.92× — a *lighter* client scales *worse*, so on this machine the 2-core target and the
lean posting path pull against each other.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

__all__ = ["ratio", "run_clients"]

TABLE = "bench_roundtrip"


def _spin(seconds: float) -> None:
    """Spend ``seconds`` of this thread's CPU (not wall time: a preempted client has not worked)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def _client(url: str, k: int, reads: int, writes: int, client_us: float, n: int, barrier: Any,
            queue: Any) -> None:  # pragma: no cover - runs in a child process
    import psycopg

    work = client_us / 1e6
    with psycopg.connect(url) as con:
        cur = con.cursor()
        base = 1000 * (k + 1)

        def transaction(i: int) -> None:
            for j in range(reads):
                _spin(work)
                cur.execute(f"SELECT v, pad FROM {TABLE} WHERE id = %s", (base + j % 100,))
                cur.fetchall()
            for _j in range(writes):
                _spin(work)
                cur.execute(f"INSERT INTO {TABLE}_log (client, v, pad) VALUES (%s, %s, %s)", (k, i, "y" * 40))
            con.commit()

        for i in range(20):  # warm: the driver prepares a statement on its fifth run
            transaction(i)
        barrier.wait()
        started, cpu = time.monotonic(), time.process_time()
        for i in range(n):
            transaction(i)
        queue.put((started, time.monotonic(), n, time.process_time() - cpu))


def _setup(url: str, clients: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"DROP TABLE IF EXISTS {TABLE}, {TABLE}_log")
        con.execute(f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, v bigint NOT NULL, pad text NOT NULL)")
        con.execute(f"CREATE TABLE {TABLE}_log (id bigserial PRIMARY KEY, client integer NOT NULL, "
                    "v bigint NOT NULL, pad text NOT NULL)")
        con.execute(f"INSERT INTO {TABLE} SELECT g, 0, repeat('x', 50) FROM generate_series(1, %s) g",
                    (1000 * (clients + 1) + 100,))


def _drop(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"DROP TABLE IF EXISTS {TABLE}, {TABLE}_log")


def run_clients(url: str, clients: int, *, reads: int, writes: int, client_us: float, n: int
                ) -> tuple[float, float]:
    """Transactions per second of ``clients`` processes (from the barrier to the last one's end), and
    the clients' CPU seconds per transaction."""
    mp = multiprocessing.get_context("spawn")
    barrier = mp.Barrier(clients)
    queue = mp.Queue()
    procs = [mp.Process(target=_client, args=(url, k, reads, writes, client_us, n, barrier, queue), daemon=True)
             for k in range(clients)]
    for p in procs:
        p.start()
    try:
        results = [queue.get(timeout=600) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():  # pragma: no cover
                p.terminate()
    seconds = max(r[1] for r in results) - min(r[0] for r in results)
    done = sum(r[2] for r in results)
    return (done / seconds if seconds > 0 else 0.0), sum(r[3] for r in results) / max(done, 1)


def ratio(url: str, *, reads: int, writes: int, client_us: float, n: int) -> dict[str, float]:
    """One client weight at 1 and 2 clients, on a scratch table dropped after: their throughput, the
    ratio, and one client's CPU per transaction."""
    url = url.replace("postgresql+psycopg://", "postgresql://")
    _setup(url, 2)
    try:
        one, cpu = run_clients(url, 1, reads=reads, writes=writes, client_us=client_us, n=n)
        two, _cpu = run_clients(url, 2, reads=reads, writes=writes, client_us=client_us, n=n)
    finally:
        _drop(url)
    return {"one_per_s": one, "two_per_s": two, "ratio": two / one if one else 0.0, "client_cpu_ms": cpu * 1000,
            "client_us": client_us}
