"""Risk monitoring: alerts and suspicious-transaction reports

Revision ID: 0040_risk
Revises: 0001_core
Create Date: 2026-12-03 13:38:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import teller_tui.models.types

revision: str = '0040_risk'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('risk_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
    sa.Column('window', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('branch_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('wallet_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('first_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kb_article', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('facts_json', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('wallet_frozen', sa.Boolean(), nullable=False),
    sa.CheckConstraint("status IN ('open','cleared','escalated')", name='ck_risk_alert_status'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['decided_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallet.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('rule', 'subject', 'window', name='uq_risk_alert_once')
    )
    with op.batch_alter_table('risk_alert', schema=None) as batch_op:
        batch_op.create_index('ix_risk_alert_customer', ['customer_id'], unique=False)
        batch_op.create_index('ix_risk_alert_status_branch', ['status', 'branch_code'], unique=False)
        batch_op.create_index('ix_risk_alert_wallet', ['wallet_id'], unique=False)

    op.create_table('risk_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_no', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('branch_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('customer_no', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('customer_name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('id_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('wallets_json', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('entries_json', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('period_from', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_to', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pattern', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('narrative', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('filed_by', sa.Integer(), nullable=True),
    sa.Column('filer', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('filed_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['risk_alert.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['filed_by'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_no')
    )
    with op.batch_alter_table('risk_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_report_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index('ix_risk_report_filed_at', ['filed_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('risk_report', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_report_filed_at')
        batch_op.drop_index(batch_op.f('ix_risk_report_alert_id'))

    op.drop_table('risk_report')
    with op.batch_alter_table('risk_alert', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_alert_wallet')
        batch_op.drop_index('ix_risk_alert_status_branch')
        batch_op.drop_index('ix_risk_alert_customer')

    op.drop_table('risk_alert')
