"""Storage faults named as what they are: real SQLite errors (a page limit for a full disk, a read-only
connection, a garbage file), the engine raising the fault's StorageError with the driver error chained,
the start-up writability check, the CLI's one line, and the error log (0600, the reference in it)."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from teller_tui.common.errorlog import LOGGER_NAME, keep_logs_off_the_terminal, log_path, record_error, setup_error_log
from teller_tui.common.errors import DatabaseUnavailable, StorageError
from teller_tui.db.engine import classify_error, make_database
from teller_tui.db.faults import FAULT_MESSAGES, classify_fault, storage_fault

REPO = Path(__file__).resolve().parent.parent


def _garbage(path: Path) -> Path:
    path.write_bytes(bytes(range(256)) * 400)  # not a SQLite header: "file is not a database"
    return path


# -- classification of real driver errors --------------------------------------------------------
def test_real_sqlite_errors_are_classified(tmp_path: Path, template_db: Path) -> None:
    copy = tmp_path / "c.db"
    shutil.copyfile(template_db, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.execute("CREATE TABLE big AS SELECT zeroblob(1000000) AS b")
    conn.close()
    assert classify_fault(full.value) == "disk_full"

    ro = sqlite3.connect(f"file:{copy}?mode=ro", uri=True, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as readonly:
        ro.execute("PRAGMA user_version=1")
    ro.close()
    assert classify_fault(readonly.value) == "read_only"

    bad = sqlite3.connect(_garbage(tmp_path / "bad.db"))
    with pytest.raises(sqlite3.DatabaseError) as corrupt:
        bad.execute("SELECT * FROM sqlite_master").fetchall()
    bad.close()
    assert classify_fault(corrupt.value) == "corrupt"

    # A busy database is a conflict to retry, not a fault; neither is an ordinary SQL error.
    assert classify_fault(sqlite3.OperationalError("database is locked")) is None
    assert classify_fault(sqlite3.OperationalError("no such table: x")) is None
    fault = storage_fault(corrupt.value)
    assert fault is not None and fault.code == "corrupt" and "backup" in str(fault)
    assert "upgrade" not in str(fault)


# -- the engine ------------------------------------------------------------------------------------
@pytest.fixture
def full_db(db_path: Path) -> Iterator[Any]:
    """The test database with its size capped where it is: the next page it needs is refused."""
    database = make_database(f"sqlite:///{db_path}")
    pages = int(sqlite3.connect(db_path).execute("PRAGMA page_count").fetchone()[0])

    @event.listens_for(database.write_engine, "connect")
    def _cap(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

    yield database
    database.dispose()


def test_disk_full_write_is_a_storage_error_with_the_driver_error_chained(full_db: Any) -> None:
    with pytest.raises(StorageError) as err:
        full_db.write_retrying(lambda s: s.execute(text("CREATE TABLE big AS SELECT zeroblob(2000000) AS b")))
    assert err.value.code == "disk_full" and not isinstance(err.value, DatabaseUnavailable)
    assert str(err.value) == FAULT_MESSAGES["disk_full"]
    assert isinstance(err.value.__cause__, DBAPIError)
    assert isinstance(err.value.__cause__.orig, sqlite3.OperationalError)
    assert full_db.reconnects == 0  # a fault is not retried as if the server were away
    with full_db.read() as s:  # nothing was written, reading still works
        assert s.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'big'")).scalar() == 0


def test_read_only_connection_fails_the_writability_check(db_path: Path) -> None:
    database = make_database(f"sqlite:///{db_path}")

    @event.listens_for(database.write_engine, "connect")
    def _read_only(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA query_only=ON")  # SQLite refuses every write: SQLITE_READONLY

    try:
        database.check_pragmas()  # reading is fine
        with pytest.raises(StorageError) as err:
            database.check_writable()
        assert err.value.code == "read_only" and isinstance(err.value.__cause__, sqlite3.OperationalError)
        with pytest.raises(StorageError, match="can only be read"):
            with database.write() as s:
                s.execute(text("UPDATE staff SET display_name = display_name"))
    finally:
        database.dispose()


def test_writability_check_passes_on_a_good_database(db: Any) -> None:
    db.check_writable()
    with db.read() as s:  # the probe changed nothing
        assert s.execute(text("PRAGMA user_version")).scalar() == 0


def test_corrupt_database_at_start_up(tmp_path: Path) -> None:
    from teller_tui.common.settings import load_settings
    from teller_tui.services import open_database

    path = _garbage(tmp_path / "teller.db")
    settings = load_settings(home=tmp_path, database_url=f"sqlite:///{path}")
    with pytest.raises(StorageError) as err:
        open_database(settings)
    assert err.value.code == "corrupt" and "teller db restore" in str(err.value)
    assert "upgrade" not in str(err.value)
    assert isinstance(err.value.__cause__, DBAPIError)


def test_postgresql_auth_failure_is_named_not_reconnected(pg_server: Any) -> None:
    database = make_database(pg_server.url(user="no_such_role_here"), reconnect_seconds=0.5)
    try:
        with pytest.raises(StorageError) as err:
            database.check_pragmas()
        assert err.value.code == "auth_failed" and not isinstance(err.value, DatabaseUnavailable)
        assert "not an outage" in str(err.value)
        assert classify_error(err.value.__cause__) is None  # never "disconnect": no reconnect loop
        with pytest.raises(StorageError, match="refused the sign-in"):
            database.ping()
    finally:
        database.dispose()


def test_read_only_mount_at_start_up(tmp_path: Path, template_db: Path) -> None:
    """A real read-only filesystem (root ignores file modes, not a read-only mount)."""
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        shutil.copyfile(template_db, mount / "teller.db")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True, capture_output=True)
        from teller_tui.common.settings import load_settings
        from teller_tui.services import open_database

        settings = load_settings(home=tmp_path / "home", database_url=f"sqlite:///{mount / 'teller.db'}")
        with pytest.raises(StorageError) as err:
            open_database(settings)
        assert err.value.code == "read_only"
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


# -- the CLI ---------------------------------------------------------------------------------------
def test_cli_prints_one_line_for_a_corrupt_database(tmp_path: Path) -> None:
    _garbage(tmp_path / "teller.db")
    env = {**os.environ, "TELLER_HOME": str(tmp_path), "PYTHONPATH": str(REPO), "TELLER_LOCALE": "en"}
    env.pop("TELLER_DATABASE_URL", None)
    for argv in (["db", "status"], ["ledger", "verify"]):
        out = subprocess.run([sys.executable, "-m", "screens.cli", *argv], env=env, capture_output=True,
                             text=True, timeout=60, cwd=REPO)
        assert out.returncode == 1, out
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
        assert lines[0] == "teller: " + FAULT_MESSAGES["corrupt"]


def test_cli_error_line_for_an_unclassified_error_has_a_reference_in_the_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_logging: None) -> None:
    from teller_tui.cli import error_line

    monkeypatch.setenv("TELLER_HOME", str(tmp_path))
    try:
        raise ValueError("boom\nsecond line")
    except ValueError as exc:
        line = error_line(exc)
    assert "\n" not in line and "reference " in line and "second line" not in line
    ref = line.split("reference ", 1)[1].split(";", 1)[0]
    assert f"reference {ref}" in log_path(tmp_path).read_text()


# -- the error log ---------------------------------------------------------------------------------
@pytest.fixture
def clean_logging() -> Iterator[None]:
    root, teller = logging.getLogger(), logging.getLogger(LOGGER_NAME)
    saved = (list(root.handlers), list(teller.handlers), teller.propagate, teller.level)
    yield
    for handler in teller.handlers:
        if handler not in saved[1]:
            handler.close()
    root.handlers[:] = saved[0]
    teller.handlers[:] = saved[1]
    teller.propagate, teller.level = saved[2], saved[3]


def test_error_log_is_private_and_holds_the_reference(tmp_path: Path, clean_logging: None) -> None:
    path = setup_error_log(tmp_path)
    assert path == log_path(tmp_path)
    assert setup_error_log(tmp_path / "other") == log_path(tmp_path / "other")
    assert setup_error_log(tmp_path) == path  # one log per process: the latest home's
    assert len([h for h in logging.getLogger(LOGGER_NAME).handlers if getattr(h, "baseFilename", None)]) == 1
    try:
        raise StorageError("The disk holding the database is full.", code="disk_full") from sqlite3.OperationalError(
            "database or disk is full")
    except StorageError as exc:
        ref = record_error(exc, "posting \x1b[2Jcash_in")
    text = path.read_text()
    assert f"reference {ref}" in text and "database or disk is full" in text and "Traceback" in text
    assert "\x1b" not in text  # through the one sanitizer
    assert path.stat().st_mode & 0o777 == 0o600


def test_logs_stay_off_the_terminal(tmp_path: Path, clean_logging: None) -> None:
    root = logging.getLogger()
    terminal = logging.StreamHandler(sys.stderr)
    root.addHandler(terminal)
    keep_logs_off_the_terminal(tmp_path)
    assert terminal not in root.handlers
    logging.getLogger("teller_tui.db.engine").warning("database connection lost; reconnecting")
    for handler in root.handlers:
        handler.flush()
    assert "reconnecting" in log_path(tmp_path).read_text()
