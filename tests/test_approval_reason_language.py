"""An approval's reasons are stored as what they say (message id and arguments) and shown in
the reader's language: a teller working in Chinese asks, an English supervisor reads English."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from approvals_fixtures import build_env
from sqlmodel import select

from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.i18n import N_, set_locale
from teller_tui.common.messages import Msg, Translated, message, render_stored
from teller_tui.common.money import Money
from teller_tui.models import ApprovalRequest


def test_message_renders_in_the_current_language_and_round_trips() -> None:
    set_locale("zh_CN")
    why = message(N_("{amount} is above your limit of {limit} for one cash withdrawal."),
                  amount=Money.of("6000"), limit=Money.of("5000"))
    assert isinstance(why, Translated) and "¥6,000.00" in why and "above" not in why
    stored = json.loads(json.dumps(why.msg.to_json()))
    set_locale("en")
    assert render_stored(str(why), stored) == "CN¥6,000.00 is above your limit of CN¥5,000.00 for one cash withdrawal."
    assert render_stored("as written", None) == "as written"  # an older row: its text as stored
    nested = Msg(N_("With this one the customer's cash {direction} today comes to {total}, which reaches "
                    "{threshold}: a supervisor's approval and a large-value report are needed."),
                 {"direction": Msg(N_("paid in")), "total": Money.of("50000"), "threshold": Money.of("50000")})
    assert "paid in" in Msg.from_json(json.loads(json.dumps(nested.to_json()))).render()  # type: ignore[union-attr]


def test_chinese_teller_asks_english_supervisor_reads(tmp_path: Path, db_path: Path, clock: Any, db: Any) -> None:
    env = build_env(tmp_path / "home", db_path, clock, database=db)
    set_locale("zh_CN")
    try:
        env.cash.cash_in(env.teller, env.wallet_id, Money.of("60000"), idempotency_key=env.key())
    except ApprovalRequired as exc:
        env.approvals.request(env.teller, exc.details["spec"])
    else:
        raise AssertionError("a ¥60,000 cash-in needs approval")
    with env.services.db.read() as s:
        row = s.exec(select(ApprovalRequest).order_by(ApprovalRequest.id.desc())).first()  # type: ignore[union-attr]
        assert row is not None
        written = json.loads(row.request_json)["annotations"]["reasons"]
    assert written and not written[0].isascii(), written  # stored as the teller read it (Chinese)
    set_locale("en")
    view = next(v for v in env.approvals.pending(env.teller.branch_code) if v.id == row.id)
    assert view.reasons and "needs a supervisor's approval" in view.reasons[0], view.reasons
    assert "CN¥50,000.00" in " ".join(view.reasons)
    set_locale("zh_CN")
    view = next(v for v in env.approvals.pending(env.teller.branch_code) if v.id == row.id)
    assert "¥50,000.00" in " ".join(view.reasons) and not view.reasons[0].isascii()
    assert view.summary.startswith("现金存入")  # the one line too, rebuilt from the request
    set_locale("en")
    view = next(v for v in env.approvals.pending(env.teller.branch_code) if v.id == row.id)
    assert view.summary.startswith("Cash in"), view.summary
