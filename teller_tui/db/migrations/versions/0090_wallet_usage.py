"""Per-wallet usage per business day: wallet_usage_day, filled from the postings

Revision ID: 0090_wallet_usage
Revises: 0001_core
Create Date: 2026-12-03 19:00:00

The class limits read a wallet's usage today and this year from these rows (at most a year of
them, by key) instead of every posting the wallet ever had. Existing history is summed here
with the rule as it stands when this migration was written (standing entries only: a reversed
entry and a reversal do not count; frozen here on purpose, teller_tui.ledger.usage may move on).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0090_wallet_usage'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILL = (
    "INSERT INTO wallet_usage_day (account_id, business_date, debits, credits) "
    "SELECT p.account_id, e.business_date, "
    "coalesce(sum(CASE WHEN p.amount > 0 THEN p.amount END), 0), "
    "coalesce(sum(CASE WHEN p.amount < 0 THEN -p.amount END), 0) "
    "FROM posting p JOIN journal_entry e ON e.id = p.entry_id JOIN ledger_account a ON a.id = p.account_id "
    "WHERE a.kind = 'wallet' AND e.reverses_entry_id IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id) "
    "GROUP BY p.account_id, e.business_date"
)


def upgrade() -> None:
    op.create_table(
        'wallet_usage_day',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('debits', sa.BigInteger(), nullable=False),
        sa.Column('credits', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('debits >= 0 AND credits >= 0', name='ck_wallet_usage_nonneg'),
        sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id']),
        sa.PrimaryKeyConstraint('account_id', 'business_date'),
    )
    op.execute(_FILL)


def downgrade() -> None:
    op.drop_table('wallet_usage_day')
