"""Analytics: the business date each wallet was opened on, and the index the reports read by

Revision ID: 0060_analytics
Revises: 0001_core

``wallet.opened_on`` is the branch's business date at opening (set by WalletService.open_wallet);
rows opened before this migration get the local (Asia/Shanghai) calendar date of ``opened_at``,
the best the database knows about them. ``ix_wallet_opened_on`` serves "wallets opened in a range,
per teller" (teller_tui/analytics). The ledger's existing indexes (journal_entry by business date
and kind, by actor and date; posting by account and entry) serve the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0060_analytics"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("wallet", sa.Column("opened_on", sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE wallet SET opened_on = (opened_at AT TIME ZONE 'Asia/Shanghai')::date")
    else:
        op.execute("UPDATE wallet SET opened_on = date(opened_at, '+8 hours')")
    op.create_index("ix_wallet_opened_on", "wallet", ["opened_on", "opened_by"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_wallet_opened_on", table_name="wallet")
    with op.batch_alter_table("wallet", schema=None) as batch_op:
        batch_op.drop_column("opened_on")
