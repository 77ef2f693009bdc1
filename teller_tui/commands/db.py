"""``teller db upgrade|status``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("db", help="database schema: upgrade, status")
    dsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dsub.add_parser("upgrade", help="apply every pending migration")
    up.set_defaults(func=cmd_upgrade)
    st = dsub.add_parser("status", help="show the schema revision and the database location")
    st.set_defaults(func=cmd_status)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from ..db import schema
    from ..services import open_database
    from ..settings import load_settings

    settings = load_settings()
    database = open_database(settings, check_schema=False)
    before, after = schema.upgrade(database)
    where = database.url.render_as_string(hide_password=True)
    if before == after:
        print(f"Schema already current ({', '.join(sorted(after))}) at {where}")
    else:
        print(f"Upgraded {where}: {', '.join(sorted(before)) or 'empty'} -> {', '.join(sorted(after))}")
    database.dispose()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from ..db import schema
    from ..services import open_database
    from ..settings import load_settings

    settings = load_settings()
    database = open_database(settings, check_schema=False)
    have, want = schema.current_heads(database), schema.script_heads()
    print(f"database: {database.url.render_as_string(hide_password=True)}")
    print(f"schema:   {', '.join(sorted(have)) or 'none'}")
    print(f"program:  {', '.join(sorted(want))}")
    print("status:   " + ("current" if have == want else "out of date: run `teller db upgrade`"))
    database.dispose()
    return 0 if have == want else 1
