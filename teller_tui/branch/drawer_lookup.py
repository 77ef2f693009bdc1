"""Finding the actor's drawer inside a transaction, and the rule that cash needs an open one."""

from __future__ import annotations

from sqlmodel import Session, col, select

from teller_tui.audit.trail import Actor
from teller_tui.branch.views import OpenDrawer
from teller_tui.common.errors import Conflict
from teller_tui.common.i18n import _
from teller_tui.ledger.business_day import find_open_business_day
from teller_tui.models.drawers import BusinessDay, Drawer, DrawerEvent
from teller_tui.models.enums import DrawerEventKind
from teller_tui.models.enums import DrawerStatus as DrawerState

__all__ = ["actor_drawer", "handover_offer", "on_break", "require_open_drawer"]


def on_break(session: Session, drawer_id: int) -> bool:
    """Whether the drawer's last break event is a start (its teller stepped away and has not returned)."""
    last = session.exec(select(DrawerEvent.kind).where(
        DrawerEvent.drawer_id == drawer_id,
        col(DrawerEvent.kind).in_((DrawerEventKind.BREAK_START, DrawerEventKind.BREAK_END)))
        .order_by(col(DrawerEvent.id).desc()).limit(1)).first()
    return last == DrawerEventKind.BREAK_START


def handover_offer(session: Session, drawer_id: int) -> str | None:
    """The receiver's user name while the drawer is offered to them (its last offer not withdrawn)."""
    last = session.exec(select(DrawerEvent.kind, DrawerEvent.memo).where(
        DrawerEvent.drawer_id == drawer_id,
        col(DrawerEvent.kind).in_((DrawerEventKind.HANDOVER_OFFER, DrawerEventKind.HANDOVER_CANCEL)))
        .order_by(col(DrawerEvent.id).desc()).limit(1)).first()
    return last[1] if last is not None and last[0] == DrawerEventKind.HANDOVER_OFFER else None


def actor_drawer(session: Session, actor: Actor) -> tuple[Drawer | None, BusinessDay] | None:
    """(drawer, business_day) of the actor on the branch's open business day: the drawer is None
    when the actor has none that day; the whole answer is None when no day is open."""
    day = find_open_business_day(session, actor.branch_code)
    if day is None:
        return None
    drawer = None
    if actor.staff_id is not None:
        drawer = session.exec(select(Drawer).where(Drawer.business_day_id == day.id,
                                                   Drawer.staff_id == actor.staff_id)).first()
    return drawer, day


def require_open_drawer(session: Session, actor: Actor) -> OpenDrawer:
    """The actor's open drawer on the current business day, or a Conflict saying why not.

    The desk's cash service calls this for every cash transaction (inside its write transaction).
    """
    found = actor_drawer(session, actor)
    if found is None:
        raise Conflict(_("The branch business day is not open: open your cash drawer first."),
                       code="no_business_day")
    drawer, day = found
    if drawer is None:
        raise Conflict(_("You have no open cash drawer for business day {date}: open your drawer with a float "
                         "from the vault first.").format(date=day.business_date.isoformat()), code="no_open_drawer")
    if drawer.status == DrawerState.COUNTING:
        raise Conflict(_("Your drawer is being counted for the end of day: no more cash transactions today."),
                       code="drawer_counting")
    if drawer.status == DrawerState.CLOSED:
        raise Conflict(_("Your drawer for business day {date} is closed; it reopens on the next business day.")
                       .format(date=day.business_date.isoformat()), code="drawer_closed")
    assert drawer.id is not None
    if on_break(session, drawer.id):
        raise Conflict(_("This drawer is locked while its teller is on a break: they return and sign in "
                         "again first."), code="drawer_on_break")
    if handover_offer(session, drawer.id):
        raise Conflict(_("This drawer is being handed to another teller: no cash transactions until the "
                         "hand-over is countersigned or withdrawn."), code="drawer_handover_pending")
    return OpenDrawer(drawer.id, drawer.account_id, drawer.business_date, drawer.currency)
