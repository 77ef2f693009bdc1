"""The one text sanitizer (teller_tui.common.text): properties and the cases that matter."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from teller_tui.common.errors import ValidationError
from teller_tui.common.text import clean_text, is_unsafe_char, reject_control_text

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"

# Text that mixes the awkward parts on purpose: controls, escapes, bidi, zero-width,
# combining marks, surrogates, private use, CJK, markup brackets, whitespace of every kind.
_ALPHABET = st.sampled_from(
    list("aZ09 []=@/\\;:'\"\t\n\r\x00\x07\x1b\x7f\x85\x9b\x9c\x9d\u00a0\u00ad\u0301\u0308\u034f\u3000")
    + list(BIDI + ZERO_WIDTH)
    + ["\ud800", "\udfff", "\ue000", "\U000f0000", "张", "明", "\u3164", "\u2028", "\u2029", "é", "e", "ﬁ"]
) | st.characters()
AWKWARD = st.text(_ALPHABET, max_size=60)


def _forbidden(out: str, multiline: bool) -> list[str]:
    return [ch for ch in out if is_unsafe_char(ch) and not (multiline and ch in "\n\t")]


@settings(max_examples=400)
@given(AWKWARD, st.booleans(), st.none() | st.integers(0, 40))
@example("\x1b]52;c;SGVsbG8=\x07ok", False, None)
@example("e\u200b\u0301", False, None)
@example("a\u0301\u0301b", False, 2)
def test_output_is_safe_normalised_and_idempotent(text: str, multiline: bool, limit: int | None) -> None:
    out = clean_text(text, multiline=multiline, limit=limit)
    assert _forbidden(out, multiline) == []
    assert "\x1b" not in out and not set(out) & set(BIDI + ZERO_WIDTH)
    assert unicodedata.is_normalized("NFC", out)
    assert clean_text(out, multiline=multiline, limit=limit) == out
    if limit is not None:
        assert len(out) <= limit
    if not multiline:
        assert "\n" not in out and "\t" not in out and out == out.strip() and "  " not in out


@given(st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=60))
def test_printable_ascii_only_has_its_spaces_collapsed(text: str) -> None:
    assert clean_text(text) == " ".join(text.split())


@given(AWKWARD)
def test_reject_accepts_exactly_what_clean_keeps_intact(text: str) -> None:
    safe = not _forbidden(text, False)
    if safe:
        assert reject_control_text(text, "Name") == text
    else:
        with pytest.raises(ValidationError) as err:
            reject_control_text(text, "Name")
        assert err.value.code == "control_chars" and err.value.details["field"] == "Name"


@pytest.mark.parametrize("markup", ["[@click=app.quit]x", "[bold red]boss[/]", "[link=https://x]y[/link]"])
def test_markup_is_returned_unchanged(markup: str) -> None:
    assert clean_text(markup) == markup
    assert clean_text(markup, multiline=True) == markup


@pytest.mark.parametrize(("raw", "expected"), [
    ("\x1b[31mRed\x1b[0m", "Red"),  # CSI: no ESC, no "[31m" left behind
    ("\x9b1;31mRed", "Red"),  # 8-bit CSI
    ("\x1b]0;owned\x07Title", "Title"),  # OSC terminated by BEL
    ("\x1b]8;;https://evil\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC 8 hyperlink, ST-terminated
    ("\x1b]52;c;SGVsbG8=", ""),  # unterminated OSC 52 (clipboard write) to the end
    ("\x1bPq#0;2;0;0;0\x1b\\x", "x"),  # DCS (sixel)
    ("a\x1b7b\x1b(Bc", "abc"),  # two-character escapes
    ("tail\x1b[", "tail"),  # CSI cut off at the end
    ("a\x07b\x00c\u202ed\r\ne", "abcd e"),
    ("王\u200b小\u200d明", "王小明"),
    ("\u202eDCBA\u202c", "DCBA"),
    ("  John \t Smith\n", "John Smith"),
    ("\u3164", ""),  # Hangul filler: a "blank" name
    ("cafe\u0301", "café"),  # NFC
    (None, ""),
])
def test_single_line_cases(raw: str | None, expected: str) -> None:
    assert clean_text(raw) == expected


def test_multiline_keeps_lines_and_tabs() -> None:
    assert clean_text("line1\r\nline2\u2028line3\tx  \n\n", multiline=True) == "line1\nline2\nline3\tx"
    assert clean_text("\x1b[2Jtop\n\x1b[1Amiddle", multiline=True) == "top\nmiddle"


def test_limit_counts_characters_and_keeps_marks_with_their_letter() -> None:
    assert clean_text("abcdef", limit=3) == "abc"
    assert clean_text("ab cdef", limit=3) == "ab"
    assert clean_text("x\u0301\u0302b", limit=2) == ""  # never a bare letter cut from its marks
    assert clean_text("张三明", limit=2) == "张三"
    with pytest.raises(ValueError):
        clean_text("x", limit=-1)


def test_reject_multiline_allows_newline_and_tab_only() -> None:
    assert reject_control_text("a\nb\tc", "Note", multiline=True) == "a\nb\tc"
    with pytest.raises(ValidationError):
        reject_control_text("a\nb", "Note")
    with pytest.raises(ValidationError) as err:
        reject_control_text("ab\u202ec", "Note", multiline=True)
    assert "3" in str(err.value)


def test_printable_fast_path_equals_the_full_sanitizer() -> None:
    """Printable text (CJK, currency signs, accents) skips the per-character pass only when that pass
    would change nothing: the same result as the full sanitizer, on random mixes of every kind."""
    import random
    import unicodedata

    from teller_tui.common import text as module

    def slow(value: str, multiline: bool) -> str:
        if multiline:
            value = value.replace("\r\n", "\n")
        out = unicodedata.normalize("NFC", module._strip_unsafe(module._ESCAPE_SEQUENCE.sub("", value), multiline))
        if multiline:
            return "\n".join(line.rstrip() for line in out.split("\n")).strip("\n")
        return " ".join(out.split())

    alphabet = ["a", " ", "  ", "王", "¥", "é", "e\u0301", "\u3164", "\u00a0", "\u3000", "\u200b", "\x1b[31m",
                "\n", "\t", "\u2028", "\ufeff", "\u202e", "Å", "A\u030a", "\U0001f600", "\x85", "1,234.00"]
    rng = random.Random(25)
    for _ in range(4000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 8)))
        for multiline in (False, True):
            assert module.clean_text(value, multiline=multiline) == slow(value, multiline), repr(value)
