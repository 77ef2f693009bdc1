"""Audit streams: one hash chain per branch, so branches append audit records in parallel

Revision ID: 0100_audit_streams
Revises: 0090_branch_parallel
Create Date: 2026-12-03 19:40:00

Until now every audit append locked the one ``audit_head`` row until commit, so the whole bank
wrote one audit record at a time even after postings stopped waiting on each other (0090). From
this release:

* ``audit_record.stream``: the actor's branch, or ``BANK`` for a branch-less actor; and
  ``audit_record.stream_seq``: the record's place in its stream (1, 2, 3… gap-free);
  ``(stream, stream_seq)`` is unique. A record's ``prev_hash`` is the hash of its stream's
  previous record.
* ``audit_stream_head``: one row per stream (last ``seq``, records, hash, time), locked per append.
* ``seq`` stays bank-wide unique. SQLite keeps ``audit_head.seq`` as its counter (writers are
  serialized by ``BEGIN IMMEDIATE``, no gap). PostgreSQL takes it from the new sequence
  ``audit_record_seq``: a rolled-back append leaves a gap in ``seq``, never in a ``stream_seq``.
  Run ``teller db grant`` after the upgrade so the application role may use the sequence.
* PostgreSQL: a trigger keeps every ``audit_stream_head`` row moving forward one record at a time
  (never back, never deleted), for every role (teller_tui/db/guards.py).

Every existing record goes into the ``BANK`` stream, numbered in ``seq`` order: their chain (one
bank-wide chain, each linked to the record before it) *is* that stream's chain, so no hash
changes and every head kept outside the database before the upgrade still verifies. The ``BANK``
head starts at ``audit_head``'s seq and hash. Hashes are unchanged in form (``stream`` and
``stream_seq`` are not hashed: the chain fixes each record's place and ``audit verify`` checks
that ``stream_seq`` is that place).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import teller_tui.models.types
from teller_tui.db.ddl import append_only_statements, drop_append_only_statements, execute_all
from teller_tui.db.guards import drop_stream_head_guard_statements, stream_head_guard_statements

revision: str = '0100_audit_streams'
down_revision: str | Sequence[str] | None = '0090_branch_parallel'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Existing records numbered in the bank stream, in seq order (their chain order).
_NUMBER = """
UPDATE audit_record SET stream_seq = (
    SELECT n.rn FROM (SELECT id, row_number() OVER (ORDER BY seq) AS rn FROM audit_record) n
    WHERE n.id = audit_record.id)"""
_BANK_HEAD = """
INSERT INTO audit_stream_head (stream, seq, entries, hash, last_at)
SELECT 'BANK', h.seq, (SELECT COUNT(*) FROM audit_record), h.hash,
       (SELECT r.at FROM audit_record r WHERE r.seq = h.seq)
FROM audit_head h WHERE h.id = 1"""


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    op.create_table(
        'audit_stream_head',
        sa.Column('stream', sa.String(length=16), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('entries', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('last_at', teller_tui.models.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('stream'))
    op.add_column('audit_record', sa.Column('stream', sa.String(length=16), nullable=False, server_default='BANK'))
    op.add_column('audit_record', sa.Column('stream_seq', sa.BigInteger(), nullable=False, server_default='0'))
    execute_all(op, drop_append_only_statements(dialect, "audit_record"))
    conn.execute(sa.text(_NUMBER))
    execute_all(op, append_only_statements(dialect, "audit_record"))
    op.create_index('uq_audit_stream_seq', 'audit_record', ['stream', 'stream_seq'], unique=True)
    if conn.execute(sa.text("SELECT COUNT(*) FROM audit_head WHERE id = 1")).scalar():
        conn.execute(sa.text(_BANK_HEAD))
    if dialect == "postgresql":
        # The defaults only served the back-fill: a record written without its place is refused.
        op.alter_column('audit_record', 'stream', server_default=None)
        op.alter_column('audit_record', 'stream_seq', server_default=None)
        last = int(conn.execute(sa.text("SELECT GREATEST(COALESCE(MAX(seq), 0), "
                                        "(SELECT COALESCE(MAX(seq), 0) FROM audit_head)) FROM audit_record"))
                   .scalar() or 0)
        op.execute(f"CREATE SEQUENCE audit_record_seq AS bigint START WITH {last + 1} MINVALUE 1")
        # A head only moves forward, one record at a time, and is never deleted (db/guards.py).
        execute_all(op, stream_head_guard_statements())


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        execute_all(op, drop_stream_head_guard_statements())
        op.execute("DROP SEQUENCE IF EXISTS audit_record_seq")
    # One bank-wide chain again only if every record is still in the bank stream (older code
    # cannot verify several streams): the head row takes the last record.
    conn.execute(sa.text("UPDATE audit_head SET seq = COALESCE((SELECT MAX(seq) FROM audit_record), 0), "
                         "hash = COALESCE((SELECT hash FROM audit_record WHERE seq = (SELECT MAX(seq) "
                         "FROM audit_record)), hash) WHERE id = 1"))
    op.drop_index('uq_audit_stream_seq', 'audit_record')
    op.drop_column('audit_record', 'stream_seq')
    op.drop_column('audit_record', 'stream')
    op.drop_table('audit_stream_head')
