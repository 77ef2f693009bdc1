"""Customer statements: a wallet's entries over a range of business dates, with the opening and
closing balances, on screen, printed and as a file.

Public API::

    svc = StatementService(db, clock, settings, audit)                 # services.statements
    st = svc.statement(actor, wallet_id, date_from, date_to)           # -> WalletStatement (read)
    st, text, path = svc.issue(actor, wallet_id, date_from, date_to)   # rendered, saved, audited
    text = render_statement(st, width=80, locale="zh_CN")

The opening balance is every posting to the wallet dated before ``date_from`` (by business date,
the date the ledger gives every entry), the closing balance the opening plus the range's
postings; a test checks both against plain SQL. Names and wallet numbers are masked on paper as
on receipts. Issuing one is audited (``statement_issue``): a statement is customer data leaving
the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import text

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.common.clock import Clock
from teller_tui.common.errors import NotFound, ValidationError
from teller_tui.common.files import save_private_text
from teller_tui.common.formatting import display_width, format_datetime, format_money, pad
from teller_tui.common.i18n import _, get_locale
from teller_tui.common.masks import mask_name, mask_wallet
from teller_tui.common.money import Money
from teller_tui.common.settings import Settings
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.models import Customer, Wallet
from teller_tui.models.types import UTCDateTime

__all__ = ["MAX_DAYS", "MAX_ROWS", "StatementRow", "StatementService", "WalletStatement", "render_statement"]

MAX_DAYS = 366
MAX_ROWS = 5000


@dataclass(frozen=True, slots=True)
class StatementRow:
    reference: str
    posted_at: datetime
    business_date: date
    kind: str
    memo: str
    amount: Money  # signed: + into the wallet
    balance: Money  # after this entry


@dataclass(frozen=True, slots=True)
class WalletStatement:
    wallet_number: str  # full (the screen masks as it shows; the paper copy is masked)
    customer_name: str
    date_from: date
    date_to: date
    opening: Money
    closing: Money
    total_in: Money
    total_out: Money  # positive
    rows: list[StatementRow]
    issued_at: datetime


class StatementService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, audit: AuditTrail) -> None:
        self.db, self.clock, self.settings, self.audit = db, clock, settings, audit

    @guarded("statements")
    def statement(self, actor: Actor, wallet_id: int, date_from: date, date_to: date) -> WalletStatement:
        _check_range(date_from, date_to)
        with self.db.read() as s:
            wallet = s.get(Wallet, wallet_id)
            if wallet is None:
                raise NotFound(_("No such wallet"), code="no_wallet")
            customer = s.get(Customer, wallet.customer_id)
            cur = wallet.currency
            params = {"a": wallet.account_id, "f": date_from, "t": date_to, "n": MAX_ROWS + 1}
            before = s.execute(text(
                "SELECT coalesce(sum(p.amount), 0) FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
                "WHERE p.account_id = :a AND e.business_date < :f"), params).scalar_one()
            rows = s.execute(text(
                "SELECT e.reference, e.posted_at, e.business_date, e.kind, e.memo, sum(p.amount) AS amt "
                "FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
                "WHERE p.account_id = :a AND e.business_date >= :f AND e.business_date <= :t "
                "GROUP BY e.id ORDER BY e.seq LIMIT :n"), params).all()
        if len(rows) > MAX_ROWS:
            raise ValidationError(_("More than {n} entries in this range: choose a shorter one").format(n=MAX_ROWS),
                                  code="statement_too_long")
        balance = -int(before)  # wallet accounts are credit-normal: a credit posting is negative
        opening = balance
        conv = UTCDateTime()
        out: list[StatementRow] = []
        total_in = total_out = 0
        for r in rows:
            amount = -int(r.amt)
            balance += amount
            if amount >= 0:
                total_in += amount
            else:
                total_out -= amount
            raw = r.posted_at if isinstance(r.posted_at, datetime) else datetime.fromisoformat(str(r.posted_at))
            posted = conv.process_result_value(raw, None)
            assert posted is not None
            bdate = r.business_date if isinstance(r.business_date, date) else date.fromisoformat(str(r.business_date))
            out.append(StatementRow(r.reference, posted, bdate, r.kind, clean_text(r.memo, limit=60),
                                    Money(amount, cur), Money(balance, cur)))
        return WalletStatement(wallet.number, customer.full_name if customer else "", date_from, date_to,
                               Money(opening, cur), Money(balance, cur), Money(total_in, cur), Money(total_out, cur),
                               out, self.clock.now())

    @guarded("statements")
    def issue(self, actor: Actor, wallet_id: int, date_from: date, date_to: date, *, width: int = 80
              ) -> tuple[WalletStatement, str, Path]:
        """The statement rendered in the active locale, saved under ``<home>/statements`` and audited."""
        st = self.statement(actor, wallet_id, date_from, date_to)
        body = render_statement(st, width=width)
        name = f"ST-{st.wallet_number}-{date_from:%Y%m%d}-{date_to:%Y%m%d}"
        path = save_private_text(self.settings.home / "statements", name, body)
        with self.db.write() as s:
            self.audit.append(s, actor, "statement_issue", subject=st.wallet_number,
                              detail={"from": date_from.isoformat(), "to": date_to.isoformat(),
                                      "entries": len(st.rows)})
        return st, body, path


def _check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise ValidationError(_("The end date is before the start date"), code="statement_range")
    if (date_to - date_from).days >= MAX_DAYS:
        raise ValidationError(_("A statement covers at most {n} days").format(n=MAX_DAYS), code="statement_range")


_KINDS = {"cash_in": ("Cash in", "现金存入"), "cash_out": ("Cash out", "现金支取"), "transfer": ("Transfer", "转账"),
          "reversal": ("Reversal", "冲正"), "linked_top_up": ("Top-up (bank)", "银行兑换"),
          "linked_withdraw": ("To bank", "兑回银行"), "welcome_reward": ("Reward", "开户奖励"),
          "points_forfeit": ("Points", "积分清零"), "dispute_correction": ("Correction", "差错调整")}
_LABELS = {
    "en": {"title": "WALLET STATEMENT", "customer": "Customer", "wallet": "Wallet", "period": "Period",
           "issued": "Issued", "opening": "Opening balance", "closing": "Closing balance", "in": "Money in",
           "out": "Money out", "none": "No entries in this period.", "date": "Date", "kind": "Type",
           "amount": "Amount", "balance": "Balance", "reference": "Reference", "entries": "Entries"},
    "zh_CN": {"title": "钱包对账单", "customer": "客户", "wallet": "钱包", "period": "期间", "issued": "打印时间",
              "opening": "期初余额", "closing": "期末余额", "in": "收入合计", "out": "支出合计",
              "none": "本期无交易。", "date": "日期", "kind": "类型", "amount": "金额", "balance": "余额",
              "reference": "流水号", "entries": "笔数"},
}


def render_statement(st: WalletStatement, *, width: int = 80, locale: str | None = None) -> str:
    """The statement as text, every line at most ``width`` cells (80, or 48/42/32 for a roll)."""
    loc = "zh_CN" if str(locale or get_locale()).lower().startswith("zh") else "en"
    lab, zh = _LABELS[loc], loc == "zh_CN"
    out = [pad(lab["title"], width, "center", clip=True).rstrip(), "=" * width]

    label_w = 16 if width >= 48 else 10

    def row(label: str, value: str) -> None:
        value = clean_text(value, limit=200)
        if display_width(label) <= label_w and display_width(value) <= width - label_w - 1:
            out.append(pad(label, label_w) + " " + value)
        else:  # a narrow roll: the label on its line, the value indented below
            out.append(pad(label, width, clip=True))
            out.append("  " + pad(value, width - 2, clip=True))

    row(lab["customer"], mask_name(st.customer_name))
    row(lab["wallet"], mask_wallet(st.wallet_number))
    row(lab["period"], f"{st.date_from.isoformat()} – {st.date_to.isoformat()}")
    row(lab["issued"], format_datetime(st.issued_at, loc))
    out.append("-" * width)
    row(lab["opening"], format_money(st.opening, loc))
    wide = width >= 64
    for r in st.rows:
        kind = _KINDS.get(r.kind, (r.kind, r.kind))[1 if zh else 0]
        amount = pad(format_money(r.amount, loc, sign=True), 14, "right", clip=True)
        balance = pad(format_money(r.balance, loc), 14, "right", clip=True)
        if wide:
            out.append(f"{r.business_date.isoformat()} {pad(kind, 12, clip=True)} {amount} {balance} "
                       f"{pad(r.reference, width - 10 - 12 - 14 - 14 - 4, clip=True)}".rstrip())
        else:
            head = f"{r.business_date.isoformat()} {kind}"
            if display_width(head) + 1 + len(r.reference) <= width:  # 48/42 columns: the reference fits
                head = pad(head, width - len(r.reference)) + r.reference
            out.append(pad(head, width, clip=True).rstrip())
            out.append(pad(f"{amount.strip()}  {balance.strip()}", width, "right", clip=True))
    if not st.rows:
        out.append(lab["none"])
    out.append("-" * width)
    row(lab["in"], format_money(st.total_in, loc))
    row(lab["out"], format_money(st.total_out, loc))
    row(lab["entries"], str(len(st.rows)))
    row(lab["closing"], format_money(st.closing, loc))
    out.append("=" * width)
    return "\n".join(line.rstrip() for line in out) + "\n"
