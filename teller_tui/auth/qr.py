"""QR codes as plain text, for TOTP enrolment on a terminal.

:func:`qr_text` draws two module rows per text line with the half blocks ``▀ ▄ █`` and
space, quiet zone included (2 modules on every side, plus one more module row at the
bottom when the height is odd).

Which colour is "ink" matters for scanning, so it is a parameter:

- ``ink="dark"`` (default): block characters are the *dark* modules and spaces are light.
  Show it with a dark foreground on a light background, set explicitly (in Textual, e.g.
  ``color: black; background: white;`` on the widget) so it scans whatever the theme.
- ``ink="light"``: block characters are the *light* modules (quiet zone drawn with ``█``).
  For a raw terminal with light text on a dark background, where colours cannot be set.

No Rich or Textual here: the result is a ``str`` of equal-width lines joined by ``\\n``.
"""

from __future__ import annotations

from typing import Literal

import segno

__all__ = ["QR_BORDER", "qr_matrix", "qr_text"]

QR_BORDER = 2
_CHARS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_matrix(data: str, *, border: int = QR_BORDER) -> list[list[bool]]:
    """Module matrix (True = dark) of ``data`` at error level M, quiet zone included."""
    code = segno.make(data, error="m", boost_error=False, micro=False)
    return [[bool(v) for v in row] for row in code.matrix_iter(scale=1, border=border)]


def qr_text(data: str, *, ink: Literal["dark", "light"] = "dark", border: int = QR_BORDER) -> str:
    """Render ``data`` as a QR code (error level M) in half-block characters; see the module doc."""
    if ink not in ("dark", "light"):
        raise ValueError("ink must be 'dark' or 'light'")
    matrix = qr_matrix(data, border=border)
    drawn = [[dark == (ink == "dark") for dark in row] for row in matrix]
    if len(drawn) % 2:
        drawn.append([ink == "light"] * len(drawn[0]))  # one more light (quiet zone) row
    lines = []
    for top, bottom in zip(drawn[0::2], drawn[1::2], strict=True):
        lines.append("".join(_CHARS[(t, b)] for t, b in zip(top, bottom, strict=True)))
    return "\n".join(lines)
