"""Tests of the throwaway PostgreSQL server used by the suite (tests/pgserver.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pgserver
import pytest
from pgserver import ExternalPgServer, PgServer, PgUnavailable, apply_policy, pg_policy

# The fixtures, so this file works with or without tests/conftest.py importing them too.
pg_server = pgserver.pg_server
pg_server_factory = pgserver.pg_server_factory
pg_database = pgserver.pg_database
pg_url = pgserver.pg_url

postgres = pytest.mark.postgres


def _conn_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def _wait_until(pred, timeout: float = 30.0) -> bool:
    """Bounded wait for something another process does; never asserts on time."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _pid_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


# ----------------------------------------------------------------- policy (no server)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "auto"),
        ({"CI": "true"}, "required"),
        ({"CI": "true", "TELLER_TEST_PG": "auto"}, "auto"),
        ({"TELLER_TEST_PG": "OFF"}, "off"),
        ({"TELLER_TEST_PG": "required"}, "required"),
        ({"CI": "false"}, "auto"),
    ],
)
def test_policy_from_env(env: dict[str, str], expected: str) -> None:
    assert pg_policy(env) == expected


def test_policy_rejects_unknown_value() -> None:
    with pytest.raises(ValueError, match="TELLER_TEST_PG"):
        pg_policy({"TELLER_TEST_PG": "maybe"})


def test_missing_binaries_is_reported_as_such(tmp_path: Path) -> None:
    with pytest.raises(PgUnavailable) as info:
        PgServer(bindir=tmp_path / "nope").start()
    assert info.value.missing_binaries
    assert "not found" in info.value.reason


def test_policy_required_fails_never_skips() -> None:
    missing = PgUnavailable("no initdb", missing_binaries=True)
    with pytest.raises(pytest.fail.Exception, match="no initdb"):
        apply_policy(missing, "required")
    with pytest.raises(pytest.skip.Exception, match="no initdb"):
        apply_policy(missing, "auto")
    # In auto, a broken install (binaries present) is still a failure, not a skip.
    with pytest.raises(pytest.fail.Exception, match="initdb failed"):
        apply_policy(PgUnavailable("initdb failed"), "auto")
    with pytest.raises(pytest.skip.Exception):
        apply_policy(missing, "off")


def test_find_bindir_honours_env(tmp_path: Path) -> None:
    for name in ("initdb", "postgres"):
        (tmp_path / name).write_text("")
    assert pgserver.find_pg_bindir({"TELLER_TEST_PG_BINDIR": str(tmp_path)}) == tmp_path


# ----------------------------------------------------------------- the session server


@postgres
def test_server_is_postgres_15_or_newer(pg_server) -> None:
    (version,) = pg_server.execute("SELECT version()")[0]
    assert version.startswith("PostgreSQL ")
    assert int(re.match(r"PostgreSQL (\d+)", version).group(1)) >= 15
    assert pg_server.server_version_num() >= 150000


@postgres
def test_url_and_database_roundtrip(pg_server, pg_url: str, pg_database: str) -> None:
    assert re.fullmatch(
        rf"postgresql\+psycopg://{pg_server.user}@127\.0\.0\.1:{pg_server.port}/{pg_database}",
        pg_url,
    )
    import psycopg

    with psycopg.connect(_conn_url(pg_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE posting (id int PRIMARY KEY, amount_fen bigint NOT NULL)")
        conn.execute("INSERT INTO posting VALUES (1, 12345)")
        assert conn.execute("SELECT current_database(), sum(amount_fen) FROM posting"
                            ).fetchone() == (pg_database, 12345)


@postgres
def test_create_and_drop_database_and_psql_script(pg_server) -> None:
    name = pg_server.create_database("pgserver_explicit_" + pg_server._worker_tag())
    try:
        rows = pg_server.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2);"
                              "SELECT count(*) FROM t", dbname=name)
        assert rows == [(2,)]
    finally:
        pg_server.drop_database(name)
    assert pg_server.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)) == []


@postgres
def test_fresh_databases_are_isolated_copies_of_the_template(pg_server) -> None:
    import psycopg

    def setup(url: str) -> None:
        with psycopg.connect(_conn_url(url), autocommit=True) as conn:
            conn.execute("CREATE TABLE account (id text PRIMARY KEY)")
            conn.execute("INSERT INTO account VALUES ('seed')")

    tmpl = pg_server.prepare_template("pgserver_iso_tmpl", setup)
    try:
        a = pg_server.fresh_database(template="pgserver_iso_tmpl")
        b = pg_server.fresh_database(template="pgserver_iso_tmpl")
        try:
            assert a != b
            pg_server.execute("INSERT INTO account VALUES ('only-in-a')", dbname=a)
            assert pg_server.execute("SELECT id FROM account ORDER BY id", dbname=a) == [
                ("only-in-a",), ("seed",)]
            assert pg_server.execute("SELECT id FROM account", dbname=b) == [("seed",)]
        finally:
            pg_server.drop_database(a)
            pg_server.drop_database(b)
    finally:
        pg_server.drop_database(tmpl)


@postgres
def test_external_server_url_is_usable(pg_server) -> None:
    ext = ExternalPgServer(pg_server.conninfo()).start()
    tmpl = ext.prepare_template("pgserver_ext_tmpl")
    assert tmpl.startswith("pgserver_ext_tmpl_")  # per-worker template on a shared server
    name = ext.fresh_database(template="pgserver_ext_tmpl")
    try:
        assert ext.execute("SELECT current_database()", dbname=name) == [(name,)]
        assert not ext.supports_restart
        with pytest.raises(PgUnavailable):
            ext.restart()
    finally:
        ext.drop_database(name)
        ext.drop_database(tmpl)


def test_external_server_unreachable_is_unavailable() -> None:
    port = pgserver.free_port()
    with pytest.raises(PgUnavailable, match="cannot connect"):
        ExternalPgServer(f"postgresql://nobody@127.0.0.1:{port}/postgres").start()


# ----------------------------------------------------------------- private servers


@postgres
def test_restart_fast_keeps_data_and_drops_connections(pg_server_factory) -> None:
    import psycopg

    srv = pg_server_factory()
    assert srv.execute("SHOW fsync") == [("off",)]
    srv.execute("CREATE TABLE t (x int)")
    srv.execute("INSERT INTO t VALUES (7)")
    old_conn = srv.connect()
    old_pid, port = srv.pid, srv.port
    srv.restart()
    assert srv.pid != old_pid and srv.port == port
    with pytest.raises(psycopg.OperationalError):
        old_conn.execute("SELECT 1")
    old_conn.close()
    assert srv.execute("SELECT x FROM t") == [(7,)]


@postgres
def test_durable_scram_server_roles_and_crash_recovery(pg_server_factory) -> None:
    import psycopg

    srv = pg_server_factory(durable=True, auth="scram")
    assert srv.execute("SHOW fsync") == [("on",)]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        srv.connect(password="wrong").close()
    srv.create_role("kiosk", password="s3cret")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        srv.connect(user="kiosk", password="nope").close()
    with srv.connect(user="kiosk", password="s3cret") as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("kiosk",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.nope (x int)")
    srv.execute("CREATE TABLE t (x int)")
    srv.execute("INSERT INTO t VALUES (1)")
    srv.restart("immediate")  # postmaster crash: committed rows come back via WAL replay
    assert srv.execute("SELECT x FROM t") == [(1,)]
    assert "database system was interrupted" in srv.log_path.read_text() \
        or "redo" in srv.log_path.read_text()


@postgres
def test_stop_removes_everything(pg_server_factory) -> None:
    import psycopg

    srv = pg_server_factory()
    base, port, pid = srv.base_dir, srv.port, srv.pid
    assert base is not None and base.exists()
    srv.stop()
    srv.stop()  # idempotent
    assert not base.exists()
    assert _pid_gone(pid)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=3)


@postgres
def test_watchdog_cleans_up_after_killed_owner(pg_server) -> None:
    # pg_server only to apply the availability policy; the owner here is a child process.
    script = (
        "import os, signal, sys; sys.path.insert(0, sys.argv[1]); import pgserver\n"
        "s = pgserver.PgServer().start()\n"
        "print(s.base_dir, s.pid, s._watchdog.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(Path(pgserver.__file__).parent)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    base, pm_pid, wd_pid = proc.stdout.split()
    assert _wait_until(lambda: _pid_gone(int(wd_pid)), timeout=60), "watchdog still running"
    assert _pid_gone(int(pm_pid))
    assert not os.path.exists(base)
