"""Role separation on PostgreSQL, checked with real login roles under scram-sha-256 and an owner
that is NOT a superuser (a plain role owning the database, with CREATEROLE), as a bank would run it.

The application role can post and audit but cannot UPDATE, DELETE or TRUNCATE the books or the
compliance records written once, cannot rewrite a decided approval or hold, cannot create staff or
change their role; the admin role can. Kiosk machines have no database login: a kiosk role left by an
earlier release is retired (NOLOGIN, nothing granted) and refused everything even if a DBA lets it in
again; ``teller kiosk`` runs on the host under the application role and refuses a narrower one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors as pgerr
from sqlalchemy import text

from teller_tui.audit.trail import Actor, AuditTrail, verify
from teller_tui.common.clock import FakeClock
from teller_tui.db import schema
from teller_tui.db.ddl import APPEND_ONLY_TABLES
from teller_tui.db.engine import make_database
from teller_tui.db.roles import STAFF_SELF_COLUMNS, grant_roles, grant_statements
from teller_tui.common.errors import PermissionDenied, StorageError, ValidationError
from teller_tui.ledger import AccountKind, EntryRequest, Ledger, credit, debit
from teller_tui.common.money import Money

APP_PW, ADMIN_PW, OWNER_PW = "app-Secret'1", "admin-Secret-3", "owner-Secret-0"
LEGACY_KIOSK_PW = "kiosk-Secret-2"
PROTECTED = sorted(APPEND_ONLY_TABLES)


def _owner_url(srv: Any) -> str:
    return str(srv.url("bank", user="bank_owner", password=OWNER_PW))


@pytest.fixture(scope="module")
def scram_bank() -> Any:
    """One scram server per module: ``bank`` owned by the non-superuser ``bank_owner`` (CREATEROLE),
    migrated and granted by it; a kiosk login as an earlier release made it, then retired."""
    import pgserver

    policy = pgserver.pg_policy()
    if policy == "off":
        pytest.skip("PostgreSQL tests are off (TELLER_TEST_PG=off)")
    try:
        srv = pgserver.PgServer(auth="scram").start()
    except pgserver.PgUnavailable as exc:
        pgserver.apply_policy(exc, policy)
    try:
        srv.execute(f"CREATE ROLE bank_owner LOGIN NOSUPERUSER CREATEROLE PASSWORD '{OWNER_PW}'")
        srv.create_database("bank", owner="bank_owner")
        owner = make_database(_owner_url(srv))
        schema.upgrade(owner)
        # What the previous release's `db grant --kiosk-role` left: a login reading customers' identity
        # data and PIN hashes, writing PIN counters and postings.
        srv.execute(f"CREATE ROLE teller_kiosk LOGIN PASSWORD '{LEGACY_KIOSK_PW}'")
        with srv.connect("bank", user="bank_owner", password=OWNER_PW) as conn:
            conn.execute("GRANT CONNECT ON DATABASE bank TO teller_kiosk")
            conn.execute("GRANT SELECT, UPDATE (pin_failed_attempts, pin_hash) ON customer TO teller_kiosk")
            conn.execute("GRANT SELECT, INSERT ON journal_entry, posting, audit_record TO teller_kiosk")
        report = grant_roles(owner, app_role="teller_app", admin_role="teller_admin", kiosk_role="teller_kiosk",
                             app_password=APP_PW, admin_password=ADMIN_PW)
        assert sorted(report.created) == ["teller_admin", "teller_app"]
        assert report.altered == ["teller_kiosk"]  # NOLOGIN now
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
            if s.execute(text("SELECT count(*) FROM ledger_account WHERE code = 'EQ'")).scalar():
                return  # another test of this module posted already
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


def _tables(srv: Any) -> list[str]:
    rows = srv.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", dbname="bank")
    return [r[0] for r in rows]


@pytest.mark.slow
@pytest.mark.postgres
def test_app_role_cannot_administer_staff_or_rewrite_compliance_records(scram_bank: Any) -> None:
    srv = scram_bank
    _post_as_app(srv)
    with srv.connect("bank", user="teller_admin", password=ADMIN_PW) as conn:  # the admin path
        conn.execute("INSERT INTO staff (username, display_name, role, branch_code, password_hash, "
                     "must_change_password, failed_attempts, disabled, created_at) "
                     "VALUES ('t9', 'T9', 'teller', 'B001', '', true, 0, false, now())")
        conn.execute("UPDATE staff SET role = 'supervisor' WHERE username = 't9'")
    with srv.connect("bank", user="teller_app", password=APP_PW) as conn:
        for sql in ("UPDATE staff SET role = 'admin'", "UPDATE staff SET disabled = false",
                    "UPDATE staff SET branch_code = 'B002'", "UPDATE staff SET username = 'x'",
                    "DELETE FROM staff", "TRUNCATE staff CASCADE",
                    "INSERT INTO staff (username, display_name, role, branch_code, created_at) "
                    "VALUES ('evil', 'E', 'admin', 'B001', now())"):
            with pytest.raises(pgerr.InsufficientPrivilege, match="permission denied"):
                conn.execute(sql)
        for column in STAFF_SELF_COLUMNS:  # what a person's own sign-in and enrolment write
            conn.execute(f"UPDATE staff SET {column} = {column} WHERE username = 't9'")
        for table in ("large_value_report", "drawer_event", "denomination_count"):
            for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}", f"TRUNCATE {table} CASCADE"):
                with pytest.raises(pgerr.InsufficientPrivilege, match="permission denied"):
                    conn.execute(sql)
        for table in _tables(srv):  # DELETE only on onboarding drafts
            if table != "onboarding_draft":
                with pytest.raises(pgerr.InsufficientPrivilege):
                    conn.execute(f"DELETE FROM {table} WHERE false")
        conn.execute("DELETE FROM onboarding_draft WHERE false")

        # An approval: forward moves only, the decision written once, never deleted.
        def approval(status: str) -> int:
            return int(conn.execute(
                "INSERT INTO approval_request (branch_code, kind, mode, status, request_hash, request_json, "
                "summary, rules_json, terminal, reason, expires_at, created_at) VALUES ('B001', 'cash_out', "
                "'remote', %s, 'h', '{}', 's', '[]', 'T01', '', now() + interval '1 hour', now()) RETURNING id",
                (status,)).fetchone()[0])

        t9 = conn.execute("SELECT id FROM staff WHERE username = 't9'").fetchone()[0]
        pending = approval("pending")
        conn.execute("UPDATE approval_request SET status = 'approved', approver_id = %s, decided_at = now(), "
                     "reason = 'ok' WHERE id = %s", (t9, pending))
        conn.execute("UPDATE approval_request SET status = 'consumed', consumed_at = now() WHERE id = %s", (pending,))
        entry = conn.execute("SELECT min(id) FROM journal_entry").fetchone()[0]
        conn.execute("UPDATE approval_request SET entry_id = %s WHERE id = %s", (entry, pending))
        rejected = approval("pending")
        conn.execute("UPDATE approval_request SET status = 'rejected', approver_id = %s, decided_at = now() "
                     "WHERE id = %s", (t9, rejected))
        for sql, rid in (("UPDATE approval_request SET status = 'approved' WHERE id = %s", rejected),
                         ("UPDATE approval_request SET status = 'pending' WHERE id = %s", pending),
                         ("UPDATE approval_request SET approver_id = NULL WHERE id = %s", pending),
                         ("UPDATE approval_request SET decided_at = now() - interval '1 day' WHERE id = %s", rejected),
                         ("UPDATE approval_request SET reason = 'rewritten' WHERE id = %s", rejected),
                         ("UPDATE approval_request SET entry_id = NULL WHERE id = %s", pending),
                         ("UPDATE approval_request SET request_hash = 'other' WHERE id = %s", pending),
                         ("UPDATE approval_request SET kind = 'reversal' WHERE id = %s", approval("pending")),
                         ("DELETE FROM approval_request WHERE id = %s", rejected)):
            with pytest.raises(pgerr.InsufficientPrivilege, match="approval_request|permission denied"):
                conn.execute(sql, (rid,))
        with pytest.raises(pgerr.InsufficientPrivilege):
            conn.execute("TRUNCATE approval_request CASCADE")

        # A hold: pending -> voided once; what is held never changes.
        w, dr = (conn.execute("SELECT id FROM ledger_account WHERE code = %s", (c,)).fetchone()[0] for c in ("W1", "DR"))

        def hold(key: str) -> int:
            return int(conn.execute(
                "INSERT INTO ledger_hold (idempotency_key, request_hash, request_json, kind, debit_account_id, "
                "credit_account_id, currency, amount, status, memo, terminal_id, created_at) VALUES "
                "(%s, 'h', '{}', 'cash_out', %s, %s, 'CNY', 100, 'pending', '', 'T01', now()) RETURNING id",
                (key, w, dr)).fetchone()[0])

        hid = hold("roles-hold-1")
        with pytest.raises(pgerr.InsufficientPrivilege, match="what is held"):
            conn.execute("UPDATE ledger_hold SET amount = 1, debit_account_id = %s WHERE id = %s", (dr, hid))
        conn.execute("UPDATE ledger_hold SET status = 'voided', resolved_at = now() WHERE id = %s", (hid,))
        for sql in ("UPDATE ledger_hold SET status = 'posted' WHERE id = %s",
                    "UPDATE ledger_hold SET resolved_at = NULL WHERE id = %s",
                    "DELETE FROM ledger_hold WHERE id = %s"):
            with pytest.raises(pgerr.InsufficientPrivilege):
                conn.execute(sql, (hid,))
    # The triggers bind the owner too (a second line under the grants).
    with srv.connect("bank", user="bank_owner", password=OWNER_PW) as conn:
        with pytest.raises(pgerr.InsufficientPrivilege, match="stays so"):
            conn.execute("UPDATE ledger_hold SET status = 'pending' WHERE id = %s", (hid,))
        with pytest.raises(pgerr.InsufficientPrivilege, match="never deleted"):
            conn.execute("DELETE FROM approval_request")


@pytest.mark.slow
@pytest.mark.postgres
def test_kiosk_role_has_no_login_and_no_rights(scram_bank: Any) -> None:
    srv = scram_bank
    _post_as_app(srv)
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        srv.connect("bank", user="teller_kiosk", password=LEGACY_KIOSK_PW)
    flags = srv.execute("SELECT rolcanlogin, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = 'teller_kiosk'")
    assert flags == [(False, False, False)]
    # Even if a DBA lets it log in again, it cannot connect (CONNECT is no longer PUBLIC's) ...
    srv.execute(f"ALTER ROLE teller_kiosk LOGIN PASSWORD '{LEGACY_KIOSK_PW}'")
    try:
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            srv.connect("bank", user="teller_kiosk", password=LEGACY_KIOSK_PW)
        # ... and granted CONNECT by mistake too, every table refuses every read and every write.
        srv.execute("GRANT CONNECT ON DATABASE bank TO teller_kiosk", dbname="bank")
        tables = _tables(srv)
        first = dict(srv.execute("SELECT table_name, column_name FROM information_schema.columns "
                                 "WHERE table_schema = 'public' AND ordinal_position = 1", dbname="bank"))
        assert {"customer", "staff", "wallet", "posting", "audit_record", "kiosk_guard"} <= set(tables)
        with srv.connect("bank", user="teller_kiosk", password=LEGACY_KIOSK_PW) as conn:
            for table in tables:
                for sql in (f"SELECT * FROM public.{table} LIMIT 1", f"INSERT INTO public.{table} DEFAULT VALUES",
                            f"UPDATE public.{table} SET {first[table]} = {first[table]}", f"DELETE FROM public.{table}",
                            f"TRUNCATE public.{table} CASCADE"):
                    with pytest.raises(pgerr.InsufficientPrivilege):
                        conn.execute(sql)
            with pytest.raises(pgerr.InsufficientPrivilege):
                conn.execute("SELECT public.teller_register_kiosk('kiosk-x', 'x', 'B001', now())")
            assert conn.execute("SELECT has_any_column_privilege('public.customer', 'SELECT')").fetchone()[0] is False
    finally:
        srv.execute("REVOKE CONNECT ON DATABASE bank FROM teller_kiosk", dbname="bank")
        srv.execute("ALTER ROLE teller_kiosk NOLOGIN PASSWORD NULL")


@pytest.mark.slow
@pytest.mark.postgres
def test_kiosk_runs_on_the_host_under_the_app_role(scram_bank: Any, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    from screens.cli import refuse_kiosk_only_role
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services

    srv = scram_bank
    monkeypatch.setenv("TELLER_HOME", str(tmp_path))
    monkeypatch.setenv("TELLER_DATABASE_URL", srv.url("bank", user="teller_app", password=APP_PW))
    settings = load_settings()
    refuse_kiosk_only_role(settings)  # the application role fits
    services = make_services(settings, box=SecretBox.ephemeral())
    try:
        actor = services.kiosk.ensure_identity("K07")  # recorded through teller_register_kiosk()
        assert actor.role == "kiosk" and actor.username == "kiosk-k07"
        assert services.kiosk.ensure_identity("K07").staff_id == actor.staff_id
    finally:
        services.close()
    row = srv.execute("SELECT role, password_hash, disabled FROM staff WHERE username = 'kiosk-k07'", dbname="bank")
    assert row == [("kiosk", "", False)]
    # The function records a kiosk and nothing else.
    with srv.connect("bank", user="teller_admin", password=ADMIN_PW) as conn:
        conn.execute("INSERT INTO staff (username, display_name, role, branch_code, password_hash, "
                     "must_change_password, failed_attempts, disabled, created_at) "
                     "VALUES ('kiosk-person', 'P', 'teller', 'B001', '', true, 0, false, now())")
    with srv.connect("bank", user="teller_app", password=APP_PW) as conn:
        with pytest.raises(pgerr.InvalidParameterValue, match="not a kiosk user name"):
            conn.execute("SELECT teller_register_kiosk('admin2', 'x', 'B001', now())")
        with pytest.raises(pgerr.InsufficientPrivilege, match="belongs to a person"):
            conn.execute("SELECT teller_register_kiosk('kiosk-person', 'x', 'B001', now())")
    # A narrower role (say, a kiosk-only login) is refused before the kiosk screen starts.
    srv.execute("CREATE ROLE narrow_kiosk LOGIN PASSWORD 'narrow-pw'")
    with srv.connect("bank", user="bank_owner", password=OWNER_PW) as conn:
        conn.execute("GRANT CONNECT ON DATABASE bank TO narrow_kiosk")
        conn.execute("GRANT SELECT ON alembic_version, wallet TO narrow_kiosk")
        conn.execute("GRANT INSERT ON journal_entry TO narrow_kiosk")
    from screens.cli import main as screens_main

    monkeypatch.setenv("TELLER_DATABASE_URL", srv.url("bank", user="narrow_kiosk", password="narrow-pw"))
    assert screens_main(["kiosk", "--terminal", "K08"]) == 1
    err = capsys.readouterr().err
    assert "narrow_kiosk is not the application role" in err and "teller serve" in err
    with pytest.raises(PermissionDenied, match="not the application role"):
        refuse_kiosk_only_role(load_settings())


@pytest.mark.slow
@pytest.mark.postgres
def test_grant_is_idempotent_for_a_plain_owner_and_sends_no_clear_password(
        scram_bank: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui.cli import main

    srv = scram_bank
    monkeypatch.setenv("TELLER_DATABASE_URL", _owner_url(srv))
    monkeypatch.setenv("NEW_APP_PW", "rotated-password")
    monkeypatch.setenv("ADMIN_PW", ADMIN_PW)
    for _round in range(2):  # re-running as the (non-superuser) owner changes nothing and fails nothing
        assert main(["db", "grant", "--app-role", "teller_app", "--app-password-env", "NEW_APP_PW",
                     "--admin-role", "teller_admin", "--admin-password-env", "ADMIN_PW",
                     "--kiosk-role", "teller_kiosk", "--show-sql"]) == 0
    out = capsys.readouterr().out
    assert "GRANT SELECT, INSERT ON posting TO teller_app;" in out and "Granted:" in out
    assert "rotated-password" not in out and ADMIN_PW not in out
    stored = srv.execute("SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('teller_app', 'teller_admin')")
    assert all(pw.startswith("SCRAM-SHA-256$4096:") for _name, pw in stored)
    with srv.connect("bank", user="teller_app", password="rotated-password") as conn:
        with pytest.raises(pgerr.InsufficientPrivilege):
            conn.execute("DELETE FROM journal_entry")
    assert main(["db", "grant", "--app-role", "Bad-Name"]) == 1
    assert "Role name" in capsys.readouterr().err
    monkeypatch.setenv("TELLER_DATABASE_URL", srv.url("bank", user="teller_app", password="rotated-password"))
    assert main(["db", "grant", "--app-role", "teller_app"]) == 1  # not the owner
    assert "schema owner" in capsys.readouterr().err

    # An owner without CREATEROLE (a DBA made the roles) re-grants; a password change it may not make
    # fails, and the statement the server logs carries the verifier, never the password.
    srv.execute("ALTER ROLE bank_owner NOCREATEROLE")
    try:
        monkeypatch.setenv("TELLER_DATABASE_URL", _owner_url(srv))
        for _round in range(2):
            assert main(["db", "grant", "--app-role", "teller_app", "--admin-role", "teller_admin",
                         "--kiosk-role", "teller_kiosk"]) == 0
        monkeypatch.setenv("NEW_APP_PW", "Clear-Text-Never-Logged-7")
        assert main(["db", "grant", "--app-role", "teller_app", "--app-password-env", "NEW_APP_PW"]) == 1
        err = capsys.readouterr().err
        assert "Clear-Text-Never-Logged-7" not in err
        log = srv.log_path.read_text(errors="replace")
        assert "ALTER ROLE teller_app" in log and "SCRAM-SHA-256$" in log
        assert "Clear-Text-Never-Logged-7" not in log and "rotated-password" not in log and ADMIN_PW not in log
    finally:
        srv.execute("ALTER ROLE bank_owner CREATEROLE")
    monkeypatch.setenv("NEW_APP_PW", APP_PW)  # rotate back for the other tests of this module
    assert main(["db", "grant", "--app-role", "teller_app", "--app-password-env", "NEW_APP_PW"]) == 0
    with srv.connect("bank", user="teller_app", password=APP_PW):
        pass


@pytest.mark.slow
@pytest.mark.postgres
def test_staff_commands_need_the_admin_role(scram_bank: Any, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    from teller_tui.cli import main

    srv = scram_bank
    monkeypatch.setenv("TELLER_HOME", str(tmp_path))
    monkeypatch.setenv("TELLER_DATABASE_URL", srv.url("bank", user="teller_app", password=APP_PW))
    assert main(["staff", "add", "mallory", "--role", "admin", "--name", "M"]) == 1
    assert "admin role" in capsys.readouterr().err
    monkeypatch.setenv("TELLER_DATABASE_URL", srv.url("bank", user="teller_admin", password=ADMIN_PW))
    assert main(["staff", "add", "alice", "--role", "supervisor", "--name", "Alice"]) == 0
    assert main(["staff", "disable", "alice"]) == 0
    assert srv.execute("SELECT role, disabled FROM staff WHERE username = 'alice'", dbname="bank") == [
        ("supervisor", True)]
    with srv.connect("bank", user="teller_admin", password=ADMIN_PW) as conn:
        with pytest.raises(pgerr.InsufficientPrivilege):  # administration, not the books
            conn.execute("DELETE FROM audit_record")


def test_grants_are_what_the_docs_say() -> None:
    cols = {t: {"id"} for t in ("posting", "journal_entry", "audit_record", "wallet", "alembic_version",
                                 "audit_head", "large_value_report", "approval_request", "onboarding_draft")}
    cols["staff"] = {"id", "role", "disabled", "password_hash", "failed_attempts", "totp_secret_enc"}
    cols["customer"] = {"id", "full_name", "pin_locked", "address"}
    stmts = grant_statements(columns=cols, sequences=["posting_id_seq", "audit_record_id_seq"], database="bank",
                             app_role="app", admin_role="adm", kiosk_role="kiosk")
    app = [s for s in stmts if s.endswith(" TO app") and s.startswith("GRANT ") and " ON SCHEMA" not in s]
    assert "GRANT SELECT, INSERT ON posting TO app" in app
    assert "GRANT SELECT, INSERT ON large_value_report TO app" in app
    assert "GRANT SELECT, INSERT, UPDATE ON wallet TO app" in app
    assert "GRANT SELECT, INSERT, UPDATE ON approval_request TO app" in app  # its trigger keeps it forward-only
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON onboarding_draft TO app" in app
    assert "GRANT SELECT ON alembic_version TO app" in app
    assert "GRANT UPDATE (password_hash, totp_secret_enc, failed_attempts) ON staff TO app" in app
    assert not any("staff" in s and ("INSERT" in s or " role" in s or "disabled" in s) for s in app)
    assert "GRANT INSERT, UPDATE ON staff TO adm" in stmts
    assert not any("TRUNCATE" in s or "ALL PRIVILEGES" in s for s in stmts)
    assert not [s for s in stmts if s.startswith("GRANT") and s.endswith(" TO kiosk")]
    assert "REVOKE ALL ON DATABASE \"bank\" FROM PUBLIC" in stmts
    assert not any(("UPDATE" in s or "DELETE" in s) and (" posting " in s or " journal_entry " in s
                                                          or " audit_record " in s) for s in stmts
                   if s.startswith("GRANT"))


def test_roles_refused_on_sqlite(db: Any) -> None:
    with pytest.raises(StorageError, match="PostgreSQL"):
        grant_roles(db, app_role="x")
    with pytest.raises(ValidationError):
        from teller_tui.db.roles import _check_name

        _check_name("x; DROP TABLE posting")
