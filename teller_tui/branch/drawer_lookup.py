"""Finding the actor's drawer inside a transaction, and the rule that cash needs an open one."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, select as core_select
from sqlmodel import Session, col, select

from teller_tui.audit.trail import Actor
from teller_tui.branch.views import OpenDrawer
from teller_tui.common.errors import Conflict
from teller_tui.common.i18n import _
from teller_tui.db import lean
from teller_tui.ledger.business_day import find_open_business_day, remember_open_day
from teller_tui.ledger.kinds import DRAWER_ENTRY_KINDS
from teller_tui.models import JournalEntry, Posting
from teller_tui.models.drawers import BusinessDay, Drawer, DrawerEvent
from teller_tui.models.enums import BusinessDayStatus, DrawerEventKind
from teller_tui.models.enums import DrawerStatus as DrawerState

__all__ = ["actor_drawer", "handover_offer", "on_break", "require_open_drawer", "todays_cash_count"]


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


@cache
def _open_drawer_stmt(lock: bool) -> Any:
    """The open day, the actor's drawer on it and the drawer's last break and hand-over events, in one
    select (built once per ``lock``): the business day's row ``FOR SHARE`` when ``lock``."""
    bd, dr, ev = BusinessDay.__table__, Drawer.__table__, DrawerEvent.__table__  # type: ignore[attr-defined]

    def last(column: Any, kinds: tuple[str, str]) -> Any:
        return (core_select(column).where(ev.c.drawer_id == dr.c.id, ev.c.kind.in_(kinds))
                .order_by(ev.c.id.desc()).limit(1).scalar_subquery())

    breaks = (DrawerEventKind.BREAK_START, DrawerEventKind.BREAK_END)
    offers = (DrawerEventKind.HANDOVER_OFFER, DrawerEventKind.HANDOVER_CANCEL)
    stmt = (core_select(bd.c.business_date.label("day"), dr.c.id, dr.c.account_id, dr.c.business_date, dr.c.currency,
                   dr.c.status, last(ev.c.kind, breaks).label("last_break"),
                   last(ev.c.kind, offers).label("last_offer"), last(ev.c.memo, offers).label("offer_to"))
            .select_from(bd.outerjoin(dr, (dr.c.business_day_id == bd.c.id) & (dr.c.staff_id == bindparam("staff"))))
            .where(bd.c.branch_code == bindparam("branch"), bd.c.status == BusinessDayStatus.OPEN)
            .order_by(bd.c.business_date.desc()).limit(1))
    return stmt.with_for_update(read=True, of=bd) if lock else stmt


def require_open_drawer(session: Session, actor: Actor, *, lock: bool = False) -> OpenDrawer:
    """The actor's open drawer on the current business day, or a Conflict saying why not.

    The desk's cash service calls this for every cash transaction (inside its write transaction),
    with ``lock``: the day's row is then read ``FOR SHARE`` (as the ledger dates an entry), so the
    posting's later look-ups of the day are served from this one read
    (:func:`teller_tui.ledger.business_day.remember_open_day`). One select; the same rules as
    :func:`actor_drawer`, :func:`on_break` and :func:`handover_offer`.
    """
    row = lean.first(session, _open_drawer_stmt(lock), {"branch": actor.branch_code, "staff": actor.staff_id})
    remember_open_day(session, actor.branch_code, row.day if row is not None else None, locked=lock)
    if row is None:
        raise Conflict(_("The branch business day is not open: open your cash drawer first."),
                       code="no_business_day")
    if row.id is None:
        raise Conflict(_("You have no open cash drawer for business day {date}: open your drawer with a float "
                         "from the vault first.").format(date=row.day.isoformat()), code="no_open_drawer")
    if row.status == DrawerState.COUNTING:
        raise Conflict(_("Your drawer is being counted for the end of day: no more cash transactions today."),
                       code="drawer_counting")
    if row.status == DrawerState.CLOSED:
        raise Conflict(_("Your drawer for business day {date} is closed; it reopens on the next business day.")
                       .format(date=row.day.isoformat()), code="drawer_closed")
    if row.last_break == DrawerEventKind.BREAK_START:
        raise Conflict(_("This drawer is locked while its teller is on a break: they return and sign in "
                         "again first."), code="drawer_on_break")
    if row.last_offer == DrawerEventKind.HANDOVER_OFFER and row.offer_to:
        raise Conflict(_("This drawer is being handed to another teller: no cash transactions until the "
                         "hand-over is countersigned or withdrawn."), code="drawer_handover_pending")
    return OpenDrawer(int(row.id), int(row.account_id), row.business_date, row.currency)


@cache
def _todays_cash_stmt(bounded: bool) -> Any:
    p, je = Posting.__table__, JournalEntry.__table__  # type: ignore[attr-defined]
    stmt = (core_select(func.count()).select_from(p.join(je, je.c.id == p.c.entry_id))
            .where(p.c.account_id == bindparam("acct"), je.c.business_date == bindparam("day"),
                   je.c.kind.not_in(DRAWER_ENTRY_KINDS)))
    return stmt.where(p.c.entry_id >= bindparam("first")) if bounded else stmt


def todays_cash_count(session: Session, drawer_id: int, account_id: int, business_date: date) -> int:
    """How many cash transactions the drawer took on its business day (its account's postings of
    that day, not the drawer's own float, vault and return entries).

    Read from the teller's own drawer postings only: an index range of the drawer account's
    postings (ix_posting_account_entry) from the drawer's first entry of the day (its opening
    float; entries on one account are numbered in the order they lock it), so the count does not
    grow with the branch's or the bank's day, nor with the account's past years."""
    first = session.execute(core_select(func.min(col(DrawerEvent.entry_id))).where(
        col(DrawerEvent.drawer_id) == drawer_id)).scalar()
    params = {"acct": account_id, "day": business_date, "first": first}
    return int(session.execute(_todays_cash_stmt(first is not None), params).scalar_one())
