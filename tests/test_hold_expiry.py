"""Holds expire by themselves (RELIABILITY invariant 17): with a fake clock and no supervisor on
screen, a remote cash-out request past its time no longer holds the wallet's funds, for every
read (customer view, cash preview, kiosk) and every write (a cash-out of the balance, the drawer
count); the request expires with its hold; every app sweeps and ``teller approvals sweep`` exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from approvals_fixtures import Env, env  # noqa: F401
from auth_fixtures import SECRETS, TELLER_PW
from teller_tui.approvals.policy import ApprovalPolicy
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.auth.passwords import hash_pin
from teller_tui.common.errors import ApprovalRequired, Conflict
from teller_tui.common.money import Money
from teller_tui.ledger.verify import verify_ledger
from teller_tui.models import ApprovalRequest, Customer, Hold
from test_approvals import _low_limit_policy

PIN = "246810"


def _held_request(env: Env) -> Any:
    """10,000.00 in the wallet; a cash-out of 1,500.00 queued for a supervisor, its funds held."""
    env.approvals.policy = _low_limit_policy()
    env.cash.cash_in(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    with pytest.raises(ApprovalRequired) as caught:
        env.cash.cash_out(env.teller, env.wallet_id, Money.of("1500"), idempotency_key=env.key())
    spec = caught.value.details["spec"]
    assert isinstance(spec, ApprovalSpec) and spec.hold is not None
    view = env.approvals.request(env.teller, spec)
    env.approvals.policy = ApprovalPolicy.load()  # the shipped policy: 10,000.00 needs nobody
    assert env.wallet_balance().held == Money.of("1500")
    return view


def _stored(env: Env, request_id: int) -> tuple[str, str]:
    """(request status, hold status) as stored: read directly, not through a service that resolves expiry."""
    with env.services.db.read() as s:
        row = s.execute(select(ApprovalRequest.status, Hold.status).join(Hold, Hold.id == ApprovalRequest.hold_id)
                        .where(ApprovalRequest.id == request_id)).one()
        return row[0], row[1]


def _expire(env: Env) -> None:
    env.clock.advance(seconds=env.services.settings.approval_expiry_seconds + 1)


def _available_in_customer_view(env: Env) -> Money:
    [wallet] = env.services.customers.get_customer(env.customer_id).wallets
    return wallet.available


def _kiosk_available(env: Env) -> Money:
    kiosk = env.services.kiosk
    actor = kiosk.ensure_identity("K01")
    with env.services.db.write() as s:
        c = s.get(Customer, env.customer_id)
        assert c is not None
        c.pin_hash = hash_pin(PIN)
    session = kiosk.sign_in(actor, env.wallet_number, PIN)
    [wallet] = kiosk.account(actor, session).wallets
    return wallet.available


def test_expired_hold_frees_the_balance_for_reads_and_a_cash_out(env: Env) -> None:  # noqa: F811
    view = _held_request(env)
    # While the request is open the funds are held: the full balance cannot be paid out.
    assert _available_in_customer_view(env) == Money.of("8500")
    assert env.cash.preview_cash_out(env.teller, env.wallet_id, Money.of("10000")).refusal_code == "insufficient_funds"
    _expire(env)
    # No sweep ran and no supervisor looked: every read already sees the funds whole.
    assert _stored(env, view.id) == ("pending", "pending")
    assert _available_in_customer_view(env) == Money.of("10000")
    assert _kiosk_available(env) == Money.of("10000")
    preview = env.cash.preview_cash_out(env.teller, env.wallet_id, Money.of("10000"))
    assert preview.refusal is None and preview.allowed
    # The cash-out of the whole balance is accepted; the request expires with its hold in that transaction.
    paid = env.cash.cash_out(env.teller, env.wallet_id, Money.of("10000"), idempotency_key=env.key())
    assert paid.amount == Money.of("10000")
    assert _stored(env, view.id) == ("expired", "expired")
    assert "approval_expire" in env.audit_actions()
    bal = env.wallet_balance()
    assert bal.posted == Money(0) and bal.held == Money(0)
    with env.services.db.read() as s:
        report = verify_ledger(s)
    assert report.ok, report.render()


def test_expired_hold_lets_the_drawer_count(env: Env) -> None:  # noqa: F811
    view = _held_request(env)
    counts = {"note:100": 200}  # the 10,000.00 float and the 10,000.00 cash-in
    with pytest.raises(Conflict) as waiting:  # while the request is open, the count waits for it
        env.services.drawers.submit_blind_count(env.teller, counts)
    assert waiting.value.code == "drawer_pending"
    _expire(env)
    result = env.services.drawers.submit_blind_count(env.teller, counts)
    assert result.counted == result.expected == Money.of("20000")
    assert _stored(env, view.id) == ("expired", "expired")


def test_the_waiting_teller_reads_expired_and_released(env: Env) -> None:  # noqa: F811
    view = _held_request(env)
    assert env.approvals.get(view.id).status == "pending"
    _expire(env)
    seen = env.approvals.get(view.id)  # what the waiting screen polls: it expires the request now
    assert seen.status == "expired"
    assert _stored(env, view.id) == ("expired", "expired")
    assert env.wallet_balance().held == Money(0)
    assert env.approvals.expire_sweep() == []  # already resolved, exactly once


def test_teller_approvals_sweep_command(env: Env, tmp_path: Path, db_path: Path,  # noqa: F811
                                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui.cli import main

    view = _held_request(env)  # made on the fake clock (23 November 2026): past its time by the host's clock
    monkeypatch.setenv("TELLER_HOME", str(tmp_path / "cli-home"))
    monkeypatch.setenv("TELLER_DATABASE_URL", f"sqlite:///{db_path}")
    monkeypatch.setenv("TELLER_LOCALE", "en")
    assert main(["approvals", "sweep"]) == 0
    assert f"1 expired request(s), funds released ({view.id})" in capsys.readouterr().out
    assert _stored(env, view.id) == ("expired", "expired")
    assert main(["approvals", "sweep"]) == 0
    assert "nothing past its time" in capsys.readouterr().out


@pytest.mark.slow  # Pilot
async def test_running_app_sweeps_and_waiting_screen_says_funds_released(env: Env) -> None:  # noqa: F811
    from pilot_helpers import settle, sign_in
    from screens.app import HOLD_SWEEP_SECONDS, make_app
    from screens.approval import WaitingScreen

    assert HOLD_SWEEP_SECONDS <= 60
    other = _held_request(env)  # a request nobody is looking at
    env.approvals.policy = _low_limit_policy()
    with pytest.raises(ApprovalRequired) as caught:
        env.cash.cash_out(env.teller, env.wallet_id, Money.of("1200"), idempotency_key=env.key())
    app = make_app(env.services.settings, services=env.services, clock=env.clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "wang", TELLER_PW, SECRETS["wang"], env.clock)
        waiting = WaitingScreen(env.services, env.teller, caught.value.details["spec"])
        app.push_screen(waiting)
        await settle(pilot)
        assert waiting.view is not None and waiting.view.status == "pending"
        _expire(env)
        app.sweep_expired_holds()  # what the app's 30-second timer does, whoever is signed in
        await app.workers.wait_for_complete()
        assert _stored(env, other.id) == ("expired", "expired")
        waiting._poll()  # what the screen's 1-second timer does
        await settle(pilot)
        text = str(waiting.query_one("#waiting-status").render())
        assert "expired, funds released" in text, text
    assert env.wallet_balance().held == Money(0)
