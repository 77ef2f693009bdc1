"""Service cases: open, work, resolve, close and reopen a customer's case; deadlines and escalation.

Public API::

    svc = CaseService(db, clock, audit, levels=)               # services.cases
    v = svc.open_case(actor, customer_id, CaseType.COMPLAINT, "summary", wallet_id=None,
                      entry_references=("R2026…",), refusal_ids=(7,), note="")   # -> CaseView
    d = svc.get(actor, "CS-000001")                             # -> CaseDetail (thread, links)
    rows = svc.list_cases(actor, status=None, due=False, customer_id=None)
    svc.add_note(actor, case, "text"); svc.assign(actor, case, "teller2")
    svc.link_entry(actor, case, reference); svc.link_refusal(actor, case, refusal_id)
    svc.move(actor, case, CaseStatus.IN_PROGRESS | WAITING_FOR_CUSTOMER, note="")
    svc.resolve(actor, case, "resolution", in_customer_favour=None); svc.close(actor, case)
    svc.reopen(actor, case, "reason")
    ids = svc.escalate_overdue(actor)                           # the sweep: past-deadline cases
    rows = svc.escalated(actor)                                 # for supervisors

A dispute resolved in the customer's favour with money is :class:`teller_tui.cases.disputes.DisputeService`.
Deadlines come from :class:`~teller_tui.cases.service_levels.ServiceLevels` (``data/service_levels.toml``).
Every change is audited (``case_*`` actions) and appended to the case's thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import COUNTER_ROLES, STAFF_ROLES, SUPERVISION_ROLES, Role, require_role
from teller_tui.cases.flow import DONE, REOPENABLE, status_title
from teller_tui.cases.records import add_event, case_detail, case_view, load_case, set_status
from teller_tui.cases.opening import insert_case, link_entry, link_refusal
from teller_tui.cases.service_levels import ServiceLevels
from teller_tui.cases.views import CaseDetail, CaseView, case_number
from teller_tui.common.clock import Clock, local_date
from teller_tui.common.errors import Conflict, NotFound, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.models import Staff
from teller_tui.models.cases import CaseEventKind, CaseStatus, CaseType, ServiceCase

__all__ = ["CaseService"]

#: A change made to a locked case row inside :meth:`CaseService._change`'s transaction.
_Work = Callable[[Session, ServiceCase, datetime], None]


class CaseService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, *, levels: ServiceLevels) -> None:
        self.db, self.clock, self.audit, self.levels = db, clock, audit, levels

    # -- opening ---------------------------------------------------------------------------------
    @guarded("cases")
    def open_case(self, actor: Actor, customer_id: int, case_type: CaseType | str, summary: str, *,
                  wallet_id: int | None = None, entry_references: Sequence[str] = (),
                  refusal_ids: Sequence[int] = (), note: str = "") -> CaseView:
        require_role(actor, *STAFF_ROLES)
        with self.db.write() as s:
            return insert_case(s, self.audit, self.levels, actor, customer_id, case_type, summary, self.clock.now(),
                               wallet_id=wallet_id, entry_references=entry_references, refusal_ids=refusal_ids,
                               note=note)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reading ---------------------------------------------------------------------------------
    @guarded("cases")
    def get(self, actor: Actor, case: int | str) -> CaseDetail:
        require_role(actor, *STAFF_ROLES)
        with self.db.read() as s:
            return case_detail(s, load_case(s, actor, case), self.clock.now())

    @guarded("cases")
    def list_cases(self, actor: Actor, *, status: CaseStatus | str | None = None, due: bool = False,
                   customer_id: int | None = None, owner: str | None = None, limit: int = 200) -> list[CaseView]:
        """The branch's cases, soonest deadline first. ``due``: only those past their deadline
        (not resolved, closed or waiting for the customer)."""
        require_role(actor, *STAFF_ROLES)
        now = self.clock.now()
        stmt = select(ServiceCase).where(col(ServiceCase.branch_code) == actor.branch_code)
        if status is not None:
            try:
                stmt = stmt.where(col(ServiceCase.status) == CaseStatus(status))
            except ValueError:
                raise ValidationError(_("Unknown case status {status}").format(status=status),
                                      code="case_status") from None
        if due:
            stmt = stmt.where(col(ServiceCase.status).in_((CaseStatus.OPEN, CaseStatus.IN_PROGRESS)),
                              col(ServiceCase.due_at) <= now)
        if customer_id is not None:
            stmt = stmt.where(col(ServiceCase.customer_id) == customer_id)
        with self.db.read() as s:
            if owner is not None:
                stmt = stmt.where(col(ServiceCase.owner_id) == self._staff_id(s, actor, owner))
            rows = s.execute(stmt.order_by(col(ServiceCase.due_at), col(ServiceCase.id))
                             .limit(max(1, min(limit, 1000)))).scalars().all()
            return [case_view(s, r, now) for r in rows]

    @guarded("cases")
    def escalated(self, actor: Actor) -> list[CaseView]:
        """Escalated cases of the supervisor's branch that are still owed to the customer."""
        require_role(actor, *SUPERVISION_ROLES)
        now = self.clock.now()
        with self.db.read() as s:
            rows = s.execute(select(ServiceCase).where(
                col(ServiceCase.branch_code) == actor.branch_code, col(ServiceCase.escalated_at).is_not(None),
                col(ServiceCase.status).not_in(tuple(DONE)))
                .order_by(col(ServiceCase.due_at), col(ServiceCase.id))).scalars().all()
            return [case_view(s, r, now) for r in rows]

    # -- working on it -----------------------------------------------------------------------------
    @guarded("cases")
    def add_note(self, actor: Actor, case: int | str, text: str) -> CaseDetail:
        require_role(actor, *STAFF_ROLES)
        if not clean_text(text):
            raise ValidationError(_("The note is empty."), code="case_note_empty")
        return self._change(actor, case, "case_note", lambda s, row, now: add_event(
            s, row, actor, CaseEventKind.NOTE, now, text))

    @guarded("cases")
    def assign(self, actor: Actor, case: int | str, username: str) -> CaseDetail:
        require_role(actor, *STAFF_ROLES)

        def work(s: Session, row: ServiceCase, now: datetime) -> None:
            row.owner_id = self._staff_id(s, actor, username)
            add_event(s, row, actor, CaseEventKind.ASSIGNED, now, clean_text(username, limit=64))
        return self._change(actor, case, "case_assign", work, username=clean_text(username, limit=64))

    @guarded("cases")
    def link_entry(self, actor: Actor, case: int | str, reference: str) -> CaseDetail:
        require_role(actor, *STAFF_ROLES)
        return self._change(actor, case, "case_link", lambda s, row, now: link_entry(s, row, actor, reference, now),
                            reference=reference)

    @guarded("cases")
    def link_refusal(self, actor: Actor, case: int | str, refusal_id: int) -> CaseDetail:
        require_role(actor, *STAFF_ROLES)
        return self._change(actor, case, "case_link", lambda s, row, now: link_refusal(
            s, row, actor, refusal_id, now), refusal_id=refusal_id)

    @guarded("cases")
    def move(self, actor: Actor, case: int | str, status: CaseStatus | str, note: str = "") -> CaseDetail:
        """In progress or waiting for the customer (resolve, close and reopen have their own methods)."""
        require_role(actor, *STAFF_ROLES)
        target = CaseStatus(status)
        if target not in (CaseStatus.IN_PROGRESS, CaseStatus.WAITING_FOR_CUSTOMER):
            raise ValidationError(f"use resolve(), close() or reopen() for {target}", code="case_move")

        def work(s: Session, row: ServiceCase, now: datetime) -> None:
            if row.status in REOPENABLE:
                raise Conflict(_("This case is {status}: reopen it first.").format(
                    status=status_title(row.status)), code="case_transition")
            set_status(s, row, actor, target, now, note, levels=self.levels)
        return self._change(actor, case, "case_status", work, to=target.value)

    @guarded("cases")
    def resolve(self, actor: Actor, case: int | str, resolution: str, *, in_customer_favour: bool | None = None
                ) -> CaseDetail:
        """Resolve without money moving (a dispute with a correction: DisputeService.resolve_with_correction)."""
        require_role(actor, *STAFF_ROLES)
        text = clean_text(resolution, multiline=True, limit=1000)
        if not text:
            raise ValidationError(_("Write down how the case was resolved."), code="case_resolution")

        def work(s: Session, row: ServiceCase, now: datetime) -> None:
            set_status(s, row, actor, CaseStatus.RESOLVED, now, text, levels=self.levels)
            row.resolution, row.in_customer_favour = text, in_customer_favour
            row.resolved_at, row.resolved_by = now, actor.staff_id
        return self._change(actor, case, "case_resolve", work, in_customer_favour=in_customer_favour)

    @guarded("cases")
    def close(self, actor: Actor, case: int | str, note: str = "") -> CaseDetail:
        require_role(actor, *STAFF_ROLES)

        def work(s: Session, row: ServiceCase, now: datetime) -> None:
            set_status(s, row, actor, CaseStatus.CLOSED, now, note, levels=self.levels)
            row.closed_at = now
        return self._change(actor, case, "case_close", work)

    @guarded("cases")
    def reopen(self, actor: Actor, case: int | str, reason: str) -> CaseDetail:
        """A resolved or closed case back to in progress, with a fresh deadline from now."""
        require_role(actor, *STAFF_ROLES)
        reason = clean_text(reason, multiline=True, limit=1000)
        if not reason:
            raise ValidationError(_("Give a reason for reopening the case."), code="case_reopen_reason")

        def work(s: Session, row: ServiceCase, now: datetime) -> None:
            if row.status not in REOPENABLE:
                raise Conflict(_("Only a resolved or closed case can be reopened."), code="case_transition")
            set_status(s, row, actor, CaseStatus.IN_PROGRESS, now, reason, levels=self.levels)
            row.reopened += 1
            row.due_at = self.levels.deadline(row.type, now)
            row.escalated_at = row.resolved_at = row.closed_at = row.resolved_by = None
            row.resolution, row.in_customer_favour = "", None
        return self._change(actor, case, "case_reopen", work)

    # -- escalation ----------------------------------------------------------------------------------
    @guarded("cases")
    def escalate(self, actor: Actor, case: int | str, note: str = "") -> CaseDetail:
        """Escalate now, before the deadline (the teller asks the branch's supervisors for help)."""
        require_role(actor, *STAFF_ROLES)

        def work(s: Session, row: ServiceCase, now: datetime) -> None:
            if row.status in DONE:
                raise Conflict(_("This case is {status}: reopen it first.").format(
                    status=status_title(row.status)), code="case_transition")
            if row.escalated_at is not None:
                raise Conflict(_("This case is already escalated."), code="case_escalated")
            row.escalated_at = now
            add_event(s, row, actor, CaseEventKind.ESCALATED, now, clean_text(note, multiline=True, limit=1000)
                      or _("Escalated to the branch's supervisors"))
        return self._change(actor, case, "case_escalate", work)

    @guarded("cases")
    def escalate_overdue(self, actor: Actor) -> list[int]:
        """Escalate every case of the branch past its deadline (once per opening) to the branch's
        supervisors: recorded on the case (``escalated_at``, a thread line naming them) and audited."""
        require_role(actor, *STAFF_ROLES)
        now = self.clock.now()
        done: list[int] = []
        with self.db.write() as s:
            rows = s.execute(select(ServiceCase).where(
                col(ServiceCase.branch_code) == actor.branch_code,
                col(ServiceCase.status).in_((CaseStatus.OPEN, CaseStatus.IN_PROGRESS)),
                col(ServiceCase.escalated_at).is_(None), col(ServiceCase.due_at) <= now)
                .order_by(col(ServiceCase.id)).with_for_update()).scalars().all()
            if not rows:
                return []
            supervisors = sorted(s.execute(select(col(Staff.username)).where(
                col(Staff.branch_code) == actor.branch_code, col(Staff.role) == Role.SUPERVISOR,
                col(Staff.disabled).is_(False))).scalars())
            names = ", ".join(supervisors) or _("(no supervisor on record)")
            for row in rows:
                assert row.id is not None
                row.escalated_at = now
                add_event(s, row, actor, CaseEventKind.ESCALATED, now, _(
                    "Past its deadline ({due}): escalated to the branch's supervisors: {names}").format(
                    due=f"{local_date(row.due_at).isoformat()} {row.due_at.astimezone(self.levels.tz):%H:%M}",
                    names=names))
                self.audit.append(s, actor, "case_escalate", subject=case_number(row.id), detail={
                    "due_at": row.due_at.isoformat(), "supervisors": supervisors})
                done.append(row.id)
        return done

    # -- internals -------------------------------------------------------------------------------------
    def _change(self, actor: Actor, case: int | str, action: str, work: _Work, **detail: object) -> CaseDetail:
        now = self.clock.now()
        with self.db.write() as s:
            row = load_case(s, actor, case, for_update=True)
            before = row.status
            work(s, row, now)
            s.flush()
            assert row.id is not None
            self.audit.append(s, actor, action, subject=case_number(row.id),
                              detail={"from": before, "status": row.status, **detail})
            return case_detail(s, row, now)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _staff_id(s: Session, actor: Actor, username: str) -> int:
        row: Staff | None = s.execute(select(Staff).where(col(Staff.username) == clean_text(username, limit=64))
                                      ).scalar_one_or_none()
        if row is None or row.branch_code != actor.branch_code or row.role not in COUNTER_ROLES or row.disabled:
            raise NotFound(_("No member of staff {name} at this branch").format(name=clean_text(username, limit=64)),
                           code="staff_not_found")
        assert row.id is not None
        return row.id
