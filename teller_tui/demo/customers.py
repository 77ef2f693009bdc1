"""Demo customers in bulk: customers, wallets and wallet ledger accounts by executemany.

On SQLite, a large load drops the secondary indexes and search triggers of the bulk tables first
and rebuilds them once afterwards (with the search tables filled by the desk migration's SQL).
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from datetime import date, datetime
from types import ModuleType
from typing import Any

from sqlalchemy import text

from teller_tui.audit.trail import Actor
from teller_tui.common.clock import Clock, local_date
from teller_tui.common.settings import Settings
from teller_tui.db.ddl import resync_id_sequences_statements
from teller_tui.db.engine import Database
from teller_tui.db.revisions import MIGRATIONS_DIR
from teller_tui.demo.people import People, tier_for
from teller_tui.ledger.accounts import points_code, wallet_code
from teller_tui.models.types import UTCDateTime
from teller_tui.wallets.identity import make_wallet_number

BULK_BATCH = 20_000
#: An active wallet: (customer_id, wallet_id, account_id, tier, number).
ActiveWallet = tuple[int, int, int, int, str]


def bulk_customers(database: Database, settings: Settings, clock: Clock, rng: random.Random, n: int, active: int,
                   staff: dict[str, Actor], advance: Callable[[int], None]) -> list[ActiveWallet]:
    """Customers, wallets and wallet ledger accounts by executemany. Returns the active wallets
    as (customer_id, wallet_id, account_id, tier, number)."""
    people = People(rng)
    branch = settings.branch_code
    created = UTCDateTime().process_bind_param(clock.now(), database.write_engine.dialect)
    opened_on = local_date(clock.now())  # no business day is open while the demo loads: the local date
    teller_id = staff["teller1"].staff_id
    active_wallets: list[ActiveWallet] = []
    with database.write() as s:
        base_c = int(s.execute(text("SELECT coalesce(max(id), 0) FROM customer")).scalar_one())
        base_w = int(s.execute(text("SELECT coalesce(max(id), 0) FROM wallet")).scalar_one())
        base_a = int(s.execute(text("SELECT coalesce(max(id), 0) FROM ledger_account")).scalar_one())
    next_a = base_a
    done = 0
    saved = _suspend_search_indexes(database) if n > 5000 else None
    while done < n:
        size = min(BULK_BATCH, n - done)
        cust_rows: list[dict[str, Any]] = []
        acct_rows: list[dict[str, Any]] = []
        wallet_rows: list[dict[str, Any]] = []
        for i in range(done, done + size):
            cid, wid = base_c + i + 1, base_w + i + 1
            p = people.person()
            tier = tier_for(rng) if i >= active else rng.choice((1, 1, 2, 2, 3, 4))
            kyc = {1: "in_person", 2: "real_name_bank", 3: "real_name", 4: "mobile"}[tier]
            cust_rows.append({
                "id": cid, "customer_no": f"C{cid:09d}", "full_name": p["full_name"], "name_latin": p["name_latin"],
                "phone": p["phone"], "id_type": None if tier == 4 else "prc_id",
                "id_number": None if tier == 4 else p["id_number"],
                "id_expiry": date(2030 + rng.randrange(15), 1 + rng.randrange(12), 1 + rng.randrange(28))
                if tier != 4 else None,
                "birth_date": None if tier == 4 else p["birth_date"], "sex": p["sex"], "nationality": "CHN",
                "address": "", "occupation": p["occupation"], "risk_level": "low", "kyc_level": kyc,
                "pin_failed_attempts": 0, "pin_locked": False, "branch_code": branch, "created_at": created,
                "created_by": teller_id})
            number = make_wallet_number(wid)
            next_a += 1
            acct_id = next_a
            acct_rows.append({"id": acct_id, "code": wallet_code(number), "name": f"Wallet {number}",
                              "kind": "wallet", "currency": "CNY", "branch_code": branch, "dr": True, "cr": False,
                              "opened_at": created})
            pts_id = None
            if i < active:
                next_a += 1
                pts_id = next_a
                acct_rows.append({"id": pts_id, "code": points_code(number), "name": f"Points {number}",
                                  "kind": "points", "currency": "PTS", "branch_code": branch, "dr": True,
                                  "cr": False, "opened_at": created})
                active_wallets.append((cid, wid, acct_id, tier, number))
            wallet_rows.append({"id": wid, "number": number, "customer_id": cid, "tier": tier, "account_id": acct_id,
                                "points_account_id": pts_id, "opened_at": created,
                                "opened_on": opened_on, "opened_by": teller_id})
        _insert_many(database, cust_rows, acct_rows, wallet_rows)
        done += size
        advance(size)
    if saved is not None:
        _restore_search_indexes(database, saved, base_c)
    return active_wallets


_BULK_TABLES = ("customer", "wallet", "ledger_account")


def _suspend_search_indexes(database: Database) -> list[tuple[str, str, str]] | None:
    """SQLite bulk load: drop the secondary indexes and search triggers of the bulk tables
    (their DDL is kept and replayed verbatim afterwards); building an index once, sorted, is
    many times faster than maintaining it row by row with random keys. Unique constraints stay."""
    if database.dialect != "sqlite":
        return None
    with database.write() as s:
        rows = [(t, name, sql) for t, name, sql in s.execute(text(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL "
            "AND tbl_name IN ('customer', 'wallet', 'ledger_account') AND sql NOT LIKE 'CREATE UNIQUE%'")).all()]
        for kind, name, _sql in rows:
            s.execute(text(f'DROP {kind.upper()} "{name}"'))
    return rows


def _restore_search_indexes(database: Database, saved: list[tuple[str, str, str]], base_customer_id: int) -> None:
    m = _desk_migration()
    with database.write() as s:
        raw = s.connection().connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA cache_size=-262144")
        for kind, _name, sql in saved:
            if kind == "index":
                s.execute(text(sql))
        s.execute(text(f"INSERT INTO customer_fts(rowid, id_number, full_name, latin) SELECT {m._fts_values('c')} "
                       "FROM customer AS c WHERE c.id > :b"), {"b": base_customer_id})
        s.execute(text("INSERT OR IGNORE INTO customer_name_gram(gram, customer_id) "
                       + m._gram_select("c", "customer AS c, ").replace(" WHERE ", " WHERE c.id > :b AND ", 1)),
                  {"b": base_customer_id})
        for kind, _name, sql in saved:
            if kind == "trigger":
                s.execute(text(sql))
        raw.execute("PRAGMA cache_size=-2000")


def _desk_migration() -> ModuleType:
    """The 0003_desk migration module (its FTS/gram SQL is the single definition)."""
    spec = importlib.util.spec_from_file_location("_teller_desk_migration", MIGRATIONS_DIR / "versions" / "0003_desk.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_CUSTOMER_SQL = (
    "INSERT INTO customer (id, customer_no, full_name, name_latin, phone, id_type, id_number, id_expiry, birth_date, "
    "sex, nationality, address, occupation, risk_level, kyc_level, pin_failed_attempts, pin_locked, branch_code, "
    "created_at, created_by) VALUES (:id, :customer_no, :full_name, :name_latin, :phone, :id_type, :id_number, "
    ":id_expiry, :birth_date, :sex, :nationality, :address, :occupation, :risk_level, :kyc_level, "
    ":pin_failed_attempts, :pin_locked, :branch_code, :created_at, :created_by)")
_ACCOUNT_SQL = (
    "INSERT INTO ledger_account (id, code, name, kind, currency, branch_code, debits_must_not_exceed_credits, "
    "credits_must_not_exceed_debits, status, debits_posted, credits_posted, debits_pending, credits_pending, "
    "opened_at) VALUES (:id, :code, :name, :kind, :currency, :branch_code, :dr, :cr, 'active', 0, 0, 0, 0, "
    ":opened_at)")
_WALLET_SQL = (
    "INSERT INTO wallet (id, number, customer_id, tier, status, currency, account_id, points_account_id, opened_at, "
    "opened_on, opened_by, explanations_json) VALUES (:id, :number, :customer_id, :tier, 'active', 'CNY', "
    ":account_id, :points_account_id, :opened_at, :opened_on, :opened_by, '{}')")


def _insert_many(database: Database, cust: list[dict[str, Any]], accts: list[dict[str, Any]],
                 wallets: list[dict[str, Any]]) -> None:
    with database.write() as s:
        if database.dialect == "sqlite":
            raw = s.connection().connection.dbapi_connection
            assert raw is not None
            cur = raw.cursor()
            cur.execute("PRAGMA cache_size=-131072")
            for sql, rows in ((_CUSTOMER_SQL, cust), (_ACCOUNT_SQL, accts), (_WALLET_SQL, wallets)):
                cur.executemany(sql, [_sqlite_row(r) for r in rows])
            cur.close()
        else:
            # psycopg 3 runs executemany in pipeline mode (one round trip per batch, not per row).
            for sql, rows in ((_CUSTOMER_SQL, cust), (_ACCOUNT_SQL, accts), (_WALLET_SQL, wallets)):
                s.execute(text(sql), rows)
            # Explicit ids: move the id sequences on, or the next ordinary INSERT collides (pg helper).
            for sql in resync_id_sequences_statements(database.dialect, ("customer", "ledger_account", "wallet")):
                s.execute(text(sql))


def _sqlite_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if isinstance(v, datetime):
            v = v.isoformat(sep=" ")
        elif isinstance(v, date):
            v = v.isoformat()
        elif isinstance(v, bool):
            v = int(v)
        out[k] = v
    return out
