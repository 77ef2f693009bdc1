"""Storage: SQLite pragmas, network filesystems, out-of-date schemas, one-line CLI errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from teller_tui.db.engine import check_local_filesystem, filesystem_type, make_database
from teller_tui.common.errors import SchemaOutOfDate, StorageError


def test_pragmas_read_back(db) -> None:  # type: ignore[no-untyped-def]
    got = db.check_pragmas()
    assert str(got["journal_mode"]).lower() == "wal"
    assert got["synchronous"] == 2
    assert got["foreign_keys"] == 1
    assert got["busy_timeout"] >= 5000
    with db.read() as s:  # the read engine is set up the same way
        raw = s.connection().connection.dbapi_connection
        assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2
        assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_unsafe_synchronous_is_refused(db_path: Path) -> None:
    db = make_database(f"sqlite:///{db_path}", synchronous="NORMAL")
    try:
        with pytest.raises(StorageError, match="synchronous"):
            db.check_pragmas()
    finally:
        db.dispose()


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(StorageError):
        make_database("sqlite:///:memory:")


MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
server:/export /srv/teller nfs4 rw,relatime 0 0
//nas/share /mnt/share cifs rw 0 0
/dev/vdb /srv/teller/local ext4 rw 0 0
"""


@pytest.mark.parametrize("where, fstype", [
    ("/srv/teller/teller.db", "nfs4"),
    ("/mnt/share/x/teller.db", "cifs"),
    ("/srv/teller/local/teller.db", "ext4"),
    ("/home/teller/teller.db", "ext4"),
])
def test_filesystem_type_from_mounts(tmp_path: Path, where: str, fstype: str) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS)
    assert filesystem_type(Path(where).parent, mounts) == fstype


def test_network_filesystem_is_refused(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS)
    with pytest.raises(StorageError, match="network filesystem") as err:
        check_local_filesystem(Path("/srv/teller/teller.db"), mounts)
    assert err.value.code == "network_filesystem" and "PostgreSQL" in str(err.value)
    check_local_filesystem(Path("/srv/teller/local/teller.db"), mounts)  # a local disk is fine
    check_local_filesystem(Path("/srv/teller/teller.db"), tmp_path / "no-such-file")  # unknown: allowed


def test_open_database_refuses_an_empty_schema(tmp_path: Path) -> None:
    from teller_tui.services import open_database
    from teller_tui.common.settings import load_settings

    settings = load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaOutOfDate, match="teller db upgrade"):
        open_database(settings)


def test_cli_prints_one_line_instead_of_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui import cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", ["teller_tui.commands.ledger", "teller_tui.commands.audit"])
    monkeypatch.setenv("TELLER_HOME", str(tmp_path))
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    for argv in (["ledger", "verify"], ["audit", "verify"], ["ledger", "export"]):
        assert cli.main(argv) == 1
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and "teller db upgrade" in captured.err
        assert "Traceback" not in captured.err + captured.out
