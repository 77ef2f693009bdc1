"""Hot-path SQL statements of the desk, each built once on first use (bind parameters carry the values)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.sql.expression import Executable

_STATEMENTS: dict[str, Executable] = {}


def cached_statement(name: str, build: Callable[[], Executable]) -> Executable:
    """The statement called ``name``, built by ``build`` the first time it is asked for."""
    stmt = _STATEMENTS.get(name)
    if stmt is None:
        stmt = _STATEMENTS[name] = build()
    return stmt
