"""Encrypt small secrets (TOTP seeds) at rest with a key kept outside the database.

The key is 32 random bytes in ``<home>/secret.key`` (mode 0600), created on first use. A
copy of the database alone therefore does not reveal any TOTP secret. Back the key file up
separately from the database: without it the stored TOTP secrets cannot be read and every
person has to enrol again.

Tokens look like ``v1:<base64(nonce[12] | ciphertext | tag[16])>`` (AES-256-GCM). Each is
bound to a *context* string used as associated data, e.g. ``"staff:42:totp"``: a token
copied to another row or purpose fails to decrypt instead of silently working there.

Usage::

    box = SecretBox.from_home(settings.home)
    row.totp_secret_enc = box.encrypt(secret, context=f"staff:{row.id}:totp")
    secret = box.decrypt(row.totp_secret_enc, context=f"staff:{row.id}:totp")
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from teller_tui.common.errors import StorageError
from teller_tui.common.files import fsync_dir
from teller_tui.common.i18n import _

if TYPE_CHECKING:
    from teller_tui.common.settings import Settings

__all__ = ["KEY_BYTES", "KEY_FILE_NAME", "SecretBox", "load_or_create_key"]

KEY_FILE_NAME = "secret.key"
KEY_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_PREFIX = "v1:"


def load_or_create_key(path: Path) -> bytes:
    """Read the key at ``path``, creating it (0600, parent 0700) if it does not exist.

    Refuses a key file that group or others can access, or that is not exactly 32 bytes.
    Creation is atomic: the file appears under its name only once complete, and when two
    processes race, both end up with the same key.
    """
    path = Path(path)
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    parent = path.parent
    if not parent.exists():
        try:
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(_("Cannot create the folder {path} for the key file: {error}").format(
                path=parent, error=exc.strerror or exc), code="key_file_unusable") from exc
    tmp = parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, secrets.token_bytes(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # fails if another process created the key meanwhile
        except FileExistsError:
            pass
        else:
            fsync_dir(parent)
    except OSError as exc:
        raise StorageError(_("Cannot create the key file {path}: {error}").format(
            path=path, error=exc.strerror or exc), code="key_file_unusable") from exc
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StorageError(_("Cannot read the key file {path}: {error}").format(
            path=path, error=exc.strerror or exc), code="key_file_unusable") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StorageError(_("The key file {path} is not a regular file.").format(path=path),
                               code="key_file_unusable")
        if os.name == "posix" and info.st_mode & 0o077:
            raise StorageError(
                _("The key file {path} can be read by other users. Fix it with: chmod 600 {path}").format(
                    path=path),
                code="key_file_permissions")
        data = b""
        while len(data) <= KEY_BYTES:
            chunk = os.read(fd, 64)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    if len(data) != KEY_BYTES:
        raise StorageError(
            _("The key file {path} is damaged (expected {n} bytes). Restore it from backup.").format(
                path=path, n=KEY_BYTES),
            code="key_file_damaged")
    return data



class SecretBox:
    """AES-256-GCM with a context string as associated data. The key never appears in repr.

    A box made by :meth:`from_home_lazily` reads (or creates) its key file on first use, so a
    process that never touches a secret (a kiosk showing a balance) never opens the key file.
    The composition root builds one box and hands it to every service that encrypts.
    """

    __slots__ = ("_aead", "_key", "_key_path")

    def __init__(self, key: bytes | None = None, *, key_path: Path | None = None) -> None:
        if key is None and key_path is None:
            raise ValueError("a key or a key file is required")
        if key is not None and (not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES):
            raise ValueError(f"key must be {KEY_BYTES} bytes")
        self._key: bytes | None = bytes(key) if key is not None else None
        self._key_path = key_path
        self._aead: AESGCM | None = None

    @classmethod
    def from_home(cls, home: Path) -> SecretBox:
        """Use ``home/secret.key``, creating it now if it does not exist."""
        return cls(load_or_create_key(Path(home) / KEY_FILE_NAME))

    @classmethod
    def from_home_lazily(cls, settings: Settings) -> SecretBox:
        """Use ``settings.home/secret.key``, read (or created) on first use."""
        return cls(key_path=Path(settings.home) / KEY_FILE_NAME)

    @classmethod
    def from_key_file(cls, path: Path) -> SecretBox:
        return cls(load_or_create_key(Path(path)))

    @classmethod
    def ephemeral(cls) -> SecretBox:
        """A box with a random in-memory key (tests)."""
        return cls(secrets.token_bytes(KEY_BYTES))

    def _master(self) -> bytes:
        if self._key is None:
            assert self._key_path is not None
            self._key = load_or_create_key(self._key_path)
        return self._key

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            self._aead = AESGCM(self._master())
        return self._aead

    def derive_key(self, label: bytes) -> bytes:
        """A 32-byte key for another purpose (HMAC tokens), derived from the master key by ``label``."""
        return hmac.new(self._master(), label, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """``"v1:" + base64(nonce | ciphertext | tag)``; a fresh random nonce every time."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, plaintext.encode("utf-8"), _context_bytes(context))
        return _PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, *, context: str) -> str:
        """The plaintext; :class:`StorageError` if the token was altered, moved or made with another key."""
        aad = _context_bytes(context)
        if not isinstance(token, str) or not token.startswith(_PREFIX):
            raise _undecryptable()
        try:
            raw = base64.b64decode(token[len(_PREFIX):], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _undecryptable() from exc
        if len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise _undecryptable()
        try:
            plain: bytes = self._cipher().decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad)
            return plain.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError) as exc:
            raise _undecryptable() from exc


def _context_bytes(context: str) -> bytes:
    if not isinstance(context, str) or not context:
        raise ValueError("context must be a non-empty str, e.g. 'staff:42:totp'")
    return context.encode("utf-8")


def _undecryptable() -> StorageError:
    return StorageError(
        _("A stored secret cannot be decrypted: it was changed, belongs to another record, "
          "or the key file is not the one it was made with."),
        code="secret_undecryptable")
