"""Receipts: both widths, both languages, CJK alignment, sanitised text, saving, reprint."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from desk_fixtures import desk  # noqa: F401
from teller_tui.common.formatting import display_width
from teller_tui.common.money import Money
from teller_tui.common.masks import mask_wallet
from teller_tui.common.files import save_private_text as save_receipt
from teller_tui.common.text import clean_text
from teller_tui.desk.receipts import ReceiptData, render_receipt


def _data(**kw) -> ReceiptData:  # type: ignore[no-untyped-def]
    base = dict(kind="transfer", reference="R20261123-000000042", posted_at=datetime(2026, 11, 23, 2, 5, tzinfo=UTC),
                business_date=date(2026, 11, 23), branch_code="B001", terminal_id="T01", teller="teller1",
                customer_name="欧*建国", wallet_number=mask_wallet("8600000000000015"),
                amount=Money.of("12345.67"), new_balance=Money.of("100000.00"),
                memo="房租 rent for November, a rather long memo that has to wrap on the narrow roll",
                counterparty_name="李*", counterparty_wallet="8600****0023")
    base.update(kw)
    return ReceiptData(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("width", [80, 48, 42, 32])
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_line_fits_and_content_present(width: int, locale: str) -> None:
    text = render_receipt(_data(), width=width, locale=locale)
    lines = text.splitlines()
    assert all(display_width(line) <= width for line in lines), [line for line in lines
                                                                 if display_width(line) > width]
    assert "R20261123-000000042" in text and "8600****0015" in text and "teller1" in text
    assert "0000000000000015" not in text
    if locale == "zh_CN":
        assert "壹万贰仟叁佰肆拾伍元陆角柒分" in text.replace("\n", "").replace(" ", "")
        assert "客户签名" in text
    else:
        assert "twelve thousand" in text and "signature" in text
    assert text.endswith("\n")


def test_values_line_up_in_a_column_with_cjk_labels() -> None:
    text = render_receipt(_data(), width=80, locale="zh_CN")
    starts: set[int] = set()
    for line in text.splitlines():
        for label in ("网点", "终端", "柜员", "流水号", "金额"):
            if line.startswith(label + " "):
                starts.add(display_width(line) - display_width(line[len(label):].lstrip(" ")))
    assert len(starts) == 1


def test_control_characters_and_markup_are_printed_as_text() -> None:
    text = render_receipt(_data(memo="[bold]hi[/bold]\x1b[2J\x07 there\r\nnext", customer_name="王\x00*"),
                          width=80, locale="en")
    assert "\x1b" not in text and "\x07" not in text and "\x00" not in text and "\r" not in text
    assert "[bold]hi[/bold] there next" in text  # markup kept; the escape sequence goes whole
    assert clean_text("a\u202eb\tc") == "ab c"


def test_save_receipt_private_dir(tmp_path: Path) -> None:
    d = tmp_path / "receipts"
    p = save_receipt(d, "R20261123-000000042", "x\n")
    assert p.read_text() == "x\n" and p.name == "R20261123-000000042.txt"
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    with pytest.raises(ValueError):
        save_receipt(d, "../evil", "x")
    for bad in ("R1\n", ".hidden", "R1/../x", ""):  # a final line break too ("$" would have let it by)
        with pytest.raises(ValueError):
            save_receipt(d, bad, "x")
    assert sorted(f.name for f in d.iterdir()) == ["R20261123-000000042.txt"]
    with pytest.raises(ValueError):
        render_receipt(_data(), width=40)


def test_reprint(desk) -> None:  # type: ignore[no-untyped-def]
    from teller_tui.desk.cash_types import new_idempotency_key

    wid = desk.wallet(desk.customer("欧阳建国", latin="ouyang jianguo"), 1)
    r = desk.cash.cash_in(desk.teller, wid, Money.of("88.80"), "生日", idempotency_key=new_idempotency_key())
    zh = desk.cash.receipt_for(r.reference, width=32, locale="zh_CN")
    en = desk.cash.receipt_for(r.reference, width=80, locale="en")
    assert "重印" in zh and "REPRINT" in en
    assert r.reference in zh and "欧**国" in zh and "捌拾捌元捌角" in zh.replace("\n", "").replace(" ", "")
    assert all(display_width(line) <= 32 for line in zh.splitlines())
    assert "eighty-eight yuan" in en

