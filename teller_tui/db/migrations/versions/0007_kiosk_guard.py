"""Kiosk sign-in guard (wrong tries per identifier typed and per customer; lock with expiry)

Revision ID: 0007_kiosk_guard
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import teller_tui.models.types

revision: str = "0007_kiosk_guard"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kiosk_guard",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("kiosk_guard")
