"""Each risk rule's pattern, positive and negative, on hand-made scan data with a fake clock.

The patterns are pure functions of :class:`~teller_tui.risk.data.ScanData` and the rule's settings from the
shipped ``data/risk_rules.toml``; the end-to-end scan over real postings is in tests/test_risk.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from teller_tui.common.clock import FakeClock
from teller_tui.common.errors import ValidationError
from teller_tui.common.money import Money
from teller_tui.risk.data import AuditEvent, CustomerFacts, ScanData, Txn, WalletFacts
from teller_tui.risk.patterns import PATTERNS
from teller_tui.risk.rules import RiskRules

RULES = RiskRules.load().in_force(date(2026, 11, 23))
_ids = count(1)


class World:
    """Wallets, customers and transactions built along a fake clock."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.start = self.clock.now()
        self.data = ScanData(start=self.start, end=self.start, large_value=Money.of("50000"))

    def customer(self, *, risk: str = "low", phone: str = "", address: str = "", opened_days_ago: int = 400) -> int:
        cid = next(_ids)
        self.data.customers[cid] = CustomerFacts(cid, f"C{cid:06d}", f"客户{cid}", "", phone or f"1390000{cid:04d}",
                                                 address, None, None, risk, "B001")
        self.data.groups[cid] = cid
        wid = next(_ids)
        self.data.wallets[wid] = WalletFacts(wid, f"W{wid:06d}", cid, self.start - timedelta(days=opened_days_ago),
                                             "B001")
        return wid

    def txn(self, wallet: int, kind: str, amount: str, *, after: timedelta = timedelta(minutes=1)) -> Txn:
        self.clock.advance(after)
        sign = 1 if kind in ("cash_out", "transfer", "linked_withdraw") else -1
        t = Txn(next(_ids), f"R{len(self.data.txns):05d}", kind, self.clock.now(), wallet,
                self.data.wallets[wallet].customer_id, sign * Money.of(amount).minor, "CNY")
        self.data.txns.append(t)
        self.data.end = self.clock.now()
        return t

    def event(self, action: str, subject: str, outcome: str = "fail", terminal: str = "K01",
              after: timedelta = timedelta(minutes=1)) -> None:
        self.clock.advance(after)
        self.data.audit.append(AuditEvent(next(_ids), self.clock.now(), action, subject, outcome, terminal, {}))

    def find(self, rule: str) -> list[Any]:
        return PATTERNS[rule](self.data, RULES[rule])

    def customer_of(self, wallet: int) -> int:
        return self.data.wallets[wallet].customer_id


def test_every_rule_has_a_pattern_and_settings() -> None:
    assert set(PATTERNS) | {"watchlist"} == set(RULES)


# -- velocity: 6 transactions in 10 minutes ------------------------------------------------------------
def test_velocity_positive() -> None:
    w = World()
    wal = w.customer()
    for _ in range(6):
        w.txn(wal, "transfer", "10", after=timedelta(minutes=1))
    (f,) = w.find("velocity")
    assert f.subject.startswith("wallet:") and f.facts["count"] == 6 and f.window.startswith("e:")


def test_velocity_negative() -> None:
    w = World()
    wal = w.customer()
    for _ in range(6):
        w.txn(wal, "transfer", "10", after=timedelta(minutes=2, seconds=1))  # 6 spread over 10m05s
    assert w.find("velocity") == []


def test_velocity_watermark_raises_a_burst_once() -> None:
    w = World()
    wal = w.customer()
    for _ in range(7):
        w.txn(wal, "cash_in", "10")
    (f,) = w.find("velocity")
    w.data.watermarks[("velocity", f.subject)] = f.last_at
    assert w.find("velocity") == []


# -- structuring: 3 cash amounts in [40,000, 50,000) within 7 days ------------------------------------
def test_structuring_positive_one_customer() -> None:
    w = World()
    wal = w.customer()
    for amount in ("45000", "48000", "49999.99"):
        w.txn(wal, "cash_in", amount, after=timedelta(days=2))
    (f,) = w.find("structuring")
    assert f.subject.startswith("customer:") and f.facts["count"] == 3 and f.facts["direction"] == "cash_in"


def test_structuring_positive_linked_customers() -> None:
    w = World()
    a, b, c = w.customer(), w.customer(), w.customer()
    for cid in (w.customer_of(b), w.customer_of(c)):  # same address: one group
        w.data.groups[cid] = w.customer_of(a)
    for wal in (a, b, c):
        w.txn(wal, "cash_in", "46000", after=timedelta(days=1))
    (f,) = w.find("structuring")
    assert f.subject.startswith("group:") and len(f.facts["linked_customers"]) == 3


def test_structuring_negative() -> None:
    w = World()
    wal = w.customer()
    w.txn(wal, "cash_in", "45000", after=timedelta(days=1))
    w.txn(wal, "cash_in", "39999.99", after=timedelta(days=1))  # not just under the threshold
    w.txn(wal, "cash_in", "50000", after=timedelta(days=1))  # at the threshold: a large-value report already
    w.txn(wal, "cash_in", "45000", after=timedelta(days=8))  # too late for the first
    w.txn(wal, "cash_out", "45000", after=timedelta(days=1))  # other direction
    unlinked = [w.customer(), w.customer()]
    for wal2 in unlinked:
        w.txn(wal2, "cash_in", "45000", after=timedelta(hours=1))  # two others, not linked
    assert w.find("structuring") == []


# -- rapid in and out: cash in >= 5,000, 80 % transferred out within 30 minutes ----------------------
def test_rapid_in_out_positive() -> None:
    w = World()
    wal = w.customer()
    w.txn(wal, "cash_in", "10000")
    w.txn(wal, "transfer", "5000", after=timedelta(minutes=10))
    w.txn(wal, "linked_withdraw", "3000", after=timedelta(minutes=10))
    (f,) = w.find("rapid_in_out")
    assert f.facts["cash_in"] == 1_000_000 and f.facts["out"] == 800_000 and len(f.entries) == 3


def test_rapid_in_out_negative() -> None:
    w = World()
    wal = w.customer()
    w.txn(wal, "cash_in", "10000")
    w.txn(wal, "transfer", "7000", after=timedelta(minutes=10))  # 70 %
    w.txn(wal, "transfer", "3000", after=timedelta(minutes=25))  # outside 30 minutes of the cash in
    w.txn(wal, "cash_in", "4000")  # below the minimum
    w.txn(wal, "transfer", "4000", after=timedelta(minutes=1))
    assert w.find("rapid_in_out") == []


# -- large cash out from a new wallet: >= 10,000 within 7 days of opening -----------------------------
def test_new_wallet_cash_out_positive() -> None:
    w = World()
    wal = w.customer(opened_days_ago=3)
    w.txn(wal, "cash_out", "10000")
    (f,) = w.find("new_wallet_cash_out")
    assert f.amount == 1_000_000


def test_new_wallet_cash_out_negative() -> None:
    w = World()
    old = w.customer(opened_days_ago=8)
    new = w.customer(opened_days_ago=1)
    w.txn(old, "cash_out", "20000")
    w.txn(new, "cash_out", "9999.99")
    w.txn(new, "transfer", "20000")  # not cash
    assert w.find("new_wallet_cash_out") == []


# -- dormant wallet waking up: >= 2,000 after 180 days without any -----------------------------------
def test_dormant_wakeup_positive() -> None:
    w = World()
    wal = w.customer(opened_days_ago=400)
    w.data.last_before[wal] = w.start - timedelta(days=200)
    w.txn(wal, "transfer", "2000")
    (f,) = w.find("dormant_wakeup")
    assert f.facts["idle_days"] >= 180


def test_dormant_wakeup_negative() -> None:
    w = World()
    wal = w.customer(opened_days_ago=400)
    w.data.last_before[wal] = w.start - timedelta(days=100)
    w.txn(wal, "transfer", "50000")
    w.txn(wal, "transfer", "3000", after=timedelta(days=179))
    sleepy = w.customer(opened_days_ago=400)
    w.data.last_before[sleepy] = w.start - timedelta(days=300)
    w.txn(sleepy, "cash_in", "1999.99")  # too small to count
    assert w.find("dormant_wakeup") == []


# -- high-risk or PEP customer: >= 20,000 in a day -----------------------------------------------------
def test_high_risk_customer_positive() -> None:
    w = World()
    wal = w.customer(risk="high")
    w.txn(wal, "cash_in", "15000")
    w.txn(wal, "transfer", "5000")
    (f,) = w.find("high_risk_customer")
    assert f.window.startswith("d:") and f.amount == 2_000_000


def test_high_risk_customer_negative() -> None:
    w = World()
    low = w.customer(risk="low")
    high = w.customer(risk="high")
    w.txn(low, "cash_in", "90000")
    w.txn(high, "cash_in", "19999.99")
    w.txn(high, "cash_in", "10000", after=timedelta(days=1))
    assert w.find("high_risk_customer") == []


# -- kiosk PIN failures: 8 in 30 minutes on one kiosk, 3 or more customers -----------------------------
def test_kiosk_pin_failures_positive() -> None:
    w = World()
    for i in range(8):
        w.event("kiosk_sign_in", f"C{i % 4:06d}", after=timedelta(minutes=3))
    (f,) = w.find("kiosk_pin_failures")
    assert f.subject == "kiosk:K01" and f.facts["failures"] == 8 and len(f.facts["customers"]) == 4


def test_kiosk_pin_failures_negative() -> None:
    w = World()
    for _ in range(10):
        w.event("kiosk_sign_in", "C000001", after=timedelta(minutes=1))  # one customer: their own lockout
    for i in range(8):
        w.event("kiosk_sign_in", f"C{i:06d}", terminal=f"K0{i}", after=timedelta(minutes=1))  # spread over kiosks
    for i in range(8):
        w.event("kiosk_sign_in", f"C{i:06d}", outcome="ok", terminal="K09")
    for i in range(8):
        w.event("kiosk_sign_in", f"C{i:06d}", terminal="K10", after=timedelta(minutes=5))  # 35 minutes
    assert w.find("kiosk_pin_failures") == []


# -- new device, then a large transfer out: >= 3,000 within 48 hours -------------------------------------
def test_new_device_transfer_positive() -> None:
    w = World()
    wal = w.customer()
    w.event("device_replace", w.data.wallets[wal].number, outcome="ok")
    w.txn(wal, "transfer", "3000", after=timedelta(hours=47))
    (f,) = w.find("new_device_transfer")
    assert f.window.startswith("a:")


def test_new_device_transfer_negative() -> None:
    w = World()
    wal = w.customer()
    w.txn(wal, "transfer", "9000")  # before the replacement
    w.event("device_replace", w.data.wallets[wal].number, outcome="ok")
    w.txn(wal, "transfer", "2999.99")
    w.txn(wal, "cash_in", "9000")
    w.txn(wal, "transfer", "9000", after=timedelta(hours=49))
    assert w.find("new_device_transfer") == []


# -- the rules file --------------------------------------------------------------------------------------
def test_rules_are_effective_dated() -> None:
    base = {"id": "velocity", "count": 6, "minutes": 10}
    rules = RiskRules.from_dict({"rule": [
        {**base, "effective_from": date(2020, 1, 1)},
        {**base, "effective_from": date(2027, 1, 1), "count": 4},
        {"id": "watchlist", "effective_from": date(2020, 1, 1)},
        {"id": "watchlist", "effective_from": date(2027, 1, 1), "enabled": False},
    ]})
    assert rules.in_force(date(2026, 12, 31))["velocity"].n("count") == 6
    assert rules.in_force(date(2027, 1, 1))["velocity"].n("count") == 4
    assert "watchlist" in rules.in_force(date(2026, 12, 31)) and "watchlist" not in rules.in_force(date(2027, 1, 1))
    assert rules.in_force(date(2019, 12, 31)) == {}


@pytest.mark.parametrize(("entry", "fragment"), [
    ({"id": "nope", "effective_from": date(2020, 1, 1)}, "id must be one of"),
    ({"id": "velocity", "effective_from": "2020-01-01", "count": 6, "minutes": 10}, "effective_from"),
    ({"id": "velocity", "effective_from": date(2020, 1, 1), "count": 0, "minutes": 10}, "count"),
    ({"id": "rapid_in_out", "effective_from": date(2020, 1, 1), "minutes": 1, "share_percent": 80,
      "min_amount": "-5"}, "min_amount"),
    ({"id": "velocity", "effective_from": date(2020, 1, 1), "count": 6, "minutes": 10, "mins": 3}, "mins"),
])
def test_malformed_rules_name_the_entry(entry: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        RiskRules.from_dict({"rule": [entry]})
    assert fragment in str(info.value)


def test_start_of_world_is_the_fake_clock() -> None:
    assert World().start == datetime.fromisoformat("2026-11-23T01:30:00+00:00")
