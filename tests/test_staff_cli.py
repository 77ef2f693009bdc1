"""``teller staff ...`` end to end through the CLI entry point (in-process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyotp
import pytest
from auth_fixtures import ADMIN_PW, SECRETS, cheap_hashing  # noqa: F401  (autouse fixture)

from teller_tui.cli import main
from teller_tui.common.errors import AuthenticationFailed


@pytest.fixture
def env(tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("TELLER_HOME", str(home))
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{db_path}")
    monkeypatch.setenv("TELLER_TERMINAL_ID", "HOST1")
    monkeypatch.setenv("TELLER_LOCALE", "en")
    return home


def services() -> Any:
    from teller_tui.services import make_services
    from teller_tui.common.settings import load_settings

    return make_services(load_settings())


def test_add_prints_one_time_password_that_signs_in(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "add", "wang.fang", "--role", "teller", "--name", "王芳"]) == 0
    out = capsys.readouterr().out
    assert "Created wang.fang (teller)" in out
    otp = out.strip().splitlines()[-1].strip()
    assert len(otp) == 24 and otp.count("-") == 4
    svc = services()
    try:
        signed = svc.auth.authenticate("wang.fang", otp, "", "T01")
        assert signed.must_change_password and signed.needs_totp_enrolment
        with svc.db.read() as s:
            rec = svc.audit.recent(s, action="staff_create")[0]
        assert rec.terminal_id == "HOST1" and rec.actor.startswith("system:")
    finally:
        svc.close()
    # The key file for TOTP secrets is private.
    key = env / "secret.key"
    if key.exists():
        assert key.stat().st_mode & 0o777 == 0o600


def test_add_refuses_duplicate_and_bad_names(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "add", "li", "--role", "supervisor", "--name", "Li"]) == 0
    assert main(["staff", "add", "LI", "--role", "teller", "--name", "Li again"]) == 1
    assert "taken" in capsys.readouterr().err
    assert main(["staff", "add", "9bad", "--role", "teller", "--name", "x"]) == 1
    assert "user name" in capsys.readouterr().err.lower()


def test_list_disable_unlock(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["staff", "add", "li", "--role", "supervisor", "--name", "[bold]Li[/bold]\x1b[31m"])
    main(["staff", "add", "zhao", "--role", "teller", "--name", "Zhao"])
    capsys.readouterr()
    svc = services()
    try:
        for i in range(10):
            with pytest.raises(AuthenticationFailed):
                svc.auth.authenticate("zhao", f"wrong password {i}", "", "T01")
    finally:
        svc.close()
    assert main(["staff", "list"]) == 0
    out = capsys.readouterr().out
    assert "zhao" in out and "locked until" in out
    assert "\x1b" not in out  # control characters never reach the terminal
    assert main(["staff", "unlock", "zhao"]) == 0
    assert main(["staff", "disable", "li"]) == 0
    capsys.readouterr()
    main(["staff", "list"])
    out = capsys.readouterr().out
    line_li = next(line for line in out.splitlines() if line.startswith("li "))
    line_zhao = next(line for line in out.splitlines() if line.startswith("zhao "))
    assert "disabled" in line_li and "locked" not in line_zhao
    assert main(["staff", "unlock", "nobody"]) == 1


def _seed_admin_and_teller() -> None:
    from teller_tui.auth.service import system_actor

    svc = services()
    try:
        actor = system_actor(svc.settings)
        svc.auth.create_staff(actor, "admin", "Admin", "admin", password=ADMIN_PW, totp_secret=SECRETS["admin"])
        svc.auth.create_staff(actor, "wang", "Wang", "teller", password="teller passphrase 1",
                              totp_secret=SECRETS["wang"])
    finally:
        svc.close()


def test_reset_totp_needs_admin_password_and_code(env: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _seed_admin_and_teller()
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "not the admin password")
    monkeypatch.setattr("builtins.input", lambda prompt="": pyotp.TOTP(SECRETS["admin"]).now())
    assert main(["staff", "reset-totp", "wang", "--by", "admin"]) == 1
    assert "Sign-in failed" in capsys.readouterr().err
    monkeypatch.setattr("getpass.getpass", lambda prompt="": ADMIN_PW)
    assert main(["staff", "reset-totp", "wang", "--by", "admin"]) == 0
    assert "reset" in capsys.readouterr().out.lower()
    svc = services()
    try:
        assert not svc.auth.get_staff("wang").totp_active
        with svc.db.read() as s:
            assert [r.outcome for r in svc.audit.recent(s, action="admin_confirm")] == ["ok", "failed"]
            rec = svc.audit.recent(s, action="totp_reset")[0]
        assert rec.actor == "admin" and rec.terminal_id == "HOST1"
    finally:
        svc.close()


def test_reset_totp_by_a_teller_is_refused(env: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _seed_admin_and_teller()
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "teller passphrase 1")
    monkeypatch.setattr("builtins.input", lambda prompt="": pyotp.TOTP(SECRETS["wang"]).now())
    assert main(["staff", "reset-totp", "admin", "--by", "wang"]) == 1
    svc = services()
    try:
        assert svc.auth.get_staff("admin").totp_active
    finally:
        svc.close()
