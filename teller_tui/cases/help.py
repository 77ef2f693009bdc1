"""From machine to person: a kiosk customer asks for help; the counter sees the request and a count.

Public API::

    svc = HelpRequestService(db, clock, audit)                   # services.help_requests
    v = svc.ask(kiosk_actor, "transfer", customer_id=session.customer_id, detail="")   # the kiosk
    n = svc.open_count(actor)                                     # the counter's badge
    rows = svc.open_requests(actor)                               # oldest first
    svc.take(actor, request_id); svc.done(actor, request_id)

:meth:`HelpRequestService.ask` is the ONLY thing a kiosk may do here (and the only thing in the cases
core a kiosk may do at all); everything else is for counter staff. The kiosk passes the signed-in
customer's id from its own session (``KioskSession.customer_id``), or None before sign-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import KIOSK_ROLE, STAFF_ROLES, require_role
from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict, NotFound, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.masks import mask_name
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.models import Customer
from teller_tui.models.cases import HelpRequest, HelpRequestStatus

__all__ = ["ACTIVITIES", "HelpRequestService", "HelpRequestView"]

#: What the customer was doing when they asked (the kiosk's screens), with display names.
ACTIVITIES: Mapping[str, str] = {
    "welcome": N_("At the welcome screen"),
    "sign_in": N_("Signing in"),
    "balance": N_("Looking at the balance"),
    "history": N_("Looking at the history"),
    "transfer": N_("Making a transfer"),
    "statement": N_("Printing a statement"),
    "other": N_("Something else"),
    "assisted": N_("Signed in; needs assistance (recorded)"),  # raised by the kiosk itself
}


@dataclass(frozen=True, slots=True)
class HelpRequestView:
    request_id: int
    at: datetime
    terminal_id: str
    customer_id: int | None
    customer_name: str  # masked (张*明): the teller calls the customer over, the queue may be on show
    activity: str
    activity_text: str
    detail: str
    status: str
    taken_by: int | None


def _view(row: HelpRequest, customer: Customer | None) -> HelpRequestView:
    assert row.id is not None
    return HelpRequestView(row.id, row.at, clean_text(row.terminal_id, limit=32), row.customer_id,
                           mask_name(customer.full_name) if customer else "", row.activity,
                           _(ACTIVITIES.get(row.activity, ACTIVITIES["other"])), clean_text(row.detail, limit=200),
                           row.status, row.taken_by)


class HelpRequestService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail) -> None:
        self.db, self.clock, self.audit = db, clock, audit

    @guarded("help_requests")
    def ask(self, actor: Actor, activity: str, *, customer_id: int | None = None, detail: str = "") -> HelpRequestView:
        """The kiosk's "ask for help" (a teller may also log one on a kiosk's behalf)."""
        require_role(actor, KIOSK_ROLE, *STAFF_ROLES)
        if activity not in ACTIVITIES:
            raise ValidationError(f"unknown activity {activity!r}", code="help_activity")
        with self.db.write() as s:
            customer = s.get(Customer, customer_id) if customer_id is not None else None
            if customer_id is not None and customer is None:
                raise NotFound(_("No such customer"), code="no_customer")
            row = HelpRequest(at=self.clock.now(), terminal_id=actor.terminal_id[:32], kiosk_id=actor.staff_id,
                              branch_code=actor.branch_code, customer_id=customer_id, activity=activity,
                              detail=clean_text(detail, limit=200), status=HelpRequestStatus.OPEN)
            s.add(row)
            s.flush()
            self.audit.append(s, actor, "help_request", subject=f"help:{row.id}",
                              detail={"activity": activity, "customer_id": customer_id})
            return _view(row, customer)
        raise AssertionError("unreachable")  # pragma: no cover

    @guarded("help_requests")
    def open_count(self, actor: Actor) -> int:
        require_role(actor, *STAFF_ROLES)
        with self.db.read() as s:
            return int(s.execute(select(func.count()).select_from(HelpRequest).where(
                col(HelpRequest.branch_code) == actor.branch_code,
                col(HelpRequest.status) == HelpRequestStatus.OPEN)).scalar_one())

    @guarded("help_requests")
    def open_requests(self, actor: Actor) -> list[HelpRequestView]:
        """Requests of the branch not yet done (open, then taken), oldest first."""
        require_role(actor, *STAFF_ROLES)
        with self.db.read() as s:
            rows = s.execute(select(HelpRequest).where(
                col(HelpRequest.branch_code) == actor.branch_code,
                col(HelpRequest.status) != HelpRequestStatus.DONE).order_by(col(HelpRequest.id))).scalars().all()
            return [_view(r, s.get(Customer, r.customer_id) if r.customer_id else None) for r in rows]

    @guarded("help_requests")
    def take(self, actor: Actor, request_id: int) -> HelpRequestView:
        return self._move(actor, request_id, HelpRequestStatus.OPEN, HelpRequestStatus.TAKEN)

    @guarded("help_requests")
    def done(self, actor: Actor, request_id: int) -> HelpRequestView:
        return self._move(actor, request_id, None, HelpRequestStatus.DONE)

    def _move(self, actor: Actor, request_id: int, need: HelpRequestStatus | None,
              target: HelpRequestStatus) -> HelpRequestView:
        require_role(actor, *STAFF_ROLES)
        now = self.clock.now()
        with self.db.write() as s:
            row = s.execute(select(HelpRequest).where(col(HelpRequest.id) == request_id)
                            .with_for_update()).scalar_one_or_none()
            if row is None or row.branch_code != actor.branch_code:
                raise NotFound(_("No such help request"), code="help_not_found")
            if row.status == HelpRequestStatus.DONE or (need is not None and row.status != need):
                raise Conflict(_("Someone else has already taken this request."), code="help_taken")
            row.status = target
            if target == HelpRequestStatus.TAKEN or row.taken_by is None:
                row.taken_by, row.taken_at = actor.staff_id, now
            if target == HelpRequestStatus.DONE:
                row.done_at = now
            s.add(row)
            s.flush()
            self.audit.append(s, actor, f"help_{target.value}", subject=f"help:{request_id}")
            return _view(row, s.get(Customer, row.customer_id) if row.customer_id else None)
        raise AssertionError("unreachable")  # pragma: no cover
