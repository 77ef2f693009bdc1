"""Each run of a scenario gets its own copy of the simulated customer, so scenarios replay.

``teller training setup`` creates :data:`COPIES` copies of every scenario customer (same name, a
phone number and ID number of their own, same class and opening balance); a run takes the first
copy no earlier run of that scenario used. A walk-in customer (an onboarding scenario) is not
created: the copy gives the run the phone and ID numbers the trainee will be shown. Scenario texts
and step parameters may name ``{phone}``, ``{id_number}`` and ``{wrong_id_number}`` (the same
number with a wrong check digit); :func:`fill` puts the run's values in.
"""

from __future__ import annotations

from teller_tui.training.scenarios import Scenario
from teller_tui.wallets.identity.documents import make_prc_id

__all__ = ["COPIES", "copy_values", "fill"]

#: Copies of each scenario customer a training database holds (runs per scenario before a rebuild).
COPIES = 20

_CHECK = "0123456789X"


def copy_values(scenario: Scenario, copy: int) -> dict[str, str]:
    """The phone and ID numbers of copy ``copy`` (0-based) of ``scenario``'s customer."""
    c = scenario.customer
    id_number = make_prc_id("110101", c.birth, 200 + copy, c.sex)
    wrong = _CHECK[(_CHECK.index(id_number[-1]) + 1) % len(_CHECK)]
    return {"phone": f"139{scenario.order:02d}11{copy:04d}", "id_number": id_number,
            "wrong_id_number": id_number[:-1] + wrong, "name": c.full_name}


def fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text
