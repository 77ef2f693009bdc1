"""Customer service: cases, refused attempts, follow-up calls, CRM notes and needs, help requests

New tables only: nothing created by an earlier migration is altered.

Revision ID: 0030_cases
Revises: 0001_core
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import teller_tui.models.types

revision: str = '0030_cases'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('crm_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['supersedes_id'], ['crm_note.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('supersedes_id', name='uq_crm_note_supersedes')
    )
    with op.batch_alter_table('crm_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_note_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_needs',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('elderly', sa.Boolean(), nullable=False),
    sa.Column('low_vision', sa.Boolean(), nullable=False),
    sa.Column('needs_assistance', sa.Boolean(), nullable=False),
    sa.Column('prefers_hard_wallet', sa.Boolean(), nullable=False),
    sa.Column('preferred_language', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('updated_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['updated_by'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('customer_id')
    )
    op.create_table('follow_up_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('case_type', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('served_by', sa.Integer(), nullable=True),
    sa.Column('caller_id', sa.Integer(), nullable=True),
    sa.Column('branch_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reached', sa.Boolean(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.CheckConstraint("subject_kind IN ('new_wallet','resolved_case','assistance')", name='ck_follow_up_kind'),
    sa.CheckConstraint('satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5', name='ck_follow_up_satisfaction'),
    sa.ForeignKeyConstraint(['caller_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['served_by'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('follow_up_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_call_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_follow_up_subject', ['subject_kind', 'subject_id', 'at'], unique=False)

    op.create_table('help_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('terminal_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=True),
    sa.Column('branch_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('activity', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('taken_by', sa.Integer(), nullable=True),
    sa.Column('taken_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open','taken','done')", name='ck_help_request_status'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['kiosk_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['taken_by'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('help_request', schema=None) as batch_op:
        batch_op.create_index('ix_help_request_branch_status', ['branch_code', 'status'], unique=False)

    op.create_table('refused_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('terminal_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('branch_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('wallet_id', sa.Integer(), nullable=True),
    sa.Column('to_wallet_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('reason_code', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.CheckConstraint("channel IN ('counter','kiosk','linked_account')", name='ck_refused_channel'),
    sa.ForeignKeyConstraint(['actor_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['to_wallet_id'], ['wallet.id'], ),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallet.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('refused_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_refused_customer_at', ['customer_id', 'at'], unique=False)
        batch_op.create_index('ix_refused_wallet_at', ['wallet_id', 'at'], unique=False)

    op.create_table('service_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('wallet_id', sa.Integer(), nullable=True),
    sa.Column('branch_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('opened_by', sa.Integer(), nullable=True),
    sa.Column('opened_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('waiting_since', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('in_customer_favour', sa.Boolean(), nullable=True),
    sa.Column('resolved_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('closed_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('correction_entry_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open','in_progress','waiting_for_customer','resolved','closed')", name='ck_case_status'),
    sa.CheckConstraint("type IN ('question','account_management','transaction_dispute','complaint','fault','lost_device','suspected_fraud','training_request')", name='ck_case_type'),
    sa.ForeignKeyConstraint(['correction_entry_id'], ['journal_entry.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['opened_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['resolved_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallet.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('service_case', schema=None) as batch_op:
        batch_op.create_index('ix_case_branch_status', ['branch_code', 'status', 'due_at'], unique=False)
        batch_op.create_index('ix_case_customer', ['customer_id'], unique=False)

    op.create_table('case_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.CheckConstraint("kind IN ('opened','note','status','assigned','linked','escalated','correction')", name='ck_case_event_kind'),
    sa.ForeignKeyConstraint(['actor_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['service_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_event_case_id'), ['case_id'], unique=False)

    op.create_table('case_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('entry_reference', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('refusal_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('linked_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('(entry_reference IS NULL) <> (refusal_id IS NULL)', name='ck_case_link_one'),
    sa.ForeignKeyConstraint(['case_id'], ['service_case.id'], ),
    sa.ForeignKeyConstraint(['linked_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['refusal_id'], ['refused_attempt.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'entry_reference', name='uq_case_link_entry'),
    sa.UniqueConstraint('case_id', 'refusal_id', name='uq_case_link_refusal')
    )
    with op.batch_alter_table('case_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_link_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_link_case_id'))

    op.drop_table('case_link')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_case_id'))

    op.drop_table('case_event')
    with op.batch_alter_table('service_case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_customer')
        batch_op.drop_index('ix_case_branch_status')

    op.drop_table('service_case')
    with op.batch_alter_table('refused_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_refused_wallet_at')
        batch_op.drop_index('ix_refused_customer_at')

    op.drop_table('refused_attempt')
    with op.batch_alter_table('help_request', schema=None) as batch_op:
        batch_op.drop_index('ix_help_request_branch_status')

    op.drop_table('help_request')
    with op.batch_alter_table('follow_up_call', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_subject')
        batch_op.drop_index(batch_op.f('ix_follow_up_call_customer_id'))

    op.drop_table('follow_up_call')
    op.drop_table('customer_needs')
    with op.batch_alter_table('crm_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_note_customer_id'))

    op.drop_table('crm_note')
