"""Guided onboarding: step validation, drafts, and wallet issuance.

The wizard collects a JSON-able ``data`` dict with one section per step (see :data:`STEPS`);
every value is the text or flag the teller entered. The core validates a section with
:meth:`OnboardingService.validate_step` (``ValidationError`` with ``details["field"]`` naming
the field) and issues everything in ONE write transaction with :meth:`OnboardingService.issue`.

Public API::

    svc = OnboardingService(db, clock, settings, ledger, audit)       # services.onboarding
    section = svc.validate_step("identity", data)        # normalised section; raises ValidationError,
                                                         # DuplicateCustomer (identity step)
    offers = svc.offered_tiers(data)                     # -> [TierOffer] the evidence allows
    enrol = svc.new_totp(data)                           # -> TotpEnrolment(secret, uri, qr)
    ok = svc.check_totp(secret, code)                    # customer's first code
    info = svc.save_draft(actor, data, step, draft_id=None, totp_secret=None)   # -> DraftInfo
    drafts = svc.list_drafts(actor)                      # the actor's branch, not expired
    state = svc.load_draft(actor, draft_id)              # -> DraftState (PIN must be re-entered)
    svc.discard_draft(actor, draft_id); n = svc.purge_expired(actor)
    res = svc.issue(actor, data, pin=pin, totp_secret=secret, draft_id=id, idempotency_key=key)
    text = svc.welcome_text(wallet_id)                   # reprint of the welcome sheet

Drafts never hold the PIN (only ``security.pin_set``) nor a TOTP secret in clear (SecretBox,
bound to the draft id). A draft expires ``settings.draft_expiry_hours`` after its last save
and is purged (``purge_expired``; the drafts screen runs it on open).

Evidence (teller_tui.wallets.classes): the in-person check of the identity document, the real name on
any document, the mobile number confirmed with the customer, and a linked bank card/account
in the customer's own name. Issuance re-derives the evidence and refuses a tier it does not allow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.common.errors import Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database
    from teller_tui.wallets.funding import FundingService
    from teller_tui.ledger import Ledger
    from teller_tui.common.settings import Settings
    from teller_tui.wallets.classes import Tier, TierTable
    from teller_tui.wallets.service import WalletInfo

STEPS: tuple[str, ...] = ("identity", "personal", "contact", "risk", "tier", "funding", "security",
                          "explanations", "review", "issue", "welcome")
#: Steps whose input is validated (the last two are the issuance itself and its result).
INPUT_STEPS: tuple[str, ...] = STEPS[:-2]
STEP_TITLES: dict[str, str] = {
    "identity": N_("Identity document"),
    "personal": N_("Personal details"),
    "contact": N_("Contact"),
    "risk": N_("Risk and needs"),
    "tier": N_("Wallet class"),
    "funding": N_("Funding source"),
    "security": N_("Security"),
    "explanations": N_("Explanations given"),
    "review": N_("Review and consent"),
    "issue": N_("Issue"),
    "welcome": N_("Welcome sheet"),
}
DOC_NONE = "none"  # anonymous class 4 wallet: no identity document
EXPLANATIONS: dict[str, str] = {
    "setup": N_("How the wallet was set up and what its class allows"),
    "top_up": N_("How to top up (cash at the counter, linked card or account)"),
    "withdrawal": N_("How to withdraw and what the limits are"),
    "security": N_("Keeping the PIN and phone safe; freezing a lost wallet"),
    "help": N_("Where to get help (hotline, branch)"),
}
PURPOSES: dict[str, str] = {
    "payments": N_("Everyday payments"),
    "salary": N_("Receiving salary or benefits"),
    "savings": N_("Keeping money aside"),
    "business": N_("Small business takings"),
}
MONTHLY_BANDS: dict[str, str] = {
    "low": N_("Under 5,000 a month"),
    "mid": N_("5,000 to 50,000 a month"),
    "high": N_("Over 50,000 a month"),
}
SEXES = ("M", "F")
_DRAFT_TOTP_CONTEXT = "onboarding_draft:{id}:totp"


# -- read models -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TierOffer:
    tier: Tier
    needs_link: bool  # allowed once an own bank card/account is linked in the funding step


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    uri: str
    qr: str  # text QR (half blocks), dark ink


@dataclass(frozen=True, slots=True)
class DraftInfo:
    draft_id: int
    branch: str
    step: str
    label: str
    created_by: str
    updated_by: str
    updated_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class DraftState:
    info: DraftInfo
    data: dict[str, dict[str, Any]]
    totp_secret: str | None


@dataclass(frozen=True, slots=True)
class IssueResult:
    customer_id: int
    customer_no: str
    wallet: WalletInfo
    tier_name: str
    linked_masked: str
    bank_name: str
    reward_points: int
    welcome_text: str
    welcome_path: Path | None
    replayed: bool = False


class DuplicateCustomer(Conflict):
    """The identity document already belongs to a customer: go to that customer instead."""

    code = "duplicate_customer"

    def __init__(self, customer_id: int, customer_no: str) -> None:
        super().__init__(_("This document already belongs to customer {no}: open that customer instead").format(
            no=customer_no), customer_id=customer_id)
        self.customer_id = customer_id
        self.customer_no = customer_no


def blank_data() -> dict[str, dict[str, Any]]:
    """Empty sections with the defaults the wizard starts from."""
    return {
        "identity": {"doc_type": "prc_id", "number": "", "expiry": "", "country": "CHN", "in_person": False},
        "personal": {"full_name": "", "name_latin": "", "birth_date": "", "sex": "", "nationality": "CHN",
                     "address": "", "occupation": ""},
        "contact": {"phone": "", "phone_confirmed": False},
        "risk": {"purpose": "payments", "monthly": "low", "pep": False},
        "tier": {"tier": None},
        "funding": {"kind": "none", "number": "", "bank_name": "", "holder_name": ""},
        "security": {"pin_set": False, "totp": False, "totp_confirmed": False},
        "explanations": {key: False for key in EXPLANATIONS},
        "review": {"consent": False},
    }


def _invalid(message: str, code: str, field: str) -> ValidationError:
    return ValidationError(message, code=code, field=field)


def _with_field(exc: ValidationError, field: str) -> ValidationError:
    exc.details["field"] = field
    return exc


def _parse_date(text: Any, field: str, *, required: bool) -> date | None:
    s = str(text or "").strip().replace("/", "-").replace(".", "-")
    if not s:
        if required:
            raise _invalid(_("Enter a date such as 2030-12-31"), "date_empty", field)
        return None
    if len(s) == 8 and s.isdigit():
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise _invalid(_("{text} is not a date: use year-month-day, e.g. 2030-12-31").format(text=s[:20]),
                       "date_format", field) from None


def _free_text(value: Any, field: str, label: str, limit: int) -> str:
    from teller_tui.wallets.identity import normalize_text, reject_control_chars

    s = normalize_text(str(value or ""))
    try:
        reject_control_chars(s, label)
    except ValidationError as exc:
        raise _with_field(exc, field) from None
    if len(s) > limit:
        raise _invalid(_("{field} is too long (at most {n} characters)").format(field=label, n=limit),
                       "too_long", field)
    return s


def _sec(data: Mapping[str, Any], step: str) -> dict[str, Any]:
    value = data.get(step) or {}
    return dict(value) if isinstance(value, Mapping) else {}


def _pinyin_ok(s: str) -> bool:
    return all(ch.isascii() and (ch.isalpha() or ch in " -'.") for ch in s)


# -- step validation (pure) --------------------------------------------------------------------
def validate_section(step: str, data: Mapping[str, Any], *, today: date, tiers: TierTable,
                     pin: str | None = None, pin_again: str | None = None) -> dict[str, Any]:
    """Validate one step's section of ``data``; return it normalised. No database access."""
    from teller_tui.wallets import identity as idn

    sec = _sec(data, step)
    if step == "identity":
        doc_type = str(sec.get("doc_type") or "prc_id")
        if doc_type == DOC_NONE:
            return {"doc_type": DOC_NONE, "number": "", "expiry": "", "country": "", "in_person": False}
        expiry = _parse_date(sec.get("expiry"), "expiry", required=doc_type != "prc_id")
        try:
            doc = idn.validate_document(doc_type, str(sec.get("number") or ""), today=today, expiry=expiry,
                                        country=str(sec.get("country") or "CHN"))
        except ValidationError as exc:
            field = {"id_expired": "expiry", "passport_country": "country", "document_type": "doc_type"}.get(
                exc.code, "number")
            raise _with_field(exc, field) from None
        if not sec.get("in_person"):
            raise _invalid(_("Confirm that you checked the original document with the customer in person"),
                           "in_person", "in_person")
        return {"doc_type": doc.doc_type.value, "number": doc.number,
                "expiry": expiry.isoformat() if expiry else "", "country": doc.country or "",
                "in_person": True}
    if step == "personal":
        ident = validate_section("identity", data, today=today, tiers=tiers) if _sec(data, "identity") else {}
        try:
            name = idn.validate_name(str(sec.get("full_name") or ""))
        except ValidationError as exc:
            raise _with_field(exc, "full_name") from None
        latin = _free_text(sec.get("name_latin"), "name_latin", _("Latin spelling"), 120).lower()
        if latin and not _pinyin_ok(latin):
            raise _invalid(_("Write the latin spelling with letters a-z only, e.g. zhang wei"), "latin",
                           "name_latin")
        if not latin and _pinyin_ok(name):
            latin = name.lower()
        prc = None
        if ident.get("doc_type") == "prc_id":
            prc = idn.validate_prc_id(ident["number"], today=today)
        birth = _parse_date(sec.get("birth_date"), "birth_date", required=prc is None and bool(ident)
                            and ident.get("doc_type") != DOC_NONE)
        if prc is not None:
            if birth is not None and birth != prc.birth_date:
                raise _invalid(_("The birth date differs from the one in the ID number ({day})").format(
                    day=prc.birth_date.isoformat()), "birth_mismatch", "birth_date")
            birth = prc.birth_date
        if birth is not None and (birth > today or birth < idn.MIN_BIRTH_DATE):
            raise _invalid(_("The birth date must be between 1900 and today"), "birth_range", "birth_date")
        sex = str(sec.get("sex") or "").upper()
        if prc is not None:
            if sex and sex != prc.sex:
                raise _invalid(_("The sex differs from the one encoded in the ID number"), "sex_mismatch", "sex")
            sex = prc.sex
        if sex and sex not in SEXES:
            raise _invalid(_("Choose M or F"), "sex", "sex")
        nationality = str(sec.get("nationality") or ident.get("country") or "CHN").strip().upper()
        if len(nationality) != 3 or not nationality.isascii() or not nationality.isalpha():
            raise _invalid(_("The nationality must be a three-letter code such as CHN"), "nationality",
                           "nationality")
        return {"full_name": name, "name_latin": latin, "birth_date": birth.isoformat() if birth else "",
                "sex": sex, "nationality": nationality,
                "address": _free_text(sec.get("address"), "address", _("Address"), 200),
                "occupation": _free_text(sec.get("occupation"), "occupation", _("Occupation"), 80)}
    if step == "contact":
        try:
            phone = idn.validate_mobile(str(sec.get("phone") or ""))
        except ValidationError as exc:
            raise _with_field(exc, "phone") from None
        if not sec.get("phone_confirmed"):
            raise _invalid(_("Confirm the number with the customer (read it back or send a test code)"),
                           "phone_unconfirmed", "phone_confirmed")
        return {"phone": phone, "phone_confirmed": True}
    if step == "risk":
        purpose, monthly = str(sec.get("purpose") or ""), str(sec.get("monthly") or "")
        if purpose not in PURPOSES:
            raise _invalid(_("Choose what the wallet is for"), "purpose", "purpose")
        if monthly not in MONTHLY_BANDS:
            raise _invalid(_("Choose the expected monthly amount"), "monthly", "monthly")
        pep = bool(sec.get("pep"))
        return {"purpose": purpose, "monthly": monthly, "pep": pep,
                "risk_level": risk_level(purpose, monthly, pep)}
    if step == "tier":
        raw = sec.get("tier")
        offers = {o.tier.number: o for o in offered_tiers(data, today=today, tiers=tiers)}
        try:
            number = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _invalid(_("Choose a wallet class"), "tier_empty", "tier") from None
        if number not in offers:
            raise _invalid(_("The evidence collected does not allow a class {tier} wallet").format(tier=number),
                           "tier_not_allowed", "tier")
        return {"tier": number, "needs_link": offers[number].needs_link}
    if step == "funding":
        kind = str(sec.get("kind") or "none")
        tier_sec = _sec(data, "tier")
        needs = False
        if tier_sec.get("tier"):
            needs = "own_bank_account" in tiers.tier(int(tier_sec["tier"]), on=today).evidence
        if kind == "none":
            if needs:
                raise _invalid(_("This wallet class needs a bank card or account in the customer's own name"),
                               "link_required", "kind")
            return {"kind": "none", "number": "", "bank_name": "", "holder_name": ""}
        try:
            if kind == "card":
                card = idn.validate_bank_card(str(sec.get("number") or ""))
                number, bank = card.number, card.bank.name(_locale())
            elif kind == "account":
                number = idn.validate_bank_account(str(sec.get("number") or ""))
                bank = _free_text(sec.get("bank_name"), "bank_name", _("Bank"), 80)
                if not bank:
                    raise _invalid(_("Enter the bank that holds the account"), "bank_empty", "bank_name")
            else:
                raise _invalid(_("Choose a card or an account"), "link_kind", "kind")
        except ValidationError as exc:
            raise _with_field(exc, "number") from None
        name = _sec(data, "personal").get("full_name") or ""
        holder_raw = str(sec.get("holder_name") or "") or name
        try:
            holder = idn.validate_name(holder_raw)
        except ValidationError as exc:
            raise _with_field(exc, "holder_name") from None
        if needs and holder != idn.validate_name(name or holder):
            raise _invalid(_("This wallet class needs an account in the customer's own name"), "holder_mismatch",
                           "holder_name")
        return {"kind": kind, "number": number, "bank_name": bank, "holder_name": holder}
    if step == "security":
        out = {"pin_set": False, "totp": bool(sec.get("totp")), "totp_confirmed": bool(sec.get("totp_confirmed"))}
        if pin is None:
            raise _invalid(_("Ask the customer to enter a 6-digit PIN"), "pin_missing", "pin")
        personal, contact = _sec(data, "personal"), _sec(data, "contact")
        birth = _parse_date(personal.get("birth_date"), "birth_date", required=False)
        try:
            idn.validate_pin(pin, birth_date=birth, phone=str(contact.get("phone") or "") or None)
        except ValidationError as exc:
            raise _with_field(exc, "pin") from None
        if pin_again is not None and pin_again != pin:
            raise _invalid(_("The two PINs differ: ask the customer to enter it again"), "pin_mismatch",
                           "pin_again")
        if out["totp"] and not out["totp_confirmed"]:
            raise _invalid(_("Check one code from the customer's authenticator app, or turn the app off"),
                           "totp_unconfirmed", "totp_code")
        out["pin_set"] = True
        return out
    if step == "explanations":
        missing = [key for key in EXPLANATIONS if not sec.get(key)]
        if missing:
            raise _invalid(_("Explain and tick every item: {item}").format(item=_(EXPLANATIONS[missing[0]])),
                           "explanation_missing", missing[0])
        return {key: True for key in EXPLANATIONS}
    if step == "review":
        if not sec.get("consent"):
            raise _invalid(_("The customer must consent to the terms and to the use of their data"),
                           "consent", "consent")
        return {"consent": True}
    if step in ("issue", "welcome"):
        return sec
    raise ValidationError(_("Unknown step {step}").format(step=step), code="step")


def risk_level(purpose: str, monthly: str, pep: bool) -> str:
    """high: a politically exposed person or over 50,000 a month; medium: 5,000-50,000 or business."""
    if pep or monthly == "high":
        return "high"
    if monthly == "mid" or purpose == "business":
        return "medium"
    return "low"


def evidence_of(data: Mapping[str, Any], *, include_link: bool = True) -> frozenset[str]:
    """The tier evidence the (already entered) data provides."""
    from teller_tui.wallets.classes import EVIDENCE_ID_IN_PERSON, EVIDENCE_MOBILE, EVIDENCE_OWN_BANK_ACCOUNT, EVIDENCE_REAL_NAME

    ev: set[str] = set()
    ident = _sec(data, "identity")
    if ident.get("doc_type") not in (None, "", DOC_NONE) and ident.get("number"):
        ev.add(EVIDENCE_REAL_NAME)
        if ident.get("in_person"):
            ev.add(EVIDENCE_ID_IN_PERSON)
    if _sec(data, "contact").get("phone_confirmed"):
        ev.add(EVIDENCE_MOBILE)
    fund = _sec(data, "funding")
    if include_link and fund.get("kind") in ("card", "account") and fund.get("number"):
        name = _sec(data, "personal").get("full_name") or ""
        if name and (fund.get("holder_name") or name) == name:
            ev.add(EVIDENCE_OWN_BANK_ACCOUNT)
    return frozenset(ev)


def offered_tiers(data: Mapping[str, Any], *, today: date, tiers: TierTable) -> list[TierOffer]:
    """Classes the evidence allows now, plus those a linked own bank account would allow."""
    from teller_tui.wallets.classes import EVIDENCE_OWN_BANK_ACCOUNT

    have = evidence_of(data, include_link=False)
    out: list[TierOffer] = []
    for t in tiers.tiers(today):
        if t.allows(have):
            out.append(TierOffer(t, False))
        elif have and t.allows(have | {EVIDENCE_OWN_BANK_ACCOUNT}):
            out.append(TierOffer(t, True))
    return out


def _locale() -> str:
    from teller_tui.common.i18n import get_locale

    return get_locale()


# -- rewards and contacts (data/) ------------------------------------------------------------------
def welcome_points(on: date, path: Path | None = None) -> int:
    """The welcome reward in force on ``on`` (data/rewards.toml); 0 when none."""
    from teller_tui.common.reference import _default, _read_toml

    data = _read_toml(path or _default("rewards.toml"))
    best: tuple[date, int] | None = None
    for raw in data.get("reward_set", []):
        eff, pts = raw.get("effective_from"), raw.get("welcome_points", 0)
        if not isinstance(eff, date) or type(pts) is not int or pts < 0:
            raise ValidationError(_("rewards.toml: each reward_set needs effective_from and welcome_points >= 0"),
                                  code="rewards_file")
        if eff <= on and (best is None or eff > best[0]):
            best = (eff, pts)
    return best[1] if best else 0


def service_contacts(locale: str | None = None, path: Path | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs from data/service_contacts.toml in ``locale``."""
    from teller_tui.common.reference import _default, _read_toml

    zh = (locale or _locale()).lower().startswith("zh")
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
    reward_points: int
    pin_set: bool
    totp_enrolled: bool
    explanations: tuple[str, ...]


def render_welcome(sheet: WelcomeSheet, *, width: int = 80, locale: str | None = None) -> str:
    """A printable plain-text summary. Never contains the PIN or the TOTP secret."""
    from teller_tui.common.formatting import display_width, format_datetime, format_money, pad
    from teller_tui.common.i18n import locale_override
    from teller_tui.wallets.identity import format_wallet_number
    from teller_tui.common.text import clean_text

    loc = locale or _locale()
    with locale_override(loc):
        t = sheet.tier
        rows: list[tuple[str, str]] = [
            (_("Wallet number"), format_wallet_number(sheet.wallet_number)),
            (_("Holder"), clean_text(sheet.customer_name)),
            (_("Customer no."), sheet.customer_no),
            (_("Wallet class"), t.name(loc)),
            (_("Opened"), format_datetime(sheet.opened_at)),
            (_("Branch"), sheet.branch_code),
            (_("Balance limit"), format_money(t.balance_cap)),
            (_("Per payment"), format_money(t.per_txn)),
            (_("Per day"), format_money(t.daily)),
            (_("Per year"), format_money(t.yearly)),
            (_("Linked account"), (clean_text(sheet.bank_name) + " " + sheet.linked_masked).strip()
             if sheet.linked_masked else _("none")),
            (_("Welcome reward"), _("{points} points").format(points=sheet.reward_points)
             if sheet.reward_points else _("none")),
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
    from teller_tui.common.formatting import display_width

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


# -- the service ---------------------------------------------------------------------------------
class OnboardingService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail,
                 tiers: TierTable, *, funding: FundingService, box: SecretBox) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.tiers, self.funding, self.box = tiers, funding, box

    def today(self) -> date:
        from teller_tui.common.clock import local_date

        return local_date(self.clock.now())

    # -- validation -------------------------------------------------------------------------
    def validate_step(self, step: str, data: Mapping[str, Any], *, pin: str | None = None,
                      pin_again: str | None = None) -> dict[str, Any]:
        out = validate_section(step, data, today=self.today(), tiers=self.tiers, pin=pin, pin_again=pin_again)
        if step == "identity" and out["doc_type"] != DOC_NONE:
            found = self.find_duplicate(out["doc_type"], out["number"])
            if found is not None:
                raise DuplicateCustomer(*found)
        if step == "funding" and out["kind"] != "none":
            self._check_link_free(out["kind"], out["number"])
        return out

    def offered_tiers(self, data: Mapping[str, Any]) -> list[TierOffer]:
        return offered_tiers(data, today=self.today(), tiers=self.tiers)

    def first_invalid(self, data: Mapping[str, Any]) -> str | None:
        """The first input step that does not validate (security needs a PIN: always re-entered)."""
        for step in INPUT_STEPS:
            if step == "security":
                if not _sec(data, "security").get("pin_set"):
                    return step
                continue
            try:
                validate_section(step, data, today=self.today(), tiers=self.tiers)
            except ValidationError:
                return step
        return None

    def find_duplicate(self, doc_type: str, number: str) -> tuple[int, str] | None:
        from sqlalchemy import select

        from teller_tui.models import Customer

        with self.db.read() as s:
            row = s.execute(select(Customer.id, Customer.customer_no).where(
                Customer.id_type == doc_type, Customer.id_number == number)).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def _check_link_free(self, kind: str, number: str) -> None:
        from sqlalchemy import select

        from teller_tui.models import LinkedAccount

        token = self.funding.token_for(number)
        with self.db.read() as s:
            if s.execute(select(LinkedAccount.id).where(LinkedAccount.token == token)).first() is not None:
                raise _invalid(_("This card or account is already linked to another customer"),
                               "linked_elsewhere", "number")

    # -- TOTP ---------------------------------------------------------------------------------
    def new_totp(self, data: Mapping[str, Any]) -> TotpEnrolment:
        from teller_tui.auth.qr import qr_text
        from teller_tui.auth.totp import new_secret, provisioning_uri
        from teller_tui.wallets.identity import mask_phone

        secret = new_secret()
        phone = str(_sec(data, "contact").get("phone") or "") or "wallet"
        uri = provisioning_uri(secret, mask_phone(phone).replace(":", ""), _("Digital wallet").replace(":", ""))
        return TotpEnrolment(secret, uri, qr_text(uri))

    def check_totp(self, secret: str, code: str) -> bool:
        from teller_tui.auth.totp import verify_totp

        return verify_totp(secret, code, now=self.clock.now(), last_step=None) is not None

    # -- drafts ---------------------------------------------------------------------------------
    def save_draft(self, actor: Actor, data: Mapping[str, Any], step: str, *, draft_id: int | None = None,
                   totp_secret: str | None = None) -> DraftInfo:
        """Create or update a draft; the PIN is dropped, the TOTP secret encrypted."""
        from teller_tui.auth.roles import STAFF_ROLES, require_role

        require_role(actor, *STAFF_ROLES)
        from teller_tui.models import OnboardingDraft

        if step not in STEPS:
            raise ValidationError(_("Unknown step {step}").format(step=step), code="step")
        clean = _draft_data(data)
        label = _draft_label(clean)
        now = self.clock.now()
        expires = now + timedelta(hours=self.settings.draft_expiry_hours)

        def work(s: Session) -> DraftInfo:
            if draft_id is None:
                row = OnboardingDraft(branch=actor.branch_code, created_by=actor.staff_id,
                                      updated_by=actor.staff_id, created_at=now, updated_at=now,
                                      expires_at=expires, step=step, label=label, data_json="{}")
                s.add(row)
                s.flush()
            else:
                row = self._draft_row(s, actor, draft_id)
                row.updated_by, row.updated_at, row.expires_at, row.step, row.label = (
                    actor.staff_id, now, expires, step, label)
            sec = clean.setdefault("security", {})
            if totp_secret:
                sec["totp_secret_enc"] = self.box.encrypt(totp_secret, context=_DRAFT_TOTP_CONTEXT.format(id=row.id))
            row.data_json = json.dumps(clean, ensure_ascii=False, sort_keys=True)
            s.flush()
            if draft_id is None:
                self.audit.append(s, actor, "onboarding_draft_save", subject=f"draft:{row.id}",
                                  detail={"step": step})
            return self._info(s, row)

        return self.db.write_retrying(work)

    def list_drafts(self, actor: Actor) -> list[DraftInfo]:
        from sqlalchemy import select

        from teller_tui.models import OnboardingDraft

        with self.db.read() as s:
            rows = s.execute(select(OnboardingDraft).where(
                OnboardingDraft.branch == actor.branch_code, OnboardingDraft.expires_at > self.clock.now())
                .order_by(OnboardingDraft.updated_at.desc())).scalars().all()  # type: ignore[attr-defined]
            return [self._info(s, r) for r in rows]

    def load_draft(self, actor: Actor, draft_id: int) -> DraftState:
        with self.db.read() as s:
            row = self._draft_row(s, actor, draft_id)
            data = json.loads(row.data_json)
            info = self._info(s, row)
        sec = data.setdefault("security", {})
        token = sec.pop("totp_secret_enc", None)
        secret = self.box.decrypt(token, context=_DRAFT_TOTP_CONTEXT.format(id=draft_id)) if token else None
        if secret is None:
            sec["totp_confirmed"] = False
        return DraftState(info, data, secret)

    def discard_draft(self, actor: Actor, draft_id: int) -> None:
        def work(s: Session) -> None:
            row = self._draft_row(s, actor, draft_id, allow_expired=True)
            s.delete(row)
            self.audit.append(s, actor, "onboarding_draft_discard", subject=f"draft:{draft_id}")

        self.db.write_retrying(work)

    def purge_expired(self, actor: Actor | None = None) -> int:
        """Delete every expired draft (all branches); audited when anything went."""
        from sqlalchemy import delete, select

        from teller_tui.audit.trail import Actor as _Actor
        from teller_tui.models import OnboardingDraft

        who = actor or _Actor(None, "system", self.settings.terminal_id, "admin", self.settings.branch_code)

        def work(s: Session) -> int:
            now = self.clock.now()
            ids = list(s.execute(select(OnboardingDraft.id).where(OnboardingDraft.expires_at <= now)).scalars())
            if ids:
                s.execute(delete(OnboardingDraft).where(OnboardingDraft.id.in_(ids)))  # type: ignore[union-attr]
                self.audit.append(s, who, "onboarding_draft_purge", detail={"drafts": ids})
            return len(ids)

        return self.db.write_retrying(work)

    def _draft_row(self, s: Session, actor: Actor, draft_id: int, *, allow_expired: bool = False) -> Any:
        from teller_tui.models import OnboardingDraft

        row = s.get(OnboardingDraft, draft_id)
        if row is None:
            raise NotFound(_("This draft no longer exists"), code="no_draft")
        if row.branch != actor.branch_code:
            raise PermissionDenied(_("This draft belongs to another branch"), code="draft_branch")
        if not allow_expired and row.expires_at <= self.clock.now():
            raise NotFound(_("This draft has expired; start again"), code="draft_expired")
        return row

    def _info(self, s: Session, row: Any) -> DraftInfo:
        from teller_tui.models import Staff

        def name(staff_id: int | None) -> str:
            st = s.get(Staff, staff_id) if staff_id else None
            return st.username if st else ""

        return DraftInfo(row.id, row.branch, row.step, row.label, name(row.created_by), name(row.updated_by),
                         row.updated_at, row.expires_at)

    # -- issuance ---------------------------------------------------------------------------------
    def issue(self, actor: Actor, data: Mapping[str, Any], *, pin: str, idempotency_key: str,
              totp_secret: str | None = None, draft_id: int | None = None) -> IssueResult:
        """Create the customer, the wallet, the linked account, PIN and TOTP, the welcome reward."""
        from teller_tui.auth.roles import STAFF_ROLES, require_role

        require_role(actor, *STAFF_ROLES)
        from teller_tui.auth.passwords import hash_pin

        if not idempotency_key:
            raise ValidationError(_("An idempotency key is required"), code="idempotency_key")
        replay = self._replay(idempotency_key)
        if replay is not None:
            return replay
        today = self.today()
        sections: dict[str, dict[str, Any]] = {}
        for step in INPUT_STEPS:
            sections[step] = validate_section(step, {**data, **sections} if step != "security" else data,
                                              today=today, tiers=self.tiers, pin=pin)
        if sections["security"]["totp"] and not totp_secret:
            raise _invalid(_("Enrol the authenticator app again: its secret was not kept"), "totp_missing",
                           "totp_code")
        merged = {**dict(data), **sections}
        tier_no = int(sections["tier"]["tier"])
        tier = self.tiers.tier(tier_no, on=today)
        evidence = evidence_of(merged)
        if not tier.allows(evidence):
            raise _invalid(_("The evidence collected does not allow a class {tier} wallet").format(tier=tier_no),
                           "tier_not_allowed", "tier")
        pin_hash = hash_pin(pin)  # slow: outside the transaction
        points = welcome_points(today)
        ident, personal, contact = sections["identity"], sections["personal"], sections["contact"]
        fund = sections["funding"]
        from teller_tui.wallets.service import WalletService

        wallets = WalletService(self.db, self.clock, self.settings, self.ledger, self.audit)

        def work(s: Session) -> tuple[int, str, WalletInfo, str, str]:
            from sqlalchemy import func, select

            from teller_tui.ledger import EntryRequest, credit, debit
            from teller_tui.ledger.accounts import AccountKind, points_pool_code
            from teller_tui.models import Customer, OnboardingDraft

            if ident["doc_type"] != DOC_NONE:
                dup = s.execute(select(Customer.id, Customer.customer_no).where(
                    Customer.id_type == ident["doc_type"], Customer.id_number == ident["number"])).first()
                if dup is not None:
                    raise DuplicateCustomer(int(dup[0]), str(dup[1]))
            seq = int(s.execute(select(func.coalesce(func.max(Customer.id), 0))).scalar_one()) + 1
            customer_no = f"C{seq:010d}"
            while s.execute(select(Customer.id).where(Customer.customer_no == customer_no)).first():
                seq += 1
                customer_no = f"C{seq:010d}"
            cust = Customer(
                customer_no=customer_no, full_name=personal["full_name"], name_latin=personal["name_latin"],
                phone=contact["phone"],
                id_type=None if ident["doc_type"] == DOC_NONE else ident["doc_type"],
                id_number=None if ident["doc_type"] == DOC_NONE else ident["number"],
                id_expiry=date.fromisoformat(ident["expiry"]) if ident.get("expiry") else None,
                birth_date=date.fromisoformat(personal["birth_date"]) if personal["birth_date"] else None,
                sex=personal["sex"] or None, nationality=personal["nationality"], address=personal["address"],
                occupation=personal["occupation"], risk_level=sections["risk"]["risk_level"],
                kyc_level=kyc_level(evidence), pin_hash=pin_hash, branch_code=actor.branch_code,
                created_at=self.clock.now(), created_by=actor.staff_id)
            s.add(cust)
            s.flush()
            assert cust.id is not None
            if totp_secret and sections["security"]["totp"]:
                cust.totp_secret_enc = self.box.encrypt(totp_secret, context=f"customer:{cust.id}:totp")
            wallet = wallets.open_wallet(s, actor, cust.id, tier_no, explanations={
                **sections["explanations"], "at": self.clock.now().isoformat(), "by": actor.username})
            masked = bank = ""
            if fund["kind"] != "none":
                link = self.funding.link(s, actor, cust.id, wallet.wallet_id, fund["kind"], fund["number"],
                                         fund["holder_name"], bank_name=fund["bank_name"])
                masked, bank = link.masked, link.bank_name
            if points and wallet.points_account_id is not None:
                pool = self.ledger.open_account(s, code=points_pool_code(actor.branch_code),
                                                name=f"Points pool {actor.branch_code}",
                                                kind=AccountKind.POINTS_POOL, currency="PTS",
                                                branch_code=actor.branch_code)
                pts = Money(points, "PTS")
                self.ledger.post(s, EntryRequest(
                    idempotency_key=f"welcome:{idempotency_key}"[:80], kind="welcome_reward",
                    legs=(debit(pool, pts), credit(wallet.points_account_id, pts)), actor_id=actor.staff_id,
                    terminal_id=actor.terminal_id, branch_code=actor.branch_code, memo="welcome reward",
                    customer_id=cust.id, meta={"wallet": wallet.number}))
            self.audit.append(s, actor, "customer_onboard", subject=customer_no, detail={
                "wallet": wallet.number, "tier": tier_no, "evidence": sorted(evidence),
                "document": ident["doc_type"], "linked": masked, "totp": bool(cust.totp_secret_enc),
                "reward_points": points, "key": idempotency_key, "draft": draft_id})
            if draft_id is not None:
                row = s.get(OnboardingDraft, draft_id)
                if row is not None and row.branch == actor.branch_code:
                    s.delete(row)
            return cust.id, customer_no, wallet, masked, bank

        cust_id, customer_no, wallet, masked, bank = self.db.write_retrying(work)
        text, path = self._write_welcome(wallet.wallet_id)
        return IssueResult(cust_id, customer_no, wallet, tier.name(_locale()), masked, bank, points, text, path)

    def _replay(self, key: str) -> IssueResult | None:
        """A repeated issue() with the same key returns the first result (found via the audit trail)."""
        from sqlalchemy import select

        from teller_tui.models import AuditRecord, Customer, Wallet

        with self.db.read() as s:
            rows = s.execute(select(AuditRecord.subject, AuditRecord.detail_json).where(
                AuditRecord.action == "customer_onboard").order_by(AuditRecord.seq.desc()).limit(200)).all()
            for subject, detail_json in rows:
                detail = json.loads(detail_json)
                if detail.get("key") == key:
                    cust = s.execute(select(Customer).where(Customer.customer_no == subject)).scalar_one()
                    w = s.execute(select(Wallet).where(Wallet.number == detail["wallet"])).scalar_one()
                    wallet_id = w.id
                    break
            else:
                return None
        info = self._sheet_for(wallet_id)
        from teller_tui.wallets.service import WalletService

        winfo = WalletService(self.db, self.clock, self.settings, self.ledger, self.audit).get_wallet(wallet_id)
        text, path = self._write_welcome(wallet_id)
        return IssueResult(cust.id, cust.customer_no, winfo, info.tier.name(_locale()), info.linked_masked,
                           info.bank_name, info.reward_points, text, path, replayed=True)

    # -- welcome sheet ------------------------------------------------------------------------------
    def _sheet_for(self, wallet_id: int) -> WelcomeSheet:
        from sqlalchemy import select

        from teller_tui.common.clock import local_date
        from teller_tui.wallets.identity import mask_name
        from teller_tui.models import Customer, LinkedAccount, Wallet

        with self.db.read() as s:
            w = s.get(Wallet, wallet_id)
            if w is None:
                raise NotFound(_("No such wallet"), code="no_wallet")
            c = s.get(Customer, w.customer_id)
            assert c is not None
            link = s.execute(select(LinkedAccount).where(LinkedAccount.wallet_id == wallet_id,
                                                         LinkedAccount.removed_at.is_(None))  # type: ignore[union-attr]
                             ).scalars().first()
            points = self.ledger.balance(s, w.points_account_id).posted.minor if w.points_account_id else 0
            expl = json.loads(w.explanations_json or "{}")
            return WelcomeSheet(
                wallet_number=w.number, customer_name=mask_name(c.full_name), customer_no=c.customer_no,
                tier=self.tiers.tier(w.tier, on=local_date(w.opened_at)), opened_at=w.opened_at,
                branch_code=c.branch_code, linked_masked=link.masked if link else "",
                bank_name=link.bank_name if link else "", reward_points=points, pin_set=bool(c.pin_hash),
                totp_enrolled=bool(c.totp_secret_enc),
                explanations=tuple(k for k in EXPLANATIONS if expl.get(k)))

    def welcome_text(self, wallet_id: int, *, width: int = 80, locale: str | None = None) -> str:
        return render_welcome(self._sheet_for(wallet_id), width=width, locale=locale)

    def _write_welcome(self, wallet_id: int) -> tuple[str, Path | None]:
        from teller_tui.common.receipt_files import save_receipt

        sheet = self._sheet_for(wallet_id)
        text = render_welcome(sheet)
        try:
            path: Path | None = save_receipt(self.settings.receipts_dir, f"welcome-{sheet.wallet_number}", text)
        except OSError:
            path = None  # the sheet is still shown and can be delivered; saving is best effort
        return text, path


def kyc_level(evidence: frozenset[str]) -> str:
    """A short summary of the evidence for ``Customer.kyc_level``."""
    from teller_tui.wallets.classes import EVIDENCE_ID_IN_PERSON, EVIDENCE_MOBILE, EVIDENCE_OWN_BANK_ACCOUNT, EVIDENCE_REAL_NAME

    if EVIDENCE_ID_IN_PERSON in evidence:
        return "in_person"
    if EVIDENCE_REAL_NAME in evidence and EVIDENCE_OWN_BANK_ACCOUNT in evidence:
        return "real_name_bank"
    if EVIDENCE_REAL_NAME in evidence:
        return "real_name"
    return "mobile" if EVIDENCE_MOBILE in evidence else "none"


def evidence_from_kyc(level: str) -> frozenset[str]:
    """The inverse of :func:`kyc_level` (what a stored customer is known to have shown)."""
    from teller_tui.wallets.classes import EVIDENCE_ID_IN_PERSON, EVIDENCE_MOBILE, EVIDENCE_OWN_BANK_ACCOUNT, EVIDENCE_REAL_NAME

    return frozenset({
        "in_person": {EVIDENCE_ID_IN_PERSON, EVIDENCE_REAL_NAME, EVIDENCE_MOBILE},
        "real_name_bank": {EVIDENCE_REAL_NAME, EVIDENCE_OWN_BANK_ACCOUNT, EVIDENCE_MOBILE},
        "real_name": {EVIDENCE_REAL_NAME, EVIDENCE_MOBILE},
        "mobile": {EVIDENCE_MOBILE},
    }.get(level, set()))


def _draft_data(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A copy safe to store: no PIN (only whether it was set), no TOTP secret in clear."""
    out: dict[str, dict[str, Any]] = {}
    for step, sec in data.items():
        if step not in STEPS or not isinstance(sec, Mapping):
            continue
        clean = {k: v for k, v in sec.items() if isinstance(v, str | int | float | bool | type(None))}
        if step == "security":
            for k in list(clean):
                if k not in ("pin_set", "totp", "totp_confirmed"):
                    del clean[k]
        if step == "funding" and clean.get("number"):
            # Never the card/account number: a masked hint only; the teller types it again on resume.
            from teller_tui.wallets.identity import mask_card

            digits = "".join(ch for ch in str(clean.pop("number")) if ch.isdigit())
            clean["number"] = ""
            clean["number_hint"] = mask_card(digits) if digits else ""
        out[step] = clean
    return out


def _draft_label(data: Mapping[str, Any]) -> str:
    from teller_tui.wallets.identity import mask_document_number, mask_name

    name = str(_sec(data, "personal").get("full_name") or "")
    ident = _sec(data, "identity")
    parts = []
    if name:
        try:
            parts.append(mask_name(name))
        except Exception:  # noqa: BLE001 - a label never blocks saving
            parts.append("*")
    number = str(ident.get("number") or "")
    if number and ident.get("doc_type") not in (None, DOC_NONE):
        try:
            parts.append(mask_document_number(number, ident.get("doc_type") or "prc_id"))
        except ValueError:
            parts.append("*" * len(number))
    return " · ".join(parts)[:120]
