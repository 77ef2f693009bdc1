"""Wallet tiers: the shipped table, effective dating, evidence, malformed files."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from teller_tui.common.errors import NotFound, ValidationError
from teller_tui.common.money import Money
from teller_tui.common.paths import data_file
from teller_tui.common.reference import ReferenceDataError
from teller_tui.wallets.classes import (
    ALL_EVIDENCE,
    EVIDENCE_ID_IN_PERSON,
    EVIDENCE_MOBILE,
    EVIDENCE_OWN_BANK_ACCOUNT,
    EVIDENCE_REAL_NAME,
    TierTable,
    close_evidence,
    default_table,
)

TODAY = date(2026, 11, 23)
SHIPPED = data_file("wallet_tiers.toml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def table() -> TierTable:
    return TierTable.load()


def yuan(text: str) -> Money:
    return Money.of(text)


#: A day under the 2020 set (one pilot bank's figures), before the 2021 classes took over.
DAY_2020_SET = date(2021, 3, 1)


@pytest.mark.parametrize(
    ("number", "cap", "per_txn", "daily", "yearly"),
    [
        (1, "500000", "50000", "100000", "500000"),
        (2, "10000", "5000", "10000", "300000"),
        (3, "2000", "2000", "2000", "50000"),
        (4, "1000", "500", "1000", "10000"),
    ],
)
def test_2020_limits(table: TierTable, number: int, cap: str, per_txn: str, daily: str, yearly: str) -> None:
    tier = table.tier(number, on=DAY_2020_SET)
    assert (tier.balance_cap, tier.per_txn, tier.daily, tier.yearly) == (
        yuan(cap), yuan(per_txn), yuan(daily), yuan(yearly)
    )
    assert tier.balance_cap is not None and tier.balance_cap.currency == "CNY"
    assert tier.effective_from == date(2020, 10, 1)
    assert tier.min_age is None


@pytest.mark.parametrize(
    ("number", "cap", "per_txn", "daily", "yearly"),
    [
        (1, None, "50000", None, None),  # no caps; per payment is the bank's own figure
        (2, "500000", "50000", "100000", "300000"),  # yearly: the bank's own
        (3, "20000", "5000", "5000", "50000"),  # daily and yearly: the bank's own
        (4, "10000", "2000", "5000", "50000"),
    ],
)
def test_current_limits_are_the_2021_classes(table: TierTable, number: int, cap: str | None, per_txn: str,
                                             daily: str | None, yearly: str | None) -> None:
    tier = table.tier(number, on=TODAY)
    want = tuple(None if v is None else yuan(v) for v in (cap, per_txn, daily, yearly))
    assert (tier.balance_cap, tier.per_txn, tier.daily, tier.yearly) == want
    assert tier.effective_from == date(2021, 7, 16)
    assert "bank's own" in tier.source.lower() or "Bank's own" in tier.source
    assert tier.min_age == (None if number == 4 else 16)


def test_unlimited_in_the_file(tmp_path: Path) -> None:
    text = mutate_class(SHIPPED, 2, 'yearly = "300,000"', 'yearly = "Unlimited"')
    assert load_text(tmp_path, text).tier(2, on=DAY_2020_SET).yearly is None
    # Unlimited sits above every amount: per_txn <= daily <= yearly still holds with it.
    bad = mutate_class(SHIPPED, 2, 'daily = "10,000"', 'daily = "unlimited"')
    with pytest.raises(ReferenceDataError, match="per_txn <= daily <= yearly"):
        load_text(tmp_path, bad)
    with pytest.raises(ReferenceDataError, match="unlimited"):
        load_text(tmp_path, mutate_class(SHIPPED, 2, 'yearly = "300,000"', "yearly = 0"))


def test_age_rule(table: TierTable, tmp_path: Path) -> None:
    class3 = table.tier(3, on=TODAY)
    assert class3.admits_age(date(2010, 11, 23), TODAY)  # 16 today
    assert not class3.admits_age(date(2010, 11, 24), TODAY)  # 16 tomorrow
    assert not class3.admits_age(None, TODAY)  # no recorded birth date: no class with an age rule
    assert table.tier(4, on=TODAY).admits_age(None, TODAY)  # class 4 has none
    assert table.tier(3, on=DAY_2020_SET).admits_age(None, DAY_2020_SET)  # nor did the 2020 set
    with pytest.raises(ReferenceDataError, match="min_age"):
        load_text(tmp_path, SHIPPED.replace("min_age = 16", "min_age = -1", 1))


def test_unlimited_limits_are_never_checked(table: TierTable) -> None:
    from teller_tui.common.formatting import format_limit
    from teller_tui.wallets.limits import check_money_in

    check_money_in(table, tier=1, balance_after=yuan("99999999"), on=TODAY)
    assert format_limit(table.tier(1, on=TODAY).balance_cap) == "no limit"
    assert format_limit(yuan("5")) == "CN¥5.00"


def test_tier_metadata(table: TierTable) -> None:
    tiers = table.tiers(TODAY)
    assert [t.number for t in tiers] == [1, 2, 3, 4]
    assert [t.max_per_person for t in tiers] == [1, 1, 1, None]
    assert tiers[0].name("zh_CN") == "一类钱包"
    assert tiers[3].name("en") == "Class 4 wallet"
    assert tiers[0].evidence == {EVIDENCE_ID_IN_PERSON, EVIDENCE_OWN_BANK_ACCOUNT, EVIDENCE_MOBILE}
    assert tiers[1].evidence == {EVIDENCE_REAL_NAME, EVIDENCE_OWN_BANK_ACCOUNT, EVIDENCE_MOBILE}
    assert tiers[3].evidence == {EVIDENCE_MOBILE}
    assert tiers[0].source


def test_effective_date_switching(table: TierTable) -> None:
    assert table.effective_dates() == [date(2019, 12, 1), date(2020, 10, 1), date(2021, 7, 16)]
    assert table.tier(1, on=date(2020, 9, 30)).balance_cap == yuan("200000")
    assert table.tier(1, on=date(2020, 10, 1)).balance_cap == yuan("500000")
    assert table.tier(4, on=date(2019, 12, 1)).per_txn == yuan("200")
    assert "Illustrative" in table.tier(4, on=date(2019, 12, 1)).source
    with pytest.raises(NotFound) as info:
        table.tier(1, on=date(2019, 11, 30))
    assert info.value.code == "tier_no_limits"


def test_unknown_tier(table: TierTable) -> None:
    with pytest.raises(NotFound) as info:
        table.tier(5, on=TODAY)
    assert info.value.code == "tier_unknown"


@pytest.mark.parametrize(
    ("evidence", "classes"),
    [
        (set(), []),
        ({EVIDENCE_MOBILE}, [4]),
        ({EVIDENCE_REAL_NAME}, []),
        ({EVIDENCE_REAL_NAME, EVIDENCE_MOBILE}, [3, 4]),
        ({EVIDENCE_REAL_NAME, EVIDENCE_OWN_BANK_ACCOUNT, EVIDENCE_MOBILE}, [2, 3, 4]),
        ({EVIDENCE_ID_IN_PERSON, EVIDENCE_MOBILE}, [3, 4]),  # in person implies real name; class 1 needs
        ({EVIDENCE_ID_IN_PERSON, EVIDENCE_OWN_BANK_ACCOUNT, EVIDENCE_MOBILE}, [1, 2, 3, 4]),  # own account
        (set(ALL_EVIDENCE), [1, 2, 3, 4]),
    ],
)
def test_eligible_tiers(table: TierTable, evidence: set[str], classes: list[int]) -> None:
    assert [t.number for t in table.eligible_tiers(evidence, on=TODAY)] == classes
    for t in table.tiers(TODAY):
        assert t.allows(evidence) is (t.number in classes)


def test_evidence_closure_and_unknown_evidence(table: TierTable) -> None:
    assert close_evidence([EVIDENCE_ID_IN_PERSON]) == {EVIDENCE_ID_IN_PERSON, EVIDENCE_REAL_NAME}
    with pytest.raises(ValidationError) as info:
        table.eligible_tiers({"selfie"}, on=TODAY)
    assert info.value.code == "evidence_unknown"


def test_default_table_is_cached() -> None:
    assert default_table() is default_table()


# -- malformed files ---------------------------------------------------------------------------
def load_text(tmp_path: Path, text: str) -> TierTable:
    path = tmp_path / "tiers.toml"
    path.write_text(text, encoding="utf-8")
    return TierTable.load(path)


def second_set(text: str) -> tuple[str, str]:
    """Split the shipped file before the 2020 set, so a mutation can target only that set."""
    head, _sep, tail = text.partition("effective_from = 2020-10-01")
    return head, "effective_from = 2020-10-01" + tail


def mutate_class(text: str, number: int, old: str, new: str) -> str:
    head, tail = second_set(text)
    pattern = re.compile(rf"(class = {number}\n(?:.*\n)*?.*?){re.escape(old)}")
    changed, n = pattern.subn(lambda m: m.group(1) + new, tail, count=1)
    assert n == 1, (number, old)
    return head + changed


def mutate_second(text: str, old: str, new: str) -> str:
    head, tail = second_set(text)
    assert old in tail
    return head + tail.replace(old, new, 1)


def test_shipped_text_round_trips(tmp_path: Path) -> None:
    assert load_text(tmp_path, SHIPPED).tiers(TODAY) == TierTable.load().tiers(TODAY)


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda t: t + "\n[[[", "not valid TOML"),
        (lambda t: "# nothing\n", "at least one limit set"),
        (lambda t: mutate_class(t, 2, 'balance_cap = "10,000"', "balance_cap = 10000.0"), "class 2"),
        (lambda t: mutate_class(t, 2, 'balance_cap = "10,000"', 'balance_cap = "10,000.001"'), "balance_cap"),
        (lambda t: mutate_class(t, 3, 'balance_cap = "2,000"', 'balance_cap = "-2,000"'), "class 3"),
        (lambda t: mutate_class(t, 4, 'daily = "1,000"', 'daily = "100"'), "per_txn <= daily <= yearly"),
        (lambda t: mutate_class(t, 4, 'balance_cap = "1,000"', 'balance_cap = "100"'), "balance_cap"),
        (lambda t: mutate_class(t, 2, '"own_bank_account"', '"own_bank_acount"'), "own_bank_acount"),
        (lambda t: mutate_class(t, 1, "max_per_person = 1", "max_per_person = -1"), "max_per_person"),
        (lambda t: mutate_class(t, 1, "max_per_person = 1", 'max_per_person = "one"'), "max_per_person"),
        (lambda t: mutate_class(t, 1, 'name_zh = "一类钱包"', 'name_zh = ""'), "name_zh"),
        (lambda t: mutate_second(t, "class = 4", "class = 3"), "class 3"),
        (lambda t: mutate_second(t, "class = 4", "class = 5"), "class must be"),
        (lambda t: t.replace("effective_from = 2019-12-01", "effective_from = 2020-10-01"), "same day"),
        (lambda t: t.replace("effective_from = 2019-12-01", 'effective_from = "2019-12-01"'), "effective_from"),
        (lambda t: t.replace("effective_from = 2019-12-01", "effective_from = 2019-12-01T00:00:00"),
         "effective_from"),
        (lambda t: t.replace('currency = "CNY"', 'currency = "XYZ"', 1), "XYZ"),
    ],
)
def test_malformed_files_name_the_bad_entry(tmp_path: Path, mutate, fragment: str) -> None:
    with pytest.raises(ReferenceDataError) as info:
        load_text(tmp_path, mutate(SHIPPED))
    assert fragment in str(info.value)
    assert "tiers.toml" in str(info.value)


def test_missing_class_is_named(tmp_path: Path) -> None:
    head, tail = second_set(SHIPPED)
    tail = tail[: tail.index("  [[limit_set.tier]]\n  class = 4")]
    with pytest.raises(ReferenceDataError) as info:
        load_text(tmp_path, head + tail)
    assert "limit set 2020-10-01" in str(info.value)
    assert "classes missing: 4" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError) as info:
        TierTable.load(tmp_path / "nope.toml")
    assert "not found" in str(info.value)


def test_from_dict_with_a_newer_set() -> None:
    base = [
        {"class": n, "name_zh": f"{n}类", "name_en": f"Class {n}", "evidence": ["mobile"],
         "max_per_person": 0, "balance_cap": "100", "per_txn": "10", "daily": "20", "yearly": "30"}
        for n in (1, 2, 3, 4)
    ]
    newer = [dict(t, balance_cap="200") for t in base]
    table = TierTable.from_dict({"limit_set": [
        {"effective_from": date(2030, 1, 1), "tier": newer},
        {"effective_from": date(2025, 1, 1), "tier": base},
    ]})
    assert table.tier(1, on=date(2029, 12, 31)).balance_cap == yuan("100")
    assert table.tier(1, on=date(2030, 1, 1)).balance_cap == yuan("200")
    assert table.tier(1, on=date(2030, 1, 1)).max_per_person is None
