"""Branches post in parallel: per-branch entry numbers and heads, a sequence for the bank-wide number

Revision ID: 0090_branch_parallel
Revises: 0008_audit_entry_links
Create Date: 2026-12-03 18:40:00

Until now every posting locked the one ``ledger_head`` row to take the next gap-free ``seq``, so
the whole bank posted one entry at a time. From this release:

* ``journal_entry.branch_seq``: the entry's place in its branch (1, 2, 3… gap-free), given by the
  branch's head row (``ledger_chain_head.entries``, already locked per posting for the branch's
  hash chain). Existing entries are numbered here, per branch in ``seq`` order, which is their
  chain order; ``(branch_code, branch_seq)`` is unique.
* ``ledger_chain_head.last_at`` / ``last_date``: the branch's last posting time and business
  date, which the next entry of the branch may not precede (invariant 12 is now per branch).
* ``seq`` stays bank-wide unique (references ``R<date>-<seq>`` stay unique and every old
  reference keeps its entry). SQLite keeps ``ledger_head`` as its counter (writers are serialized
  by ``BEGIN IMMEDIATE``, no gap). PostgreSQL takes it from the new sequence
  ``journal_entry_seq`` (started after the last entry): a rolled-back posting leaves a gap in
  ``seq``, never in a branch's ``branch_seq``. Run ``teller db grant`` after the upgrade, as after
  every upgrade, so the application role may use the sequence.

Entries, postings and their hashes are unchanged (``branch_seq`` is not hashed: the hash chain
already fixes each entry's place, and ``ledger verify`` checks that ``branch_seq`` is that place).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import teller_tui.models.types
from teller_tui.db.ddl import append_only_statements, drop_append_only_statements, execute_all

revision: str = '0090_branch_parallel'
down_revision: str | Sequence[str] | None = '0008_audit_entry_links'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Existing entries numbered per branch, in seq order (their chain order).
_NUMBER = """
UPDATE journal_entry SET branch_seq = (
    SELECT n.rn FROM (SELECT id, row_number() OVER (PARTITION BY branch_code ORDER BY seq) AS rn
                      FROM journal_entry) n
    WHERE n.id = journal_entry.id)"""
#: Each branch's last posting time and business date, from its last entry.
_HEAD_TIMES = """
UPDATE ledger_chain_head SET
    last_at = (SELECT e.posted_at FROM journal_entry e WHERE e.branch_code = ledger_chain_head.branch_code
               AND e.seq = ledger_chain_head.last_seq),
    last_date = (SELECT e.business_date FROM journal_entry e WHERE e.branch_code = ledger_chain_head.branch_code
                 AND e.seq = ledger_chain_head.last_seq)"""


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    op.add_column('ledger_chain_head', sa.Column('last_at', teller_tui.models.types.UTCDateTime(), nullable=True))
    op.add_column('ledger_chain_head', sa.Column('last_date', sa.Date(), nullable=True))
    op.add_column('journal_entry', sa.Column('branch_seq', sa.BigInteger(), nullable=False, server_default='0'))
    execute_all(op, drop_append_only_statements(dialect, "journal_entry"))
    conn.execute(sa.text(_NUMBER))
    execute_all(op, append_only_statements(dialect, "journal_entry"))
    conn.execute(sa.text(_HEAD_TIMES))
    op.create_index('uq_entry_branch_seq', 'journal_entry', ['branch_code', 'branch_seq'], unique=True)
    if dialect == "postgresql":
        # The default only served the back-fill: an entry written without its number is refused.
        op.alter_column('journal_entry', 'branch_seq', server_default=None)
        last = int(conn.execute(sa.text("SELECT GREATEST(COALESCE(MAX(seq), 0), "
                                        "(SELECT last_seq FROM ledger_head WHERE id = 1)) FROM journal_entry"))
                   .scalar() or 0)
        op.execute(f"CREATE SEQUENCE journal_entry_seq AS bigint START WITH {last + 1} MINVALUE 1")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        # The counter row takes over again where the sequence stopped.
        conn.execute(sa.text("UPDATE ledger_head SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM journal_entry), "
                             "last_at = (SELECT MAX(posted_at) FROM journal_entry) WHERE id = 1"))
        op.execute("DROP SEQUENCE IF EXISTS journal_entry_seq")
    op.drop_index('uq_entry_branch_seq', 'journal_entry')
    op.drop_column('journal_entry', 'branch_seq')
    op.drop_column('ledger_chain_head', 'last_date')
    op.drop_column('ledger_chain_head', 'last_at')
