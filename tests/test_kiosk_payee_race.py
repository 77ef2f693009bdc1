"""The kiosk payee race (fixed in ``teller_tui/kiosk/transfer_scope.py``): real threads, real services,
both databases.

A kiosk transfer typed to a phone number finds the payee's wallet twice: once before its locks, in its
scope function (to know which customer's key to take), and again under the locks. If the number moved
to another customer in between, the payee found under the locks is one whose key the transfer does not
hold. The fix: :func:`~teller_tui.kiosk.transfer_scope.require_payee` takes that customer's (and
branch's) keys before anything reads the payee's balance or limits; held elsewhere, the transaction
is retried with them taken up front.

The scenario, ordered by listeners on each terminal's engine (no sleeps decide it):

1. kiosk K01 (branch B001) starts ``transfer(W1 -> phone P, 1,000.00)``; its scope function finds P
   on customer A, and it pauses just before taking its keys;
2. P moves from A to customer B (whose wallet WB holds 8,500.00 of its 10,000.00 cap);
3. kiosk K02 (branch B002) transfers 1,000.00 into WB by wallet number, holding B's and B002's keys;
   it pauses after its limit checks, before its first row lock (the ledger head);
4. K01 goes on: under its keys P is now B's. With the fix it asks for B's keys, finds them held and
   is retried with them, so it waits for K02, then finds WB at 9,500.00 and is refused
   (``tier_balance_cap``). K02 goes on as soon as K01 has either passed its checks or been retried.

Without the check (``Database.scope_guard`` off: the keys taken up front but nothing required under
them) or with the keys off altogether (``Database.scope_locks``), K01 checks WB's cap while K02 is
between its check and its posting: both pass and WB ends at 10,500.00, over its cap. These negative
controls show the test can fail. SQLite: ``BEGIN IMMEDIATE`` runs one writer at a time (no key is
taken, the listeners never pause); the same transfers at once keep the cap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from teller_tui.audit.trail import Actor
from teller_tui.auth.passwords import hash_pin, test_parameters
from teller_tui.branch.setup import open_drawer_for_setup
from teller_tui.common.clock import FakeClock
from teller_tui.common.errors import DomainError
from teller_tui.common.money import Money
from teller_tui.common.settings import load_settings
from teller_tui.db.engine import make_database
from teller_tui.ledger.verify import verify_ledger
from teller_tui.models import Customer, Staff
from teller_tui.services import Services, make_services

pytestmark = pytest.mark.slow

TIER, CAP = 4, 1_000_000  # class 4: 10,000.00
AMOUNT = 100_000  # 1,000.00: within the kiosk's per-transfer and daily limits
PIN = "258036"
PHONE = "13800000001"  # the payee's number, which moves from A to B
START = datetime.fromisoformat("2026-03-02T01:00:00+00:00")  # 09:00 in Shanghai
WAIT = 60.0  # a safety net only: every step is signalled


@dataclass
class Terminal:
    """One branch's services on their own Database (its engine, its flags, its listeners)."""

    services: Services
    kiosk: Actor
    teller: Actor
    events: dict[str, threading.Event] = field(default_factory=dict)


def _terminal(url: str, home: Path, branch: str, kiosk: str, clock: FakeClock, *, locks: bool,
              guard: bool) -> Terminal:
    db = make_database(url)
    db.scope_locks, db.scope_guard = locks, guard
    settings = load_settings(home=home, locale="en", database_url=url, counter_consent=False, branch_code=branch,
                             terminal_id=kiosk, kiosk_min_response_seconds=0, kiosk_attempts_per_minute=1000)
    services = make_services(settings, database=db, clock=clock)
    with db.write() as s:
        row = Staff(username=f"t{branch.lower()}", display_name=branch, role="teller", branch_code=branch,
                    created_at=clock.now())
        s.add(row)
        s.flush()
        teller = Actor(row.id, row.username, f"T{row.id:02d}", "teller", branch)
    open_drawer_for_setup(services, teller, Money.of("100000"))
    return Terminal(services, services.kiosk.ensure_identity(kiosk), teller)


def _customer(t: Terminal, no: str, phone: str, funds: int) -> int:
    with t.services.cash.db.write() as s:
        c = Customer(customer_no=no, full_name=f"客户{no}", name_latin=f"c {no}", phone=phone,
                     branch_code=t.teller.branch_code, created_at=t.services.clock.now(), pin_hash=hash_pin(PIN))
        s.add(c)
        s.flush()
        cid = int(c.id or 0)
    wid = t.services.wallets.open_wallet_now(t.teller, cid, TIER).wallet_id
    t.services.cash.cash_in(t.teller, wid, Money(funds), idempotency_key=f"setup-{no}")
    return wid


def _listen(t: Terminal, name: str, *, pause_at: str, signal: str, wait_for: str, count: str | None = None) -> None:
    """On this terminal's write engine, while ``name`` is armed: the first statement containing
    ``pause_at`` sets ``signal`` and waits for ``wait_for``; ``count`` counts the statements that
    contain it (each write attempt's lock statement)."""
    ev = t.events
    for key in (signal, wait_for, "armed"):
        ev.setdefault(key, threading.Event())
    seen = {"paused": False, "count": 0}

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not ev["armed"].is_set() or threading.current_thread().name != name:
            return
        if count and count in statement:
            seen["count"] += 1
            t.events.setdefault(f"{name}:attempt{seen['count']}", threading.Event()).set()
        if pause_at in statement and not seen["paused"]:
            seen["paused"] = True
            ev[signal].set()
            assert ev[wait_for].wait(WAIT), f"{name}: no {wait_for}"

    event.listen(t.services.cash.db.write_engine, "before_cursor_execute", before)


def _race(url: str, tmp_path: Path, *, locks: bool = True, guard: bool = True) -> dict[str, Any]:
    home = tmp_path / "home"
    clock = FakeClock(START)
    with test_parameters():
        k1 = _terminal(url, home, "B001", "K01", clock, locks=locks, guard=guard)
        k2 = _terminal(url, home, "B002", "K02", clock, locks=locks, guard=guard)
        w1 = _customer(k1, "C1000001", "13900010001", 600_000)  # K01's payer
        wa = _customer(k1, "C1000002", PHONE, 100_000)  # A: the number's owner when K01 starts
        w2 = _customer(k2, "C2000001", "13900020001", 600_000)  # K02's payer
        wb = _customer(k2, "C2000002", "13800000002", CAP - 150_000)  # B: room for one 1,000.00, not two
        s1 = k1.services.kiosk.sign_in(k1.kiosk, "13900010001", PIN)
        s2 = k2.services.kiosk.sign_in(k2.kiosk, "13900020001", PIN)
    with k2.services.cash.db.read() as s:
        wb_number = s.execute(text("SELECT number FROM wallet WHERE id = :i"), {"i": wb}).scalar_one()
    shared = k1.events  # one set of events for both terminals
    k2.events = shared
    # K01: pauses before its keys (after its scope function found the payee); tells when it passed its
    # checks (its first row lock) or was retried (its second lock statement).
    _listen(k1, "k01", pause_at="pg_advisory_xact_lock_shared", signal="k01_scoped", wait_for="moved",
            count="pg_advisory_xact_lock_shared")
    _listen(k1, "k01", pause_at="FOR UPDATE", signal="k01_checked", wait_for="never_needed_set")
    shared["never_needed_set"].set()
    # K02: pauses after its checks, before its first row lock, until K01 has passed its checks or retried.
    _listen(k2, "k02", pause_at="FOR UPDATE", signal="k02_checked", wait_for="k01_decided")
    results: dict[str, Any] = {}

    def go(t: Terminal, session: Any, wallet: int, payee: str, key: str) -> None:
        name = threading.current_thread().name
        try:
            t.services.kiosk.transfer(t.kiosk, session, wallet, payee, Money(AMOUNT), idempotency_key=key)
            results[name] = "posted"
        except DomainError as exc:
            results[name] = exc.code
        except Exception as exc:  # noqa: BLE001 - reported: the test fails on it
            results[name] = f"error:{type(exc).__name__}:{exc}"
        finally:
            shared.setdefault(f"{name}_done", threading.Event()).set()

    def decided() -> None:  # K02 goes on once K01 passed its checks or is waiting for the keys it needs
        while not (shared["k01_checked"].is_set() or shared.get("k01:attempt2", threading.Event()).is_set()
                   or shared.get("k01_done", threading.Event()).is_set()):
            shared["k01_checked"].wait(0.01)
        shared["k01_decided"].set()

    pg = url.startswith("postgresql")
    for key in ("k01_done", "k02_done", "k01_decided"):
        shared.setdefault(key, threading.Event())
    shared["armed"].set()
    t1 = threading.Thread(target=go, name="k01", args=(k1, s1, w1, PHONE, "race-k01"))
    t2 = threading.Thread(target=go, name="k02", args=(k2, s2, w2, wb_number, "race-k02"))
    watcher = threading.Thread(target=decided, name="watcher", daemon=True)
    watcher.start()
    if pg:
        t1.start()
        assert shared["k01_scoped"].wait(WAIT)  # 1. K01 found A by the number, holds no key yet
    with k1.services.cash.db.write() as s:  # 2. the number moves to B
        s.execute(text("UPDATE customer SET phone = '13800000009' WHERE phone = :p"), {"p": PHONE})
        s.execute(text("UPDATE customer SET phone = :p WHERE phone = '13800000002'"), {"p": PHONE})
    if pg:
        t2.start()
        assert shared["k02_checked"].wait(WAIT)  # 3. K02 between its checks and its posting
        shared["moved"].set()  # 4. K01 goes on
    else:  # one writer at a time: the two transfers at once, in whichever order the writers' line gives
        shared["moved"].set()
        t1.start()
        t2.start()
    t1.join(WAIT)
    t2.join(WAIT)
    assert not t1.is_alive() and not t2.is_alive(), results
    attempts = sum(1 for k in shared if k.startswith("k01:attempt"))
    db = make_database(url)
    try:
        with db.read() as s:
            balances = {int(r[0]): int(r[1]) for r in s.execute(text(
                "SELECT w.id, a.credits_posted - a.debits_posted FROM wallet w "
                "JOIN ledger_account a ON a.id = w.account_id")).all()}
            report = verify_ledger(s)
    finally:
        db.dispose()
        k1.services.close()
        k2.services.close()
    assert report.ok, report.render()
    return {"results": results, "balances": balances, "wa": wa, "wb": wb, "attempts": attempts,
            "w1": w1, "w2": w2}


def _assert_kept(out: dict[str, Any], *, pg: bool) -> None:
    r, bal = out["results"], out["balances"]
    assert sorted(r.values()) == ["posted", "tier_balance_cap"], r  # one fits under B's cap, not both
    if pg:  # K02 held B's keys first: K01, paying B (the number's owner now), found its cap used
        assert r == {"k01": "tier_balance_cap", "k02": "posted"}, r
        # K01 found B's keys held under its own and was retried with them (two attempts), then its
        # refusal was recorded (a scoped write of its own)
        assert out["attempts"] == 3, out
    assert bal[out["wb"]] == CAP - 150_000 + AMOUNT <= CAP
    assert bal[out["wa"]] == 100_000  # A, the number's owner when K01 started, received nothing
    assert bal[out["w1"]] + bal[out["w2"]] == 2 * 600_000 - AMOUNT


def test_payee_race_sqlite(db_path: Path, tmp_path: Path) -> None:
    _assert_kept(_race(f"sqlite:///{db_path}", tmp_path), pg=False)


@pytest.mark.postgres
def test_payee_race_postgres(pg_app_url: str, tmp_path: Path) -> None:
    _assert_kept(_race(pg_app_url, tmp_path), pg=True)


@pytest.mark.postgres
@pytest.mark.parametrize(("locks", "guard"), [(True, False), (False, True)], ids=["no_payee_check", "keys_off"])
def test_negative_controls_find_the_cap_passed(pg_app_url: str, tmp_path: Path, locks: bool, guard: bool) -> None:
    """Without the payee's keys required under the locks (or without any key), both transfers pass
    WB's cap check and both post: WB is over its cap. The test above can fail."""
    out = _race(pg_app_url, tmp_path, locks=locks, guard=guard)
    r, bal = out["results"], out["balances"]
    assert r == {"k01": "posted", "k02": "posted"}, r
    assert bal[out["wb"]] == CAP - 150_000 + 2 * AMOUNT > CAP
    assert out["attempts"] == 1
