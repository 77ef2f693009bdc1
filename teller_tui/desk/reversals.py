"""Which desk entries may be reversed.

Rules: only the teller's own cash_in / cash_out / transfer, on the current business day, once.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import col

from teller_tui.common.errors import Conflict, NotFound, PermissionDenied
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import REVERSIBLE_KINDS
from teller_tui.desk.wallet_sides import entry_wallet
from teller_tui.models import JournalEntry

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor


def reversal_target(session: Session, actor: Actor, entry_id: int, today: date) -> tuple[JournalEntry, int, Money]:
    """(entry, wallet id, signed amount to the wallet) of an entry ``actor`` may reverse ``today``;
    raises NotFound / Conflict / PermissionDenied with the reason otherwise."""
    e = session.get(JournalEntry, entry_id)
    if e is None:
        raise NotFound(_("No such transaction"), code="no_entry")
    if e.kind not in REVERSIBLE_KINDS:
        raise Conflict(_("Only cash in, cash out and transfers can be reversed here"), code="reverse_kind")
    if e.actor_id is None or e.actor_id != actor.staff_id:
        raise PermissionDenied(_("You can reverse only your own transactions"), code="reverse_not_own")
    if e.business_date != today:
        raise Conflict(_("Only today's transactions can be reversed"), code="reverse_not_today")
    done = session.execute(select(col(JournalEntry.reference))
                           .where(col(JournalEntry.reverses_entry_id) == entry_id)).scalar()
    if done is not None:
        raise Conflict(_("Already reversed by {reference}").format(reference=done), code="already_reversed")
    wid, amount = entry_wallet(session, entry_id)
    return e, wid, amount
