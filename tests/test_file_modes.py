"""Database files and folders are private whatever the umask, and a readable one is refused.

The key file was already created 0600 and refused when others could read it; the database
(names, ID numbers, password hashes) was created 0644 under the usual umask. Now the engine
creates the file 0600 (its folder 0700) before SQLite does, SQLite gives -wal/-shm the same
mode, and a database file that group or others can access is refused with the chmod fix.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from teller_tui.common.errors import StorageError
from teller_tui.db import schema
from teller_tui.db.engine import make_database


@pytest.fixture(params=[0o022, 0o002], ids=["umask022", "umask002"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield int(request.param)
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_database_file_wal_shm_and_folder_are_private(tmp_path: Path, umask: int) -> None:
    folder = tmp_path / "home" / "data"
    path = folder / "teller.db"
    db = make_database(f"sqlite:///{path}")
    try:
        schema.upgrade(db)
        with db.write() as s:  # WAL mode: -wal and -shm exist while a connection is open
            s.connection().exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x)")
        assert path.with_name("teller.db-wal").exists() and path.with_name("teller.db-shm").exists()
        assert mode(path) == 0o600
        assert mode(path.with_name("teller.db-wal")) == 0o600
        assert mode(path.with_name("teller.db-shm")) == 0o600
        assert mode(folder) == 0o700
    finally:
        db.dispose()
    # Negative control: under this umask a file made the ordinary way is readable by others.
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert mode(plain) & 0o044


def test_settings_home_is_private(tmp_path: Path, umask: int) -> None:
    from teller_tui.common.settings import load_settings

    home = tmp_path / "teller-home"
    load_settings(home=home).ensure_home()
    assert mode(home) == 0o700


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o660])
def test_database_others_can_read_is_refused_with_the_fix(tmp_path: Path, loose: int) -> None:
    path = tmp_path / "teller.db"
    make_database(f"sqlite:///{path}").dispose()
    os.chmod(path, loose)
    with pytest.raises(StorageError) as err:
        make_database(f"sqlite:///{path}")
    assert err.value.code == "database_permissions"
    assert f"chmod 600 {path}" in str(err.value)
    os.chmod(path, 0o600)
    make_database(f"sqlite:///{path}").dispose()


def test_loose_wal_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "teller.db"
    make_database(f"sqlite:///{path}").dispose()
    wal = tmp_path / "teller.db-wal"
    wal.write_bytes(b"")
    os.chmod(wal, 0o644)
    with pytest.raises(StorageError, match="teller.db-wal"):
        make_database(f"sqlite:///{path}")


def test_cli_refuses_a_readable_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui import cli

    path = tmp_path / "teller.db"
    db = make_database(f"sqlite:///{path}")
    schema.upgrade(db)
    db.dispose()
    os.chmod(path, 0o644)
    monkeypatch.setenv("TELLER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{path}")
    assert cli.main(["ledger", "verify"]) != 0
    err = capsys.readouterr().err
    assert "can be read by other users" in err and f"chmod 600 {path}" in err
    assert "Traceback" not in err
