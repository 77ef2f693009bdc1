"""Security primitives for staff and customer authentication (pure code, no DB, no UI).

Import the submodule you need; this package imports nothing heavy itself:

- :mod:`teller_tui.auth.passwords` -- argon2id hashing of passwords, one-time passwords
  and wallet PINs; the new-password policy.
- :mod:`teller_tui.auth.totp` -- RFC 6238 TOTP with a replay guard (``last_step``).
- :mod:`teller_tui.auth.secretbox` -- AES-256-GCM for TOTP secrets at rest, key file
  outside the database.
- :mod:`teller_tui.auth.qr` -- QR code rendered as plain text for enrolment.
"""

from __future__ import annotations
