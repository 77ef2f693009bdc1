"""Engine behaviour specific to PostgreSQL and connection loss; LISTEN/NOTIFY with fallback."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from backends import backend_db  # noqa: F401
from teller_tui.db.engine import classify_error, make_database
from teller_tui.db.notify import Listener, notify
from teller_tui.common.errors import DatabaseUnavailable, StorageError


class _Orig(Exception):
    def __init__(self, msg: str, sqlstate: str | None) -> None:
        super().__init__(msg)
        self.sqlstate = sqlstate


def _op_error(sqlstate: str | None, msg: str = "boom", invalidated: bool = False) -> OperationalError:
    return OperationalError("SELECT 1", {}, _Orig(msg, sqlstate), connection_invalidated=invalidated)


@pytest.mark.parametrize(("sqlstate", "msg", "invalidated", "kind"), [
    ("40001", "could not serialize", False, "conflict"),
    ("40P01", "deadlock detected", False, "conflict"),
    ("55P03", "lock not available", False, "conflict"),
    (None, "database is locked", False, "conflict"),
    ("57P01", "terminating connection due to administrator command", False, "disconnect"),
    ("57P03", "the database system is starting up", False, "disconnect"),
    ("08006", "connection failure", False, "disconnect"),
    ("08001", "could not connect", False, "disconnect"),
    (None, "server closed the connection unexpectedly", True, "disconnect"),
    ("23505", "duplicate key", False, None),
    ("42501", "permission denied", False, None),
    (None, "disk I/O error", False, None),
])
def test_classify_error(sqlstate: str | None, msg: str, invalidated: bool, kind: str | None) -> None:
    assert classify_error(_op_error(sqlstate, msg, invalidated)) == kind
    assert classify_error(ValueError("x")) is None
    assert classify_error(DatabaseUnavailable("x")) == "disconnect"


def test_write_retrying_bounds_conflicts_and_disconnects(db: Any) -> None:
    calls = {"n": 0}

    def conflicted(_s: Any) -> None:
        calls["n"] += 1
        raise _op_error("40P01", "deadlock detected")

    with pytest.raises(StorageError) as err:
        db.write_retrying(conflicted, attempts=3)
    assert err.value.code == "busy" and calls["n"] == 3

    calls["n"] = 0

    def lost(_s: Any) -> None:
        calls["n"] += 1
        raise _op_error("57P01", "terminating connection", invalidated=True)

    with pytest.raises(DatabaseUnavailable) as unavailable:
        db.write_retrying(lost, reconnect_seconds=0.05)
    assert calls["n"] >= 2 and "reconnect" in str(unavailable.value)

    calls["n"] = 0

    def flaky(_s: Any) -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise _op_error("57P03", "the database system is shutting down")
        return "ok"

    assert db.write_retrying(flaky) == "ok" and calls["n"] == 3

    def bug(_s: Any) -> None:
        raise _op_error("23505", "duplicate key")

    with pytest.raises(OperationalError):  # not retryable: raised as it is, at once
        db.write_retrying(bug)


@pytest.mark.postgres
def test_unreachable_server_is_database_unavailable(pg_server: Any) -> None:
    from pgserver import free_port

    db = make_database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere", reconnect_seconds=0.2)
    try:
        with pytest.raises(DatabaseUnavailable) as err:
            db.write_retrying(lambda s: s.execute(text("SELECT 1")))
        assert "cannot be reached" in str(err.value)
        assert not db.ping() and not db.wait_available(0.05)
        with pytest.raises(DatabaseUnavailable):
            with db.read() as s:
                s.execute(text("SELECT 1"))
    finally:
        db.dispose()


@pytest.mark.slow
def test_restart_mid_session_reconnects(pg_server_factory: Any) -> None:
    """A server restart breaks every pooled connection; the next write reconnects by itself."""
    srv = pg_server_factory()
    srv.create_database("bank")
    db = make_database(srv.url("bank"))
    try:
        db.write_retrying(lambda s: s.execute(text("CREATE TABLE t (k text PRIMARY KEY)")))
        db.write_retrying(lambda s: s.execute(text("INSERT INTO t VALUES ('a')")))
        srv.restart("fast")
        db.write_retrying(lambda s: s.execute(text("INSERT INTO t VALUES ('b')")))
        with db.read() as s:
            assert [r[0] for r in s.execute(text("SELECT k FROM t ORDER BY k"))] == ["a", "b"]
        srv.restart("fast")
        assert db.wait_available(10)  # pre-ping replaces the dead pooled connection
    finally:
        db.dispose()


# -- LISTEN/NOTIFY ---------------------------------------------------------------------------
def test_notify_and_listener_on_both_backends(backend_db: Any) -> None:
    with Listener(backend_db, ["teller_approvals"], poll_interval=0.01) as listener:
        assert listener.listening == (backend_db.dialect == "postgresql")
        with backend_db.write() as s:
            notify(s, "teller_approvals", "42")
        with pytest.raises(RuntimeError):  # a rolled-back transaction notifies nobody
            with backend_db.write() as s:
                notify(s, "teller_approvals", "rolled-back")
                raise RuntimeError
        with backend_db.write() as s:
            notify(s, "other_channel", "x")
        got = listener.wait(timeout=5)
        if backend_db.dialect == "postgresql":
            got += listener.pending()
            assert [(n.channel, n.payload) for n in got] == [("teller_approvals", "42")]
        else:
            assert got == []  # SQLite: a poll tick
        assert listener.pending() == []
    with pytest.raises(ValueError):
        Listener(backend_db, ["Bad Channel"])


@pytest.mark.slow
def test_listener_survives_restart_by_polling_then_reconnecting(pg_server_factory: Any) -> None:
    srv = pg_server_factory()
    srv.create_database("bank")
    db = make_database(srv.url("bank"))
    try:
        listener = Listener(db, ["teller_approvals"], poll_interval=0.01, reconnect_interval=0.0)
        assert listener.listening
        srv.restart("fast")
        assert listener.wait(timeout=0.5) == []  # the broken connection is noticed: poll
        for _ in range(50):  # reconnects on a later wait, then receives pushes again
            listener.wait(timeout=0.05)
            if listener.listening:
                break
        assert listener.listening
        db.write_retrying(lambda s: notify(s, "teller_approvals", "7"))
        assert [n.payload for n in listener.wait(timeout=5)] == ["7"]
        listener.close()
        assert not listener.listening
    finally:
        db.dispose()


# -- the benchmark hook ----------------------------------------------------------------------
def test_posting_throughput_on_both_backends(backend_db: Any) -> None:
    from teller_tui.bench.throughput import posting_throughput
    from teller_tui.ledger.verify import verify_ledger

    url = backend_db.url.render_as_string(hide_password=False)
    result = posting_throughput(url, clients=3, postings=31, hot_accounts=4)
    assert result.backend == backend_db.dialect and result.postings == 31 and result.refused == 0
    assert result.per_second > 0 and result.p50_ms <= result.p95_ms <= result.max_ms
    assert backend_db.dialect in result.line()
    with backend_db.read() as s:
        assert s.execute(text("SELECT count(*) FROM journal_entry WHERE kind = 'bench'")).scalar() == 32
        assert verify_ledger(s).ok


# -- the command line against a PostgreSQL URL -------------------------------------------------
@pytest.mark.slow
def test_db_upgrade_status_and_demo_on_postgresql(pg_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui.cli import main
    from teller_tui.demo.build import build_demo
    from teller_tui.ledger.verify import verify_ledger
    from teller_tui.common.settings import load_settings

    monkeypatch.setenv("TELLER_DATABASE_URL", pg_url)
    monkeypatch.setenv("TELLER_HOME", str(tmp_path / "home"))
    assert main(["db", "status"]) == 1
    assert main(["db", "upgrade"]) == 0
    assert "Upgraded" in capsys.readouterr().out
    assert main(["db", "status"]) == 0 and "current" in capsys.readouterr().out
    summary = build_demo(load_settings(), customers=8, seed=3, progress=False)
    assert summary.customers == 8 and summary.entries > 0
    db = make_database(pg_url)
    try:
        from teller_tui.models import Customer

        with db.read() as s:
            assert verify_ledger(s).ok
            assert s.execute(text("SELECT count(*) FROM customer")).scalar() == 8
        with db.write() as s:  # the bulk load moved the id sequences on: ordinary inserts work
            s.add(Customer(customer_no="X1", full_name="新客户", phone="13000000000", branch_code="B001",
                           created_at=db_now()))
    finally:
        db.dispose()


def db_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_postgresql_settings_are_checked(pg_app_url: str) -> None:
    from teller_tui.db.engine import verify_postgresql_settings

    db = make_database(pg_app_url)
    try:
        got = db.check_pragmas()
        assert got["encoding"] == "UTF8" and got["server_version_num"] >= 150000
    finally:
        db.dispose()
    good = {"server_version_num": 150004, "encoding": "UTF8", "collate": "C"}
    assert verify_postgresql_settings(good) == good
    for bad, word in (({"collate": "en_US.UTF-8"}, "collation"), ({"encoding": "LATIN1"}, "UTF8"),
                      ({"server_version_num": 140009}, "15")):
        with pytest.raises(StorageError, match=word) as err:
            verify_postgresql_settings({**good, **bad})
        assert "LOCALE 'C'" in str(err.value)
