"""Schema management with the Alembic migrations shipped in the package.

``teller db upgrade`` calls :func:`upgrade`; every entry point calls :func:`ensure_current`
(from :mod:`teller_tui.db.revisions`, which compares revisions without loading Alembic)
and refuses to start on an out-of-date schema, naming the command that fixes it.
Migrations may form several heads (one per feature area); ``upgrade`` applies them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic.config import Config
from alembic.script import ScriptDirectory

from teller_tui.db.revisions import MIGRATIONS_DIR, current_heads, ensure_current

if TYPE_CHECKING:
    from teller_tui.db.engine import Database

__all__ = ["MIGRATIONS_DIR", "alembic_config", "all_revisions", "current_heads", "ensure_current", "script_heads",
           "upgrade"]


def alembic_config(database: Database | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database is not None:
        cfg.set_main_option("sqlalchemy.url", database.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def script_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade(database: Database, target: str = "heads") -> tuple[set[str], set[str]]:
    """Apply every pending migration in one write transaction. Returns (before, after) heads."""
    from alembic import command  # lazy: migration commands (autogenerate machinery) only for upgrades

    before = current_heads(database)
    cfg = alembic_config(database)
    with database.write_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)
    return before, current_heads(database)


def all_revisions() -> set[str]:
    """Every revision, as Alembic reads the scripts (the start-up check's parse is tested against it)."""
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
