"""A standby that takes over (issue 26): PostgreSQL streaming replication, synchronous commit
over a quorum of two standbys (``ANY 1 (db1, db2, db3)``), terminals on a multi-host URL.

* The storm: four terminal processes post transfers through the production write path on
  ``postgresql://…@db1,db2,db3/bank?target_session_attrs=read-write``; the primary's whole
  process group is SIGKILLed mid-storm; ``promote`` (``teller db promote``) picks the most
  advanced standby and re-points the other. Every acknowledged posting is on the new primary
  exactly once with the id the terminal saw, ``verify_ledger`` is clean, and every terminal
  posts again by itself (measured: promotion → its first acknowledged posting).
* A lost standby: one standby SIGKILLed, postings go on at once (the quorum holds) and
  ``teller db replication --check``'s problems name it; the negative control: with both
  standbys gone a COMMIT does not return (it is synchronous), and it completes once one
  standby is back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from pgserver import PgReplicaSet, PgStandby, kill_server
from teller_tui.common.clock import FakeClock
from teller_tui.db import schema
from teller_tui.db.engine import make_database
from teller_tui.ledger import AccountKind, EntryRequest, Leg, Ledger, trial_balance
from teller_tui.ledger.verify import verify_ledger
from teller_tui.common.errors import Conflict, DatabaseUnavailable
from teller_tui.maintenance.replication import promote, replication_status

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKER = Path(__file__).with_name("failover_worker.py")
ROOT = Path(__file__).resolve().parents[1]
TERMINALS = 4
#: The issue's requirement: terminals post again within 10 s of the promotion.
RECONNECT_LIMIT_S = 10.0


def _books(url: str) -> dict[str, int]:
    db = make_database(url)
    try:
        schema.upgrade(db)
        ledger = Ledger(FakeClock())

        def work(s: Any) -> dict[str, int]:
            ids = {"drawer": ledger.open_account(s, code="DR", name="Drawer", kind=AccountKind.DRAWER,
                                                 branch_code="B001")}
            for name in ("a", "b"):
                ids[name] = ledger.open_account(s, code=f"W-{name}", name=name, kind=AccountKind.WALLET,
                                                branch_code="B001")
            ledger.post(s, EntryRequest("fund", "cash_in", (Leg(ids["drawer"], 20_000_000), Leg(ids["a"], -10_000_000),
                                                            Leg(ids["b"], -10_000_000)), None, "T01", "B001"))
            return ids

        return db.write_retrying(work)
    finally:
        db.dispose()


def _read_lines(path: Path) -> list[dict[str, Any]]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in raw.splitlines() if line.endswith("}")]


def _acks(files: list[Path]) -> list[list[dict[str, Any]]]:
    return [[r for r in _read_lines(f) if "key" in r] for f in files]


def _wait(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def test_primary_killed_mid_storm_standby_promoted_nothing_lost(pg_replica_set: Any, tmp_path: Path) -> None:
    cluster: PgReplicaSet = pg_replica_set(standbys=2)
    cluster.primary.create_database("bank")
    url = cluster.url("bank")
    assert url.count(",") == 2 and "target_session_attrs=read-write" in url
    ids = _books(url)
    stop = tmp_path / "stop"
    files = [tmp_path / f"acks-{n}.jsonl" for n in range(TERMINALS)]
    procs = [subprocess.Popen([sys.executable, str(WORKER), url, str(n), str(files[n]), str(stop), json.dumps(ids)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for n in range(TERMINALS)]
    try:
        _wait(lambda: all(len(a) >= 25 for a in _acks(files)), 60, "25 postings from every terminal")
        t_kill = time.time()
        kill_server(cluster.primary)  # the host is gone: postmaster and backends at once
        acked_before = sum(len(a) for a in _acks(files))
        old, standbys = cluster.primary, cluster.nodes[1:]
        # The documented command, as the DBA runs it (its start-up time counts in the figures).
        cmd = [sys.executable, "-m", "teller_tui.cli", "db", "promote", "--fence", old.conninfo()]
        for s in standbys:
            cmd += ["--standby", s.conninfo()]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
        t_promoted = time.time()
        assert out.returncode == 0, out.stderr
        new = next(s for s in standbys if out.stdout.startswith(f"Promoted {s.conninfo()} "))
        other = next(s for s in standbys if s is not new)
        assert f"{other.conninfo()} now follows it" in out.stdout
        # Each terminal reconnects by itself (the URL lists every node) and posts again.
        _wait(lambda: all(any(r["t"] > t_promoted for r in a) for a in _acks(files)), 60,
              "every terminal to post on the promoted standby")
        cluster.wait_streaming(1, on=new, timeout=30)  # the other standby follows the new timeline
        _wait(lambda: sum(len(a) for a in _acks(files)) >= acked_before + 20 * TERMINALS, 60,
              "20 more postings per terminal after the promotion")
    finally:
        stop.touch()
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
    errors = [p.stderr.read() if p.stderr else "" for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    acks = _acks(files)
    reconnect = [min(r["t"] for r in a if r["t"] > t_promoted) - t_promoted for a in acks]
    last_before = max(r["t"] for a in acks for r in a if r["t"] < t_kill)
    print(f"\nfailover: kill → promoted (teller db promote, whole process) {t_promoted - t_kill:.2f}s; "
          f"terminals posting again {min(reconnect):.2f}–{max(reconnect):.2f}s after promotion; "
          f"last ack before kill {t_kill - last_before:.2f}s before it; "
          f"{sum(len(a) for a in acks)} acknowledged postings")

    acked = {r["key"]: r["id"] for a in acks for r in a}
    assert len(acked) == sum(len(a) for a in acks), "a key acknowledged twice"
    check = make_database(url)
    try:
        with check.read() as s:
            rows = dict(s.execute(text("SELECT idempotency_key, id FROM journal_entry WHERE idempotency_key LIKE 'w%'"))
                        .all())
            dup = s.execute(text("SELECT idempotency_key FROM journal_entry GROUP BY idempotency_key "
                                 "HAVING count(*) > 1")).all()
            legs = dict(s.execute(text("SELECT e.id, count(p.id) FROM journal_entry e JOIN posting p "
                                       "ON p.entry_id = e.id GROUP BY e.id")).all())
            assert all(v == 0 for v in trial_balance(s).values())
            report = verify_ledger(s)
        assert report.ok, report.render()
        missing = sorted(set(acked) - set(rows))
        assert missing == [], f"acknowledged postings lost in the failover: {missing[:10]}"
        assert {k: rows[k] for k in acked} == acked  # the same entry the terminal was told
        assert dup == []
        assert all(legs[eid] == 2 for eid in rows.values())  # nothing partial
        assert check.write_engine.dialect.name == "postgresql"
        with check.write_engine.connect() as conn:  # the terminals' URL now lands on the promoted node
            assert int(conn.execute(text("SELECT inet_server_port()")).scalar_one()) == new.port
    finally:
        check.dispose()
    status = replication_status(new.conninfo())
    assert status.confirming == 1 and [s.name for s in status.standbys] == [other.name]
    assert any("one more loss" in p for p in status.problems())
    assert max(reconnect) < RECONNECT_LIMIT_S, reconnect


def test_lost_standby_does_not_stop_posting_losing_both_does(pg_replica_set: Any) -> None:
    cluster: PgReplicaSet = pg_replica_set(standbys=2)
    cluster.primary.create_database("bank")
    url = cluster.url("bank")
    ids = _books(url)
    ledger = Ledger(FakeClock())
    db = make_database(url, pool_size=2, reconnect_seconds=30)

    def post(key: str) -> float:
        t0 = time.monotonic()
        db.write_retrying(lambda s: ledger.post(s, EntryRequest(key, "transfer", (Leg(ids["a"], 100),
                                                                                   Leg(ids["b"], -100)),
                                                                None, "T01", "B001")))
        return time.monotonic() - t0

    try:
        status = replication_status(cluster.primary.conninfo())
        assert status.quorum == 1 and status.confirming == 2 and status.problems() == []
        db2, db3 = cluster.nodes[1], cluster.nodes[2]
        assert isinstance(db2, PgStandby) and isinstance(db3, PgStandby)
        db2.kill()
        times = [post(f"one-lost-{i}") for i in range(20)]
        assert max(times) < 2.0, times  # the quorum holds: no COMMIT waits for the lost standby
        _wait(lambda: replication_status(cluster.primary.conninfo()).confirming == 1, 10, "db2 to drop out")
        lost = replication_status(cluster.primary.conninfo())
        problems = lost.problems()
        assert len(problems) == 1 and "one more loss stops postings" in problems[0], problems
        assert [n for n, _mib in lost.idle_slots] == ["db2"]  # its slot keeps WAL for it ...
        assert "slot db2 is unused" in lost.problems(max_idle_slot_mib=0)[-1]  # ... and says so past the limit
        # What the host's alerting runs (cron): exit 1 and the problem on standard error.
        out = subprocess.run([sys.executable, "-m", "teller_tui.cli", "db", "replication", "--check", "--primary",
                              cluster.url("postgres").replace("postgresql+psycopg", "postgresql")],
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert out.returncode == 1 and "1 of 2 standbys streaming" in out.stderr, (out.stdout, out.stderr)
        assert out.stdout.startswith(f"primary: 127.0.0.1:{cluster.primary.port} ")
        listed = [line.split()[0] for line in out.stdout.splitlines() if line.startswith("  ")]
        assert listed == ["db3", "slot"] and "slot db2 unused" in out.stdout, out.stdout

        # Negative control: the commit really is synchronous. With both standbys gone it waits.
        db3.kill()
        done = threading.Event()
        waited: list[float] = []
        th = threading.Thread(target=lambda: (waited.append(post("both-lost")), done.set()), daemon=True)
        th.start()
        assert not done.wait(2.0), "a COMMIT returned with no standby to confirm it"
        assert any("postings are waiting" in p for p in replication_status(cluster.primary.conninfo()).problems())
        db3.relaunch()  # one standby back: the waiting COMMIT is confirmed and returns
        assert done.wait(30), "the COMMIT did not return once a standby came back"
        with db.read() as s:
            n = s.execute(text("SELECT count(*) FROM journal_entry WHERE idempotency_key = 'both-lost'")).scalar_one()
        assert n == 1
        assert post("after") < 2.0
    finally:
        db.dispose()


def test_promote_picks_the_standby_holding_every_acknowledged_posting(pg_replica_set: Any) -> None:
    """``ANY 1`` puts an acknowledged COMMIT on at least one standby, not on a given one: db3 is cut off
    from the primary (its walreceiver pointed nowhere), postings go on confirmed by db2 alone, the
    primary dies, and ``promote`` — given db3 first — promotes db2. Refused while the primary answers."""
    cluster: PgReplicaSet = pg_replica_set(standbys=2)
    cluster.primary.create_database("bank")
    url = cluster.url("bank")
    ids = _books(url)
    db1, db2, db3 = cluster.nodes
    with pytest.raises(Conflict) as refused:
        promote([db3.conninfo(), db2.conninfo()], fence=[db1.conninfo()])
    assert refused.value.code == "pg_not_fenced"
    db3.execute("ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1 application_name=db3'")
    db3.execute("SELECT pg_reload_conf()")
    _wait(lambda: [r[0] for r in db1.execute("SELECT application_name FROM pg_stat_replication")] == ["db2"], 20,
          "db3 to stop streaming")
    ledger = Ledger(FakeClock())
    db = make_database(url, pool_size=1)
    try:
        for i in range(5):
            db.write_retrying(lambda s, k=f"late-{i}": ledger.post(s, EntryRequest(
                k, "transfer", (Leg(ids["a"], 5), Leg(ids["b"], -5)), None, "T01", "B001")))
    finally:
        db.dispose()
    kill_server(db1)
    result = promote([db3.conninfo(), db2.conninfo()], fence=[db1.conninfo()])
    assert result.promoted == db2.conninfo() and result.repointed == (db3.conninfo(),)
    n = db2.execute("SELECT count(*) FROM journal_entry WHERE idempotency_key LIKE 'late-%'", dbname="bank")[0][0]
    assert n == 5
    cluster.wait_streaming(1, on=db2, timeout=30)  # db3, re-pointed at db2, catches up on the new timeline


def test_reports_read_from_the_standby_postings_go_to_the_primary(pg_replica_set: Any, tmp_path: Path) -> None:
    """``TELLER_READ_DATABASE_URL``: analytics (the promotion dashboard, ``teller report promotion``)
    reads the hot standby; every write, and every other read, stays on the primary; unset, analytics
    shares the primary's Database."""
    from datetime import date

    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.auth.staff import system_actor
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services

    cluster: PgReplicaSet = pg_replica_set(standbys=1)
    cluster.primary.create_database("bank")
    url = cluster.url("bank")
    _books(url)
    standby = cluster.nodes[1]
    # The read URL lists every node, primary first: prefer-standby (added for the read URL) picks the standby.
    read_url = url.split("?")[0].replace("postgresql+psycopg", "postgresql")
    settings = load_settings(home=tmp_path, database_url=url, read_database_url=read_url)
    services = make_services(settings, box=SecretBox.ephemeral())
    try:
        assert services.read_db is not services.db
        with services.read_db.read() as s:
            assert s.execute(text("SELECT pg_is_in_recovery(), inet_server_port()")).one() == (True, standby.port)
        with services.db.read() as s:
            assert s.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is False
        report = services.analytics.promotion(system_actor(settings), date(2026, 11, 1), date(2026, 11, 30))
        assert report is not None
    finally:
        services.close()
    plain = make_services(load_settings(home=tmp_path, database_url=url), box=SecretBox.ephemeral())
    try:
        assert plain.read_db is plain.db
    finally:
        plain.close()
    # A report standby that is down does not stop the terminal from starting; only the report waits.
    down = load_settings(home=tmp_path, database_url=url, read_database_url="postgresql://postgres@127.0.0.1:1/bank")
    services = make_services(down, box=SecretBox.ephemeral())
    try:
        with pytest.raises(DatabaseUnavailable):
            services.analytics.promotion(system_actor(down), date(2026, 11, 1), date(2026, 11, 30))
        with services.db.read() as s:
            assert s.execute(text("SELECT count(*) FROM journal_entry")).scalar_one() >= 1
    finally:
        services.close()
