"""The schema revision check every start makes, without loading Alembic's runtime.

Alembic (its runtime, Mako, Pygments: ~180 ms) is needed to *apply* migrations
(:mod:`teller_tui.db.schema`), not to compare revisions. A start reads the ``alembic_version``
table and compares it with the revisions shipped in the migrations directory, found by reading
each file's ``revision = "..."`` and ``down_revision = ...`` lines. ``tests/test_migrations.py``
checks that this view equals Alembic's own (heads and every revision).
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from teller_tui.common.errors import SchemaOutOfDate
from teller_tui.common.i18n import _

if TYPE_CHECKING:
    from teller_tui.db.engines import Engines

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
VERSION_TABLE = "alembic_version"

#: ``revision: str = "0001_core"`` or ``down_revision = ("a", "b")``, at the start of a line.
_ASSIGN = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*(?:#.*)?$", re.MULTILINE)


def _parse(path: Path) -> tuple[str, tuple[str, ...]]:
    found: dict[str, object] = {}
    for name, value in _ASSIGN.findall(path.read_text(encoding="utf-8")):
        found.setdefault(name, ast.literal_eval(value))
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str):
        raise ValueError(f"{path.name}: no revision = '...' line")
    if down is None:
        parents: tuple[str, ...] = ()
    elif isinstance(down, str):
        parents = (down,)
    elif isinstance(down, (tuple, list)) and all(isinstance(d, str) for d in down):
        parents = tuple(down)
    else:
        raise ValueError(f"{path.name}: down_revision is not a revision id or a list of them")
    return revision, parents


@lru_cache(maxsize=1)
def shipped_revisions() -> dict[str, tuple[str, ...]]:
    """Every migration shipped with the program: revision id -> the revisions it follows."""
    return dict(_parse(path) for path in sorted(VERSIONS_DIR.glob("*.py")) if not path.name.startswith("_"))


def shipped_heads() -> set[str]:
    """The revisions no other shipped migration follows (what ``teller db upgrade`` reaches)."""
    graph = shipped_revisions()
    followed = {parent for parents in graph.values() for parent in parents}
    return set(graph) - followed


def current_heads(database: Engines) -> set[str]:
    """The revisions recorded in the database (empty for a database with no schema yet)."""
    with database.read_engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return set()
        return {row[0] for row in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))}


def ensure_current(database: Engines) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at every shipped migration head."""
    have, want = current_heads(database), shipped_heads()
    if have == want:
        return
    if not have:
        raise SchemaOutOfDate(
            _("The database has no schema yet. Run `teller db upgrade` (or `teller demo` for a demo branch)."))
    unknown = have - set(shipped_revisions())
    if unknown:
        raise SchemaOutOfDate(
            _("The database schema ({revisions}) is newer than this program. Upgrade the program.").format(
                revisions=", ".join(sorted(unknown))))
    raise SchemaOutOfDate(_("The database schema is out of date. Run `teller db upgrade`."))
