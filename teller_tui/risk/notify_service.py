"""NotifyService (``services.notify``): consent per channel, what a customer was told, and delivery.

Public API::

    notify = services.notify
    notify.for_customer(actor, customer_id)                     # -> [NotificationView], newest first
    notify.contacts(actor, customer_id)                         # -> [ContactView] (sms, email) as recorded
    notify.set_contact(actor, customer_id, "email", "a@b.cn", consent=True)   # or "sms"; consent=False opts out
    notify.run(actor)                                           # -> RunResult (one batch; raises notify_off)

Writers queue notifications through :class:`~teller_tui.notify.outbox.Outbox` in their own transaction;
delivery (at-least-once, de-duplicated by message id, one recorded outcome) is
:class:`~teller_tui.risk.sender.Sender`. Consent changes are audited (``notify_contact``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.common.clock import Clock
from teller_tui.common.errors import NotFound, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.masks import mask_phone
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.models import Customer, CustomerContact, OutboxMessage
from teller_tui.models.notify import Channel
from teller_tui.notify.outbox import NotificationView
from teller_tui.risk.sender import RunResult, Sender

__all__ = ["ContactView", "NotifyService", "mask_address"]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,180}\.[A-Za-z]{2,24}$")


def mask_address(channel: str, address: str) -> str:
    if channel == Channel.EMAIL:
        local, _at, domain = address.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    return mask_phone(address)


@dataclass(frozen=True, slots=True)
class ContactView:
    """One channel's consent as recorded (``recorded`` False: nothing on file, the defaults apply:
    SMS to the customer's mobile, no e-mail)."""

    channel: str
    address: str  # the full address typed at the counter (the teller edits it); "" for SMS = the mobile
    masked: str
    consent: bool
    recorded: bool
    updated_at: datetime | None


class NotifyService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, *, sender: Sender) -> None:
        self.db, self.clock, self.audit, self.sender = db, clock, audit, sender

    @guarded("notify")
    def for_customer(self, actor: Actor, customer_id: int, *, limit: int = 50) -> list[NotificationView]:
        with self.db.read() as s:
            rows = s.execute(select(OutboxMessage).where(col(OutboxMessage.customer_id) == customer_id)
                             .order_by(col(OutboxMessage.id).desc()).limit(limit)).scalars()
            return [NotificationView(r.id or 0, r.message_id, r.event, r.channel, mask_address(r.channel, r.address),
                                     r.status, r.attempts, r.created_at, r.sent_at, r.last_error) for r in rows]

    @guarded("notify")
    def contacts(self, actor: Actor, customer_id: int) -> list[ContactView]:
        """SMS then e-mail, as recorded for the customer (or the defaults)."""
        with self.db.read() as s:
            cust = s.get(Customer, customer_id)
            if cust is None:
                raise NotFound(_("No such customer"), code="no_customer")
            rows = {r.channel: r for r in s.execute(select(CustomerContact).where(
                col(CustomerContact.customer_id) == customer_id)).scalars()}
            out = []
            for channel in (Channel.SMS, Channel.EMAIL):
                row = rows.get(channel)
                shown = (row.address if row and row.address else "") or (cust.phone or "" if channel == Channel.SMS
                                                                         else "")
                out.append(ContactView(channel, row.address if row else "", mask_address(channel, shown),
                                       row.consent if row else channel == Channel.SMS, row is not None,
                                       row.updated_at if row else None))
            return out

    @guarded("notify")
    def set_contact(self, actor: Actor, customer_id: int, channel: str, address: str, *, consent: bool) -> None:
        """Record the customer's consent (or opt-out) for ``channel``; e-mail needs a valid address."""
        if channel not in set(Channel):
            raise ValidationError(_("Unknown channel {channel}").format(channel=channel), code="channel")
        address = clean_text(address, limit=254)
        if channel == Channel.EMAIL and consent and not _EMAIL.match(address):
            raise ValidationError(_("Type a valid e-mail address"), code="email", field="address")

        def work(s: Session) -> None:
            if s.get(Customer, customer_id) is None:
                raise NotFound(_("No such customer"), code="no_customer")
            row = s.execute(select(CustomerContact).where(col(CustomerContact.customer_id) == customer_id,
                                                          col(CustomerContact.channel) == channel)).scalars().first()
            if row is None:
                row = CustomerContact(customer_id=customer_id, channel=channel, updated_at=self.clock.now())
                s.add(row)
            row.address, row.consent = address, consent
            row.updated_at, row.updated_by = self.clock.now(), actor.staff_id
            s.flush()
            self.audit.append(s, actor, "notify_contact", subject=f"customer:{customer_id}",
                              detail={"channel": channel, "consent": consent,
                                      "address": mask_address(channel, address)})

        self.db.write_retrying(work)

    @guarded("notify")
    def run(self, actor: Actor, *, limit: int = 100) -> RunResult:
        """Deliver one batch of due notifications (``teller notify run``; the app's timer)."""
        return self.sender.run_once(limit=limit)
