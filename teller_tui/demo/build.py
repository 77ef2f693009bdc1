"""``teller demo``: build a realistic demo branch into the configured database.

What it builds (deterministic for a seed, dated relative to the day it runs):

* staff of every role with the documented passwords and authenticator secrets in
  :data:`teller_tui.demo.staff.DEMO_STAFF` (created through the auth service);
* the branch vault and one drawer per teller, funded through the ledger (equity -> vault -> drawer);
* ``customers`` customers with Chinese names (+ pinyin), valid mobile numbers and valid PRC ID
  numbers (:mod:`teller_tui.demo.people`), each with a wallet (classes 1-4), inserted in bulk
  (:mod:`teller_tui.demo.customers`); the first :data:`ACTIVE_CUSTOMERS` have points accounts and
  four weeks of history (cash in / cash out / transfers) posted THROUGH THE LEDGER
  (:mod:`teller_tui.demo.history`); the rest keep empty wallets, for search at scale;
* today's business day and a drawer with a float for each teller and supervisor.

Usage::

    summary = build_demo(settings, customers=1000, seed=7, force=False, progress=True)
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import bindparam, text

from teller_tui.audit.trail import AuditTrail
from teller_tui.auth.passwords import hash_pin
from teller_tui.auth.roles import Role
from teller_tui.branch.setup import open_demo_drawer
from teller_tui.common.clock import Clock, FakeClock
from teller_tui.common.errors import Conflict, StorageError
from teller_tui.common.settings import Settings
from teller_tui.db import schema
from teller_tui.db.engine import Database
from teller_tui.demo.customers import bulk_customers
from teller_tui.demo.history import HISTORY_DAYS, post_history
from teller_tui.demo.staff import DEMO_STAFF, make_staff, system_actor
from teller_tui.services import make_services, open_database

ACTIVE_CUSTOMERS = 2000  # customers with ledger history (the rest are bulk-inserted)


@dataclass
class DemoSummary:
    database: str
    customers: int
    active_customers: int
    entries: int
    seconds: float
    kiosk_phones: tuple[str, ...] = ()  # customers given DEMO_PIN, to try the kiosk and the customer display


def _nonempty(database: Database) -> bool:
    with database.read() as s:
        for table in ("staff", "customer", "journal_entry"):
            if s.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:
                return True
    return False


def _open_fresh(settings: Settings, force: bool) -> Database:
    database = open_database(settings, check_schema=False)
    schema.upgrade(database)
    if _nonempty(database):
        if not force:
            database.dispose()
            raise Conflict(f"The database {database.display_url} already holds data; "
                           "`teller demo --force` replaces it (everything in it is lost).", code="demo_not_empty")
        if database.dialect != "sqlite" or database.path is None:
            database.dispose()
            raise StorageError("--force can only replace a SQLite file; point TELLER_DATABASE_URL at an empty "
                               "PostgreSQL database instead.", code="demo_force_pg")
        path = database.path
        database.dispose()
        for suffix in ("", "-wal", "-shm"):
            p = path.with_name(path.name + suffix)
            if p.exists():
                p.unlink()
        database = open_database(settings, check_schema=False)
        schema.upgrade(database)
    return database


def build_demo(settings: Settings, *, customers: int = 1000, seed: int = 1, force: bool = False,
               progress: bool = True, active: int = ACTIVE_CUSTOMERS, now: datetime | None = None,
               drawer_float: Mapping[str, int] | None = None) -> DemoSummary:
    started = time.monotonic()
    if customers < 0:
        raise ValueError("customers must be >= 0")
    database = _open_fresh(settings, force)
    rng = random.Random(seed)
    real_now = (now or datetime.now(UTC)).astimezone(UTC)
    clock = FakeClock(real_now - timedelta(days=HISTORY_DAYS + 1))
    active = min(active, customers)
    cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*cols, disable=not progress, transient=False) as bar:
            staff = make_staff(database, settings, clock)
            branch = settings.branch_code
            t_cust = bar.add_task("customers", total=customers)
            ids = bulk_customers(database, settings, clock, rng, customers, active, staff,
                                 lambda n: bar.advance(t_cust, n))
            t_hist = bar.add_task("history", total=max(1, len(ids)))
            entries = post_history(database, settings, clock, rng, ids, staff, branch, real_now,
                                   lambda n: bar.advance(t_hist, n))
            _finish(database, settings, clock, customers, seed)
            phones = _kiosk_pins(database, [w[0] for w in ids[:KIOSK_CUSTOMERS]])
            _open_drawers(database, settings, drawer_float)
        if database.dialect == "sqlite":
            with database.write_engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA optimize")
                conn.execute(text("ANALYZE"))
        url = database.display_url
    finally:
        database.dispose()
    return DemoSummary(url, customers, active, entries, time.monotonic() - started, phones)


#: The demo's kiosk PIN (README "Demo sign-ins"); the first KIOSK_CUSTOMERS customers have it.
DEMO_PIN = "258036"
KIOSK_CUSTOMERS = 3


def _kiosk_pins(database: Database, ids: list[int]) -> tuple[str, ...]:
    """Give the first customers a wallet PIN, so that the kiosk and the customer display can be
    tried on the demo branch; their phone numbers are printed with the staff sign-ins."""
    if not ids:
        return ()
    pin_hash = hash_pin(DEMO_PIN)  # one hash for all: argon2 is slow on purpose
    with database.write() as s:
        s.execute(text("UPDATE customer SET pin_hash = :h WHERE id IN :ids")
                  .bindparams(bindparam("ids", expanding=True)), {"h": pin_hash, "ids": list(ids)})
        rows = s.execute(text("SELECT phone FROM customer WHERE id IN :ids ORDER BY id")
                         .bindparams(bindparam("ids", expanding=True)), {"ids": list(ids)}).scalars().all()
    return tuple(str(p) for p in rows)


def _finish(database: Database, settings: Settings, clock: Clock, customers: int, seed: int) -> None:
    with database.write() as s:
        # The demo history has no audit record per entry: this record (protected by the audit
        # chain) says up to which entry the history goes (teller_tui.ledger.verify_links).
        until = int(s.execute(text("SELECT MAX(seq) FROM journal_entry")).scalar() or 0)
        AuditTrail(clock).append(s, system_actor(settings), "demo_build", subject=settings.branch_code,
                                 detail={"customers": customers, "seed": seed, "history_until_seq": until})


def _open_drawers(database: Database, settings: Settings, drawer_float: Mapping[str, int] | None = None) -> None:
    """Open today's business day and a drawer with a float for each teller (teller_tui.branch.drawers)."""
    services = make_services(settings, database=database, check_schema=False)
    services.kb.sync_shipped(system_actor(settings))  # the help articles, as `teller db upgrade` seeds them
    for st in DEMO_STAFF:
        if st.role in (Role.TELLER, Role.SUPERVISOR):
            open_demo_drawer(services, st.username, drawer_float)
