"""Lost or stolen phone: a wallet blocked in full

New table only: nothing created by an earlier migration is altered.

Revision ID: 0050_wallet_block
Revises: 0001_core
Create Date: 2026-12-03 15:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import teller_tui.models.types

revision: str = '0050_wallet_block'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('wallet_block',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wallet_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status_before', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('blocked_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_by', sa.Integer(), nullable=True),
    sa.Column('lifted_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lifted_by', sa.Integer(), nullable=True),
    sa.Column('lifted_how', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.ForeignKeyConstraint(['blocked_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['lifted_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallet.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('wallet_block', schema=None) as batch_op:
        batch_op.create_index('ix_wallet_block_wallet', ['wallet_id', 'lifted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('wallet_block', schema=None) as batch_op:
        batch_op.drop_index('ix_wallet_block_wallet')
    op.drop_table('wallet_block')
