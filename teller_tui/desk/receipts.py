"""Plain-text receipts for an 80-column printer or a 58 mm (32-column) roll.

Public API::

    data = ReceiptData(kind=..., reference=..., ...)            # everything printed, already masked
    text = render_receipt(data, width=80, locale=None)          # width 80 or 32; str ending in "\\n"
    path = save_receipt(settings.receipts_dir, data.reference, text)   # <dir>/<reference>.txt, dir 0700

Alignment counts terminal cells (CJK characters take two), so columns line up in both languages.
Every user-supplied string is sanitised (control and format characters removed) before printing.
Names and wallet numbers are masked by the caller's helpers in this module (:func:`mask_name`,
:func:`mask_wallet`) unless teller_tui.wallets.identity provides them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from teller_tui.common.files import save_private_text
from teller_tui.common.money import Money

WIDTHS = (80, 32)


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


def clean_text(text: str, limit: int = 200) -> str:
    """Printable text only: control/format characters dropped, whitespace collapsed."""
    text = str(text)
    if text.isascii() and text.isprintable():  # nothing to drop (the common case)
        return " ".join(text.split())[:limit]
    out = "".join(" " if ch in "\t\r\n" else ch for ch in str(text)
                  if ch in "\t\r\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    return " ".join(out.split())[:limit]


def mask_name(name: str) -> str:
    """张三 -> 张*, 王小明 -> 王*明, John Smith -> J*** S****."""
    try:
        from teller_tui.common.masks import mask_name as _mask

        return str(_mask(name))
    except ImportError:
        pass
    name = clean_text(name)
    if not name:
        return ""
    if any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in name):
        if len(name) <= 2:
            return name[0] + "*"
        return name[0] + "*" * (len(name) - 2) + name[-1]
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())


def mask_wallet(number: str) -> str:
    number = clean_text(number)
    if len(number) <= 8:
        return number
    return f"{number[:4]}****{number[-4:]}"


_LABELS = {
    "en": {
        "title": {"cash_in": "CASH DEPOSIT TO WALLET", "cash_out": "CASH WITHDRAWAL FROM WALLET",
                  "transfer": "WALLET TRANSFER", "reversal": "REVERSAL"},
        "branch": "Branch", "terminal": "Terminal", "teller": "Teller", "reference": "Reference",
        "date": "Date/time", "business_date": "Business date", "customer": "Customer", "wallet": "Wallet",
        "to_customer": "Payee", "to_wallet": "To wallet", "amount": "Amount", "in_words": "In words",
        "balance": "New balance", "memo": "Memo", "reverses": "Reverses", "signature": "Customer signature",
        "teller_sig": "Teller", "keep": "Please keep this receipt.", "bank": "Digital Wallet Counter",
    },
    "zh_CN": {
        "title": {"cash_in": "钱包现金存入", "cash_out": "钱包现金支取", "transfer": "钱包转账",
                  "reversal": "冲正"},
        "branch": "网点", "terminal": "终端", "teller": "柜员", "reference": "流水号", "date": "交易时间",
        "business_date": "营业日期", "customer": "客户", "wallet": "钱包", "to_customer": "收款人",
        "to_wallet": "收款钱包", "amount": "金额", "in_words": "大写", "balance": "余额", "memo": "附言",
        "reverses": "原流水号", "signature": "客户签名", "teller_sig": "柜员", "keep": "请妥善保管本凭条。",
        "bank": "数字钱包柜台",
    },
}


def _locale(locale: str | None) -> str:
    if locale is None:
        try:
            from teller_tui.common.i18n import get_locale

            locale = get_locale()
        except ImportError:  # pragma: no cover
            locale = "zh_CN"
    return "zh_CN" if str(locale).lower().startswith("zh") else "en"


def _width(s: str) -> int:
    if s.isascii() and s.isprintable():  # the common case: one cell per character
        return len(s)
    from teller_tui.common.formatting import display_width

    return display_width(s)


def _pad(s: str, width: int, align: str = "left") -> str:
    from teller_tui.common.formatting import pad

    return pad(s, width, align, clip=True)  # type: ignore[arg-type]


def _wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into lines of at most ``width`` cells (at spaces when possible)."""
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
    from teller_tui.common.formatting import format_money

    return format_money(m, loc)


def render_receipt(data: ReceiptData, *, width: int = 80, locale: str | None = None) -> str:
    """The receipt as text, every line at most ``width`` cells, ending with a newline."""
    if width not in WIDTHS:
        raise ValueError(f"receipt width must be one of {WIDTHS}")
    loc = _locale(locale)
    lab = _LABELS[loc]
    from teller_tui.common.formatting import amount_in_words, format_datetime

    label_w = 14 if width == 80 else 10
    value_w = width - label_w - 1
    out: list[str] = []

    def center(text: str) -> None:
        for line in _wrap(clean_text(text), width):
            out.append(_pad(line, width, "center").rstrip())

    def row(label: str, value: str) -> None:
        value = clean_text(value, 400)
        parts = _wrap(value, value_w)
        out.append(_pad(label, label_w) + " " + parts[0])
        for extra in parts[1:]:
            out.append(" " * (label_w + 1) + extra)

    rule = "=" * width
    center(clean_text(data.bank_name) or lab["bank"])
    center(lab["title"].get(data.kind, data.kind.upper()))
    if data.copy_label:
        center(f"** {clean_text(data.copy_label)} **")
    out.append(rule)
    row(lab["branch"], data.branch_code)
    row(lab["terminal"], data.terminal_id)
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
    if clean_text(data.memo):
        row(lab["memo"], data.memo)
    out.append(rule)
    out.append("")
    for key in ("signature", "teller_sig"):
        label = lab[key] + ":"
        line_w = min(width - _width(label) - 1, 40)
        if line_w < 12:
            out.append(label)
            out.append("_" * min(width, 30))
        else:
            out.append(label + " " + "_" * line_w)
        out.append("")
    center(lab["keep"])
    return "\n".join(line.rstrip() for line in out) + "\n"


def reprint_label(locale: str | None = None) -> str:
    return "重印" if _locale(locale) == "zh_CN" else "REPRINT"


def save_receipt(directory: Path, reference: str, text: str) -> Path:
    """Write ``<directory>/<reference>.txt`` (directory created 0700); returns the path."""
    return save_private_text(directory, reference, text)
