"""The supervisor deciding from the queue sees the teller's memo: a reversal's reason ("wrong
wallet") was shown at the counter approval but not in the queue's dialog (found walking Ctrl+A at
80x24 in tmux: request 5, a reversal, with no word of why)."""

from __future__ import annotations

import pytest

from approvals_fixtures import Env, env  # noqa: F401
from screens.approvals_queue import view_facts
from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.money import Money


def test_queued_reversal_carries_the_tellers_reason(env: Env) -> None:
    txn = env.cash.cash_in(env.teller, env.wallet_id, Money.of("100"), idempotency_key=env.key())
    with pytest.raises(ApprovalRequired) as caught:
        env.cash.reverse(env.teller, txn.entry_id, "[b]wrong[/b] wallet\x1b[2J", idempotency_key=env.key())
    queued = env.approvals.request(env.teller, caught.value.details["spec"])
    view = env.approvals.get(queued.id)
    assert view.memo == "[b]wrong[/b] wallet"  # cleaned (no escape sequence), markup kept as text
    assert ("Memo", "[b]wrong[/b] wallet") in view_facts(view)
