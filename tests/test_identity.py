"""Identity validators: names, documents, phones, cards, PINs, wallet numbers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teller_tui.common.errors import ValidationError
from teller_tui.common.masks import mask_card, mask_document_number, mask_name, mask_phone
from teller_tui.common.text import reject_control_text as reject_control_chars
from teller_tui.wallets.identity import (
    MAINLAND_PROVINCES,
    DocumentType,
    format_wallet_number,
    luhn_check_digit,
    luhn_ok,
    make_prc_id,
    make_wallet_number,
    normalize_text,
    prc_id_check_digit,
    validate_bank_account,
    validate_bank_card,
    validate_document,
    validate_hk_macau_permit,
    validate_mobile,
    validate_name,
    validate_passport,
    validate_pin,
    validate_prc_id,
    validate_taiwan_permit,
    validate_wallet_number,
)

TODAY = date(2026, 11, 23)


def code_of(fn, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        fn(*args, **kwargs)
    assert str(info.value)  # every refusal carries a message for the teller
    return info.value.code


def card(prefix: str, length: int = 19, fill: str = "3") -> str:
    payload = (prefix + fill * length)[: length - 1]
    return payload + luhn_check_digit(payload)


# -- text -------------------------------------------------------------------------------------
def test_normalize_text_nfc_trim_and_collapse() -> None:
    assert normalize_text("  Jose\u0301 \t\n  Mu\u0308ller\u3000 ") == "José Müller"
    assert normalize_text("") == ""


@pytest.mark.parametrize("bad", ["a\x1bb", "a\x00", "abc\u202e", "zero\u200bwidth", "x\u2028y", "\x7f"])
def test_reject_control_chars(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        reject_control_chars(bad, "Name")
    assert info.value.code == "control_chars"
    assert "Name" in str(info.value)


def test_reject_control_chars_passes_plain_text() -> None:
    assert reject_control_chars("张三 [b]x[/b]", "Name") == "张三 [b]x[/b]"


# -- names ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        ("  张三明 ", "张三明"),
        ("张 三", "张三"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("𠮷野", "𠮷野"),  # Extension B ideograph
        ("John Smith", "John Smith"),
        ("Anne-Marie  O’Neil", "Anne-Marie O'Neil"),
        ("José Müller", "José Müller"),
        ("J. R. R. Tolkien", "J. R. R. Tolkien"),
        ("X", "X"),
        ("Иван Петров", "Иван Петров"),
    ],
)
def test_valid_names(raw: str, expected: str) -> None:
    assert validate_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "name_empty"),
        ("   ", "name_empty"),
        ("张", "name_length"),
        ("张" * 21, "name_length"),
        ("A" * 61, "name_length"),
        ("张3", "name_digits"),
        ("John2", "name_digits"),
        ("张三John", "name_chars"),
        ("·张三", "name_chars"),
        ("张三·", "name_chars"),
        ("张··三", "name_chars"),
        ("'John", "name_chars"),
        ("[@click=app.quit]x", "name_chars"),
        ("John_Smith", "name_chars"),
        ("张三\x1b[31m", "control_chars"),
        ("John\u200bSmith", "control_chars"),
    ],
)
def test_invalid_names(raw: str, code: str) -> None:
    assert code_of(validate_name, raw) == code


def test_name_limits_exact() -> None:
    assert validate_name("张" * 20) == "张" * 20
    assert validate_name("A" * 60) == "A" * 60


# -- PRC resident identity card ---------------------------------------------------------------
def test_check_digit_known_values() -> None:
    assert prc_id_check_digit("34052419800101001") == "X"  # the example number of GB 11643
    assert prc_id_check_digit("11010519491231002") == "X"
    assert prc_id_check_digit("11010119900307025") == "7"
    assert code_of(prc_id_check_digit, "1234") == "id_format"


def test_valid_id_with_x_check_digit() -> None:
    prc = validate_prc_id("34052419800101001X", today=TODAY)
    assert prc.number == "34052419800101001X"
    assert prc.check_digit == "X"
    assert prc.birth_date == date(1980, 1, 1)
    assert prc.sex == "M"  # 17th digit 1 is odd
    assert prc.region_code == "340524"
    assert prc.province_code == "34"
    assert prc.region_name("en") == "Anhui"
    assert prc.region_name("zh_CN") == "安徽省"
    assert not prc.is_residence_permit
    assert prc.age_on(date(2026, 1, 1)) == 46
    assert prc.age_on(date(2025, 12, 31)) == 45


def test_lowercase_x_spaces_and_fullwidth_are_normalised() -> None:
    assert validate_prc_id(" 340524 19800101 001x ", today=TODAY).number == "34052419800101001X"
    assert validate_prc_id("３４０５２４１９８００１０１００１ｘ", today=TODAY).number == "34052419800101001X"


def test_sex_from_order_code() -> None:
    female = make_prc_id("440305", date(1995, 6, 15), 7, "F")
    male = make_prc_id("440305", date(1995, 6, 15), 7, "M")
    assert validate_prc_id(female, today=TODAY).sex == "F"
    assert validate_prc_id(male, today=TODAY).sex == "M"


@pytest.mark.parametrize(("region", "holder"), [("810000", "HK"), ("820000", "MO"), ("830000", "TW")])
def test_residence_permits_for_hk_macao_taiwan_residents(region: str, holder: str) -> None:
    number = make_prc_id(region, date(1988, 8, 8), 3, "F")
    prc = validate_prc_id(number, today=TODAY)
    assert prc.is_residence_permit
    doc = validate_document(DocumentType.PRC_ID, number, today=TODAY)
    assert doc.holder_region == holder


@pytest.mark.parametrize(
    "region",
    [
        "990101",  # no such province
        "000000",
        "710101",  # Taiwan's code never begins an ID number
        "810100",  # HK only as 810000
        "830001",
        "840000",
        "110001",  # prefecture 00
        "118001",  # prefecture 80
        "169001",  # 16 is not a province
    ],
)
def test_wrong_region(region: str) -> None:
    number = make_prc_id(region, date(1990, 1, 1), 1, "M")
    assert code_of(validate_prc_id, number, today=TODAY) == "id_region"


def test_directly_administered_prefecture_90_is_valid() -> None:
    number = make_prc_id("429004", date(1990, 1, 1), 1, "M")  # 仙桃: 省直辖县级行政区划
    assert validate_prc_id(number, today=TODAY).region_code == "429004"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("", "id_empty"),
        ("34052419800101001", "id_length"),
        ("34052419800101001XX", "id_length"),
        ("340524800101001", "id_length"),  # first-generation 15 digits
        ("34052419800101001A", "id_format"),
        ("3405241980010100X1", "id_format"),
        ("340524198001010011", "id_check_digit"),
        ("340524198001010012", "id_check_digit"),
    ],
)
def test_malformed_ids(number: str, code: str) -> None:
    assert code_of(validate_prc_id, number, today=TODAY) == code


def test_fifteen_digit_numbers_get_their_own_message() -> None:
    with pytest.raises(ValidationError) as info:
        validate_prc_id("340524800101001", today=TODAY)
    assert "15" in str(info.value)


def test_birth_dates() -> None:
    feb30 = make_prc_id("110101", date(2000, 2, 1), 1, "M")
    feb30 = feb30[:12] + "30" + feb30[14:17]
    feb30 += prc_id_check_digit(feb30)
    assert code_of(validate_prc_id, feb30, today=TODAY) == "id_birth_date"

    feb29_1999 = "11010119990229001"
    assert code_of(validate_prc_id, feb29_1999 + prc_id_check_digit(feb29_1999), today=TODAY) == "id_birth_date"
    assert validate_prc_id(make_prc_id("110101", date(2000, 2, 29), 1, "M"), today=TODAY).birth_date == date(2000, 2, 29)

    pre_1900 = make_prc_id("110101", date(1899, 12, 31), 1, "M")
    assert code_of(validate_prc_id, pre_1900, today=TODAY) == "id_birth_date"
    assert validate_prc_id(make_prc_id("110101", date(1900, 1, 1), 1, "M"), today=TODAY)

    future = make_prc_id("110101", TODAY + timedelta(days=1), 1, "M")
    assert code_of(validate_prc_id, future, today=TODAY) == "id_future_birth"
    assert validate_prc_id(make_prc_id("110101", TODAY, 1, "M"), today=TODAY).birth_date == TODAY


def test_expiry() -> None:
    number = "34052419800101001X"
    assert code_of(validate_prc_id, number, today=TODAY, expiry=TODAY - timedelta(days=1)) == "id_expired"
    assert validate_prc_id(number, today=TODAY, expiry=TODAY).number == number
    assert validate_prc_id(number, today=TODAY, expiry=None).number == number


def test_make_prc_id_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_prc_id("11010", date(1990, 1, 1), 1, "M")
    with pytest.raises(ValueError):
        make_prc_id("110101", date(1990, 1, 1), 500, "M")
    with pytest.raises(ValueError):
        make_prc_id("110101", date(1990, 1, 1), 1, "X")


valid_regions = st.one_of(
    st.builds(
        lambda p, pref, county: f"{p}{pref:02d}{county:02d}",
        st.sampled_from(sorted(MAINLAND_PROVINCES)),
        st.one_of(st.integers(1, 70), st.just(90)),
        st.integers(0, 99),
    ),
    st.sampled_from(["810000", "820000", "830000"]),
)


@given(
    region=valid_regions,
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    seq=st.integers(0, 499),
    sex=st.sampled_from(["M", "F"]),
)
def test_make_prc_id_round_trips(region: str, birth: date, seq: int, sex: str) -> None:
    number = make_prc_id(region, birth, seq, sex)
    prc = validate_prc_id(number.lower(), today=TODAY)
    assert (prc.number, prc.region_code, prc.birth_date, prc.sex) == (number, region, birth, sex)


@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    seq=st.integers(0, 499),
    position=st.integers(0, 16),
    delta=st.integers(1, 9),
)
def test_any_single_digit_error_is_caught(birth: date, seq: int, position: int, delta: int) -> None:
    number = make_prc_id("320102", birth, seq, "F")
    wrong = str((int(number[position]) + delta) % 10)
    typo = number[:position] + wrong + number[position + 1 :]
    with pytest.raises(ValidationError):
        validate_prc_id(typo, today=TODAY)


# -- other documents --------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["E12345678", "ea1234567", "EZ1234567", "G12345678", " E 1234 5678 "])
def test_chinese_passports(number: str) -> None:
    assert validate_passport(number) == "".join(number.split()).upper()


@pytest.mark.parametrize("number", ["E1234567", "E123456789", "EI1234567", "EO1234567", "A12345678", "P1234567", ""])
def test_bad_chinese_passports(number: str) -> None:
    assert code_of(validate_passport, number) in {"passport_format", "passport_empty"}


@pytest.mark.parametrize(("country", "number"), [("USA", "123456789"), ("gbr", "x1234"), ("JPN", "TK1234567")])
def test_foreign_passports(country: str, number: str) -> None:
    assert validate_passport(number, country) == number.upper()


@pytest.mark.parametrize(("country", "number", "code"), [
    ("USA", "ABCDE", "passport_format"),
    ("USA", "1234", "passport_format"),
    ("USA", "1234567890", "passport_format"),
    ("USA", "12345#78", "passport_format"),
    ("US", "123456789", "passport_country"),
    ("U2A", "123456789", "passport_country"),
])
def test_bad_foreign_passports(country: str, number: str, code: str) -> None:
    assert code_of(validate_passport, number, country) == code


def test_hk_macau_permits() -> None:
    assert validate_hk_macau_permit("h12345678") == "H12345678"
    assert validate_hk_macau_permit("M12345678") == "M12345678"
    assert validate_hk_macau_permit("H1234567801") == "H1234567801"  # older booklet with issue count
    for bad in ("H1234567", "H123456789", "K12345678", "12345678", "H12345678901"):
        assert code_of(validate_hk_macau_permit, bad) == "permit_format"


def test_taiwan_permits() -> None:
    assert validate_taiwan_permit("12345678") == "12345678"
    assert validate_taiwan_permit("1234567801") == "1234567801"
    assert validate_taiwan_permit("12345678b1") == "12345678B1"
    for bad in ("1234567", "123456789", "ABCDEFGH", "A234567801", "12345678901"):
        assert code_of(validate_taiwan_permit, bad) == "permit_format"


def test_validate_document_dispatch() -> None:
    doc = validate_document(DocumentType.PRC_ID, "34052419800101001x", today=TODAY, expiry=date(2030, 1, 1))
    assert doc.doc_type is DocumentType.PRC_ID and doc.number == "34052419800101001X"
    assert doc.country == "CHN" and doc.holder_region is None
    assert doc.birth_date == date(1980, 1, 1) and doc.sex == "M"
    assert doc.masked == "340524********001X"

    passport = validate_document("passport", "1234-56789", today=TODAY, country="usa")
    assert (passport.doc_type, passport.number, passport.country) == (DocumentType.PASSPORT, "123456789", "USA")
    assert passport.prc is None and passport.birth_date is None

    hk = validate_document(DocumentType.HK_MACAU_PERMIT, "M12345678", today=TODAY)
    assert hk.holder_region == "MO"
    tw = validate_document(DocumentType.TAIWAN_PERMIT, "12345678", today=TODAY)
    assert tw.holder_region == "TW"
    assert DocumentType.PASSPORT.label == "Passport"


def test_validate_document_refusals() -> None:
    assert code_of(validate_document, "driving_licence", "123", today=TODAY) == "document_type"
    expired = TODAY - timedelta(days=1)
    for kind, number in [
        (DocumentType.PRC_ID, "34052419800101001X"),
        (DocumentType.PASSPORT, "E12345678"),
        (DocumentType.HK_MACAU_PERMIT, "H12345678"),
        (DocumentType.TAIWAN_PERMIT, "12345678"),
    ]:
        assert code_of(validate_document, kind, number, today=TODAY, expiry=expired) == "id_expired"
        assert validate_document(kind, number, today=TODAY, expiry=TODAY).expiry == TODAY


def test_mask_document_number() -> None:
    assert mask_document_number("34052419800101001X") == "340524********001X"
    assert mask_document_number("E12345678", DocumentType.PASSPORT) == "E******78"
    assert mask_document_number("1234", DocumentType.PASSPORT) == "****"


# -- phones -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("138 0013 8000", "13800138000"),
        ("+86 13800138000", "13800138000"),
        ("+86-138-0013-8000", "13800138000"),
        ("13800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("+852 9123 4567", "+85291234567"),
    ],
)
def test_valid_mobiles(raw: str, expected: str) -> None:
    assert validate_mobile(raw) == expected


def test_region_sets_the_default_country() -> None:
    assert validate_mobile("9123 4567", region="HK") == "+85291234567"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "phone_empty"),
        ("010 6552 9988", "phone_not_mobile"),  # Beijing landline
        ("12345", "phone_invalid"),
        ("abc", "phone_invalid"),
        ("1380013800", "phone_invalid"),
        ("138\x1b0013 8000", "control_chars"),
    ],
)
def test_invalid_mobiles(raw: str, code: str) -> None:
    assert code_of(validate_mobile, raw) == code


def test_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+85291234567") == "+852****4567"
    assert mask_phone("12345") == "***45"
    assert mask_name("张三明") == "张*明"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_name("阿依古丽·买买提") == "阿***·**提"
    assert mask_name("John Smith") == "J*** S****"
    assert mask_name("Mary-Jane O'Neil") == "M***-J*** O'****"
    assert mask_name("") == ""
    assert mask_card("6222021234567891234") == "6222 **** **** 1234"
    assert mask_card("6222 0212 3456 7890") == "6222 **** **** 7890"


# -- Luhn, cards, accounts --------------------------------------------------------------------
def test_luhn_known_values() -> None:
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")
    assert not luhn_ok("")
    assert not luhn_ok("7")
    assert not luhn_ok("7992739871a")
    assert not luhn_ok("７９９２７３９８７１３")


@given(st.text(alphabet="0123456789", min_size=1, max_size=24), st.data())
def test_luhn_round_trip_and_single_digit_errors(payload: str, data: st.DataObject) -> None:
    number = payload + luhn_check_digit(payload)
    assert luhn_ok(number)
    pos = data.draw(st.integers(0, len(number) - 1))
    delta = data.draw(st.integers(1, 9))
    typo = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    assert not luhn_ok(typo)


def test_bank_card_known_bin() -> None:
    number = card("622202", 19)
    bc = validate_bank_card(" ".join(number[i : i + 4] for i in range(0, 19, 4)))
    assert bc.number == number
    assert bc.bank_code == "ICBC"
    assert bc.bin_prefix == "622202"
    assert bc.masked == f"6222 **** **** {number[-4:]}"
    assert validate_bank_card(card("621700", 19)).bank.name("zh_CN") == "中国建设银行"
    assert validate_bank_card(card("622588", 16)).bank_code == "CMB"
    assert validate_bank_card(card("955880", 19)).bank_code == "ICBC"  # the 4-digit 9558 prefix


def test_bank_card_unknown_bin_is_allowed() -> None:
    bc = validate_bank_card(card("400000", 16))
    assert bc.bank_code == "unknown"
    assert bc.bin_prefix is None


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("", "card_empty"),
        ("6222 0212 3456 789a", "card_format"),
        ("622202123456789", "card_length"),
        ("62220212345678901234", "card_length"),
    ],
)
def test_bad_bank_cards(number: str, code: str) -> None:
    assert code_of(validate_bank_card, number) == code


def test_bank_card_check_digit() -> None:
    good = card("622848", 19)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert code_of(validate_bank_card, bad) == "card_check"


def test_bank_accounts() -> None:
    assert validate_bank_account("1100 1234 5678-90") == "110012345678" + "90"
    assert validate_bank_account("1" * 25) == "1" * 25
    assert code_of(validate_bank_account, "123456789") == "account_length"
    assert code_of(validate_bank_account, "1" * 26) == "account_length"
    assert code_of(validate_bank_account, "12345678901X") == "account_format"
    assert code_of(validate_bank_account, "") == "account_empty"


# -- PIN --------------------------------------------------------------------------------------
@pytest.mark.parametrize("pin", ["135792", "204863", "918273", "100200"])
def test_good_pins(pin: str) -> None:
    assert validate_pin(pin, birth_date=date(1990, 3, 7), phone="13812345678") == pin


@pytest.mark.parametrize(
    ("pin", "code"),
    [
        ("12345", "pin_format"),
        ("1234567", "pin_format"),
        ("12a456", "pin_format"),
        ("１３５７９２", "pin_format"),
        (" 135792", "pin_format"),
        ("000000", "pin_same"),
        ("888888", "pin_same"),
        ("123456", "pin_sequence"),
        ("012345", "pin_sequence"),
        ("456789", "pin_sequence"),
        ("654321", "pin_sequence"),
        ("543210", "pin_sequence"),
        ("121212", "pin_repeat"),
        ("909090", "pin_repeat"),
        ("123123", "pin_repeat"),
        ("907907", "pin_repeat"),
        ("900307", "pin_birth"),  # YYMMDD
        ("030790", "pin_birth"),  # MMDDYY
        ("070390", "pin_birth"),  # DDMMYY
        ("345678", "pin_sequence"),
        ("245678", "pin_phone"),
    ],
)
def test_weak_pins(pin: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_pin(pin, birth_date=date(1990, 3, 7), phone="+86 138 1224 5678")
    assert info.value.code == code
    assert pin not in str(info.value)


def test_pin_birth_and_phone_rules_need_their_inputs() -> None:
    assert validate_pin("900307") == "900307"
    assert validate_pin("245678", phone=None) == "245678"


def test_pin_must_be_text() -> None:
    assert code_of(validate_pin, 135792) == "pin_format"  # type: ignore[arg-type]


# -- wallet numbers ---------------------------------------------------------------------------
def test_wallet_numbers() -> None:
    w = make_wallet_number(17)
    assert len(w) == 16 and w.startswith("8600") and luhn_ok(w)
    assert validate_wallet_number(format_wallet_number(w)) == w
    assert format_wallet_number(w) == f"{w[:4]} {w[4:8]} {w[8:12]} {w[12:]}"
    bad = w[:-1] + str((int(w[-1]) + 1) % 10)
    assert code_of(validate_wallet_number, bad) == "wallet_number_check"
    other_prefix = "1234" + w[4:15]
    assert code_of(validate_wallet_number, other_prefix + luhn_check_digit(other_prefix)) == "wallet_number_format"
    assert code_of(validate_wallet_number, w[:-1]) == "wallet_number_format"
    with pytest.raises(ValueError):
        make_wallet_number(-1)
    with pytest.raises(ValueError):
        make_wallet_number(10**11)


@given(st.integers(0, 10**11 - 1))
def test_wallet_number_round_trip(seq: int) -> None:
    w = make_wallet_number(seq)
    assert validate_wallet_number(w) == w
    assert int(w[4:15]) == seq
