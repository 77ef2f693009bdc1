"""Business days, drawers, the vault and the end-of-day count (core, against a real SQLite file)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from auth_fixtures import cheap_hashing  # noqa: F401  (autouse fixture)
from drawer_fixtures import FLOAT, STOCK, Branch, branch  # noqa: F401  (fixture)
from teller_tui.audit.trail import Actor
from teller_tui.branch.counts import counts_total, tender
from teller_tui.branch.views import SupervisorCredentials
from teller_tui.common.errors import ApprovalRequired, AuthenticationFailed, Conflict, PermissionDenied, ValidationError
from teller_tui.ledger.accounts import drawer_code, over_short_code, vault_code
from teller_tui.ledger.core import trial_balance
from teller_tui.common.money import Money

KEYS = ["note:100", "note:50", "note:20", "note:10", "note:5", "note:1", "coin:1", "coin:0.5", "coin:0.1"]
FACE = {"note:100": 10000, "note:50": 5000, "note:20": 2000, "note:10": 1000, "note:5": 500, "note:1": 100,
        "coin:1": 100, "coin:0.5": 50, "coin:0.1": 10}


def balance_of(b: Branch, code: str) -> int:
    with b.services.db.read() as s:
        acct = b.services.ledger.account_id(s, code)
        bal = b.services.ledger.balance(s, acct)
        return bal.debits_posted - bal.credits_posted


def key() -> str:
    from teller_tui.desk.cash_types import new_idempotency_key

    return new_idempotency_key("test")


def assert_books_agree(b: Branch) -> None:
    """Trial balance zero, every ledger invariant holds (13: over/short only with a supervisor),
    and the vault's ledger balance equals the value of its counted pieces."""
    from teller_tui.ledger.verify import verify_ledger

    with b.services.db.read() as s:
        assert all(v == 0 for v in trial_balance(s).values())
        assert all(v == 0 for v in trial_balance(s, branch_code="B001").values())
        report = verify_ledger(s)
        assert report.ok, report.render()
    v = b.services.drawers.vault("B001")
    assert v.balance == counts_total(v.holdings)
    assert all(n >= 0 for n in v.holdings.values())


# -- denomination arithmetic ---------------------------------------------------------------------------
def test_denomination_totals_and_change() -> None:
    assert counts_total({"note:100": 3, "coin:0.5": 2, "coin:0.1": 3}) == Money.of("301.30")
    t = tender(Money.of("87.50"), {"note:100": 1})
    assert t.change_due == Money.of("12.50")
    assert counts_total(t.change) == Money.of("12.50")
    t = tender(Money.of("87.50"), {"note:50": 2}, {"note:10": 1, "note:1": 2, "coin:0.5": 1})
    assert t.pieces_total == Money.of("100") and t.change_due == Money.of("12.50")
    with pytest.raises(ValidationError) as exc:
        tender(Money.of("87.50"), {"note:50": 1})
    assert exc.value.code == "tender_short"
    with pytest.raises(ValidationError) as exc:
        tender(Money.of("87.50"), {"note:100": 1}, {"note:10": 1})
    assert exc.value.code == "tender_change_mismatch"
    assert tender(Money.of("170"), {"note:100": 1, "note:50": 1, "note:20": 1}, kind="cash_out").change_due.minor == 0
    with pytest.raises(ValidationError) as exc:
        tender(Money.of("170"), {"note:100": 2}, kind="cash_out")
    assert exc.value.code == "tender_mismatch"
    with pytest.raises(ValidationError):
        counts_total({"note:3": 1})
    with pytest.raises(ValidationError):
        counts_total({"note:100": -1})


@hsettings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), st.integers(0, 500)), st.integers(1, 10**6))
def test_tender_change_property(received: dict[str, int], amount_minor: int) -> None:
    total = sum(FACE[k] * n for k, n in received.items())
    amount = Money(amount_minor)
    if total < amount_minor:
        with pytest.raises(ValidationError):
            tender(amount, received)
        return
    t = tender(amount, received)
    assert t.pieces_total.minor == total
    assert t.change_due.minor == total - amount_minor
    if t.change_due.minor % 10 == 0:
        assert counts_total(t.change) == t.change_due  # the suggested change adds up exactly
    else:
        assert t.change == {}  # fen: no coin in the table; nothing misleading is suggested


# -- opening and the cash rule ------------------------------------------------------------------------
def test_cash_refused_without_open_drawer(branch: Branch) -> None:
    b = branch
    wallet = b.customer_wallet()
    assert b.services.drawers.status(b.teller).state == "no_business_day"
    with pytest.raises(Conflict) as exc:
        b.services.cash.cash_in(b.teller, wallet, Money.of("100"), idempotency_key=key())
    assert exc.value.code == "no_business_day"
    b.services.drawers.open_business_day(b.supervisor)
    assert b.services.drawers.status(b.teller).state == "not_opened"
    with pytest.raises(Conflict) as exc:
        b.services.cash.cash_in(b.teller, wallet, Money.of("100"), idempotency_key=key())
    assert exc.value.code == "no_open_drawer"
    assert "open your drawer" in str(exc.value)
    # Another teller's open drawer does not help.
    b.services.drawers.open_drawer(b.teller2, FLOAT, b.sup())
    with pytest.raises(Conflict):
        b.services.cash.cash_in(b.teller, wallet, Money.of("100"), idempotency_key=key())


def test_open_drawer_needs_a_supervisor(branch: Branch) -> None:
    b = branch
    with pytest.raises(ApprovalRequired):
        b.services.drawers.open_drawer(b.teller, FLOAT, None)
    with pytest.raises(AuthenticationFailed):
        b.services.drawers.open_drawer(b.teller, FLOAT, SupervisorCredentials("li", "wrong password!", "000000"))
    # A teller cannot countersign, and nobody countersigns for themselves.
    from auth_fixtures import SECRETS, SUP_PW, code_for

    b.clock.advance(seconds=31)
    with pytest.raises((AuthenticationFailed, PermissionDenied)):
        b.services.drawers.open_drawer(b.supervisor, FLOAT, SupervisorCredentials("li", SUP_PW,
                                                                                  code_for(SECRETS["li"], b.clock)))
    assert b.services.drawers.status(b.teller).state in ("no_business_day", "not_opened")
    status = b.services.drawers.open_drawer(b.teller, FLOAT, b.sup())
    assert status.state == "open" and status.opening_float == Money.of("2000")
    assert status.balance is None  # the status read model stays blind
    assert balance_of(b, drawer_code("B001", "wang")) == 200000
    assert balance_of(b, vault_code("B001")) == 800000
    with pytest.raises(Conflict) as exc:
        b.services.drawers.open_drawer(b.teller, FLOAT, b.sup())
    assert exc.value.code == "drawer_open"
    assert_books_agree(b)
    from teller_tui.audit.trail import AuditTrail

    with b.services.db.read() as s:
        actions = [r.action for r in AuditTrail.recent(s, limit=10)]
    assert "drawer_open" in actions and "approval_approve" in actions  # the countersign is an approval


def test_float_refused_when_the_vault_lacks_the_pieces(branch: Branch) -> None:
    b = branch
    with pytest.raises(Conflict) as exc:
        b.services.drawers.open_drawer(b.teller, {"note:100": 81}, b.sup())
    assert exc.value.code == "vault_short"
    assert b.services.drawers.vault("B001").holdings == STOCK


def test_vault_transfers_by_denomination(branch: Branch) -> None:
    b = branch
    d = b.services.drawers
    d.open_drawer(b.teller, FLOAT, b.sup())
    r = d.transfer_with_vault(b.teller, "from_vault", {"note:100": 10}, b.sup())
    assert r.amount == Money.of("1000")
    assert balance_of(b, drawer_code("B001", "wang")) == 300000
    d.transfer_with_vault(b.teller, "to_vault", {"note:50": 2}, b.sup())
    assert balance_of(b, drawer_code("B001", "wang")) == 290000
    assert d.vault("B001").holdings["note:100"] == STOCK["note:100"] - 15 - 10
    with pytest.raises(ApprovalRequired):
        d.transfer_with_vault(b.teller, "to_vault", {"note:50": 1}, None)
    # The drawer never pays out cash it does not hold (ledger invariant 4).
    from teller_tui.common.errors import LimitExceeded

    with pytest.raises(LimitExceeded):
        d.transfer_with_vault(b.teller, "to_vault", {"note:100": 30}, b.sup())
    assert_books_agree(b)


# -- end of day ---------------------------------------------------------------------------------------
def _day_with_transactions(b: Branch) -> int:
    d = b.services.drawers
    d.open_drawer(b.teller, FLOAT, b.sup())
    wallet = b.customer_wallet()
    cash = b.services.cash
    r1 = cash.cash_in(b.teller, wallet, Money.of("500"), idempotency_key=key())
    cash.cash_in(b.teller, wallet, Money.of("87.50"), idempotency_key=key())
    cash.cash_out(b.teller, wallet, Money.of("120"), idempotency_key=key())
    d.record_tender(b.teller, r1.entry_id, tender(Money.of("500"), {"note:100": 5}))
    return 200000 + 50000 + 8750 - 12000  # expected drawer cash


def test_blind_count_within_tolerance_posts_over_short(branch: Branch) -> None:
    b = branch
    expected = _day_with_transactions(b)
    assert expected == 246750
    assert balance_of(b, drawer_code("B001", "wang")) == expected
    # 3.00 short: within the 5.00 tolerance.
    counts = {"note:100": 24, "note:50": 1, "note:10": 1, "note:1": 4, "coin:0.5": 1}  # 2464.50
    assert counts_total(counts).minor == expected - 300
    res = b.services.drawers.submit_blind_count(b.teller, counts)
    assert res.expected == Money(expected) and res.difference == Money(-300) and not res.needs_approval
    # Counting stops cash transactions.
    with pytest.raises(Conflict) as exc:
        b.services.cash.cash_in(b.teller, b.customer_wallet(), Money.of("1"), idempotency_key=key())
    assert exc.value.code == "drawer_counting"
    with pytest.raises(Conflict):
        b.services.drawers.submit_blind_count(b.teller, counts)
    with pytest.raises(ApprovalRequired) as exc:  # the cash goes back to the vault under dual control
        b.services.drawers.close_drawer(b.teller)
    assert exc.value.rules == ["drawer_close"]  # the policy's rule (was the hard-coded "vault_return")
    assert exc.value.details["spec"].kind == "drawer_close"
    closed = b.services.drawers.close_drawer(b.teller, b.sup())
    assert closed.difference == Money(-300) and closed.approver == "li" and closed.over_short_reference
    assert balance_of(b, over_short_code("B001")) == 300  # a debit: the branch's loss
    assert balance_of(b, drawer_code("B001", "wang")) == 0  # the counted cash went back to the vault
    assert b.services.drawers.vault("B001").balance == Money(1000000 - 200000 + expected - 300)
    assert_books_agree(b)
    assert closed.report_path is not None and closed.report_path.exists()
    with pytest.raises(Conflict) as exc:
        b.services.cash.cash_in(b.teller, b.customer_wallet(), Money.of("1"), idempotency_key=key())
    assert exc.value.code == "drawer_closed"


def test_blind_count_beyond_tolerance_needs_a_supervisor(branch: Branch) -> None:
    b = branch
    expected = _day_with_transactions(b)
    counts = {"note:100": 24, "note:50": 1, "coin:0.5": 1}  # 2450.50: 17.00 short
    assert counts_total(counts).minor == expected - 1700
    res = b.services.drawers.submit_blind_count(b.teller, counts)
    assert res.needs_approval and res.short
    with pytest.raises(ApprovalRequired) as exc:
        b.services.drawers.close_drawer(b.teller)
    assert exc.value.rules == ["drawer_close", "over_short"]  # the policy's rules, both through the approvals
    assert exc.value.details["spec"].kind == "over_short"
    assert b.services.drawers.status(b.teller).state == "counting"
    with pytest.raises(AuthenticationFailed):
        b.services.drawers.close_drawer(b.teller, SupervisorCredentials("li", "bad password here", "123456"))
    assert balance_of(b, drawer_code("B001", "wang")) == expected  # nothing posted
    closed = b.services.drawers.close_drawer(b.teller, b.sup())
    assert closed.approver == "li" and closed.difference == Money(-1700)
    assert balance_of(b, over_short_code("B001")) == 1700
    assert_books_agree(b)
    text = b.services.drawers.eod_report("B001", username="wang", write=False).text()
    assert "approved by li" in text and "-CN¥17.00" in text


def test_over_is_posted_as_a_credit(branch: Branch) -> None:
    b = branch
    d = b.services.drawers
    d.open_drawer(b.teller, {"note:100": 10}, b.sup())
    d.submit_blind_count(b.teller, {"note:100": 10, "note:1": 2})
    d.close_drawer(b.teller, b.sup())
    assert balance_of(b, over_short_code("B001")) == -200
    assert d.vault("B001").holdings["note:1"] == STOCK["note:1"] + 2
    assert_books_agree(b)


def test_business_day_closes_only_when_every_drawer_is_closed_and_reopens_next_day(branch: Branch) -> None:
    b = branch
    d = b.services.drawers
    d.open_drawer(b.teller, FLOAT, b.sup())
    d.open_drawer(b.teller2, {"note:100": 5}, b.sup())
    with pytest.raises(PermissionDenied):
        d.close_business_day(b.teller)
    with pytest.raises(Conflict) as exc:
        d.close_business_day(b.supervisor)
    assert exc.value.code == "drawers_open" and "wang" in str(exc.value) and "zhao" in str(exc.value)
    for actor, counts in ((b.teller, FLOAT), (b.teller2, {"note:100": 5})):
        d.submit_blind_count(actor, counts)
        d.close_drawer(actor, b.sup())
    # Closed on the day: no reopening that day.
    with pytest.raises(Conflict) as exc:
        d.open_drawer(b.teller, FLOAT, b.sup())
    assert exc.value.code == "drawer_closed"
    with pytest.raises(ApprovalRequired) as needs:  # the policy's day_close rule: a second person
        d.close_business_day(b.supervisor)
    assert needs.value.details["spec"].kind == "day_close"
    day = d.close_business_day(b.supervisor, b.admin_creds())
    assert day.status == "closed" and day.business_date == date(2026, 11, 23)
    assert (b.services.settings.reports_dir / "eod-B001-2026-11-23.txt").exists()
    assert b.services.drawers.status(b.teller).state == "no_business_day"
    # Same calendar day: the closed business day cannot start again.
    with pytest.raises(Conflict):
        d.open_business_day(b.supervisor)
    # Next day: a new business day and a new drawer.
    b.clock.advance(timedelta(days=1))
    status = d.open_drawer(b.teller, FLOAT, b.sup())
    assert status.state == "open" and status.business_date == date(2026, 11, 24)
    wallet = b.customer_wallet()
    r = b.services.cash.cash_in(b.teller, wallet, Money.of("10"), idempotency_key=key())
    assert r.business_date == date(2026, 11, 24)
    assert_books_agree(b)


def test_entries_carry_the_open_business_date_past_midnight(branch: Branch) -> None:
    b = branch
    d = b.services.drawers
    d.open_drawer(b.teller, FLOAT, b.sup())
    wallet = b.customer_wallet()
    before = b.services.cash.cash_in(b.teller, wallet, Money.of("20"), idempotency_key=key())
    b.clock.advance(timedelta(hours=15))  # 00:30 next day, local: the business day is still the 23rd
    r = b.services.cash.cash_in(b.teller, wallet, Money.of("10"), idempotency_key=key())
    assert r.business_date == date(2026, 11, 23)
    # "Same day" rules follow the business day, not the calendar: the entry from before midnight
    # is still today's, so its reversal goes to approval instead of being refused as too old.
    with pytest.raises(ApprovalRequired):
        b.services.cash.reverse(b.teller, before.entry_id, reason="keyed twice", idempotency_key=key())


def test_trial_balance_and_drawer_balances_agree_with_counts(branch: Branch) -> None:
    """Seeded random day: after every step the books balance and the vault's pieces match its balance."""
    import random

    seed = 20261123
    rng = random.Random(seed)
    b = branch
    d = b.services.drawers
    d.open_drawer(b.teller, FLOAT, b.sup())
    wallet = b.customer_wallet(tier=1)
    cash_expected = 200000
    for _step in range(12):
        op = rng.choice(["in", "out", "from_vault", "to_vault"])
        try:
            if op == "in":
                amt = rng.randrange(1, 500) * 100
                b.services.cash.cash_in(b.teller, wallet, Money(amt), idempotency_key=key())
                cash_expected += amt
            elif op == "out":
                amt = rng.randrange(1, 200) * 100
                b.services.cash.cash_out(b.teller, wallet, Money(amt), idempotency_key=key())
                cash_expected -= amt
            elif op == "from_vault":
                d.transfer_with_vault(b.teller, "from_vault", {"note:10": 2}, b.sup())
                cash_expected += 2000
            else:
                d.transfer_with_vault(b.teller, "to_vault", {"note:5": 1}, b.sup())
                cash_expected -= 500
        except Exception as exc:  # noqa: BLE001 - a refused step must change nothing
            assert getattr(exc, "code", ""), f"seed {seed}: {exc!r}"
        assert balance_of(b, drawer_code("B001", "wang")) == cash_expected, f"seed {seed}"
        assert_books_agree(b)
    from teller_tui.common.reference import make_change

    counts = make_change(Money(cash_expected))
    res = d.submit_blind_count(b.teller, counts)
    assert res.difference.minor == 0
    d.close_drawer(b.teller, b.sup())
    assert balance_of(b, drawer_code("B001", "wang")) == 0
    assert_books_agree(b)


def test_status_include_balance_and_report_contents(branch: Branch) -> None:
    b = branch
    _day_with_transactions(b)
    st_ = b.services.drawers.status(b.teller, include_balance=True)
    assert st_.balance == Money(246750) and st_.transactions == 3
    b.services.drawers.transfer_with_vault(b.teller, "to_vault", {"note:100": 1}, b.sup())
    rep = b.services.drawers.eod_report("B001", write=True)
    dr = rep.drawer("wang")
    assert dr.opening_float == Money.of("2000")
    assert dr.cash_in["cash_in"] == (2, Money.of("587.50"))
    assert dr.cash_out["cash_out"] == (1, Money.of("120"))
    assert dr.to_vault == Money.of("100") and dr.counted is None
    with b.services.db.read() as s:
        from teller_tui.audit.trail import AuditTrail

        seq, head = AuditTrail.head(s, "B001")  # the branch's audit stream
    text = rep.path.read_text(encoding="utf-8") if rep.path else ""
    assert head in text and f"#{seq}" in text
    assert "Opening float" in text and "Large-value cash records" in text
    assert rep.large_value == []


def test_vault_receive_needs_a_supervisor_and_counts(branch: Branch) -> None:
    b = branch
    with pytest.raises(PermissionDenied):
        b.services.drawers.receive_into_vault(b.teller, {"note:100": 1})
    v = b.services.drawers.receive_into_vault(b.supervisor, {"note:100": 10})
    assert v.holdings["note:100"] == STOCK["note:100"] + 10
    from teller_tui.ledger.accounts import settlement_code

    assert balance_of(b, settlement_code("B001")) == -100000
    assert_books_agree(b)


def test_demo_drawer_adopts_legacy_cash(branch: Branch) -> None:
    """The demo history leaves cash in drawer accounts without a drawer day; the demo helper sweeps it."""
    from teller_tui.branch.setup import open_demo_drawer
    from teller_tui.ledger import EntryRequest, credit, debit
    from teller_tui.ledger.accounts import AccountKind, equity_code

    b = branch
    svc: Any = b.services
    with svc.db.write() as s:
        eq = svc.ledger.open_account(s, code=equity_code("B001"), name="Eq", kind=AccountKind.EQUITY,
                                     branch_code="B001")
        vault = svc.ledger.account_id(s, vault_code("B001"))
        dr = svc.ledger.open_account(s, code=drawer_code("B001", "wang"), name="D", kind=AccountKind.DRAWER,
                                     branch_code="B001")
        svc.ledger.post(s, EntryRequest("legacy-1", "vault_open", (debit(vault, Money.of("5000")),
                                                                    credit(eq, Money.of("5000"))), None, "T01", "B001"))
        svc.ledger.post(s, EntryRequest("legacy-2", "drawer_issue", (debit(dr, Money.of("1234.50")),
                                                                      credit(vault, Money.of("1234.50"))),
                                        None, "T01", "B001"))
        last = svc.ledger.entry_by_key(s, "legacy-2")  # attested like the demo's bulk history (check "A")
        svc.audit.append(s, Actor(None, "system:demo", "T01", "system"), "demo_build",
                         detail={"history_until_seq": last.seq})
    status = open_demo_drawer(svc, "wang")
    assert status.state == "open"
    assert open_demo_drawer(svc, "wang").drawer_id == status.drawer_id  # idempotent
    svc.cash.cash_in(b.teller, b.customer_wallet(), Money.of("10"), idempotency_key=key())
    assert_books_agree(b)


def test_opening_a_drawer_on_a_closed_day_is_refused_before_asking_a_supervisor(branch: Branch) -> None:
    """Issue 18: the refusal comes first, not the approval request (so no supervisor's code is spent
    on a drawer that cannot open)."""
    b = branch
    d = b.services.drawers
    d.open_business_day(b.supervisor)
    d.close_business_day(b.supervisor, b.admin_creds())
    with pytest.raises(Conflict) as exc:  # before: ApprovalRequired, then the refusal after the code
        d.open_drawer(b.teller, FLOAT)
    assert exc.value.code == "business_day_closed"
