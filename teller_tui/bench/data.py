"""The benchmark's data, built in the run's temporary directory.

* :func:`build_customers`: the customer base through :func:`teller_tui.demo.build.build_demo`
  (its bulk path: executemany with the search indexes suspended, then the same FTS and
  name-gram rebuild the migration defines), with staff, today's business day and open
  drawers. ``active=0``: no ORM-posted history (the lookup figures do not need it).
* :func:`build_ledger`: a branch with ``postings`` postings (two per entry) spread over
  years of business days. The demo builds the branch dated in the past; the entries are
  bulk-inserted with raw sqlite3 into the real schema (:mod:`teller_tui.bench.bulk`: request
  hashes, references, sequence numbers, cached account totals and the ledger head all
  consistent, so ``teller ledger verify`` passes); then today's business day and drawers are
  opened through the services, whose ledger posts after the bulk entries (checking the head it
  continues).

With ``--keep DIR`` each built data set leaves ``dataset.json`` in its directory (what it was built
with, on which business day); a later run with the same ``--keep DIR`` and the same sizes reuses it
the same business day instead of building it again (a 10M-posting ledger takes ~15 min to build).
The figures' own postings stay in it: they do not change what the figures measure.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.bench.bulk import BRANCH, bulk_history

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.services import Services
    from teller_tui.common.settings import Settings
    from teller_tui.bench.runner import Context

#: The file a kept data set is described by (see the module's docstring).
MARKER = "dataset.json"
#: Staff of the demo who hold a cash drawer (open_demo_drawer opens one for each).
DRAWER_STAFF = ("teller1", "teller2", "super1")


@dataclass
class DataSet:
    """A built database and how to reach it (in this process and in child processes)."""

    name: str
    home: Path
    db_path: Path | None
    url: str
    settings: Settings
    staff: dict[str, tuple[int, str]] = field(default_factory=dict)  # username -> (id, role)
    info: dict[str, Any] = field(default_factory=dict)
    _services: Services | None = None

    @property
    def env(self) -> dict[str, str]:
        """Environment for a child process (``teller …`` or a bench driver) using this data."""
        return {"TELLER_HOME": str(self.home), "TELLER_DATABASE_URL": self.url,
                "TELLER_BRANCH_CODE": self.settings.branch_code, "TELLER_TERMINAL_ID": self.settings.terminal_id}

    def services(self) -> Services:
        if self._services is None:
            from teller_tui.services import make_services

            self._services = make_services(self.settings)
        return self._services

    def actor(self, username: str) -> Actor:
        from teller_tui.audit.trail import Actor

        staff_id, role = self.staff[username]
        return Actor(staff_id, username, self.settings.terminal_id, role, self.settings.branch_code)

    def close(self) -> None:
        if self._services is not None:
            self._services.close()
            self._services = None


def settings_for(home: Path, url: str | None = None) -> Settings:
    from teller_tui.common.settings import load_settings

    home.mkdir(parents=True, exist_ok=True)
    return load_settings(home=home, database_url=url or f"sqlite:///{home / 'teller.db'}", branch_code=BRANCH,
                         terminal_id="T01")


def _today() -> str:
    from teller_tui.common.clock import local_date

    return local_date(datetime.now(UTC)).isoformat()


def _kept(ctx: Context, name: str, params: dict[str, Any]) -> DataSet | None:
    """The data set ``name`` a previous ``--keep`` run built with ``params`` today, if there is one."""
    home = ctx.workdir / name
    marker = home / MARKER
    if not ctx.opts.keep or not marker.exists():
        return None
    saved = json.loads(marker.read_text(encoding="utf-8"))
    if saved.get("params") != params or saved.get("business_date") != _today():
        ctx.status(f"{name}: the kept data in {home} was built with {saved.get('params')} on "
                   f"{saved.get('business_date')}; building it again")
        marker.unlink()
        return None
    settings = settings_for(home)
    ctx.status(f"{name}: reusing the data kept in {home} (built {saved.get('built_at')})")
    ctx.notes.append(f"data set {name}: reused from {home} (built {saved.get('built_at')}, --keep)")
    staff = {u: (int(i), str(r)) for u, (i, r) in saved["staff"].items()}
    return DataSet(name, home, home / "teller.db", settings.effective_database_url, settings, staff,
                   {**saved["info"], "reused": True})


def _keep(ctx: Context, ds: DataSet, params: dict[str, Any]) -> DataSet:
    if ctx.opts.keep and ds.db_path is not None:
        (ds.home / MARKER).write_text(json.dumps(
            {"params": params, "business_date": _today(), "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
             "info": ds.info, "staff": ds.staff}, indent=1) + "\n", encoding="utf-8")
    return ds


def _staff(settings: Settings) -> dict[str, tuple[int, str]]:
    from sqlalchemy import text

    from teller_tui.services import open_database

    database = open_database(settings, check_schema=False)
    try:
        with database.read() as s:
            return {u: (int(i), r) for i, u, r in s.execute(text("SELECT id, username, role FROM staff"))}
    finally:
        database.dispose()


def build_customers(ctx: Context, *, name: str = "customers", url: str | None = None,
                    customers: int | None = None) -> DataSet:
    """``customers`` customers (default ``opts.customers``) with wallets, staff, open drawers."""
    from teller_tui.demo.build import build_demo

    n = ctx.opts.customers if customers is None else customers
    params: dict[str, Any] = {"customers": n, "seed": 7}
    if url is None and (kept := _kept(ctx, name, params)) is not None:
        return kept
    home = ctx.workdir / name
    settings = settings_for(home, url)
    ctx.status(f"building {n:,} customers with wallets ({settings.effective_database_url.split(':')[0]})")
    summary = build_demo(settings, customers=n, seed=7, force=url is None, progress=ctx.opts.progress, active=0)
    ctx.status(f"built {n:,} customers in {summary.seconds:.0f} s")
    db_path = home / "teller.db" if url is None else None
    return _keep(ctx, DataSet(name, home, db_path, settings.effective_database_url, settings, _staff(settings),
                              {"customers": n, "build_seconds": summary.seconds}), params)


# -- the big ledger ------------------------------------------------------------------------------
def build_ledger(ctx: Context, *, postings: int | None = None, name: str = "ledger", days: int | None = None,
                 through_today: bool = False, drawer_staff: tuple[str, ...] | None = None) -> DataSet:
    """The branch with ``postings`` postings (default ``opts.postings``) over ``days`` business days
    (default: 500 entries a day, at most 2,000 days) ending yesterday, or today with ``through_today``
    (then today's day and drawers open after them); ``drawer_staff``: whose drawers the history uses."""
    from unittest import mock

    from teller_tui.demo import build as demo
    from teller_tui.services import open_database

    opts = ctx.opts
    entries = max(1, (opts.postings if postings is None else postings) // 2)
    days = days or max(1, min(2000, entries // 500))
    params: dict[str, Any] = {"entries": entries, "days": days, "through_today": through_today,
                              "drawer_staff": list(drawer_staff) if drawer_staff else None,
                              "customers": opts.ledger_customers, "seed": 11}
    if (kept := _kept(ctx, name, params)) is not None:
        return kept
    started = time.perf_counter()
    home = ctx.workdir / name
    settings = settings_for(home)
    today = datetime.now(UTC)
    ctx.status(f"building a branch of {opts.ledger_customers:,} customers dated {days + 31} days ago")
    # The branch as it was years ago; today's drawers are opened after the bulk history.
    with mock.patch.object(demo, "_open_drawers", lambda *a, **k: None):
        demo.build_demo(settings, customers=opts.ledger_customers, seed=11, force=True, progress=False, active=0,
                        now=today - timedelta(days=days + 2))
    db_path = home / "teller.db"
    ctx.status(f"bulk-inserting {entries * 2:,} postings ({entries:,} entries over {days:,} business days)")
    bulk_history(db_path, entries, days, settings.terminal_id, progress=ctx.opts.progress,
                 through_today=through_today, drawer_staff=drawer_staff)
    ctx.status("opening today's business day and drawers through the services")
    database = open_database(settings, check_schema=False)
    try:
        demo._open_drawers(database, settings)
    finally:
        database.dispose()
    seconds = time.perf_counter() - started
    ctx.status(f"{name}: built {entries * 2:,} postings in {seconds:,.0f} s")
    return _keep(ctx, DataSet(name, home, db_path, settings.effective_database_url, settings, _staff(settings),
                              {"postings": entries * 2, "entries": entries, "days": days,
                               "build_seconds": round(seconds)}), params)
