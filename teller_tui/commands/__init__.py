"""Sub-commands of the ``teller`` CLI, one module per area (see teller_tui.cli).

Commands open the configured database through :func:`configured_database` so that every
command applies the same checks (pragmas, filesystem, schema) and disposes of the engine.

Imports inside command functions are deliberate: :func:`teller_tui.cli.build_parser` imports
every command module each time ``teller`` starts, including ``teller run`` on its way to the
app's first paint, so a module imports at its top only what registering its parser needs and
loads the service stack (SQLAlchemy, argon2, Alembic, ...) when its command actually runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from teller_tui.db.engine import Database


@contextmanager
def configured_database() -> Iterator[Database]:
    """The database named by the settings, checked and migrated-to-date, disposed afterwards."""
    from teller_tui.services import open_database
    from teller_tui.common.settings import load_settings

    database = open_database(load_settings())
    try:
        yield database
    finally:
        database.dispose()
