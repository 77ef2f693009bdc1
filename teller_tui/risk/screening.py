"""Watch-list screening at onboarding: a match holds the onboarding for a supervisor.

The onboarding service calls :meth:`OnboardingScreen.check` inside its issuing transaction, before the
customer is created. No match: nothing happens. A match: the approval policy's ``watchlist_hit`` rule
(action ``watchlist_onboarding``, ``data/approval_policy.toml``) makes it raise
:class:`~teller_tui.common.errors.ApprovalRequired` carrying an
:class:`~teller_tui.approvals.spec.ApprovalSpec` bound to this onboarding (its idempotency key) and to
the entries matched; the teller asks a supervisor (at the counter or from the queue) and issues again
with the same key and ``approval_id=``. A bank that removes the rule screens without holding.
The teller's screen never says "watch list" (the customer may be reading it): the policy's reason and
the request's summary are neutral; the match itself is the spec's ``review``, on the supervisor's queue.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlmodel import Session

from teller_tui.approvals.policy import Facts
from teller_tui.approvals.service import ApprovalService
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor
from teller_tui.common.i18n import N_
from teller_tui.common.messages import message
from teller_tui.common.masks import mask_name
from teller_tui.risk.watchlist import Watchlist, WatchHit

__all__ = ["WATCHLIST_ACTION", "OnboardingScreen"]

WATCHLIST_ACTION = "watchlist_onboarding"


class OnboardingScreen:
    def __init__(self, watchlist: Watchlist, approvals: ApprovalService) -> None:
        self.watchlist = watchlist
        self.approvals = approvals

    def check(self, session: Session, actor: Actor, *, full_name: str, name_latin: str, id_number: str | None,
              birth_date: date | None, on: date, idempotency_key: str, approval_id: int | None) -> list[WatchHit]:
        """The watch-list entries the person matches; with a match, the approval (see the module docstring)."""
        hits = self.watchlist.screen(names=(full_name, name_latin), id_number=id_number, birth_date=birth_date)
        if not hits:
            return []
        policy = self.approvals.evaluate(Facts(WATCHLIST_ACTION, on=on, role=actor.role))
        listed = ", ".join(f"{h.entry.list_id} ({h.by})" for h in hits)
        review = message(N_("Watch-list match: {name} ({entries})"), name=mask_name(full_name), entries=listed)
        # The teller's screen (which the customer can see) says only that a supervisor must review; the
        # entries matched are bound through the subject and shown on the supervisor's queue (``review``).
        bound = hashlib.sha256(listed.encode()).hexdigest()[:16]
        spec = ApprovalSpec(kind=WATCHLIST_ACTION, requester_id=actor.staff_id, branch_code=actor.branch_code,
                            subject=f"onboarding:{idempotency_key[:60]}:{bound}",
                            rules=tuple(h.rule for h in policy), reasons=tuple(h.reason for h in policy),
                            summary=message(N_("Opening a wallet for {name}"), name=mask_name(full_name)),
                            customer_name=mask_name(full_name), review=(review,))
        self.approvals.check(session, spec, approval_id=approval_id)
        return hits
