"""Pure validators for what a teller types when opening a wallet, one module per identifier kind:

* :mod:`.names` — customer names (Chinese and other scripts);
* :mod:`.documents` — PRC resident identity cards, passports, travel permits for Hong Kong /
  Macao and Taiwan residents;
* :mod:`.contact` — mobile numbers;
* :mod:`.cards` — the Luhn check, bank cards and accounts, wallet numbers;
* :mod:`.pins` — wallet PINs;
* :mod:`.text` — the normalising and refusing every validator above shares.

Every validator takes user text, returns the normalised value (or a small dataclass), and
raises :class:`~teller_tui.common.errors.ValidationError` with a stable ``code`` and a message fit
to show a teller. Masks live in :mod:`teller_tui.common.masks` (one per identifier kind).
Nothing here touches a database or the clock: callers pass ``today``. The
rules chosen (real-world formats vary) are documented in each module.

This package re-exports the public names, so ``from teller_tui.wallets.identity import
validate_name`` keeps working.
"""

from __future__ import annotations

from teller_tui.wallets.identity.cards import (
    WALLET_PREFIX,
    BankCard,
    format_wallet_number,
    luhn_check_digit,
    luhn_ok,
    make_wallet_number,
    validate_bank_account,
    validate_bank_card,
    validate_wallet_number,
)
from teller_tui.wallets.identity.contact import validate_mobile
from teller_tui.wallets.identity.documents import (
    DOCUMENT_LABELS,
    MAINLAND_PROVINCES,
    MIN_BIRTH_DATE,
    RESIDENCE_PERMIT_REGIONS,
    DocumentType,
    IdentityDocument,
    PrcId,
    make_prc_id,
    prc_id_check_digit,
    validate_document,
    validate_hk_macau_permit,
    validate_passport,
    validate_prc_id,
    validate_taiwan_permit,
)
from teller_tui.wallets.identity.names import validate_name
from teller_tui.wallets.identity.pins import validate_pin
from teller_tui.wallets.identity.text import normalize_text

__all__ = [
    "DOCUMENT_LABELS",
    "MAINLAND_PROVINCES",
    "MIN_BIRTH_DATE",
    "RESIDENCE_PERMIT_REGIONS",
    "WALLET_PREFIX",
    "BankCard",
    "DocumentType",
    "IdentityDocument",
    "PrcId",
    "format_wallet_number",
    "luhn_check_digit",
    "luhn_ok",
    "make_prc_id",
    "make_wallet_number",
    "normalize_text",
    "prc_id_check_digit",
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
