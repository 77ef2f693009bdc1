"""A seeded transaction history for the risk scan: clean customers, optionally with planted patterns.

``build_history(services, clock, seed=, postings=, plant=)`` posts through the ledger (fast, in time
order, along the fake ``clock``) a clean history of small cash ins, cash outs and transfers between
old, low-risk wallets, spaced so that no rule of ``data/risk_rules.toml`` applies; with ``plant=True``
one case of every rule is mixed in, each on customers of its own. It returns the planted cases as
(rule, subject) pairs: the scan must find every one, and nothing on the clean history
(:func:`false_positives`, the figure ``teller bench`` prints).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.common.clock import FakeClock
    from teller_tui.services import Services

DAYS = 30  # the clean history's length, ending at the clock's start


@dataclass
class _World:
    services: Services
    clock: FakeClock
    teller: Actor
    drawer: int
    n: int = 0
    events: list[tuple[datetime, int, str, tuple[Any, ...]]] = field(default_factory=list)
    wallets: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # key -> (customer, account, number)
    session: Any = None  # the write transaction customers are created in

    def customer(self, key: str, *, opened: datetime, phone: str = "", risk: str = "low", name: str = "",
                 born: date = date(1990, 1, 1)) -> None:
        from teller_tui.models import Customer

        self.n += 1
        self.clock.set(opened)
        s = self.session
        c = Customer(customer_no=f"R{self.n:09d}", full_name=name or f"客户{self.n}", name_latin="",
                     phone=phone or f"1500{self.n:07d}", address=f"测试路{self.n}号{self.n}室", risk_level=risk,
                     birth_date=born, branch_code="B001", created_at=opened)
        s.add(c)
        s.flush()
        assert c.id is not None
        w = self.services.wallets.open_wallet(s, self.teller, c.id, 1, audit=False)
        self.wallets[key] = (c.id, w.account_id, w.number)

    def at(self, when: datetime, kind: str, *args: Any) -> None:
        self.events.append((when, len(self.events), kind, args))


def _post(w: _World, s: Any, kind: str, args: tuple[Any, ...]) -> None:
    from teller_tui.audit.trail import Actor
    from teller_tui.common.money import Money
    from teller_tui.ledger import EntryRequest, credit, debit

    if kind in ("kiosk_fail", "device_replace"):
        subject, terminal = args
        who = Actor(None, f"kiosk-{terminal.lower()}", terminal, "kiosk", "B001") if kind == "kiosk_fail" else w.teller
        w.services.audit.append(s, who, "kiosk_sign_in" if kind == "kiosk_fail" else "device_replace",
                                subject=subject, outcome="fail" if kind == "kiosk_fail" else "ok")
        return
    key, minor = args[0], args[1]
    cid, acct, number = w.wallets[key]
    m = Money(minor)
    if kind == "cash_in":
        legs = (debit(w.drawer, m), credit(acct, m))
    elif kind == "cash_out":
        legs = (debit(acct, m), credit(w.drawer, m))
    else:
        legs = (debit(acct, m), credit(w.wallets[args[2]][1], m))
    w.services.ledger.post(s, EntryRequest(f"risk-{w.clock.now().timestamp()}-{key}-{kind}-{minor}", kind, legs,
                                           w.teller.staff_id, "T01", "B001", customer_id=cid, meta={"wallet": number}))


def _clean(w: _World, rng: random.Random, postings: int, end: datetime) -> None:
    """``postings`` / 2 entries over ``DAYS`` days between old wallets, never near any rule."""
    n_wallets = max(4, postings // 40)
    opened = end - timedelta(days=DAYS + 60)  # old enough (not new), young enough (never dormant)
    keys = [f"c{i}" for i in range(n_wallets)]
    for k in keys:
        w.customer(k, opened=opened)
    balance = dict.fromkeys(keys, 0)
    # Each wallet's transactions at least 15 minutes apart (no bursts); amounts under 4,000 yuan.
    slot = {k: end - timedelta(days=DAYS) + timedelta(minutes=rng.randrange(600)) for k in keys}
    plan = []
    for i in range(postings // 2):
        k = keys[i % n_wallets]
        slot[k] += timedelta(minutes=15 + rng.randrange(int(DAYS * 24 * 60 * n_wallets * 2 / postings) + 1))
        plan.append((slot[k], k))
    plan.sort()
    for when, k in plan:
        if when >= end:
            continue
        kind = "cash_in" if balance[k] < 50_000 else rng.choice(("cash_in", "cash_out", "transfer"))
        if kind == "cash_in":
            amt = rng.randrange(100, 4000) * 100
            balance[k] += amt
            w.at(when, kind, k, amt)
            continue
        amt = min(balance[k], rng.randrange(50, 4000) * 100)
        balance[k] -= amt
        if kind == "cash_out":
            w.at(when, kind, k, amt)
        else:
            other = keys[(keys.index(k) + 1 + rng.randrange(n_wallets - 1)) % n_wallets]
            balance[other] += amt
            w.at(when, kind, k, amt, other)


def _plant(w: _World, end: datetime) -> list[tuple[str, str]]:
    y = 100  # fen per yuan
    day = timedelta(days=1)
    old = end - timedelta(days=DAYS + 60)
    for key in ("vel", "str", "rio", "rcv", "dev", "hi"):
        w.customer(key, opened=old, risk="high" if key == "hi" else "low")
    w.customer("g1", opened=old, phone="15999999999")
    w.customer("g2", opened=old, phone="15999999999")  # linked to g1 by the phone
    w.customer("new", opened=end - 2 * day)
    w.customer("dor", opened=end - timedelta(days=300))
    w.customer("wl", opened=old, name="贾仁义", born=date(1975, 6, 1))  # WL-0002 in the sample list
    t = end - 9 * day
    for i in range(6):
        w.at(t + timedelta(minutes=i), "cash_in", "vel", 100 * y)  # 6 in 5 minutes
    for i, amount in enumerate((45_000, 46_000, 47_000)):
        w.at(end - (6 - 2 * i) * day, "cash_in", "str", amount * y)
    for i, (key, amount) in enumerate((("g1", 46_000), ("g2", 45_500), ("g1", 44_000))):
        w.at(end - (5 - 2 * i) * day + timedelta(hours=1), "cash_in", key, amount * y)
    w.at(end - 4 * day, "cash_in", "rio", 10_000 * y)
    w.at(end - 4 * day + timedelta(minutes=5), "transfer", "rio", 9_000 * y, "rcv")
    w.at(end - day, "cash_in", "new", 15_000 * y)
    w.at(end - day + timedelta(hours=2), "cash_out", "new", 12_000 * y)
    w.at(end - timedelta(days=250), "cash_in", "dor", 3_000 * y)
    w.at(end - 3 * day, "cash_out", "dor", 2_500 * y)
    w.at(end - 2 * day, "cash_in", "hi", 25_000 * y)
    customers = [w.wallets[k] for k in ("vel", "str", "rio")]
    for i in range(8):
        w.at(end - 7 * day + timedelta(minutes=2 * i), "kiosk_fail", f"R{customers[i % 3][0]:09d}", "K99")
    w.at(end - 3 * day, "cash_in", "dev", 8_000 * y)
    w.at(end - 2 * day, "device_replace", w.wallets["dev"][2], "T01")
    w.at(end - 2 * day + timedelta(hours=2), "transfer", "dev", 5_000 * y, "rcv")

    def wallet(k: str) -> str:
        return f"wallet:{w.wallets[k][2]}"

    from sqlmodel import col, select

    from teller_tui.models import Customer

    no = {int(i): str(n) for i, n in w.session.execute(select(col(Customer.id), col(Customer.customer_no)))}
    return [("velocity", wallet("vel")), ("structuring", f"customer:{no[w.wallets['str'][0]]}"),
            ("structuring", f"group:{no[w.wallets['g1'][0]]}"), ("rapid_in_out", wallet("rio")),
            ("new_wallet_cash_out", wallet("new")), ("dormant_wakeup", wallet("dor")),
            ("high_risk_customer", f"customer:{no[w.wallets['hi'][0]]}"), ("kiosk_pin_failures", "kiosk:K99"),
            ("new_device_transfer", wallet("dev")), ("watchlist", f"customer:{no[w.wallets['wl'][0]]}")]


def build_history(services: Services, clock: FakeClock, *, seed: int, postings: int,
                  plant: bool) -> list[tuple[str, str]]:
    """Post the history ending at the clock's present time; the planted (rule, subject) pairs."""
    from teller_tui.audit.trail import Actor
    from teller_tui.common.money import Money
    from teller_tui.ledger import EntryRequest, credit, debit
    from teller_tui.ledger.accounts import AccountKind, drawer_code, equity_code
    from teller_tui.models import Staff

    rng = random.Random(seed)
    end = clock.now()
    clock.set(end - timedelta(days=400))
    with services.db.write() as s:
        staff = Staff(username="risk-teller", display_name="risk teller", role="teller", branch_code="B001",
                      created_at=clock.now())
        s.add(staff)
        s.flush()
        teller = Actor(staff.id, staff.username, "T01", "teller", "B001")
        eq = services.ledger.open_account(s, code=equity_code("B001"), name="Equity", kind=AccountKind.EQUITY,
                                          branch_code="B001")
        drawer = services.ledger.open_account(s, code=drawer_code("B001", "risk-teller"), name="Drawer",
                                              kind=AccountKind.DRAWER, branch_code="B001")
        services.ledger.post(s, EntryRequest("risk-float", "drawer_float", (debit(drawer, Money.of("900000000")),
                                                                            credit(eq, Money.of("900000000"))),
                                             teller.staff_id, "T01", "B001"))
    w = _World(services, clock, teller, drawer)
    with services.db.write() as s:  # every customer and wallet in one transaction
        w.session = s
        planted = _plant(w, end) if plant else []
        _clean(w, rng, postings, end)
    w.session = None
    ordered = sorted(w.events, key=lambda e: (e[0], e[1]))
    for start in range(0, len(ordered), 1000):  # one write transaction per 1,000 events
        with services.db.write() as s:
            for when, _i, kind, args in ordered[start:start + 1000]:
                clock.set(when)
                _post(w, s, kind, args)
    clock.set(end)
    return planted


def false_positives(services: Services, clock: FakeClock, *, seed: int = 23, postings: int = 100_000) -> int:
    """Alerts the scan raises on a clean history of ``postings`` postings (should be 0)."""
    from teller_tui.auth.staff import system_actor

    build_history(services, clock, seed=seed, postings=postings, plant=False)
    return len(services.risk.scan(system_actor(services.settings)).new_alerts)
