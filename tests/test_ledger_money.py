"""Property tests for money parsing and arithmetic (teller_tui/money.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from teller_tui.common.errors import ValidationError
from teller_tui.common.money import CURRENCIES, MAX_MINOR, Money, parse_money

currencies = st.sampled_from(sorted(CURRENCIES))
minors = st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR)


@given(minors, currencies)
def test_plain_text_round_trips(minor: int, cur: str) -> None:
    m = Money(minor, cur)
    assert parse_money(m.plain(), cur, allow_negative=True, allow_zero=True) == m
    assert Money.of(m.plain(), cur) == m


@given(st.integers(min_value=1, max_value=MAX_MINOR), currencies)
def test_thousands_separators_symbols_and_spaces(minor: int, cur: str) -> None:
    m = Money(minor, cur)
    whole, _, frac = m.plain().partition(".")
    grouped = f"{int(whole):,}" + (f".{frac}" if frac else "")
    assert parse_money(f"  {grouped} ", cur) == m
    assert parse_money(grouped.replace(",", "，"), cur) == m
    assert parse_money(cur + " " + grouped, cur) == m


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=9), currencies)
def test_too_many_decimal_places_are_refused(whole: int, digit: int, cur: str) -> None:
    exp = CURRENCIES[cur].exponent
    text = f"{whole}." + "0" * exp + str(digit)
    with pytest.raises(ValidationError) as err:
        parse_money(text, cur)
    assert err.value.code == "amount_places"


@given(st.integers(min_value=0, max_value=10**6), currencies)
def test_trailing_zeros_beyond_the_exponent_are_fine(whole: int, cur: str) -> None:
    exp = CURRENCIES[cur].exponent
    assert parse_money(f"{whole}." + "0" * (exp + 2), cur, allow_zero=True) == Money(whole * 10**exp, cur)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_floats_are_never_money(value: float) -> None:
    with pytest.raises(TypeError):
        Money(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_money(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["1e3", "nan", "inf", "-inf", "1.2.3", "abc", "--1", "1-", "0x10", "", "  ", "¥"])
def test_garbage_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_money(text, allow_negative=True, allow_zero=True)


@given(st.integers(min_value=1, max_value=MAX_MINOR))
def test_sign_and_zero_need_permission(minor: int) -> None:
    text = "-" + Money(minor).plain()
    with pytest.raises(ValidationError):
        parse_money(text)
    assert parse_money(text, allow_negative=True) == Money(-minor)
    with pytest.raises(ValidationError):
        parse_money("0.00")


@given(st.integers(min_value=1, max_value=MAX_MINOR - 1))
def test_max_minor_is_enforced(limit: int) -> None:
    over = Money(limit + 1).plain()
    with pytest.raises(ValidationError):
        parse_money(over, max_minor=limit)
    assert parse_money(Money(limit).plain(), max_minor=limit).minor == limit


def test_fullwidth_digits() -> None:
    assert parse_money("１２３．４５") == Money(12345)
    assert parse_money("￥1,000.5") == Money(100050)


@given(minors, minors)
@settings(max_examples=200)
def test_arithmetic_is_exact(a: int, b: int) -> None:
    x, y = Money(a), Money(b)
    if abs(a + b) <= MAX_MINOR:
        assert (x + y) - y == x
        assert (x + y).decimal == x.decimal + y.decimal
    assert -(-x) == x and abs(x).minor == abs(a)
    assert x.decimal == Decimal(a) / 100


def test_mixed_currencies_and_bools_are_refused() -> None:
    with pytest.raises(ValidationError):
        Money(1, "CNY") + Money(1, "PTS")
    with pytest.raises(TypeError):
        Money(True)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Money(1, "XXX")
    with pytest.raises(ValidationError):
        Money(MAX_MINOR + 1)


# -- issue 17: grouping commas, foreign digits, minus signs -------------------------------------
#: Decimal digits of other scripts that Python's ``\d`` and ``Decimal`` would both accept.
FOREIGN_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: not ("0" <= c <= "9" or "０" <= c <= "９"))


@given(st.integers(min_value=1000, max_value=10**12), st.sampled_from([",", "，"]))
def test_commas_in_valid_grouping_positions_are_accepted(whole: int, comma: str) -> None:
    grouped = f"{whole:,}".replace(",", comma)
    assert parse_money(grouped + ".50") == Money(whole * 100 + 50)
    assert parse_money(grouped) == Money(whole * 100)


@given(st.text(alphabet="0123456789", min_size=1, max_size=9), st.text(alphabet="0123456789", min_size=1, max_size=6))
def test_commas_anywhere_else_are_refused(head: str, tail: str) -> None:
    text = f"{head},{tail}"
    if len(head) <= 3 and len(tail) == 3:
        return  # a valid grouping ("1,500", "12,345"), covered above
    with pytest.raises(ValidationError) as err:
        parse_money(text, allow_zero=True)
    assert err.value.code == "amount_syntax", text


@pytest.mark.parametrize("text", ["1,50", "1,5", ",150", "150,", "1,,500", "12,34,567", "1,234,5", "1,234.5,0",
                                  "1 234", "1\u00a0234"])
def test_misplaced_commas_and_inner_spaces_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_money(text)


@given(st.lists(FOREIGN_DIGITS, min_size=1, max_size=6))
def test_digits_of_other_scripts_are_refused(digits: list[str]) -> None:
    text = "".join(digits)
    with pytest.raises(ValidationError) as err:
        parse_money(text, allow_zero=True)
    assert err.value.code == "amount_syntax"


def test_bengali_digits_are_refused() -> None:
    with pytest.raises(ValidationError):
        parse_money("৪০০")
    with pytest.raises(ValidationError):
        parse_money("4০0")


@given(st.integers(min_value=0, max_value=MAX_MINOR), st.sampled_from(["-", "－", "\u2212", "- "]))
def test_a_minus_sign_is_refused_with_a_message(minor: int, minus: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_money(minus + Money(minor).plain(), allow_zero=True)
    assert err.value.code == "amount_negative"
    assert "negative" in str(err.value)


@given(st.integers(min_value=1, max_value=10**12))
def test_full_width_digits_equal_ascii(minor: int) -> None:
    plain = Money(minor).plain()
    wide = plain.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    assert parse_money(wide) == parse_money(plain) == Money(minor)
