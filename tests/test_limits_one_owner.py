"""One owner for wallet-class limits: a reversed debit counts the same in every limit check.

The rule (teller_tui.wallets.limits): a debit that was reversed does not count against the
daily and yearly limits, and neither does a reversal. Each case builds the real core with
``make_services`` (through the desk harness), gives a class 3 wallet (daily limit 2,000.00,
balance limit 2,000.00) a 1,500.00 cash out today, and then either reverses it or lets it stand
(topping the balance back up, so both worlds hold the same 2,000.00). Then one channel asks for
what only the reversed world allows:

* desk cash out of 2,000.00 (the preview and the posting);
* linked withdrawal of 2,000.00 (funding);
* kiosk transfer of 2,000.00 (and the kiosk's "left today");
* lifecycle class change to class 4 (daily limit 1,000.00): usage carries over.

With the debit reversed every channel allows it; with the debit standing every channel refuses
it with ``tier_daily`` (the negative control). A channel that counted reversed debits, or one
that ignored usage, fails one of the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest

from desk_harness import Desk, make_desk
from teller_tui.auth.passwords import hash_pin, test_parameters
from teller_tui.auth.service import system_actor
from teller_tui.common.clock import FakeClock, local_date
from teller_tui.common.errors import ApprovalRequired, LimitExceeded
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.models import Customer
from teller_tui.wallets.identity import luhn_check_digit
from teller_tui.wallets.limits import wallet_usage

CHANNELS = ("desk_cash_out", "funding_withdrawal", "kiosk_transfer", "lifecycle_class_change")
APPROVER_PW = "approver long passphrase 1"
APPROVER_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"
KIOSK_PIN = "246810"
CARD_BODY = "622202123456789"


class World:
    """The desk harness's core, plus a supervisor who approves at the counter."""

    def __init__(self, desk: Desk) -> None:
        self.desk, self.services, self.clock = desk, desk.services, desk.clock
        self.teller = desk.actor
        with test_parameters():
            self.services.auth.create_staff(system_actor(self.services.settings), "approver", "Approver",
                                            "supervisor", password=APPROVER_PW, totp_secret=APPROVER_SECRET)
        self.customer_id = desk.customers["li"]  # 李娜, ID seen in person
        self.wallet_id = desk.wallets["li"].wallet_id  # class 3, empty

    def approve(self, spec: Any) -> int:
        self.clock.advance(seconds=31)  # a fresh TOTP step for every approval
        code = pyotp.TOTP(APPROVER_SECRET).at(self.clock.now())
        return int(self.services.approvals.approve_at_counter(self.teller, spec, "approver", APPROVER_PW,
                                                               code).approval_id)

    def reverse(self, entry_id: int) -> None:
        cash, k = self.services.cash, key()
        with pytest.raises(ApprovalRequired) as asked:
            cash.reverse(self.teller, entry_id, "teller error", idempotency_key=k)
        cash.reverse(self.teller, entry_id, "teller error", idempotency_key=k,
                     approval_id=self.approve(asked.value.details["spec"]))

    def cash(self, kind: str, amount: str) -> int:
        move = self.services.cash.cash_in if kind == "in" else self.services.cash.cash_out
        return move(self.teller, self.wallet_id, Money.of(amount), idempotency_key=key()).entry_id

    def used_today(self) -> Money:
        with self.services.db.read() as s:
            wallet = self.services.wallets.get_wallet(self.wallet_id)
            return wallet_usage(s, wallet.account_id, local_date(self.clock.now())).out_today  # the open day

    def balance(self) -> Money:
        return self.services.customers.get_customer(self.customer_id).wallets[0].balance


#: The 2020 class limits (data/wallet_tiers.toml) are the ones this world's figures are drawn for: under the
#: 2021 classes no class has a daily limit below class 3's, which the class-change case needs.
WORLD_START = datetime(2021, 3, 1, 1, 30, tzinfo=UTC)


@pytest.fixture
def world(tmp_path: Path, db_path: Path, db: Any) -> World:
    return World(make_desk(tmp_path, db_path, db, FakeClock(WORLD_START)))


def _debit_today(w: World, *, reversed_: bool) -> int:
    """A 1,500.00 cash out today, reversed or standing; the balance ends at 2,000.00 either way.
    Returns the entry id of the second 1,000.00 cash in (the lifecycle case takes it back)."""
    w.cash("in", "1000")
    second = w.cash("in", "1000")
    debit = w.cash("out", "1500")
    if reversed_:
        w.reverse(debit)
    else:
        w.cash("in", "1500")
    assert w.balance() == Money.of("2000")
    assert w.used_today() == (Money.of("0") if reversed_ else Money.of("1500"))
    return second


def _desk_cash_out(w: World) -> None:
    preview = w.services.cash.preview_cash_out(w.teller, w.wallet_id, Money.of("2000"))
    if preview.refusal_code is not None:  # the preview and the posting apply the same rule
        assert preview.refusal_code == "tier_daily", preview.refusal
    w.cash("out", "2000")


def _funding_withdrawal(w: World) -> None:
    card = CARD_BODY + luhn_check_digit(CARD_BODY)
    w.services.funding.link_now(w.teller, w.customer_id, w.wallet_id, "card", card, "李娜")
    w.services.funding.withdraw_to_linked(w.teller, w.wallet_id, Money.of("2000"), idempotency_key=key("fund"))


def _kiosk_transfer(w: World) -> None:
    with w.services.db.write() as s:
        row = s.get(Customer, w.customer_id)
        assert row is not None
        row.pin_hash = hash_pin(KIOSK_PIN)
    kiosk = w.services.kiosk
    actor = kiosk.ensure_identity("K01")
    session = kiosk.sign_in(actor, w.desk.wallets["li"].number, KIOSK_PIN)
    (mine,) = kiosk.account(actor, session).wallets
    left_today = mine.left_today
    kiosk.transfer(actor, session, w.wallet_id, w.desk.wallets["wang"].number, Money.of("2000"),
                   idempotency_key=key("kiosk"))
    assert left_today == Money.of("2000")  # reached only when the posting was allowed


def _lifecycle_class_change(w: World, second_cash_in: int) -> None:
    w.reverse(second_cash_in)  # a reversal of money in: not a payment, the balance drops to 1,000.00
    assert w.balance() == Money.of("1000")
    changed = w.services.lifecycle.change_tier(w.teller, w.wallet_id, 4, reason="customer asked")
    assert changed.tier == 4


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("reversed_", [True, False], ids=["reversed", "standing"])
def test_a_reversed_debit_counts_the_same_in_every_limit_check(world: World, channel: str,
                                                               reversed_: bool) -> None:
    with test_parameters():
        second = _debit_today(world, reversed_=reversed_)

        def attempt() -> None:
            if channel == "desk_cash_out":
                _desk_cash_out(world)
            elif channel == "funding_withdrawal":
                _funding_withdrawal(world)
            elif channel == "kiosk_transfer":
                _kiosk_transfer(world)
            else:
                _lifecycle_class_change(world, second)

        if reversed_:
            attempt()  # the reversed 1,500.00 gave the allowance back
        else:
            with pytest.raises(LimitExceeded) as refused:
                attempt()
            assert refused.value.code == "tier_daily", (channel, str(refused.value))
            assert "1,500.00" in str(refused.value)  # what was used, formatted for the teller
