"""Cash handled per business day by each teller and customer: cash_day, filled from the postings

Revision ID: 0101_cash_day
Revises: 0090_wallet_usage
Create Date: 2026-12-04 03:40:00

The approval policy's day totals (cash a teller paid out today, a customer's cash in or out today)
read one row each from here instead of the teller's or customer's entries of the day and their
postings. Existing history is summed here with the rule as it stands when this migration was
written (drawer legs of standing cash_in/cash_out entries; frozen here on purpose,
teller_tui.ledger.cash_day may move on).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0101_cash_day'
down_revision: str | Sequence[str] | None = '0090_wallet_usage'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STANDING_CASH = (
    "FROM journal_entry e JOIN posting p ON p.entry_id = e.id JOIN ledger_account a ON a.id = p.account_id "
    "WHERE a.kind = 'drawer' AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id) "
)
_FILL = (
    "INSERT INTO cash_day (subject, subject_id, business_date, amount) "
    f"SELECT 'teller_out', e.actor_id, e.business_date, sum(-p.amount) {_STANDING_CASH}"
    "AND e.kind = 'cash_out' AND e.actor_id IS NOT NULL GROUP BY e.actor_id, e.business_date "
    "UNION ALL SELECT CASE e.kind WHEN 'cash_in' THEN 'customer_in' ELSE 'customer_out' END, "
    f"e.customer_id, e.business_date, sum(abs(p.amount)) {_STANDING_CASH}"
    "AND e.kind IN ('cash_in', 'cash_out') AND e.customer_id IS NOT NULL "
    "GROUP BY e.kind, e.customer_id, e.business_date"
)


def upgrade() -> None:
    op.create_table(
        'cash_day',
        sa.Column('subject', sa.String(length=16), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('amount >= 0', name='ck_cash_day_nonneg'),
        sa.PrimaryKeyConstraint('subject', 'subject_id', 'business_date'),
    )
    op.execute(_FILL)


def downgrade() -> None:
    op.drop_table('cash_day')
