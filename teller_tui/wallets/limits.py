"""Wallet-class limits: the one owner of what a class allows and of what a wallet has used.

Every limit a wallet's class sets (``data/wallet_tiers.toml``, :mod:`teller_tui.wallets.classes`)
is checked here, whoever moves the money: the desk (cash out, transfers, cash in), linked
top-up and withdrawal, the kiosk (through the desk's transfer rules) and a class change.

Public API::

    t = class_limits(tiers, tier, on)                       # -> Tier in force on ``on``
    u = wallet_usage(session, account_id, on, "CNY")        # -> WalletUsage (today, this year)
    check_payment_out(session, tiers, tier=, account_id=, amount=, on=)   # per payment, day, year
    check_money_in(tiers, tier=, balance_after=, on=)                    # balance limit
    check_class_change(session, tiers, tier=, account_id=, balance=, on=)  # a wallet moving class
    left = room_today(session, tiers, tier=, account_id=, on=, currency=)  # still payable today

Each check raises :class:`~teller_tui.common.errors.LimitExceeded` with a stable code
(``tier_per_txn``, ``tier_daily``, ``tier_yearly``, ``tier_balance_cap``) and a message with the
limit (and what was used) formatted as money for the teller.

Rules (decided here, once):

* **Dating.** Usage is counted by the entries' business dates: "today" is the business day the
  caller passes as ``on`` (every caller passes the branch's open business day,
  :func:`teller_tui.ledger.business_day.current_business_date`), "this year" runs from 1 January
  of that day's year up to it. The limits are those in force on ``on``.
* **Reversals.** A debit that was reversed does not count, and neither does a reversal entry
  itself. A reversal undoes a payment that the customer did not end up making (a cash out taken
  back the same day, a mistaken transfer); counting it would spend the customer's allowance on
  a teller's correction, and counting the reversal of money *in* as a payment out would do the
  same. Only postings that still stand count, so ``used today`` on the profile, the desk's
  refusal and the kiosk's "left today" always agree with the ledger the customer sees.
* **Direction.** Per-payment, daily and yearly limits bound money leaving the wallet; the
  balance limit bounds money coming in. Pending debits (holds awaiting approval) are not usage
  until posted.
* **Unlimited.** A limit the class file gives as ``"unlimited"`` is ``None`` and is never checked;
  :func:`room_today` is ``None`` when neither the daily nor the yearly limit applies.
* **Class change.** A wallet moving to another class must fit every limit of the new class at
  once: its balance within the balance limit and what it already paid out today and this year
  within the daily and yearly limits (usage carries over; changing class never resets it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from teller_tui.common.errors import LimitExceeded
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.ledger.usage import usage_between
from teller_tui.wallets.classes import Tier, TierTable

__all__ = [
    "WalletUsage",
    "check_class_change",
    "check_money_in",
    "check_payment_out",
    "class_limits",
    "room_today",
    "wallet_usage",
]


@dataclass(frozen=True, slots=True)
class WalletUsage:
    """What a wallet moved, counted by the rules in the module docstring."""

    out_today: Money  # paid out on the business day
    out_year: Money  # paid out this calendar year, up to and including the business day
    in_today: Money  # paid in on the business day


def class_limits(tiers: TierTable, tier: int, on: date) -> Tier:
    """The limits of class ``tier`` in force on ``on`` (NotFound when none are)."""
    return tiers.tier(tier, on=on)


def wallet_usage(session: Session, account_id: int, on: date, currency: str = "CNY") -> WalletUsage:
    """The wallet account's usage on business day ``on`` and in its year: the ledger's per-day rows
    (:mod:`teller_tui.ledger.usage`, kept with the reversal rule above), at most a year of them read
    by their key, however long the wallet's history."""
    out_today, out_year, in_today = usage_between(session, account_id, date(on.year, 1, 1), on)
    return WalletUsage(Money(out_today, currency), Money(out_year, currency), Money(in_today, currency))


def check_payment_out(session: Session, tiers: TierTable, *, tier: int, account_id: int, amount: Money,
                      on: date) -> None:
    """Refuse a payment of ``amount`` out of the wallet that its class does not allow on ``on``:
    above the per-payment limit, or taking the day's or the year's total over its limit."""
    t = class_limits(tiers, tier, on)
    if t.per_txn is not None and amount > t.per_txn:
        raise LimitExceeded(_("Above the class {tier} limit of {limit} for one payment").format(
            tier=tier, limit=format_money(t.per_txn)), code="tier_per_txn")
    _check_usage(wallet_usage(session, account_id, on, amount.currency), t, tier, amount)


def check_money_in(tiers: TierTable, *, tier: int, balance_after: Money, on: date) -> None:
    """Refuse money in that would take the wallet's balance over its class's balance limit."""
    t = class_limits(tiers, tier, on)
    if t.balance_cap is not None and balance_after > t.balance_cap:
        raise LimitExceeded(_("This would take the wallet over its class {tier} balance limit of {cap}").format(
            tier=tier, cap=format_money(t.balance_cap)), code="tier_balance_cap")


def check_class_change(session: Session, tiers: TierTable, *, tier: int, account_id: int, balance: Money,
                       on: date) -> None:
    """Refuse moving a wallet holding ``balance`` into class ``tier`` when it would not fit the new
    class's limits: the balance limit, and what was paid out today and this year."""
    t = class_limits(tiers, tier, on)
    if t.balance_cap is not None and balance > t.balance_cap:
        raise LimitExceeded(_("The balance {balance} is above the class {tier} limit of {cap}: "
                              "pay some out first").format(balance=format_money(balance), tier=tier,
                                                           cap=format_money(t.balance_cap)),
                            code="tier_balance_cap")
    _check_usage(wallet_usage(session, account_id, on, balance.currency), t, tier, Money.zero(balance.currency))


def room_today(session: Session, tiers: TierTable, *, tier: int, account_id: int, on: date,
               currency: str) -> Money | None:
    """What the class still lets the wallet pay out on ``on`` (the daily and yearly limits left;
    never below zero; None when the class has neither). The per-payment limit is separate:
    :func:`class_limits`."""
    t = class_limits(tiers, tier, on)
    if t.daily is None and t.yearly is None:
        return None
    used = wallet_usage(session, account_id, on, currency)
    rooms = [lim.minor - u.minor for lim, u in ((t.daily, used.out_today), (t.yearly, used.out_year))
             if lim is not None]
    return Money(max(min(rooms), 0), currency)


def _check_usage(used: WalletUsage, t: Tier, tier: int, amount: Money) -> None:
    if t.daily is not None and used.out_today.minor + amount.minor > t.daily.minor:
        raise LimitExceeded(_("Above the class {tier} daily limit of {limit} (already {used} today)").format(
            tier=tier, limit=format_money(t.daily), used=format_money(used.out_today)), code="tier_daily")
    if t.yearly is not None and used.out_year.minor + amount.minor > t.yearly.minor:
        raise LimitExceeded(_("Above the class {tier} yearly limit of {limit}").format(
            tier=tier, limit=format_money(t.yearly)), code="tier_yearly")
