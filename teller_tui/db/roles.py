"""PostgreSQL role separation: the database itself refuses to rewrite the books.

The schema is owned by the role that runs ``teller db upgrade`` (the *owner*). Terminals
connect as an *application role* that may read and write operational tables but may only
``SELECT`` and ``INSERT`` the append-only tables (journal entries, postings, audit records)
and may not ``TRUNCATE`` anything; the append-only triggers refuse ``UPDATE``/``DELETE`` as
a second line. A *kiosk role* gets only what a customer at a self-service kiosk may do:
read wallets and their history, update their own PIN counters, append audit records.

``grant_roles(db, app_role=..., kiosk_role=...)`` (``teller db grant``) is idempotent: it
creates missing roles, revokes everything they had on the schema and grants the sets below
again. Run it after every ``teller db upgrade`` (new tables get no privileges until then).
SQLite has no roles: the command refuses with a clear message there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text

from teller_tui.common.errors import StorageError, ValidationError
from teller_tui.db.ddl import APPEND_ONLY_TABLES

if TYPE_CHECKING:
    from teller_tui.db.engine import Database

ROLE_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: Tables the application role may read but never change after the fact.
APP_INSERT_ONLY = frozenset(APPEND_ONLY_TABLES)
#: Tables the application role may only read (schema bookkeeping belongs to the owner).
APP_READ_ONLY = frozenset({"alembic_version"})

#: What a customer at a kiosk may do (teller_tui/kiosk.py): sign in with a PIN (counters and
#: TOTP step on their customer row), read their wallets and history, transfer from their own
#: wallet (a ledger posting: INSERT entries/postings, UPDATE balance totals and the ledger head),
#: and append audit records. table -> privileges; ``VERB (col, …)`` is column-level.
#: Not granted: INSERT/UPDATE on staff, customer identity data, wallets, holds, drawers, vault,
#: approvals, notes, drafts, linked cards; DELETE/TRUNCATE anywhere; staff credential columns.
KIOSK_GRANTS: Mapping[str, Sequence[str]] = {
    "alembic_version": ("SELECT",),
    "staff": ("SELECT (id, username, display_name, role, branch_code, disabled, locked_until, "
              "must_change_password, created_at)",),
    "customer": ("SELECT", "UPDATE (pin_hash, pin_failed_attempts, pin_locked, totp_last_step)"),
    "wallet": ("SELECT",),
    "business_day": ("SELECT",),
    "ledger_account": ("SELECT", "UPDATE (debits_posted, credits_posted)"),
    "ledger_head": ("SELECT", "UPDATE"),
    # the branch's hash chain head moves with every entry (INSERT: a branch's first entry)
    "ledger_chain_head": ("SELECT", "INSERT", "UPDATE"),
    "journal_entry": ("SELECT", "INSERT"),
    "posting": ("SELECT", "INSERT"),
    "ledger_hold": ("SELECT",),
    "audit_record": ("SELECT", "INSERT"),
    "audit_head": ("SELECT", "UPDATE"),
    "kiosk_guard": ("SELECT", "INSERT", "UPDATE"),  # wrong-try counters (hashed numbers), teller_tui/kiosk/guard.py
}
#: Sequences the kiosk role may draw ids from (the tables it inserts into).
KIOSK_SEQUENCE_TABLES = ("journal_entry", "posting", "audit_record")


@dataclass
class GrantReport:
    database: str
    owner: str
    created: list[str] = field(default_factory=list)
    app_role: str | None = None
    kiosk_role: str | None = None
    statements: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"database {self.database} (owner {self.owner})"]
        if self.app_role:
            parts.append(f"app role {self.app_role}: read/write, INSERT/SELECT only on "
                         f"{', '.join(sorted(APP_INSERT_ONLY))}")
        if self.kiosk_role:
            parts.append(f"kiosk role {self.kiosk_role}: customer self-service only")
        if self.created:
            parts.append("created " + ", ".join(self.created))
        return "; ".join(parts)


def _check_name(name: str) -> str:
    if not ROLE_NAME_RE.match(name):
        raise ValidationError(f"Role name {name!r}: use lower-case letters, digits and _ (max 63).",
                              code="role_name")
    return name


def _literal(text: str) -> str:
    """A SQL string literal (standard_conforming_strings is on in every supported release)."""
    if "\x00" in text:
        raise ValidationError("A password cannot contain NUL", code="role_password")
    return "'" + text.replace("'", "''") + "'"


def _kiosk_statements(role: str, columns: Mapping[str, set[str]]) -> list[str]:
    """KIOSK_GRANTS for the tables that exist; column lists keep only existing columns."""
    out = []
    for table, privileges in KIOSK_GRANTS.items():
        if table not in columns:
            continue
        for priv in privileges:
            if "(" in priv:
                verb, cols = priv.split("(", 1)
                keep = [c.strip() for c in cols.rstrip(")").split(",") if c.strip() in columns[table]]
                if not keep:
                    continue
                priv = f"{verb.strip()} ({', '.join(keep)})"
            out.append(f"GRANT {priv} ON {table} TO {role}")
    return out


def grant_statements(*, columns: Mapping[str, set[str]], sequences: Sequence[str], database: str,
                     app_role: str | None, kiosk_role: str | None) -> list[str]:
    """The GRANT/REVOKE statements for the given schema (``columns``: table -> its columns)."""
    stmts: list[str] = []
    table_set = set(columns)
    for role in filter(None, (app_role, kiosk_role)):
        stmts += [
            f'GRANT CONNECT ON DATABASE "{database.replace(chr(34), chr(34) * 2)}" TO {role}',
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"REVOKE CREATE ON SCHEMA public FROM {role}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
        ]
    if app_role:
        for table in sorted(table_set):
            if table in APP_INSERT_ONLY:
                privs = "SELECT, INSERT"
            elif table in APP_READ_ONLY:
                privs = "SELECT"
            else:
                privs = "SELECT, INSERT, UPDATE, DELETE"
            stmts.append(f"GRANT {privs} ON {table} TO {app_role}")
        if sequences:
            stmts.append(f"GRANT USAGE, SELECT ON SEQUENCE {', '.join(sorted(sequences))} TO {app_role}")
    if kiosk_role:
        stmts += _kiosk_statements(kiosk_role, columns)
        seqs = sorted(q for q in sequences if any(q.startswith(t + "_id_") for t in KIOSK_SEQUENCE_TABLES))
        if seqs:
            stmts.append(f"GRANT USAGE, SELECT ON SEQUENCE {', '.join(seqs)} TO {kiosk_role}")
    return stmts


def grant_roles(db: Database, *, app_role: str | None, kiosk_role: str | None = None,
                app_password: str | None = None, kiosk_password: str | None = None,
                login: bool = True) -> GrantReport:
    """Create (if missing) and grant the application and kiosk roles. Idempotent."""
    if db.dialect != "postgresql":
        raise StorageError("Database roles exist only on PostgreSQL; a SQLite branch is protected by its "
                           "append-only triggers and file permissions.", code="roles_sqlite")
    if not app_role and not kiosk_role:
        raise ValidationError("Name at least one role (--app-role and/or --kiosk-role).", code="role_name")
    app_role = _check_name(app_role) if app_role else None
    kiosk_role = _check_name(kiosk_role) if kiosk_role else None
    if app_role and app_role == kiosk_role:
        raise ValidationError("The application and kiosk roles must differ.", code="role_name")
    with db.write_engine.begin() as conn:
        database, owner = conn.execute(text("SELECT current_database(), current_user")).one()
        if owner in (app_role, kiosk_role):
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
        report = GrantReport(database=database, owner=owner, app_role=app_role, kiosk_role=kiosk_role)
        for role, password in ((app_role, app_password), (kiosk_role, kiosk_password)):
            if not role:
                continue
            row = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"),
                               {"r": role}).first()
            attrs = ("LOGIN" if login else "NOLOGIN") + " NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
            if password is not None:
                attrs += f" PASSWORD {_literal(password)}"
            if row is None:
                conn.exec_driver_sql(f"CREATE ROLE {role} {attrs}")
                report.created.append(role)
            else:
                if row[0]:
                    raise ValidationError(f"Role {role} is a superuser; superusers bypass every grant.",
                                          code="role_superuser")
                conn.exec_driver_sql(f"ALTER ROLE {role} {attrs}")
            owned = conn.execute(text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = :r"),
                {"r": role}).scalar()
            if owned:
                raise ValidationError(f"Role {role} owns tables, so grants cannot restrict it; use a "
                                      "separate owner role for migrations.", code="role_owner")
        stmts = grant_statements(columns=columns, sequences=sequences, database=database,
                                 app_role=app_role, kiosk_role=kiosk_role)
        for sql in stmts:
            conn.exec_driver_sql(sql)
        report.statements = stmts
    return report
