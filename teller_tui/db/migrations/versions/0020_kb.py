"""Knowledge-base articles: every revision a row

Revision ID: 0020_kb
Revises: 0001_core
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import teller_tui.models.types

revision: str = '0020_kb'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('kb_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('tags', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('screens', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('refusals', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('shipped_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reviewer', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', teller_tui.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('article_id', 'locale', 'version', name='uq_kb_article_version')
    )
    op.create_index('ix_kb_article_status', 'kb_article', ['status', 'article_id', 'locale'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_kb_article_status', table_name='kb_article')
    op.drop_table('kb_article')
