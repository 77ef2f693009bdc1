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
depends on the values beyond an ``IN`` list's length (``literal_execute``) are refused; an expanding
``IN`` list is compiled once per length.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect
    from sqlmodel import Session

__all__ = ["Compiled", "all_rows", "bound", "dialect_name", "first", "one", "run", "run_many", "scalar", "scalar_one",
           "send"]

Processor = Callable[[Any], Any] | None


class Compiled:
    """One statement compiled for one dialect (and one length of each ``IN`` list): its SQL, how to
    build the driver's parameters from the caller's values (with the statement's own literal values
    and the bind type processors), and how to shape its result rows (result type processors, names)."""

    __slots__ = ("bind_procs", "binds", "getter", "names", "positional", "result_procs", "results", "row", "sql")

    def __init__(self, compiled: Any, dialect: Dialect, sample: Mapping[str, Any], required: frozenset[str]) -> None:
        state = compiled.construct_expanded_state(sample)
        self.sql: str = state.statement
        self.positional: bool = bool(compiled.positional)
        expanded = {name: (base, i) for base, names in state.parameter_expansion.items()
                    for i, name in enumerate(names)}
        names = list(state.positiontup) if self.positional else \
            [n for n in state.parameters if n not in state.parameter_expansion]
        procs = {**compiled._bind_processors, **state.processors}  # noqa: SLF001 - the statement's, then its IN lists'
        # (name sent, kind, key, index, processor, literal): kind 0 values[key], 1 values[key][index], 2 the literal
        self.binds: tuple[tuple[str, int, str, int, Processor, Any], ...] = tuple(
            (name, 1, expanded[name][0], expanded[name][1], procs.get(name), None)
            if name in expanded and expanded[name][0] in required else
            (name, 0, name, 0, procs.get(name), None) if name in required else
            (name, 2, name, 0, procs.get(name), state.parameters[name])
            for name in names)
        columns = list(getattr(compiled, "_result_columns", None) or [])
        self.results: tuple[Processor, ...] | None = None
        self.row: Any = None
        if columns:
            results = tuple(col.type._cached_result_processor(dialect, None) for col in columns)  # noqa: SLF001
            self.results = results if any(results) else None
            self.row = namedtuple("LeanRow", [str(col.keyname) for col in columns], rename=True)  # type: ignore[misc]
        self._fast_paths()

    def _fast_paths(self) -> None:
        """The common shapes, precomputed: every bind a caller's value (no literal, no ``IN`` list)
        read with one ``itemgetter``; only the binds and result columns with a type processor visited."""
        plain = all(kind == 0 for _name, kind, _key, _index, _proc, _literal in self.binds)
        keys = [key for _name, _kind, key, _index, _proc, _literal in self.binds]
        self.names: tuple[str, ...] = tuple(b[0] for b in self.binds)
        self.getter: Callable[[Mapping[str, Any]], Any] | None = None
        if plain and len(keys) > 1:
            self.getter = itemgetter(*keys)
        elif plain and len(keys) == 1:
            key = keys[0]
            self.getter = lambda values: (values[key],)
        elif plain:
            self.getter = lambda _values: ()
        self.bind_procs: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (i, b[4]) for i, b in enumerate(self.binds) if b[4] is not None)
        self.result_procs: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (i, proc) for i, proc in enumerate(self.results or ()) if proc is not None)

    def params(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters for one set of values (a required value missing is a KeyError)."""
        if self.getter is not None:
            out: Any = self.getter(values)
            if self.bind_procs:
                out = list(out)
                for i, proc in self.bind_procs:
                    out[i] = proc(out[i])
        else:
            out = [(value if proc is None else proc(value)) for value, proc in (
                (values[key] if kind == 0 else values[key][index] if kind == 1 else literal, proc)
                for _name, kind, key, index, proc, literal in self.binds)]
        return tuple(out) if self.positional else dict(zip(self.names, out, strict=True))

    def shape(self, raw: Sequence[Any]) -> Any:
        if self.result_procs:
            raw = list(raw)
            for i, proc in self.result_procs:
                raw[i] = proc(raw[i])
        return self.row._make(raw) if self.row is not None else tuple(raw)


class _Statement:
    """A statement compiled for one dialect and set of inserted columns; its variants per ``IN`` length."""

    __slots__ = ("compiled", "dialect", "expanding", "required", "single", "statement", "variants")

    def __init__(self, statement: Any, dialect: Dialect, column_keys: Sequence[str] | None) -> None:
        self.statement = statement  # kept alive: the cache is keyed by its id
        self.dialect = dialect
        self.compiled: Any = statement.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        comp = self.compiled
        if comp.literal_execute_params:
            raise TypeError("a statement with literal-execute parameters cannot be precompiled")
        if getattr(comp, "insert_prefetch", None) or getattr(comp, "update_prefetch", None):
            raise TypeError("a statement with Python-side column defaults cannot be precompiled; pass every value")
        if comp.escaped_bind_names:
            raise TypeError("bind names that need escaping cannot be precompiled")
        self.required = frozenset(name for name, bind in comp.binds.items() if bind.required)
        self.expanding = tuple(sorted(bind.key for bind in comp.post_compile_params if bind.key in self.required))
        self.variants: dict[tuple[int, ...], Compiled] = {}
        self.single = None if self.expanding else Compiled(comp, dialect, dict.fromkeys(self.required), self.required)

    def variant(self, values: Mapping[str, Any]) -> Compiled:
        lengths = tuple(len(values[name]) for name in self.expanding)
        found = self.variants.get(lengths)
        if found is None:
            sample: dict[str, Any] = dict.fromkeys(self.required)
            sample.update((name, [None] * n) for name, n in zip(self.expanding, lengths, strict=True))
            found = self.variants[lengths] = Compiled(self.compiled, self.dialect, sample, self.required)
        return found


_CACHE: dict[tuple[int, str, str, tuple[str, ...] | None], _Statement] = {}
#: The hot lookup: (statement, dialect object, inserted keys in the caller's order) -> its entry in _CACHE.
_FAST: dict[tuple[int, int, tuple[str, ...] | None], tuple[Any, Any, _Statement]] = {}


def _entry(statement: Any, dialect: Dialect, column_keys: Sequence[str] | None) -> _Statement:
    """The cache entry of ``statement`` for ``dialect`` (and, for an insert, its columns): built once."""
    keys = tuple(column_keys) if column_keys is not None else None
    key = (id(statement), dialect.name, dialect.driver, keys)  # a driver's own parameter style and types
    found = _CACHE.get(key)
    if found is None or found.statement is not statement:
        found = _CACHE[key] = _Statement(statement, dialect, keys)
    return found


def compiled(statement: Any, dialect: Dialect, values: Mapping[str, Any],
             column_keys: Sequence[str] | None = None) -> Compiled:
    """``statement`` compiled for ``dialect`` and the ``IN`` lengths of ``values`` (once; then cached)."""
    found = _entry(statement, dialect, column_keys)
    return found.single if found.single is not None else found.variant(values)


def _compiled(statement: Any, dialect: Dialect, values: Mapping[str, Any], insert: bool) -> Compiled:
    """:func:`compiled`, found without sorting the inserted keys or building the full key on each run."""
    fast = (id(statement), id(dialect), tuple(values) if insert else None)
    hit = _FAST.get(fast)
    if hit is not None and hit[0] is statement and hit[1] is dialect:  # the objects themselves: ids are reused
        found = hit[2]
    else:
        found = _entry(statement, dialect, sorted(values) if insert else None)
        _FAST[fast] = (statement, dialect, found)
    return found.single if found.single is not None else found.variant(values)


class _Bound:
    """A transaction's connection as :func:`bound` found it: the SQLAlchemy connection, its pool
    proxy and the driver's connection under it (valid while the connection keeps that proxy: an
    invalidated or closed connection drops it)."""

    __slots__ = ("conn", "dialect", "proxy", "raw")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self.proxy = conn.connection
        self.raw = self.proxy.dbapi_connection


def _bound(session: Session) -> _Bound:
    """The connection of the session's transaction (the one ``Database.write`` began)."""
    found: _Bound | None = session.info.get("lean_connection")
    if found is not None and found.conn._dbapi_connection is found.proxy:  # noqa: SLF001 - still that connection
        return found
    return _Bound(session.connection())


def dialect_name(session: Session) -> str:
    """``sqlite`` or ``postgresql``: the dialect of the session's transaction."""
    return str(_bound(session).dialect.name)


def _execute(session: Session, statement: Any, values: Any, *, many: bool, insert: bool) -> Any:
    b = _bound(session)
    if many:
        rows = list(values)
        if not rows:
            return None
        comp = _compiled(statement, b.dialect, rows[0], insert)
        params: Any = [comp.params(v) for v in rows]
    else:
        values = values or {}
        comp = _compiled(statement, b.dialect, values, insert)
        params = comp.params(values)
    return comp, _send(b.conn, b.raw, comp.sql, params, many)


def send(conn: Connection, sql: str, params: Any = None, *, many: bool = False) -> Any:
    """Run ``sql`` on ``conn``'s DBAPI connection (the engine's statement listeners told, driver errors
    raised as SQLAlchemy raises them); the open cursor. Also the BEGIN of a SQLite transaction."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    return _send(conn, raw, sql, params, many)


def _send(conn: Connection, raw: Any, sql: str, params: Any, many: bool) -> Any:
    cursor = raw.cursor()
    # The engine's statement listeners (the statement count, the benchmark's capture), if any.
    # Listeners on this connection itself join the engine's (SQLAlchemy's joined dispatch); without
    # any, the engine's own dispatch is asked directly (one lookup instead of two per event).
    before = after = None
    dispatch: Any = conn.dispatch if conn._has_events else conn.engine.dispatch if conn.engine._has_events \
        else None  # noqa: SLF001
    if dispatch is not None:
        before = dispatch.before_cursor_execute or None
        after = dispatch.after_cursor_execute or None
    try:
        if before is not None:
            for fn in before:
                sql, params = fn(conn, cursor, sql, params, None, many)
        if many:
            cursor.executemany(sql, params)
        elif params:
            cursor.execute(sql, params)
        else:
            cursor.execute(sql)
        if after is not None:
            after(conn, cursor, sql, params, None, many)
    except BaseException as exc:
        conn._handle_dbapi_exception(exc, sql, params, cursor, None)  # noqa: SLF001 - raises, as execute() would
    return cursor


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


def scalar(session: Session, statement: Any, values: Mapping[str, Any] | None = None, *,
           insert: bool = False) -> Any:
    """The first column of the first row, or None."""
    row = first(session, statement, values, insert=insert)
    return None if row is None else row[0]


def scalar_one(session: Session, statement: Any, values: Mapping[str, Any] | None = None, *,
               insert: bool = False) -> Any:
    """The first column of exactly one row."""
    return one(session, statement, values, insert=insert)[0]


@contextmanager
def bound(session: Session) -> Iterator[None]:
    """Inside a just-begun transaction: remember its connection, so each statement skips the
    session's connection lookup (:meth:`teller_tui.db.engine.Database.write` uses it)."""
    session.info["lean_connection"] = _Bound(session.connection())
    try:
        yield
    finally:
        session.info.pop("lean_connection", None)
