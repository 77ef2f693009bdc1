"""Cut-over for the ledger/audit cross-check: audit records name every entry they wrote

Revision ID: 0008_audit_entry_links
Revises: 0007_ledger_chain
Create Date: 2026-11-26 10:00:00

From this release every money-moving audit record names the entries it wrote
(``detail.entries``: reference, kind, amount, currency, actor; teller_tui.ledger.facts), and
``teller ledger verify`` (check "A") requires an audit record for *every* entry. Entries written
before this release by services whose records did not name them yet (approved holds, drawer
floats, over/short, drawer returns, welcome points, forfeited points, dispute corrections) would
fail that. So when this migration finds entries, it appends one audit record,
``ledger_audit_links``, whose ``detail.entries_checked_after_seq`` is the last entry's seq: entries
up to it are held to the older rule only (the kinds whose records named them already), entries
after it to the full one. The record is chained like every other (the hash below is frozen on
purpose, as in 0007), so moving the cut-over means breaking the audit chain. A database with no
entries yet gets no record: every entry is checked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import teller_tui.models.types

revision: str = '0008_audit_entry_links'
down_revision: str | Sequence[str] | None = '0007_ledger_chain'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTION = "ledger_audit_links"


def _record_hash(*, seq: int, at: datetime, actor: str, terminal_id: str, action: str, subject: str,
                 detail_json: str, prev_hash: str) -> str:
    body = json.dumps([seq, at.isoformat(), None, actor, terminal_id, action, subject, "ok", detail_json, prev_hash],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def upgrade() -> None:
    conn = op.get_bind()
    last = conn.execute(sa.text("SELECT MAX(seq) FROM journal_entry")).scalar()
    if last is None:
        return
    record = sa.table("audit_record", sa.column("seq", sa.BigInteger()), sa.column("at", teller_tui.models.types.UTCDateTime()),
                      sa.column("actor_id", sa.Integer()), sa.column("actor", sa.String()),
                      sa.column("terminal_id", sa.String()), sa.column("action", sa.String()),
                      sa.column("subject", sa.String()), sa.column("outcome", sa.String()),
                      sa.column("detail_json", sa.String()), sa.column("prev_hash", sa.String()),
                      sa.column("hash", sa.String()))
    head = conn.execute(sa.text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    at = datetime.now(UTC)
    last_at = conn.execute(sa.select(record.c.at).where(record.c.seq == head.seq)).scalar()
    if last_at is not None and at < last_at:
        at = last_at
    at = at.astimezone(UTC)
    seq = int(head.seq) + 1
    detail = json.dumps({"entries_checked_after_seq": int(last)}, sort_keys=True, separators=(",", ":"))
    digest = _record_hash(seq=seq, at=at, actor="system:migration", terminal_id="migration", action=ACTION,
                          subject="ledger", detail_json=detail, prev_hash=str(head.hash))
    conn.execute(record.insert().values(seq=seq, at=at, actor_id=None, actor="system:migration",
                                        terminal_id="migration", action=ACTION, subject="ledger", outcome="ok",
                                        detail_json=detail, prev_hash=str(head.hash), hash=digest))
    conn.execute(sa.text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"), {"seq": seq, "hash": digest})


def downgrade() -> None:
    pass  # the audit trail is append-only: the record stays (older code ignores it)
