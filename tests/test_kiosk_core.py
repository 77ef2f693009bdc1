"""KioskService: PIN sign-in and lockout, sessions, limits, masking, and the core refusing a kiosk."""

from __future__ import annotations

from typing import Any

import pytest

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.common.errors import AuthenticationFailed, LimitExceeded, NotFound, PermissionDenied
from teller_tui.kiosk.limits import KioskLimits
from teller_tui.kiosk.pins import CodeRequired, CustomerPinService, PinLocked
from teller_tui.kiosk.service import KioskService, kiosk_username
from teller_tui.kiosk.views import KioskSession
from teller_tui.common.money import Money

PIN = "246810"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXC"


class K:
    def __init__(self, desk: Desk) -> None:
        from teller_tui.auth.secretbox import SecretBox

        self.desk = desk
        self.box = SecretBox.ephemeral()
        self.limits = KioskLimits(Money.of("2000"), Money.of("5000"), 5, 20)
        from teller_tui.kiosk.guard import ResponsePacer, SignInGuard, TerminalThrottle

        self.guard = SignInGuard(self.box, attempts=5, lock_minutes=desk.settings.kiosk_pin_lock_minutes)
        self.slept: list[float] = []
        self.svc = KioskService(desk.db, desk.clock, desk.settings, desk.ledger, desk.audit, cash=desk.cash,
                                limits=self.limits, box=self.box, guard=self.guard,
                                pacer=ResponsePacer(1.0, sleep=self.slept.append),
                                throttle=TerminalThrottle(1000))
        self.actor = self.svc.ensure_identity("K01")
        self.pins = CustomerPinService(desk.db, desk.clock, desk.settings, desk.audit, guard=self.guard,
                                       outbox=desk.cash.outbox)

    def customer(self, name: str, phone: str, *, tier: int = 1, pin: str | None = PIN, totp: bool = False,
                 fund: str = "10000") -> tuple[int, int, str]:
        from teller_tui.auth.passwords import hash_pin
        from teller_tui.models import Customer, Wallet

        cid = self.desk.customer(name, phone=phone)
        wid = self.desk.wallet(cid, tier)
        with self.desk.db.write() as s:
            c = s.get(Customer, cid)
            c.pin_hash = hash_pin(pin) if pin else None
            if totp:
                c.totp_secret_enc = self.box.encrypt(TOTP_SECRET, context=f"customer:{cid}:totp")
            number = s.get(Wallet, wid).number
        if fund != "0":
            self.desk.cash.cash_in(self.desk.teller, wid, Money.of(fund), idempotency_key=key())
        return cid, wid, number


@pytest.fixture
def k(desk: Desk) -> K:  # noqa: F811
    return K(desk)


def _balance(desk: Desk, wid: int) -> Money:
    from teller_tui.models import Wallet

    with desk.db.read() as s:
        return desk.ledger.balance(s, s.get(Wallet, wid).account_id).posted


def test_identity_is_a_kiosk_staff_row_created_once(k: K) -> None:
    from sqlalchemy import func, select

    from teller_tui.models import Staff

    assert k.actor.role == "kiosk" and k.actor.username == "kiosk-k01" and k.actor.terminal_id == "K01"
    again = k.svc.ensure_identity("K01")
    assert again.staff_id == k.actor.staff_id
    with k.desk.db.read() as s:
        assert s.execute(select(func.count()).select_from(Staff).where(Staff.role == "kiosk")).scalar_one() == 1
    assert kiosk_username("Lobby 2!") == "kiosk-lobby2"


def test_sign_in_by_phone_or_wallet_and_account_view(k: K) -> None:
    cid, wid, number = k.customer("张三明", "13812345678")
    by_phone = k.svc.sign_in(k.actor, "138 1234 5678", PIN)
    assert by_phone.customer_id == cid and by_phone.wallet_ids == (wid,)
    assert by_phone.name_masked == "张*明"
    by_wallet = k.svc.sign_in(k.actor, number, PIN)
    acct = k.svc.account(k.actor, by_wallet)
    assert acct.name_masked == "张*明" and acct.phone_masked == "138****5678"
    (w,) = acct.wallets
    assert w.balance == Money.of("10000") and w.per_txn_limit == Money.of("2000") and w.left_today == Money.of("5000")
    assert number not in repr(acct)  # only masked numbers leave the core


def test_wrong_identifier_or_pin_fails_with_one_message(k: K) -> None:
    k.customer("王芳", "13900000001")
    with pytest.raises(AuthenticationFailed) as unknown:
        k.svc.sign_in(k.actor, "13900000009", PIN)
    with pytest.raises(AuthenticationFailed) as wrong:
        k.svc.sign_in(k.actor, "13900000001", "111111")
    assert str(unknown.value) == str(wrong.value)


def test_pin_locks_after_five_wrong_and_a_teller_unlocks(k: K) -> None:
    from teller_tui.models import Customer

    cid, _wid, _n = k.customer("王芳", "13900000002")
    for attempt in range(1, 5):
        with pytest.raises(AuthenticationFailed) as err:
            k.svc.sign_in(k.actor, "13900000002", "000000")
        assert not isinstance(err.value, PinLocked), attempt
    with pytest.raises(PinLocked):
        k.svc.sign_in(k.actor, "13900000002", "000000")  # the fifth
    with pytest.raises(PinLocked):
        k.svc.sign_in(k.actor, "13900000002", PIN)  # even the right PIN now
    with k.desk.db.read() as s:
        c = s.get(Customer, cid)
        assert c.pin_locked and c.pin_failed_attempts == 5
    # The kiosk cannot unlock itself; a teller can.
    with pytest.raises(PermissionDenied):
        k.pins.unlock_customer_pin(k.actor, cid)
    assert k.pins.unlock_customer_pin(k.desk.teller, cid) is True
    assert k.svc.sign_in(k.actor, "13900000002", PIN).customer_id == cid


def test_success_resets_the_counter(k: K) -> None:
    from teller_tui.models import Customer

    cid, _w, _n = k.customer("王芳", "13900000003")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            k.svc.sign_in(k.actor, "13900000003", "000000")
    k.svc.sign_in(k.actor, "13900000003", PIN)
    with k.desk.db.read() as s:
        assert s.get(Customer, cid).pin_failed_attempts == 0


def test_totp_required_where_enrolled_and_not_replayable(k: K) -> None:
    from teller_tui.auth.totp import current_step, totp_at

    k.customer("李四", "13900000004", totp=True)
    with pytest.raises(CodeRequired):
        k.svc.sign_in(k.actor, "13900000004", PIN)
    code = totp_at(TOTP_SECRET, current_step(k.desk.clock.now()))
    session = k.svc.sign_in(k.actor, "13900000004", PIN, code)
    assert isinstance(session, KioskSession)
    with pytest.raises(AuthenticationFailed):
        k.svc.sign_in(k.actor, "13900000004", PIN, code)  # replay


def test_every_method_needs_a_kiosk_actor_and_a_live_session(k: K) -> None:
    from dataclasses import replace

    _cid, wid, _n = k.customer("王芳", "13900000005")
    session = k.svc.sign_in(k.actor, "13900000005", PIN)
    with pytest.raises(PermissionDenied):
        k.svc.account(k.desk.teller, session)  # a teller cannot use the kiosk service
    with pytest.raises(PermissionDenied):
        k.svc.sign_in(k.desk.teller, "13900000005", PIN)
    forged = replace(session, token="forged")
    with pytest.raises(PermissionDenied):
        k.svc.account(k.actor, forged)
    other_customer = replace(session, customer_id=session.customer_id + 1)
    with pytest.raises(PermissionDenied):
        k.svc.history(k.actor, other_customer, wid)
    k.desk.clock.advance(minutes=2)  # idle longer than kiosk_idle_seconds
    with pytest.raises(PermissionDenied):
        k.svc.account(k.actor, session)
    session = k.svc.sign_in(k.actor, "13900000005", PIN)
    k.svc.sign_out(k.actor, session)
    with pytest.raises(PermissionDenied):
        k.svc.account(k.actor, session)


def test_wallets_of_another_customer_are_refused(k: K) -> None:
    _c1, w1, _n1 = k.customer("王芳", "13900000006")
    _c2, w2, _n2 = k.customer("赵六", "13900000007")
    session = k.svc.sign_in(k.actor, "13900000006", PIN)
    with pytest.raises(PermissionDenied):
        k.svc.history(k.actor, session, w2)
    with pytest.raises(PermissionDenied):
        k.svc.transfer(k.actor, session, w2, "13900000006", Money.of("1"), idempotency_key=key())
    assert k.svc.history(k.actor, session, w1)


def test_transfer_by_phone_masked_preview_ledger_terminal_and_receipt(k: K) -> None:
    from teller_tui.ledger import trial_balance
    from teller_tui.models import JournalEntry

    _c1, w1, _n1 = k.customer("王芳", "13900000008")
    _c2, w2, n2 = k.customer("张三明", "13812345678", fund="0")
    session = k.svc.sign_in(k.actor, "13900000008", PIN)
    preview = k.svc.preview_transfer(k.actor, session, w1, "13812345678", Money.of("100"))
    assert preview.allowed
    assert (preview.payee_name_masked, preview.payee_phone_masked) == ("张*明", "138****5678")
    assert n2 not in repr(preview)
    receipt = k.svc.transfer(k.actor, session, w1, "13812345678", Money.of("100"), idempotency_key="kk-1")
    assert _balance(k.desk, w1) == Money.of("9900") and _balance(k.desk, w2) == Money.of("100")
    assert "张*明" in receipt.receipt_text and "K01" in receipt.receipt_text
    # The customer's own copy: no teller, no signature lines (issue 18).
    assert "Self-service kiosk: customer copy" in receipt.receipt_text
    assert "signature" not in receipt.receipt_text and "kiosk-k01" not in receipt.receipt_text
    again = k.svc.transfer(k.actor, session, w1, "13812345678", Money.of("100"), idempotency_key="kk-1")
    assert again.replayed and again.reference == receipt.reference
    with k.desk.db.read() as s:
        from sqlalchemy import select

        e = s.execute(select(JournalEntry).where(JournalEntry.reference == receipt.reference)).scalar_one()
        assert (e.kind, e.terminal_id, e.actor_id) == ("transfer", "K01", k.actor.staff_id)
        assert set(trial_balance(s).values()) == {0}
    rows = k.svc.history(k.actor, session, w1)
    assert rows[0].kind == "transfer_out" and rows[0].amount == Money.of("-100")
    text = k.svc.history_text(k.actor, session, w1)
    assert "Transfer out" in text and "9,900.00" in text


def test_kiosk_limits_per_transaction_and_per_day(k: K) -> None:
    _c1, w1, _n1 = k.customer("王芳", "13900000010", fund="20000")
    _c2, _w2, n2 = k.customer("赵六", "13900000011", fund="0")
    session = k.svc.sign_in(k.actor, "13900000010", PIN)
    with pytest.raises(LimitExceeded) as per_txn:
        k.svc.transfer(k.actor, session, w1, n2, Money.of("2000.01"), idempotency_key=key())
    assert per_txn.value.code == "kiosk_per_txn"
    assert not k.svc.preview_transfer(k.actor, session, w1, n2, Money.of("2000.01")).allowed
    k.svc.transfer(k.actor, session, w1, n2, Money.of("2000"), idempotency_key=key())
    k.svc.transfer(k.actor, session, w1, n2, Money.of("2000"), idempotency_key=key())
    assert k.svc.account(k.actor, session).wallets[0].left_today == Money.of("1000")
    with pytest.raises(LimitExceeded) as daily:
        k.svc.transfer(k.actor, session, w1, n2, Money.of("1000.01"), idempotency_key=key())
    assert daily.value.code == "kiosk_daily"
    k.svc.transfer(k.actor, session, w1, n2, Money.of("1000"), idempotency_key=key())
    # Counter transfers by a teller do not use up the kiosk allowance, but the class limits still apply.
    k.desk.next_business_day()  # the kiosk day is the business day
    session = k.svc.sign_in(k.actor, "13900000010", PIN)
    assert k.svc.account(k.actor, session).wallets[0].left_today == Money.of("5000")


def test_class_limits_below_kiosk_limits_apply(k: K) -> None:
    # Class 4 (the 2021 classes): 2,000 a payment, 5,000 a day, as the kiosk's own limits; the class's
    # day is shared with the counter, so after 2,000 paid out there the class leaves 3,000 today.
    _c1, w1, _n1 = k.customer("王芳", "13900000012", tier=4, fund="9000")
    _c2, _w2, n2 = k.customer("赵六", "13900000013", fund="0")
    k.desk.cash.cash_out(k.desk.teller, w1, Money.of("2000"), idempotency_key=key())
    session = k.svc.sign_in(k.actor, "13900000012", PIN)
    acct = k.svc.account(k.actor, session)
    assert acct.wallets[0].per_txn_limit == Money.of("2000")
    assert acct.wallets[0].left_today == Money.of("3000")
    k.svc.transfer(k.actor, session, w1, n2, Money.of("2000"), idempotency_key=key())
    with pytest.raises(LimitExceeded) as err:
        k.svc.transfer(k.actor, session, w1, n2, Money.of("1000.01"), idempotency_key=key())
    assert err.value.code == "tier_daily"


def test_unknown_payee(k: K) -> None:
    _c1, w1, _n1 = k.customer("王芳", "13900000014")
    session = k.svc.sign_in(k.actor, "13900000014", PIN)
    with pytest.raises(NotFound):
        k.svc.preview_transfer(k.actor, session, w1, "13700000000", Money.of("1"))


def test_kiosk_identity_is_refused_by_teller_services(k: K) -> None:
    _cid, wid, _n = k.customer("王芳", "13900000015")
    _c2, w2, _n2 = k.customer("赵六", "13900000016", fund="0")
    cash: Any = k.desk.cash
    calls = [
        lambda: cash.cash_in(k.actor, wid, Money.of("1"), idempotency_key=key()),
        lambda: cash.cash_out(k.actor, wid, Money.of("1"), idempotency_key=key()),
        lambda: cash.transfer(k.actor, wid, w2, Money.of("1"), idempotency_key=key()),
        lambda: cash.reverse(k.actor, 1, "x", idempotency_key=key()),
    ]
    from teller_tui.wallets.lifecycle import LifecycleService

    life = LifecycleService(k.desk.db, k.desk.clock, k.desk.settings, k.desk.ledger, k.desk.audit, k.desk.cash.tiers,
                            box=k.box, approvals=k.desk.cash.approvals, outbox=k.desk.services.outbox,
                            consent=k.desk.services.consent_gate)
    calls += [
        lambda: life.freeze(k.actor, wid, "lost phone"),
        lambda: life.unfreeze(k.actor, wid, "found"),
        lambda: life.change_tier(k.actor, wid, 2),
        lambda: life.replace_device(k.actor, wid, new_pin="135790"),
        lambda: life.close(k.actor, wid, "moving"),
    ]
    from teller_tui.auth.service import AuthService

    auth = AuthService(k.desk.db, k.desk.clock, k.desk.settings, k.desk.audit, secretbox=k.box)
    calls += [
        lambda: auth.create_staff(k.actor, "evil", "Evil", "admin"),
        lambda: auth.unlock(k.actor, "teller1"),
        lambda: auth.reset_totp(k.actor, "teller1"),
        lambda: k.pins.unlock_customer_pin(k.actor, _cid),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(PermissionDenied):
            call()
            pytest.fail(f"call {i} was allowed")
    assert _balance(k.desk, wid) == Money.of("10000")


def test_require_role_guard() -> None:
    from teller_tui.audit.trail import Actor
    from teller_tui.auth.roles import require_role

    require_role(Actor(1, "t", "T01", "teller"), "teller")
    with pytest.raises(PermissionDenied):
        require_role(Actor(1, "k", "K01", "kiosk"), "teller", "supervisor")
    with pytest.raises(PermissionDenied):
        require_role(None, "teller")
    with pytest.raises(PermissionDenied):
        require_role(Actor(1, "t", "T01", "teller"))


def test_limits_file_loads() -> None:
    limits = KioskLimits.load()
    assert limits.per_txn <= limits.daily and limits.pin_attempts == 5
    from teller_tui.wallets.classes import default_table

    # Kiosk limits sit below the strongest class's own limits.
    tier1 = default_table().tier(1, on=__import__("datetime").date(2026, 1, 1))
    assert tier1.per_txn is not None and limits.per_txn <= tier1.per_txn
    assert tier1.daily is None  # the 2021 classes: class 1 has no daily cap
