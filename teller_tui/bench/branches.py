"""Branch scaling: 1, 2, 4, 8 and 16 clients, each a teller of its own branch (16 branches).

Every client is a fresh process (``spawn``) that builds its own services and posts cash-ins
through ``services.cash.cash_in`` into its own branch's wallets; the clock runs from a barrier to
the last client's last posting, and a client that has finished waits for the others before it
tears down (so no process's exit lands in the timed window of those still posting). Branches share
no lock key (:mod:`teller_tui.db.scopes`), no ledger or audit head row (per-branch chains and
streams) and no account row; what they still share is the bank-wide key taken *shared*, the
sequences (``nextval``, never held), the server's WAL flush at COMMIT and the machine's cores.
Sampling ``pg_stat_activity`` every 2 ms during 1- and 2-client runs found no lock waits at all: the
backends wait for their clients (``ClientRead``) ~80% of the time, ``WALSync`` 5-10%, ``LWLock WALWrite``
under 1%; each COMMIT flushes the WAL once. What one cash-in costs is CPU: ~4 ms in the client process
(Python) and ~2 ms in its server process, ~30 round trips between them; one client and its server
already keep one core busy, so on 2 cores two clients fill the machine and each cash-in costs 15-25%
more CPU than alone (four processes taking turns on two cores, a wake-up per round trip). So every row
prints the CPU per cash-in of the clients and of their server processes (``/proc``, when the server is
local) and how busy the machine was: on a machine shared with other work, that is the figure to compare.
Printed per database: throughput, p95 and max latency
of one cash-in, the throughput while every client was still posting, and the ratio to one client
measured in the same run. Target (PostgreSQL): 16 clients ≥ 6× one client on a machine with the
cores for it; on 2 cores, 2 clients ≥ 1.8×. SQLite serializes every writer (``BEGIN IMMEDIATE``):
its curve is the reference of no scaling.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.bench.runner import Row, ratio_row

if TYPE_CHECKING:
    from teller_tui.bench.runner import Context

NAME = "branches"
TITLE = "branch scaling: 1-16 clients on 16 branches, SQLite and PostgreSQL"
BRANCHES = 16
CLIENTS = (1, 2, 4, 8, 16)
WALLETS_PER_BRANCH = 8
WARM_UP = 2  # untimed cash-ins per client at least (and each wallet once)
#: The PostgreSQL cash-in's 26 statements (pinned by tests/test_posting_statements.py): those that
#: return rows, and the writes that return none; the ceiling reference runs the same round trips.
ROUND_TRIP_READS, ROUND_TRIP_WRITES = 19, 7


def build(url: str, home: Path, branches: int = BRANCHES, wallets_per_branch: int = WALLETS_PER_BRANCH
          ) -> dict[str, list[Any]]:
    """Schema, then per branch a teller with an open drawer and a few class-4 wallets."""
    from teller_tui.audit.trail import Actor
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.branch.setup import open_drawer_for_setup
    from teller_tui.common.money import Money
    from teller_tui.common.settings import load_settings
    from teller_tui.db import schema
    from teller_tui.db.engine import make_database
    from teller_tui.models import Customer, Staff
    from teller_tui.services import make_services

    db = make_database(url)
    schema.upgrade(db)
    services = make_services(load_settings(home=home, database_url=url), database=db, box=SecretBox.ephemeral())
    out: dict[str, list[Any]] = {}
    try:
        for n in range(1, branches + 1):
            branch = f"B{n:03d}"
            with db.write() as s:
                row = Staff(username=f"bench{n:02d}", display_name=branch, role="teller", branch_code=branch,
                            created_at=services.clock.now())
                s.add(row)
                s.flush()
                actor = Actor(row.id, row.username, f"T{n:02d}", "teller", branch)
            open_drawer_for_setup(services, actor, Money.of("100000"))
            wallets = []
            for k in range(wallets_per_branch):
                with db.write() as s:
                    c = Customer(customer_no=f"BB{n:03d}{k:05d}", full_name=f"客户{n}-{k}", name_latin=f"b {n} {k}",
                                 phone=f"1370{n:03d}{k:04d}", branch_code=branch, created_at=services.clock.now())
                    s.add(c)
                    s.flush()
                    cid = int(c.id or 0)
                wid = services.wallets.open_wallet_now(actor, cid, 4).wallet_id
                services.cash.cash_in(actor, wid, Money(100), idempotency_key=f"bench-branch-warm-{n}-{k}")
                wallets.append(wid)
            out[branch] = [(actor.staff_id, actor.username, actor.terminal_id), wallets]
    finally:
        services.close()
    return out


def _client(env: dict[str, str], who: tuple[int, str, str], branch: str, wallets: list[int], n: int, barrier: Any,
            queue: Any, done: Any = None) -> None:  # pragma: no cover - runs in a child process
    os.environ.update(env)
    import gc
    import resource
    import uuid

    from teller_tui.audit.trail import Actor
    from teller_tui.common.money import Money
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services

    services = make_services(load_settings())
    actor = Actor(who[0], who[1], who[2], "teller", branch)
    run = uuid.uuid4().hex[:8]
    # Warm-up, not timed: each wallet once (a fresh process pays for its first posting to each wallet and
    # for the driver preparing each statement on its fifth run), then the start-up's garbage collected
    # (the first full collection of a fresh process walks every object its imports made: ~65 ms here).
    for i in range(max(WARM_UP, len(wallets))):
        services.cash.cash_in(actor, wallets[i % len(wallets)], Money(100), idempotency_key=f"bw-{run}-{i}")
    gc.collect()
    barrier.wait()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    latencies, ends, errors, first = [], [], 0, ""
    for i in range(n):
        t = time.monotonic()
        try:
            services.cash.cash_in(actor, wallets[i % len(wallets)], Money(100), idempotency_key=f"bb-{run}-{i}")
            ends.append(time.monotonic())
            latencies.append(ends[-1] - t)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            errors += 1
            first = first or f"{type(exc).__name__}: {exc}"[:200]
    finished = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    queue.put((started, finished, latencies, errors, first, ends, cpu))
    if done is not None:  # a finished client's tear-down must not slow the ones still posting, and its
        try:              # server process must live until the parent has read its CPU time
            done.wait(timeout=600)
        except Exception:  # noqa: BLE001 - a client that failed breaks the barrier: close anyway
            pass
    services.close()


def _proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a local process (a server backend), or None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _machine_cpu() -> tuple[float, float] | None:
    """(all, idle) CPU seconds of the machine so far, or None off Linux."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        tick = os.sysconf("SC_CLK_TCK")
        return sum(values) / tick, (values[3] + values[4]) / tick
    except (OSError, ValueError, IndexError):
        return None


def _backends(url: str) -> list[int]:
    """The server processes of the clients (PostgreSQL: application_name 'teller')."""
    if not url.startswith("postgresql"):
        return []
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [int(r[0]) for r in conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'teller' AND pid <> pg_backend_pid()"))]
    except Exception:  # noqa: BLE001 - a server we cannot ask: no server CPU figure
        return []
    finally:
        engine.dispose()


def measure_clients(url: str, home: Path, world: dict[str, list[Any]], clients: int, per_client: int) -> dict[str, Any]:
    mp = multiprocessing.get_context("spawn")
    barrier = mp.Barrier(clients + 1)
    done = mp.Barrier(clients + 1)
    queue = mp.Queue()
    env = {**{k: v for k, v in os.environ.items() if k.startswith("TELLER_")},
           "TELLER_DATABASE_URL": url, "TELLER_HOME": str(home)}
    procs = []
    for k in range(clients):
        branch = f"B{k + 1:03d}"
        who, wallets = world[branch]
        p = mp.Process(target=_client, args=(env, tuple(who), branch, wallets, per_client, barrier, queue, done),
                       daemon=True)
        p.start()
        procs.append(p)
    try:
        deadline = time.monotonic() + 600
        while barrier.n_waiting < clients and time.monotonic() < deadline and all(p.is_alive() for p in procs):
            time.sleep(0.02)  # every client warmed up: its server process is the one it posts through
        backends = _backends(url)
        server0 = {pid: _proc_cpu(pid) for pid in backends}
        machine0 = _machine_cpu()
        barrier.wait(timeout=600)
        results = [queue.get(timeout=1800) for _ in procs]
        machine1 = _machine_cpu()
        server1 = {pid: _proc_cpu(pid) for pid in backends}
        try:
            done.wait(timeout=60)
        except Exception:  # noqa: BLE001 - a client that failed broke the barrier: they close anyway
            pass
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():  # pragma: no cover
                p.terminate()
    lat = sorted(x for r in results for x in r[2])
    seconds = max(r[1] for r in results) - min(r[0] for r in results)
    p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))] if lat else 0.0
    # Steady state: the postings finished while every client was still posting, over that window.
    both_from, both_to = max(r[0] for r in results), min(r[1] for r in results)
    inside = sum(1 for r in results for t in r[5] if both_from <= t <= both_to)
    steady = inside / (both_to - both_from) if both_to > both_from else 0.0
    done_ok = max(1, len(lat))
    server_s = [end - begin for pid, begin in server0.items()
                if begin is not None and (end := server1.get(pid)) is not None]
    busy = None
    if machine0 and machine1 and machine1[0] > machine0[0]:
        busy = 1 - (machine1[1] - machine0[1]) / (machine1[0] - machine0[0])
    return {"clients": clients, "ok": len(lat), "seconds": seconds, "per_s": len(lat) / seconds if seconds else 0.0,
            "steady_per_s": steady, "steady_seconds": max(0.0, both_to - both_from),
            "p95_ms": p95 * 1000, "max_ms": (lat[-1] if lat else 0.0) * 1000,
            "median_ms": statistics.median(lat) * 1000 if lat else 0.0,
            "client_cpu_ms": sum(r[6] for r in results) * 1000 / done_ok,
            "server_cpu_ms": sum(server_s) * 1000 / done_ok if server_s else None,
            "machine_busy": busy,
            "errors": sum(r[3] for r in results), "first_error": next((r[4] for r in results if r[4]), "")}


def _cpu_note(r: dict[str, Any]) -> str:
    """CPU per cash-in (client process, its server process) and how busy the machine was: on a machine
    whose cores are all busy, throughput is the cores divided by the CPU one cash-in costs."""
    server = f" + server {r['server_cpu_ms']:.2f} ms" if r.get("server_cpu_ms") is not None else ""
    busy = f"; machine {r['machine_busy'] * 100:.0f}% busy" if r.get("machine_busy") is not None else ""
    return f"CPU per cash-in: client {r['client_cpu_ms']:.2f} ms{server}{busy}"


def curve(ctx: Context, url: str, home: Path, label: str, per_client: int) -> list[Row]:
    tiny = ctx.opts.processes <= 2  # the tests' toy size: the table must be whole, the figures mean nothing
    counts = (1, 2) if tiny else CLIENTS
    ctx.status(f"{label}: {max(counts) if tiny else BRANCHES} branches")
    world = build(url, home, max(counts) if tiny else BRANCHES, 1 if tiny else WALLETS_PER_BRANCH)
    runs = []
    for clients in counts:
        ctx.status(f"{label}: {clients} client(s) x {per_client} cash-ins")
        runs.append(measure_clients(url, home, world, clients, per_client))
    one = runs[0]
    rows = []
    for r in runs:
        row = Row(NAME, f"{label}: {r['clients']:>2} client(s) on their own branches",
                  f"{r['per_s']:,.0f}/s", f"{one['per_s']:,.0f}/s (1 client)",
                  f"{r['per_s'] / one['per_s']:.2f}×" if one["per_s"] else "—", "INFO",
                  f"p95 {r['p95_ms']:.0f} ms, max {r['max_ms']:.0f} ms, median {r['median_ms']:.1f} ms; "
                  f"{r['steady_per_s']:,.0f}/s while all {r['clients']} were posting; {_cpu_note(r)}"
                  + (f"; {r['errors']} errors, first: {r['first_error']}" if r["errors"] else ""), dict(r))
        if r["errors"]:
            row.verdict = "FAIL"
        rows.append(row)
    if "PostgreSQL" in label and not tiny:
        two, sixteen = runs[1], runs[-1]
        rows.append(ratio_row(NAME, f"{label}: 2 clients vs 1 (target on 2 cores)", two["per_s"], one["per_s"], 1.8,
                              unit="/s", higher_is_better=True, fmt=lambda v: f"{v:,.0f}/s"))
        cores = os.cpu_count() or 1
        six = ratio_row(NAME, f"{label}: 16 clients vs 1 ({cores} cores here)", sixteen["per_s"], one["per_s"], 6.0,
                        unit="/s", higher_is_better=True, fmt=lambda v: f"{v:,.0f}/s")
        if cores < 16:
            six.verdict, six.detail = "INFO", f"needs the cores for it (this machine has {cores})"
        rows.append(six)
        rows += ceiling(ctx, url, one, rows[-2])
    return rows


def ceiling(ctx: Context, url: str, one: dict[str, Any], target: Row) -> list[Row]:
    """What this machine gives two clients of the cash-in's shape through the bare driver
    (:mod:`teller_tui.bench.roundtrips`): with no client work, and with the client CPU per round trip
    the service's own 1-client run spent. The 2-client target row names the second."""
    from teller_tui.bench import roundtrips

    n = 300 if ctx.opts.quick else 1000
    ctx.status("PostgreSQL: the machine's 2-client ceiling for the cash-in's round trips (bare driver)")
    bare = roundtrips.ratio(url, reads=ROUND_TRIP_READS, writes=ROUND_TRIP_WRITES, client_us=0, n=n)
    trips = ROUND_TRIP_READS + ROUND_TRIP_WRITES
    weight = max(0.0, (one["client_cpu_ms"] - bare["client_cpu_ms"]) * 1000 / trips)
    ours = roundtrips.ratio(url, reads=ROUND_TRIP_READS, writes=ROUND_TRIP_WRITES, client_us=weight, n=n)
    rows = []
    for label, r in (("no client work", bare),
                     (f"{weight:.0f} µs of client CPU per round trip, as the service's client", ours)):
        rows.append(Row(NAME, f"PostgreSQL reference: the bare driver, {trips} round trips + COMMIT per transaction, "
                              f"{label}: 2 clients vs 1",
                        f"{r['two_per_s']:,.0f}/s", f"{r['one_per_s']:,.0f}/s (1 client)", f"{r['ratio']:.2f}×",
                        "INFO", f"client CPU {r['client_cpu_ms']:.2f} ms per transaction; what the machine gives "
                        "this shape whatever the service does", dict(r)))
    target.detail = (target.detail + "; " if target.detail else "") + (
        f"this machine's ceiling for a client as heavy as the service's, same round trips: {ours['ratio']:.2f}×")
    target.values["ceiling_ratio"] = ours["ratio"]
    return rows


def run(ctx: Context) -> list[Row]:
    from teller_tui.bench.pg import PgUnavailableForBench, postgres_url

    per_client = 100 if ctx.opts.quick else 200  # 40 was ~0.4 s a run: scheduling noise, not scaling
    if ctx.opts.processes <= 2:  # the tests' toy size
        per_client = 5
    base = ctx.workdir / "branches"
    base.mkdir(parents=True, exist_ok=True)
    rows = curve(ctx, f"sqlite:///{base / 'branches.db'}", base / "home-sqlite", "SQLite", per_client)
    try:
        with postgres_url() as (url, source):
            rows += curve(ctx, url, base / "home-pg", "PostgreSQL", per_client)
            ctx.notes.append(f"branch scaling on PostgreSQL: {source}")
    except PgUnavailableForBench as exc:
        rows.append(Row(NAME, "PostgreSQL branch scaling", "—", verdict="SKIP", detail=str(exc)))
    return rows
