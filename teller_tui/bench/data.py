"""The benchmark's data, built in the run's temporary directory.

* :func:`build_customers`: the customer base through :func:`teller_tui.demo.build.build_demo`
  (its bulk path: executemany with the search indexes suspended, then the same FTS and
  name-gram rebuild the migration defines), with staff, today's business day and open
  drawers. ``active=0``: no ORM-posted history (the lookup figures do not need it).
* :func:`build_ledger`: a branch with ``postings`` postings (two per entry) spread over
  years of business days. The demo builds the branch dated in the past; the entries are
  bulk-inserted with raw sqlite3 into the real schema (request hashes, references, sequence
  numbers, cached account totals and the ledger head all consistent, so
  ``teller ledger verify`` passes); then today's business day and drawers are opened through
  the services, whose ledger posts after the bulk entries (checking the head it continues).

With ``--keep DIR`` each built data set leaves ``dataset.json`` in its directory (what it was built
with, on which business day); a later run with the same ``--keep DIR`` and the same sizes reuses it
the same business day instead of building it again (a 10M-posting ledger takes ~15 min to build).
The figures' own postings stay in it: they do not change what the figures measure.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.services import Services
    from teller_tui.common.settings import Settings
    from teller_tui.bench.runner import Context

BRANCH = "B001"
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
def _fmt_ts(dt: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite (naive, always with microseconds)."""
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


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


_ENTRY_SQL = ("INSERT INTO journal_entry (id, seq, branch_seq, idempotency_key, request_hash, request_json, kind, reference, memo, "
              "actor_id, terminal_id, branch_code, business_date, posted_at, customer_id, reverses_entry_id, hold_id, "
              "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)")
_POSTING_SQL = "INSERT INTO posting (entry_id, account_id, currency, amount) VALUES (?, ?, 'CNY', ?)"


def _request_json(kind: str, actor_id: int, customer_id: int, legs: list[tuple[int, int]], wallet: str,
                  to_wallet: str | None) -> str:
    """``teller_tui.ledger.core.canonical_json`` of the cash service's request, without json.dumps
    (checked against the real function for the first entries of every load)."""
    (a1, m1), (a2, m2) = sorted(legs)
    meta = f'{{"to_wallet":"{to_wallet}","wallet":"{wallet}"}}' if to_wallet else f'{{"wallet":"{wallet}"}}'
    return (f'{{"actor_id":{actor_id},"branch_code":"{BRANCH}","customer_id":{customer_id},"hold_id":null,'
            f'"kind":"{kind}","legs":[[{a1},{m1},"CNY"],[{a2},{m2},"CNY"]],"memo":"","meta":{meta},'
            f'"reverses_entry_id":null}}')


def _check_template(kind: str, actor_id: int, customer_id: int, legs: list[tuple[int, int]], wallet: str,
                    to_wallet: str | None, got: str) -> None:
    from teller_tui.ledger.core import canonical_json

    meta = {"wallet": wallet} if to_wallet is None else {"wallet": wallet, "to_wallet": to_wallet}
    want = canonical_json({"kind": kind, "legs": sorted([a, m, "CNY"] for a, m in legs), "actor_id": actor_id,
                           "branch_code": BRANCH, "memo": "", "customer_id": customer_id, "meta": meta,
                           "reverses_entry_id": None, "hold_id": None})
    if want != got:  # pragma: no cover - a schema change in the ledger's request format
        raise AssertionError(f"bench request template drifted from canonical_json:\n{got}\n{want}")


def _attest_history(con: sqlite3.Connection, until_seq: int, terminal_id: str) -> None:
    """One audit record saying the entries up to ``until_seq`` were bulk-loaded without audit
    records of their own (teller_tui.ledger.verify_links), chained like any other record."""
    from teller_tui.audit.trail import record_hash

    (head_seq,) = con.execute("SELECT seq FROM audit_head WHERE id = 1").fetchone()
    entries, head_hash = con.execute("SELECT entries, hash FROM audit_stream_head WHERE stream = 'BANK'").fetchone()
    seq, now = int(head_seq) + 1, datetime.now(UTC)
    detail = json.dumps({"history_until_seq": until_seq}, sort_keys=True, separators=(",", ":"))
    digest = record_hash(seq=seq, at=now, actor_id=None, actor="system:bench", terminal_id=terminal_id,
                         action="bench_load", subject=BRANCH, outcome="ok", detail_json=detail, prev_hash=head_hash)
    con.execute("INSERT INTO audit_record (seq, at, actor_id, actor, terminal_id, action, subject, outcome, detail_json, "
                "prev_hash, hash, stream, stream_seq) VALUES (?, ?, NULL, 'system:bench', ?, 'bench_load', ?, 'ok', ?, "
                "?, ?, 'BANK', ?)", (seq, _fmt_ts(now), terminal_id, BRANCH, detail, head_hash, digest, int(entries) + 1))
    con.execute("UPDATE audit_head SET seq = ? WHERE id = 1", (seq,))
    con.execute("UPDATE audit_stream_head SET seq = ?, entries = ?, hash = ?, last_at = ? WHERE stream = 'BANK'",
                (seq, int(entries) + 1, digest, _fmt_ts(now)))


def bulk_history(db_path: Path, entries: int, days: int, terminal_id: str, *, progress: bool = True,
                 seed: int = 5, batch: int = 50_000, through_today: bool = False,
                 drawer_staff: tuple[str, ...] | None = None) -> None:
    """Append ``entries`` two-leg cash entries (cash in, cash out, wallet transfers) dated over the
    ``days`` business days before today, keeping every ledger invariant."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from teller_tui.common.clock import local_date
    from teller_tui.ledger.chain import GENESIS, entry_hash

    rng = random.Random(seed)
    con = sqlite3.connect(db_path, isolation_level=None)
    try:
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-262144")
        con.execute("PRAGMA temp_store=MEMORY")
        wallets = con.execute("SELECT w.account_id, w.customer_id, w.number FROM wallet w ORDER BY w.id").fetchall()
        staff = {u: int(i) for i, u in con.execute("SELECT id, username FROM staff")}
        drawers = []
        for acct_id, code, dr, cr in con.execute(
                "SELECT id, code, debits_posted, credits_posted FROM ledger_account WHERE kind = 'drawer' ORDER BY id"):
            user = code.rsplit(":", 1)[-1]
            if user in staff and (drawer_staff is None or user in drawer_staff):
                drawers.append([int(acct_id), staff[user], int(dr) - int(cr)])
        if not wallets or not drawers:
            raise RuntimeError("the demo branch has no wallets or drawers to post to")
        base_id, base_seq, last_at = con.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM journal_entry), last_seq, last_at FROM ledger_head "
            "WHERE id = 1").fetchone()
        chain = con.execute("SELECT entries, hash FROM ledger_chain_head WHERE branch_code = ?", (BRANCH,)).fetchone()
        chained, prev_hash = (int(chain[0]), str(chain[1])) if chain else (0, GENESIS)
        saved = con.execute("SELECT type, name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                            "AND tbl_name IN ('journal_entry', 'posting')").fetchall()
        con.execute("BEGIN")
        for _type, name, _sql in saved:
            con.execute(f'DROP INDEX "{name}"')
        con.execute("COMMIT")

        n_w = len(wallets)
        wallet_accounts = {int(w[0]) for w in wallets}
        usage: dict[tuple[int, date], list[int]] = {}
        bal = [0] * n_w  # wallet balances (credit-normal), the demo left them empty
        acct_dr: dict[int, int] = {}
        acct_cr: dict[int, int] = {}
        per_day = -(-entries // days)
        first_day = local_date(datetime.now(UTC)) - timedelta(days=days - (1 if through_today else 0))
        # Spread each day's entries over 01:00–09:00 UTC (09:00–17:00 in Shanghai).
        step_us = max(1, (8 * 3600 * 1_000_000) // per_day)
        cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        last_ts, last_bdate = last_at, None
        with Progress(*cols, disable=not progress, transient=False) as bar:
            task = bar.add_task("postings", total=entries * 2)
            done = 0
            sha = hashlib.sha256
            while done < entries:
                size = min(batch, entries - done)
                erows: list[tuple[Any, ...]] = []
                prows: list[tuple[int, int, int]] = []
                for k in range(done, done + size):
                    seq = base_seq + k + 1
                    entry_id = base_id + k + 1
                    day_index, slot = divmod(k, per_day)
                    bdate: date = first_day + timedelta(days=day_index)
                    posted = datetime(bdate.year, bdate.month, bdate.day, 1, tzinfo=UTC) + timedelta(
                        microseconds=slot * step_us)
                    d = drawers[k % len(drawers)]
                    w = rng.randrange(n_w)
                    acct, cust, number = wallets[w]
                    r = rng.random()
                    to_number = None
                    if r < 0.5 or bal[w] < 5_000:
                        kind = "cash_in"
                        amt = rng.choice((10_000, 20_000, 50_000, 100_000))
                        legs = [(d[0], amt), (acct, -amt)]
                        bal[w] += amt
                        d[2] += amt
                    elif r < 0.8 and d[2] >= bal[w]:
                        kind = "cash_out"
                        amt = min(bal[w], rng.choice((5_000, 10_000, 20_000)))
                        legs = [(acct, amt), (d[0], -amt)]
                        bal[w] -= amt
                        d[2] -= amt
                    else:
                        w2 = (w + 1 + rng.randrange(n_w - 1)) % n_w if n_w > 1 else w
                        if w2 == w:
                            kind = "cash_in"
                            amt = 10_000
                            legs = [(d[0], amt), (acct, -amt)]
                            bal[w] += amt
                            d[2] += amt
                        else:
                            kind = "transfer"
                            amt = min(bal[w], rng.choice((2_000, 5_000, 8_800)))
                            acct2, _c2, to_number = wallets[w2]
                            legs = [(acct, amt), (acct2, -amt)]
                            bal[w] -= amt
                            bal[w2] += amt
                    for a, m in legs:
                        if m > 0:
                            acct_dr[a] = acct_dr.get(a, 0) + m
                        else:
                            acct_cr[a] = acct_cr.get(a, 0) - m
                    req = _request_json(kind, d[1], cust, legs, number, to_number)
                    if k < 50:
                        _check_template(kind, d[1], cust, legs, number, to_number, req)
                    last_ts, last_bdate = _fmt_ts(posted), bdate.isoformat()
                    values = {"seq": seq, "idempotency_key": f"bench-{seq:012d}", "request_hash": sha(req.encode()).hexdigest(),
                              "kind": kind, "reference": f"R{bdate:%Y%m%d}-{seq:09d}", "memo": "", "actor_id": d[1],
                              "terminal_id": terminal_id, "branch_code": BRANCH, "business_date": bdate,
                              "posted_at": posted, "customer_id": cust, "reverses_entry_id": None, "hold_id": None}
                    digest = entry_hash(values, [(a, "CNY", m) for a, m in legs], prev_hash)
                    erows.append((entry_id, seq, chained + k + 1, values["idempotency_key"], values["request_hash"], req, kind,
                                  values["reference"], d[1], terminal_id, BRANCH, bdate.isoformat(),
                                  last_ts, cust, prev_hash, digest))
                    prev_hash = digest
                    prows.append((entry_id, legs[0][0], legs[0][1]))
                    prows.append((entry_id, legs[1][0], legs[1][1]))
                    for a, m in legs:  # the ledger's per-wallet day rows (teller_tui.ledger.usage)
                        if a in wallet_accounts:
                            day_use = usage.setdefault((a, bdate), [0, 0])
                            day_use[0 if m > 0 else 1] += abs(m)
                con.execute("BEGIN")
                con.executemany(_ENTRY_SQL, erows)
                con.executemany(_POSTING_SQL, prows)
                con.execute("COMMIT")
                done += size
                bar.advance(task, size * 2)
            t2 = bar.add_task("indexes and totals", total=len(saved) + 2)
            con.execute("BEGIN")
            con.executemany("UPDATE ledger_account SET debits_posted = debits_posted + ?, "
                            "credits_posted = credits_posted + ? WHERE id = ?",
                            [(acct_dr.get(a, 0), acct_cr.get(a, 0), a) for a in set(acct_dr) | set(acct_cr)])
            con.execute("UPDATE ledger_head SET last_seq = ?, last_at = ? WHERE id = 1", (base_seq + entries, last_ts))
            con.executemany("INSERT INTO wallet_usage_day (account_id, business_date, debits, credits) "
                            "VALUES (?, ?, ?, ?) "
                            "ON CONFLICT (account_id, business_date) DO UPDATE SET debits = debits + excluded.debits, "
                            "credits = credits + excluded.credits",
                            [(a, d.isoformat(), dr, cr) for (a, d), (dr, cr) in sorted(usage.items())])
            con.execute("INSERT INTO ledger_chain_head (branch_code, last_seq, entries, hash, last_at, last_date) "
                        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (branch_code) DO UPDATE SET last_seq = excluded.last_seq, "
                        "entries = excluded.entries, hash = excluded.hash, last_at = excluded.last_at, "
                        "last_date = excluded.last_date",
                        (BRANCH, base_seq + entries, chained + entries, prev_hash, last_ts, last_bdate))
            _attest_history(con, base_seq + entries, terminal_id)
            con.execute("COMMIT")
            bar.advance(t2)
            for _type, _name, sql in saved:
                con.execute(sql)
                bar.advance(t2)
            con.execute("PRAGMA analysis_limit=2000")
            con.execute("ANALYZE")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            bar.advance(t2)
    finally:
        con.close()
