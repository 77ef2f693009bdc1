"""Core ledger, audit and service behaviour on both backends (SQLite and PostgreSQL).

Every test here takes ``backend_db`` (or the module's ``db`` override) and therefore runs
twice: ``[sqlite]`` and ``[postgresql]``.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from backends import backend_db  # noqa: F401  (fixture)
from teller_tui.audit.trail import Actor, AuditTrail, verify
from teller_tui.common.clock import FakeClock
from teller_tui.common.errors import Conflict, LimitExceeded
from teller_tui.ledger import AccountKind, EntryRequest, HoldRequest, Leg, Ledger, credit, debit, trial_balance
from teller_tui.ledger.verify import verify_ledger
from teller_tui.common.money import Money

ACTOR = Actor(1, "teller1", "T01", "teller", "B001")


@pytest.fixture
def db(backend_db: Any) -> Any:  # desk_fixtures.desk and friends build on ``db``: run them on both
    return backend_db


def _accounts(db: Any, ledger: Ledger) -> dict[str, int]:
    with db.write() as s:
        ids = {
            "eq": ledger.open_account(s, code="EQ-B001", name="Equity", kind=AccountKind.EQUITY, branch_code="B001"),
            "drawer": ledger.open_account(s, code="DR-B001-01", name="Drawer", kind=AccountKind.DRAWER,
                                          branch_code="B001"),
        }
        for i in range(4):
            ids[f"w{i}"] = ledger.open_account(s, code=f"W-{i}", name=f"Wallet {i}", kind=AccountKind.WALLET,
                                               branch_code="B001")
    with db.write() as s:
        ledger.post(s, EntryRequest("open-drawer", "opening", (debit(ids["drawer"], Money.of("100000")),
                                                               credit(ids["eq"], Money.of("100000"))),
                                    None, "T01", "B001"))
    return ids


def _req(key: str, dr: int, cr: int, amount: int, kind: str = "transfer") -> EntryRequest:
    return EntryRequest(key, kind, (Leg(dr, amount), Leg(cr, -amount)), None, "T01", "B001")


def _assert_books_ok(db: Any) -> None:
    with db.read() as s:
        assert all(v == 0 for v in trial_balance(s).values())
        report = verify_ledger(s)
        assert report.ok, report.render()


def test_dialect_matches_param(backend_db: Any, request: pytest.FixtureRequest) -> None:
    assert backend_db.dialect == request.node.callspec.params["backend_db"]


def test_random_postings_keep_every_invariant(backend_db: Any) -> None:
    seed = random.randrange(1 << 30)
    print("seed", seed)
    rng = random.Random(seed)
    ledger = Ledger(FakeClock())
    ids = _accounts(backend_db, ledger)
    wallets = [ids[f"w{i}"] for i in range(4)]
    expected = {w: 0 for w in wallets}
    refused = 0
    for n in range(60):
        kind = rng.choice(["in", "out", "xfer"])
        amount = rng.randint(1, 50_000)
        a, b = rng.sample(wallets, 2)
        if kind == "in":
            req, delta = _req(f"k{n}", ids["drawer"], a, amount, "cash_in"), {a: amount}
        elif kind == "out":
            req, delta = _req(f"k{n}", a, ids["drawer"], amount, "cash_out"), {a: -amount}
        else:
            req, delta = _req(f"k{n}", a, b, amount), {a: -amount, b: amount}
        try:
            backend_db.write_retrying(lambda s, req=req: ledger.post(s, req))
        except LimitExceeded:
            refused += 1
            continue
        for w, d in delta.items():
            expected[w] += d
    with backend_db.read() as s:
        for w in wallets:
            bal = ledger.balance(s, w)
            assert bal.posted.minor == expected[w] >= 0
            total = s.execute(text("SELECT COALESCE(SUM(amount), 0) FROM posting WHERE account_id = :a"),
                              {"a": w}).scalar()
            assert -int(total) == expected[w]  # cached balance == sum of postings (credit-normal)
        seqs = [r[0] for r in s.execute(text("SELECT seq FROM journal_entry ORDER BY id"))]
        assert seqs == list(range(1, len(seqs) + 1))
    assert refused < 60
    _assert_books_ok(backend_db)


def test_idempotent_replay_and_conflict(backend_db: Any) -> None:
    ledger = Ledger(FakeClock())
    ids = _accounts(backend_db, ledger)
    req = _req("same-key", ids["drawer"], ids["w0"], 500, "cash_in")
    first = backend_db.write_retrying(lambda s: ledger.post(s, req))
    again = backend_db.write_retrying(lambda s: ledger.post(s, req))
    assert not first.replayed and again.replayed
    assert (again.entry_id, again.seq, again.reference) == (first.entry_id, first.seq, first.reference)
    with pytest.raises(Conflict) as err:
        backend_db.write_retrying(lambda s: ledger.post(s, _req("same-key", ids["drawer"], ids["w0"], 501, "cash_in")))
    assert "legs" in str(err.value)
    with backend_db.read() as s:
        found = ledger.entry_by_key(s, "same-key")
        assert found is not None and found.entry_id == first.entry_id and found.replayed
        assert ledger.entry_by_key(s, "never-used") is None
        assert ledger.balance(s, ids["w0"]).posted == Money(500)


def test_failed_multi_leg_entry_is_atomic(backend_db: Any) -> None:
    ledger = Ledger(FakeClock())
    ids = _accounts(backend_db, ledger)
    legs = (Leg(ids["drawer"], 300), Leg(ids["w0"], -300), Leg(ids["w1"], 100), Leg(ids["w2"], -100))
    with pytest.raises(LimitExceeded):  # w1 would go negative: nothing of the entry may remain
        backend_db.write_retrying(lambda s: ledger.post(s, EntryRequest("multi", "x", legs, None, "T01", "B001")))
    with backend_db.read() as s:
        assert s.execute(text("SELECT count(*) FROM journal_entry WHERE idempotency_key = 'multi'")).scalar() == 0
        assert ledger.balance(s, ids["w0"]).posted == Money(0)
    _assert_books_ok(backend_db)


def test_holds_post_void_expire(backend_db: Any) -> None:
    clock = FakeClock()
    ledger = Ledger(clock)
    ids = _accounts(backend_db, ledger)
    w, drawer = ids["w0"], ids["drawer"]
    backend_db.write_retrying(lambda s: ledger.post(s, _req("fund", drawer, w, 10_000, "cash_in")))

    def hold(key: str, amount: int, minutes: int = 30) -> Any:
        return backend_db.write_retrying(lambda s: ledger.create_hold(s, HoldRequest(
            key, "cash_out", w, drawer, Money(amount), None, "T01", expires_at=clock.now() + timedelta(minutes=minutes))))

    h1, h2, h3 = hold("h1", 4000), hold("h2", 3000), hold("h3", 2000, minutes=5)
    assert hold("h1", 4000).replayed
    with pytest.raises(LimitExceeded):
        hold("h4", 1001)  # 10,000 - 9,000 held
    with backend_db.read() as s:
        assert ledger.balance(s, w).available == Money(1000)
    posted = backend_db.write_retrying(lambda s: ledger.post_hold(s, h1.hold_id, idempotency_key="p1", actor_id=None,
                                                                 terminal_id="T01", branch_code="B001"))
    assert backend_db.write_retrying(lambda s: ledger.post_hold(
        s, h1.hold_id, idempotency_key="p1", actor_id=None, terminal_id="T01", branch_code="B001")).entry_id == \
        posted.entry_id
    backend_db.write_retrying(lambda s: ledger.void_hold(s, h2.hold_id))
    with pytest.raises(Conflict):
        backend_db.write_retrying(lambda s: ledger.post_hold(s, h2.hold_id, idempotency_key="p2", actor_id=None,
                                                            terminal_id="T01", branch_code="B001"))
    clock.advance(minutes=10)
    with pytest.raises(Conflict) as err:
        backend_db.write_retrying(lambda s: ledger.post_hold(s, h3.hold_id, idempotency_key="p3", actor_id=None,
                                                            terminal_id="T01", branch_code="B001"))
    assert err.value.code == "hold_expired"
    # The refused post_hold rolled its transaction back, so the sweeper releases the funds.
    assert backend_db.write_retrying(lambda s: ledger.expire_holds(s)) == [h3.hold_id]
    with backend_db.read() as s:
        bal = ledger.balance(s, w)
        assert bal.posted == Money(6000) and bal.held == Money(0)
        assert ledger.hold_status(s, h3.hold_id).status == "expired"
    _assert_books_ok(backend_db)


def test_reversal_once_and_replayed(backend_db: Any) -> None:
    ledger = Ledger(FakeClock())
    ids = _accounts(backend_db, ledger)
    first = backend_db.write_retrying(lambda s: ledger.post(s, _req("e1", ids["drawer"], ids["w0"], 700, "cash_in")))

    def rev(key: str) -> Any:
        return backend_db.write_retrying(lambda s: ledger.reverse(s, first.entry_id, idempotency_key=key,
                                                                 actor_id=None, terminal_id="T01"))

    r = rev("r1")
    assert r.reverses_entry_id == first.entry_id and rev("r1").replayed
    with pytest.raises(Conflict):
        rev("r2")
    with pytest.raises(Conflict):
        backend_db.write_retrying(lambda s: ledger.reverse(s, r.entry_id, idempotency_key="r3", actor_id=None,
                                                          terminal_id="T01"))
    with backend_db.read() as s:
        assert ledger.balance(s, ids["w0"]).posted == Money(0)
    _assert_books_ok(backend_db)


@pytest.mark.parametrize("table", ["posting", "journal_entry", "audit_record"])
def test_append_only_in_the_database(backend_db: Any, table: str) -> None:
    ledger = Ledger(FakeClock())
    ids = _accounts(backend_db, ledger)
    with backend_db.write() as s:
        AuditTrail(FakeClock()).append(s, ACTOR, "test")
    from sqlalchemy.exc import DBAPIError

    for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"):
            with backend_db.write() as s:
                s.execute(text(sql))
    assert ids  # the rows are still there:
    with backend_db.read() as s:
        assert s.execute(text(f"SELECT count(*) FROM {table}")).scalar() >= 1


def test_audit_chain_verifies(backend_db: Any) -> None:
    clock = FakeClock()
    trail = AuditTrail(clock)
    for i in range(25):
        with backend_db.write() as s:
            trail.append(s, ACTOR, "cash_in", subject=f"wallet:{i}", detail={"amount": f"{i}.00", "名": "王芳"})
        clock.advance(minutes=1)
    with backend_db.read() as s:
        result = verify(s)
        assert result.ok
        seq, head = AuditTrail.head(s)
        assert seq == 25 and verify(s, expect_head=head).ok
        assert not verify(s, expect_head="0" * 64).ok  # a truncated/rewound chain is detected


# -- services on both backends (desk_fixtures builds on the ``db`` override above) -------------
from desk_fixtures import Desk, desk  # noqa: E402,F401


def test_cash_service_in_out_transfer_reversal(desk: Desk) -> None:
    from teller_tui.desk.cash_types import new_idempotency_key as key

    a = desk.wallet(desk.customer("王芳"), 1)
    b = desk.wallet(desk.customer("李娜"), 1)
    k = key()
    r = desk.cash.cash_in(desk.teller, a, Money.of("1000"), "salary", idempotency_key=k)
    assert desk.cash.cash_in(desk.teller, a, Money.of("1000"), "salary", idempotency_key=k).replayed
    desk.cash.transfer(desk.teller, a, b, Money.of("250.50"), idempotency_key=key())
    out = desk.cash.cash_out(desk.teller, b, Money.of("50.50"), idempotency_key=key())
    assert out.new_balance == Money.of("200")
    with pytest.raises(LimitExceeded):
        desk.cash.cash_out(desk.teller, b, Money.of("200.01"), idempotency_key=key())
    assert r.reference
    with desk.db.read() as s:
        assert verify(s).ok
        assert all(v == 0 for v in trial_balance(s).values())
    _assert_books_ok(desk.db)


def test_commit_acknowledgement_lost_retry_finds_entry_by_key(backend_db: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection drops after COMMIT reached the server but before the client heard back:
    write_retrying retries with the same key and the ledger returns the entry, not a second one."""
    from contextlib import contextmanager

    from teller_tui.common.errors import DatabaseUnavailable

    ledger = Ledger(FakeClock())
    ids = _accounts(backend_db, ledger)
    real_write = type(backend_db).write
    lost = {"n": 0}

    @contextmanager
    def write_losing_first_ack(self: Any, scope: Any = None) -> Any:
        with real_write(self, scope) as s:
            yield s
        if lost["n"] == 0:  # committed; now the "network" fails
            lost["n"] += 1
            raise DatabaseUnavailable("The database cannot be reached.")

    monkeypatch.setattr(type(backend_db), "write", write_losing_first_ack)
    req = _req("in-flight", ids["drawer"], ids["w0"], 1234, "cash_in")
    result = backend_db.write_retrying(lambda s: ledger.post(s, req))
    assert lost["n"] == 1 and result.replayed and backend_db.reconnects == 1
    monkeypatch.undo()
    with backend_db.read() as s:
        assert s.execute(text("SELECT count(*) FROM journal_entry WHERE idempotency_key = 'in-flight'")).scalar() == 1
        assert ledger.balance(s, ids["w0"]).posted == Money(1234)
