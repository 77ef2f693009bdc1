"""Branch scaling: 1, 2, 4, 8 and 16 clients, each a teller of its own branch (16 branches).

Every client is a fresh process (``spawn``) that builds its own services and posts cash-ins
through ``services.cash.cash_in`` into its own branch's wallets; the clock runs from a barrier to
the last client's last posting, and a client that has finished waits for the others before it
tears down (so no process's exit lands in the timed window of those still posting). Branches share
no lock key (:mod:`teller_tui.db.scopes`), no ledger or audit head row (per-branch chains and
streams) and no account row; what they still share is the bank-wide key taken *shared*, the
sequences (``nextval``, never held), the server's WAL flush at COMMIT and the machine's cores.
Sampling ``pg_stat_activity`` during 2-, 4- and 16-client runs found no lock waits at all: the
backends wait for their clients (``ClientRead``) ~95% of the time, ``WALSync``/``WALWrite`` the rest,
so on 2 cores the curve is the clients' CPU. Printed per database: throughput, p95 and max latency
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
    import uuid

    from teller_tui.audit.trail import Actor
    from teller_tui.common.money import Money
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services

    services = make_services(load_settings())
    actor = Actor(who[0], who[1], who[2], "teller", branch)
    run = uuid.uuid4().hex[:8]
    for i in range(2):  # warm-up, not timed
        services.cash.cash_in(actor, wallets[i % len(wallets)], Money(100), idempotency_key=f"bw-{run}-{i}")
    barrier.wait()
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
    if done is not None:  # a finished client's tear-down must not slow the ones still posting
        try:
            done.wait(timeout=600)
        except Exception:  # noqa: BLE001 - a client that failed breaks the barrier: close anyway
            pass
    services.close()
    queue.put((started, finished, latencies, errors, first, ends))


def measure_clients(url: str, home: Path, world: dict[str, list[Any]], clients: int, per_client: int) -> dict[str, Any]:
    mp = multiprocessing.get_context("spawn")
    barrier = mp.Barrier(clients + 1)
    done = mp.Barrier(clients)
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
        barrier.wait(timeout=600)
        results = [queue.get(timeout=1800) for _ in procs]
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
    return {"clients": clients, "ok": len(lat), "seconds": seconds, "per_s": len(lat) / seconds if seconds else 0.0,
            "steady_per_s": steady, "steady_seconds": max(0.0, both_to - both_from),
            "p95_ms": p95 * 1000, "max_ms": (lat[-1] if lat else 0.0) * 1000,
            "median_ms": statistics.median(lat) * 1000 if lat else 0.0,
            "errors": sum(r[3] for r in results), "first_error": next((r[4] for r in results if r[4]), "")}


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
                  f"{r['steady_per_s']:,.0f}/s while all {r['clients']} were posting"
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
