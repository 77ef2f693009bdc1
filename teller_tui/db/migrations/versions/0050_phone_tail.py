"""Customer lookup by the last digits of a phone: an index on the phone's last four digits

SQLite: an expression index on ``substr(phone, -4)``; PostgreSQL: on ``right(phone, 4)``. The
search (teller_tui/desk/search.py, ``phone_suffix``) uses exactly these expressions, then checks
the longer suffix on the few rows found.

Revision ID: 0050_phone_tail
Revises: 0003_desk
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0050_phone_tail"
down_revision: str | Sequence[str] | None = "0003_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UP = {
    "sqlite": "CREATE INDEX ix_customer_phone_tail ON customer (substr(phone, -4))",
    "postgresql": "CREATE INDEX ix_customer_phone_tail ON customer (right(phone, 4))",
}


def upgrade() -> None:
    stmt = _UP.get(op.get_bind().dialect.name)
    if stmt:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name in _UP:
        op.execute("DROP INDEX IF EXISTS ix_customer_phone_tail")
