"""Reference data: denominations and cash counts, the BIN table, regions."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teller_tui.common.errors import ValidationError
from teller_tui.wallets.identity import MAINLAND_PROVINCES, RESIDENCE_PERMIT_REGIONS
from teller_tui.common.money import Money
from teller_tui.common.reference import (
    MAINLAND_KINDS,
    BankTable,
    DenominationTable,
    ReferenceDataError,
    bank_for_card,
    count_total,
    denominations,
    load_regions,
    make_change,
    region_for_code,
)

KEYS = ["note:100", "note:50", "note:20", "note:10", "note:5", "note:1", "coin:1", "coin:0.5", "coin:0.1"]


# -- denominations ----------------------------------------------------------------------------
def test_cny_denominations_largest_first() -> None:
    denoms = denominations("CNY")
    assert [d.key for d in denoms] == KEYS
    assert denoms[0].value == Money.of("100") and denoms[0].kind == "note"
    assert denoms[-2].value == Money(50, "CNY") and denoms[-2].kind == "coin"
    assert denoms[0].label_for("zh_CN") == "100元纸币"
    assert denoms[-1].label_for("en") == "1 jiao coin"


def test_unknown_currency() -> None:
    with pytest.raises(ValidationError) as info:
        denominations("JPY")
    assert info.value.code == "denomination_currency"


def test_count_total() -> None:
    assert count_total({}) == Money.zero()
    assert count_total({"note:100": 3, "coin:0.5": 2, "coin:0.1": 7}) == Money.of("301.70")
    assert count_total({"note:1": 2, "coin:1": 3}) == Money.of("5")
    assert count_total({"note:50": 0}) == Money.zero()


@pytest.mark.parametrize(
    ("counts", "code"),
    [
        ({"note:100": -1}, "denomination_negative"),
        ({"note:200": 1}, "denomination_unknown"),
        ({"coin:0.50": 1}, "denomination_unknown"),  # keys are written without trailing zeros
        ({"note:100": 1.0}, "denomination_count"),
        ({"note:100": True}, "denomination_count"),
        ({"note:100": "2"}, "denomination_count"),
    ],
)
def test_count_total_refusals(counts: dict, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        count_total(counts)
    assert info.value.code == code


counts_strategy = st.dictionaries(st.sampled_from(KEYS), st.integers(0, 10_000))


@given(counts_strategy, counts_strategy)
def test_count_total_is_additive(a: dict[str, int], b: dict[str, int]) -> None:
    merged = {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}
    assert count_total(merged) == count_total(a) + count_total(b)


@given(st.integers(0, 10_000_000).map(lambda jiao: Money(jiao * 10, "CNY")))
def test_make_change_unlimited(amount: Money) -> None:
    pieces = make_change(amount)
    assert count_total(pieces) == amount
    assert all(n > 0 for n in pieces.values())
    assert "note:1" in pieces or "coin:1" not in pieces  # notes before coins of equal value


@given(st.integers(0, 500).map(lambda jiao: Money(jiao * 10, "CNY")), counts_strategy.map(
    lambda c: {k: min(v, 5) for k, v in c.items()}))
def test_make_change_respects_what_is_available(amount: Money, available: dict[str, int]) -> None:
    try:
        pieces = make_change(amount, available)
    except ValidationError as exc:
        assert exc.code == "change_impossible"
        assert count_total(available) != amount  # the whole drawer would have done it otherwise
        return
    assert count_total(pieces) == amount
    assert all(n <= available.get(k, 0) for k, n in pieces.items())


def test_make_change_backtracks() -> None:
    # Greedy would take the 50 and then be stuck; three 20s work.
    assert make_change(Money.of("60"), {"note:50": 1, "note:20": 3}) == {"note:20": 3}


@pytest.mark.parametrize(
    ("amount", "available"),
    [(Money.of("0.05"), None), (Money.of("60"), {"note:50": 1}), (Money.of("1"), {})],
)
def test_make_change_impossible(amount: Money, available: dict[str, int] | None) -> None:
    with pytest.raises(ValidationError) as info:
        make_change(amount, available)
    assert info.value.code == "change_impossible"


def test_make_change_refuses_negative_amounts_and_counts() -> None:
    with pytest.raises(ValidationError):
        make_change(Money.of("-1"))
    with pytest.raises(ValidationError):
        make_change(Money.of("1"), {"coin:1": -1})


def den_table(items: list[dict]) -> DenominationTable:
    return DenominationTable.from_dict({"currency": [{"code": "CNY", "denomination": items}]}, origin="d.toml")


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        ([{"kind": "bill", "value": "1", "label": "x"}], "kind"),
        ([{"kind": "note", "value": 1.5, "label": "x"}], "quoted"),
        ([{"kind": "note", "value": "1.555", "label": "x"}], "decimal places"),
        ([{"kind": "note", "value": "0", "label": "x"}], "more than zero"),
        ([{"kind": "note", "value": "1", "label": ""}], "label"),
        ([{"kind": "note", "value": "1", "label": "a"}, {"kind": "note", "value": "1.00", "label": "b"}], "note:1"),
        ([], "at least one"),
    ],
)
def test_malformed_denominations(items: list[dict], fragment: str) -> None:
    with pytest.raises(ReferenceDataError) as info:
        den_table(items)
    assert fragment in str(info.value)
    assert "d.toml: currency CNY" in str(info.value)


def test_custom_denomination_table() -> None:
    table = DenominationTable.from_dict({"currency": [
        {"code": "HKD", "denomination": [
            {"kind": "note", "value": "20", "label": "HK$20"},
            {"kind": "coin", "value": "0.1", "label": "10 cents"},
        ]},
    ]})
    assert count_total({"note:20": 2, "coin:0.1": 3}, "HKD", table=table) == Money.of("40.30", "HKD")


# -- banks ------------------------------------------------------------------------------------
def test_shipped_bin_table() -> None:
    table = BankTable.load()
    assert len(table.prefixes) >= 40
    codes = {b.code for b in table.banks()}
    assert {"ICBC", "CCB", "ABC", "BOC", "BOCOM", "CMB", "PSBC"} <= codes
    assert table.prefixes["622202"].code == "ICBC"
    assert table.prefixes["621700"].code == "CCB"
    assert table.prefixes["622848"].code == "ABC"
    assert table.prefixes["621661"].code == "BOC"
    assert table.prefixes["622260"].code == "BOCOM"
    assert table.prefixes["622588"].code == "CMB"


def test_longest_prefix_wins(tmp_path: Path) -> None:
    path = tmp_path / "banks.csv"
    path.write_text("prefix,bank_code,name_zh,name_en\n622,AAA,甲,A\n622202,BBB,乙,B\n", encoding="utf-8")
    table = BankTable.load(path)
    assert table.lookup("6222021234567890") == ("622202", table.prefixes["622202"])
    assert table.lookup("6229991234567890")[0] == "622"
    assert table.lookup("4000001234567890") is None
    assert bank_for_card("6222021234567890")[1].code == "ICBC"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("62,AAA,甲,A\n", "3 to 9 digits"),
        ("62a202,AAA,甲,A\n", "3 to 9 digits"),
        ("622202,AAA,甲,A\n622202,AAA,甲,A\n", "listed twice"),
        ("622202,AAA,甲,A\n622203,AAA,丙,A\n", "named differently"),
        ("622202,,甲,A\n", "required"),
    ],
)
def test_malformed_bin_table(tmp_path: Path, body: str, fragment: str) -> None:
    path = tmp_path / "banks.csv"
    path.write_text("prefix,bank_code,name_zh,name_en\n" + body, encoding="utf-8")
    with pytest.raises(ReferenceDataError) as info:
        BankTable.load(path)
    assert fragment in str(info.value)
    assert "line" in str(info.value)


def test_bin_table_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "banks.csv"
    path.write_text("prefix,bank\n622202,ICBC\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError):
        BankTable.load(path)


# -- regions ----------------------------------------------------------------------------------
def test_regions_agree_with_the_id_rules() -> None:
    regions = load_regions()
    mainland = {code for code, r in regions.items() if r.kind in MAINLAND_KINDS}
    assert mainland == MAINLAND_PROVINCES
    assert {code[:2] for code in RESIDENCE_PERMIT_REGIONS} <= set(regions)
    assert regions["11"].name("zh_CN") == "北京市"
    assert regions["44"].name("en") == "Guangdong"
    assert region_for_code("440305").name_en == "Guangdong"
    assert region_for_code("99") is None


@pytest.mark.parametrize(
    ("row", "fragment"),
    [("11,北京市,Beijing,city", "unknown kind"), ("1,北京市,Beijing,municipality", "two digits"),
     ("11,,Beijing,municipality", "required")],
)
def test_malformed_regions(tmp_path: Path, row: str, fragment: str) -> None:
    path = tmp_path / "regions.csv"
    path.write_text(f"# comment\ncode,name_zh,name_en,kind\n\n{row}\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError) as info:
        load_regions(path)
    assert "line 4 (" in str(info.value)  # real line numbers, comments and blanks included
    assert fragment in str(info.value)


def test_make_change_refuses_an_amount_no_piece_can_reach() -> None:
    """A stray fen cannot be made from notes and 0.1 coins: refused, not searched for."""
    from teller_tui.common.errors import ValidationError
    from teller_tui.common.money import Money
    from teller_tui.common.reference import make_change

    with pytest.raises(ValidationError) as exc:
        make_change(Money(987_654_321))
    assert exc.value.code == "change_impossible"
    with pytest.raises(ValidationError):
        make_change(Money(1000), {"note:100": 0, "note:50": 0, "coin:0.5": 0, "note:20": 0, "note:10": 0})
