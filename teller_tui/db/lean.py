"""The posting path's statements, run on the session's own DBAPI connection.

Why: one counter cash-in sends ~24 statements; through SQLAlchemy's execution machinery each
one costs ~30–40 µs of Python on top of the driver's ~3 µs (execution context, parameter
processing, result metadata, the ORM session's connection lookup), which was most of what the
service spent beyond its SQL. Here a SQLAlchemy Core statement, built once at module level by its
owner, is compiled once per dialect (and per set of inserted columns) into its SQL string, the
order of its parameters, and the type processors of its parameters and result columns; each run
is then one ``cursor.execute`` (or ``executemany``) on the connection the session's transaction
already holds.

What stays exactly as with ``session.execute``:

* the transaction: the statement runs on the session's connection, inside the session's
  transaction (BEGIN IMMEDIATE / advisory locks, commit, rollback and the retry loop of
  :meth:`teller_tui.db.engine.Database.write_retrying` are untouched);
* the SQL and its values: the same compiled string, the same bind and result type processing
  (``UTCDateTime``, dates as text on SQLite), so rows read back as with the ORM's Core path;
* the engine's ``before_cursor_execute`` / ``after_cursor_execute`` listeners see every
  statement (the statement-count test and the posting benchmark count and replay them);
* driver errors: raised as SQLAlchemy raises them (``DBAPIError`` with the driver error
  chained, a lost connection invalidated), so conflicts, disconnects and storage faults are
  classified and retried exactly as before.

What a caller must do: flush pending ORM objects first when the statement depends on them (Core
statements never autoflush); keep an ORM object already loaded in the session in step after a
Core UPDATE (as :func:`teller_tui.ledger.core._sync_cached_account` does). Statements whose SQL
depends on the values (expanding ``IN`` lists, ``literal_execute``) are refused: use one bind per
element (:func:`in_binds`).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam
from sqlalchemy.sql.elements import BindParameter

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect
    from sqlmodel import Session

__all__ = ["Compiled", "all_rows", "bound", "dialect_name", "first", "in_binds", "one", "run", "run_many", "scalar", "scalar_one"]

Processor = Callable[[Any], Any] | None


class Compiled:
    """One statement compiled for one dialect: SQL, parameter order and type processors, row type."""

    __slots__ = ("binds", "keys", "positional", "row", "results", "sql", "statement")

    def __init__(self, statement: Any, dialect: Dialect, column_keys: Sequence[str] | None) -> None:
        compiled: Any = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise TypeError("a statement whose SQL depends on its values cannot be precompiled; use in_binds()")
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            raise TypeError("a statement with Python-side column defaults cannot be precompiled; pass every value")
        if compiled.escaped_bind_names:
            raise TypeError("bind names that need escaping cannot be precompiled")
        self.statement = statement  # kept alive: the cache is keyed by its id
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        names = list(compiled.positiontup) if self.positional else list(dict.fromkeys(compiled.bind_names.values()))
        self.keys: tuple[str, ...] = tuple(names)
        procs = compiled._bind_processors  # noqa: SLF001 - the processors SQLAlchemy itself applies
        self.binds: tuple[tuple[str, Processor], ...] = tuple((name, procs.get(name)) for name in names)
        columns = list(getattr(compiled, "_result_columns", None) or [])
        self.results: tuple[Processor, ...] | None = None
        self.row: Any = None
        if columns:
            self.results = tuple(col.type._cached_result_processor(dialect, None)  # noqa: SLF001
                                 for col in columns)
            if not any(self.results):
                self.results = None
            self.row = namedtuple("LeanRow", [str(col.keyname) for col in columns], rename=True)  # type: ignore[misc]

    def params(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters for one set of values (missing keys are NULL, as SQLAlchemy binds them)."""
        if self.positional:
            return tuple(values.get(name) if proc is None else proc(values.get(name)) for name, proc in self.binds)
        return {name: values.get(name) if proc is None else proc(values.get(name)) for name, proc in self.binds}

    def shape(self, raw: Sequence[Any]) -> Any:
        if self.results is not None:
            raw = [value if proc is None else proc(value) for proc, value in zip(self.results, raw, strict=True)]
        return self.row._make(raw) if self.row is not None else tuple(raw)


_CACHE: dict[tuple[int, str, tuple[str, ...] | None], Compiled] = {}


def compiled(statement: Any, dialect: Dialect, column_keys: Sequence[str] | None = None) -> Compiled:
    """``statement`` compiled for ``dialect`` (once; then from the cache)."""
    keys = tuple(column_keys) if column_keys is not None else None
    key = (id(statement), dialect.name, keys)
    found = _CACHE.get(key)
    if found is None or found.statement is not statement:
        found = _CACHE[key] = Compiled(statement, dialect, keys)
    return found


def _connection(session: Session) -> Connection:
    """The connection of the session's transaction (the one ``Database.write`` began)."""
    conn: Connection | None = session.info.get("lean_connection")
    if conn is None or conn.closed:
        conn = session.connection()
    return conn


def dialect_name(session: Session) -> str:
    """``sqlite`` or ``postgresql``: the dialect of the session's transaction."""
    return str(_connection(session).dialect.name)


def _execute(session: Session, statement: Any, values: Any, *, many: bool, insert: bool) -> Any:
    conn = _connection(session)
    dialect = conn.dialect
    if many:
        rows = list(values)
        if not rows:
            return None
        comp = compiled(statement, dialect, sorted(rows[0]) if insert else None)
        params: Any = [comp.params(v) for v in rows]
    else:
        comp = compiled(statement, dialect, sorted(values) if insert and values else None)
        params = comp.params(values or {})
    sql = comp.sql
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    events = conn._has_events or conn.engine._has_events  # noqa: SLF001
    try:
        if events:
            for fn in conn.dispatch.before_cursor_execute:
                sql, params = fn(conn, cursor, sql, params, None, many)
        if many:
            cursor.executemany(sql, params)
        elif params:
            cursor.execute(sql, params)
        else:
            cursor.execute(sql)
        if events:
            conn.dispatch.after_cursor_execute(conn, cursor, sql, params, None, many)
    except BaseException as exc:
        conn._handle_dbapi_exception(exc, sql, params, cursor, None)  # noqa: SLF001 - raises, as execute() would
    return comp, cursor


def run(session: Session, statement: Any, values: Mapping[str, Any] | None = None, *, insert: bool = False) -> None:
    """Run a statement that returns no rows. ``insert``: an INSERT compiled for the keys of ``values``."""
    _comp, cursor = _execute(session, statement, values, many=False, insert=insert)
    cursor.close()


def run_many(session: Session, statement: Any, values: Sequence[Mapping[str, Any]], *, insert: bool = False) -> None:
    """One ``executemany`` of a statement over ``values`` (nothing sent when it is empty)."""
    done = _execute(session, statement, values, many=True, insert=insert)
    if done is not None:
        done[1].close()


def first(session: Session, statement: Any, values: Mapping[str, Any] | None = None, *,
          insert: bool = False) -> Any:
    """The first row (a named tuple of the result columns), or None; the rest is discarded."""
    comp, cursor = _execute(session, statement, values, many=False, insert=insert)
    try:
        raw = cursor.fetchone()
        if raw is not None:
            cursor.fetchall()
    finally:
        cursor.close()
    return None if raw is None else comp.shape(raw)


def one(session: Session, statement: Any, values: Mapping[str, Any] | None = None, *, insert: bool = False) -> Any:
    """Exactly one row, else ``LookupError``."""
    row = first(session, statement, values, insert=insert)
    if row is None:
        raise LookupError("no row where exactly one was expected")
    return row


def all_rows(session: Session, statement: Any, values: Mapping[str, Any] | None = None) -> list[Any]:
    """Every row, as named tuples of the result columns."""
    comp, cursor = _execute(session, statement, values, many=False, insert=False)
    try:
        return [comp.shape(raw) for raw in cursor.fetchall()]
    finally:
        cursor.close()


def scalar(session: Session, statement: Any, values: Mapping[str, Any] | None = None) -> Any:
    """The first column of the first row, or None."""
    row = first(session, statement, values)
    return None if row is None else row[0]


def scalar_one(session: Session, statement: Any, values: Mapping[str, Any] | None = None, *,
               insert: bool = False) -> Any:
    """The first column of exactly one row."""
    return one(session, statement, values, insert=insert)[0]


def in_binds(prefix: str, n: int) -> list[BindParameter[Any]]:
    """``n`` bind parameters ``prefix0 … prefix{n-1}`` for an ``IN`` list of a known length (the
    statement is then built and cached per length: its SQL does not depend on the values)."""
    return [bindparam(f"{prefix}{i}") for i in range(n)]


@contextmanager
def bound(session: Session) -> Iterator[None]:
    """Inside a just-begun transaction: remember its connection, so each statement skips the
    session's connection lookup (:meth:`teller_tui.db.engine.Database.write` uses it)."""
    session.info["lean_connection"] = session.connection()
    try:
        yield
    finally:
        session.info.pop("lean_connection", None)
