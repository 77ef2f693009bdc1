"""New customers' pinyin and numbers, and the welcome sheet wrapped by display width (never cut)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timezone

import pytest

from teller_tui.common.formatting import display_width
from teller_tui.common.pinyin import compact_pinyin, name_pinyin
from teller_tui.wallets.classes import TierTable
from teller_tui.wallets.onboarding.naming import customer_number, with_pinyin
from teller_tui.wallets.onboarding.welcome import WelcomeSheet, render_welcome, service_contacts, wrap_cells


@pytest.mark.parametrize(("name", "spelled"), [
    ("王芳", "wang fang"), ("欧阳明远", "ouyang mingyuan"), ("曾伟", "zeng wei"), ("吕布", "lv bu"),
    ("张三丰", "zhang sanfeng"), ("John Smith", ""), ("", "")])
def test_name_pinyin(name: str, spelled: str) -> None:
    assert name_pinyin(name) == spelled


def test_compact_pinyin_keeps_latin_letters() -> None:
    assert compact_pinyin("张伟") == "zhangwei" and compact_pinyin("Zhang Wei") == "zhangwei"


def test_pinyin_only_when_the_teller_left_it_empty() -> None:
    assert with_pinyin({"full_name": "赵敏", "name_latin": ""})["name_latin"] == "zhao min"
    assert with_pinyin({"full_name": "赵敏", "name_latin": "chiu man"})["name_latin"] == "chiu man"


def test_pypinyin_is_not_loaded_by_importing_the_core() -> None:
    code = ("import sys, teller_tui.services, teller_tui.wallets.onboarding, teller_tui.risk.watchlist; "
            "print('pypinyin' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_customer_numbers_have_the_demo_format() -> None:
    assert customer_number(123) == "C000000123" and len(customer_number(1)) == 10


def _sheet() -> WelcomeSheet:
    tier = TierTable.load().tier(2, on=date(2025, 1, 1))
    return WelcomeSheet("6200000000000001", "赵*", "C000000101", tier, datetime(2025, 1, 2, 3, 4, tzinfo=timezone.utc),
                        "B001", "**** 3214", "中国工商银行", 88, True, False,
                        ("setup", "top_up", "withdrawal", "security", "help"))


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("width", [80, 40, 32])
def test_welcome_sheet_is_wrapped_never_cut(locale: str, width: int) -> None:
    text = render_welcome(_sheet(), width=width, locale=locale)
    lines = text.splitlines()
    assert max(display_width(line) for line in lines) <= width
    flat = "".join(line.strip() for line in lines).replace(" ", "")
    for label, value in service_contacts(locale):
        assert label.replace(" ", "") in flat and value.replace(" ", "") in flat, (label, value)
    assert "…" not in text


def test_wrap_cells_breaks_at_spaces_and_between_cjk() -> None:
    assert wrap_cells("aaaa bbbb cccc", 9) == ["aaaa bbbb", "cccc"]
    assert wrap_cells("客服热线（24小时）", 10) == ["客服热线（", "24小时）"]
    assert wrap_cells("手机丢失？请立即致电我们冻结钱包。", 32) == ["手机丢失？请立即致电我们冻结钱", "包。"]
