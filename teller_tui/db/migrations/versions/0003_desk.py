"""Teller desk: customer search (name indexes, 2-char name infix table, FTS5 trigram)

Revision ID: 0003_desk
Revises: 0001_core

SQLite: ``customer_fts`` is a contentless FTS5 table with the trigram tokenizer over
(id_number, full_name, latin) where latin is ``name_latin`` without spaces; rowid = customer.id.
Triggers keep it and ``customer_name_gram`` in step with ``customer``. Only searched columns are
indexed (FTS roughly doubles the size of what it covers).
PostgreSQL: pg_trgm GIN indexes over the same expressions (the search code's Postgres branch).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003_desk"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Positions (1-based) of 2-character name infixes indexed in customer_name_gram.
GRAM_POSITIONS = range(2, 9)
CJK_FROM = 0x2E80


def _gram_select(alias: str, source: str = "") -> str:
    """SELECT (gram, customer_id) for every CJK 2-character infix of ``alias``.full_name."""
    positions = " UNION ALL ".join(f"SELECT {i} AS n" for i in GRAM_POSITIONS)
    g = f"substr({alias}.full_name, p.n, 2)"
    return (f"SELECT DISTINCT {g}, {alias}.id FROM {source}({positions}) AS p "
            f"WHERE length({g}) = 2 AND unicode({g}) >= {CJK_FROM} AND unicode(substr({g}, 2)) >= {CJK_FROM}")


def _fts_values(alias: str) -> str:
    return f"{alias}.id, coalesce({alias}.id_number, ''), {alias}.full_name, replace({alias}.name_latin, ' ', '')"


SQLITE_UP = [
    "CREATE VIRTUAL TABLE customer_fts USING fts5(id_number, full_name, latin, content='', "
    "tokenize='trigram', detail='column')",
    f"INSERT INTO customer_fts(rowid, id_number, full_name, latin) SELECT {_fts_values('c')} FROM customer c",
    f"INSERT OR IGNORE INTO customer_name_gram(gram, customer_id) {_gram_select('c', 'customer AS c, ')}",
    f"""CREATE TRIGGER customer_search_ai AFTER INSERT ON customer BEGIN
        INSERT INTO customer_fts(rowid, id_number, full_name, latin) VALUES ({_fts_values('new')});
        INSERT OR IGNORE INTO customer_name_gram(gram, customer_id) {_gram_select('new')};
    END""",
    f"""CREATE TRIGGER customer_search_ad AFTER DELETE ON customer BEGIN
        INSERT INTO customer_fts(customer_fts, rowid, id_number, full_name, latin)
            VALUES ('delete', {_fts_values('old')});
        DELETE FROM customer_name_gram WHERE customer_id = old.id;
    END""",
    f"""CREATE TRIGGER customer_search_au AFTER UPDATE OF id_number, full_name, name_latin ON customer BEGIN
        INSERT INTO customer_fts(customer_fts, rowid, id_number, full_name, latin)
            VALUES ('delete', {_fts_values('old')});
        INSERT INTO customer_fts(rowid, id_number, full_name, latin) VALUES ({_fts_values('new')});
        DELETE FROM customer_name_gram WHERE customer_id = old.id;
        INSERT OR IGNORE INTO customer_name_gram(gram, customer_id) {_gram_select('new')};
    END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS customer_search_au",
    "DROP TRIGGER IF EXISTS customer_search_ad",
    "DROP TRIGGER IF EXISTS customer_search_ai",
    "DROP TABLE IF EXISTS customer_fts",
]
POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_customer_trgm_id ON customer USING gin (id_number gin_trgm_ops)",
    "CREATE INDEX ix_customer_trgm_name ON customer USING gin (full_name gin_trgm_ops)",
    "CREATE INDEX ix_customer_trgm_latin ON customer USING gin ((replace(name_latin, ' ', '')) gin_trgm_ops)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_customer_trgm_latin",
    "DROP INDEX IF EXISTS ix_customer_trgm_name",
    "DROP INDEX IF EXISTS ix_customer_trgm_id",
]


def upgrade() -> None:
    op.create_table(
        "customer_name_gram",
        sa.Column("gram", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("gram", "customer_id", name="pk_customer_name_gram"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index("ix_customer_full_name", ["full_name"], unique=False)
        batch_op.create_index("ix_customer_name_latin", ["name_latin"], unique=False)
    dialect = op.get_bind().dialect.name
    for stmt in SQLITE_UP if dialect == "sqlite" else POSTGRES_UP if dialect == "postgresql" else []:
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in SQLITE_DOWN if dialect == "sqlite" else POSTGRES_DOWN if dialect == "postgresql" else []:
        op.execute(stmt)
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_name_latin")
        batch_op.drop_index("ix_customer_full_name")
    op.drop_table("customer_name_gram")
