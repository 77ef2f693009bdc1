"""The welcome sheet handed to a new customer: its contents, the welcome reward, service contacts.

:func:`render_welcome` prints a :class:`WelcomeSheet` as plain text (cell-aligned for CJK); it
never contains the PIN or the TOTP secret. The reward and the contacts come from
``data/rewards.toml`` and ``data/service_contacts.toml``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from teller_tui.common.clock import local_date
from teller_tui.common.errors import NotFound, ValidationError
from teller_tui.common.formatting import display_width, format_datetime, format_limit, pad
from teller_tui.common.i18n import _, get_locale, locale_override
from teller_tui.common.masks import mask_name
from teller_tui.common.reference_files import read_toml, shipped_file
from teller_tui.common.text import clean_text
from teller_tui.ledger import Ledger
from teller_tui.models import Customer, LinkedAccount, Wallet
from teller_tui.notify.preferences import LARGE_PRINT_MARKS, customer_prefs
from teller_tui.wallets.classes import Tier, TierTable
from teller_tui.wallets.identity.cards import format_wallet_number
from teller_tui.wallets.onboarding.steps import EXPLANATIONS
from teller_tui.wallets.rewards import GRANT_AT_ISSUE, GRANT_FIRST_USE, RewardRule, reward_rule, welcome_points

__all__ = ["GRANT_AT_ISSUE", "GRANT_FIRST_USE", "RewardRule", "WelcomeSheet", "load_sheet", "render_welcome",
           "reward_rule", "service_contacts", "welcome_points", "wrap_cells"]


def service_contacts(locale: str | None = None, path: Path | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs from data/service_contacts.toml in ``locale``."""
    zh = (locale or get_locale()).lower().startswith("zh")
    out = []
    for raw in read_toml(path or shipped_file("service_contacts.toml")).get("contact", []):
        label = raw.get("label_zh" if zh else "label_en", "")
        value = raw.get("value") or raw.get("value_zh" if zh else "value_en", "")
        if label and value:
            out.append((str(label), str(value)))
    return out


# -- the welcome sheet ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WelcomeSheet:
    wallet_number: str
    customer_name: str  # masked
    customer_no: str
    tier: Tier
    opened_at: datetime
    branch_code: str
    linked_masked: str
    bank_name: str
    reward_points: int  # credited so far
    pin_set: bool
    totp_enrolled: bool
    explanations: tuple[str, ...]
    reward_on_first_use: int = 0  # points promised on the first payment, not yet credited
    locale: str = ""  # the customer's preferred language ("" = the terminal's); render_welcome's locale wins
    large_print: bool = False  # low vision / elderly: half the columns, printed double size


def render_welcome(sheet: WelcomeSheet, *, width: int = 80, locale: str | None = None) -> str:
    """A printable plain-text summary. Never contains the PIN or the TOTP secret. In the customer's
    language when recorded; a large-print sheet is laid out in ``width // 2`` cells (printed double size)."""
    loc = locale or sheet.locale or get_locale()
    if sheet.large_print:
        width = max(24, width // 2)
    with locale_override(loc):
        t = sheet.tier
        rows: list[tuple[str, str]] = [
            (_("Wallet number"), format_wallet_number(sheet.wallet_number)),
            (_("Holder"), clean_text(sheet.customer_name)),
            (_("Customer no."), sheet.customer_no),
            (_("Wallet class"), t.name(loc)),
            (_("Opened"), format_datetime(sheet.opened_at)),
            (_("Branch"), sheet.branch_code),
            (_("Balance limit"), format_limit(t.balance_cap)),
            (_("Per payment"), format_limit(t.per_txn)),
            (_("Per day"), format_limit(t.daily)),
            (_("Per year"), format_limit(t.yearly)),
            (_("Linked account"), (clean_text(sheet.bank_name) + " " + sheet.linked_masked).strip()
             if sheet.linked_masked else _("none")),
            (_("Welcome reward"), _("{points} points").format(points=sheet.reward_points)
             if sheet.reward_points else _("{points} points on your first payment").format(
                 points=sheet.reward_on_first_use) if sheet.reward_on_first_use else _("none")),
            (_("Wallet PIN"), _("set by you at the counter") if sheet.pin_set else _("not set")),
            (_("Authenticator app"), _("enrolled") if sheet.totp_enrolled else _("not enrolled")),
        ]
        label_w = max(display_width(label) for label, _v in rows) + 2
        rule = "=" * width
        lines = [rule, *(pad(t, width, "center") for t in wrap_cells(_("Welcome to your digital wallet"), width))]
        if sheet.large_print:
            lines.append(pad(LARGE_PRINT_MARKS["zh_CN" if loc.lower().startswith("zh") else "en"], width, "center"))
        lines.append(rule)
        for label, value in rows:
            lines.extend(_field(label, value, label_w, width))
        lines.append("-" * width)
        lines.extend(wrap_cells(_("We explained to you:"), width))
        for key in sheet.explanations:
            lines.extend(_hanging("  [x] ", _(EXPLANATIONS[key]), width))
        lines.append("-" * width)
        lines.extend(wrap_cells(_("Service contacts:"), width))
        contacts = service_contacts(loc)
        contact_w = max([display_width(label) + 4 for label, _v in contacts] or [0])
        contact_w = contact_w if contact_w <= width // 2 else label_w + 2
        for label, value in contacts:
            lines.extend(_field("  " + label, value, contact_w, width))
        lines.append("-" * width)
        for note in (_("Never tell anyone your PIN or a code from your authenticator app; bank staff will "
                       "never ask for them."),
                     _("Lost your phone? Call us to freeze the wallet at once.")):
            lines.extend(wrap_cells(note, width))
        lines.append(rule)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _field(label: str, value: str, label_w: int, width: int) -> list[str]:
    """``label  value`` with the value wrapped under itself; a label wider than its column gets a line
    of its own. Nothing is cut."""
    if display_width(label) >= label_w or width - label_w < 12:
        return wrap_cells(label, width) + _hanging(" " * min(label_w, width // 2), value, width)
    return _hanging(pad(label, label_w), value, width)


def _hanging(head: str, text: str, width: int) -> list[str]:
    indent = display_width(head)
    body = wrap_cells(text, max(1, width - indent)) or [""]
    return [head + body[0]] + [" " * indent + more for more in body[1:]]


_NO_LINE_START = frozenset("，。；：？！、）》」』,.;:?!)")


def wrap_cells(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal cells (CJK counts two): broken at a space when
    one is in the second half of the line, else between any two characters. Never cut."""
    out: list[str] = []
    cur = ""
    for ch in text:
        if display_width(cur + ch) > width:
            cut = cur.rfind(" ")
            if ch != " " and cut > 0 and display_width(cur[:cut]) > width // 2:
                out.append(cur[:cut])
                cur = cur[cut + 1:]
            elif ch in _NO_LINE_START and len(cur) > 1:  # never start a line with "。" or "）"
                out.append(cur[:-1])
                cur = cur[-1]
            else:
                out.append(cur.rstrip())
                cur = ""
            if ch == " " and not cur:
                continue
        cur += ch
    if cur:
        out.append(cur)
    return out


def load_sheet(s: Session, ledger: Ledger, tiers: TierTable, wallet_id: int) -> WelcomeSheet:
    """The welcome sheet of ``wallet_id`` as stored (a reprint shows what was issued)."""
    w = s.get(Wallet, wallet_id)
    if w is None:
        raise NotFound(_("No such wallet"), code="no_wallet")
    c = s.get(Customer, w.customer_id)
    assert c is not None
    link = s.execute(select(LinkedAccount).where(LinkedAccount.wallet_id == wallet_id,
                                                 col(LinkedAccount.removed_at).is_(None))).scalars().first()
    points = ledger.balance(s, w.points_account_id).posted.minor if w.points_account_id else 0
    rule = reward_rule(w.opened_on or local_date(w.opened_at))
    promised = rule.points if rule.grant == GRANT_FIRST_USE and not points and w.points_account_id else 0
    expl = json.loads(w.explanations_json or "{}")
    prefs = customer_prefs(s, c.id, "")  # the customer's language and large print (their recorded needs)
    return WelcomeSheet(
        wallet_number=w.number, customer_name=mask_name(c.full_name), customer_no=c.customer_no,
        tier=tiers.tier(w.tier, on=local_date(w.opened_at)), opened_at=w.opened_at,
        branch_code=c.branch_code, linked_masked=link.masked if link else "",
        bank_name=link.bank_name if link else "", reward_points=points, pin_set=bool(c.pin_hash),
        totp_enrolled=bool(c.totp_secret_enc), explanations=tuple(k for k in EXPLANATIONS if expl.get(k)),
        reward_on_first_use=promised, locale=prefs.locale, large_print=prefs.large_print)
