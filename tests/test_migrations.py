"""The shipped migrations build exactly the schema the models describe, and the app refuses
to run on a database whose schema is behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from teller_tui.db import schema
from teller_tui.db.engine import make_database
from teller_tui.common.errors import SchemaOutOfDate


def _diffs(database) -> list:  # type: ignore[no-untyped-def]
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import teller_tui.models  # noqa: F401

    with database.read_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(ctx, SQLModel.metadata)

    def ignorable(diff: object) -> bool:
        # Virtual tables and their shadow tables (FTS) are created by raw SQL on purpose.
        text = repr(diff)
        return "remove_table" in text and ("_fts" in text or "fts_" in text)

    return [d for d in diffs if not ignorable(d)]


def test_migrations_match_models(db) -> None:  # type: ignore[no-untyped-def]
    assert _diffs(db) == []


def test_every_head_applied(db) -> None:  # type: ignore[no-untyped-def]
    assert schema.current_heads(db) == schema.script_heads()
    schema.ensure_current(db)


def test_empty_database_refused_with_the_fix(tmp_path: Path) -> None:
    database = make_database(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaOutOfDate, match="teller db upgrade"):
        schema.ensure_current(database)


def test_out_of_date_database_refused(tmp_path: Path) -> None:
    heads = schema.script_heads()
    database = make_database(f"sqlite:///{tmp_path / 'old.db'}")
    schema.upgrade(database, "0001_core")
    if heads == {"0001_core"}:
        schema.ensure_current(database)  # nothing newer exists yet
        return
    with pytest.raises(SchemaOutOfDate, match="teller db upgrade"):
        schema.ensure_current(database)
    schema.upgrade(database)
    schema.ensure_current(database)


def test_downgrade_then_upgrade_round_trip(tmp_path: Path) -> None:
    from alembic import command

    database = make_database(f"sqlite:///{tmp_path / 'rt.db'}")
    schema.upgrade(database)
    cfg = schema.alembic_config(database)
    with database.write_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert schema.current_heads(database) == set()
    schema.upgrade(database)
    assert _diffs(database) == []
