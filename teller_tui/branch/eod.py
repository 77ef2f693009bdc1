"""End-of-day report per drawer and per branch: what it holds and how it reads.

Built read-only by :func:`teller_tui.branch.eod_build.build_report` (through
``DrawerService.eod_report``).

For each drawer of the business day: opening float (or the cash taken over from a colleague mid-day,
which the branch's total of floats leaves out), cash in and out by transaction type,
transfers with the vault, counted against expected, the over/short and who approved it. For the
branch: the totals, vault receipts and the vault's holdings, large-value cash records (from the
approvals feature's ``large_value_report`` table), the branch trial balance, the branch's audit
stream head (``AuditTrail.head(session, branch)``) and its ledger chain head, which a supervisor
keeps outside the database (``teller audit verify`` / ``teller ledger verify --expect-head``).

``EodReport.text()`` renders plain text in the active locale (the screen and the file show the
same text); ``written_to(dir)`` writes ``eod-<branch>-<date>[-<user>].txt`` and returns a copy
with ``path`` set.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from teller_tui.branch.kinds import KIND_LABELS
from teller_tui.common.errors import NotFound
from teller_tui.common.files import save_private_text
from teller_tui.common.formatting import display_width, format_datetime, format_money, pad, truncate
from teller_tui.common.i18n import N_, _, p_
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.models.enums import BusinessDayStatus, DrawerStatus as DrawerState

__all__ = ["DrawerReport", "EodReport", "LargeValueLine", "TransferLine"]

_STATUS: dict[str, str] = {DrawerState.OPEN: N_("open"), DrawerState.COUNTING: N_("counting"),
                           DrawerState.CLOSED: N_("closed")}


@dataclass(frozen=True, slots=True)
class TransferLine:
    at: datetime
    direction: str  # to_vault | from_vault
    amount: Money
    approver: str


@dataclass(frozen=True, slots=True)
class DrawerReport:
    username: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    opening_float: Money
    float_approver: str
    cash_in: dict[str, tuple[int, Money]]  # entry kind -> (count, total)
    cash_out: dict[str, tuple[int, Money]]
    transfers: list[TransferLine]
    expected: Money | None  # at the blind count
    counted: Money | None
    difference: Money | None
    close_approver: str | None
    ledger_balance: Money  # now (zero once closed: the cash went back to the vault)
    received_from: str = ""  # taken over mid-day from this teller: the "float" came from their drawer
    handed_to: str = ""  # handed over mid-day to this teller: the counted cash went to their drawer

    @property
    def to_vault(self) -> Money:
        return sum((t.amount for t in self.transfers if t.direction == "to_vault"), Money.zero(self.opening_float.currency))

    @property
    def from_vault(self) -> Money:
        return sum((t.amount for t in self.transfers if t.direction == "from_vault"),
                   Money.zero(self.opening_float.currency))


@dataclass(frozen=True, slots=True)
class LargeValueLine:
    reference: str
    customer_name: str
    direction: str
    amount: Money
    teller: str


@dataclass(frozen=True, slots=True)
class EodReport:
    branch_code: str
    business_date: date
    day_status: str
    generated_at: datetime
    drawers: list[DrawerReport]
    vault_balance: Money
    vault_holdings: dict[str, int]
    vault_receipts: Money
    large_value: list[LargeValueLine] | None  # None: not available
    trial_balance: dict[str, int]
    audit_head: tuple[int, str]
    username: str | None = None
    path: Path | None = None
    over_short_total: Money = field(default_factory=Money.zero)
    #: The branch's ledger chain head (seq, hash), kept outside the database like the audit head.
    ledger_head: tuple[int, str] | None = None

    @property
    def filename(self) -> str:
        tail = f"-{self.username}" if self.username else ""
        return f"eod-{self.branch_code}-{self.business_date.isoformat()}{tail}.txt"

    def written_to(self, directory: Path) -> EodReport:
        """Write the report privately (directory 0700, file 0600: it names customers)."""
        path = save_private_text(directory, self.filename.removesuffix(".txt"), self.text())
        return replace(self, path=path)

    def drawer(self, username: str) -> DrawerReport:
        for d in self.drawers:
            if d.username == username:
                return d
        raise NotFound(_("No drawer of {name} on {date}").format(name=username, date=self.business_date),
                       code="no_drawer")

    # -- rendering -----------------------------------------------------------------------------------
    def text(self, width: int = 72) -> str:
        def line(label: str, value: str) -> str:
            return (pad(label, 34) if display_width(label) < 34 else label + " ") + value

        out: list[str] = []
        title = _("End-of-day report") + f"  {clean_text(self.branch_code)}  {self.business_date.isoformat()}"
        out += [title, "=" * width]
        out.append(line(_("Business day"), _("open") if self.day_status == BusinessDayStatus.OPEN else _("closed")))
        out.append(line(_("Generated"), format_datetime(self.generated_at)))
        for d in self.drawers:
            out += ["", "-" * width, _("Drawer of {name}").format(name=clean_text(d.username)) +
                    f"  [{_(_STATUS.get(d.status, d.status))}]", "-" * width]
            out.append(line(p_("drawer", "Opened"), format_datetime(d.opened_at)))
            out.append(line(_("Taken over from {name}").format(name=clean_text(d.received_from)) if d.received_from
                            else _("Opening float"), format_money(d.opening_float) + "  (" +
                            _("confirmed by {name}").format(name=clean_text(d.float_approver)) + ")"))
            for title_text, rows in ((_("Cash in"), d.cash_in), (_("Cash out"), d.cash_out)):
                if not rows:
                    out.append(line(title_text, "-"))
                for kind, (n, total) in sorted(rows.items()):
                    out.append(line(f"{title_text}: {_kind_label(kind)} ×{n}", format_money(total)))
            out.append(line(_("From the vault"), format_money(d.from_vault)))
            out.append(line(_("To the vault"), format_money(d.to_vault)))
            for t in d.transfers:
                arrow = _("to vault") if t.direction == "to_vault" else _("from vault")
                out.append("  " + "  ".join((format_datetime(t.at), arrow, format_money(t.amount),
                                             _("confirmed by {name}").format(name=clean_text(t.approver)))))
            if d.counted is not None and d.expected is not None and d.difference is not None:
                out.append(line(_("Expected"), format_money(d.expected)))
                out.append(line(_("Counted"), format_money(d.counted)))
                label = _("Short") if d.difference.minor < 0 else _("Over") if d.difference.minor > 0 else _("Balanced")
                value = format_money(d.difference, sign=True)
                if d.close_approver:
                    value += "  (" + _("approved by {name}").format(name=clean_text(d.close_approver)) + ")"
                out.append(line(_("Over/short") + f" ({label})", value))
            else:
                out.append(line(_("Counted"), _("not counted yet")))
            if d.handed_to:
                out.append(line(_("Handed over to"), clean_text(d.handed_to)))
            if d.closed_at is not None:
                out.append(line(p_("drawer", "Closed"), format_datetime(d.closed_at)))
        if self.username is None:
            out += ["", "=" * width, _("Branch totals"), "=" * width]
            out.append(line(_("Drawers"), str(len(self.drawers))))
            out.append(line(_("Opening floats"), format_money(sum((d.opening_float for d in self.drawers
                                                                    if not d.received_from), Money.zero()))))
            out.append(line(_("Cash in"), format_money(sum((t for d in self.drawers for _n, t in d.cash_in.values()),
                                                           Money.zero()))))
            out.append(line(_("Cash out"), format_money(sum((t for d in self.drawers for _n, t in d.cash_out.values()),
                                                            Money.zero()))))
            out.append(line(_("Over/short"), format_money(self.over_short_total, sign=True)))
            out.append(line(_("Cash received into the vault"), format_money(self.vault_receipts)))
            out.append(line(_("Vault balance now"), format_money(self.vault_balance)))
            if self.vault_holdings:
                out.append("  " + ", ".join(f"{k}×{n}" for k, n in sorted(self.vault_holdings.items())))
            tb = ", ".join(f"{c} {v}" for c, v in sorted(self.trial_balance.items())) or "0"
            out.append(line(_("Trial balance (must be 0)"), tb))
        out += ["", _("Large-value cash records")]
        if self.large_value is None:
            out.append("  " + _("not available"))
        elif not self.large_value:
            out.append("  " + _("none"))
        for r in self.large_value or []:
            # Columns clipped by display width: a long or wide (CJK) name never runs into the next one.
            out.append("  " + pad(clean_text(r.reference), 22, clip=True)
                       + pad(clean_text(r.customer_name), 16, clip=True)
                       + pad(_("in") if r.direction == "in" else _("out"), 5, clip=True)
                       + pad(format_money(r.amount), 18, clip=True) + truncate(clean_text(r.teller), 24))
        out += ["", line(_("Audit chain head"), f"#{self.audit_head[0]}"), "  " + self.audit_head[1]]
        if self.ledger_head is not None:
            out += [line(_("Ledger chain head"), f"{self.branch_code}:{self.ledger_head[0]}"),
                    "  " + self.ledger_head[1]]
        # Defence in depth: whatever slipped into a label or a figure, nothing but text leaves here.
        return clean_text("\n".join(out), multiline=True) + "\n"


def _kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return _(label) if label else kind
