"""A scenario whose trainee must pay out or transfer (``posted`` cash_out/transfer) gives the ID
number on a document: at the counter the customer's consent is a PIN on the paired display or an ID
re-check (the 8 birth-date digits the screen hides), and a simulated customer has no display.
Scenarios 3 and 4 only said "ID card, matching the record": the cash-out could not be consented
to, so the run could never reach its approval (found walking scenario 4 in tmux)."""

from __future__ import annotations

import pytest

from teller_tui.consent.gate import CONSENTED_KINDS
from teller_tui.training.copies import copy_values, fill
from teller_tui.training.scenarios import load_scenarios


def _pays_out(scenario: object) -> bool:
    return any(step.check == "posted" and step.params.get("kind") in CONSENTED_KINDS
               for step in scenario.steps)  # type: ignore[attr-defined]


@pytest.mark.parametrize("scenario", [s for s in load_scenarios() if _pays_out(s)], ids=lambda s: s.id)
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_pay_out_scenarios_show_the_id_number(scenario: object, locale: str) -> None:
    values = copy_values(scenario, 3)  # type: ignore[arg-type]
    shown = [fill(d.get(locale), values) for d in scenario.documents]  # type: ignore[attr-defined]
    assert any(values["id_number"] in text for text in shown), shown


def test_the_pay_out_scenarios_are_found() -> None:
    assert {"cash-out-over-limit", "cash-in-out-change"} <= {s.id for s in load_scenarios() if _pays_out(s)}
