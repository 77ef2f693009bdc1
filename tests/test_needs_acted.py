"""Needs acted on, not only shown: a low-vision (or elderly) customer gets large-print receipts and
welcome sheet (half the columns, printed double size), a recorded language is used for receipts and
the customer's notifications, and a customer who needs assistance is flagged to the kiosk, which
calls a person. A customer with nothing recorded is unchanged (the negative control)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from desk_fixtures import Desk, desk  # noqa: F401
from test_kiosk_core import PIN, K
from teller_tui.cases.crm import Needs
from teller_tui.common.formatting import display_width
from teller_tui.common.i18n import set_locale
from teller_tui.common.money import Money
from teller_tui.common.printing.escpos import decode_escpos, render_escpos
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.models import OutboxMessage
from teller_tui.notify.preferences import LARGE_PRINT_MARKS, is_large_print, locale_for


@pytest.fixture
def k(desk: Desk) -> Iterator[K]:  # noqa: F811
    set_locale("zh_CN")  # the terminal speaks Chinese; the customer may not
    yield K(desk)
    set_locale("en")


def _widest(text: str) -> int:
    return max(display_width(line) for line in text.splitlines())


def test_low_vision_in_english_gets_large_print_in_english(k: K) -> None:
    desk = k.desk
    cid, wid, _n = k.customer("Li Lei", "13811112299")
    _other, owid, _o = k.customer("韩梅", "13833334499")
    desk.services.crm.set_needs(desk.teller, cid, Needs(low_vision=True, preferred_language="en"))

    done = desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=key())
    text = done.receipt_text
    assert is_large_print(text) and LARGE_PRINT_MARKS["en"] in text
    assert "CASH DEPOSIT" in text and "钱包现金存入" not in text  # the customer's language, not the terminal's
    assert _widest(text) <= 40  # 80 columns printed double width
    reprint = desk.cash.receipt_for(done.reference, width=48)
    assert is_large_print(reprint) and _widest(reprint) <= 24 and "REPRINT" in reprint
    # On an ESC/POS roll the job doubles the character size; no line is wider than half the roll.
    job = decode_escpos(render_escpos(reprint, columns=48, large=True))
    assert "size 0x11" in job.commands
    assert all(display_width(line) <= 24 for line in job.text.splitlines())

    sheet = desk.services.onboarding.welcome_text(wid)
    assert is_large_print(sheet) and _widest(sheet) <= 40 and "Welcome" in sheet

    # Notifications: in the recorded language, whatever the bank's default.
    zh_cid, zh_wid, _z = k.customer("赵阿姨", "13866660000")
    desk.services.crm.set_needs(desk.teller, zh_cid, Needs(preferred_language="zh_CN"))
    assert desk.services.outbox.locale == "en"  # the bank's default in this world
    zh_ref = desk.cash.cash_in(desk.teller, zh_wid, Money.of("10"), idempotency_key=key()).reference
    with desk.services.db.read() as s:
        def locales(customer: int, reference: str) -> set[str]:
            return {m.locale for m in s.execute(select(OutboxMessage).where(
                OutboxMessage.customer_id == customer)).scalars() if reference in m.params_json}
        assert locales(zh_cid, zh_ref) == {"zh_CN"} and locales(cid, done.reference) == {"en"}

    # Negative control: nothing recorded -> the terminal's language, normal print.
    plain = desk.cash.cash_in(desk.teller, owid, Money.of("10"), idempotency_key=key())
    assert not is_large_print(plain.receipt_text) and "钱包现金存入" in plain.receipt_text
    assert _widest(plain.receipt_text) > 40
    assert not is_large_print(desk.services.onboarding.welcome_text(owid))


def test_elderly_gets_large_print_and_the_kiosk_knows_to_call_a_person(k: K) -> None:
    desk = k.desk
    cid, wid, number = k.customer("王奶奶", "13855550000")
    session = k.svc.sign_in(k.actor, number, PIN)
    assert k.svc.account(k.actor, session).assisted is False
    desk.services.crm.set_needs(desk.teller, cid, Needs(elderly=True))
    assert k.svc.account(k.actor, session).assisted is True
    done = desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=key())
    assert is_large_print(done.receipt_text) and LARGE_PRINT_MARKS["zh_CN"] in done.receipt_text


def test_language_mapping() -> None:
    assert locale_for("zh_CN", "en") == "zh_CN" and locale_for("yue", "en") == "zh_CN"
    assert locale_for("en-GB", "zh_CN") == "en" and locale_for("fr", "zh_CN") == "zh_CN"
    assert locale_for("", "en") == "en"
