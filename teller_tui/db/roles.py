"""PostgreSQL role separation: the database itself refuses what a role's job does not need.

The schema is owned by the role that runs ``teller db upgrade`` (the *owner*, not a superuser).
``teller db grant`` (:func:`grant_roles`) gives three kinds of role what they need and no more:

* the **application role** (teller terminals, ``teller serve``, ``teller kiosk`` on the host): reads
  and writes operational tables; only ``SELECT``/``INSERT`` on the books (journal entries, postings,
  audit records) and on compliance records that never change (large-value reports, drawer events and
  their denominations); ``UPDATE`` on approvals and holds, whose triggers (:mod:`teller_tui.db.guards`)
  let a status move only forward and a decision be written once; on ``staff`` only the columns a
  person's own sign-in changes (password, authenticator, failure counter, lock) -- never ``role``,
  ``branch_code``, ``disabled``, ``username``, never a new person; ``DELETE`` only on onboarding
  drafts; ``EXECUTE`` on ``teller_register_kiosk`` (a kiosk's own identity row); no ``TRUNCATE``.
* the **admin role** (``teller staff`` commands, run on the host by an administrator): the
  application role's privileges plus ``INSERT``/``UPDATE`` on ``staff`` (create people, change
  roles, disable).
* a **kiosk role** left by an earlier release: retired -- ``NOLOGIN``, every privilege revoked.
  Kiosk machines hold no database login; they are thin clients of the host (README "Kiosks").

Idempotent and runnable by a non-superuser owner: a role's attributes are read first and only
what differs is altered (a CREATEROLE owner may not even *mention* SUPERUSER/REPLICATION/BYPASSRLS);
creating a role or setting its password needs CREATEROLE, re-granting needs only ownership of the
tables. Passwords never travel in clear: libpq computes a SCRAM-SHA-256 verifier on this side and
only ``PASSWORD 'SCRAM-SHA-256$…'`` is sent (a failed statement logged by the server shows no
password). Run it after every ``teller db upgrade`` (new tables get no privileges until then).
SQLite has no roles: the command refuses with a clear message there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from teller_tui.common.errors import PermissionDenied, StorageError, ValidationError
from teller_tui.common.i18n import _
from teller_tui.db.ddl import APPEND_ONLY_TABLES
from teller_tui.db.guards import KIOSK_REGISTER_SIGNATURE

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from teller_tui.db.engine import Database

ROLE_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: Tables the application role may read and add to but never change: the books and the compliance
#: records written once (large-value reports, drawer events and their denomination counts).
APP_INSERT_ONLY = frozenset(APPEND_ONLY_TABLES) | frozenset({"large_value_report", "drawer_event",
                                                              "denomination_count"})
#: Tables the application role may only read (schema bookkeeping belongs to the owner).
APP_READ_ONLY = frozenset({"alembic_version"})
#: The only tables the application role may DELETE from (drafts a teller discards or that expire).
APP_DELETE = frozenset({"onboarding_draft"})
#: staff columns a person's own sign-in, password change and enrolment write (and a lockout lifted).
STAFF_SELF_COLUMNS = ("password_hash", "must_change_password", "password_changed_at", "totp_secret_enc",
                      "totp_pending_enc", "totp_last_step", "failed_attempts", "locked_until")
#: Tables whose UPDATEs a trigger limits to forward status moves (teller_tui/db/guards.py).
APP_GUARDED = frozenset({"approval_request", "ledger_hold"})

@dataclass
class GrantReport:
    database: str
    owner: str
    created: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    app_role: str | None = None
    admin_role: str | None = None
    kiosk_role: str | None = None
    statements: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"database {self.database} (owner {self.owner})"]
        if self.app_role:
            parts.append(f"app role {self.app_role}: read/write, INSERT/SELECT only on "
                         f"{', '.join(sorted(APP_INSERT_ONLY))}; staff: own sign-in columns only")
        if self.admin_role:
            parts.append(f"admin role {self.admin_role}: the app role's rights plus staff administration")
        if self.kiosk_role:
            parts.append(f"kiosk role {self.kiosk_role}: retired (NOLOGIN, no privileges; kiosks run on the host)")
        if self.created:
            parts.append("created " + ", ".join(self.created))
        if self.altered:
            parts.append("altered " + ", ".join(self.altered))
        return "; ".join(parts)


def _check_name(name: str) -> str:
    if not ROLE_NAME_RE.match(name):
        raise ValidationError(f"Role name {name!r}: use lower-case letters, digits and _ (max 63).",
                              code="role_name")
    return name


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scram_verifier(conn: Connection, role: str, password: str) -> str:
    """A SCRAM-SHA-256 verifier for ``password``, computed here by libpq (PQencryptPasswordConn):
    the clear password never reaches the server, its log or ``pg_stat_activity``."""
    if not password or "\x00" in password:
        raise ValidationError("A role password cannot be empty or contain NUL.", code="role_password")
    driver: Any = conn.connection.driver_connection
    verifier: str = driver.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    if not verifier.startswith("SCRAM-SHA-256$") or "'" in verifier:
        raise StorageError("libpq did not produce a SCRAM-SHA-256 verifier.", code="role_password")
    return verifier


def grant_statements(*, columns: Mapping[str, set[str]], sequences: Sequence[str], database: str,
                     app_role: str | None, admin_role: str | None = None,
                     kiosk_role: str | None = None) -> list[str]:
    """The GRANT/REVOKE statements for the given schema (``columns``: table -> its columns)."""
    db_ident = _ident(database)
    stmts = [f"REVOKE ALL ON DATABASE {db_ident} FROM PUBLIC",  # nobody connects without a grant
             "REVOKE CREATE ON SCHEMA public FROM PUBLIC"]
    table_set = set(columns)
    for role in filter(None, (app_role, admin_role, kiosk_role)):
        stmts += [
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
            f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {role}",
            f"REVOKE CREATE ON SCHEMA public FROM {role}",
        ]
    for role in filter(None, (app_role, admin_role)):
        stmts += [f"GRANT CONNECT ON DATABASE {db_ident} TO {role}",
                  f"GRANT USAGE ON SCHEMA public TO {role}"]
        for table in sorted(table_set):
            if table in APP_INSERT_ONLY:
                stmts.append(f"GRANT SELECT, INSERT ON {table} TO {role}")
            elif table in APP_READ_ONLY:
                stmts.append(f"GRANT SELECT ON {table} TO {role}")
            elif table == "staff":
                own = ", ".join(c for c in STAFF_SELF_COLUMNS if c in columns[table])
                stmts.append(f"GRANT SELECT ON staff TO {role}")
                if role == admin_role:
                    stmts.append(f"GRANT INSERT, UPDATE ON staff TO {role}")
                elif own:
                    stmts.append(f"GRANT UPDATE ({own}) ON staff TO {role}")
            else:
                privs = "SELECT, INSERT, UPDATE" + (", DELETE" if table in APP_DELETE else "")
                stmts.append(f"GRANT {privs} ON {table} TO {role}")
        if sequences:
            stmts.append(f"GRANT USAGE, SELECT ON SEQUENCE {', '.join(sorted(sequences))} TO {role}")
        if "staff" in table_set:
            stmts.append(f"GRANT EXECUTE ON FUNCTION {KIOSK_REGISTER_SIGNATURE} TO {role}")
    if kiosk_role:
        stmts += [f"REVOKE ALL ON DATABASE {db_ident} FROM {kiosk_role}",
                  f"REVOKE ALL ON SCHEMA public FROM {kiosk_role}"]
    return stmts


_ROLE_ATTRS = ("SELECT rolsuper, rolreplication, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin "
               "FROM pg_roles WHERE rolname = :r")


def _settle_role(conn: Connection, report: GrantReport, role: str, *, login: bool, password: str | None) -> None:
    """Create ``role`` or bring its attributes to what its job needs, altering only what differs."""
    row = conn.execute(text(_ROLE_ATTRS), {"r": role}).first()
    secret = f" PASSWORD '{scram_verifier(conn, role, password)}'" if password is not None else ""
    if row is None:
        conn.exec_driver_sql(f"CREATE ROLE {role} {'LOGIN' if login else 'NOLOGIN'}{secret}")
        report.created.append(role)
        return
    superuser, replication, bypassrls, createrole, createdb, canlogin = row
    if superuser or replication or bypassrls:
        raise ValidationError(f"Role {role} is a superuser or has REPLICATION/BYPASSRLS, which bypass grants; "
                              "a superuser must remove that first (ALTER ROLE … NOSUPERUSER NOREPLICATION "
                              "NOBYPASSRLS).", code="role_superuser")
    changes = [word for on, word in ((createrole, "NOCREATEROLE"), (createdb, "NOCREATEDB")) if on]
    if bool(canlogin) != login:
        changes.append("LOGIN" if login else "NOLOGIN")
    if changes or secret:
        conn.exec_driver_sql(f"ALTER ROLE {role} {' '.join(changes)}{secret}")
        report.altered.append(role)
    member_of = [r[0] for r in conn.execute(text(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = :r ORDER BY 1"), {"r": role})]
    if member_of:
        raise ValidationError(f"Role {role} is a member of {', '.join(member_of)} and would inherit its "
                              "rights; revoke that membership first.", code="role_member")


def grant_roles(db: Database, *, app_role: str | None, kiosk_role: str | None = None,
                admin_role: str | None = None, app_password: str | None = None,
                admin_password: str | None = None) -> GrantReport:
    """Create (if missing) and grant the application and admin roles; retire a kiosk role. Idempotent."""
    if db.dialect != "postgresql":
        raise StorageError("Database roles exist only on PostgreSQL; a SQLite branch is protected by its "
                           "append-only triggers and file permissions.", code="roles_sqlite")
    if not app_role and not kiosk_role and not admin_role:
        raise ValidationError("Name at least one role (--app-role, --admin-role, --kiosk-role).", code="role_name")
    app_role = _check_name(app_role) if app_role else None
    admin_role = _check_name(admin_role) if admin_role else None
    kiosk_role = _check_name(kiosk_role) if kiosk_role else None
    named = [r for r in (app_role, admin_role, kiosk_role) if r]
    if len(set(named)) != len(named):
        raise ValidationError("The application, admin and kiosk roles must differ.", code="role_name")
    with db.write_engine.begin() as conn:
        database, owner = conn.execute(text("SELECT current_database(), current_user")).one()
        if owner in named:
            raise ValidationError(f"Connect as the schema owner, not as {owner}.", code="role_owner")
        columns: dict[str, set[str]] = {}
        for table, column in conn.execute(text(
                "SELECT c.table_name, c.column_name FROM information_schema.columns c "
                "JOIN pg_tables t ON t.tablename = c.table_name AND t.schemaname = c.table_schema "
                "WHERE c.table_schema = 'public'")):
            columns.setdefault(table, set()).add(column)
        if "journal_entry" not in columns:
            raise StorageError("The database has no schema yet. Run `teller db upgrade` first.", code="no_schema")
        sequences = [r[0] for r in conn.execute(text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"))]
        report = GrantReport(database=database, owner=owner, app_role=app_role, admin_role=admin_role,
                             kiosk_role=kiosk_role)
        for role, password, login in ((app_role, app_password, True), (admin_role, admin_password, True),
                                      (kiosk_role, None, False)):
            if not role:
                continue
            _settle_role(conn, report, role, login=login, password=password)
            owned = conn.execute(text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = :r"),
                {"r": role}).scalar()
            if owned:
                raise ValidationError(f"Role {role} owns tables, so grants cannot restrict it; use a "
                                      "separate owner role for migrations.", code="role_owner")
        stmts = grant_statements(columns=columns, sequences=sequences, database=database, app_role=app_role,
                                 admin_role=admin_role, kiosk_role=kiosk_role)
        for sql in stmts:
            conn.exec_driver_sql(sql)
        report.statements = stmts
    return report


def check_kiosk_host_role(conn: Connection) -> None:
    """``teller kiosk`` runs on the branch host under the application role. Refuse any narrower role
    (a kiosk-only login from an earlier release): kiosk machines hold no database login at all."""
    if conn.dialect.name != "postgresql":
        return
    role, fits = conn.execute(text(
        "SELECT current_user, has_table_privilege('public.journal_entry', 'INSERT') "
        "AND has_table_privilege('public.wallet', 'UPDATE') "
        "AND has_column_privilege('public.staff', 'password_hash', 'SELECT') "
        f"AND has_function_privilege('{KIOSK_REGISTER_SIGNATURE}', 'EXECUTE')")).one()
    if not fits:
        raise PermissionDenied(_(
            "The database role {role} is not the application role. `teller kiosk` runs on the branch host "
            "under the application role; kiosk machines connect to the host over SSH or `teller serve` and "
            "hold no database login.").format(role=role), code="kiosk_db_role")
