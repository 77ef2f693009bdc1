"""``teller db upgrade|status|grant`` (backup/restore: commands.maintenance; standby/promote/replication:
commands.replication)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("db", help="database schema, roles, backups and standbys")
    dsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dsub.add_parser("upgrade", help="apply every pending migration")
    up.set_defaults(func=cmd_upgrade)
    st = dsub.add_parser("status", help="show the schema revision and the database location")
    st.set_defaults(func=cmd_status)
    gr = dsub.add_parser(
        "grant", help="PostgreSQL: create/grant the application and admin roles (run after every upgrade)",
        description="Connect as the schema owner (TELLER_DATABASE_URL; a plain role that owns the database and "
                    "its tables, not a superuser) and create or update the role the terminals use (read/write, "
                    "but only INSERT/SELECT on the books and compliance records, forward-only approvals and "
                    "holds, no staff administration) and the admin role `teller staff` runs as. "
                    "Idempotent. Creating a role or setting a password needs CREATEROLE (or let a DBA create "
                    "the roles once; re-granting then needs no CREATEROLE). Passwords are read from the "
                    "environment variables you name and sent only as SCRAM-SHA-256 verifiers.")
    gr.add_argument("--app-role", metavar="NAME", help="role for teller terminals, `teller serve` and `teller kiosk`")
    gr.add_argument("--admin-role", metavar="NAME", help="role for `teller staff` (staff administration)")
    gr.add_argument("--kiosk-role", metavar="NAME",
                    help="retire a kiosk login made by an earlier release: NOLOGIN, every privilege revoked "
                         "(kiosks hold no database login; they reach the host over SSH or `teller serve`)")
    gr.add_argument("--app-password-env", metavar="VAR", help="environment variable holding the app role's password")
    gr.add_argument("--admin-password-env", metavar="VAR",
                    help="environment variable holding the admin role's password")
    gr.add_argument("--show-sql", action="store_true", help="print the GRANT statements")
    gr.set_defaults(func=cmd_grant)
    from teller_tui.commands.maintenance import register_db_actions  # light: imports nothing of the core

    register_db_actions(dsub)
    from teller_tui.commands.replication import register_replication  # light: imports nothing of the core

    register_replication(dsub)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from teller_tui.db import schema
    from teller_tui.services import open_database
    from teller_tui.common.settings import load_settings

    settings = load_settings()
    database = open_database(settings, check_schema=False)
    before, after = schema.upgrade(database)
    where = database.display_url
    if before == after:
        print(f"Schema already current ({', '.join(sorted(after))}) at {where}")
    else:
        print(f"Upgraded {where}: {', '.join(sorted(before)) or 'empty'} -> {', '.join(sorted(after))}")
    from teller_tui.auth.staff import system_actor
    from teller_tui.services import make_services

    services = make_services(settings, database=database)
    report = services.kb.sync_shipped(system_actor(settings))
    print(f"Knowledge base: {report.added} added, {report.updated} updated, {report.conflicts} conflict(s) "
          "with local revisions (kept)")
    database.dispose()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from teller_tui.db import schema
    from teller_tui.services import open_database
    from teller_tui.common.settings import load_settings

    settings = load_settings()
    database = open_database(settings, check_schema=False)
    have, want = schema.current_heads(database), schema.script_heads()
    print(f"database: {database.display_url}")
    print(f"schema:   {', '.join(sorted(have)) or 'none'}")
    print(f"program:  {', '.join(sorted(want))}")
    print("status:   " + ("current" if have == want else "out of date: run `teller db upgrade`"))
    database.dispose()
    return 0 if have == want else 1


def cmd_grant(args: argparse.Namespace) -> int:
    import os

    from teller_tui.db.roles import grant_roles
    from teller_tui.common.errors import ValidationError
    from teller_tui.services import open_database
    from teller_tui.common.settings import load_settings

    def password(var: str | None) -> str | None:
        if not var:
            return None
        value = os.environ.get(var)
        if not value:
            raise ValidationError(f"The environment variable {var} is not set or empty.", code="role_password")
        return value

    settings = load_settings()
    database = open_database(settings, check_schema=True)
    try:
        report = grant_roles(database, app_role=args.app_role, admin_role=args.admin_role,
                             kiosk_role=args.kiosk_role, app_password=password(args.app_password_env),
                             admin_password=password(args.admin_password_env))
    finally:
        database.dispose()
    if args.show_sql:
        for sql in report.statements:
            print(sql + ";")
    print("Granted: " + report.summary())
    return 0
