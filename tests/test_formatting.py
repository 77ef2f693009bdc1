"""Locale-aware formatting: money, DR/CR, dates, numbers, amounts in words, CJK columns."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teller_tui.common.errors import ValidationError
from teller_tui.common.formatting import (
    amount_in_words,
    display_width,
    format_date,
    format_datetime,
    format_dr_cr,
    format_money,
    format_number,
    pad,
    truncate,
)
from teller_tui.common.i18n import locale_override, set_locale
from teller_tui.common.money import MAX_MINOR, Money


@pytest.fixture(autouse=True)
def _reset_locale():
    set_locale("en")
    yield
    set_locale("en")


def M(text: str, cur: str = "CNY") -> Money:
    return Money.of(text, cur)


# -- money ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        (M("1234.5"), "zh_CN", "¥1,234.50"),
        (M("1234.5"), "en", "CN¥1,234.50"),
        (M("-1234.5"), "zh_CN", "-¥1,234.50"),
        (M("-0.01"), "en", "-CN¥0.01"),
        (M("0"), "zh_CN", "¥0.00"),
        (M("1234567.89"), "zh_CN", "¥1,234,567.89"),
        (M("12", "USD"), "en", "$12.00"),
        (M("12", "USD"), "zh_CN", "US$12.00"),
        (M("12", "HKD"), "zh_CN", "HK$12.00"),
        (M("1234", "JPY"), "zh_CN", "JP¥1,234"),
        (Money(1234, "PTS"), "en", "1,234 pts"),
        (Money(1, "PTS"), "en", "1 pt"),
        (Money(1234, "PTS"), "zh_CN", "1,234 积分"),
        (Money(-1, "PTS"), "zh_CN", "-1 积分"),
    ],
)
def test_format_money(money, locale, expected):
    assert format_money(money, locale) == expected


@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        (M("5"), "zh_CN", "+¥5.00"),
        (M("-5"), "zh_CN", "-¥5.00"),
        (M("0"), "zh_CN", "¥0.00"),
        (M("5"), "en", "+CN¥5.00"),
        (Money(30, "PTS"), "zh_CN", "+30 积分"),
    ],
)
def test_format_money_with_sign(money, locale, expected):
    assert format_money(money, locale, sign=True) == expected


def test_format_money_follows_active_locale_and_override():
    assert format_money(M("1")) == "CN¥1.00"
    set_locale("zh_CN")
    assert format_money(M("1")) == "¥1.00"
    assert format_money(Money(2, "PTS")) == "2 积分"
    with locale_override("en"):
        assert format_money(Money(2, "PTS")) == "2 pts"
    assert format_money(Money(2, "PTS"), "en") == "2 pts"
    assert format_money(Money(2, "PTS")) == "2 积分"


@given(st.integers(-MAX_MINOR, MAX_MINOR), st.sampled_from(["zh_CN", "en"]), st.booleans())
def test_format_money_round_trips_and_is_terminal_safe(minor, locale, sign):
    text = format_money(Money(minor), locale, sign=sign)
    assert text.isascii() or set(text) - set("0123456789,.+-CN") == {"¥"}
    assert "\u2212" not in text and "\xa0" not in text
    digits = re.sub(r"[^0-9]", "", text)
    assert int(digits) == abs(minor)
    assert text.startswith("-") == (minor < 0)
    assert text.startswith("+") == (sign and minor > 0)


@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        (M("1234.5"), "en", "1,234.50 CR"),
        (M("-1234.5"), "en", "1,234.50 DR"),
        (M("1234.5"), "zh_CN", "1,234.50 贷"),
        (M("-1234.5"), "zh_CN", "1,234.50 借"),
        (M("0"), "zh_CN", "0.00"),
        (M("-3", "JPY"), "en", "3 DR"),
        (Money(1000, "PTS"), "zh_CN", "1,000 贷"),
    ],
)
def test_format_dr_cr(money, locale, expected):
    assert format_dr_cr(money, locale) == expected


def test_format_dr_cr_uses_active_locale():
    set_locale("zh")
    assert format_dr_cr(M("-1")) == "1.00 借"


# -- numbers and dates ----------------------------------------------------------------------
def test_format_number():
    assert format_number(1234567, "en") == "1,234,567"
    assert format_number(-1234567, "zh_CN") == "-1,234,567"
    assert format_number(0, "en") == "0"
    assert format_number(Decimal("1234.500"), "en") == "1,234.500"
    assert format_number(Decimal("0.05"), "zh_CN") == "0.05"
    with pytest.raises(TypeError):
        format_number(1.5, "en")  # type: ignore[arg-type]


def test_format_date():
    d = dt.date(2026, 1, 5)
    assert format_date(d, "en") == "Jan 5, 2026"
    assert format_date(d, "zh_CN") == "2026年1月5日"
    assert format_date(dt.datetime(2026, 1, 5, 23, 0), "en") == "Jan 5, 2026"
    set_locale("zh_CN")
    assert format_date(d) == "2026年1月5日"


def test_format_datetime_in_branch_time():
    utc = dt.datetime(2026, 1, 5, 15, 4, 5, tzinfo=dt.timezone.utc)
    assert format_datetime(utc, "zh_CN") == "2026年1月5日 23:04:05"
    assert format_datetime(utc, "en") == "Jan 5, 2026, 11:04:05 PM"  # plain space, not U+202F
    late = dt.datetime(2026, 1, 5, 20, 0, tzinfo=dt.timezone.utc)
    assert format_datetime(late, "zh_CN") == "2026年1月6日 04:00:00"  # the local date moves on
    assert format_datetime(utc, "zh_CN", tz="UTC") == "2026年1月5日 15:04:05"
    assert format_datetime(utc, "zh_CN", tz=dt.timezone(dt.timedelta(hours=-5))) == "2026年1月5日 10:04:05"


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_format_datetime_time_matches_babel_all_day(locale):
    """The medium time is formatted from the locale's pattern parsed once: the same text Babel
    gives, for every minute of a day and each second of the hours around noon and midnight."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime as babel_datetime

    start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    moments = [start + dt.timedelta(minutes=m) for m in range(24 * 60)]
    moments += [start + dt.timedelta(hours=h, seconds=s) for h in (3, 4, 15, 16) for s in range(0, 3600, 7)]
    for when in moments:
        expected = babel_datetime(when, "medium", tzinfo=ZoneInfo("Asia/Shanghai"), locale=locale)
        assert format_datetime(when, locale) == expected.replace("\u202f", " ").replace("\u00a0", " ")


def test_format_datetime_naive_is_utc():
    assert format_datetime(dt.datetime(2026, 1, 5, 15, 4, 5), "zh_CN") == "2026年1月5日 23:04:05"


def test_format_datetime_unknown_zone():
    with pytest.raises(ValidationError) as info:
        format_datetime(dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc), "en", tz="Mars/Olympus")
    assert info.value.code == "timezone"


# -- amounts in words -----------------------------------------------------------------------
ZH_CASES = [
    ("0", "零元整"),
    ("0.01", "壹分"),
    ("0.05", "伍分"),
    ("0.10", "壹角"),
    ("0.56", "伍角陆分"),
    ("1", "壹元整"),
    ("10", "壹拾元整"),
    ("11", "壹拾壹元整"),
    ("100", "壹佰元整"),
    ("101", "壹佰零壹元整"),
    ("110", "壹佰壹拾元整"),
    ("1001", "壹仟零壹元整"),
    ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
    ("1000.05", "壹仟元零伍分"),
    ("1409.50", "壹仟肆佰零玖元伍角"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("10010.10", "壹万零壹拾元壹角"),
    ("100000", "壹拾万元整"),
    ("107000.53", "壹拾万柒仟元伍角叁分"),
    ("1010101", "壹佰零壹万零壹佰零壹元整"),
    ("10000100", "壹仟万零壹佰元整"),
    ("100000000", "壹亿元整"),
    ("100000001", "壹亿零壹元整"),
    ("100010000", "壹亿零壹万元整"),
    ("110000000", "壹亿壹仟万元整"),
    ("101000000", "壹亿零壹佰万元整"),
    ("1234567890.12", "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分"),
    ("100010000000", "壹仟亿壹仟万元整"),
    ("100001000000", "壹仟亿零壹佰万元整"),
    ("1000100000000", "壹万零壹亿元整"),
    ("10000000000000", "壹拾万亿元整"),
    ("-12.30", "负壹拾贰元叁角"),
]


@pytest.mark.parametrize(("amount", "words"), ZH_CASES)
def test_amount_in_words_zh(amount, words):
    assert amount_in_words(M(amount), "zh_CN") == words


EN_CASES = [
    ("0", "zero yuan"),
    ("0.01", "one fen"),
    ("0.56", "fifty-six fen"),
    ("1", "one yuan"),
    ("13", "thirteen yuan"),
    ("20.20", "twenty yuan and twenty fen"),
    ("100", "one hundred yuan"),
    ("1234.56", "one thousand two hundred thirty-four yuan and fifty-six fen"),
    ("1000.05", "one thousand yuan and five fen"),
    ("10010.10", "ten thousand ten yuan and ten fen"),
    ("1000000", "one million yuan"),
    ("2000001", "two million one yuan"),
    ("10000000000000", "ten trillion yuan"),
    ("-99.99", "minus ninety-nine yuan and ninety-nine fen"),
]


@pytest.mark.parametrize(("amount", "words"), EN_CASES)
def test_amount_in_words_en(amount, words):
    assert amount_in_words(M(amount), "en") == words


def test_amount_in_words_active_locale_and_currency():
    assert amount_in_words(M("100")) == "one hundred yuan"
    set_locale("zh_CN")
    assert amount_in_words(M("100")) == "壹佰元整"
    with pytest.raises(ValidationError) as info:
        amount_in_words(Money(100, "USD"))
    assert info.value.code == "currency"
    assert "USD" in str(info.value)


_ZH_DIGIT = {ch: i for i, ch in enumerate("零壹贰叁肆伍陆柒捌玖")}
_ZH_UNIT = {"拾": 10, "佰": 100, "仟": 1000}


def parse_zh(words: str) -> int:
    """Independent reader of financial uppercase, back to fen."""
    negative = words.startswith("负")
    words = words.removeprefix("负")
    if words.endswith("整"):
        words = words[:-1]
    if "元" in words:
        integer_part, _, rest = words.partition("元")
    else:
        integer_part, rest = "", words
    yi = wan = section = digit = 0
    for ch in integer_part:
        if ch in _ZH_DIGIT:
            digit = _ZH_DIGIT[ch]
        elif ch in _ZH_UNIT:
            assert digit, f"unit without a digit in {words}"
            section += digit * _ZH_UNIT[ch]
            digit = 0
        elif ch == "万":
            wan, section, digit = section + digit, 0, 0
        elif ch == "亿":
            yi, wan, section, digit = (wan * 10_000 + section + digit), 0, 0, 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {words}")
    yuan = yi * 10**8 + wan * 10_000 + section + digit
    fen = 0
    m = re.fullmatch(r"零?(?:(.)角)?(?:(.)分)?", rest)
    assert m, f"bad fraction {rest!r} in {words}"
    if m.group(1):
        fen += 10 * _ZH_DIGIT[m.group(1)]
    if m.group(2):
        fen += _ZH_DIGIT[m.group(2)]
    total = yuan * 100 + fen
    return -total if negative else total


_EN = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_EN.update({w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split())
            if w != "_"})
_EN_SCALE = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}


def _parse_en_int(words: list[str]) -> int:
    total = group = 0
    for w in words:
        if w == "hundred":
            group *= 100
        elif w in _EN_SCALE:
            total += group * _EN_SCALE[w]
            group = 0
        else:
            group += sum(_EN[part] for part in w.split("-"))
    return total + group


def parse_en(words: str) -> int:
    negative = words.startswith("minus ")
    words = words.removeprefix("minus ")
    yuan = fen = 0
    if "yuan" in words:
        yuan_words, _, rest = words.partition(" yuan")
        yuan = _parse_en_int(yuan_words.split())
        words = rest.removeprefix(" and ")
    if words.endswith("fen"):
        fen = _parse_en_int(words.removesuffix(" fen").split())
    total = yuan * 100 + fen
    return -total if negative else total


@pytest.mark.parametrize(("amount", "words"), ZH_CASES)
def test_zh_parser_reads_the_table(amount, words):
    assert parse_zh(words) == M(amount).minor


amounts = st.one_of(
    st.integers(-MAX_MINOR, MAX_MINOR),
    # numbers rich in zeros exercise the 零 rules
    st.lists(st.sampled_from([0, 0, 0, 1, 5, 9]), min_size=1, max_size=15).map(
        lambda ds: int("".join(map(str, ds)))),
)


@settings(max_examples=400)
@given(amounts)
def test_zh_words_properties(minor):
    words = amount_in_words(Money(minor), "zh_CN")
    assert "零零" not in words
    assert parse_zh(words) == minor
    assert words.endswith("整") == (minor % 100 == 0)
    assert not words.removeprefix("负").startswith("零") or minor == 0
    assert not re.search(r"零[元万亿角]", words) or minor == 0  # 零 only before a digit
    assert not words.startswith("拾") and "元拾" not in words
    assert set(words) <= set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整负")


@settings(max_examples=300)
@given(amounts)
def test_en_words_round_trip(minor):
    words = amount_in_words(Money(minor), "en")
    assert parse_en(words) == minor
    assert "  " not in words and words == words.strip()


# -- columns --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("", 0),
        ("abc", 3),
        ("中文", 4),
        ("王小明 ab", 9),
        ("￥１２", 6),  # full-width forms
        ("e\u0301", 1),  # combining accent
        ("a\u200bb", 2),  # zero-width space
        ("a\tb\x1b", 2),  # controls take no cell
        ("😀", 2),
        ("±×", 2),  # ambiguous width: narrow, as terminals outside CJK mode draw them
        ("ｱ", 1),  # half-width katakana
    ],
)
def test_display_width(text, width):
    assert display_width(text) == width


def test_pad():
    assert pad("中文", 6) == "中文  "
    assert pad("中文", 6, "right") == "  中文"
    assert pad("中文", 6, ">") == "  中文"
    assert pad("中文", 7, "center") == " 中文  "
    assert pad("中文", 7, "^") == " 中文  "
    assert pad("ab", 5, "<", fill=".") == "ab..."
    assert pad("中文中文", 4) == "中文中文"  # too wide: unchanged
    assert pad("中文中文", 5, clip=True) == "中文…"
    assert pad("中文中文", 6, clip=True) == "中文… "
    with pytest.raises(ValueError):
        pad("x", 3, "middle")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        pad("x", 3, fill="中")


def test_truncate():
    assert truncate("short", 10) == "short"
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("中文中文", 4) == "中…"
    assert truncate("中文中文", 1) == "…"
    assert truncate("中文中文", 0) == ""
    assert truncate("abcdef", 4, ellipsis="...") == "a..."
    assert truncate("abcdef", 2, ellipsis="...") == "ab"


texts = st.text(alphabet=st.sampled_from(list("ab 1,.¥￥中文王李明積分\u0301😀")), max_size=20)


@given(texts, st.integers(0, 30), st.sampled_from(["left", "right", "center"]))
def test_pad_width_property(text, width, align):
    padded = pad(text, width, align)
    assert display_width(padded) == max(width, display_width(text))
    assert text in padded
    clipped = pad(text, width, align, clip=True)
    assert display_width(clipped) == width


def test_receipt_columns_line_up():
    rows = [("现金存入", M("1234.5")), ("Cash out", M("-20")), ("积分奖励", Money(30, "PTS"))]
    lines = [pad(label, 12) + pad(format_money(m, "zh_CN", sign=True), 14, "right") for label, m in rows]
    assert {display_width(line) for line in lines} == {26}


def test_babel_locale_follows_the_active_locale():
    from teller_tui.common.formatting import babel_locale

    assert str(babel_locale()) == "en"
    set_locale("zh_CN")
    assert babel_locale().language == "zh" and babel_locale().territory == "CN"
    assert babel_locale() is babel_locale("zh-CN")
    assert str(babel_locale("en_US")) == "en"


def test_money_and_datetime_fast_paths_match_babel() -> None:
    """format_money's shape (read from Babel once per currency and locale) and format_datetime's
    cached parts give exactly Babel's own output (the reference they replace on the posting path)."""
    import random
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime as babel_datetime

    from teller_tui.common import formatting
    from teller_tui.common.money import CURRENCIES

    rng = random.Random(25)
    for loc in ("en", "zh_CN"):
        for code, cur in CURRENCIES.items():
            if cur.commodity:
                continue
            assert formatting._money_shape(code, loc) is not None  # the fast path is taken
            for minor in [0, 1, 10**15] + [rng.randrange(10 ** rng.randrange(1, 16)) for _ in range(150)]:
                plain = formatting._babel_money(minor, code, loc)
                assert formatting.format_money(Money(minor, code), loc) == plain
                assert formatting.format_money(Money(-minor, code), loc, sign=True) == ("-" if minor else "") + plain
        for _ in range(60):
            when = dt.datetime(2001, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(40 * 365 * 86400))
            for tz in ("Asia/Shanghai", "America/New_York"):
                zone = ZoneInfo(tz)
                expected = babel_datetime(when.astimezone(zone), "medium", tzinfo=zone, locale=formatting._bl(loc))
                assert formatting.format_datetime(when, loc, tz) == formatting._plain(expected)
