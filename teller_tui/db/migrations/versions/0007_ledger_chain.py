"""Ledger hash chain per branch: journal_entry.prev_hash/hash and ledger_chain_head

Revision ID: 0007_ledger_chain
Revises: 0001_core
Create Date: 2026-11-24 10:00:00

Existing history is chained here, branch by branch in entry order, with the hash as it was
defined when this migration was written (``_entry_hash`` below, frozen on purpose: the live
code in teller_tui.ledger.chain may move on, a migration must not). journal_entry is
append-only, so its triggers are dropped for the back-fill and put back at once, inside the
same transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import teller_tui.models.types
from teller_tui.db.ddl import append_only_statements, drop_append_only_statements, execute_all


revision: str = '0007_ledger_chain'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
BATCH = 5000


def _entry_hash(row: Any, legs: list[list[Any]], prev_hash: str) -> str:
    posted: datetime = row.posted_at
    if posted.tzinfo is None:
        posted = posted.replace(tzinfo=UTC)
    bdate: date = row.business_date
    body = [int(row.seq), row.reference, row.kind, row.idempotency_key, row.request_hash, row.memo, row.actor_id,
            row.terminal_id, row.branch_code, bdate.isoformat(), posted.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            row.customer_id, row.reverses_entry_id, row.hold_id, legs, prev_hash]
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def _chain_history(conn: Any) -> dict[str, tuple[int, int, str]]:
    """Hash every entry in seq order; returns each branch's (last seq, entries, hash)."""
    je = sa.table("journal_entry", sa.column("id", sa.Integer()), sa.column("seq", sa.BigInteger()),
                  sa.column("reference", sa.String()), sa.column("kind", sa.String()),
                  sa.column("idempotency_key", sa.String()), sa.column("request_hash", sa.String()),
                  sa.column("memo", sa.String()), sa.column("actor_id", sa.Integer()),
                  sa.column("terminal_id", sa.String()), sa.column("branch_code", sa.String()),
                  sa.column("business_date", sa.Date()),
                  sa.column("posted_at", teller_tui.models.types.UTCDateTime(timezone=True)),
                  sa.column("customer_id", sa.Integer()), sa.column("reverses_entry_id", sa.Integer()),
                  sa.column("hold_id", sa.Integer()), sa.column("prev_hash", sa.String()),
                  sa.column("hash", sa.String()))
    po = sa.table("posting", sa.column("id", sa.Integer()), sa.column("entry_id", sa.Integer()),
                  sa.column("account_id", sa.Integer()), sa.column("currency", sa.String()),
                  sa.column("amount", sa.BigInteger()))
    heads: dict[str, tuple[int, int, str]] = {}
    update = je.update().where(je.c.id == sa.bindparam("eid")).values(prev_hash=sa.bindparam("p"),
                                                                        hash=sa.bindparam("h"))
    last_seq = 0
    while True:
        rows = conn.execute(sa.select(je).where(je.c.seq > last_seq).order_by(je.c.seq).limit(BATCH)).all()
        if not rows:
            return heads
        ids = [r.id for r in rows]
        legs: dict[int, list[list[Any]]] = {i: [] for i in ids}
        for p in conn.execute(sa.select(po.c.entry_id, po.c.account_id, po.c.currency, po.c.amount)
                              .where(po.c.entry_id.in_(ids)).order_by(po.c.id)):
            legs[p.entry_id].append([int(p.account_id), str(p.currency), int(p.amount)])
        params = []
        for r in rows:
            _seq, n, prev = heads.get(r.branch_code, (0, 0, GENESIS))
            digest = _entry_hash(r, legs[r.id], prev)
            params.append({"eid": r.id, "p": prev, "h": digest})
            heads[r.branch_code] = (int(r.seq), n + 1, digest)
        conn.execute(update, params)
        last_seq = int(rows[-1].seq)


def upgrade() -> None:
    op.create_table('ledger_chain_head',
    sa.Column('branch_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('entries', sa.BigInteger(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('branch_code')
    )
    op.add_column('journal_entry', sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                                             nullable=False, server_default=''))
    op.add_column('journal_entry', sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                                             nullable=False, server_default=''))
    conn = op.get_bind()
    dialect = conn.dialect.name
    execute_all(op, drop_append_only_statements(dialect, "journal_entry"))
    heads = _chain_history(conn)
    execute_all(op, append_only_statements(dialect, "journal_entry"))
    if heads:
        ch = sa.table("ledger_chain_head", sa.column("branch_code", sa.String()), sa.column("last_seq", sa.BigInteger()),
                      sa.column("entries", sa.BigInteger()), sa.column("hash", sa.String()))
        conn.execute(ch.insert(), [{"branch_code": b, "last_seq": s, "entries": n, "hash": h}
                                   for b, (s, n, h) in sorted(heads.items())])
    if dialect == "postgresql":
        # The default only served the back-fill: an entry written without its hash is refused.
        op.alter_column('journal_entry', 'prev_hash', server_default=None)
        op.alter_column('journal_entry', 'hash', server_default=None)


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): no table rebuild, the triggers stay.
    op.drop_column('journal_entry', 'hash')
    op.drop_column('journal_entry', 'prev_hash')
    op.drop_table('ledger_chain_head')
