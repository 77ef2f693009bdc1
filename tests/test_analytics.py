"""The promotion report (issue 24) checked against a second computation in plain Python.

A seeded history over ~6 weeks of business days (two tellers, wallets of classes 1-3, deposits,
payments, transfers, linked top-ups, kiosk transfers, reversals, complaints and follow-up calls,
one business day kept open past midnight) is read back as RAW ROWS (wallets, entries, postings,
staff, cases, calls) and every measure is recomputed here without the report's queries, then
compared with the report for every grouping and for ranges whose edges cut weeks and months.
The driver also notes the business date of every wallet it issues: "wallets opened" must equal it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from desk_fixtures import Desk, desk  # noqa: F401
from onboarding_fixtures import CARD
from teller_tui.analytics.periods import By, period_start
from teller_tui.analytics.render import render_csv, render_json, render_table
from teller_tui.analytics.report import PromotionReport, ratio
from teller_tui.common.clock import BRANCH_TZ, local_date
from teller_tui.common.errors import ApprovalRequired, DomainError, ValidationError
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.ledger import EntryRequest, credit, debit
from teller_tui.ledger.business_day import Dating
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models import JournalEntry, LedgerAccount, Posting, Staff, Wallet
from teller_tui.models.cases import FollowUpCall, ServiceCase

SEED = 24
TXN = {"cash_in", "cash_out", "transfer", "linked_top_up", "linked_withdraw"}
COUNTED = TXN | {"reversal"}
DEPOSITS = {"cash_in", "linked_top_up"}


@dataclass
class History:
    desk: Desk
    issued: list[tuple[date, int | None]]  # (business date, teller id) of every wallet the driver issued
    days: list[date]
    late_day: date  # the business day kept open past midnight


def _today(d: Desk) -> date:
    return d.services.analytics.business_date(d.supervisor)


def build_history(d: Desk) -> History:
    rng = random.Random(SEED)
    s = d.services
    kiosk = s.kiosk.ensure_identity("K01")
    tellers = [d.teller, d.teller2]
    wallets: list[tuple[int, int]] = []  # (wallet id, customer id)
    issued: list[tuple[date, int | None]] = []
    days: list[date] = []
    late_day = None
    for n_day in range(16):
        today = _today(d)
        days.append(today)
        if n_day == 5:  # this day stays open past midnight: its postings are dated today, not tomorrow
            d.clock.set(datetime.combine(today + timedelta(days=1), time(0, 30), tzinfo=BRANCH_TZ).astimezone(UTC))
            late_day = today
        for _ in range(rng.randrange(1, 4)):
            teller = rng.choice(tellers)
            cid = d.customer(f"客户{len(wallets)}", latin=f"kehu {len(wallets)}")
            wid = s.wallets.open_wallet_now(teller, cid, rng.choice((1, 1, 2, 3))).wallet_id
            issued.append((today, teller.staff_id))
            wallets.append((wid, cid))
        if n_day == 1:
            s.funding.link_now(d.teller, wallets[0][1], wallets[0][0], "card", CARD, "Wang Fang")
        for _ in range(rng.randrange(6, 14)):
            wid, cid = rng.choice(wallets)
            teller = rng.choice(tellers)
            kind = rng.choice(("in", "in", "out", "out", "transfer", "transfer", "kiosk", "linked", "reverse"))
            if kind == "linked":
                wid, cid = wallets[0]
            amount = Money.of(str(rng.choice((10, 20, 50, 100))))
            try:
                if kind == "in":
                    s.cash.cash_in(teller, wid, amount, idempotency_key=key())
                elif kind == "out":
                    s.cash.cash_out(teller, wid, amount, idempotency_key=key())
                elif kind == "transfer":
                    to, _c = rng.choice(wallets)
                    if to != wid:
                        s.cash.transfer(teller, wid, to, amount, idempotency_key=key())
                elif kind == "kiosk":
                    to, _c = rng.choice(wallets)
                    with d.db.write() as w:
                        src = w.get(Wallet, wid)
                        dst = w.get(Wallet, to)
                        assert src is not None and dst is not None
                        if to != wid and d.ledger.balance(w, src.account_id).available >= amount:
                            d.ledger.post(w, EntryRequest(key(), EntryKind.TRANSFER, (
                                debit(src.account_id, amount), credit(dst.account_id, amount)), kiosk.staff_id,
                                kiosk.terminal_id, "B001", customer_id=cid, dating=Dating.AFTER_HOURS))
                elif kind == "linked":
                    s.funding.top_up_from_linked(teller, wid, amount, idempotency_key=key())
                else:
                    with d.db.read() as r:
                        last = r.execute(select(JournalEntry.id).where(JournalEntry.kind == "cash_in")
                                         .order_by(JournalEntry.id.desc()).limit(1)).scalar()  # type: ignore[union-attr]
                    if last is not None:
                        k = key()
                        try:
                            s.cash.reverse(teller, int(last), "test reversal", idempotency_key=k)
                        except ApprovalRequired as err:
                            approval = d.approve(teller, err.details["spec"])
                            s.cash.reverse(teller, int(last), "test reversal", idempotency_key=k,
                                           approval_id=approval)
            except DomainError:
                pass  # a refusal (limits, balance, no linked card) posts nothing: fine for a history
        if rng.random() < 0.6:
            wid, cid = rng.choice(wallets)
            teller = rng.choice(tellers)
            case = s.cases.open_case(teller, cid, rng.choice(("complaint", "question")), "测试")
            s.follow_up.record_call(teller, "resolved_case", case.case_id, reached=True,
                                    satisfaction=rng.randrange(1, 6))
        d.next_business_day(rng.choice((1, 1, 2, 3)))
    assert late_day is not None
    return History(d, issued, days, late_day)


@pytest.fixture
def history(desk: Desk) -> History:  # noqa: F811
    # Link a card to every wallet opened later is too slow; link on demand: refusals are fine.
    return build_history(desk)


# -- the second computation ---------------------------------------------------------------------------------
@dataclass
class Raw:
    wallets: list[Any]
    entries: dict[int, Any]
    postings: list[Any]
    roles: dict[int, str]
    names: dict[int, str]
    account_branch: dict[int, str]
    cases: list[Any]
    calls: list[Any]


def raw_rows(d: Desk) -> Raw:
    with d.db.read() as s:
        return Raw(list(s.execute(select(Wallet)).scalars()),
                   {e.id: e for e in s.execute(select(JournalEntry)).scalars()},
                   list(s.execute(select(Posting)).scalars()),
                   {st.id: st.role for st in s.execute(select(Staff)).scalars()},
                   {st.id: st.username for st in s.execute(select(Staff)).scalars()},
                   {a.id: a.branch_code for a in s.execute(select(LedgerAccount)).scalars()},
                   list(s.execute(select(ServiceCase)).scalars()), list(s.execute(select(FollowUpCall)).scalars()))


def expected(raw: Raw, first: date, last: date, by: By) -> dict[Any, dict[str, Any]]:
    """Every measure per group, from the raw rows."""
    def group(day: date, staff: int | None, branch: str) -> Any:
        if by == By.TELLER:
            return staff
        if by == By.BRANCH:
            return branch
        return max(period_start(day, by), first)

    out: dict[Any, Counter[str]] = {}
    legs_by_account: dict[int, list[int]] = {}
    for p in raw.postings:
        legs_by_account.setdefault(p.account_id, []).append(p.entry_id)

    def own_txns(w: Any) -> list[Any]:
        return sorted((raw.entries[e] for e in set(legs_by_account.get(w.account_id, []))
                       if raw.entries[e].kind in TXN and raw.entries[e].customer_id == w.customer_id),
                      key=lambda e: e.id)

    for w in raw.wallets:
        if not first <= w.opened_on <= last:
            continue
        c = out.setdefault(group(w.opened_on, w.opened_by, raw.account_branch[w.account_id]), Counter())
        c["opened"] += 1
        c[f"class{w.tier}"] += 1
        txns = own_txns(w)
        if txns and txns[0].kind in DEPOSITS:
            txns = txns[1:]
        if txns:
            lag = (txns[0].business_date - w.opened_on).days
            c["act7"] += lag <= 7
            c["act30"] += lag <= 30
    for e in raw.entries.values():
        if e.kind not in COUNTED or not first <= e.business_date <= last:
            continue
        c = out.setdefault(group(e.business_date, e.actor_id, e.branch_code), Counter())
        moved = sum(p.amount for p in raw.postings if p.entry_id == e.id and p.amount > 0)
        role = raw.roles.get(e.actor_id) if e.actor_id else None
        channel = "kiosk" if role == "kiosk" else "linked_account" if e.kind.startswith("linked") else "counter"
        c["txns"] += 1
        c["amount"] += moved
        c[f"kind:{e.kind}"] += 1
        c[f"chan:{channel}"] += 1
        c[f"chanamt:{channel}"] += moved
    for e in raw.entries.values():
        if e.kind == "welcome_reward" and first <= e.business_date <= last:
            c = out.setdefault(group(e.business_date, e.actor_id, e.branch_code), Counter())
            c["rewards"] += 1
            c["points"] += sum(p.amount for p in raw.postings if p.entry_id == e.id and p.amount > 0)
    for case in raw.cases:
        day = local_date(case.opened_at)
        if first <= day <= last:
            c = out.setdefault(group(day, case.opened_by, case.branch_code), Counter())
            c["cases"] += 1
            c["complaints"] += case.type == "complaint"
    for call in raw.calls:
        day = local_date(call.at)
        if call.satisfaction is not None and first <= day <= last:
            c = out.setdefault(group(day, call.served_by, call.branch_code), Counter())
            c["sat_n"] += 1
            c["sat_sum"] += call.satisfaction

    def active(end: date, pick: Any) -> tuple[int, int]:
        seen: set[int] = set()
        n = 0
        for w in raw.wallets:
            if not pick(w):
                continue
            for e in own_txns(w):
                if end - timedelta(days=29) <= e.business_date <= end:
                    seen.add(w.id)
                    n += 1
        return len(seen), n

    if by.is_period:
        ends: dict[Any, date] = {}
        day = first
        while day <= last:
            ends[group(day, None, "")] = day
            day += timedelta(days=1)
        for k, end in ends.items():
            c = out.setdefault(k, Counter())
            c["active"], c["active_txns"] = active(end, lambda w: True)
    else:
        for k in {group(w.opened_on, w.opened_by, raw.account_branch[w.account_id]) for w in raw.wallets}:
            a, n = active(last, lambda w, k=k: group(w.opened_on, w.opened_by, raw.account_branch[w.account_id]) == k)
            if a:
                out.setdefault(k, Counter())
                out[k]["active"], out[k]["active_txns"] = a, n
    return {k: dict(v) for k, v in out.items()}


def measured(report: PromotionReport) -> dict[Any, dict[str, Any]]:
    got: dict[Any, dict[str, Any]] = {}
    for row in report.rows:
        m = row.m
        c: Counter[str] = Counter({"opened": m.opened, "act7": m.activated_7, "act30": m.activated_30,
                                   "txns": m.txns, "amount": m.amount, "rewards": m.rewards,
                                   "points": m.reward_points, "cases": m.cases, "complaints": m.complaints,
                                   "sat_n": m.satisfaction_n, "sat_sum": m.satisfaction_sum, "active": m.active,
                                   "active_txns": m.active_txns})
        for i, n in enumerate(m.by_class):
            c[f"class{i + 1}"] = n
        for kind, (n, _minor) in m.by_kind.items():
            c[f"kind:{kind}"] = n
        for ch, (n, minor) in m.by_channel.items():
            c[f"chan:{ch}"] = n
            c[f"chanamt:{ch}"] = minor
        got[row.key] = {k: v for k, v in c.items() if v}
    return {k: v for k, v in got.items() if v or report.by.is_period}


def _clean(d: dict[Any, dict[str, Any]], periods: bool) -> dict[Any, dict[str, Any]]:
    return {k: {n: v for n, v in vals.items() if v} for k, vals in d.items() if periods or any(vals.values())}


def test_report_against_a_second_computation(history: History) -> None:
    """One seeded history (it takes a while to build), every check on it."""
    raw = raw_rows(history.desk)
    kinds = Counter(e.kind for e in raw.entries.values())
    assert all(kinds[k] for k in ("cash_in", "cash_out", "transfer", "linked_top_up", "reversal", "welcome_reward"))
    assert any(raw.roles.get(e.actor_id) == "kiosk" for e in raw.entries.values())
    check_every_measure(history)
    check_wallets_opened_equals_wallets_issued(history)
    check_business_date_not_calendar(history)
    check_renderings(history)


def check_every_measure(history: History) -> None:
    d = history.desk
    raw = raw_rows(d)
    first, last = history.days[0], history.days[-1]
    # Edges that cut a week and a month, the late day alone, and the whole history.
    ranges = [(first, last), (first + timedelta(days=3), last - timedelta(days=4)),
              (history.late_day, history.late_day), (first, date(first.year, first.month, 28))]
    for lo, hi in ranges:
        for by in By:
            report = d.services.analytics.promotion(d.supervisor, lo, hi, by)
            want = _clean(expected(raw, lo, hi, by), by.is_period)
            got = _clean(measured(report), by.is_period)
            assert got == want, f"{by} {lo}..{hi}"
            t = report.total.m
            assert t.opened == sum(r.m.opened for r in report.rows)
            assert t.txns == sum(r.m.txns for r in report.rows)
            # the total's active wallets are every wallet active in the 30 days to ``hi``, whatever the grouping
            last_day = expected(raw, hi, hi, By.DAY).get(hi, {})
            assert (t.active, t.active_txns) == (last_day.get("active", 0), last_day.get("active_txns", 0)), by


def check_wallets_opened_equals_wallets_issued(history: History) -> None:
    d = history.desk
    lo, hi = history.days[2], history.days[-3]
    report = d.services.analytics.promotion(d.supervisor, lo, hi, By.TELLER)
    assert report.total.m.opened == sum(1 for day, _t in history.issued if lo <= day <= hi) > 0
    per_teller = Counter(t for day, t in history.issued if lo <= day <= hi)
    assert {r.key: r.m.opened for r in report.rows if r.m.opened} == dict(per_teller)


def check_business_date_not_calendar(history: History) -> None:
    """Wallets opened and entries posted after midnight on the day kept open count on that day."""
    d = history.desk
    late = history.late_day
    on_late = sum(1 for day, _t in history.issued if day == late)
    assert on_late > 0
    assert d.services.analytics.promotion(d.supervisor, late, late, By.DAY).total.m.opened == on_late
    assert d.services.analytics.promotion(d.supervisor, late + timedelta(days=1), late + timedelta(days=1),
                                          By.DAY).total.m.opened == sum(
        1 for day, _t in history.issued if day == late + timedelta(days=1))
    with d.db.read() as s:
        after_midnight = [e for e in s.execute(select(JournalEntry).where(JournalEntry.business_date == late))
                          .scalars() if local_date(e.posted_at) > late]
    assert after_midnight, "the history posts after midnight on the late day"


def check_renderings(history: History) -> None:
    d = history.desk
    report = d.services.analytics.promotion(d.supervisor, history.days[0], history.days[-1], By.WEEK)
    csv_text = render_csv(report)
    lines = csv_text.splitlines()
    assert lines[0].startswith("group,key,opened,")
    assert len(lines) == len(report.rows) + 2 and lines[-1].startswith("total,")
    assert f",{report.total.m.opened}," in lines[-1]
    assert f'"opened": {report.total.m.opened}' in render_json(report)
    table = render_table(report)
    assert "Total" in table and max(len(line) for line in table.splitlines()) < 120


def test_bad_range(desk: Desk) -> None:  # noqa: F811
    with pytest.raises(ValidationError):
        desk.services.analytics.promotion(desk.supervisor, date(2026, 2, 1), date(2026, 1, 1))
    with pytest.raises(ValidationError):
        desk.services.analytics.promotion(desk.supervisor, date(2026, 1, 1), date(2026, 1, 2), "year")
    assert ratio(1, 3) == ratio(2, 6) and ratio(0, 0) is None
