"""What the upload checks centrally before it posts an item of the terminal's queue file.

The queue file is the terminal's own record, written while the database was down; whoever controls
the OS account running the app can edit it. So the upload believes of it only what the central
books can confirm, and sends anything else to the supervisor's exception list (never posted):

* **the taker had a session here**: a successful ``sign_in`` or ``unlock_screen`` in the central
  audit trail by that staff id at this terminal, at most :data:`SESSION_HOURS` before the cash was
  taken, and the staff row still has the name the item gives;
* **inside the outage**: the terminal's last contact with the database (kept in the queue) <=
  ``taken_at`` <= now;
* **the caps across all terminals**: per teller and per wallet, the offline items already uploaded
  centrally (``offline_upload`` / ``offline_exception_post`` records) taken since this item's outage
  began, plus this one; per terminal, the same for this terminal.

Every item carries the terminal's sequence number; :func:`report_high_water` records the highest one
centrally at each upload, and :func:`sequence_gaps` lists numbers below it that never reached the
books (an item deleted from the file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from teller_tui.common.i18n import _
from teller_tui.models import AuditRecord, Staff
from teller_tui.offline.types import Caps, OfflineItem

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail

__all__ = ["POSTED_ACTIONS", "SESSION_HOURS", "central_check", "report_high_water", "sequence_gaps"]

#: A sign-in older than this does not cover cash taken now (no counter session lasts longer).
SESSION_HOURS = 16
#: Audit actions that put an offline item into the books.
POSTED_ACTIONS = ("offline_upload", "offline_exception_post")
#: Audit actions that name an offline item's sequence number (it reached the books one way or another).
SEEN_ACTIONS = (*POSTED_ACTIONS, "offline_exception", "offline_refund")


def _details(s: Session, actions: Iterable[str], since: datetime | None = None) -> list[dict[str, Any]]:
    q = select(col(AuditRecord.detail_json)).where(col(AuditRecord.action).in_(list(actions)))
    if since is not None:
        q = q.where(col(AuditRecord.at) >= since)
    out: list[dict[str, Any]] = []
    for (raw,) in s.execute(q).all():
        try:
            found = json.loads(raw)
        except ValueError:
            continue
        if isinstance(found, dict):
            out.append(found)
    return out


def _had_session(s: Session, item: OfflineItem) -> bool:
    taker = item.taker
    if taker.staff_id is None:
        return False
    row = s.get(Staff, taker.staff_id)
    if row is None or row.username != taker.username:
        return False
    found = s.execute(select(col(AuditRecord.id)).where(
        col(AuditRecord.action).in_(("sign_in", "unlock_screen")), col(AuditRecord.outcome) == "ok",
        col(AuditRecord.actor_id) == taker.staff_id, col(AuditRecord.terminal_id) == taker.terminal_id,
        col(AuditRecord.at) <= item.taken_at,
        col(AuditRecord.at) >= item.taken_at - timedelta(hours=SESSION_HOURS)).limit(1)).first()
    return found is not None


def _used(s: Session, item: OfflineItem) -> tuple[int, int, int]:
    """Minor units already posted centrally from offline items of this outage: (teller, wallet, terminal)."""
    assert item.outage_since is not None
    teller = wallet = terminal = 0
    for d in _details(s, POSTED_ACTIONS, since=item.outage_since):
        try:
            taken = datetime.fromisoformat(str(d.get("taken_at", "")))
            minor = int(d.get("amount_minor", 0))
        except (TypeError, ValueError):
            continue
        if d.get("currency") != item.amount.currency or taken < item.outage_since:
            continue
        if d.get("taken_by_id") == item.taker.staff_id:
            teller += minor
        if d.get("wallet_id") == item.wallet_id:
            wallet += minor
        if d.get("terminal") == item.taker.terminal_id:
            terminal += minor
    return teller, wallet, terminal


def central_check(s: Session, item: OfflineItem, caps: Caps, now: datetime) -> tuple[str, str] | None:
    """(exception code, sentence) when the central books cannot confirm ``item``; None when they do."""
    since = item.outage_since
    if since is None or not since <= item.taken_at <= now:
        return "offline_outside_outage", _(
            "The queue says the cash was taken outside the outage this terminal recorded: a supervisor decides.")
    if not _had_session(s, item):
        return "offline_no_session", _(
            "The central books show no sign-in of {teller} at terminal {terminal} before the cash was taken: "
            "a supervisor decides.").format(teller=item.taker.username, terminal=item.taker.terminal_id)
    teller, wallet, terminal = _used(s, item)
    minor = item.amount.minor
    if teller + minor > caps.per_teller or wallet + minor > caps.per_wallet or terminal + minor > caps.per_outage:
        return "offline_cap_central", _(
            "Together with the offline cash already uploaded for this outage (all terminals) it passes an "
            "offline cap: a supervisor decides.")
    return None


def report_high_water(s: Session, actor: Actor, audit: AuditTrail, terminal_id: str, high_water: int) -> None:
    """Record the terminal's highest sequence number centrally (when it is higher than the last recorded)."""
    known = max((int(d.get("seq", 0)) for d in _details(s, ("offline_high_water",))
                 if d.get("terminal") == terminal_id), default=0)
    if high_water > known:
        audit.append(s, actor, "offline_high_water", subject=f"terminal:{terminal_id}"[:96],
                     detail={"terminal": terminal_id, "seq": high_water, "reported_by": actor.username})


def sequence_gaps(s: Session, terminal_id: str, local: Iterable[int]) -> list[int]:
    """Sequence numbers up to the highest recorded centrally for ``terminal_id`` that neither reached the
    books nor are still in the terminal's file (``local``): items deleted from the queue."""
    high = max((int(d.get("seq", 0)) for d in _details(s, ("offline_high_water",))
                if d.get("terminal") == terminal_id), default=0)
    seen = {int(d.get("seq", 0)) for d in _details(s, SEEN_ACTIONS) if d.get("terminal") == terminal_id}
    return sorted(set(range(1, high + 1)) - seen - set(local))
