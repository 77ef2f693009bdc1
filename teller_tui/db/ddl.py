"""Dialect-specific DDL used by migrations: append-only protection and the like."""

from __future__ import annotations

from typing import Any

APPEND_ONLY_TABLES = ("journal_entry", "posting", "audit_record")


def append_only_statements(dialect: str, table: str) -> list[str]:
    """Statements that make ``table`` refuse UPDATE and DELETE inside the database itself."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION teller_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501'; END $$",
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION teller_append_only()",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION teller_append_only()",
        ]
    raise ValueError(dialect)


def drop_append_only_statements(dialect: str, table: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"]


def execute_all(op: Any, statements: list[str]) -> None:
    for sql in statements:
        op.execute(sql)


def resync_id_sequences_statements(dialect: str, tables: tuple[str, ...] | list[str]) -> list[str]:
    """After a bulk load with explicit ids: move each table's id sequence past max(id).

    PostgreSQL's serial/identity sequences do not notice explicit ids, so the next ordinary
    INSERT would collide; SQLite's rowid allocation needs nothing."""
    if dialect != "postgresql":
        return []
    return [f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {t}), false)"
            for t in tables]
