"""Onboarding drafts (interrupted customer onboarding, resumable by the branch)

Revision ID: 0004_onboarding
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import teller_tui.models.types

revision: str = "0004_onboarding"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "onboarding_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("created_at", teller_tui.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", teller_tui.models.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", teller_tui.models.types.UTCDateTime(), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("data_json", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["updated_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("onboarding_draft", schema=None) as batch_op:
        batch_op.create_index("ix_onboarding_draft_branch", ["branch", "updated_at"], unique=False)
        batch_op.create_index("ix_onboarding_draft_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("onboarding_draft", schema=None) as batch_op:
        batch_op.drop_index("ix_onboarding_draft_expires_at")
        batch_op.drop_index("ix_onboarding_draft_branch")
    op.drop_table("onboarding_draft")
