"""The consent dialog on the TELLER's screen says what waits in the teller's terms ("cash-out ¥300.00 from
wallet 6200****1234"); the customer's wording ("from your wallet", "从您的钱包") stays on the customer display."""

from __future__ import annotations


import pytest

from screens.consent import teller_title
from teller_tui.common.i18n import set_locale
from teller_tui.common.money import Money
from teller_tui.consent.spec import KIND_TITLES, ConsentSpec


SPECS = [ConsentSpec("cash_out", 7, 3, "6200****1234", amount=Money(30000)),
         ConsentSpec("transfer", 7, 3, "6200****1234", amount=Money(5000), payee="王* 6200****9876"),
         ConsentSpec("wallet_close", 7, 3, "6200****1234"),
         ConsentSpec("class_change", 7, 3, "6200****1234", detail="1 → 2")]


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
def test_the_teller_title_is_in_the_tellers_terms(spec: ConsentSpec, locale: str) -> None:
    set_locale(locale)
    title = teller_title(spec)
    assert "6200****1234" in title
    for customer_word in ("your", "您", _customer(spec)):
        assert customer_word not in title, title
    if spec.amount is not None:
        assert "300.00" in title or "50.00" in title
    if spec.payee:
        assert "6200****9876" in title
    if spec.detail:
        assert "1 → 2" in title


def _customer(spec: ConsentSpec) -> str:
    from teller_tui.common.i18n import _

    return _(KIND_TITLES[spec.kind])


def test_cash_out_reads_as_the_teller_would_say_it() -> None:
    set_locale("en")
    title = teller_title(SPECS[0])
    assert title.startswith("Waiting for the customer's consent: cash-out ")
    assert title.endswith("300.00 from wallet 6200****1234")
