"""The day wallet rules are judged on, decided in one place.

Onboarding (document expiry, the class table and welcome reward in force), class changes and
linked top-up / withdrawal (class limits) all ask :func:`wallet_today`. It is the calendar date
at the branch: these flows run outside the desk's drawer, and the branch's open business day
(``current_business_date``) lives in the branch package, which wallets must not import.
"""

from __future__ import annotations

from datetime import date

from teller_tui.common.clock import Clock, local_date

__all__ = ["wallet_today"]


def wallet_today(clock: Clock) -> date:
    """Today's date at the branch by ``clock``."""
    return local_date(clock.now())
