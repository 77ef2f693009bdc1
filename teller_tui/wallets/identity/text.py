"""Text rules shared by every identifier: normalising, refusing invisible characters, compacting.

Validators normalise first (NFC, whitespace collapsed), then refuse control and invisible
characters (:func:`teller_tui.common.text.reject_control_text`, the one definition of unsafe
text) rather than silently dropping them: a number or name with a hidden character in it
is a different number or name, and the teller must see why it was refused.
"""

from __future__ import annotations

import unicodedata

from teller_tui.common.text import reject_control_text

__all__ = ["clean_field", "compact", "normalize_text"]

_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ－",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-",
)


def normalize_text(s: str) -> str:
    """NFC-normalise, trim, and collapse every run of whitespace (any kind) to one space."""
    if not isinstance(s, str):
        raise TypeError(f"expected text, got {type(s).__name__}")
    return " ".join(unicodedata.normalize("NFC", s).split())


def clean_field(value: str, field: str) -> str:
    """Normalised text (see :func:`normalize_text`) with no control or invisible character."""
    return reject_control_text(normalize_text(value), field)


def compact(value: str, field: str) -> str:
    """Text for a number field: normalised, full-width folded, spaces and hyphens removed."""
    s = clean_field(value, field).translate(_FULLWIDTH)
    return s.replace(" ", "").replace("-", "")
