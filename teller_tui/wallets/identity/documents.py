"""Identity documents: the PRC resident identity card, passports and the mainland travel permits.

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

Nothing here reads the clock: callers pass ``today``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.masks import mask_document_number
from teller_tui.common.reference import region_for_code
from teller_tui.wallets.identity.text import compact

__all__ = [
    "DOCUMENT_LABELS",
    "MAINLAND_PROVINCES",
    "MIN_BIRTH_DATE",
    "RESIDENCE_PERMIT_REGIONS",
    "DocumentType",
    "IdentityDocument",
    "PrcId",
    "make_prc_id",
    "prc_id_check_digit",
    "validate_document",
    "validate_hk_macau_permit",
    "validate_passport",
    "validate_prc_id",
    "validate_taiwan_permit",
]

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
        return mask_document_number(self.number, DocumentType.PRC_ID)

    def region_name(self, locale: str = "en") -> str:
        """The province-level region's name (籍贯 / issuing region), or the bare code."""
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
    s = compact(number, _("ID number")).upper()
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
    c = compact(country, _("Country")).upper()
    if not _COUNTRY_RE.fullmatch(c):
        raise ValidationError(
            _("The country must be a three-letter code such as CHN"), code="passport_country"
        )
    return c


def validate_passport(number: str, country: str = "CHN") -> str:
    """Validate a passport number for ``country`` (ISO 3166 alpha-3); return it uppercased."""
    c = _country(country)
    s = compact(number, _("Passport number")).upper()
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
    s = compact(number, _("Permit number")).upper()
    if not _HK_MACAU_RE.fullmatch(s):
        raise ValidationError(
            _("A Hong Kong / Macao residents' permit number is H or M followed by 8 digits"),
            code="permit_format",
        )
    return s


def validate_taiwan_permit(number: str) -> str:
    """Mainland travel permit for Taiwan residents: 8 digits (older booklets: 10 characters)."""
    s = compact(number, _("Permit number")).upper()
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
