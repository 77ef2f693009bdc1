"""Plain-text receipts for an 80-column printer or an 80 mm (48/42) or 58 mm (32-column) roll.

Public API::

    data = ReceiptData(kind=..., reference=..., ...)            # everything printed, already masked
    text = render_receipt(data, width=80, locale=None)          # width 80 or 32; str ending in "\\n"
    # No file per posting: a copy is saved only when a print does not happen (printing.KeepCopy).

Alignment counts terminal cells (CJK characters take two), so columns line up in both languages.
Every user-supplied string is sanitised (:func:`teller_tui.common.text.clean_text`) before printing.
Names and wallet numbers are masked by the caller (:mod:`teller_tui.common.masks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime
from typing import Literal

from teller_tui.common.formatting import amount_in_words, display_width, format_datetime, format_money, pad
from teller_tui.common.i18n import get_locale
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.notify.preferences import LARGE_PRINT_MARKS

__all__ = ["WIDTHS", "ReceiptData", "render_receipt", "reprint_label"]

WIDTHS = (80, 64, 48, 42, 32)  # 80: A4/dot matrix; 48 or 42: 80 mm roll; 32: 58 mm roll


@dataclass(frozen=True, slots=True)
class ReceiptData:
    kind: str  # cash_in | cash_out | transfer | reversal
    reference: str
    posted_at: datetime
    business_date: date
    branch_code: str
    terminal_id: str
    teller: str  # username or display name
    customer_name: str  # masked
    wallet_number: str  # masked
    amount: Money
    new_balance: Money | None
    memo: str = ""
    counterparty_name: str = ""  # transfer: receiving customer, masked
    counterparty_wallet: str = ""  # masked
    reverses_reference: str = ""
    bank_name: str = ""
    copy_label: str = ""  # e.g. "REPRINT"
    channel: str = "counter"  # "kiosk": the customer's own copy (no teller, no signature lines)
    consent: str = ""  # the customer's consent: "pin" (on the customer display) or "id_check"
    watermark: str = ""  # training mode: printed first and last (teller_tui.common.watermark)
    locale: str = ""  # the customer's preferred language ("" = the terminal's); render_receipt's locale wins
    large_print: bool = False  # low vision / elderly: half as many columns, printed double size


_TITLES: dict[str, dict[str, str]] = {
    "en": {"cash_in": "CASH DEPOSIT TO WALLET", "cash_out": "CASH WITHDRAWAL FROM WALLET",
           "transfer": "WALLET TRANSFER", "reversal": "REVERSAL",
           "linked_top_up": "TOP-UP FROM LINKED BANK ACCOUNT", "linked_withdraw": "WITHDRAWAL TO LINKED BANK ACCOUNT"},
    "zh_CN": {"cash_in": "钱包现金存入", "cash_out": "钱包现金支取", "transfer": "钱包转账", "reversal": "冲正",
              "linked_top_up": "银行账户兑换至钱包", "linked_withdraw": "钱包兑回至银行账户"},
}
_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "branch": "Branch", "terminal": "Terminal", "teller": "Teller", "reference": "Reference",
        "date": "Date/time", "business_date": "Business date", "customer": "Customer", "wallet": "Wallet",
        "to_customer": "Payee", "to_wallet": "To wallet", "amount": "Amount", "in_words": "In words",
        "balance": "New balance", "memo": "Memo", "reverses": "Reverses", "signature": "Customer signature",
        "teller_sig": "Teller", "keep": "Please keep this receipt.", "bank": "Digital Wallet Counter",
        "kiosk": "Self-service kiosk: customer copy",
        "consent": "Consent", "pin": "Customer PIN on the customer display",
        "id_check": "ID re-checked: document seen, number matches",
    },
    "zh_CN": {
        "branch": "网点", "terminal": "终端", "teller": "柜员", "reference": "流水号", "date": "交易时间",
        "business_date": "营业日期", "customer": "客户", "wallet": "钱包", "to_customer": "收款人",
        "to_wallet": "收款钱包", "amount": "金额", "in_words": "大写", "balance": "余额", "memo": "附言",
        "reverses": "原流水号", "signature": "客户签名", "teller_sig": "柜员", "keep": "请妥善保管本凭条。",
        "bank": "数字钱包柜台", "kiosk": "自助终端 客户联",
        "bank": "数字钱包柜台", "consent": "客户确认", "pin": "客户在客户显示屏输入密码",
        "id_check": "已复核身份证件：证件已查看，号码相符",
    },
}


def _locale(locale: str | None) -> str:
    if locale is None:
        locale = get_locale()
    return "zh_CN" if str(locale).lower().startswith("zh") else "en"


def _width(s: str) -> int:
    if s.isascii() and s.isprintable():  # the common case: one cell per character
        return len(s)
    return display_width(s)


@lru_cache(maxsize=512)
def _pad(s: str, width: int, align: Literal["left", "right", "center"] = "left") -> str:
    """``s`` padded (or cut) to ``width`` cells; cached: what is padded is the labels and the
    centred headings, the same few strings on every receipt."""
    return pad(s, width, align, clip=True)


@lru_cache(maxsize=256)
def _centered(text: str, width: int) -> tuple[str, ...]:
    """The lines of a centred heading (cleaned, wrapped, centred); cached: headings repeat."""
    return tuple(_pad(line, width, "center").rstrip() for line in _wrap(clean_text(text, limit=200), width))


def _wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into lines of at most ``width`` cells (at spaces when possible)."""
    if _width(text) <= width:  # fits: what the loop below would give, without splitting
        return [text.rstrip()] if text.strip() else [""]
    lines: list[str] = []
    current = ""
    for word in re.split(r"(\s+)", text):
        if not word:
            continue
        candidate = current + word
        if _width(candidate) <= width:
            current = candidate
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = word.lstrip()
        while _width(current) > width:  # a word longer than the line: hard-break by cells
            cut, used = "", 0
            for ch in current:
                w = _width(ch)
                if used + w > width:
                    break
                cut += ch
                used += w
            lines.append(cut)
            current = current[len(cut):]
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]


def _money(m: Money, loc: str) -> str:
    return format_money(m, loc)


def render_receipt(data: ReceiptData, *, width: int = 80, locale: str | None = None) -> str:
    """The receipt as text, every line at most ``width`` cells, ending with a newline. In the
    customer's language when ``data.locale`` says so (unless ``locale`` is given); a large-print
    receipt is laid out in ``width // 2`` cells for a printer that doubles the character size."""
    if width not in WIDTHS:
        raise ValueError(f"receipt width must be one of {WIDTHS}")
    loc = _locale(locale or data.locale or None)
    lab = _LABELS[loc]
    large = data.large_print
    width = width // 2 if large else width  # large print: each character printed twice as wide

    label_w = 14 if width >= 64 else 10
    value_w = width - label_w - 1
    out: list[str] = []

    def center(text: str) -> None:
        out.extend(_centered(text, width))

    def row(label: str, value: str) -> None:
        value = clean_text(value, limit=400)
        if large:  # the label on its own line, the value under it: nothing squeezed
            out.append(label)
            out.extend("  " + part for part in _wrap(value, width - 2))
            return
        parts = _wrap(value, value_w)
        out.append(_pad(label, label_w) + " " + parts[0])
        for extra in parts[1:]:
            out.append(" " * (label_w + 1) + extra)

    rule = "=" * width
    if data.watermark:
        center(f"*** {data.watermark} ***")
    center(clean_text(data.bank_name, limit=200) or lab["bank"])
    center(_TITLES[loc].get(data.kind, data.kind.upper()))
    kiosk = data.channel == "kiosk"
    if kiosk:
        center(lab["kiosk"])
    if large:
        center(LARGE_PRINT_MARKS[loc])
    if data.copy_label:
        center(f"** {clean_text(data.copy_label, limit=200)} **")
    out.append(rule)
    row(lab["branch"], data.branch_code)
    row(lab["terminal"], data.terminal_id)
    if not kiosk:
        row(lab["teller"], data.teller)
    row(lab["reference"], data.reference)
    row(lab["date"], format_datetime(data.posted_at, loc))
    row(lab["business_date"], data.business_date.isoformat())
    out.append("-" * width)
    row(lab["customer"], data.customer_name)
    row(lab["wallet"], data.wallet_number)
    if data.counterparty_wallet:
        row(lab["to_customer"], data.counterparty_name)
        row(lab["to_wallet"], data.counterparty_wallet)
    if data.reverses_reference:
        row(lab["reverses"], data.reverses_reference)
    row(lab["amount"], _money(data.amount, loc))
    if data.amount.currency == "CNY":
        row(lab["in_words"], amount_in_words(data.amount, loc))
    if data.new_balance is not None:
        row(lab["balance"], _money(data.new_balance, loc))
    if clean_text(data.memo, limit=200):
        row(lab["memo"], data.memo)
    if data.consent in ("pin", "id_check"):
        row(lab["consent"], lab[data.consent])
    out.append(rule)
    out.append("")
    for key in () if kiosk else ("signature", "teller_sig"):
        label = lab[key] + ":"
        line_w = min(width - _width(label) - 1, 40)
        if line_w < 12:
            out.append(label)
            out.append("_" * min(width, 30))
        else:
            out.append(label + " " + "_" * line_w)
        out.append("")
    center(lab["keep"])
    if data.watermark:
        center(f"*** {data.watermark} ***")
    return "\n".join(line.rstrip() for line in out) + "\n"


def reprint_label(locale: str | None = None) -> str:
    return "重印" if _locale(locale) == "zh_CN" else "REPRINT"
