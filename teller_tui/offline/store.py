"""The terminal's durable offline queue: one SQLite file under ``$TELLER_HOME/offline/<terminal>.sqlite``.

It lives on the terminal's own disk because the central database is what is down. The file is
created 0600 in a 0700 directory (like :func:`teller_tui.common.files.write_private_file`; SQLite
gives its WAL and journal files the database file's mode), opened with ``journal_mode=WAL`` and
``synchronous=FULL`` (a committed item survives a power cut: the cash is already in the drawer),
and every write starts with ``BEGIN IMMEDIATE`` (RELIABILITY "Storage").

Tables: ``items`` (one row per cash-in taken offline, keyed by its idempotency key, never deleted:
posted, refunded and exception rows stay as the terminal's record), ``wallets`` (the wallets this
terminal saw while the database answered: the only ones a teller may pick offline) and
``context`` (per teller: the open business day and whether their drawer was open, as last seen).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from teller_tui.audit.trail import Actor
from teller_tui.common.money import Money
from teller_tui.offline.types import CachedWallet, ItemStatus, OfflineContext, OfflineItem

__all__ = ["OfflineStore"]

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
#: Wallets kept in the cache (the most recently seen win).
WALLET_CACHE_SIZE = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    key TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    staff_id INTEGER, username TEXT NOT NULL, role TEXT NOT NULL, branch_code TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    wallet_id INTEGER NOT NULL, wallet_number TEXT NOT NULL, customer_name TEXT NOT NULL,
    currency TEXT NOT NULL, amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    memo TEXT NOT NULL DEFAULT '', taken_at TEXT NOT NULL, business_date TEXT NOT NULL,
    status TEXT NOT NULL, entry_reference TEXT NOT NULL DEFAULT '', reason_code TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '', resolved_by TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0, outage_since TEXT
);
CREATE INDEX IF NOT EXISTS items_status ON items (status, taken_at);
CREATE TABLE IF NOT EXISTS wallets (
    wallet_id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, customer_name TEXT NOT NULL,
    currency TEXT NOT NULL, status TEXT NOT NULL, blocked INTEGER NOT NULL, seen_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contact (
    id INTEGER PRIMARY KEY CHECK (id = 1), last_contact TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS context (
    staff_id INTEGER PRIMARY KEY, business_date TEXT, drawer_open INTEGER NOT NULL, seen_at TEXT NOT NULL
);
"""

_ITEM_COLUMNS = ("key, reference, staff_id, username, role, branch_code, terminal_id, wallet_id, wallet_number, "
                 "customer_name, currency, amount_minor, memo, taken_at, business_date, status, entry_reference, "
                 "reason_code, reason, resolved_by, seq, outage_since")
#: Columns added after the first release (a queue file written by it gets them on first open).
_ADDED = (("seq", "INTEGER NOT NULL DEFAULT 0"), ("outage_since", "TEXT"))


def _item(row: tuple[Any, ...]) -> OfflineItem:
    (key, reference, staff_id, username, role, branch, terminal, wallet_id, number, name, currency, minor, memo,
     taken_at, business_date, status, entry_reference, reason_code, reason, resolved_by, seq, since) = row
    return OfflineItem(key=key, reference=reference, taker=Actor(staff_id, username, terminal, role, branch),
                       wallet_id=int(wallet_id), wallet_number=number, customer_name=name,
                       amount=Money(int(minor), currency), memo=memo, taken_at=datetime.fromisoformat(taken_at),
                       business_date=date.fromisoformat(business_date), status=ItemStatus(status),
                       entry_reference=entry_reference, reason_code=reason_code, reason=reason,
                       resolved_by=resolved_by, seq=int(seq or 0),
                       outage_since=datetime.fromisoformat(since) if since else None)


class OfflineStore:
    """One terminal's queue file. Each call opens its own connection (screens call from worker threads)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_terminal(cls, home: Path, terminal_id: str) -> OfflineStore:
        return cls(Path(home) / "offline" / f"{_SAFE.sub('_', terminal_id) or 'terminal'}.sqlite")

    # -- connections -----------------------------------------------------------------------
    def _create(self) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(directory, 0o700)
        if not self.path.exists():  # 0600 from the start: SQLite gives -wal and -journal the same mode
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(self.path, 0o600)

    @contextmanager
    def _connect(self, write: bool) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            self._create()
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.executescript(_SCHEMA)
            have = {r[1] for r in conn.execute("PRAGMA table_info(items)")}
            for column, decl in _ADDED:
                if column not in have:
                    conn.execute(f"ALTER TABLE items ADD COLUMN {column} {decl}")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- items -----------------------------------------------------------------------------
    def add(self, item: OfflineItem, *, caps_check: Any = None) -> int:
        """Insert ``item`` durably under this terminal's next sequence number (returned; ``item.seq`` is
        ignored); ``caps_check(conn)`` runs first in the same write transaction (so two forms at one
        terminal cannot both pass the caps)."""
        t = item.taker
        with self._connect(True) as conn:
            if caps_check is not None:
                caps_check(self, conn)
            seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM items").fetchone()[0])
            conn.execute(f"INSERT INTO items ({_ITEM_COLUMNS}, updated_at) VALUES "
                         f"({', '.join('?' * 23)})",
                         (item.key, item.reference, t.staff_id, t.username, t.role, t.branch_code, t.terminal_id,
                          item.wallet_id, item.wallet_number, item.customer_name, item.amount.currency,
                          item.amount.minor, item.memo, item.taken_at.isoformat(), item.business_date.isoformat(),
                          str(item.status), item.entry_reference, item.reason_code, item.reason, item.resolved_by,
                          seq, item.outage_since.isoformat() if item.outage_since else None,
                          item.taken_at.isoformat()))
        return seq

    def high_water(self) -> int:
        """The highest sequence number this file has given (0 when none)."""
        with self._connect(False) as conn:
            return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM items").fetchone()[0])

    def unposted_total(self, conn: sqlite3.Connection, currency: str, *, staff_id: int | None = None,
                       wallet_id: int | None = None) -> int:
        """Minor units of cash taken offline and not in the books (queued or exception)."""
        sql = ("SELECT COALESCE(SUM(amount_minor), 0) FROM items WHERE status IN ('queued', 'exception', 'resolving') "
               "AND currency = ?")
        args: list[Any] = [currency]
        if staff_id is not None:
            sql += " AND staff_id = ?"
            args.append(staff_id)
        if wallet_id is not None:
            sql += " AND wallet_id = ?"
            args.append(wallet_id)
        return int(conn.execute(sql, args).fetchone()[0])

    def items(self, *statuses: ItemStatus) -> list[OfflineItem]:
        """Items with one of ``statuses`` (all when none given), in the order they were taken."""
        with self._connect(False) as conn:
            sql = f"SELECT {_ITEM_COLUMNS} FROM items"
            if statuses:
                sql += f" WHERE status IN ({', '.join('?' * len(statuses))})"
            rows = conn.execute(sql + " ORDER BY rowid", [str(s) for s in statuses]).fetchall()
        return [_item(r) for r in rows]

    def get(self, key: str) -> OfflineItem | None:
        with self._connect(False) as conn:
            row = conn.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE key = ?", (key,)).fetchone()
        return _item(row) if row is not None else None

    def set_status(self, key: str, status: ItemStatus, now: datetime, *, expect: tuple[ItemStatus, ...],
                   entry_reference: str | None = None, reason_code: str | None = None, reason: str | None = None,
                   resolved_by: str | None = None) -> bool:
        """Move an item on, only from one of ``expect`` (False when it had moved already)."""
        sets, args = ["status = ?", "updated_at = ?"], [str(status), now.isoformat()]
        for column, value in (("entry_reference", entry_reference), ("reason_code", reason_code),
                              ("reason", reason), ("resolved_by", resolved_by)):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(value)
        with self._connect(True) as conn:
            cur = conn.execute(f"UPDATE items SET {', '.join(sets)} WHERE key = ? AND status IN "
                               f"({', '.join('?' * len(expect))})", [*args, key, *(str(e) for e in expect)])
            return cur.rowcount == 1

    # -- the wallet cache and the tellers' context -------------------------------------------
    def remember_wallet(self, wallet: CachedWallet) -> None:
        with self._connect(True) as conn:
            conn.execute("DELETE FROM wallets WHERE number = ? AND wallet_id <> ?", (wallet.number, wallet.wallet_id))
            conn.execute("INSERT OR REPLACE INTO wallets VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (wallet.wallet_id, wallet.number, wallet.customer_name, wallet.currency, wallet.status,
                          int(wallet.blocked), wallet.seen_at.isoformat()))
            conn.execute("DELETE FROM wallets WHERE wallet_id NOT IN (SELECT wallet_id FROM wallets "
                         "ORDER BY seen_at DESC LIMIT ?)", (WALLET_CACHE_SIZE,))

    def wallet(self, number: str) -> CachedWallet | None:
        with self._connect(False) as conn:
            row = conn.execute("SELECT wallet_id, number, customer_name, currency, status, blocked, seen_at "
                               "FROM wallets WHERE number = ?", (number,)).fetchone()
        if row is None:
            return None
        return CachedWallet(int(row[0]), row[1], row[2], row[3], row[4], bool(row[5]), datetime.fromisoformat(row[6]))

    def note_contact(self, now: datetime) -> None:
        """The database answered at ``now``: an outage starts after the last such contact."""
        with self._connect(True) as conn:
            conn.execute("INSERT OR REPLACE INTO contact VALUES (1, ?)", (now.isoformat(),))

    def last_contact(self) -> datetime | None:
        with self._connect(False) as conn:
            row = conn.execute("SELECT last_contact FROM contact WHERE id = 1").fetchone()
        return datetime.fromisoformat(row[0]) if row is not None else None

    def remember_context(self, context: OfflineContext) -> None:
        with self._connect(True) as conn:
            conn.execute("INSERT OR REPLACE INTO context VALUES (?, ?, ?, ?)",
                         (context.staff_id, context.business_date.isoformat() if context.business_date else None,
                          int(context.drawer_open), context.seen_at.isoformat()))

    def context(self, staff_id: int) -> OfflineContext | None:
        with self._connect(False) as conn:
            row = conn.execute("SELECT staff_id, business_date, drawer_open, seen_at FROM context WHERE staff_id = ?",
                               (staff_id,)).fetchone()
        if row is None:
            return None
        return OfflineContext(int(row[0]), date.fromisoformat(row[1]) if row[1] else None, bool(row[2]),
                              datetime.fromisoformat(row[3]))
