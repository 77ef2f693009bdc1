"""``teller db promote`` / ``teller db standby`` safety (security review wave 4, findings 3, 4, 8).

* Fencing: the old primary counts as down only when its connection is refused (or times out). A server that
  answers at all — FATAL 53300 "too many clients", a password or pg_hba refusal — is alive and may still take
  postings: promoting then makes two primaries. ``--fence`` is required unless the operator states
  ``--old-primary-is-stopped`` (recorded in the output).
* A listed standby that cannot be read may hold the last acknowledged postings (``ANY 1``): refused unless
  ``--accept-possible-loss``, which the output then says loudly.
* The replication password never reaches pg_basebackup's argv (world-readable in ps): a 0600 PGPASSFILE.
"""

from __future__ import annotations

import os
import socket
import stat
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from pgserver import PgReplicaSet, kill_server
from teller_tui.common.errors import Conflict, ValidationError
from teller_tui.maintenance.replication import (basebackup_argv, basebackup_password, fence_state, password_env,
                                                promote)

ROOT = Path(__file__).resolve().parents[1]


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed: connecting is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_pg_basebackup_argv_carries_no_password() -> None:
    """`teller db standby --primary postgresql://replicator:s3cret@db1/postgres` put the password into
    pg_basebackup's argv (-d "... password=s3cret ..."): readable by every local user in ps /
    /proc/PID/cmdline for the whole clone (minutes to hours)."""
    argv = basebackup_argv("postgresql://replicator:s3cret@db1:5432/postgres", Path("/tmp/x"), name="db2",
                           tool=Path("/usr/bin/pg_basebackup"))
    assert not any("s3cret" in a for a in argv), argv
    argv = basebackup_argv("postgresql://replicator@db1:5432/postgres?password=s3cret", Path("/tmp/x"), name="db2",
                           tool=Path("/usr/bin/pg_basebackup"))
    assert not any("s3cret" in a for a in argv), argv
    assert basebackup_password("postgresql://replicator:s3%3Acr%5Cet@db1/postgres") == "s3:cr\\et"
    assert basebackup_password("postgresql://replicator@db1/postgres") is None


def test_the_password_goes_in_a_private_passfile_removed_afterwards() -> None:
    with password_env("s3:cr\\et", {"HOME": "/nonexistent"}) as env:
        path = Path(env["PGPASSFILE"])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert path.read_text() == "*:*:*:*:s3\\:cr\\\\et\n"  # pgpass escaping of ':' and '\'
        assert "s3:cr\\et" not in "".join(env.values())
    assert not path.exists() and not path.parent.exists()
    with password_env(None, {"HOME": "/h"}) as env:
        assert env == {"HOME": "/h"}  # no password in the URL: ~/.pgpass as before
    with pytest.raises(ValidationError):
        with password_env("a\nb", {}):
            pass


@pytest.mark.slow
def test_pg_basebackup_gets_the_urls_password_through_the_passfile(pg_server_factory: Any, tmp_path: Path) -> None:
    """The real clone (the documented command) against a server that requires a password; the negative
    control (no password in the URL, --no-password) is refused: the password arrived by the file alone."""
    server = pg_server_factory(auth="scram")
    assert server.password
    base = f"127.0.0.1:{server.port}/postgres"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"HOME": str(tmp_path)}

    def standby(url: str, name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "teller_tui.cli", "db", "standby", "--primary", url,
                               "--data-dir", str(tmp_path / name), "--name", name, "--bindir", str(server.bindir)],
                              capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)

    denied = standby(f"postgresql://{server.user}@{base}", "db8")
    assert denied.returncode != 0, denied.stdout
    out = standby(f"postgresql://{server.user}:{server.password}@{base}", "db9")
    assert out.returncode == 0, out.stderr
    assert server.password not in out.stdout + out.stderr  # the printed command is masked too
    assert (tmp_path / "db9" / "standby.signal").is_file()
    assert "application_name=db9" in (tmp_path / "db9" / "postgresql.auto.conf").read_text()


def _busy_primary() -> tuple[int, threading.Event]:
    """A live PostgreSQL primary as it answers under load: 'FATAL 53300 sorry, too many clients already'
    (the same wire answer an alive server gives for a wrong password or a pg_hba refusal)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    while True:
                        head = conn.recv(8)
                        if len(head) < 8:
                            break
                        length, code = struct.unpack(">II", head)
                        if code in (80877103, 80877104):  # SSLRequest / GSSENCRequest: no
                            conn.sendall(b"N")
                            continue
                        conn.recv(length - 8)
                        fields = b"SFATAL\0VFATAL\0C53300\0Msorry, too many clients already\0\0"
                        conn.sendall(b"E" + struct.pack(">I", len(fields) + 4) + fields)
                        break
                except OSError:
                    pass
        srv.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1], stop


def test_promote_is_refused_while_the_fenced_primary_is_alive_but_refuses_us() -> None:
    """promote() treated ANY connection error from a --fence URL as 'fenced'. An old primary that is up but
    full (too many clients), or that refuses this role (pg_hba, password), still takes postings from the
    terminals: promoting a standby then makes two primaries."""
    port, stop = _busy_primary()
    try:
        with pytest.raises(Conflict) as exc:
            promote(["postgresql://postgres@127.0.0.1:1/postgres"],
                    fence=[f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable"])
        assert exc.value.code == "pg_not_fenced", exc.value.code
        # Every host of a multi-host fence URL must be down: one dead host does not fence a live one.
        down, _seen = fence_state(f"postgresql://postgres@127.0.0.1:{_closed_port()},127.0.0.1:{port}/postgres")
        assert not down
    finally:
        stop.set()
    down, seen = fence_state(f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres")
    assert down and "nothing answers" in seen
    down, seen = fence_state("postgresql://postgres@no-such-host.invalid/postgres")
    assert not down and "cannot tell" in seen  # a name that does not resolve proves nothing


def test_promote_needs_a_fence_or_the_operators_statement() -> None:
    with pytest.raises(ValidationError) as exc:
        promote([f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres"])
    assert exc.value.code == "pg_fence_required"
    # The statement is taken (and the next check, the unreadable standby, answers).
    with pytest.raises(Conflict) as refused:
        promote([f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres"], old_primary_stopped=True)
    assert refused.value.code == "pg_standby_unreachable"
    out = subprocess.run([sys.executable, "-m", "teller_tui.cli", "db", "promote", "--standby",
                          f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode != 0 and "--old-primary-is-stopped" in out.stdout + out.stderr, (out.stdout, out.stderr)


@pytest.mark.slow
def test_promote_is_refused_while_a_listed_standby_cannot_be_read(pg_replica_set: Any) -> None:
    """Two standbys listed, one of them unreadable (a closed port): under ANY 1 it may hold the last
    acknowledged postings, so nothing is promoted; --accept-possible-loss promotes the readable one and
    says what may be lost, on standard output (the record) and standard error."""
    cluster: PgReplicaSet = pg_replica_set(standbys=1)
    db1, db2 = cluster.nodes
    gone = f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres"
    kill_server(db1)
    with pytest.raises(Conflict) as refused:
        promote([db2.conninfo(), gone], fence=[db1.conninfo()])
    assert refused.value.code == "pg_standby_unreachable" and "127.0.0.1:" in str(refused.value)
    assert db2.execute("SELECT pg_is_in_recovery()")[0][0] is True  # nothing was promoted
    out = subprocess.run([sys.executable, "-m", "teller_tui.cli", "db", "promote", "--fence", db1.conninfo(),
                          "--standby", db2.conninfo(), "--standby", gone, "--accept-possible-loss"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"Promoted {db2.conninfo()} ")
    assert f"old primary down: {db1.conninfo()}: " in out.stdout
    for stream in (out.stdout, out.stderr):
        assert f"WARNING: possible loss accepted (--accept-possible-loss): {gone}: " in stream, stream
    assert db2.execute("SELECT pg_is_in_recovery()")[0][0] is False
