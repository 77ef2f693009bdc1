"""Denomination arithmetic: validating a count of pieces, its value, and the pieces of a cash
transaction (what was received, the change due and the pieces given back)."""

from __future__ import annotations

from collections.abc import Mapping
from math import gcd

from teller_tui.branch.views import Tender
from teller_tui.common.errors import ValidationError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _
from teller_tui.common.money import Money, parse_money
from teller_tui.common.settings import Settings
from teller_tui.common.reference import count_total, denominations, make_change
from teller_tui.models.enums import DrawerEventKind

__all__ = ["clean_counts", "counts_total", "over_short_tolerance", "tender"]


def clean_counts(counts: Mapping[str, int], currency: str = "CNY") -> dict[str, int]:
    """Validate a count (keys, whole non-negative numbers) and drop zero entries."""
    count_total(counts, currency)
    return {k: int(v) for k, v in counts.items() if v}


def over_short_tolerance(settings: Settings) -> Money:
    """The difference a countersignature covers at a close or a hand-over (beyond it: ``over_short``)."""
    try:
        return parse_money(str(settings.over_short_tolerance), "CNY", allow_zero=True)
    except ValidationError:
        return Money.zero()


def counts_total(counts: Mapping[str, int], currency: str = "CNY") -> Money:
    """The value of a count such as ``{"note:100": 3, "coin:0.5": 2}``."""
    return count_total(counts, currency)


def _piece_gcd(currency: str) -> int:
    """The largest unit every denomination is a multiple of (CNY: 10 fen)."""
    out = 0
    for d in denominations(currency):
        out = gcd(out, d.value.minor)
    return out or 1


def tender(amount: Money, pieces: Mapping[str, int], change: Mapping[str, int] | None = None, *,
           kind: str = DrawerEventKind.CASH_IN) -> Tender:
    """Check the pieces of a cash transaction: counts × face values against the amount.

    Cash in: the pieces received must cover the amount; the change due is the excess, and
    ``change`` (pieces given back) must add up to it — without it, the fewest pieces are
    suggested. Cash out: the pieces paid out must add up to the amount exactly.
    """
    if kind not in (DrawerEventKind.CASH_IN, DrawerEventKind.CASH_OUT):
        raise ValidationError(_("Unknown cash transaction kind"), code="tender_kind")
    if amount.minor <= 0:
        raise ValidationError(_("Enter the amount first"), code="tender_amount")
    pieces = clean_counts(pieces, amount.currency)
    total = count_total(pieces, amount.currency)
    if kind == DrawerEventKind.CASH_OUT:
        if total != amount:
            raise ValidationError(_("The notes counted add up to {total}, not {amount}").format(
                total=format_money(total), amount=format_money(amount)), code="tender_mismatch")
        if change:
            raise ValidationError(_("No change is given on a cash payout"), code="tender_change")
        return Tender(kind, amount, pieces, total, Money.zero(amount.currency), {})
    if total < amount:
        raise ValidationError(_("The notes received ({total}) are less than the amount ({amount})").format(
            total=format_money(total), amount=format_money(amount)), code="tender_short")
    due = total - amount
    given: dict[str, int]
    if change is None:
        given = {}
        if due.minor and due.minor % _piece_gcd(amount.currency) == 0:
            given = make_change(due)
        # otherwise (fen below the smallest coin) the teller settles the odd fen by hand
    else:
        given = clean_counts(change, amount.currency)
        if count_total(given, amount.currency) != due:
            raise ValidationError(_("The change counted does not add up to the change due ({due})").format(
                due=format_money(due)), code="tender_change_mismatch")
    return Tender(kind, amount, pieces, total, due, given)
