"""Pure validators for what a teller types when opening a wallet: names, identity documents,
mobile numbers, bank cards and accounts, wallet PINs and wallet numbers.

Every validator takes user text, returns the normalised value (or a small dataclass), and
raises :class:`~teller_tui.common.errors.ValidationError` with a stable ``code`` and a message fit to
show a teller. Nothing here touches a database or the clock: callers pass ``today``.

Rules chosen here (documented because real-world formats vary):

* **Names.** Chinese names: 2-20 characters, CJK ideographs and the middle dot ``·`` (dot
  variants ``•・‧･`` are normalised to ``·``; spaces between characters are removed). Other
  names: 1-60 characters, letters of any alphabet plus space, hyphen, apostrophe (``’`` is
  normalised to ``'``) and period, starting with a letter. Digits, mixed Chinese and latin,
  control and invisible characters are refused. Names are data, never markup: nothing is
  refused for *looking* like markup, but brackets are simply not name characters.
* **PRC resident identity card** (GB 11643-1999): 18 characters, 17 digits and a digit or
  ``X`` (lowercase and full-width accepted); ISO 7064 MOD 11-2 check digit; birth date real,
  not before 1900, not in the future; first two digits a mainland province-level code of
  GB/T 2260 with a prefecture code (digits 3-4) of 01-70 or 90; or exactly ``810000`` /
  ``820000`` / ``830000``, the residence permits of Hong Kong, Macao and Taiwan residents.
  First-generation 15-digit numbers are refused with their own message.
* **Passports.** Chinese (``CHN``) ordinary passports: ``E`` + 8 digits, ``E`` + a letter
  other than I/O + 7 digits (after the ``E`` series ran out), or the older ``G`` + 8 digits.
  Other countries: 5-9 letters/digits with at least one digit (the ICAO document-number field).
* **Mainland travel permit for Hong Kong / Macao residents** (回乡证): ``H`` (Hong Kong) or
  ``M`` (Macao) + 8 digits; the older booklet form carried 2 more digits (issue count) and is
  accepted too.
* **Mainland travel permit for Taiwan residents** (台胞证): 8 digits (the lifelong number on
  the card issued since 2015); older booklets: 10 letters/digits beginning with 8 digits.
* **Mobile numbers** go through ``phonenumbers``: CN mobiles come back as the 11-digit
  national number, others in E.164 (``+85291234567``).
* **Masking** (for screens and receipts): phone ``138****5678`` (first 3 and last 4; E.164
  keeps ``+`` and 3 more); Chinese names keep the first and last character (``张*明``; two
  characters: ``张*``); other names keep the first letter of each word and star the other
  letters (``J*** S****``, ``M***-J*** O'****``; hyphens and apostrophes stay); cards ``6222 **** **** 1234``;
  PRC IDs keep region code and last 4 (``110101********123X``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.reference import UNKNOWN_BANK, Bank, BankTable, bank_for_card

__all__ = [
    "BankCard",
    "DocumentType",
    "IdentityDocument",
    "PrcId",
    "WALLET_PREFIX",
    "format_wallet_number",
    "luhn_check_digit",
    "luhn_ok",
    "make_prc_id",
    "make_wallet_number",
    "mask_card",
    "mask_document_number",
    "mask_name",
    "mask_phone",
    "normalize_text",
    "prc_id_check_digit",
    "reject_control_chars",
    "validate_bank_account",
    "validate_bank_card",
    "validate_document",
    "validate_hk_macau_permit",
    "validate_mobile",
    "validate_name",
    "validate_passport",
    "validate_pin",
    "validate_prc_id",
    "validate_taiwan_permit",
    "validate_wallet_number",
]

# -- text -----------------------------------------------------------------------------------
#: Unicode categories refused anywhere in user text: control, format (zero-width, bidi
#: overrides), surrogates, line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ－",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-",
)


def normalize_text(s: str) -> str:
    """NFC-normalise, trim, and collapse every run of whitespace (any kind) to one space."""
    if not isinstance(s, str):
        raise TypeError(f"expected text, got {type(s).__name__}")
    return " ".join(unicodedata.normalize("NFC", s).split())


def reject_control_chars(s: str, field: str) -> str:
    """Return ``s`` unchanged, or raise if it holds a control or invisible character.

    ``field`` names the field in the message (already translated by the caller).
    """
    for pos, ch in enumerate(s, start=1):
        if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES:
            raise ValidationError(
                _("{field} contains a control or invisible character (position {pos})").format(
                    field=field, pos=pos
                ),
                code="control_chars",
                field=field,
            )
    return s


def _clean(value: str, field: str) -> str:
    return reject_control_chars(normalize_text(value), field)


def _compact(value: str, field: str) -> str:
    """Text for a number field: normalised, full-width folded, spaces and hyphens removed."""
    s = _clean(value, field).translate(_FULLWIDTH)
    return s.replace(" ", "").replace("-", "")


# -- names ----------------------------------------------------------------------------------
_CJK_RANGES = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # URO
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x2FA1F),  # Extensions B-F, compatibility supplement
    (0x30000, 0x323AF),  # Extensions G-H
)
_MIDDLE_DOT = "·"
_DOT_VARIANTS = str.maketrans({"•": _MIDDLE_DOT, "・": _MIDDLE_DOT, "‧": _MIDDLE_DOT, "･": _MIDDLE_DOT})
_LATIN_PUNCT = frozenset(" -'.")


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return ch == "〇" or any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def validate_name(name: str) -> str:
    """Validate and normalise a customer's name (rules in the module docstring)."""
    s = _clean(name, _("Name"))
    if not s:
        raise ValidationError(_("Enter the customer's name"), code="name_empty")
    if any(ch.isdigit() for ch in s):
        raise ValidationError(_("A name cannot contain digits"), code="name_digits")
    if any(_is_cjk(ch) for ch in s):
        return _validate_cjk_name(s)
    return _validate_latin_name(s)


def _validate_cjk_name(s: str) -> str:
    s = s.translate(_DOT_VARIANTS).replace(" ", "")
    if not all(_is_cjk(ch) or ch == _MIDDLE_DOT for ch in s):
        raise ValidationError(
            _("A Chinese name may contain only Chinese characters and the middle dot ·"), code="name_chars"
        )
    if s.startswith(_MIDDLE_DOT) or s.endswith(_MIDDLE_DOT) or _MIDDLE_DOT * 2 in s:
        raise ValidationError(_("The middle dot · must stand between two parts of the name"), code="name_chars")
    if not 2 <= len(s) <= 20:
        raise ValidationError(_("A Chinese name has 2 to 20 characters"), code="name_length")
    return s


def _validate_latin_name(s: str) -> str:
    s = s.replace("’", "'").replace("‘", "'")
    for ch in s:
        cat = unicodedata.category(ch)
        if not (cat.startswith("L") or cat.startswith("M") or ch in _LATIN_PUNCT):
            raise ValidationError(
                _("A name may contain only letters, spaces, hyphens, apostrophes and periods"),
                code="name_chars",
            )
    if not unicodedata.category(s[0]).startswith("L"):
        raise ValidationError(_("A name must begin with a letter"), code="name_chars")
    if len(s) > 60:
        raise ValidationError(_("A name has at most 60 characters"), code="name_length")
    return s


def mask_name(name: str) -> str:
    """``张三明`` -> ``张*明``, ``张三`` -> ``张*``, ``John Smith`` -> ``J*** S****``."""
    s = normalize_text(name)
    if not s:
        return ""
    if any(_is_cjk(ch) for ch in s):
        chars = list(s.replace(" ", ""))
        if len(chars) <= 2:
            return chars[0] + "*" * (len(chars) - 1)
        middle = ["·" if ch == _MIDDLE_DOT else "*" for ch in chars[1:-1]]
        return chars[0] + "".join(middle) + chars[-1]
    out = []
    start = True  # at the start of a word (after a space or hyphen)
    for ch in s:
        if ch in " -":
            out.append(ch)
            start = True
        elif start:
            out.append(ch)
            start = False
        else:
            out.append("*" if unicodedata.category(ch)[0] in "LM" else ch)
    return "".join(out)


# -- PRC resident identity card -------------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_MAP = "10X98765432"
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
#: Province-level codes that may begin a resident ID number (GB/T 2260 mainland divisions).
MAINLAND_PROVINCES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    }
)  # fmt: skip
#: Region codes of the residence permits for Hong Kong, Macao and Taiwan residents.
RESIDENCE_PERMIT_REGIONS = {"810000": "HK", "820000": "MO", "830000": "TW"}
MIN_BIRTH_DATE = date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class PrcId:
    number: str  # 18 characters, check digit uppercased
    region_code: str  # first 6 digits
    birth_date: date
    sex: str  # "M" | "F"
    check_digit: str

    @property
    def province_code(self) -> str:
        return self.region_code[:2]

    @property
    def is_residence_permit(self) -> bool:
        """A residence permit for Hong Kong, Macao or Taiwan residents (810000/820000/830000)."""
        return self.region_code in RESIDENCE_PERMIT_REGIONS

    @property
    def masked(self) -> str:
        return mask_document_number(self.number)

    def region_name(self, locale: str = "en") -> str:
        """The province-level region's name (籍贯 / issuing region), or the bare code."""
        from teller_tui.common.reference import region_for_code

        region = region_for_code(self.region_code)
        return region.name(locale) if region else self.province_code

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def prc_id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``) of 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValidationError(_("An ID number begins with 17 digits"), code="id_format")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_MAP[total % 11]


def make_prc_id(region_code: str, birth: date, seq: int, sex: str) -> str:
    """Build an 18-character ID number with a correct check digit (demo data and tests).

    The 3-digit order code is ``2 * seq + (1 if sex == "M" else 0)`` (odd = male), so
    ``seq`` runs from 0 to 499. The region and date are *not* checked against the rules of
    :func:`validate_prc_id`, so tests can build numbers that fail them on purpose.
    """
    if len(region_code) != 6 or not region_code.isascii() or not region_code.isdigit():
        raise ValueError("region_code must be 6 digits")
    if sex not in ("M", "F"):
        raise ValueError('sex must be "M" or "F"')
    if not 0 <= seq <= 499:
        raise ValueError("seq must be between 0 and 499")
    order = 2 * seq + (1 if sex == "M" else 0)
    first17 = f"{region_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{order:03d}"
    return first17 + prc_id_check_digit(first17)


def _check_region(number: str) -> None:
    region = number[:6]
    province = number[:2]
    if province in MAINLAND_PROVINCES:
        prefecture = int(number[2:4])
        if 1 <= prefecture <= 70 or prefecture == 90:
            return
    elif region in RESIDENCE_PERMIT_REGIONS:
        return
    if province in ("71", "81", "82", "83"):
        message = _(
            "Region code {code} is not valid: residence permits for Hong Kong, Macao and Taiwan "
            "residents begin 810000, 820000 or 830000"
        )
    else:
        message = _("Region code {code} (the first six digits) is not a valid region")
    raise ValidationError(message.format(code=region), code="id_region")


def validate_prc_id(number: str, *, today: date, expiry: date | None = None) -> PrcId:
    """Validate a PRC resident identity card number (or a HK/Macao/Taiwan residence permit).

    ``expiry`` is the card's printed expiry date (``None`` for long-term cards or when not
    captured); a card that expired before ``today`` is refused.
    """
    s = _compact(number, _("ID number")).upper()
    if not s:
        raise ValidationError(_("Enter the ID number"), code="id_empty")
    if len(s) == 15 and s.isdigit():
        raise ValidationError(
            _("15-digit first-generation ID numbers are no longer valid; ask for the current 18-character card"),
            code="id_length",
        )
    if len(s) != 18:
        raise ValidationError(
            _("An ID number has 18 characters; this one has {count}").format(count=len(s)), code="id_length"
        )
    if not _ID_RE.fullmatch(s):
        raise ValidationError(
            _("An ID number is 17 digits followed by a digit or X"), code="id_format"
        )
    _check_region(s)
    try:
        birth = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date in the ID number ({digits}) is not a real date").format(digits=s[6:14]),
            code="id_birth_date",
        ) from None
    if birth < MIN_BIRTH_DATE:
        raise ValidationError(
            _("The birth date in the ID number ({day}) is before 1900").format(day=birth.isoformat()),
            code="id_birth_date",
        )
    if birth > today:
        raise ValidationError(
            _("The birth date in the ID number ({day}) is in the future").format(day=birth.isoformat()),
            code="id_future_birth",
        )
    expected = prc_id_check_digit(s[:17])
    if s[17] != expected:
        raise ValidationError(
            _("The ID number's check digit does not match: re-check each digit"), code="id_check_digit"
        )
    _check_expiry(expiry, today)
    return PrcId(
        number=s,
        region_code=s[:6],
        birth_date=birth,
        sex="M" if int(s[16]) % 2 else "F",
        check_digit=s[17],
    )


def _check_expiry(expiry: date | None, today: date) -> None:
    if expiry is not None and expiry < today:
        raise ValidationError(
            _("This document expired on {day}").format(day=expiry.isoformat()), code="id_expired"
        )


# -- other identity documents ---------------------------------------------------------------
_CHN_PASSPORT_RES = (
    re.compile(r"E[0-9]{8}"),
    re.compile(r"E[A-HJ-NP-Z][0-9]{7}"),
    re.compile(r"G[0-9]{8}"),
)
_FOREIGN_PASSPORT_RE = re.compile(r"[A-Z0-9]{5,9}")
_COUNTRY_RE = re.compile(r"[A-Z]{3}")
_HK_MACAU_RE = re.compile(r"([HM])[0-9]{8}(?:[0-9]{2})?")
_TAIWAN_RE = re.compile(r"[0-9]{8}")
_TAIWAN_LEGACY_RE = re.compile(r"[0-9]{8}[A-Z0-9]{2}")


def _country(country: str) -> str:
    c = _compact(country, _("Country")).upper()
    if not _COUNTRY_RE.fullmatch(c):
        raise ValidationError(
            _("The country must be a three-letter code such as CHN"), code="passport_country"
        )
    return c


def validate_passport(number: str, country: str = "CHN") -> str:
    """Validate a passport number for ``country`` (ISO 3166 alpha-3); return it uppercased."""
    c = _country(country)
    s = _compact(number, _("Passport number")).upper()
    if not s:
        raise ValidationError(_("Enter the passport number"), code="passport_empty")
    if c == "CHN":
        if not any(r.fullmatch(s) for r in _CHN_PASSPORT_RES):
            raise ValidationError(
                _("A Chinese passport number is E or G and 8 digits, or E, a letter and 7 digits"),
                code="passport_format",
            )
        return s
    if not _FOREIGN_PASSPORT_RE.fullmatch(s) or not any(ch.isdigit() for ch in s):
        raise ValidationError(
            _("A passport number has 5 to 9 letters and digits, with at least one digit"),
            code="passport_format",
        )
    return s


def validate_hk_macau_permit(number: str) -> str:
    """Mainland travel permit for Hong Kong and Macao residents: H/M + 8 (or 10) digits."""
    s = _compact(number, _("Permit number")).upper()
    if not _HK_MACAU_RE.fullmatch(s):
        raise ValidationError(
            _("A Hong Kong / Macao residents' permit number is H or M followed by 8 digits"),
            code="permit_format",
        )
    return s


def validate_taiwan_permit(number: str) -> str:
    """Mainland travel permit for Taiwan residents: 8 digits (older booklets: 10 characters)."""
    s = _compact(number, _("Permit number")).upper()
    if not (_TAIWAN_RE.fullmatch(s) or _TAIWAN_LEGACY_RE.fullmatch(s)):
        raise ValidationError(
            _("A Taiwan residents' permit number has 8 digits (older booklets: 10 characters)"),
            code="permit_format",
        )
    return s


class DocumentType(StrEnum):
    PRC_ID = "prc_id"
    PASSPORT = "passport"
    HK_MACAU_PERMIT = "hk_macau_permit"
    TAIWAN_PERMIT = "taiwan_permit"

    @property
    def label(self) -> str:
        """Translated label for screens."""
        return _(DOCUMENT_LABELS[self])


#: Untranslated labels (marked for extraction); translate when shown: ``_(DOCUMENT_LABELS[t])``.
DOCUMENT_LABELS: dict[DocumentType, str] = {
    DocumentType.PRC_ID: N_("Resident identity card"),
    DocumentType.PASSPORT: N_("Passport"),
    DocumentType.HK_MACAU_PERMIT: N_("Mainland travel permit for Hong Kong and Macao residents"),
    DocumentType.TAIWAN_PERMIT: N_("Mainland travel permit for Taiwan residents"),
}


@dataclass(frozen=True, slots=True)
class IdentityDocument:
    doc_type: DocumentType
    number: str  # normalised
    expiry: date | None = None
    country: str | None = None  # issuing country (alpha-3) for passports and PRC ID cards
    holder_region: str | None = None  # "HK" | "MO" | "TW" for permits and residence permits
    prc: PrcId | None = None  # parsed details of a resident ID / residence permit

    @property
    def masked(self) -> str:
        return mask_document_number(self.number, self.doc_type)

    @property
    def birth_date(self) -> date | None:
        return self.prc.birth_date if self.prc else None

    @property
    def sex(self) -> str | None:
        return self.prc.sex if self.prc else None


def validate_document(
    doc_type: DocumentType | str,
    number: str,
    *,
    today: date,
    expiry: date | None = None,
    country: str = "CHN",
) -> IdentityDocument:
    """Validate any supported identity document; ``country`` is used for passports only."""
    try:
        kind = DocumentType(doc_type)
    except ValueError:
        raise ValidationError(
            _("Unknown document type {kind}").format(kind=repr(doc_type)[:40]), code="document_type"
        ) from None
    if kind is DocumentType.PRC_ID:
        prc = validate_prc_id(number, today=today, expiry=expiry)
        return IdentityDocument(
            kind, prc.number, expiry, "CHN", RESIDENCE_PERMIT_REGIONS.get(prc.region_code), prc
        )
    if kind is DocumentType.PASSPORT:
        c = _country(country)
        n = validate_passport(number, c)
        _check_expiry(expiry, today)
        return IdentityDocument(kind, n, expiry, c)
    if kind is DocumentType.HK_MACAU_PERMIT:
        n = validate_hk_macau_permit(number)
        _check_expiry(expiry, today)
        return IdentityDocument(kind, n, expiry, None, "HK" if n[0] == "H" else "MO")
    n = validate_taiwan_permit(number)
    _check_expiry(expiry, today)
    return IdentityDocument(kind, n, expiry, None, "TW")


def mask_document_number(number: str, doc_type: DocumentType | str = DocumentType.PRC_ID) -> str:
    """PRC ID: keep region code and last 4 (``110101********123X``); others: first and last 2."""
    s = number.strip()
    if DocumentType(doc_type) is DocumentType.PRC_ID and len(s) == 18:
        return s[:6] + "*" * 8 + s[-4:]
    if len(s) <= 4:
        return "*" * len(s)
    return s[0] + "*" * (len(s) - 3) + s[-2:]


# -- phone ----------------------------------------------------------------------------------
def validate_mobile(number: str, region: str = "CN") -> str:
    """A mobile number: CN mobiles as 11 national digits, others in E.164.

    ``region`` is the country assumed when the number has no ``+`` prefix.
    """
    import phonenumbers

    s = _clean(number, _("Mobile number"))
    if not s:
        raise ValidationError(_("Enter the mobile number"), code="phone_empty")
    try:
        parsed = phonenumbers.parse(s, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("This is not a phone number"), code="phone_invalid") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("This phone number is not valid; check the digits"), code="phone_invalid")
    kind = phonenumbers.number_type(parsed)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise ValidationError(
            _("This is not a mobile number: a wallet needs a mobile that can receive text messages"),
            code="phone_not_mobile",
        )
    if parsed.country_code == 86:
        return phonenumbers.national_significant_number(parsed)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """``13812345678`` -> ``138****5678``; ``+85291234567`` -> ``+852****4567``."""
    s = phone.strip()
    if len(s) < 8:
        return "*" * max(len(s) - 2, 0) + s[-2:]
    keep = 4 if s.startswith("+") else 3
    return s[:keep] + "*" * (len(s) - keep - 4) + s[-4:]


# -- Luhn, bank cards, accounts ---------------------------------------------------------------
def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit to append to ``payload`` (digits)."""
    if not payload.isascii() or not payload.isdigit():
        raise ValueError("Luhn payload must be digits")
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(digits: str) -> bool:
    """Whether ``digits`` (at least 2 ASCII digits, check digit last) passes the Luhn check."""
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    return luhn_check_digit(digits[:-1]) == digits[-1]


@dataclass(frozen=True, slots=True)
class BankCard:
    number: str  # digits only
    bank: Bank  # UNKNOWN_BANK when the BIN is not in the table
    bin_prefix: str | None  # the matched prefix, None when unknown

    @property
    def bank_code(self) -> str:
        return self.bank.code

    @property
    def masked(self) -> str:
        return mask_card(self.number)


def validate_bank_card(number: str, *, table: BankTable | None = None) -> BankCard:
    """A bank card number: 16-19 digits (spaces/hyphens allowed), Luhn-valid; bank by BIN."""
    s = _compact(number, _("Card number"))
    if not s:
        raise ValidationError(_("Enter the card number"), code="card_empty")
    if not s.isascii() or not s.isdigit():
        raise ValidationError(_("A card number contains only digits"), code="card_format")
    if not 16 <= len(s) <= 19:
        raise ValidationError(
            _("A card number has 16 to 19 digits; this one has {count}").format(count=len(s)), code="card_length"
        )
    if not luhn_ok(s):
        raise ValidationError(_("The card number's check digit does not match: re-check each digit"),
                              code="card_check")
    found = bank_for_card(s, table)
    if found is None:
        return BankCard(s, UNKNOWN_BANK, None)
    prefix, bank = found
    return BankCard(s, bank, prefix)


def mask_card(number: str) -> str:
    """``6222021234567891234`` -> ``6222 **** **** 1234`` (the length is not revealed)."""
    s = "".join(number.split())
    if len(s) < 8:
        return "*" * len(s)
    return f"{s[:4]} **** **** {s[-4:]}"


def validate_bank_account(number: str) -> str:
    """A bank account number that is not a card: 10-25 digits (spaces/hyphens allowed)."""
    s = _compact(number, _("Account number"))
    if not s:
        raise ValidationError(_("Enter the account number"), code="account_empty")
    if not s.isascii() or not s.isdigit():
        raise ValidationError(_("An account number contains only digits"), code="account_format")
    if not 10 <= len(s) <= 25:
        raise ValidationError(
            _("An account number has 10 to 25 digits; this one has {count}").format(count=len(s)),
            code="account_length",
        )
    return s


# -- wallet PIN -----------------------------------------------------------------------------
_PIN_RE = re.compile(r"[0-9]{6}")


def validate_pin(pin: str, *, birth_date: date | None = None, phone: str | None = None) -> str:
    """A 6-digit wallet PIN that is not easy to guess. The PIN never appears in a message."""
    if not isinstance(pin, str) or not _PIN_RE.fullmatch(pin):
        raise ValidationError(_("The PIN must be exactly 6 digits"), code="pin_format")
    if len(set(pin)) == 1:
        raise ValidationError(_("The PIN cannot be one digit repeated"), code="pin_same")
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({1}, {-1}):
        raise ValidationError(_("The PIN cannot be a run of consecutive digits"), code="pin_sequence")
    if pin[:2] * 3 == pin or pin[:3] * 2 == pin:
        raise ValidationError(_("The PIN cannot be a repeated pattern"), code="pin_repeat")
    if birth_date is not None:
        yy, mm, dd = f"{birth_date.year % 100:02d}", f"{birth_date.month:02d}", f"{birth_date.day:02d}"
        if pin in {yy + mm + dd, mm + dd + yy, dd + mm + yy}:
            raise ValidationError(_("The PIN cannot be the customer's birth date"), code="pin_birth")
    if phone:
        digits = "".join(ch for ch in phone if ch.isascii() and ch.isdigit())
        if len(digits) >= 6 and digits[-6:] == pin:
            raise ValidationError(_("The PIN cannot be the last 6 digits of the mobile number"), code="pin_phone")
    return pin


# -- wallet numbers ---------------------------------------------------------------------------
#: Wallet numbers are ``8600`` + an 11-digit sequence + a Luhn check digit (16 digits).
WALLET_PREFIX = "8600"
_WALLET_SEQ_DIGITS = 11


def make_wallet_number(seq: int) -> str:
    """The wallet number of sequence ``seq`` (0 <= seq < 10**11)."""
    if type(seq) is not int or not 0 <= seq < 10**_WALLET_SEQ_DIGITS:
        raise ValueError("wallet sequence out of range")
    payload = f"{WALLET_PREFIX}{seq:0{_WALLET_SEQ_DIGITS}d}"
    return payload + luhn_check_digit(payload)


def validate_wallet_number(number: str) -> str:
    """A wallet number as typed (spaces allowed); returns the 16 digits."""
    s = _compact(number, _("Wallet number"))
    if len(s) != 16 or not s.isascii() or not s.isdigit() or not s.startswith(WALLET_PREFIX):
        raise ValidationError(
            _("A wallet number has 16 digits and begins {prefix}").format(prefix=WALLET_PREFIX),
            code="wallet_number_format",
        )
    if not luhn_ok(s):
        raise ValidationError(
            _("The wallet number's check digit does not match: re-check each digit"), code="wallet_number_check"
        )
    return s


def format_wallet_number(number: str) -> str:
    """``8600000000000017`` -> ``8600 0000 0000 0017`` (for display)."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
