"""Cash at another branch's wallet (issue 25): a teller of B002 takes cash into, and pays cash out
of, a wallet held at B001 (the customer walked into another branch).

The teller's drawer is B002's, the wallet B001's: the ledger adds inter-branch clearing legs
(``interbranch:<branch>:<cur>``) so each branch's own trial balance stays zero (invariant 6, per
branch), for the cash-in and cash-out, the reversal of each, and the first-use reward the payment
earns (the points pool of the teller's branch against the wallet's points account at its branch).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from desk_fixtures import Desk, desk  # noqa: F401
from onboarding_fixtures import PIN, env, full_data  # noqa: F401
from teller_tui.branch.setup import open_drawer_for_setup
from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.money import Money
from teller_tui.desk.cash_scope import posting_scope, reversal_scope
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.db.scopes import branch_key
from teller_tui.ledger import trial_balance
from teller_tui.ledger.verify import verify_ledger
from teller_tui.models import JournalEntry, LedgerAccount, Posting, Wallet


def _clean(db: Any) -> None:
    """`teller ledger verify` finds nothing, and each branch's trial balance is zero per currency."""
    with db.read() as s:
        report = verify_ledger(s, workers=1)
        assert report.ok, report.render()
        for branch in ("B001", "B002"):
            assert all(v == 0 for v in trial_balance(s, branch_code=branch).values()), \
                (branch, trial_balance(s, branch_code=branch))


def _codes(db: Any, entry_id: int) -> dict[str, int]:
    with db.read() as s:
        return {str(c): int(a) for c, a in s.execute(
            select(LedgerAccount.code, Posting.amount).join(Posting, Posting.account_id == LedgerAccount.id)
            .where(Posting.entry_id == entry_id)).all()}


def _reverse(desk: Desk, actor: Any, entry_id: int) -> Any:
    k = key()
    try:
        return desk.cash.reverse(actor, entry_id, "wrong wallet", idempotency_key=k)
    except ApprovalRequired as err:
        approval_id = desk.approve(actor, err.details["spec"])
    return desk.cash.reverse(actor, entry_id, "wrong wallet", idempotency_key=k, approval_id=approval_id)


@pytest.fixture
def far(desk: Desk) -> Any:
    """A teller of B002 with an open drawer (B002's own business day)."""
    actor = desk.staff("far1", branch="B002")
    desk.fund_drawer(actor)
    return actor


def test_cash_in_and_out_at_another_branch_keep_each_branch_balanced(desk: Desk, far: Any) -> None:
    wid = desk.wallet(desk.customer("王芳"))  # held at B001
    with desk.db.read() as s:
        acct = s.get(LedgerAccount, s.get(Wallet, wid).account_id)
        assert acct.branch_code == "B001"
    cin = desk.cash.cash_in(far, wid, Money.of("300"), idempotency_key=key())
    assert cin.new_balance == Money.of("300")
    legs = _codes(desk.db, cin.entry_id)
    assert legs["interbranch:B002:CNY"] == -30000 and legs["interbranch:B001:CNY"] == 30000, legs
    _clean(desk.db)
    # The cash-out is the wallet's activation: its first-use reward (points pool of B002, the
    # wallet's points account at B001) is cleared in points as well.
    out = desk.cash.cash_out(far, wid, Money.of("100"), idempotency_key=key())
    assert out.new_balance == Money.of("200")
    assert _codes(desk.db, out.entry_id)["interbranch:B001:CNY"] == -10000
    with desk.db.read() as s:
        reward = s.execute(select(JournalEntry.id).where(JournalEntry.kind == "welcome_reward")).scalar()
    assert reward is not None
    assert set(_codes(desk.db, reward)) >= {"interbranch:B001:PTS", "interbranch:B002:PTS"}
    _clean(desk.db)
    # Reversals of each put the clearing back too.
    _reverse(desk, far, out.entry_id)
    _clean(desk.db)
    _reverse(desk, far, cin.entry_id)
    _clean(desk.db)
    with desk.db.read() as s:
        for code in ("interbranch:B001:CNY", "interbranch:B002:CNY"):
            a = s.execute(select(LedgerAccount).where(LedgerAccount.code == code)).scalar_one()
            assert a.debits_posted == a.credits_posted  # everything undone: nothing owed between them


def test_same_branch_cash_has_no_clearing_legs(desk: Desk) -> None:
    wid = desk.wallet(desk.customer("王芳"))
    cin = desk.cash.cash_in(desk.teller, wid, Money.of("10"), idempotency_key=key())
    assert not any(code.startswith("interbranch:") for code in _codes(desk.db, cin.entry_id))
    _clean(desk.db)


def test_replay_at_another_branch_returns_the_original(desk: Desk, far: Any) -> None:
    wid = desk.wallet(desk.customer("王芳"))
    k = key()
    first = desk.cash.cash_in(far, wid, Money.of("50"), idempotency_key=k)
    again = desk.cash.cash_in(far, wid, Money.of("50"), idempotency_key=k)
    assert again.replayed and again.entry_id == first.entry_id
    _clean(desk.db)


def test_scopes_lock_the_wallets_branch(desk: Desk, far: Any) -> None:
    """The PostgreSQL lock scope of a cross-branch posting and of its reversal names both branches."""
    wid = desk.wallet(desk.customer("王芳"))
    cin = desk.cash.cash_in(far, wid, Money.of("50"), idempotency_key=key())
    with desk.db.read() as s:
        posting = set(posting_scope(far, [wid])(s))
        reversal = set(reversal_scope(far, cin.entry_id)(s))
    for keys in (posting, reversal):
        assert {branch_key("B001"), branch_key("B002")} <= keys


def test_linked_top_up_and_withdraw_at_another_branch(env: Any) -> None:  # noqa: F811
    res = env.onboarding.issue(env.teller, full_data(), pin=PIN, idempotency_key="a")  # a B001 wallet
    f, wid = env.services.funding, res.wallet.wallet_id
    open_drawer_for_setup(env.services, env.other_branch, Money.of("1000"))  # B002's business day opens
    f.top_up_from_linked(env.other_branch, wid, Money.of("500"), idempotency_key="t1")
    f.withdraw_to_linked(env.other_branch, wid, Money.of("120"), idempotency_key="w1")
    with env.services.db.read() as s:
        assert {c for c in s.execute(select(LedgerAccount.code)).scalars() if c.startswith("interbranch:")} == {
            "interbranch:B001:CNY", "interbranch:B002:CNY",  # the money, settled at B002
            "interbranch:B001:PTS", "interbranch:B002:PTS"}  # the withdrawal's first-use reward
    _clean(env.services.db)


def test_kiosk_of_another_branch(desk: Desk) -> None:
    """A kiosk of B002 and a customer of B001: the transfer's legs are all B001's (nothing to clear),
    but it is the wallet's activation, and its first-use reward (B002's points pool, the points
    account at B001) is cleared between the branches."""
    from test_kiosk_core import PIN as KIOSK_PIN, K
    from teller_tui.kiosk.service import KioskService

    k = K(desk)
    k.svc = KioskService(desk.db, desk.clock, desk.settings.model_copy(update={"branch_code": "B002"}), desk.ledger,
                         desk.audit, cash=desk.cash, limits=k.limits, box=k.box, guard=k.guard,
                         pacer=k.svc.pacer, throttle=k.svc.throttle)
    k.actor = k.svc.ensure_identity("K02")
    assert k.actor.branch_code == "B002"
    _c1, w1, _n1 = k.customer("王芳", "13900000008")
    k.customer("张三明", "13812345678", fund="0")
    session = k.svc.sign_in(k.actor, "13900000008", KIOSK_PIN)
    receipt = k.svc.transfer(k.actor, session, w1, "13812345678", Money.of("100"), idempotency_key="kk-far")
    with desk.db.read() as s:
        entry = s.execute(select(JournalEntry.id).where(JournalEntry.reference == receipt.reference)).scalar_one()
        reward = s.execute(select(JournalEntry.id).where(JournalEntry.kind == "welcome_reward")).scalar_one()
    assert not any(c.startswith("interbranch:") for c in _codes(desk.db, entry))
    assert {"interbranch:B001:PTS", "interbranch:B002:PTS"} <= set(_codes(desk.db, reward))
    _clean(desk.db)


def test_a_held_payout_across_branches_is_cleared_when_posted(desk: Desk, far: Any) -> None:
    """A remote approval's hold (wallet of B001 to the drawer of B002) posts through the same rule."""
    from teller_tui.branch.drawer_lookup import require_open_drawer
    from teller_tui.ledger import HoldRequest

    wid = desk.wallet(desk.customer("王芳"))
    desk.cash.cash_in(far, wid, Money.of("300"), idempotency_key=key())
    with desk.db.write() as s:
        wallet = s.get(Wallet, wid).account_id
        drawer = require_open_drawer(s, far).account_id
        held = desk.ledger.create_hold(s, HoldRequest("hold-far", "cash_out", wallet, drawer, Money.of("100"),
                                                      far.staff_id, far.terminal_id))
        posted = desk.ledger.post_hold(s, held.hold_id, idempotency_key="hold-far", actor_id=far.staff_id,
                                       terminal_id=far.terminal_id, branch_code="B002")
    legs = _codes(desk.db, posted.entry_id)
    assert legs["interbranch:B001:CNY"] == -10000 and legs["interbranch:B002:CNY"] == 10000, legs
    with desk.db.read() as s:
        for branch in ("B001", "B002"):
            assert set(trial_balance(s, branch_code=branch).values()) <= {0}


def test_reversal_mirrors_an_entry_posted_without_clearing(desk: Desk, far: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry posted before the ledger cleared across branches (simulated: the rule switched off
    for it) is reversed leg for leg (invariant 7), which puts each branch's books back to zero."""
    import teller_tui.ledger.core as core

    wid = desk.wallet(desk.customer("王芳"))
    with monkeypatch.context() as m:
        m.setattr(core, "clearing_nets", lambda legs, branch_of: {})
        old = desk.cash.cash_in(far, wid, Money.of("40"), idempotency_key=key())
    assert not any(c.startswith("interbranch:") for c in _codes(desk.db, old.entry_id))
    with desk.db.read() as s:
        assert trial_balance(s, branch_code="B001")["CNY"] == -4000  # the gap this issue found
    rev = _reverse(desk, far, old.entry_id)
    assert {c: -a for c, a in _codes(desk.db, rev.entry_id).items()} == _codes(desk.db, old.entry_id)
    _clean(desk.db)
