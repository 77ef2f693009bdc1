"""One mask per identifier kind (teller_tui.common.masks)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teller_tui.common.masks import mask_card, mask_document_number, mask_name, mask_phone, mask_wallet
from teller_tui.common.text import clean_text


@pytest.mark.parametrize(("name", "masked"), [
    ("张三明", "张*明"), ("张三", "张*"), ("欧阳娜娜", "欧**娜"), ("阿依古丽·买买提", "阿***·**提"),
    ("张", "张"), ("John Smith", "J*** S****"), ("Mary-Jane O'Neil", "M***-J*** O'****"),
    ("  John\u202e  Smith\x1b[31m ", "J*** S****"), ("", ""), (None, ""),
])
def test_mask_name(name: str | None, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812345678", "138****5678"), ("+85291234567", "+852****4567"), ("12345", "***45"),
    ("138 1234 5678", "138****5678"), ("", ""), (None, ""),
])
def test_mask_phone(phone: str | None, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_mask_document_number() -> None:
    assert mask_document_number("34052419800101001X") == "340524********001X"
    assert mask_document_number("34052419800101001X", "prc_id") == "340524********001X"
    assert mask_document_number("110101199003070302") == "110101********0302"
    assert mask_document_number("E12345678", "passport") == "E******78"
    assert mask_document_number("E12345678") == "E******78"
    assert mask_document_number("1234", "passport") == "****"
    assert mask_document_number("H1234567890") == "H********90"
    assert mask_document_number(None) == "" and mask_document_number("") == ""


def test_mask_card_and_wallet() -> None:
    assert mask_card("6222021234567891234") == "6222 **** **** 1234"
    assert mask_card("6222 0212 3456 7890") == "6222 **** **** 7890"
    assert mask_card("1234567") == "*******"
    assert mask_wallet("8600000000000015") == "8600****0015"
    assert mask_wallet("86000001") == "86000001"
    assert mask_wallet("\x1b[2J8600000000000015") == "8600****0015"


@given(st.text(max_size=40))
def test_masks_never_raise_and_never_return_unsafe_text(value: str) -> None:
    for mask in (mask_name, mask_phone, mask_document_number, mask_card, mask_wallet):
        out = mask(value)
        assert clean_text(out) == out
