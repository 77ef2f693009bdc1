"""Step validation (pure: no database, no clock) and the wallet classes the evidence allows.

:func:`validate_section` checks one step's section of the wizard's ``data`` and returns it
normalised, or raises ``ValidationError`` with ``details["field"]`` naming the field.

Evidence (teller_tui.wallets.classes): the in-person check of the identity document, the real
name on any document, the mobile number confirmed with the customer, and a linked bank
card/account in the customer's own name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _, get_locale
from teller_tui.common.text import reject_control_text
from teller_tui.wallets.classes import (
    EVIDENCE_ID_IN_PERSON,
    EVIDENCE_MOBILE,
    EVIDENCE_OWN_BANK_ACCOUNT,
    EVIDENCE_REAL_NAME,
    Tier,
    TierTable,
)
from teller_tui.wallets.identity.cards import validate_bank_account, validate_bank_card
from teller_tui.wallets.identity.contact import validate_mobile
from teller_tui.wallets.identity.documents import MIN_BIRTH_DATE, validate_document, validate_prc_id
from teller_tui.wallets.identity.names import validate_name
from teller_tui.wallets.identity.pins import validate_pin
from teller_tui.wallets.identity.text import normalize_text
from teller_tui.wallets.onboarding.steps import DOC_NONE, EXPLANATIONS, MONTHLY_BANDS, PURPOSES, SEXES, section

__all__ = ["TierOffer", "evidence_of", "invalid", "offered_tiers", "risk_level", "validate_section"]


@dataclass(frozen=True, slots=True)
class TierOffer:
    tier: Tier
    needs_link: bool  # allowed once an own bank card/account is linked in the funding step


def invalid(message: str, code: str, field: str) -> ValidationError:
    """A ValidationError naming the wizard field it is about."""
    return ValidationError(message, code=code, field=field)


def _with_field(exc: ValidationError, field: str) -> ValidationError:
    exc.details["field"] = field
    return exc


def _parse_date(text: Any, field: str, *, required: bool) -> date | None:
    s = str(text or "").strip().replace("/", "-").replace(".", "-")
    if not s:
        if required:
            raise invalid(_("Enter a date such as 2030-12-31"), "date_empty", field)
        return None
    if len(s) == 8 and s.isdigit():
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise invalid(_("{text} is not a date: use year-month-day, e.g. 2030-12-31").format(text=s[:20]),
                       "date_format", field) from None


def _free_text(value: Any, field: str, label: str, limit: int) -> str:
    s = normalize_text(str(value or ""))
    try:
        reject_control_text(s, label)
    except ValidationError as exc:
        raise _with_field(exc, field) from None
    if len(s) > limit:
        raise invalid(_("{field} is too long (at most {n} characters)").format(field=label, n=limit),
                       "too_long", field)
    return s


def _pinyin_ok(s: str) -> bool:
    return all(ch.isascii() and (ch.isalpha() or ch in " -'.") for ch in s)


# -- step validation (pure) --------------------------------------------------------------------
def validate_section(step: str, data: Mapping[str, Any], *, today: date, tiers: TierTable,
                     pin: str | None = None, pin_again: str | None = None) -> dict[str, Any]:
    """Validate one step's section of ``data``; return it normalised. No database access."""
    sec = section(data, step)
    if step == "identity":
        doc_type = str(sec.get("doc_type") or "prc_id")
        if doc_type == DOC_NONE:
            return {"doc_type": DOC_NONE, "number": "", "expiry": "", "country": "", "in_person": False}
        expiry = _parse_date(sec.get("expiry"), "expiry", required=doc_type != "prc_id")
        try:
            doc = validate_document(doc_type, str(sec.get("number") or ""), today=today, expiry=expiry,
                                        country=str(sec.get("country") or "CHN"))
        except ValidationError as exc:
            field = {"id_expired": "expiry", "passport_country": "country", "document_type": "doc_type"}.get(
                exc.code, "number")
            raise _with_field(exc, field) from None
        if not sec.get("in_person"):
            raise invalid(_("Confirm that you checked the original document with the customer in person"),
                           "in_person", "in_person")
        return {"doc_type": doc.doc_type.value, "number": doc.number,
                "expiry": expiry.isoformat() if expiry else "", "country": doc.country or "",
                "in_person": True}
    if step == "personal":
        ident = validate_section("identity", data, today=today, tiers=tiers) if section(data, "identity") else {}
        try:
            name = validate_name(str(sec.get("full_name") or ""))
        except ValidationError as exc:
            raise _with_field(exc, "full_name") from None
        latin = _free_text(sec.get("name_latin"), "name_latin", _("Latin spelling"), 120).lower()
        if latin and not _pinyin_ok(latin):
            raise invalid(_("Write the latin spelling with letters a-z only, e.g. zhang wei"), "latin",
                           "name_latin")
        if not latin and _pinyin_ok(name):
            latin = name.lower()
        prc = None
        if ident.get("doc_type") == "prc_id":
            prc = validate_prc_id(ident["number"], today=today)
        birth = _parse_date(sec.get("birth_date"), "birth_date", required=prc is None and bool(ident)
                            and ident.get("doc_type") != DOC_NONE)
        if prc is not None:
            if birth is not None and birth != prc.birth_date:
                raise invalid(_("The birth date differs from the one in the ID number ({day})").format(
                    day=prc.birth_date.isoformat()), "birth_mismatch", "birth_date")
            birth = prc.birth_date
        if birth is not None and (birth > today or birth < MIN_BIRTH_DATE):
            raise invalid(_("The birth date must be between 1900 and today"), "birth_range", "birth_date")
        sex = str(sec.get("sex") or "").upper()
        if prc is not None:
            if sex and sex != prc.sex:
                raise invalid(_("The sex differs from the one encoded in the ID number"), "sex_mismatch", "sex")
            sex = prc.sex
        if sex and sex not in SEXES:
            raise invalid(_("Choose M or F"), "sex", "sex")
        nationality = str(sec.get("nationality") or ident.get("country") or "CHN").strip().upper()
        if len(nationality) != 3 or not nationality.isascii() or not nationality.isalpha():
            raise invalid(_("The nationality must be a three-letter code such as CHN"), "nationality",
                           "nationality")
        return {"full_name": name, "name_latin": latin, "birth_date": birth.isoformat() if birth else "",
                "sex": sex, "nationality": nationality,
                "address": _free_text(sec.get("address"), "address", _("Address"), 200),
                "occupation": _free_text(sec.get("occupation"), "occupation", _("Occupation"), 80)}
    if step == "contact":
        try:
            phone = validate_mobile(str(sec.get("phone") or ""))
        except ValidationError as exc:
            raise _with_field(exc, "phone") from None
        if not sec.get("phone_confirmed"):
            raise invalid(_("Confirm the number with the customer (read it back or send a test code)"),
                           "phone_unconfirmed", "phone_confirmed")
        return {"phone": phone, "phone_confirmed": True}
    if step == "risk":
        purpose, monthly = str(sec.get("purpose") or ""), str(sec.get("monthly") or "")
        if purpose not in PURPOSES:
            raise invalid(_("Choose what the wallet is for"), "purpose", "purpose")
        if monthly not in MONTHLY_BANDS:
            raise invalid(_("Choose the expected monthly amount"), "monthly", "monthly")
        pep = bool(sec.get("pep"))
        return {"purpose": purpose, "monthly": monthly, "pep": pep,
                "risk_level": risk_level(purpose, monthly, pep)}
    if step == "tier":
        raw = sec.get("tier")
        offers = {o.tier.number: o for o in offered_tiers(data, today=today, tiers=tiers)}
        try:
            number = int(raw if isinstance(raw, int | str | float) else "")
        except (TypeError, ValueError):
            raise invalid(_("Choose a wallet class"), "tier_empty", "tier") from None
        if number not in offers:
            raise invalid(_("The evidence collected does not allow a class {tier} wallet").format(tier=number),
                           "tier_not_allowed", "tier")
        return {"tier": number, "needs_link": offers[number].needs_link}
    if step == "funding":
        kind = str(sec.get("kind") or "none")
        tier_sec = section(data, "tier")
        needs = False
        if tier_sec.get("tier"):
            needs = EVIDENCE_OWN_BANK_ACCOUNT in tiers.tier(int(tier_sec["tier"]), on=today).evidence
        if kind == "none":
            if needs:
                raise invalid(_("This wallet class needs a bank card or account in the customer's own name"),
                               "link_required", "kind")
            return {"kind": "none", "number": "", "bank_name": "", "holder_name": ""}
        try:
            if kind == "card":
                card = validate_bank_card(str(sec.get("number") or ""))
                digits, bank = card.number, card.bank.name(get_locale())
            elif kind == "account":
                digits = validate_bank_account(str(sec.get("number") or ""))
                bank = _free_text(sec.get("bank_name"), "bank_name", _("Bank"), 80)
                if not bank:
                    raise invalid(_("Enter the bank that holds the account"), "bank_empty", "bank_name")
            else:
                raise invalid(_("Choose a card or an account"), "link_kind", "kind")
        except ValidationError as exc:
            raise _with_field(exc, "number") from None
        name = section(data, "personal").get("full_name") or ""
        holder_raw = str(sec.get("holder_name") or "") or name
        try:
            holder = validate_name(holder_raw)
        except ValidationError as exc:
            raise _with_field(exc, "holder_name") from None
        if needs and holder != validate_name(name or holder):
            raise invalid(_("This wallet class needs an account in the customer's own name"), "holder_mismatch",
                           "holder_name")
        return {"kind": kind, "number": digits, "bank_name": bank, "holder_name": holder}
    if step == "security":
        out = {"pin_set": False, "totp": bool(sec.get("totp")), "totp_confirmed": bool(sec.get("totp_confirmed"))}
        if pin is None:
            raise invalid(_("Ask the customer to enter a 6-digit PIN"), "pin_missing", "pin")
        personal, contact = section(data, "personal"), section(data, "contact")
        birth = _parse_date(personal.get("birth_date"), "birth_date", required=False)
        try:
            validate_pin(pin, birth_date=birth, phone=str(contact.get("phone") or "") or None)
        except ValidationError as exc:
            raise _with_field(exc, "pin") from None
        if pin_again is not None and pin_again != pin:
            raise invalid(_("The two PINs differ: ask the customer to enter it again"), "pin_mismatch",
                           "pin_again")
        if out["totp"] and not out["totp_confirmed"]:
            raise invalid(_("Check one code from the customer's authenticator app, or turn the app off"),
                           "totp_unconfirmed", "totp_code")
        out["pin_set"] = True
        return out
    if step == "explanations":
        missing = [key for key in EXPLANATIONS if not sec.get(key)]
        if missing:
            raise invalid(_("Explain and tick every item: {item}").format(item=_(EXPLANATIONS[missing[0]])),
                           "explanation_missing", missing[0])
        return {key: True for key in EXPLANATIONS}
    if step == "review":
        if not sec.get("consent"):
            raise invalid(_("The customer must consent to the terms and to the use of their data"),
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
    ev: set[str] = set()
    ident = section(data, "identity")
    if ident.get("doc_type") not in (None, "", DOC_NONE) and ident.get("number"):
        ev.add(EVIDENCE_REAL_NAME)
        if ident.get("in_person"):
            ev.add(EVIDENCE_ID_IN_PERSON)
    if section(data, "contact").get("phone_confirmed"):
        ev.add(EVIDENCE_MOBILE)
    fund = section(data, "funding")
    if include_link and fund.get("kind") in ("card", "account") and fund.get("number"):
        name = section(data, "personal").get("full_name") or ""
        if name and (fund.get("holder_name") or name) == name:
            ev.add(EVIDENCE_OWN_BANK_ACCOUNT)
    return frozenset(ev)


def offered_tiers(data: Mapping[str, Any], *, today: date, tiers: TierTable) -> list[TierOffer]:
    """Classes the evidence allows now, plus those a linked own bank account would allow; a class with
    an age rule only for a customer old enough (a birth date must be entered)."""
    have = evidence_of(data, include_link=False)
    born = _birth_date_of(data, today)
    out: list[TierOffer] = []
    for t in tiers.tiers(today):
        if not t.admits_age(born, today):
            continue
        if t.allows(have):
            out.append(TierOffer(t, False))
        elif have and t.allows(have | {EVIDENCE_OWN_BANK_ACCOUNT}):
            out.append(TierOffer(t, True))
    return out


def _birth_date_of(data: Mapping[str, Any], today: date) -> date | None:
    """The birth date entered, else the one in a PRC ID number, else None (unknown or malformed)."""
    birth = section(data, "personal").get("birth_date")
    try:
        if isinstance(birth, str) and birth:
            return date.fromisoformat(birth)
        ident = section(data, "identity")
        if ident.get("doc_type") == "prc_id" and ident.get("number"):
            return validate_prc_id(str(ident["number"]), today=today).birth_date
    except (ValueError, ValidationError):
        return None
    return None
