"""PostgreSQL under contention and under a server restart.

* 16 connections (threads, each with its own Database = its own terminal) cash out of one
  wallet and transfer A→B / B→A at random: no deadlock or serialization failure reaches the
  caller, no update is lost, every invariant holds (ledger.verify). Run once through the
  ledger alone with writer serialization OFF (only the ledger's FOR UPDATE ordering), and once
  through CashService with the default engine.
* A restart ("fast", then "immediate") of a durable server during a posting storm: every
  acknowledged posting is present exactly once, nothing is partial, and the app recovers;
  re-posting an acknowledged key after the restart finds the original entry.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import text

from teller_tui.common.clock import FakeClock
from teller_tui.db import schema
from teller_tui.db.engine import make_database
from teller_tui.common.errors import LimitExceeded
from teller_tui.ledger import AccountKind, EntryRequest, Leg, Ledger, trial_balance
from teller_tui.ledger.verify import verify_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKERS = 16


def _setup_books(db: Any, ledger: Ledger, wallet_funds: dict[str, int]) -> dict[str, int]:
    def work(s: Any) -> dict[str, int]:
        ids = {"drawer": ledger.open_account(s, code="DR", name="Drawer", kind=AccountKind.DRAWER,
                                             branch_code="B001")}
        for name in wallet_funds:
            ids[name] = ledger.open_account(s, code=f"W-{name}", name=name, kind=AccountKind.WALLET,
                                            branch_code="B001")
        total = sum(wallet_funds.values())
        ledger.post(s, EntryRequest("fund", "cash_in", (Leg(ids["drawer"], total),
                                                        *(Leg(ids[n], -v) for n, v in wallet_funds.items())),
                                    None, "T01", "B001"))
        return ids

    return db.write_retrying(work)


def _check_books(db: Any) -> None:
    with db.read() as s:
        assert all(v == 0 for v in trial_balance(s).values())
        report = verify_ledger(s)
        assert report.ok, report.render()
        dup = s.execute(text("SELECT idempotency_key FROM journal_entry GROUP BY idempotency_key "
                             "HAVING count(*) > 1")).all()
        assert dup == []


def _run(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)


def test_ledger_contention_16_connections_no_deadlock_no_lost_update(pg_app_url: Any) -> None:
    """The ledger's own locking (head row, then accounts in id order), writer serialization off."""
    seed = random.randrange(1 << 30)
    print("seed", seed)
    setup = make_database(pg_app_url)
    ledger = Ledger(FakeClock())
    ids = _setup_books(setup, ledger, {"hot": 60_000, "a": 50_000, "b": 50_000})
    ops_per_worker = 8
    results: list[tuple[str, int, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(WORKERS)

    def worker(n: int) -> None:
        rng = random.Random(seed + n)
        db = make_database(pg_app_url, pool_size=1, serialize_writes=False)
        try:
            start.wait()
            for i in range(ops_per_worker):
                op = rng.choice(["out", "ab", "ba"])
                amount = rng.randint(1, 900)
                src, dst = {"out": ("hot", "drawer"), "ab": ("a", "b"), "ba": ("b", "a")}[op]
                # A wallet (credit-normal) pays out with a debit; mix leg order to vary lock requests.
                legs = [Leg(ids[src], amount), Leg(ids[dst], -amount)]
                rng.shuffle(legs)
                req = EntryRequest(f"w{n}-{i}", op, tuple(legs), None, f"T{n:02d}", "B001")
                try:
                    db.write_retrying(lambda s, req=req: ledger.post(s, req), attempts=20)
                except LimitExceeded:
                    continue
                with lock:
                    results.append((op, amount, req.idempotency_key))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            db.dispose()

    _run([threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)])
    assert errors == []
    sums = Counter()
    for op, amount, _key in results:
        sums[op] += amount
    with setup.read() as s:
        bal = {k: ledger.balance(s, ids[k]).posted.minor for k in ("hot", "a", "b")}
        keys = {r[0] for r in s.execute(text("SELECT idempotency_key FROM journal_entry WHERE idempotency_key LIKE 'w%'"))}
    assert keys == {r[2] for r in results}
    assert bal["hot"] == 60_000 - sums["out"] >= 0
    assert bal["a"] == 50_000 - sums["ab"] + sums["ba"]
    assert bal["b"] == 50_000 + sums["ab"] - sums["ba"]
    _check_books(setup)
    setup.dispose()


@pytest.fixture
def db(pg_app_url: Any) -> Any:  # desk_fixtures.desk builds on ``db``: one Database, 16+ pooled connections
    database = make_database(pg_app_url, pool_size=WORKERS + 2)
    yield database
    database.dispose()


from desk_fixtures import Desk, desk  # noqa: E402,F401


def test_cash_service_contention_16_terminals(desk: Desk) -> None:
    """The service path (tier checks, drawer, audit, receipts) with the default engine."""
    from teller_tui.audit.trail import verify
    from teller_tui.models import Wallet
    from teller_tui.common.money import Money

    seed = random.randrange(1 << 30)
    print("seed", seed)
    hot, a, b = (desk.wallet(desk.customer(n), 1) for n in ("王芳", "李娜", "张伟"))
    for w in (hot, a, b):
        desk.cash.cash_in(desk.teller, w, Money.of("3000"), idempotency_key=f"seed-{w}")
    done: list[tuple[str, Money]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(WORKERS)

    def worker(n: int) -> None:
        rng = random.Random(seed + n)
        teller = desk.teller if n % 2 else desk.teller2
        try:
            start.wait()
            for i in range(4):
                op = rng.choice(["out", "ab", "ba"])
                amount = Money(rng.randint(1, 30_000))
                key = f"svc-{n}-{i}"
                try:
                    if op == "out":
                        desk.cash.cash_out(teller, hot, amount, idempotency_key=key)
                    else:
                        src, dst = (a, b) if op == "ab" else (b, a)
                        desk.cash.transfer(teller, src, dst, amount, idempotency_key=key)
                except LimitExceeded:
                    continue
                with lock:
                    done.append((op, amount))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    _run([threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)])
    assert errors == [], errors[:3]
    total = {op: sum((m.minor for o, m in done if o == op), 0) for op in ("out", "ab", "ba")}
    with desk.db.read() as s:
        bal = {w: desk.ledger.balance(s, s.get(Wallet, w).account_id).posted.minor for w in (hot, a, b)}
        assert verify(s).ok
    assert bal[hot] == 300_000 - total["out"] >= 0
    assert bal[a] == 300_000 - total["ab"] + total["ba"]
    assert bal[b] == 300_000 + total["ab"] - total["ba"]
    assert len(done) > WORKERS  # contention really happened
    _check_books(desk.db)


def test_restart_during_posting_storm(pg_server_factory: Any) -> None:
    srv = pg_server_factory(durable=True)
    srv.create_database("bank")
    url = srv.url("bank")
    setup = make_database(url)
    schema.upgrade(setup)
    ledger = Ledger(FakeClock())
    ids = _setup_books(setup, ledger, {"a": 10_000_000, "b": 10_000_000})
    setup.dispose()

    workers, per_worker = 4, 16
    total = workers * per_worker
    acked: dict[str, int] = {}  # key -> entry id
    replays_after_restart: list[bool] = []
    errors: list[BaseException] = []
    cond = threading.Condition()
    restarted = [threading.Event(), threading.Event()]

    def worker(n: int) -> None:
        db = make_database(url, pool_size=1, reconnect_seconds=30)
        try:
            for i in range(per_worker):
                for mark, event in ((per_worker // 2, restarted[0]), (3 * per_worker // 4, restarted[1])):
                    if i == mark:
                        assert event.wait(60), "controller did not restart the server"
                        # The acknowledgement of the last posting may have been lost: retry it.
                        last = f"s{n}-{i - 1}"
                        res = db.write_retrying(lambda s, k=last: ledger.post(s, _storm_req(ids, k, n, i - 1)))
                        with cond:
                            replays_after_restart.append(res.replayed and res.entry_id == acked[last])
                key = f"s{n}-{i}"
                res = db.write_retrying(lambda s, k=key: ledger.post(s, _storm_req(ids, k, n, i)))
                with cond:
                    acked[key] = res.entry_id
                    cond.notify_all()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            with cond:
                cond.notify_all()
        finally:
            db.dispose()

    def controller() -> None:
        try:
            for threshold, event, mode in ((total // 4, restarted[0], "fast"), (total * 5 // 8, restarted[1],
                                                                                "immediate")):
                with cond:
                    assert cond.wait_for(lambda t=threshold: len(acked) >= t or errors, timeout=60)
                srv.restart(mode)
                event.set()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            for e in restarted:
                e.set()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    _run([*threads, threading.Thread(target=controller)])
    assert errors == [], errors[:3]
    assert len(acked) == total
    assert all(replays_after_restart) and len(replays_after_restart) == 2 * workers
    check = make_database(url)
    try:
        with check.read() as s:
            rows = dict(s.execute(text("SELECT idempotency_key, id FROM journal_entry WHERE idempotency_key LIKE 's%'"))
                        .all())
            counts = dict(s.execute(text("SELECT e.id, count(p.id) FROM journal_entry e JOIN posting p "
                                         "ON p.entry_id = e.id GROUP BY e.id")).all())
        assert rows == acked  # every acknowledged posting, once, with the id the worker saw
        assert all(counts[eid] == 2 for eid in rows.values())  # nothing partial
        _check_books(check)
        check.write_retrying(lambda s: ledger.post(s, _storm_req(ids, "after", 0, 0)))  # the app recovered
    finally:
        check.dispose()


def _storm_req(ids: dict[str, int], key: str, n: int, i: int) -> EntryRequest:
    amount = 1 + (n * 31 + i * 7) % 500
    src, dst = ("a", "b") if (n + i) % 2 else ("b", "a")
    return EntryRequest(key, "transfer", (Leg(ids[src], amount), Leg(ids[dst], -amount)), None, f"T{n}", "B001")
