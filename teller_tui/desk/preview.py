"""Building the :class:`~teller_tui.desk.cash_types.Preview` the confirmation dialog shows.

A preview never raises for business rules: ``refusal`` carries the hard refusal and
``approval_reasons`` what a supervisor must approve.
"""

from __future__ import annotations

from collections.abc import Sequence

from teller_tui.common.errors import DomainError
from teller_tui.common.formatting import amount_in_words
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import LimitsLeft, Preview, WalletSide
from teller_tui.ledger.kinds import EntryKind


def amount_words(m: Money) -> str:
    """The amount in words for the dialog; "" when it cannot be spelled out."""
    try:
        return amount_in_words(m)
    except Exception:  # noqa: BLE001 - the preview shows the figures without the words
        return ""


def _code(refusal: Exception | None) -> str | None:
    return refusal.code if isinstance(refusal, DomainError) else None


def cash_preview(kind: str, src: WalletSide, dst: WalletSide | None, amount: Money, *,
                 refusal: Exception | None, reasons: Sequence[str], rules: Sequence[str],
                 left: LimitsLeft | None = None) -> Preview:
    """Cash in / cash out / transfer: the source wallet's balance before and after."""
    sign = 1 if kind == EntryKind.CASH_IN else -1
    before = Money(src.balance, src.wallet.currency)
    after = Money(src.balance + sign * amount.minor, src.wallet.currency)
    return Preview(
        kind=kind, customer_name=src.customer.full_name, wallet_number=src.wallet.number, amount=amount,
        amount_words=amount_words(amount) if amount.currency == "CNY" else "", balance_before=before,
        balance_after=after, approval_reasons=list(reasons), approval_rules=list(rules),
        refusal=str(refusal) if refusal is not None else None, refusal_code=_code(refusal),
        counterparty_name=dst.customer.full_name if dst else "",
        counterparty_wallet=dst.wallet.number if dst else "",
        customer_id=src.wallet.customer_id, wallet_id=src.wallet.id, left=left or LimitsLeft())


def reversal_preview(src: WalletSide, amount: Money, *, refusal: DomainError | None, reasons: Sequence[str],
                     rules: Sequence[str]) -> Preview:
    """Undoing ``amount`` (signed: + money into the wallet) takes it out again and vice versa."""
    delta = -amount.minor
    return Preview(kind=EntryKind.REVERSAL, customer_name=src.customer.full_name, wallet_number=src.wallet.number,
                   amount=abs(amount), amount_words=amount_words(abs(amount)),
                   balance_before=Money(src.balance, amount.currency),
                   balance_after=Money(src.balance + delta, amount.currency),
                   refusal=str(refusal) if refusal else None,
                   refusal_code=_code(refusal), customer_id=src.wallet.customer_id,
                   wallet_id=src.wallet.id, approval_reasons=list(reasons), approval_rules=list(rules))
