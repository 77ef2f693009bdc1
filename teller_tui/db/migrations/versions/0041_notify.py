"""Customer notifications (outbox, contact consent); who acknowledged a risk alert (after 0040_risk)

Revision ID: 0041_notify
Revises: 0040_risk
Create Date: 2026-12-03 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import teller_tui.models.types

revision: str = '0041_notify'
down_revision: str | Sequence[str] | None = '0040_risk'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite rebuilds risk_alert (batch mode), reflecting it first. resolve_fks=False: do not also reflect the
    # tables its foreign keys point at (customer, staff): Alembic stands in a stub for each, and reflecting
    # customer only warned about its expression indexes (ix_customer_id_tail...), which SQLite cannot
    # reflect, on every fresh database (`teller bench`, the tests). Nothing but risk_alert is rebuilt.
    with op.batch_alter_table('risk_alert', schema=None, reflect_kwargs={'resolve_fks': False}) as batch_op:
        batch_op.add_column(sa.Column('acked_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('acked_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_risk_alert_acked_by', 'staff', ['acked_by'], ['id'])

    op.create_table('notify_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('event_key', sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('params_json', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claim', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('claimed_until', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending','sent','failed','skipped')", name='ck_notify_status'),
    sa.CheckConstraint("channel IN ('sms','email')", name='ck_notify_channel'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_key', 'channel', name='uq_notify_event_channel'),
    sa.UniqueConstraint('message_id', name='uq_notify_message_id')
    )
    with op.batch_alter_table('notify_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_notify_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notify_customer', ['customer_id', 'id'], unique=False)

    op.create_table('customer_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('updated_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['updated_by'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id', 'channel', name='uq_contact_channel')
    )


def downgrade() -> None:
    op.drop_table('customer_contact')
    with op.batch_alter_table('notify_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_notify_customer')
        batch_op.drop_index('ix_notify_due')
    op.drop_table('notify_outbox')
    with op.batch_alter_table('risk_alert', schema=None, reflect_kwargs={'resolve_fks': False}) as batch_op:
        batch_op.drop_constraint('fk_risk_alert_acked_by', type_='foreignkey')
        batch_op.drop_column('acked_at')
        batch_op.drop_column('acked_by')
