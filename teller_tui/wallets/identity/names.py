"""Customer names: validation and normalisation (masked by :func:`teller_tui.common.masks.mask_name`).

Chinese names: 2-20 characters, CJK ideographs and the middle dot ``·`` (dot variants ``•・‧･``
are normalised to ``·``; spaces between characters are removed). Other names: 1-60 characters,
letters of any alphabet plus space, hyphen, apostrophe (``’`` is normalised to ``'``) and
period, starting with a letter. Digits, mixed Chinese and latin, control and invisible
characters are refused. Names are data, never markup: nothing is refused for *looking* like
markup, but brackets are simply not name characters.
"""

from __future__ import annotations

import unicodedata

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.text import is_cjk
from teller_tui.wallets.identity.text import clean_field

__all__ = ["validate_name"]

_MIDDLE_DOT = "·"
_DOT_VARIANTS = str.maketrans({"•": _MIDDLE_DOT, "・": _MIDDLE_DOT, "‧": _MIDDLE_DOT, "･": _MIDDLE_DOT})
_LATIN_PUNCT = frozenset(" -'.")


def validate_name(name: str) -> str:
    """Validate and normalise a customer's name (rules in the module docstring)."""
    s = clean_field(name, _("Name"))
    if not s:
        raise ValidationError(_("Enter the customer's name"), code="name_empty")
    if any(ch.isdigit() for ch in s):
        raise ValidationError(_("A name cannot contain digits"), code="name_digits")
    if any(is_cjk(ch) for ch in s):
        return _validate_cjk_name(s)
    return _validate_latin_name(s)


def _validate_cjk_name(s: str) -> str:
    s = s.translate(_DOT_VARIANTS).replace(" ", "")
    if not all(is_cjk(ch) or ch == _MIDDLE_DOT for ch in s):
        raise ValidationError(
            _("A Chinese name may contain only Chinese characters and the middle dot ·"), code="name_chars"
        )
    if s.startswith(_MIDDLE_DOT) or s.endswith(_MIDDLE_DOT) or _MIDDLE_DOT * 2 in s:
        raise ValidationError(_("The middle dot · must stand between two parts of the name"), code="name_chars")
    if not 2 <= len(s) <= 20:
        raise ValidationError(_("A Chinese name has 2 to 20 characters"), code="name_length")
    return s


def _validate_latin_name(s: str) -> str:
    s = s.replace("’", "'").replace("‘", "'")
    for ch in s:
        cat = unicodedata.category(ch)
        if not (cat.startswith("L") or cat.startswith("M") or ch in _LATIN_PUNCT):
            raise ValidationError(
                _("A name may contain only letters, spaces, hyphens, apostrophes and periods"),
                code="name_chars",
            )
    if not unicodedata.category(s[0]).startswith("L"):
        raise ValidationError(_("A name must begin with a letter"), code="name_chars")
    if len(s) > 60:
        raise ValidationError(_("A name has at most 60 characters"), code="name_length")
    return s
