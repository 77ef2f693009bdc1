"""The welcome sheet handed to a new customer: its contents, the welcome reward, service contacts.

:func:`render_welcome` prints a :class:`WelcomeSheet` as plain text (cell-aligned for CJK); it
never contains the PIN or the TOTP secret. The reward and the contacts come from
``data/rewards.toml`` and ``data/service_contacts.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from teller_tui.common.errors import ValidationError
from teller_tui.common.formatting import display_width, format_datetime, format_limit, pad
from teller_tui.common.i18n import _, get_locale, locale_override
from teller_tui.common.reference import _default, _read_toml
from teller_tui.common.text import clean_text
from teller_tui.wallets.classes import Tier
from teller_tui.wallets.identity.cards import format_wallet_number
from teller_tui.wallets.onboarding.steps import EXPLANATIONS
from teller_tui.wallets.rewards import GRANT_AT_ISSUE, GRANT_FIRST_USE, RewardRule, reward_rule, welcome_points

__all__ = ["GRANT_AT_ISSUE", "GRANT_FIRST_USE", "RewardRule", "WelcomeSheet", "render_welcome", "reward_rule",
           "service_contacts", "welcome_points"]


def service_contacts(locale: str | None = None, path: Path | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs from data/service_contacts.toml in ``locale``."""
    zh = (locale or get_locale()).lower().startswith("zh")
    out = []
    for raw in _read_toml(path or _default("service_contacts.toml")).get("contact", []):
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


def render_welcome(sheet: WelcomeSheet, *, width: int = 80, locale: str | None = None) -> str:
    """A printable plain-text summary. Never contains the PIN or the TOTP secret."""
    loc = locale or get_locale()
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
        title = _("Welcome to your digital wallet")
        lines = [rule, pad(title, width, "center", clip=True), rule]
        for label, value in rows:
            lines.append(pad(label, label_w, clip=True) + pad(value, width - label_w, clip=True))
        lines.append("-" * width)
        lines.append(_("We explained to you:"))
        for key in sheet.explanations:
            lines.append("  [x] " + pad(_(EXPLANATIONS[key]), width - 6, clip=True))
        lines.append("-" * width)
        lines.append(_("Service contacts:"))
        for label, value in service_contacts(loc):
            lines.append("  " + pad(label, label_w, clip=True) + pad(value, width - label_w - 2, clip=True))
        lines.append("-" * width)
        for note in (_("Never tell anyone your PIN or a code from your authenticator app; bank staff will "
                       "never ask for them."),
                     _("Lost your phone? Call us to freeze the wallet at once.")):
            lines.extend(_wrap(note, width))
        lines.append(rule)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    out, cur = [], ""
    for ch in text:
        if display_width(cur + ch) > width:
            cut = cur.rfind(" ")
            if cut > width // 2:
                out.append(cur[:cut])
                cur = cur[cut + 1:]
            else:
                out.append(cur)
                cur = ""
        cur += ch
    if cur:
        out.append(cur)
    return out
