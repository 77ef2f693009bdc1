"""The customer's consent at the counter: customer-display pairings, consent requests, the branch's policy

New tables only: nothing created by an earlier migration is altered.

Revision ID: 0070_consent
Revises: 0001_core
Create Date: 2027-01-10 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import teller_tui.models.types

revision: str = '0070_consent'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = teller_tui.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table('pinpad_pairing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terminal_id', _S(length=32), nullable=False),
    sa.Column('code_hash', _S(length=64), nullable=False),
    sa.Column('salt', _S(length=32), nullable=False),
    sa.Column('status', _S(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('display_staff_id', sa.Integer(), nullable=True),
    sa.Column('display_token_hash', _S(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', _T(timezone=True), nullable=False),
    sa.Column('expires_at', _T(timezone=True), nullable=False),
    sa.Column('paired_at', _T(timezone=True), nullable=True),
    sa.Column('ended_at', _T(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['display_staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pinpad_pairing', schema=None) as batch_op:
        batch_op.create_index('ix_pinpad_pairing_terminal', ['terminal_id', 'status'], unique=False)
    op.create_table('consent_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terminal_id', _S(length=32), nullable=False),
    sa.Column('branch_code', _S(length=16), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('wallet_id', sa.Integer(), nullable=True),
    sa.Column('kind', _S(length=16), nullable=False),
    sa.Column('request_hash', _S(length=64), nullable=False),
    sa.Column('summary_json', _S(), nullable=False),
    sa.Column('locale', _S(length=8), nullable=False),
    sa.Column('status', _S(length=12), nullable=False),
    sa.Column('method', _S(length=12), nullable=False),
    sa.Column('document_last4', _S(length=4), nullable=False),
    sa.Column('pin_failures', sa.Integer(), nullable=False),
    sa.Column('created_at', _T(timezone=True), nullable=False),
    sa.Column('expires_at', _T(timezone=True), nullable=False),
    sa.Column('decided_at', _T(timezone=True), nullable=True),
    sa.Column('used_at', _T(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallet.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consent_request', schema=None) as batch_op:
        batch_op.create_index('ix_consent_request_terminal', ['terminal_id', 'status'], unique=False)
    op.create_table('consent_policy',
    sa.Column('branch_code', _S(length=16), nullable=False),
    sa.Column('pin_required', sa.Boolean(), nullable=False),
    sa.Column('reason', _S(length=200), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=True),
    sa.Column('set_at', _T(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['set_by'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('branch_code')
    )


def downgrade() -> None:
    op.drop_table('consent_policy')
    with op.batch_alter_table('consent_request', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_request_terminal')
    op.drop_table('consent_request')
    with op.batch_alter_table('pinpad_pairing', schema=None) as batch_op:
        batch_op.drop_index('ix_pinpad_pairing_terminal')
    op.drop_table('pinpad_pairing')
