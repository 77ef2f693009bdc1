"""Customer lookup by the parts of an ID number people read out: its birth date and its end

An expression index on the birth date (characters 7-14, ``substr(id_number, 7, 8)``) and one on
the last four characters (SQLite ``substr(id_number, -4)``, PostgreSQL ``right(id_number, 4)``).
The search (teller_tui/desk/search.py, ``id_birth`` / ``id_tail``) uses exactly these
expressions before the trigram substring search, which it then asks only when the page is
still short (the trigram search of a birth date read ~10-25 ms at a million customers).

Revision ID: 0090_id_parts
Revises: 0050_phone_tail
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0090_id_parts"
down_revision: str | Sequence[str] | None = "0050_phone_tail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIRTH = "CREATE INDEX ix_customer_id_birth ON customer (substr(id_number, 7, 8))"
_TAIL = {
    "sqlite": "CREATE INDEX ix_customer_id_tail ON customer (substr(id_number, -4))",
    "postgresql": "CREATE INDEX ix_customer_id_tail ON customer (right(id_number, 4))",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect in _TAIL:
        op.execute(_BIRTH)
        op.execute(_TAIL[dialect])


def downgrade() -> None:
    if op.get_bind().dialect.name in _TAIL:
        op.execute("DROP INDEX IF EXISTS ix_customer_id_tail")
        op.execute("DROP INDEX IF EXISTS ix_customer_id_birth")
