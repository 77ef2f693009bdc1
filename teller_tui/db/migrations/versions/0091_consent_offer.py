"""The authenticator secret offered on the customer display, kept (encrypted) on its consent request

Revision ID: 0091_consent_offer
Revises: 0070_consent
Create Date: 2026-12-03 20:00:00

An enrolment accepts only a code for the secret the service made (the display never chooses it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0091_consent_offer'
down_revision: str | Sequence[str] | None = '0070_consent'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('consent_request', sa.Column('offer_enc', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    op.drop_column('consent_request', 'offer_enc')
