"""The promotion report as a text table, CSV or JSON: the same numbers as the analytics screen.

Tables are for people (localized headings, money as ``¥1,234.50``, cells clipped by display width
so CJK names keep the columns straight); CSV and JSON are for machines (English keys, money as
plain decimal strings, ratios as decimals, no locale). Every label went through ``clean_text``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from teller_tui.analytics.periods import By
from teller_tui.analytics.queries import COUNTED_KINDS
from teller_tui.analytics.report import GroupRow, PromotionReport
from teller_tui.common.formatting import format_money, format_number, pad
from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money
from teller_tui.models.cases import Channel

__all__ = ["CHANNEL_LABELS", "COLUMNS", "WEEKDAYS", "render_csv", "render_json", "render_table", "row_label"]

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
CHANNEL_LABELS = {Channel.COUNTER: N_("Counter"), Channel.KIOSK: N_("Kiosk"),
                  Channel.LINKED_ACCOUNT: N_("Linked account")}
_KEY_HEADING = {By.TELLER: N_("Teller"), By.BRANCH: N_("Branch"), By.DAY: N_("Day"), By.WEEK: N_("Week of"),
                By.MONTH: N_("Month")}


def _opt(value: Decimal | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value}{suffix}"


def row_label(report: PromotionReport, row: GroupRow) -> str:
    if row is report.total:
        return _("Total")
    if report.by == By.MONTH and isinstance(row.key, date):
        return row.key.strftime("%Y-%m")
    return row.label


#: (heading, width, value) of the table's columns; the screen shows the same ones.
COLUMNS: tuple[tuple[str, int, Callable[[GroupRow], str]], ...] = (
    (N_("New wallets"), 11, lambda r: str(r.m.opened)),
    (N_("Act.7d"), 7, lambda r: _opt(r.activation_7_pct, "%")),
    (N_("Act.30d"), 8, lambda r: _opt(r.activation_30_pct, "%")),
    (N_("Active"), 6, lambda r: str(r.m.active)),
    (N_("Txn/act."), 8, lambda r: _opt(r.txns_per_active)),
    (N_("Txns"), 6, lambda r: str(r.m.txns)),
    (N_("Amount"), 14, lambda r: format_money(Money(r.m.amount))),
    (N_("Rewards"), 7, lambda r: str(r.m.rewards)),
    (N_("Complaints"), 10, lambda r: f"{r.m.complaints}/{r.m.cases}"),
    (N_("Satisf."), 7, lambda r: _opt(r.satisfaction)),
)  # training scores are no column (the table fits 120): per group in CSV and JSON, the total in a line


def render_table(report: PromotionReport, *, key_width: int = 12) -> str:
    """Aligned text in the current locale: the groups, the total, channels, cohorts, busiest hours."""
    head = [pad(_(_KEY_HEADING[report.by]), key_width, clip=True)]
    head += [pad(_(h), w, "right", clip=True) for h, w, _f in COLUMNS]
    lines = [_("Promotion report {first} to {last} (business dates), by {by}").format(
        first=report.first.isoformat(), last=report.last.isoformat(), by=_(_KEY_HEADING[report.by])),
        " ".join(head)]
    for row in [*report.rows, report.total]:
        cells = [pad(row_label(report, row), key_width, clip=True)]
        cells += [pad(f(row), w, "right", clip=True) for _h, w, f in COLUMNS]
        lines.append(" ".join(cells))
    t = report.total.m
    lines += ["", _("Wallets opened by class: {c1} / {c2} / {c3} / {c4}").format(
        c1=t.by_class[0], c2=t.by_class[1], c3=t.by_class[2], c4=t.by_class[3]), "", _("By channel")]
    for ch in Channel:
        n, minor = t.by_channel.get(ch.value, [0, 0])
        lines.append(pad(_(CHANNEL_LABELS[ch]), key_width + 4, clip=True) + pad(format_number(n), 8, "right")
                     + pad(format_money(Money(minor)), 16, "right"))
    lines += ["", _("By kind")]
    for kind in COUNTED_KINDS:
        n, minor = t.by_kind.get(kind, [0, 0])
        lines.append(pad(kind, 16, clip=True) + pad(format_number(n), 8, "right")
                     + pad(format_money(Money(minor)), 16, "right"))
    lines += ["", _("Activation by opening week"),
              pad(_("Week of"), key_width, clip=True) + pad(_("New wallets"), 8, "right", clip=True)
              + pad(_("Act.7d"), 8, "right", clip=True) + pad(_("Act.30d"), 8, "right", clip=True)]
    for c in report.cohorts:
        lines.append(pad(c.week.isoformat(), key_width) + pad(str(c.opened), 8, "right")
                     + pad(str(c.activated_7), 8, "right") + pad(str(c.activated_30), 8, "right"))
    lines += ["", _("Busiest hours (transactions by weekday and hour)")]
    for day, counts in zip(WEEKDAYS, report.heatmap, strict=True):
        top = sorted(((n, h) for h, n in enumerate(counts) if n), reverse=True)[:3]
        lines.append(pad(_(day), 6, clip=True) + ", ".join(f"{h:02d}:00 ({n})" for n, h in top))
    lines += ["", _training_line(report)]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _training_line(report: PromotionReport) -> str:
    t = report.total
    if not report.training_available:
        return _("Training scores: the training database could not be read.")
    if not t.m.training_runs:
        return _("Training scores: no training runs were scored in this range.")
    return _("Training scores: {runs} runs scored, {passes} passed, mean score {mean}.").format(
        runs=t.m.training_runs, passes=t.m.training_passes, mean=_opt(t.training_mean))


def _record(report: PromotionReport, row: GroupRow) -> dict[str, Any]:
    m = row.m
    key: Any = row.key.isoformat() if isinstance(row.key, date) else row.key
    out: dict[str, Any] = {
        "group": "total" if row is report.total else row.label, "key": key,
        "opened": m.opened, **{f"opened_class_{i + 1}": n for i, n in enumerate(m.by_class)},
        "activated_7d": m.activated_7, "activated_30d": m.activated_30,
        "activation_7d_pct": _opt(row.activation_7_pct), "activation_30d_pct": _opt(row.activation_30_pct),
        "active_wallets": m.active, "active_wallet_txns": m.active_txns,
        "txns_per_active_wallet": _opt(row.txns_per_active),
        "txns": m.txns, "amount": Money(m.amount).plain(),
    }
    for ch in Channel:
        n, minor = m.by_channel.get(ch.value, [0, 0])
        out[f"{ch.value}_txns"], out[f"{ch.value}_amount"] = n, Money(minor).plain()
    for kind in COUNTED_KINDS:
        n, minor = m.by_kind.get(kind, [0, 0])
        out[f"{kind}_txns"], out[f"{kind}_amount"] = n, Money(minor).plain()
    out.update({"rewards": m.rewards, "reward_points": m.reward_points, "cases": m.cases,
                "complaints": m.complaints, "satisfaction_calls": m.satisfaction_n,
                "satisfaction_avg": _opt(row.satisfaction)})
    if report.training_available:
        out.update({"training_runs": m.training_runs, "training_passes": m.training_passes,
                    "training_mean_score": _opt(row.training_mean)})
    else:
        out.update({"training_runs": None, "training_passes": None, "training_mean_score": None})
    return out


def render_csv(report: PromotionReport) -> str:
    """One line per group and a ``total`` line; money as plain decimals (``1234.50``)."""
    records = [_record(report, r) for r in [*report.rows, report.total]]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: "" if v is None else v for k, v in rec.items()})
    return buf.getvalue()


def render_json(report: PromotionReport) -> str:
    return json.dumps({
        "from": report.first.isoformat(), "to": report.last.isoformat(), "by": report.by.value,
        "branch": report.branch, "groups": [_record(report, r) for r in report.rows],
        "total": _record(report, report.total),
        "cohorts": [{"week": c.week.isoformat(), "opened": c.opened, "activated_7d": c.activated_7,
                     "activated_30d": c.activated_30} for c in report.cohorts],
        "busiest_hours": report.heatmap,
        "training_available": report.training_available,
    }, ensure_ascii=False, indent=1) + "\n"
