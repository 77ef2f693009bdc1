"""The welcome reward's rule (``data/rewards.toml``): how many points, and when they are granted.

Its own module (not the onboarding package) because both issuance and every payment path read
it (:mod:`teller_tui.wallets.activation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.reference_files import read_toml, shipped_file

__all__ = ["GRANT_AT_ISSUE", "GRANT_FIRST_USE", "GRANT_WHEN", "RewardRule", "reward_rule", "welcome_points"]

#: ``grant`` values in data/rewards.toml: when the welcome points are credited.
GRANT_AT_ISSUE = "at_issue"  # when the wallet is issued at the counter (the first release's rule)
GRANT_FIRST_USE = "first_use"  # on the wallet's first payment (its activation: teller_tui.wallets.activation)
GRANT_WHEN = (GRANT_AT_ISSUE, GRANT_FIRST_USE)


@dataclass(frozen=True, slots=True)
class RewardRule:
    """The reward set in force on a day: how many points, and when they are granted."""

    points: int
    grant: str  # GRANT_AT_ISSUE | GRANT_FIRST_USE


def reward_rule(on: date, path: Path | None = None) -> RewardRule:
    """The reward set in force on ``on`` (data/rewards.toml); 0 points when none. ``grant`` defaults
    to ``first_use`` when a set does not say."""
    data = read_toml(path or shipped_file("rewards.toml"))
    best: tuple[date, RewardRule] | None = None
    for raw in data.get("reward_set", []):
        eff, pts = raw.get("effective_from"), raw.get("welcome_points", 0)
        grant = raw.get("grant", GRANT_FIRST_USE)
        if not isinstance(eff, date) or type(pts) is not int or pts < 0 or grant not in GRANT_WHEN:
            raise ValidationError(_("rewards.toml: each reward_set needs effective_from, welcome_points >= 0 "
                                    "and grant = \"at_issue\" or \"first_use\""), code="rewards_file")
        if eff <= on and (best is None or eff > best[0]):
            best = (eff, RewardRule(pts, grant))
    return best[1] if best else RewardRule(0, GRANT_FIRST_USE)


def welcome_points(on: date, path: Path | None = None) -> int:
    """The welcome reward in force on ``on`` (data/rewards.toml); 0 when none."""
    return reward_rule(on, path).points
