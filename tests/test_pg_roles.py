"""Role separation on PostgreSQL, checked with real login roles under scram-sha-256.

The application role can post and audit but cannot UPDATE, DELETE or TRUNCATE journal
entries, postings or audit records, nor switch the triggers off; the kiosk role can read
wallets but cannot move money or read staff credentials.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import errors as pgerr

from teller_tui.audit.trail import Actor, AuditTrail, verify
from teller_tui.common.clock import FakeClock
from teller_tui.db import schema
from teller_tui.db.engine import make_database
from teller_tui.db.roles import APP_INSERT_ONLY, grant_roles, grant_statements
from teller_tui.common.errors import StorageError, ValidationError
from teller_tui.ledger import AccountKind, EntryRequest, Ledger, credit, debit
from teller_tui.common.money import Money

APP_PW, KIOSK_PW = "app-Secret'1", "kiosk-Secret-2"
PROTECTED = sorted(APP_INSERT_ONLY)


@pytest.fixture(scope="module")
def scram_bank() -> Any:
    """One scram server per module with a migrated ``bank`` database and both roles granted."""
    import pgserver

    policy = pgserver.pg_policy()
    if policy == "off":
        pytest.skip("PostgreSQL tests are off (TELLER_TEST_PG=off)")
    try:
        srv = pgserver.PgServer(auth="scram").start()
    except pgserver.PgUnavailable as exc:
        pgserver.apply_policy(exc, policy)
    try:
        srv.create_database("bank")
        owner = make_database(srv.url("bank"))
        schema.upgrade(owner)
        report = grant_roles(owner, app_role="teller_app", kiosk_role="teller_kiosk",
                             app_password=APP_PW, kiosk_password=KIOSK_PW)
        assert sorted(report.created) == ["teller_app", "teller_kiosk"]
        owner.dispose()
        yield srv
    finally:
        srv.stop()


def _post_as_app(srv: Any) -> None:
    app = make_database(srv.url("bank", user="teller_app", password=APP_PW))
    try:
        schema.ensure_current(app)
        ledger = Ledger(FakeClock())

        def work(s: Any) -> None:
            eq = ledger.open_account(s, code="EQ", name="Equity", kind=AccountKind.EQUITY, branch_code="B001")
            w = ledger.open_account(s, code="W1", name="Wallet", kind=AccountKind.WALLET, branch_code="B001")
            dr = ledger.open_account(s, code="DR", name="Drawer", kind=AccountKind.DRAWER, branch_code="B001")
            ledger.post(s, EntryRequest("fund", "opening", (debit(dr, Money(900)), credit(eq, Money(900))),
                                        None, "T01", "B001"))
            ledger.post(s, EntryRequest("in", "cash_in", (debit(dr, Money(500)), credit(w, Money(500))),
                                        None, "T01", "B001"))
            AuditTrail(FakeClock()).append(s, Actor(None, "t", "T01", "teller", "B001"), "cash_in")

        app.write_retrying(work)
        with app.read() as s:
            assert verify(s).ok
    finally:
        app.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_app_role_cannot_rewrite_the_books(scram_bank: Any) -> None:
    srv = scram_bank
    _post_as_app(srv)  # the grants are enough for the posting path
    with srv.connect("bank", user="teller_app", password=APP_PW) as conn:
        for table in PROTECTED:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 1
            # "permission denied" / "must be owner": refused by the grants, before any trigger
            # (the triggers raise the same SQLSTATE with "append-only").
            for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}", f"TRUNCATE {table}",
                        f"ALTER TABLE {table} DISABLE TRIGGER USER", f"DROP TRIGGER {table}_append_only ON {table}"):
                with pytest.raises(pgerr.InsufficientPrivilege, match="permission denied|must be owner"):
                    conn.execute(sql)
        with pytest.raises(pgerr.InsufficientPrivilege):
            conn.execute("CREATE TABLE sneaky (id int)")
        with pytest.raises(pgerr.InsufficientPrivilege):
            conn.execute("UPDATE alembic_version SET version_num = version_num")
        # operational tables stay writable
        conn.execute("UPDATE ledger_head SET last_seq = last_seq")
    # The owner is stopped by the triggers (a second, independent line).
    with srv.connect("bank") as conn:
        with pytest.raises(pgerr.InsufficientPrivilege, match="append-only"):
            conn.execute("UPDATE posting SET amount = amount + 1")
        with pytest.raises(pgerr.InsufficientPrivilege, match="append-only"):
            conn.execute("TRUNCATE audit_record CASCADE")


@pytest.mark.slow
@pytest.mark.postgres
def test_kiosk_role_and_passwords(scram_bank: Any) -> None:
    srv = scram_bank
    _post_as_app(srv)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        srv.connect("bank", user="teller_app", password="wrong")
    with srv.connect("bank", user="teller_kiosk", password=KIOSK_PW) as conn:
        assert conn.execute("SELECT count(*) FROM wallet").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM posting").fetchone()[0] >= 2
        conn.execute("SELECT id, pin_failed_attempts FROM customer")
        conn.execute("SELECT id, username, role, disabled FROM staff")
        for sql in ("UPDATE journal_entry SET memo = 'x'", "DELETE FROM posting", "TRUNCATE posting",
                    "UPDATE ledger_account SET status = 'active'", "INSERT INTO ledger_account (code) VALUES ('x')",
                    "UPDATE wallet SET tier = 1", "INSERT INTO wallet (number) VALUES ('1')",
                    "SELECT password_hash FROM staff", "SELECT totp_secret_enc FROM staff",
                    "INSERT INTO staff (username) VALUES ('evil')", "UPDATE staff SET role = 'admin'",
                    "UPDATE customer SET full_name = 'x'", "DELETE FROM audit_record", "SELECT * FROM customer_note",
                    "SELECT * FROM linked_account", "UPDATE drawer SET status = 'x'", "SELECT * FROM approval_request"):
            with pytest.raises(pgerr.InsufficientPrivilege):
                conn.execute(sql)
    kiosk = make_database(srv.url("bank", user="teller_kiosk", password=KIOSK_PW))
    try:  # a kiosk can audit what the customer did and post a transfer between existing accounts
        ledger = Ledger(FakeClock())

        def work(s: Any) -> None:
            AuditTrail(FakeClock()).append(s, Actor(None, "kiosk:K1", "K1", "kiosk", "B001"), "kiosk_balance")
            w, dr = ledger.account_id(s, "W1"), ledger.account_id(s, "DR")
            ledger.post(s, EntryRequest("kiosk-1", "transfer", (debit(w, Money(100)), credit(dr, Money(100))),
                                        None, "K1", "B001"))

        kiosk.write_retrying(work)
        with kiosk.read() as s:
            assert ledger.balance(s, ledger.account_id(s, "W1")).posted == Money(400)
    finally:
        kiosk.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_grant_command_is_idempotent(scram_bank: Any, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui.cli import main

    srv = scram_bank
    monkeypatch.setenv("TELLER_DATABASE_URL", srv.url("bank"))
    monkeypatch.setenv("NEW_APP_PW", "rotated-password")
    assert main(["db", "grant", "--app-role", "teller_app", "--app-password-env", "NEW_APP_PW",
                 "--kiosk-role", "teller_kiosk", "--show-sql"]) == 0
    out = capsys.readouterr().out
    assert "GRANT SELECT, INSERT ON posting TO teller_app;" in out and "Granted:" in out
    with srv.connect("bank", user="teller_app", password="rotated-password") as conn:
        with pytest.raises(pgerr.InsufficientPrivilege):
            conn.execute("DELETE FROM journal_entry")
    assert main(["db", "grant", "--app-role", "Bad-Name"]) == 1
    assert "Role name" in capsys.readouterr().err
    monkeypatch.setenv("TELLER_DATABASE_URL", srv.url("bank", user="teller_app", password="rotated-password"))
    assert main(["db", "grant", "--app-role", "teller_app"]) == 1  # not the owner
    assert "schema owner" in capsys.readouterr().err
    monkeypatch.setenv("TELLER_DATABASE_URL", srv.url("bank"))
    monkeypatch.setenv("NEW_APP_PW", APP_PW)  # rotate back for the other tests of this module
    assert main(["db", "grant", "--app-role", "teller_app", "--app-password-env", "NEW_APP_PW"]) == 0
    with srv.connect("bank", user="teller_app", password=APP_PW):
        pass


def test_grants_are_what_the_docs_say() -> None:
    cols = {t: {"id"} for t in ("posting", "journal_entry", "audit_record", "wallet", "staff", "alembic_version",
                                 "audit_head")}
    cols["customer"] = {"id", "full_name", "pin_locked", "address"}
    stmts = grant_statements(columns=cols, sequences=["posting_id_seq", "audit_record_id_seq"], database="bank",
                             app_role="app", kiosk_role="kiosk")
    app = [s for s in stmts if s.endswith(" TO app") and s.startswith("GRANT ") and " ON SCHEMA" not in s]
    assert "GRANT SELECT, INSERT ON posting TO app" in app
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON wallet TO app" in app
    assert "GRANT SELECT ON alembic_version TO app" in app
    assert not any("TRUNCATE" in s or "ALL PRIVILEGES" in s for s in stmts)
    kiosk = [s for s in stmts if s.endswith(" TO kiosk") and s.startswith("GRANT ")]
    assert "GRANT UPDATE (pin_locked) ON customer TO kiosk" in kiosk
    assert "GRANT SELECT (id) ON staff TO kiosk" in kiosk
    assert not any("password_hash" in s or "totp_secret" in s for s in stmts)
    assert not any(("UPDATE" in s or "DELETE" in s) and (" posting " in s or " journal_entry " in s
                                                          or " audit_record " in s) for s in stmts
               if s.startswith("GRANT"))


def test_roles_refused_on_sqlite(db: Any) -> None:
    with pytest.raises(StorageError, match="PostgreSQL"):
        grant_roles(db, app_role="x")
    with pytest.raises(ValidationError):
        from teller_tui.db.roles import _check_name

        _check_name("x; DROP TABLE posting")
