"""Every entry is dated by its branch's open business day, on every path (RELIABILITY invariant 14).

Each :class:`~teller_tui.ledger.kinds.EntryKind` has a case below (a test fails if one has none):
the business day of 23 November opens, the clock moves past midnight to 00:30 on the 24th
(branch time, UTC+8), the case posts its kind, and then the counter carries on: a cash-in
works, every drawer counts and closes, the day closes and ``verify_ledger`` is clean. Every
entry posted after midnight is dated 23 November. The after-hours rule (kiosk and automatic
postings dated to the next business day; counter postings refused) has its own tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from desk_fixtures import SUPERVISORS, Desk, desk  # noqa: F401
from onboarding_fixtures import CARD, PIN as ONBOARD_PIN, full_data
from teller_tui.approvals.policy import ApprovalPolicy
from teller_tui.audit.trail import Actor
from teller_tui.auth.passwords import hash_pin
from teller_tui.branch.drawer_lookup import require_open_drawer
from teller_tui.common.errors import ApprovalRequired, Conflict
from teller_tui.common.money import Money
from teller_tui.common.reference import make_change
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.ledger import EntryRequest, credit, debit
from teller_tui.ledger.accounts import AccountKind, vault_code
from teller_tui.ledger.kinds import EntryKind
from teller_tui.ledger.verify import verify_ledger
from teller_tui.models import Customer, JournalEntry
from teller_tui.models.drawers import Drawer
from teller_tui.models.enums import DrawerStatus

DAY = date(2026, 11, 23)
#: Midnight and 00:30 on 24 November at the branch (Asia/Shanghai, UTC+8).
MIDNIGHT = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
AFTER_MIDNIGHT = MIDNIGHT + timedelta(minutes=30)
KIOSK_PIN = "246810"

Action = Callable[[], None]


class World:
    """The desk (three drawers open on 23 November) and two funded wallets."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.services = desk.services
        self.cid = desk.customer("王芳", phone="13900000001")
        self.wid = desk.wallet(self.cid)
        self.cid2 = desk.customer("张三明", phone="13900000002")
        self.wid2 = desk.wallet(self.cid2)
        desk.cash.cash_in(desk.teller, self.wid, Money.of("10000"), idempotency_key=key())

    def supervisor_code(self) -> tuple[str, str]:
        password, secret = SUPERVISORS["super1"]
        self.desk.clock.advance(seconds=31)
        return password, pyotp.TOTP(secret).at(self.desk.clock.now())


# -- one case per entry kind: each prepares before midnight and returns what to do after it ------------------
def _cash_in(w: World) -> Action:
    return lambda: None if w.desk.cash.cash_in(w.desk.teller, w.wid, Money.of("100"), idempotency_key=key()) else None


def _cash_out(w: World) -> Action:
    return lambda: None if w.desk.cash.cash_out(w.desk.teller, w.wid, Money.of("100"), idempotency_key=key()) else None


def _cash_out_approved_remotely(w: World) -> Action:
    """The issue's case: a cash-out queued before midnight, approved by a supervisor at 00:30."""
    w.services.approvals.policy = ApprovalPolicy.from_dict({"rule": [
        {"id": "teller_cash_limit", "actions": ["cash_out"], "when": "over_role_limits",
         "effective_from": date(2020, 1, 1),
         "role": {"teller": {"cash_out_per_txn": "1,000", "cash_out_daily": "5,000"}}}]})
    w.desk.clock.set(MIDNIGHT - timedelta(minutes=2))  # 23:58: it waits past midnight
    with pytest.raises(ApprovalRequired) as caught:
        w.desk.cash.cash_out(w.desk.teller, w.wid, Money.of("1500"), idempotency_key=key())
    view = w.services.approvals.request(w.desk.teller, caught.value.details["spec"])

    def act() -> None:
        password, code = w.supervisor_code()
        decided = w.services.approvals.decide(w.desk.supervisor, view.id, approve=True, password=password,
                                              code=code, reason="known customer")
        assert decided.status == "consumed"
    return act


_cash_out_approved_remotely.when = MIDNIGHT + timedelta(minutes=1)  # type: ignore[attr-defined]  # within expiry


def _transfer_at_the_desk(w: World) -> Action:
    return lambda: None if w.desk.cash.transfer(w.desk.teller, w.wid, w.wid2, Money.of("50"),
                                                idempotency_key=key()) else None


def _transfer_at_the_kiosk(w: World) -> Action:
    kiosk = w.services.kiosk
    actor = kiosk.ensure_identity("K01")
    with w.desk.db.write() as s:
        c = s.get(Customer, w.cid)
        assert c is not None
        c.pin_hash = hash_pin(KIOSK_PIN)

    def act() -> None:
        session = kiosk.sign_in(actor, "13900000001", KIOSK_PIN)
        kiosk.transfer(actor, session, w.wid, "13900000002", Money.of("20"), idempotency_key=key())
    return act


def _reversal(w: World) -> Action:
    """The issue's case: a transaction of the day reversed after midnight (with its approval)."""
    entry = w.desk.cash.cash_in(w.desk.teller, w.wid, Money.of("30"), idempotency_key=key())

    def act() -> None:
        k = key()
        try:
            w.desk.cash.reverse(w.desk.teller, entry.entry_id, "wrong wallet", idempotency_key=k)
        except ApprovalRequired as err:
            approval_id = w.desk.approve(w.desk.teller, err.details["spec"])
            w.desk.cash.reverse(w.desk.teller, entry.entry_id, "wrong wallet", idempotency_key=k,
                                approval_id=approval_id)
    return act


def _dispute_correction(w: World) -> Action:
    """A dispute resolved in the customer's favour after midnight: the correction (with approval)."""
    entry = w.desk.cash.cash_out(w.desk.teller, w.wid, Money.of("40"), idempotency_key=key())
    case = w.services.cases.open_case(w.desk.teller, w.cid, "transaction_dispute", "cash-out not received",
                                      wallet_id=w.wid, entry_references=(entry.reference,))

    def act() -> None:
        k = key()
        try:
            w.services.disputes.resolve_with_correction(w.desk.teller, case.case_id, Money.of("40"), "refund",
                                                        idempotency_key=k)
        except ApprovalRequired as err:
            approval_id = w.desk.approve(w.desk.teller, err.details["spec"])
            w.services.disputes.resolve_with_correction(w.desk.teller, case.case_id, Money.of("40"), "refund",
                                                        idempotency_key=k, approval_id=approval_id)
    return act


def _linked(incoming: bool) -> Callable[[World], Action]:
    def case(w: World) -> Action:
        w.services.funding.link_now(w.desk.teller, w.cid, w.wid, "card", CARD, "Wang Fang")

        def act() -> None:
            if incoming:
                w.services.funding.top_up_from_linked(w.desk.teller, w.wid, Money.of("10"), idempotency_key=key())
            else:
                w.services.funding.withdraw_to_linked(w.desk.teller, w.wid, Money.of("10"), idempotency_key=key())
        return act
    return case


def _first_payment(w: World, wallet_id: int) -> None:
    """Issue 24: the welcome reward comes with the wallet's first payment (data/rewards.toml
    "first_use"), after the opening deposit: a deposit, then a payment."""
    w.services.cash.cash_in(w.desk.teller, wallet_id, Money.of("100"), idempotency_key=key())
    w.services.cash.cash_out(w.desk.teller, wallet_id, Money.of("10"), idempotency_key=key())


def _welcome_reward(w: World) -> Action:
    def act() -> None:
        result = w.services.onboarding.issue(w.desk.teller, full_data(), pin=ONBOARD_PIN, idempotency_key=key())
        assert result.reward_points > 0
        _first_payment(w, result.wallet.wallet_id)  # the reward, dated like the payment
    return act


def _points_forfeit(w: World) -> Action:
    result = w.services.onboarding.issue(w.desk.teller, full_data(tier={"tier": 3}, funding={"kind": "none"}),
                                         pin=ONBOARD_PIN,
                                         idempotency_key=key())
    assert result.reward_points > 0
    _first_payment(w, result.wallet.wallet_id)
    w.services.cash.cash_out(w.desk.teller, result.wallet.wallet_id, Money.of("90"), idempotency_key=key())
    return lambda: None if w.services.lifecycle.close(w.desk.teller, result.wallet.wallet_id, "moving away") else None


def _drawer_float(w: World) -> Action:
    teller3 = w.desk.staff("teller3")
    return lambda: w.desk.fund_drawer(teller3, Money.of("500"))


def _vault_transfer(w: World) -> Action:
    return lambda: None if w.services.drawers.transfer_with_vault(
        w.desk.teller, "to_vault", {"note:100": 1}, w.desk.credentials(w.desk.teller)) else None


def _close_drawer(short: Money) -> Callable[[World], Action]:
    def case(w: World) -> Action:
        return lambda: _count_and_close(w.desk, w.desk.teller2, short=short)
    return case


def _vault_receive(w: World) -> Action:
    return lambda: None if w.services.drawers.receive_into_vault(
        w.desk.supervisor, {"note:100": 10}, source="settlement", idempotency_key=key()) else None


def _drawer_handover(w: World) -> Action:
    """teller2's drawer offered and counted by teller9 before midnight, countersigned at 00:30."""
    desk, ho = w.desk, w.services.handover
    receiver = desk.staff("teller9")
    with desk.db.read() as s:
        bal = desk.ledger.balance(s, require_open_drawer(s, desk.teller2).account_id)
    ho.offer(desk.teller2, "teller9")
    held = bal.debits_posted - bal.credits_posted
    ho.count(receiver, "teller2", make_change(Money(held - held % 10)))

    def act() -> None:
        with pytest.raises(ApprovalRequired) as asked:
            ho.take_over(receiver, "teller2")
        ho.take_over(receiver, "teller2", approval_id=desk.approve(receiver, asked.value.details["spec"]))
    return act


def _raw_ledger(kind: EntryKind) -> Callable[[World], Action]:
    """Demo data and benchmarks post straight to the ledger, with no date (the ledger dates them)."""
    def case(w: World) -> Action:
        def act() -> None:
            ledger = w.services.ledger
            with w.desk.db.write() as s:
                vault = ledger.account_id(s, vault_code("B001"))
                equity = ledger.open_account(s, code="equity:B001:test", name="Equity", kind=AccountKind.EQUITY,
                                             branch_code="B001")
                raw = ledger.post(s, EntryRequest(f"raw-{kind}", kind, (debit(vault, Money(100)),
                                                                      credit(equity, Money(100))), None, "T01", "B001"))
                # As the demo and the bench loader do: a record attests the history loaded without
                # records of its own (check "A" of ledger verify).
                w.services.audit.append(s, Actor(None, "system:demo", "T01", "system"), "demo_build",
                                        detail={"history_until_seq": raw.seq})
        return act
    return case


CASES: dict[EntryKind, list[Callable[[World], Action]]] = {
    EntryKind.CASH_IN: [_cash_in],
    EntryKind.CASH_OUT: [_cash_out, _cash_out_approved_remotely],
    EntryKind.TRANSFER: [_transfer_at_the_desk, _transfer_at_the_kiosk],
    EntryKind.REVERSAL: [_reversal],
    EntryKind.DISPUTE_CORRECTION: [_dispute_correction],
    EntryKind.LINKED_TOP_UP: [_linked(True)],
    EntryKind.LINKED_WITHDRAW: [_linked(False)],
    EntryKind.WELCOME_REWARD: [_welcome_reward],
    EntryKind.POINTS_FORFEIT: [_points_forfeit],
    EntryKind.DRAWER_FLOAT: [_drawer_float],
    EntryKind.VAULT_TRANSFER: [_vault_transfer],
    EntryKind.OVER_SHORT: [_close_drawer(Money.of("10"))],
    EntryKind.DRAWER_RETURN: [_close_drawer(Money(0))],
    EntryKind.VAULT_RECEIVE: [_vault_receive],
    EntryKind.DRAWER_HANDOVER: [_drawer_handover],
    EntryKind.DEMO_VAULT_OPEN: [_raw_ledger(EntryKind.DEMO_VAULT_OPEN)],
    EntryKind.DEMO_DRAWER_ISSUE: [_raw_ledger(EntryKind.DEMO_DRAWER_ISSUE)],
    EntryKind.BENCH: [_raw_ledger(EntryKind.BENCH)],
}
PARAMS = [pytest.param(kind, case, id=f"{kind.value}-{case.__name__.strip('_') if case.__name__ != 'case' else i}")
          for kind, cases in CASES.items() for i, case in enumerate(cases)]


def test_every_entry_kind_has_a_midnight_case() -> None:
    assert set(EntryKind) == set(CASES), f"no midnight case for {sorted(set(EntryKind) - set(CASES))}"
    assert all(CASES.values())


# -- helpers ------------------------------------------------------------------------------------------------
def _count_and_close(desk: Desk, actor: Actor, *, short: Money = Money(0)) -> None:
    """Blind count (``short`` less than the drawer holds) and close with a supervisor's countersignature."""
    drawers = desk.services.drawers
    with desk.db.read() as s:
        bal = desk.ledger.balance(s, require_open_drawer(s, actor).account_id)
    held = bal.debits_posted - bal.credits_posted - short.minor
    drawers.submit_blind_count(actor, make_change(Money(held - held % 10)))
    drawers.close_drawer(actor, desk.credentials(actor), write_report=False)


def _close_the_day(desk: Desk) -> None:
    """Every drawer still open is counted and closed, then the business day closes."""
    with desk.db.read() as s:
        open_ids = list(s.execute(select(Drawer.staff_id).where(Drawer.status == DrawerStatus.OPEN)).scalars())
    for actor in (desk.teller, desk.teller2, desk.supervisor):
        if actor.staff_id in open_ids:
            _count_and_close(desk, actor)
            open_ids.remove(actor.staff_id)
    for staff_id in open_ids:  # a drawer the case opened
        with desk.db.read() as s:
            username = s.execute(select(Drawer.username).where(Drawer.staff_id == staff_id)).scalar_one()
        _count_and_close(desk, Actor(staff_id, username, "T01", "teller", "B001"))
    desk.services.drawers.close_business_day(desk.supervisor, desk.credentials(desk.supervisor), write_report=False)


def _dates_after(desk: Desk, moment: datetime) -> dict[str, date]:
    with desk.db.read() as s:
        rows = s.execute(select(JournalEntry.kind, JournalEntry.business_date)
                         .where(JournalEntry.posted_at >= moment)).all()
    return {f"{kind}#{i}": d for i, (kind, d) in enumerate(rows)}


# -- across midnight ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "case"), PARAMS)
def test_entry_kind_across_midnight(desk: Desk, kind: EntryKind, case: Callable[[World], Action]) -> None:  # noqa: F811
    w = World(desk)
    act = case(w)
    desk.clock.set(getattr(case, "when", AFTER_MIDNIGHT))
    act()
    posted = _dates_after(desk, MIDNIGHT)
    assert any(k.startswith(f"{kind.value}#") for k in posted), f"the case posted no {kind} entry: {posted}"
    assert set(posted.values()) == {DAY}, posted
    # The counter carries on: a cash-in, every drawer counted and closed, the day closed.
    after = desk.cash.cash_in(desk.teller, w.wid, Money.of("1"), idempotency_key=key())
    assert after.business_date == DAY
    _close_the_day(desk)
    assert set(_dates_after(desk, MIDNIGHT).values()) == {DAY}
    with desk.db.read() as s:
        report = verify_ledger(s)
    assert report.ok, report.render()


# -- after the close ----------------------------------------------------------------------------------------
def test_after_the_close_counter_is_refused_and_the_kiosk_dates_to_the_next_day(desk: Desk) -> None:  # noqa: F811
    w = World(desk)
    kiosk_act = _transfer_at_the_kiosk(w)
    desk.services.funding.link_now(desk.teller, w.cid, w.wid, "card", CARD, "Wang Fang")
    _close_the_day(desk)
    desk.clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))  # 20:00 on the 23rd, the day closed
    with pytest.raises(Conflict) as refused:  # a counter posting needs an open day
        desk.services.funding.top_up_from_linked(desk.teller, w.wid, Money.of("10"), idempotency_key=key())
    assert refused.value.code == "no_business_day"
    assert str(refused.value) == "No business day is open at this branch."
    kiosk_act()  # the kiosk keeps working after hours
    after_hours = _dates_after(desk, datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    # The kiosk transfer is the wallet's first payment: its first-use reward (issue 24) is dated with it.
    assert sorted(k.split("#")[0] for k in after_hours) == ["transfer", "welcome_reward"], after_hours
    assert set(after_hours.values()) == {DAY + timedelta(days=1)}, after_hours
    # Nothing went into the closed day; the next day opens and the counter posts on it.
    desk.clock.set(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))  # 09:00 on the 24th
    desk.fund_drawer(desk.teller)
    res = desk.cash.cash_in(desk.teller, w.wid, Money.of("1"), idempotency_key=key())
    assert res.business_date == DAY + timedelta(days=1)
    with desk.db.read() as s:
        report = verify_ledger(s)
    assert report.ok, report.render()


def test_no_business_day_message_is_translated() -> None:
    from teller_tui.common import i18n

    i18n.set_locale("zh_CN")
    assert i18n._("No business day is open at this branch.") != "No business day is open at this branch."


def test_a_day_is_never_opened_behind_after_hours_entries(desk: Desk) -> None:  # noqa: F811
    w = World(desk)
    kiosk_act = _transfer_at_the_kiosk(w)
    _close_the_day(desk)
    desk.clock.set(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))  # the 25th: the branch did not open on the 24th
    kiosk_act()
    assert set(_dates_after(desk, datetime(2026, 11, 25, 2, 0, tzinfo=UTC)).values()) == {date(2026, 11, 25)}
    with pytest.raises(Conflict) as behind:
        desk.services.drawers.open_business_day(desk.supervisor, date(2026, 11, 24))
    assert behind.value.code == "business_day_behind"
