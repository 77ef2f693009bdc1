"""teller_tui.db.lean: precompiled statements on the session's own connection behave as session.execute.

On both backends: the same rows (type processing of UTC datetimes and dates included), the
statement's own literal values bound, ``IN`` lists of any length, inserts of the given columns,
driver errors raised as SQLAlchemy raises them (so the engine's classification and retries hold),
the engine's statement listeners told of every statement, and the work is inside the write
transaction (rolled back with it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from backends import backend_db  # noqa: F401
from teller_tui.db import lean
from teller_tui.db.engine import classify_error
from teller_tui.models import BusinessDay, LedgerChainHead

CH = LedgerChainHead.__table__  # type: ignore[attr-defined]
BD = BusinessDay.__table__  # type: ignore[attr-defined]
AT = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)

LOCK = select(CH.c.branch_code, CH.c.entries, CH.c.hash, CH.c.last_at, CH.c.last_date).where(
    CH.c.branch_code == bindparam("b"))
IN_LIST = select(CH.c.branch_code).where(CH.c.branch_code.in_(bindparam("codes", expanding=True)),
                                         CH.c.hash == "h").order_by(CH.c.branch_code)
INSERT = CH.insert()
MOVE = CH.update().where(CH.c.branch_code == bindparam("b")).values(entries=CH.c.entries + bindparam("n"))
SEQ = text("SELECT 41 + 1")


def _heads(session: Any, *codes: str) -> None:
    lean.run_many(session, INSERT, [dict(branch_code=c, last_seq=0, entries=0, hash="h", last_at=AT,
                                         last_date=date(2026, 3, 4)) for c in codes], insert=True)


def test_rows_types_and_literals_as_the_orm_reads_them(backend_db: Any) -> None:
    with backend_db.write() as s:
        _heads(s, "B001", "B002", "B003")
        row = lean.first(s, LOCK, {"b": "B002"})
        orm = s.execute(LOCK, {"b": "B002"}).one()
        assert tuple(row) == tuple(orm)
        assert row.last_at == AT and row.last_at.tzinfo is not None and row.last_date == date(2026, 3, 4)
        assert lean.first(s, LOCK, {"b": "nope"}) is None
        with pytest.raises(LookupError):
            lean.one(s, LOCK, {"b": "nope"})
        # IN lists of several lengths, the statement's own literal ("h") bound each time.
        assert [r.branch_code for r in lean.all_rows(s, IN_LIST, {"codes": ["B003", "B001"]})] == ["B001", "B003"]
        assert [r[0] for r in lean.all_rows(s, IN_LIST, {"codes": ["B002"]})] == ["B002"]
        assert lean.all_rows(s, IN_LIST, {"codes": ["B001", "B002", "B003", "X"]})[2].branch_code == "B003"
        lean.run_many(s, MOVE, [{"b": "B001", "n": 2}, {"b": "B003", "n": 5}])
        assert [lean.scalar_one(s, select(CH.c.entries).where(CH.c.branch_code == bindparam("b")), {"b": b})
                for b in ("B001", "B002", "B003")] == [2, 0, 5]
        assert lean.scalar(s, SEQ) == 42
        assert lean.dialect_name(s) == backend_db.dialect
        with pytest.raises(KeyError):  # a required value missing is refused, not sent as NULL
            lean.first(s, LOCK, {})


def test_values_are_stored_exactly_as_session_execute_stores_them(backend_db: Any) -> None:
    """Bind type processing (UTCDateTime: naive UTC text on SQLite, timestamptz on PostgreSQL; dates)."""
    with backend_db.write() as s:
        _heads(s, "B001")
        s.execute(INSERT, dict(branch_code="B002", last_seq=0, entries=0, hash="h", last_at=AT,
                               last_date=date(2026, 3, 4)))
        raw = text("SELECT CAST(last_at AS TEXT), CAST(last_date AS TEXT) FROM ledger_chain_head "
                   "WHERE branch_code = :b")
        assert s.execute(raw, {"b": "B001"}).one() == s.execute(raw, {"b": "B002"}).one()
        lean.run(s, CH.update().where(CH.c.branch_code == "B001").values(last_at=bindparam("at")), {"at": AT})
        assert s.execute(raw, {"b": "B001"}).one() == s.execute(raw, {"b": "B002"}).one()


def test_work_is_inside_the_write_transaction(backend_db: Any) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), backend_db.write() as s:
        _heads(s, "B009")
        assert lean.first(s, LOCK, {"b": "B009"}) is not None
        raise Boom
    with backend_db.read() as s:
        assert s.execute(LOCK, {"b": "B009"}).first() is None


def test_driver_errors_are_raised_as_sqlalchemy_raises_them(backend_db: Any) -> None:
    with pytest.raises(IntegrityError) as err, backend_db.write() as s:
        _heads(s, "B001")
        _heads(s, "B001")  # the branch code is unique
    assert isinstance(err.value, DBAPIError) and err.value.orig is not None
    assert classify_error(err.value) is None  # a constraint is not retried
    with backend_db.write() as s:  # the connection is still good
        _heads(s, "B001")


def test_listeners_see_every_statement(backend_db: Any) -> None:
    seen: list[tuple[str, bool]] = []

    def record(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        seen.append((statement.split()[0].upper(), many))

    event.listen(backend_db.write_engine, "before_cursor_execute", record)
    try:
        with backend_db.write() as s:
            seen.clear()
            _heads(s, "B001", "B002")
            lean.first(s, LOCK, {"b": "B001"})
            lean.run(s, MOVE, {"b": "B001", "n": 1})
    finally:
        event.remove(backend_db.write_engine, "before_cursor_execute", record)
    assert seen == [("INSERT", True), ("SELECT", False), ("UPDATE", False)]


def test_business_day_enum_literal_and_dates(backend_db: Any) -> None:
    """A select on an enum column compared with a literal member, a Date bind (SQLite: text)."""
    stmt = select(BD.c.business_date).where(BD.c.branch_code == bindparam("b"), BD.c.status == "open",
                                            BD.c.business_date >= bindparam("d", type_=BD.c.business_date.type))
    with backend_db.read() as s:
        assert lean.all_rows(s, stmt, {"b": "B001", "d": date(2000, 1, 1)}) == [
            tuple(r) for r in s.execute(stmt, {"b": "B001", "d": date(2000, 1, 1)}).all()]
