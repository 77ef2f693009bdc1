"""The printable wallet statement a kiosk hands out (masked; cell-aligned for CJK)."""

from __future__ import annotations

from collections.abc import Sequence

from teller_tui.common.formatting import format_datetime, format_money, pad
from teller_tui.kiosk.views import KioskHistoryRow

_LABELS = {"cash_in": ("Cash in", "现金存入"), "cash_out": ("Cash out", "现金支取"),
           "transfer_in": ("Transfer in", "转入"), "transfer_out": ("Transfer out", "转出"),
           "reversal": ("Reversal", "冲正")}


def render_statement(rows: Sequence[KioskHistoryRow], *, name_masked: str, number_masked: str, locale: str,
                     width: int = 80) -> str:
    """``rows`` (newest first) under a header naming the customer and wallet, masked by the caller."""
    zh = locale.startswith("zh")
    out = ["钱包交易明细" if zh else "WALLET STATEMENT", ("客户 " if zh else "Customer ") + name_masked,
           ("钱包 " if zh else "Wallet ") + number_masked, "=" * width]
    for r in rows:
        label = _LABELS.get(r.kind, (r.kind, r.kind))[1 if zh else 0]
        out.append(pad(format_datetime(r.posted_at, locale), 20, clip=True) + " " + pad(label, 14, clip=True) + " "
                   + pad(format_money(r.amount, locale, sign=True), 18, "right", clip=True) + " "
                   + pad(format_money(r.balance_after, locale), 18, "right", clip=True))
    out.append("=" * width)
    return "\n".join(line.rstrip() for line in out) + "\n"
