"""The cash-out preview checks the drawer's cash, and every refusal a teller sees names amounts
formatted and no internal account code (``drawer:B001:teller3``): "your drawer", "the wallet"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import Conflict, DomainError, LimitExceeded
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.common.formatting import format_money
from teller_tui.ledger import AccountKind, EntryRequest, credit, debit
from teller_tui.branch.drawer_lookup import require_open_drawer

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT_CODE = re.compile(r"\b(?:drawer|wallet|vault|points|settlement|interbranch|over_short):[A-Za-z0-9]")


def _plain_teller_message(text: str) -> None:
    assert not ACCOUNT_CODE.search(text), text
    assert "Decimal" not in text, text


def _funded_wallet(desk: Desk, amount: str = "5000") -> int:
    wid = desk.wallet(desk.customer("王芳"))
    desk.cash.cash_in(desk.teller, wid, Money.of(amount), idempotency_key=key())
    return wid


def test_preview_refuses_a_cash_out_the_drawer_cannot_pay(desk: Desk) -> None:  # noqa: F811
    wid = _funded_wallet(desk)
    teller3 = desk.staff("teller3")
    desk.fund_drawer(teller3, Money.of("500"))
    ok = desk.cash.preview_cash_out(teller3, wid, Money.of("500"))
    assert ok.refusal is None and ok.allowed  # exactly what the drawer holds
    p = desk.cash.preview_cash_out(teller3, wid, Money.of("500.10"))
    assert p.refusal_code == "insufficient_cash"
    assert p.refusal == "Not enough cash in your drawer: it holds CN¥500.00."
    with pytest.raises(LimitExceeded) as refused:  # confirming anyway: the same refusal, nothing posted
        desk.cash.cash_out(teller3, wid, Money.of("500.10"), idempotency_key=key())
    assert str(refused.value) == p.refusal
    desk.cash.cash_out(teller3, wid, Money.of("500"), idempotency_key=key())


def test_preview_without_an_open_drawer_is_refused(desk: Desk) -> None:  # noqa: F811
    wid = _funded_wallet(desk)
    nobody = desk.staff("teller4")
    p = desk.cash.preview_cash_out(nobody, wid, Money.of("10"))
    assert p.refusal and not p.allowed
    _plain_teller_message(p.refusal)


def test_wallet_refusals_are_formatted(desk: Desk) -> None:  # noqa: F811
    wid = _funded_wallet(desk, "10")
    p = desk.cash.preview_cash_out(desk.teller, wid, Money.of("10.01"))
    assert p.refusal == "Not enough money in the wallet: CN¥10.00 available."


def test_ledger_refusals_name_your_drawer_and_the_wallet(desk: Desk) -> None:  # noqa: F811
    """The ledger's own balance-limit refusals (the last line of defence) speak the teller's language."""
    wid = _funded_wallet(desk, "10")
    ledger = desk.ledger
    with desk.db.read() as s:
        drawer = require_open_drawer(s, desk.teller).account_id
        from teller_tui.models import Wallet

        wallet_account = s.get(Wallet, wid).account_id
        held = ledger.balance(s, drawer).available
    with desk.db.write() as s:
        equity = ledger.open_account(s, code="equity:B001:test", name="Equity", kind=AccountKind.EQUITY,
                                     branch_code="B001")
    messages = []
    for legs in ((debit(wallet_account, Money.of("10.01")), credit(drawer, Money.of("10.01"))),
                 (debit(equity, held + Money.of("1")), credit(drawer, held + Money.of("1")))):
        with pytest.raises(DomainError) as refused:
            with desk.db.write() as s:
                ledger.post(s, EntryRequest(key(), "cash_out", legs, desk.teller.staff_id, "T01", "B001"))
        messages.append(str(refused.value))
    assert messages[0] == "Not enough money in the wallet: CN¥10.00 available."
    assert messages[1] == f"Not enough cash in your drawer: it holds {format_money(held)}."
    for text in messages:
        _plain_teller_message(text)
    with pytest.raises(Conflict) as frozen:
        with desk.db.write() as s:
            ledger.set_status(s, wallet_account, "frozen")
            ledger.post(s, EntryRequest(key(), "cash_out", (debit(wallet_account, Money.of("1")),
                                                            credit(drawer, Money.of("1"))),
                                        desk.teller.staff_id, "T01", "B001"))
    assert str(frozen.value) == "No payments out of the wallet: it is frozen."


def test_no_refusal_message_in_the_desk_or_ledger_names_an_account_code() -> None:
    """Static: no refusal built in desk/ or the ledger core (core, base, holds, reads) interpolates an
    account's code (set-up errors about the chart of accounts itself, for the operator, may name the
    code they are about)."""
    set_up = ('code="account_conflict"', 'code="no_account"')
    offenders = []
    ledger = ROOT / "teller_tui" / "ledger"
    for path in [*(ROOT / "teller_tui" / "desk").glob("*.py"),
                 *(ledger / name for name in ("core.py", "base.py", "holds.py", "reads.py"))]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\{[a-z_.]*\bcode\}", line) and not any(k in line for k in set_up):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []
