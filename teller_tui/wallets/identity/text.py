"""Text rules shared by every identifier: normalising, refusing invisible characters, compacting.

Validators normalise first (NFC, whitespace collapsed), then refuse control and invisible
characters rather than silently dropping them: a number or name with a hidden character in it
is a different number or name, and the teller must see why it was refused.
"""

from __future__ import annotations

import unicodedata

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _

__all__ = ["clean_field", "compact", "normalize_text", "reject_control_chars"]

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


def clean_field(value: str, field: str) -> str:
    """Normalised text (see :func:`normalize_text`) with no control or invisible character."""
    return reject_control_chars(normalize_text(value), field)


def compact(value: str, field: str) -> str:
    """Text for a number field: normalised, full-width folded, spaces and hyphens removed."""
    s = clean_field(value, field).translate(_FULLWIDTH)
    return s.replace(" ", "").replace("-", "")
