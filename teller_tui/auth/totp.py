"""Time-based one-time passwords (RFC 6238) with a replay guard.

Codes come from pyotp (``pyotp.HOTP.at(step)``: HOTP of RFC 4226 with the time step as
counter, which is what ``pyotp.TOTP.at`` computes); this module adds what pyotp's own
``TOTP.verify`` does not give: the *matched step* for the replay guard, exact integer step
maths on aware datetimes, and validation errors a teller can be shown. Staff use the RFC
defaults: SHA1, 6 digits, 30 s step, window ±1 step.

Replay protection: the contract with the database
-------------------------------------------------
:func:`verify_totp` returns the *time step* (``floor(unix_time / period)``) the code matched,
and only a step strictly greater than ``last_step``, the last step accepted for that person.
Verifying is therefore two halves, and the second half is the caller's job:

1. ``step = verify_totp(secret, code, now=clock.now(), last_step=row.last_step)``;
   ``None`` means refuse (wrong, expired, malformed or replayed).
2. Claim the step atomically, in the same transaction as the rest of the sign-in::

       UPDATE staff SET totp_last_step = :s
        WHERE id = :id AND (totp_last_step IS NULL OR totp_last_step < :s)

   Accept the code only when that UPDATE changed exactly one row. Zero rows means another
   terminal used this code (or a later one) in the meantime: refuse it like a wrong code.

Because the guard lives in the database, a code used on one terminal fails on every other
terminal, and after a restart. ``last_step`` is never lowered.

Secrets are base32 strings (what authenticator apps and ``otpauth://`` URIs use). Keep
them encrypted at rest with :mod:`teller_tui.auth.secretbox`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pyotp

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _

__all__ = [
    "DEFAULT_DIGITS",
    "DEFAULT_PERIOD",
    "MIN_SECRET_BYTES",
    "SECRET_BYTES",
    "current_step",
    "new_secret",
    "provisioning_uri",
    "totp_at",
    "verify_totp",
]

SECRET_BYTES = 20  # 160 bits, RFC 4226 recommendation
MIN_SECRET_BYTES = 16  # 128 bits, RFC 4226 requirement
DEFAULT_DIGITS = 6
DEFAULT_PERIOD = 30
_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def new_secret() -> str:
    """A fresh secret: 160 random bits as 32 base32 characters (no padding)."""
    return pyotp.random_base32(length=SECRET_BYTES * 8 // 5)


def _normalized(secret: str) -> str:
    """A base32 secret as pyotp and otpauth URIs want it: no spaces, upper case, no padding."""
    return "".join(secret.split()).upper().rstrip("=")


def _secret_bytes(secret: str) -> bytes:
    """Decode a base32 secret, tolerant of spaces, lower case and missing padding."""
    text = _normalized(secret)
    text += "=" * (-len(text) % 8)
    try:
        key = base64.b32decode(text, casefold=False)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(_("The authenticator secret is not valid base32."),
                              code="totp_secret_invalid") from exc
    if len(key) < MIN_SECRET_BYTES:
        raise ValidationError(_("The authenticator secret is too short; enrol again."), code="totp_secret_invalid")
    return key


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """``otpauth://totp/Issuer:account?secret=...&issuer=...`` for enrolment (show it as a QR code).

    Only the defaults (SHA1, 6 digits, 30 s) are supported by every authenticator app, so
    they are what this URI describes (by leaving them out).
    """
    _secret_bytes(secret)  # refuse a broken secret before it reaches a phone
    for value in (account_name, issuer):
        if not value or ":" in value:
            raise ValidationError(_("Issuer and account name must be non-empty and cannot contain ':'."),
                                  code="totp_label_invalid")
    return pyotp.TOTP(_normalized(secret)).provisioning_uri(name=account_name, issuer_name=issuer)


def current_step(now: datetime, period: int = DEFAULT_PERIOD) -> int:
    """The RFC 6238 time step ``floor(unix_time / period)`` of an aware datetime (exact integer maths)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("current_step needs an aware datetime")
    if period <= 0:
        raise ValueError("period must be positive")
    return (now - _EPOCH) // timedelta(seconds=period)


def totp_at(secret: str, step: int, digits: int = DEFAULT_DIGITS, digest: str = "sha1") -> str:
    """The code for time step ``step``: HOTP(secret, counter=step) per RFC 4226."""
    _secret_bytes(secret)  # our checks and messages (pyotp's minimum is shorter)
    return _hotp(_normalized(secret), step, digits, digest)


def _hotp(secret: str, counter: int, digits: int, digest: str) -> str:
    """pyotp's HOTP code of a normalised, already checked secret at ``counter``."""
    if digest not in _DIGESTS:
        raise ValueError(f"digest must be one of {sorted(_DIGESTS)}")
    if not 6 <= digits <= 10:
        raise ValueError("digits must be between 6 and 10")
    if not 0 <= counter < 2**64:
        raise ValueError("counter out of range")
    return pyotp.HOTP(secret, digits=digits, digest=_DIGESTS[digest]).at(counter)


def verify_totp(
    secret: str,
    code: str,
    *,
    now: datetime,
    last_step: int | None,
    digits: int = DEFAULT_DIGITS,
    digest: str = "sha1",
    period: int = DEFAULT_PERIOD,
    window: int = 1,
) -> int | None:
    """Check ``code`` against the steps around ``now``; return the matched step or None.

    Candidates are the current step, then current-1, current+1, ... up to ``window`` steps
    away, keeping only steps strictly greater than ``last_step``. The first candidate whose
    code matches (constant-time compare) wins, so an exact current match is preferred.
    Spaces in ``code`` are ignored; anything but ``digits`` ASCII digits returns None.
    The caller must then claim the step in the database (see the module docstring).
    """
    if not isinstance(code, str):
        return None
    typed = "".join(code.split())
    if len(typed) != digits or not all("0" <= ch <= "9" for ch in typed):
        return None
    if window < 0:
        raise ValueError("window must be >= 0")
    _secret_bytes(secret)
    key = _normalized(secret)
    current = current_step(now, period)
    candidates = [current]
    for distance in range(1, window + 1):
        candidates += [current - distance, current + distance]
    matched: int | None = None
    typed_bytes = typed.encode("ascii")
    for step in candidates:
        if step < 0 or (last_step is not None and step <= last_step):
            continue
        # Compare every candidate (no early exit) so timing does not reveal which one matched.
        if hmac.compare_digest(_hotp(key, step, digits, digest).encode("ascii"), typed_bytes) and matched is None:
            matched = step
    return matched
