"""``teller db standby|promote|replication``: PostgreSQL standbys for the DBA (README "A standby
that takes over"). The logic is :mod:`teller_tui.maintenance.replication`; these only parse and print.

Imports of the core stay inside the command functions (the parser is built on every start)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register_replication(dsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sb = dsub.add_parser(
        "standby", help="PostgreSQL: clone the primary into an empty directory as a named synchronous standby",
        description="Runs pg_basebackup -R -C -S NAME -X stream: the copy starts as a hot standby of PRIMARY "
                    "(standby.signal, primary_conninfo with application_name=NAME) and the primary keeps WAL for "
                    "it in the replication slot NAME. NAME must be listed in synchronous_standby_names. Run it "
                    "as the OS user that will run the server; start the server on the directory afterwards.")
    sb.add_argument("--primary", required=True, metavar="URL",
                    help="replication connection to the primary, e.g. postgresql://replicator@db1:5432/postgres "
                         "(password in ~/.pgpass; one in the URL goes to pg_basebackup in a temporary 0600 "
                         "PGPASSFILE, never on its command line)")
    sb.add_argument("--data-dir", required=True, type=Path, metavar="DIR", help="empty or absent directory")
    sb.add_argument("--name", required=True, metavar="NAME", help="standby name (db2, db3, …): application_name "
                                                                   "and replication slot")
    sb.add_argument("--bindir", type=Path, metavar="DIR", help="directory of pg_basebackup (default: PATH, then "
                                                               "/usr/lib/postgresql/*/bin)")
    sb.add_argument("--dry-run", action="store_true", help="print the pg_basebackup command, run nothing")
    sb.set_defaults(func=cmd_standby)
    pr = dsub.add_parser(
        "promote", help="PostgreSQL: promote the most advanced standby and point the others at it",
        description="Reads every standby's last received WAL position, promotes the furthest (with synchronous "
                    "quorum commit it holds every acknowledged posting), then re-points the other standbys "
                    "(primary_conninfo + reload) and gives the new primary their replication slots. Refused "
                    "while anything answers at a --fence URL (only a refused connection or a timeout counts as "
                    "down: a server answering even 'too many clients' or a password/pg_hba refusal is alive) "
                    "or any standby takes writes; refused while a listed standby cannot be read (it may hold "
                    "the last acknowledged postings). --fence is required unless --old-primary-is-stopped. "
                    "Terminals on a multi-host TELLER_DATABASE_URL follow by themselves. Needs a superuser "
                    "(or pg_promote and ALTER SYSTEM ON PARAMETER primary_conninfo granted).")
    pr.add_argument("--standby", action="append", required=True, metavar="URL",
                    help="a standby (repeat for each; list every one), e.g. postgresql://postgres@db2:5432/postgres")
    pr.add_argument("--fence", action="append", default=[], metavar="URL",
                    help="the old primary: the promotion is refused unless its connection is refused or times out")
    pr.add_argument("--old-primary-is-stopped", action="store_true",
                    help="instead of --fence: your statement that the old primary is stopped and cannot come back "
                         "(not checked; recorded in the output)")
    pr.add_argument("--accept-possible-loss", action="store_true",
                    help="promote although a listed standby cannot be read: postings acknowledged while only it "
                         "confirmed them are lost")
    pr.add_argument("--wait", type=int, default=60, metavar="S", help="seconds to wait for the promotion (60)")
    pr.set_defaults(func=cmd_promote)
    rp = dsub.add_parser(
        "replication", help="PostgreSQL: standbys streaming, quorum, lag; --check exits 1 on a problem (cron)",
        description="Lists the primary's standbys (name, state, sync state, replay lag) and the synchronous "
                    "quorum. With --check: one line per problem on standard error and exit status 1 — fewer "
                    "standbys than --standbys streaming, a quorum not met (postings waiting), or asynchronous "
                    "commit — so the host's alerting tells the supervisors before a second loss stops the "
                    "branches. Needs a role with pg_monitor.")
    rp.add_argument("--primary", required=True, metavar="URL",
                    help="the primary, or every node: postgresql://mon@db1,db2,db3/postgres?"
                         "target_session_attrs=read-write")
    rp.add_argument("--standbys", type=int, default=2, metavar="N", help="standbys expected (2)")
    rp.add_argument("--check", action="store_true", help="exit 1 with one line per problem")
    rp.set_defaults(func=cmd_replication)


def cmd_standby(args: argparse.Namespace) -> int:
    import os
    import shlex
    import subprocess

    from teller_tui.common.masks import mask_url
    from teller_tui.common.text import clean_text
    from teller_tui.common.errors import ValidationError
    from teller_tui.maintenance.replication import (basebackup_argv, basebackup_password, find_pg_tool,
                                                    password_env)

    if args.data_dir.exists() and any(args.data_dir.iterdir()):
        raise ValidationError(f"{args.data_dir} is not empty: a standby is cloned into an empty directory.",
                              code="pg_data_dir")
    argv = basebackup_argv(args.primary, args.data_dir, name=args.name, tool=find_pg_tool("pg_basebackup",
                                                                                          args.bindir))
    print(clean_text(shlex.join(mask_url(a) for a in argv)))
    if args.dry_run:
        return 0
    # The URL's password reaches pg_basebackup through a temporary 0600 PGPASSFILE, never its argv.
    with password_env(basebackup_password(args.primary), os.environ) as env:
        proc = subprocess.run(argv, check=False, env=env)
    if proc.returncode != 0:
        print(f"pg_basebackup failed (exit {proc.returncode}); nothing else was changed", file=sys.stderr)
        return 1
    print(f"Standby {args.name} cloned into {clean_text(str(args.data_dir))}. Start a server on it (e.g. pg_ctl -D "
          f"{clean_text(str(args.data_dir))} start); `teller db replication --primary …` then lists it as streaming.")
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    from teller_tui.common.text import clean_text
    from teller_tui.maintenance.replication import promote

    result = promote(args.standby, fence=args.fence, old_primary_stopped=args.old_primary_is_stopped,
                     accept_possible_loss=args.accept_possible_loss, wait_seconds=args.wait)
    print(f"Promoted {result.promoted} in {result.seconds:.1f} s (WAL position {result.position:X}).")
    for line in result.fenced:
        print(f"  old primary down: {clean_text(line)}")
    if result.stated_stopped:
        print("  old primary NOT checked: the operator stated it is stopped (--old-primary-is-stopped)")
    for url in result.repointed:
        print(f"  {url} now follows it")
    for line in result.unread:
        warning = (f"WARNING: possible loss accepted (--accept-possible-loss): {clean_text(line)}. Postings "
                   f"acknowledged while only that standby confirmed them are NOT on {result.promoted}; do not "
                   "rebuild it before comparing its journal with the new primary's.")
        print(warning)
        print(warning, file=sys.stderr)
    for url in result.skipped:
        print(f"  {url} could not be reached or re-pointed: rebuild it with `teller db standby`", file=sys.stderr)
    print("Terminals reconnect by themselves (multi-host TELLER_DATABASE_URL). Rebuild the old primary as a "
          "standby (`teller db standby`) to get the two-standby quorum back.")
    return 0


def cmd_replication(args: argparse.Namespace) -> int:
    from teller_tui.common.text import clean_text
    from teller_tui.maintenance.replication import replication_status

    status = replication_status(args.primary)
    print(f"primary: {clean_text(status.server)} (asked {status.url})")
    print(f"synchronous_standby_names: {clean_text(status.synchronous_standby_names) or '(none: asynchronous)'}"
          f"   synchronous_commit: {clean_text(status.synchronous_commit)}")
    for link in status.standbys:
        lag = "—" if link.replay_lag_ms is None else f"{link.replay_lag_ms:.0f} ms"
        print(f"  {clean_text(link.name):<12} {clean_text(link.state):<10} {clean_text(link.sync_state):<8} lag {lag}")
    for name, mib in status.idle_slots:
        print(f"  slot {clean_text(name)} unused, keeping {mib:,.1f} MiB of WAL")
    problems = status.problems(args.standbys)
    if not problems:
        print(f"ok: {status.confirming} synchronous standby(s) streaming, quorum {status.quorum}")
        return 0
    for problem in problems:
        print(f"replication: {problem}", file=sys.stderr)
    return 1 if args.check else 0
