"""The one sanitizer for user-supplied text on its way to a screen, receipt, report, log or CLI.

Names, memos, reasons, notes and search queries come from people (or from a database that
people filled). Before such text is stored, shown, printed or logged it goes through
:func:`clean_text`; a validator that must *refuse* such text instead of repairing it calls
:func:`reject_control_text`. Both use one definition of what is unsafe
(:func:`is_unsafe_char`), so what one strips the other refuses.

Unsafe, and removed:

* C0 and C1 control characters (ESC, BEL, NUL, DEL, CR, ...). Tabs and line breaks become
  spaces, or are kept (``\\n`` and ``\\t``) when ``multiline=True``.
* Terminal escape *sequences* as a whole: a CSI (``ESC [ 31 m``), OSC (``ESC ] 0 ; title BEL``),
  DCS/APC/PM/SOS string or a two-character escape leaves neither its ESC nor its payload, so
  ``"\\x1b[31mRed"`` becomes ``"Red"`` and an OSC-52 clipboard write leaves nothing.
* Unicode format characters (category Cf): bidi embeddings, overrides and isolates
  (U+202A-U+202E, U+2066-U+2069, LRM/RLM/ALM), zero-width space/joiners (U+200B-U+200D, so an
  emoji ZWJ sequence falls apart into its emoji), word joiner, BOM, soft hyphen, tag characters.
* Surrogates (a lone surrogate cannot be encoded), private-use characters, and the invisible
  "fillers" that render as blank letters (Hangul fillers, combining grapheme joiner).
* U+2028/U+2029 line and paragraph separators (treated as line breaks).

Markup is *not* this module's business: ``"[@click=app.quit]x"`` comes back unchanged. The UI
escapes markup (or passes ``Text``/``Content`` objects); this module only guarantees that what
is left is printable text. To fit text into a column by terminal cells, use
:func:`teller_tui.common.formatting.truncate` / :func:`~teller_tui.common.formatting.pad`.
"""

from __future__ import annotations

import re
import unicodedata

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _

__all__ = ["clean_text", "is_cjk", "is_unsafe_char", "reject_control_text"]

#: Unicode categories never shown: control, format, surrogate, private use, line/paragraph separator.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
#: Letters and marks that render as nothing (used to make "blank" names): Hangul fillers,
#: combining grapheme joiner, Khmer inherent vowels.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")
#: Line breaks: a newline in multi-line text, a space otherwise.
_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")

# ECMA-48 escape sequences, 7-bit (ESC ...) and 8-bit (C1) forms. Strings (OSC, DCS, SOS, PM,
# APC) run to BEL or ST (ESC \ or U+009C); an unterminated one runs to the next ESC or the end,
# as it would in a terminal. A CSI without its final byte at the end of the text goes too.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # strings
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*(?:[\x40-\x7e]|\Z)"  # CSI
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"  # nF, Fp, Fe, Fs escapes: ESC ( B, ESC 7, ESC c, ...
)


def is_unsafe_char(ch: str) -> bool:
    """True for a character that must never reach a terminal or a stored text field as is.

    Tabs and line breaks count as unsafe here; :func:`clean_text` turns them into spaces (or
    keeps ``\\n``/``\\t`` in multi-line text) rather than dropping them.
    """
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES or ch in _INVISIBLE


#: CJK ideograph blocks (names in Chinese characters are masked and validated by their own rules).
_CJK_RANGES = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # URO
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x2FA1F),  # Extensions B-F, compatibility supplement
    (0x30000, 0x323AF),  # Extensions G-H
)


def is_cjk(ch: str) -> bool:
    """True for a CJK ideograph (and ``〇``), the characters of a name written in Chinese."""
    cp = ord(ch)
    return ch == "〇" or any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _strip_unsafe(text: str, multiline: bool) -> str:
    out: list[str] = []
    for ch in text:
        if ch in _BREAKS:
            out.append("\n" if multiline else " ")
        elif ch == "\t":
            out.append("\t" if multiline else " ")
        elif not is_unsafe_char(ch):
            out.append(ch)
    return "".join(out)


def _clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, never between a letter and its marks."""
    if len(text) <= limit:
        return text
    end = limit
    while end > 0 and unicodedata.category(text[end])[0] == "M":
        end -= 1
    return text[:end]


def clean_text(text: str | None, *, limit: int | None = None, multiline: bool = False) -> str:
    """``text`` made safe to store and show; ``None`` gives ``""``.

    Escape sequences and unsafe characters (see the module docstring) are removed and the
    result is NFC-normalised. Single-line text (the default) has every run of whitespace,
    line breaks included, collapsed to one space and is trimmed. Multi-line text keeps ``\\n``
    (``\\r\\n``, ``\\r`` and the Unicode separators become ``\\n``) and ``\\t``; trailing spaces
    of each line and blank lines at either end are dropped. ``limit`` cuts the result to at
    most that many characters (not cells: see :func:`teller_tui.common.formatting.truncate`).

    Idempotent: ``clean_text(clean_text(s)) == clean_text(s)``.
    """
    if text is None:
        return ""
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    if text.isprintable() and (text.isascii() or (_INVISIBLE.isdisjoint(text)
                                                  and unicodedata.is_normalized("NFC", text))):
        # The common case: nothing the slow path would remove or change. Printable text holds no
        # control, format, surrogate, private-use or separator character (so no escape sequence, no
        # break, no tab, no space but ASCII's); what is left to check is the invisible letters and NFC.
        out = text.rstrip() if multiline else " ".join(text.split())
    else:
        if multiline:
            text = text.replace("\r\n", "\n")
        text = _ESCAPE_SEQUENCE.sub("", text)
        out = unicodedata.normalize("NFC", _strip_unsafe(text, multiline))
        if multiline:
            out = "\n".join(line.rstrip() for line in out.split("\n")).strip("\n")
        else:
            out = " ".join(out.split())
    if limit is not None:
        out = _clip(out, limit)
        out = out.rstrip() if multiline else out.strip()
    return out


def reject_control_text(text: str, field: str, *, multiline: bool = False) -> str:
    """Return ``text`` unchanged, or raise :class:`ValidationError` (code ``control_chars``).

    For validators that must refuse rather than repair (a name on an ID document, a number).
    ``field`` names the field in the message (already translated by the caller); the error's
    ``field`` detail carries it too. ``multiline`` allows ``\\n`` and ``\\t``.
    """
    for pos, ch in enumerate(text, start=1):
        if multiline and ch in "\n\t":
            continue
        if is_unsafe_char(ch):
            raise ValidationError(
                _("{field} contains a control or invisible character (position {pos})").format(
                    field=field, pos=pos
                ),
                code="control_chars",
                field=field,
            )
    return text
