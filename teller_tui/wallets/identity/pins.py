"""Wallet PINs: six digits that are not easy to guess. A PIN never appears in a message."""

from __future__ import annotations

import re
from datetime import date

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _

__all__ = ["validate_pin"]

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
