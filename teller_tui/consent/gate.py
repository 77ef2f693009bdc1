"""The posting side of consent: inside the posting's own transaction, use a granted consent once.

Public API::

    gate = ConsentGate(settings, clock)                         # services.consent_gate
    grant = gate.require(session, actor, spec, consent_id)      # ConsentGrant, None when not needed;
                                                                # raises ConsentRequired otherwise

Consent is needed from counter staff (never the kiosk, where the customer signed in with the PIN,
nor the host's command line) while ``settings.counter_consent`` is on (the default). A consent
counts only if it was granted at the same terminal, by the same teller, for the same request
(:meth:`~teller_tui.consent.spec.ConsentSpec.digest`), has not expired and was not used before; a
branch whose policy requires the PIN refuses an ID re-check here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teller_tui.auth.roles import COUNTER_ROLES
from teller_tui.common.errors import ConsentRequired
from teller_tui.common.i18n import _
from teller_tui.consent.spec import ConsentGrant, ConsentSpec
from teller_tui.models import ConsentPolicy, ConsentRequest

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings

__all__ = ["CONSENTED_KINDS", "ConsentGate", "pin_required"]


#: Counter postings that need the customer's consent (their PIN on the display, or an ID re-check).
CONSENTED_KINDS: tuple[str, ...] = ("cash_out", "transfer")


def pin_required(s: Session, branch_code: str) -> bool:
    """The branch's policy: True when only the customer's PIN will do (no ID re-check)."""
    row = s.get(ConsentPolicy, branch_code)
    return bool(row is not None and row.pin_required)


class ConsentGate:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings, self.clock = settings, clock

    def applies(self, actor: Actor) -> bool:
        return bool(self.settings.counter_consent) and actor.role in COUNTER_ROLES

    def require(self, s: Session, actor: Actor, spec: ConsentSpec, consent_id: int | None) -> ConsentGrant | None:
        if not self.applies(actor):
            return None
        if consent_id is None:
            raise ConsentRequired(_("The customer must agree: their PIN on the customer display, or an ID "
                                    "re-check"), spec=spec)
        row = s.get(ConsentRequest, consent_id, with_for_update=True)
        if row is not None:
            s.refresh(row)
        ok = (row is not None and row.status == "granted" and row.request_hash == spec.digest()
              and row.terminal_id == actor.terminal_id and row.staff_id == actor.staff_id
              and row.expires_at > self.clock.now())
        if not ok or row is None:
            raise ConsentRequired(_("The customer's consent does not match this request (changed, expired or "
                                    "used): ask again"), spec=spec, code="consent_stale")
        if row.method != "pin" and pin_required(s, actor.branch_code):
            raise ConsentRequired(_("This branch requires the customer's PIN on the customer display"),
                                  spec=spec, code="consent_pin_required")
        row.status, row.used_at = "used", self.clock.now()
        return ConsentGrant(int(consent_id), row.method)
