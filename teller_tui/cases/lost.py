"""A lost or stolen phone reported at the counter: the wallet blocked and its case opened in ONE
transaction (both or neither), the customer told, the recovery path on the case.

Public API::

    svc = LostPhoneService(db, clock, audit, ledger, levels=, outbox=)   # services.lost_phones
    view = svc.report(actor, customer_id, wallet_id, "phone stolen on the bus")   # -> CaseView

The block is :mod:`teller_tui.wallets.blocks` (nothing in or out on any channel, distinct from a
freeze); the case is a ``lost_device`` case with a thread line that says how to recover (a device
replacement with a supervisor's approval lifts the block). The customer's notification (event
``block``) is queued in the same transaction. A wallet already blocked is refused
(``wallet_blocked``): the existing case says what to do.
"""

from __future__ import annotations

from sqlmodel import Session

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import STAFF_ROLES, require_role
from teller_tui.cases.opening import insert_case
from teller_tui.cases.service_levels import ServiceLevels
from teller_tui.cases.views import CaseView
from teller_tui.common.clock import BRANCH_TZ, Clock
from teller_tui.common.errors import NotFound, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.masks import mask_wallet
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.ledger import Ledger
from teller_tui.models import Wallet
from teller_tui.models.cases import CaseType
from teller_tui.notify.outbox import Outbox
from teller_tui.wallets.blocks import place_block
from teller_tui.wallets.lifecycle_rules import check_transition

__all__ = ["RECOVERY", "LostPhoneService"]

#: The recovery path, written on the case (and shown by the case screen).
RECOVERY = N_("Wallet blocked on every channel (nothing in or out). Recovery: the customer brings ID; "
            "replace the device (new PIN, authenticator) with a supervisor's approval, which lifts the block.")


class LostPhoneService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, ledger: Ledger, *, levels: ServiceLevels,
                 outbox: Outbox) -> None:
        self.db, self.clock, self.audit, self.ledger = db, clock, audit, ledger
        self.levels, self.outbox = levels, outbox

    @guarded("lost_phones")
    def report(self, actor: Actor, customer_id: int, wallet_id: int, summary: str) -> CaseView:
        """Block the wallet and open its lost-device case, in one transaction."""
        require_role(actor, *STAFF_ROLES)
        reason = clean_text(summary, limit=200)
        if not reason:
            raise ValidationError(_("Say in a few words what happened to the phone."), code="case_summary")

        def work(s: Session) -> CaseView:
            now = self.clock.now()
            w = s.get(Wallet, wallet_id)
            if w is None:
                raise NotFound(_("No such wallet"), code="no_wallet")
            if w.customer_id != customer_id:
                raise ValidationError(_("That wallet is not the customer's."), code="case_wallet")
            before = w.status
            check_transition(w.status, "block_lost")
            place_block(s, self.ledger, w, actor.staff_id, reason, now)
            self.audit.append(s, actor, "wallet_block", subject=w.number,
                              detail={"from": before, "to": w.status, "reason": reason})
            view = insert_case(s, self.audit, self.levels, actor, customer_id, CaseType.LOST_DEVICE, reason, now,
                               wallet_id=wallet_id, note=_(RECOVERY))
            at = now.astimezone(BRANCH_TZ).strftime("%Y-%m-%d %H:%M")
            self.outbox.enqueue(s, event="block", event_key=f"block:{w.number}:{view.number}",
                                customer_id=customer_id,
                                params={"wallet": mask_wallet(w.number), "at": at, "case": view.number})
            return view

        return self.db.write_retrying(work)
