"""What became of the drawer's own submissions (open, close) when the ledger key alone cannot say.

* The close is one transaction: it marks the drawer row closed and posts ``drawer:<id>:return``
  (the counted cash back to the vault) and ``drawer:<id>:over_short`` (the difference), either of
  which may be absent (nothing counted, no difference). The row's status is the answer; the keys,
  derived from the drawer id the terminal recorded (``subject`` ``drawer:<id>``), give a reference.
* The open's float entry carries the terminal's key (looked up by key first); a float of zero
  posts no entry, so the person's drawer opened at or after the submission started is the answer
  (the row's ``opened_at`` and the submission's ``started_at`` come from the same terminal clock).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from teller_tui.models.drawers import Drawer
from teller_tui.models.enums import DrawerStatus

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.desk.inflight import Submission
    from teller_tui.ledger import Ledger

__all__ = ["drawer_close_outcome", "drawer_open_outcome"]


def _drawer_id(subject: str) -> int | None:
    prefix, _, number = subject.partition(":")
    return int(number) if prefix == "drawer" and number.isdigit() else None


def drawer_close_outcome(session: Session, ledger: Ledger, actor: Actor, sub: Submission) -> tuple[bool, str | None]:
    """(closed?, the reference of its return or over/short entry) for the actor's own drawer."""
    drawer_id = _drawer_id(sub.subject)
    drawer = session.get(Drawer, drawer_id) if drawer_id is not None else None
    if drawer is None or drawer.staff_id != actor.staff_id or drawer.status != DrawerStatus.CLOSED:
        return False, None
    for suffix in ("return", "over_short"):
        entry = ledger.entry_by_key(session, f"drawer:{drawer_id}:{suffix}")
        if entry is not None:
            return True, entry.reference
    return True, None


def drawer_open_outcome(session: Session, actor: Actor, sub: Submission) -> bool:
    """Whether the actor's drawer was opened (with a float of zero) since ``sub`` started."""
    started = datetime.fromisoformat(sub.started_at)
    opened = session.exec(select(Drawer.opened_at).where(Drawer.staff_id == actor.staff_id, Drawer.float_minor == 0)
                          .order_by(col(Drawer.id).desc())).first()
    if opened is None:
        return False
    if (opened.tzinfo is None) != (started.tzinfo is None):
        opened, started = opened.replace(tzinfo=None), started.replace(tzinfo=None)
    return opened >= started
