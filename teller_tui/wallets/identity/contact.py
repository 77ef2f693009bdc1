"""Mobile numbers: every wallet is bound to one.

Numbers go through ``phonenumbers``: CN mobiles come back as the 11-digit national number,
others in E.164 (``+85291234567``). Masked by :func:`teller_tui.common.masks.mask_phone`.
"""

from __future__ import annotations

import phonenumbers

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _
from teller_tui.wallets.identity.text import clean_field

__all__ = ["validate_mobile"]


def validate_mobile(number: str, region: str = "CN") -> str:
    """A mobile number: CN mobiles as 11 national digits, others in E.164.

    ``region`` is the country assumed when the number has no ``+`` prefix.
    """
    s = clean_field(number, _("Mobile number"))
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
