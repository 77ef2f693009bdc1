"""Card-like numbers: the Luhn check, bank cards (bank by BIN), bank accounts and wallet numbers.

Bank cards: 16-19 digits (spaces/hyphens allowed), Luhn-valid (masked by :func:`teller_tui.common.masks.mask_card`). Accounts that are not cards: 10-25 digits. Wallet numbers:
``8600`` + an 11-digit sequence + a Luhn check digit (16 digits).
"""

from __future__ import annotations

from dataclasses import dataclass

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.masks import mask_card
from teller_tui.common.reference import UNKNOWN_BANK, Bank, BankTable, bank_for_card
from teller_tui.wallets.identity.text import compact

__all__ = [
    "WALLET_PREFIX",
    "BankCard",
    "format_wallet_number",
    "luhn_check_digit",
    "luhn_ok",
    "make_wallet_number",
    "validate_bank_account",
    "validate_bank_card",
    "validate_wallet_number",
]


def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit to append to ``payload`` (digits)."""
    if not payload.isascii() or not payload.isdigit():
        raise ValueError("Luhn payload must be digits")
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(digits: str) -> bool:
    """Whether ``digits`` (at least 2 ASCII digits, check digit last) passes the Luhn check."""
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    return luhn_check_digit(digits[:-1]) == digits[-1]


@dataclass(frozen=True, slots=True)
class BankCard:
    number: str  # digits only
    bank: Bank  # UNKNOWN_BANK when the BIN is not in the table
    bin_prefix: str | None  # the matched prefix, None when unknown

    @property
    def bank_code(self) -> str:
        return self.bank.code

    @property
    def masked(self) -> str:
        return mask_card(self.number)


def validate_bank_card(number: str, *, table: BankTable | None = None) -> BankCard:
    """A bank card number: 16-19 digits (spaces/hyphens allowed), Luhn-valid; bank by BIN."""
    s = compact(number, _("Card number"))
    if not s:
        raise ValidationError(_("Enter the card number"), code="card_empty")
    if not s.isascii() or not s.isdigit():
        raise ValidationError(_("A card number contains only digits"), code="card_format")
    if not 16 <= len(s) <= 19:
        raise ValidationError(
            _("A card number has 16 to 19 digits; this one has {count}").format(count=len(s)), code="card_length"
        )
    if not luhn_ok(s):
        raise ValidationError(_("The card number's check digit does not match: re-check each digit"),
                              code="card_check")
    found = bank_for_card(s, table)
    if found is None:
        return BankCard(s, UNKNOWN_BANK, None)
    prefix, bank = found
    return BankCard(s, bank, prefix)


def validate_bank_account(number: str) -> str:
    """A bank account number that is not a card: 10-25 digits (spaces/hyphens allowed)."""
    s = compact(number, _("Account number"))
    if not s:
        raise ValidationError(_("Enter the account number"), code="account_empty")
    if not s.isascii() or not s.isdigit():
        raise ValidationError(_("An account number contains only digits"), code="account_format")
    if not 10 <= len(s) <= 25:
        raise ValidationError(
            _("An account number has 10 to 25 digits; this one has {count}").format(count=len(s)),
            code="account_length",
        )
    return s


# -- wallet numbers ---------------------------------------------------------------------------
#: Wallet numbers are ``8600`` + an 11-digit sequence + a Luhn check digit (16 digits).
WALLET_PREFIX = "8600"
_WALLET_SEQ_DIGITS = 11


def make_wallet_number(seq: int) -> str:
    """The wallet number of sequence ``seq`` (0 <= seq < 10**11)."""
    if type(seq) is not int or not 0 <= seq < 10**_WALLET_SEQ_DIGITS:
        raise ValueError("wallet sequence out of range")
    payload = f"{WALLET_PREFIX}{seq:0{_WALLET_SEQ_DIGITS}d}"
    return payload + luhn_check_digit(payload)


def validate_wallet_number(number: str) -> str:
    """A wallet number as typed (spaces allowed); returns the 16 digits."""
    s = compact(number, _("Wallet number"))
    if len(s) != 16 or not s.isascii() or not s.isdigit() or not s.startswith(WALLET_PREFIX):
        raise ValidationError(
            _("A wallet number has 16 digits and begins {prefix}").format(prefix=WALLET_PREFIX),
            code="wallet_number_format",
        )
    if not luhn_ok(s):
        raise ValidationError(
            _("The wallet number's check digit does not match: re-check each digit"), code="wallet_number_check"
        )
    return s


def format_wallet_number(number: str) -> str:
    """``8600000000000017`` -> ``8600 0000 0000 0017`` (for display)."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
