"""Schema management with the Alembic migrations shipped in the package.

``teller db upgrade`` calls :func:`upgrade`; every entry point calls :func:`ensure_current`
and refuses to start on an out-of-date schema, naming the command that fixes it.
Migrations may form several heads (one per feature area); ``upgrade`` applies them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from teller_tui.common.errors import SchemaOutOfDate
from teller_tui.common.i18n import _

if TYPE_CHECKING:
    from teller_tui.db.engine import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database: Database | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database is not None:
        cfg.set_main_option("sqlalchemy.url", database.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def script_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_heads(database: Database) -> set[str]:
    with database.read_engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def upgrade(database: Database, target: str = "heads") -> tuple[set[str], set[str]]:
    """Apply every pending migration in one write transaction. Returns (before, after) heads."""
    from alembic import command  # lazy: migration commands (autogenerate machinery) only for upgrades

    before = current_heads(database)
    cfg = alembic_config(database)
    with database.write_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)
    return before, current_heads(database)


def ensure_current(database: Database) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at every migration head."""
    have, want = current_heads(database), script_heads()
    if have == want:
        return
    if not have:
        raise SchemaOutOfDate(
            _("The database has no schema yet. Run `teller db upgrade` (or `teller demo` for a demo branch)."))
    unknown = have - _all_revisions()
    if unknown:
        raise SchemaOutOfDate(
            _("The database schema ({revisions}) is newer than this program. Upgrade the program.").format(
                revisions=", ".join(sorted(unknown))))
    raise SchemaOutOfDate(_("The database schema is out of date. Run `teller db upgrade`."))


def _all_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
