"""The shipped migrations build exactly the schema the models describe, and the app refuses
to run on a database whose schema is behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from teller_tui.db import schema
from teller_tui.db.engine import make_database
from teller_tui.common.errors import SchemaOutOfDate

# SQLAlchemy cannot reflect the expression indexes (phone/ID tails, made by raw SQL in their migrations
# and absent from the models) when comparing or batch-altering; test_customers.py's query plans show they exist.
pytestmark = pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")


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


def test_startup_revision_check_matches_alembic(db) -> None:  # type: ignore[no-untyped-def]
    """The start-up check reads the migration files itself (no Alembic runtime): its view of the
    shipped revisions, the heads and the database's current revisions equals Alembic's."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from teller_tui.db import revisions

    script = ScriptDirectory.from_config(schema.alembic_config())
    graph = revisions.shipped_revisions()
    assert set(graph) == schema.all_revisions()
    for rev in script.walk_revisions():
        down = rev.down_revision
        parents = set() if down is None else {down} if isinstance(down, str) else set(down)
        assert set(graph[rev.revision]) == parents, rev.revision
    assert revisions.shipped_heads() == set(script.get_heads()) == schema.script_heads()
    with db.read_engine.connect() as conn:
        assert revisions.current_heads(db) == set(MigrationContext.configure(conn).get_current_heads())


def test_startup_check_does_not_load_alembic(tmp_path: Path) -> None:
    """Building the services (which checks the schema) loads neither Alembic nor Mako."""
    import subprocess
    import sys

    code = ("import sys, teller_tui.services; "
            "bad=[m for m in ('alembic','mako','pygments') if m in sys.modules]; print(bad); assert not bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


def test_revision_lines_parsed(tmp_path: Path) -> None:
    from teller_tui.db.revisions import _parse

    path = tmp_path / "0099_x.py"
    path.write_text('"""doc"""\nrevision: str = "0099_x"  # note\n'
                    'down_revision: str | Sequence[str] | None = ("0001_core", \'0003_desk\')\n')
    assert _parse(path) == ("0099_x", ("0001_core", "0003_desk"))
    path.write_text("revision = '0001'\ndown_revision = None\n")
    assert _parse(path) == ("0001", ())
    path.write_text("down_revision = None\n")
    with pytest.raises(ValueError):
        _parse(path)


def test_upgrade_and_downgrade_warn_about_nothing(tmp_path: Path) -> None:
    """A fresh SQLite database is built without SQLAlchemy warnings: no migration reflects a table it
    does not rebuild (customer's expression indexes cannot be reflected and used to warn, on every
    `teller bench` data build)."""
    import warnings

    from alembic import command
    from sqlalchemy.exc import SAWarning

    database = make_database(f"sqlite:///{tmp_path / 'quiet.db'}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SAWarning)
        schema.upgrade(database)
        cfg = schema.alembic_config(database)
        with database.write_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0040_risk")
