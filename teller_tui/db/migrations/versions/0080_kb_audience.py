"""Knowledge-base articles for customers: ``kb_article.audience`` (``staff`` or ``customer``)

Adds one column with a default, so existing rows (all written for staff) stay valid.

Revision ID: 0080_kb_audience
Revises: 0020_kb
Create Date: 2026-12-03 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0080_kb_audience'
down_revision: str | Sequence[str] | None = '0020_kb'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('kb_article') as batch:
        batch.add_column(sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False,
                                   server_default='staff'))


def downgrade() -> None:
    with op.batch_alter_table('kb_article') as batch:
        batch.drop_column('audience')
