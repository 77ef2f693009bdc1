"""Password, one-time password and PIN hashing (argon2id) and the new-password policy.

Hashing
-------
Every secret is hashed with argon2id through one module-wide ``argon2.PasswordHasher``.
The default parameters are stronger than the OWASP minimum (m=19 MiB, t=2, p=1)::

    argon2id, m=65536 KiB (64 MiB), t=3, p=1, 16-byte salt, 32-byte hash

The parameters are stored inside each hash string (PHC format), so raising them later
only needs :func:`needs_rehash` at sign-in: after a successful :func:`verify_secret`, if
``needs_rehash(stored)`` is true, store ``hash_secret(password)`` instead.

Secrets are NFC-normalised before hashing and verifying, so the same passphrase typed
through different input methods (precomposed or combining accents) matches.

Tests may switch to cheap parameters, and only explicitly::

    with test_parameters():          # or use_test_parameters() in a fixture
        ...

Unknown user
------------
``verify_secret(None, secret)`` spends the same time as a real check and returns False, so
a sign-in for a user that does not exist cannot be told apart by timing.

Policy
------
:func:`validate_new_password` follows NIST SP 800-63B: length (12..256 code points after
NFC), no composition rules, any Unicode incl. spaces, refuse the user name, a shipped list
of common passwords, one character repeated, and control characters.
"""

from __future__ import annotations

import secrets
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

from teller_tui.common.errors import StorageError, ValidationError
from teller_tui.common.i18n import _

__all__ = [
    "COMMON_PASSWORDS",
    "DEFAULT_PARAMS",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "ONE_TIME_PASSWORD_ALPHABET",
    "PIN_LENGTH",
    "TEST_PARAMS",
    "Argon2Params",
    "active_parameters",
    "generate_one_time_password",
    "hash_parameters",
    "hash_pin",
    "hash_secret",
    "needs_rehash",
    "test_parameters",
    "use_default_parameters",
    "use_test_parameters",
    "validate_new_password",
    "verify_pin",
    "verify_secret",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
PIN_LENGTH = 6

#: Lowercase letters and digits that cannot be mistaken for each other (no 0/o, 1/l/i).
ONE_TIME_PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_OTP_GROUPS = 5
_OTP_GROUP_LENGTH = 4  # 20 symbols of 31 -> 99 bits


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """Parameters of a stored hash (parsed back from its string) or of the hasher."""

    variant: str  # "argon2id", "argon2i" or "argon2d"
    memory_cost: int  # KiB
    time_cost: int
    parallelism: int
    version: int = 19
    salt_len: int = 16
    hash_len: int = 32


DEFAULT_PARAMS = Argon2Params("argon2id", memory_cost=65536, time_cost=3, parallelism=1)
#: Cheapest parameters argon2 accepts; for tests only.
TEST_PARAMS = Argon2Params("argon2id", memory_cost=8, time_cost=1, parallelism=1)

_lock = threading.Lock()
_active: Argon2Params = DEFAULT_PARAMS
_hashers: dict[Argon2Params, PasswordHasher] = {}
_dummy_hashes: dict[Argon2Params, str] = {}


def active_parameters() -> Argon2Params:
    """The parameters new hashes are made with (the defaults unless a test switched)."""
    return _active


def _hasher(params: Argon2Params | None = None) -> PasswordHasher:
    params = params or _active
    hasher = _hashers.get(params)
    if hasher is None:
        hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=params.hash_len,
            salt_len=params.salt_len,
            type=Type.ID,
        )
        _hashers[params] = hasher
    return hasher


def use_test_parameters() -> None:
    """Switch the whole process to cheap hashing. Tests only; undo with :func:`use_default_parameters`."""
    global _active
    with _lock:
        _active = TEST_PARAMS


def use_default_parameters() -> None:
    """Switch back to the strong default parameters."""
    global _active
    with _lock:
        _active = DEFAULT_PARAMS


@contextmanager
def test_parameters() -> Iterator[None]:
    """Cheap hashing inside the ``with`` block, the previous parameters afterwards. Tests only."""
    global _active
    with _lock:
        previous, _active = _active, TEST_PARAMS
    try:
        yield
    finally:
        with _lock:
            _active = previous


test_parameters.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _nfc(secret: str) -> str:
    return unicodedata.normalize("NFC", secret)


def hash_secret(secret: str) -> str:
    """Hash a password or one-time password; returns a PHC string ``$argon2id$v=19$m=...``."""
    if not isinstance(secret, str):
        raise TypeError("secret must be a str")
    return _hasher().hash(_nfc(secret))


def verify_secret(hash: str | None, secret: str) -> bool:
    """True when ``secret`` matches ``hash``. Never raises for a wrong secret or a bad hash.

    Pass ``hash=None`` for an unknown user: it costs the same time and returns False.
    """
    if not isinstance(secret, str):
        return False
    if not hash or not isinstance(hash, str):
        _burn_time(secret)
        return False
    try:
        return _hasher().verify(hash, _nfc(secret))
    except (VerificationError, InvalidHashError, ValueError):
        return False


def _burn_time(secret: str) -> None:
    params = active_parameters()
    dummy = _dummy_hashes.get(params)
    if dummy is None:
        dummy = _dummy_hashes.setdefault(params, _hasher(params).hash(secrets.token_hex(16)))
    try:
        _hasher(params).verify(dummy, _nfc(secret))
    except Exception:  # noqa: BLE001 - the outcome is ignored on purpose
        pass


def needs_rehash(hash: str) -> bool:
    """True when ``hash`` was made with other parameters than the active ones (or is not argon2id)."""
    try:
        return _hasher().check_needs_rehash(hash)
    except (InvalidHashError, ValueError):
        return True


def hash_parameters(hash: str) -> Argon2Params:
    """Parse the variant and cost parameters back from a stored hash string.

    Raises :class:`StorageError` when the string is not an argon2 hash.
    """
    try:
        p = extract_parameters(hash)
    except (InvalidHashError, ValueError, TypeError) as exc:
        raise StorageError(_("The stored credential is damaged; reset it."), code="hash_invalid") from exc
    return Argon2Params(
        variant=f"argon2{p.type.name.lower()}",
        memory_cost=p.memory_cost,
        time_cost=p.time_cost,
        parallelism=p.parallelism,
        version=p.version,
        salt_len=p.salt_len,
        hash_len=p.hash_len,
    )


# --------------------------------------------------------------------------- policy

#: Passwords (lowercase) refused whatever their length. Most short ones are also caught by
#: the length rule; the long ones are what people type when told "at least 12 characters".
COMMON_PASSWORDS: frozenset[str] = frozenset({
    "123456", "123456789", "12345678", "password", "qwerty", "12345", "1234567",
    "111111", "123123", "abc123", "1234567890", "000000", "iloveyou", "admin",
    "welcome", "letmein", "monkey", "dragon", "football", "sunshine", "princess",
    "qwerty123", "password1", "1q2w3e4r", "666666", "888888", "woaini1314", "5201314",
    "a123456", "qq123456", "iloveyou1314",
    "123456789012", "1234567890123", "12345678901234", "123456123456", "123123123123",
    "111111111111", "000000000000", "888888888888", "666666666666", "121212121212",
    "012345678901", "098765432109", "987654321098", "147258369147", "1q2w3e4r5t6y",
    "1qaz2wsx3edc", "1qaz2wsx3edc4rfv", "qazwsxedcrfv", "zaq12wsxcde3", "!qaz2wsx3edc",
    "qwertyuiopas", "qwertyuiop12", "qwertyuiop123", "asdfghjkl123", "asdfghjkl;'",
    "zxcvbnm12345", "qwerty123456", "qwertyqwerty", "abcdefghijkl", "abcdefg12345",
    "abc123abc123", "abcd12345678", "a1b2c3d4e5f6", "password1234", "password12345",
    "password123456", "password123!", "password@123", "p@ssw0rd1234", "passw0rd1234",
    "passwordpassword", "mypassword123", "changeme1234", "changemenow!", "letmein12345",
    "welcome12345", "welcome@1234", "welcome123456", "iloveyou1234", "iloveyouforever",
    "administrator", "admin1234567", "admin@123456", "adminadmin12", "rootroot1234",
    "superman1234", "batman123456", "football1234", "baseball1234", "sunshine1234",
    "princess1234", "starwars1234", "dragon123456", "monkey123456", "trustno1trustno1",
    "correcthorsebatterystaple", "correct horse battery staple", "thequickbrownfox",
    "woaini520520", "woaini131452", "wo ai ni 1314", "5201314520", "aa123456789",
    "bank12345678", "teller123456", "teller@12345", "cashier12345", "bankpassword",
    "tellerpassword", "newpassword1", "newpassword123", "temppassword", "test12345678",
})


def _invalid(message: str, code: str, **fields: object) -> ValidationError:
    return ValidationError(message.format(**fields) if fields else message, code=code)


def validate_new_password(pw: str, *, username: str | None = None) -> None:
    """Raise :class:`ValidationError` when ``pw`` may not become a password; return None when it may.

    Error codes: ``password_control_chars``, ``password_too_short``, ``password_too_long``,
    ``password_is_username``, ``password_repetitive``, ``password_common``.
    """
    if not isinstance(pw, str):
        raise TypeError("password must be a str")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in pw):
        raise _invalid(_("The password cannot contain control characters (tab, line break and similar)."),
                       "password_control_chars")
    normal = _nfc(pw)
    length = len(normal)
    if length < MIN_PASSWORD_LENGTH:
        raise _invalid(_("Use at least {min} characters; a short phrase of several words works well."),
                       "password_too_short", min=MIN_PASSWORD_LENGTH)
    if length > MAX_PASSWORD_LENGTH:
        raise _invalid(_("Use at most {max} characters."), "password_too_long", max=MAX_PASSWORD_LENGTH)
    folded = normal.casefold()
    if username is not None and folded.strip() == _nfc(username).casefold().strip():
        raise _invalid(_("The password cannot be the user name."), "password_is_username")
    if len(set(folded)) == 1:
        raise _invalid(_("The password cannot be one character repeated."), "password_repetitive")
    if folded in COMMON_PASSWORDS or normal.lower() in COMMON_PASSWORDS:
        raise _invalid(_("This password is too common and easy to guess; choose another."), "password_common")


def generate_one_time_password() -> str:
    """A random first-sign-in password like ``k7qp-3mzx-v9tb-2hwe-8nfa`` (20 symbols, 99 bits)."""
    groups = (
        "".join(secrets.choice(ONE_TIME_PASSWORD_ALPHABET) for _i in range(_OTP_GROUP_LENGTH))
        for _g in range(_OTP_GROUPS)
    )
    return "-".join(groups)


# --------------------------------------------------------------------------- PINs

def _is_pin(pin: object) -> bool:
    return isinstance(pin, str) and len(pin) == PIN_LENGTH and all("0" <= ch <= "9" for ch in pin)


def hash_pin(pin: str) -> str:
    """Hash a 6-digit wallet PIN (ASCII digits) with argon2id.

    Raises :class:`ValidationError` (code ``pin_invalid``) for anything else. A PIN has only
    10^6 values: the attempt counter and lockout are what protect it, not the hash alone.
    """
    if not _is_pin(pin):
        raise _invalid(_("The PIN must be exactly {n} digits."), "pin_invalid", n=PIN_LENGTH)
    return _hasher().hash(pin)


def verify_pin(hash: str | None, pin: str) -> bool:
    """True when ``pin`` matches. Never raises; a malformed PIN is simply False."""
    if not _is_pin(pin):
        return False
    return verify_secret(hash, pin)
