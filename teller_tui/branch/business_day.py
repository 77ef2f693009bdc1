"""Business days: one per branch is open at a time; it opens for the local date (or a given
one) and closes only when every drawer of the day is closed, with a second person's approval
where the policy says so (action ``day_close``, through :mod:`teller_tui.branch.dual_control`).
Which date an entry carries is the ledger's rule (:mod:`teller_tui.ledger.business_day`); this
service opens and closes days."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, func, select

from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.roles import STAFF_ROLES, SUPERVISION_ROLES
from teller_tui.branch.dual_control import FourEyes
from teller_tui.branch.views import BusinessDayView, SupervisorCredentials
from teller_tui.common.clock import Clock, local_date
from teller_tui.common.errors import Conflict, PermissionDenied
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.db.engine import Database
from teller_tui.ledger.business_day import find_open_business_day, forget_open_days
from teller_tui.models.drawers import BusinessDay, Drawer
from teller_tui.models.ledger import JournalEntry
from teller_tui.models.enums import BusinessDayStatus, DrawerStatus
from teller_tui.auth.permissions import guarded

__all__ = ["BusinessDayService"]


def _day_view(day: BusinessDay, drawers_open: int = 0) -> BusinessDayView:
    assert day.id is not None
    return BusinessDayView(day.id, day.branch_code, day.business_date, day.status, day.opened_at, day.closed_at,
                           drawers_open)


class BusinessDayService:
    def __init__(self, *, db: Database, clock: Clock, audit: AuditTrail, four_eyes: FourEyes) -> None:
        self.db, self.clock, self.audit, self.four_eyes = db, clock, audit, four_eyes

    def current(self, branch_code: str) -> BusinessDayView | None:
        """The branch's open day with the number of drawers not yet closed, or None."""
        with self.db.read() as session:
            day = find_open_business_day(session, branch_code)
            if day is None:
                return None
            n = session.exec(select(func.count()).select_from(Drawer).where(
                Drawer.business_day_id == day.id, Drawer.status != DrawerStatus.CLOSED)).one()
            return _day_view(day, int(n))

    @guarded("business_days")
    def open(self, actor: Actor, business_date: date | None = None) -> BusinessDayView:
        with self.db.write() as session:
            return _day_view(self.open_in(session, actor, business_date))

    def open_in(self, session: Session, actor: Actor, business_date: date | None) -> BusinessDay:
        """The open business day of the actor's branch, opening one for ``business_date`` (default:
        today, local) when none is open. Runs inside the caller's write transaction."""
        current = self.check_open_in(session, actor, business_date)
        if current is not None:
            return current
        wanted = business_date or local_date(self.clock.now())
        branch = actor.branch_code
        day = BusinessDay(branch_code=branch, business_date=wanted, status=BusinessDayStatus.OPEN,
                          opened_at=self.clock.now(), opened_by=actor.username)
        session.add(day)
        session.flush()
        forget_open_days(session)
        self.audit.append(session, actor, "business_day_open", subject=f"business_day:{branch}:{wanted}",
                          detail={"business_date": wanted.isoformat()})
        return day

    def check_open_in(self, session: Session, actor: Actor, business_date: date | None) -> BusinessDay | None:
        """Whether :meth:`open_in` can give a day, without writing: the open day (None when a new one
        would be opened), or the Conflict that :meth:`open_in` would raise. Callers that need a
        supervisor's code check this first, so a code is never spent on a day that cannot open."""
        if actor.role not in STAFF_ROLES:
            raise PermissionDenied(_("Only branch staff can open a business day."), code="forbidden")
        wanted = business_date or local_date(self.clock.now())
        branch = actor.branch_code
        current = find_open_business_day(session, branch)
        if current is not None:
            if business_date is not None and current.business_date != business_date:
                raise Conflict(_("Business day {date} is still open; close it before opening another.").format(
                    date=current.business_date.isoformat()), code="business_day_open")
            return current
        last = session.exec(select(BusinessDay).where(BusinessDay.branch_code == branch)
                            .order_by(col(BusinessDay.business_date).desc())).first()
        if last is not None and last.business_date >= wanted:
            raise Conflict(_("Business day {date} is already closed; the next business day starts on a later "
                             "date.").format(date=last.business_date.isoformat()), code="business_day_closed")
        # Entries never go back in time (invariant 12): after-hours postings (kiosk, automatic)
        # may already be dated to the next business day.
        latest = session.exec(select(col(JournalEntry.business_date)).order_by(col(JournalEntry.seq).desc())).first()
        if latest is not None and latest > wanted:
            raise Conflict(_("Entries are already dated {date}; open a business day on or after that date.").format(
                date=latest.isoformat()), code="business_day_behind")
        return None

    @guarded("business_days")
    def close(self, actor: Actor, supervisor: SupervisorCredentials | None = None, *,
              approval_id: int | None = None) -> BusinessDayView:
        """Close the branch's open day (supervisor); refused while any drawer of it is open. Needs an
        approval when the policy has a ``day_close`` rule (ApprovalRequired carrying the spec)."""
        if actor.role not in SUPERVISION_ROLES:
            raise PermissionDenied(_("Only a supervisor can close the business day."), code="forbidden")
        with self.db.read() as session:
            day = self._closable(session, actor)
            spec = self._spec(actor, day.business_date)
            if approval_id is None and supervisor is None:
                self.four_eyes.consume(session, spec, None)  # raises ApprovalRequired when one is needed
        approval_id = self.four_eyes.obtain(actor, spec, supervisor, approval_id)
        with self.db.write() as session:
            day = self._closable(session, actor)
            grant, approver = self.four_eyes.consume(session, self._spec(actor, day.business_date), approval_id)
            day.status = BusinessDayStatus.CLOSED
            day.closed_at = self.clock.now()
            day.closed_by = actor.username
            session.flush()
            forget_open_days(session)
            self.audit.append(session, actor, "business_day_close",
                              subject=f"business_day:{day.branch_code}:{day.business_date}",
                              detail={"business_date": day.business_date.isoformat(), "approver": approver,
                                      "approval_id": grant.approval_id if grant else None})
            return _day_view(day)
        raise AssertionError("unreachable")  # pragma: no cover

    def _closable(self, session: Session, actor: Actor) -> BusinessDay:
        day = find_open_business_day(session, actor.branch_code)
        if day is None:
            raise Conflict(_("No business day is open at this branch."), code="no_business_day")
        still_open = session.exec(select(Drawer.username).where(
            Drawer.business_day_id == day.id, Drawer.status != DrawerStatus.CLOSED)
            .order_by(col(Drawer.username))).all()
        if still_open:
            raise Conflict(_("The business day cannot close while drawers are open: {names}").format(
                names=", ".join(still_open)), code="drawers_open", drawers=list(still_open))
        return day

    def _spec(self, actor: Actor, business_date: date) -> ApprovalSpec:
        return self.four_eyes.spec(actor, ("day_close",), on=business_date,
                                   subject=f"business_day:{actor.branch_code}:{business_date.isoformat()}",
                                   summary=message(N_("Close business day {date} of branch {branch}"),
                                                   date=business_date.isoformat(), branch=actor.branch_code))
