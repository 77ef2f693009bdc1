"""Follow-up calls: the list of who is due a call, recording a call, and satisfaction for reports.

Public API::

    svc = FollowUpService(db, clock, audit, levels=)           # services.follow_up
    due = svc.call_list(actor)                                  # -> list[DueCall], oldest reason first
    svc.record_call(actor, FollowUpKind.RESOLVED_CASE, case_id, reached=True, outcome="…",
                    satisfaction=4, comment="")                 # -> call id
    rows = svc.satisfaction_by_teller(actor); rows = svc.satisfaction_by_case_type(actor)

What is due (the figures are the ``[level_set.follow_up]`` of ``data/service_levels.toml``):

* a wallet opened at this branch at least ``new_wallet_days`` ago (and within ``window_days``);
* a case resolved (or closed) at least ``resolved_case_days`` ago;
* a customer flagged "needs assistance", every ``assistance_every_days``.

An item leaves the list once a call reached the customer (for "needs assistance": until the next
period); a call that did not reach them puts it back after ``retry_hours``. Satisfaction (1–5) is
counted for the member of staff who served the customer (who opened the wallet, who owned the case),
not for the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import STAFF_ROLES, SUPERVISION_ROLES, require_role
from teller_tui.cases.flow import DONE
from teller_tui.cases.service_levels import FollowUpRules, ServiceLevels
from teller_tui.cases.views import case_number
from teller_tui.common.clock import Clock
from teller_tui.common.errors import NotFound, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.models import Customer, Staff, Wallet
from teller_tui.models.cases import CustomerNeeds, FollowUpCall, FollowUpKind, ServiceCase

__all__ = ["DueCall", "FollowUpService", "SatisfactionRow"]


@dataclass(frozen=True, slots=True)
class DueCall:
    kind: str  # FollowUpKind
    subject_id: int  # wallet id, case id or customer id
    subject: str  # wallet number, case number or customer number
    customer_id: int
    customer_name: str  # cleaned
    phone: str  # the full number: the caller dials it (staff only; mask it on anything printed)
    since: datetime  # when the reason arose (opened, resolved, last reached call)
    attempts: int  # calls since then that did not reach the customer


@dataclass(frozen=True, slots=True)
class SatisfactionRow:
    key: str  # user name, or case type
    calls: int  # reached calls with a score
    average: float


class FollowUpService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, *, levels: ServiceLevels) -> None:
        self.db, self.clock, self.audit, self.levels = db, clock, audit, levels

    # -- the list ------------------------------------------------------------------------------------
    @guarded("follow_up")
    def call_list(self, actor: Actor) -> list[DueCall]:
        require_role(actor, *STAFF_ROLES)
        now = self.clock.now()
        rules = self.levels.follow_up(now)
        out: list[DueCall] = []
        with self.db.read() as s:
            wallets = s.execute(select(Wallet, Customer).join(Customer, col(Customer.id) == col(Wallet.customer_id))
                                .where(col(Customer.branch_code) == actor.branch_code,
                                       col(Wallet.opened_at) <= now - timedelta(days=rules.new_wallet_days),
                                       col(Wallet.opened_at) > now - timedelta(days=rules.window_days),
                                       col(Wallet.status) != "closed").order_by(col(Wallet.opened_at))).all()
            for w, c in wallets:
                assert w.id is not None
                self._add(s, out, rules, now, FollowUpKind.NEW_WALLET, w.id, w.number, c, w.opened_at)
            cases = s.execute(select(ServiceCase, Customer)
                              .join(Customer, col(Customer.id) == col(ServiceCase.customer_id))
                              .where(col(ServiceCase.branch_code) == actor.branch_code,
                                     col(ServiceCase.status).in_(tuple(DONE)),
                                     col(ServiceCase.resolved_at) <= now - timedelta(days=rules.resolved_case_days))
                              .order_by(col(ServiceCase.resolved_at))).all()
            for row, c in cases:
                assert row.id is not None and row.resolved_at is not None
                self._add(s, out, rules, now, FollowUpKind.RESOLVED_CASE, row.id, case_number(row.id), c,
                          row.resolved_at)
            flagged = s.execute(select(CustomerNeeds, Customer)
                                .join(Customer, col(Customer.id) == col(CustomerNeeds.customer_id))
                                .where(col(Customer.branch_code) == actor.branch_code,
                                       col(CustomerNeeds.needs_assistance).is_(True))
                                .order_by(col(Customer.id))).all()
            for needs, c in flagged:
                assert c.id is not None
                last = s.execute(select(func.max(col(FollowUpCall.at))).where(
                    col(FollowUpCall.subject_kind) == FollowUpKind.ASSISTANCE, col(FollowUpCall.subject_id) == c.id,
                    col(FollowUpCall.reached).is_(True))).scalar()
                if last is not None and last > now - timedelta(days=rules.assistance_every_days):
                    continue
                self._add(s, out, rules, now, FollowUpKind.ASSISTANCE, c.id, c.customer_no, c,
                          last or needs.updated_at, period_done=False)
        return sorted(out, key=lambda d: d.since)

    @staticmethod
    def _add(s: Session, out: list[DueCall], rules: FollowUpRules, now: datetime, kind: FollowUpKind,
             subject_id: int, subject: str, customer: Customer, since: datetime, *, period_done: bool = True) -> None:
        """Add the item unless a reached call closed it (``period_done``) or a failed one is too recent."""
        calls = s.execute(select(col(FollowUpCall.reached), col(FollowUpCall.at)).where(
            col(FollowUpCall.subject_kind) == kind, col(FollowUpCall.subject_id) == subject_id,
            col(FollowUpCall.at) >= since).order_by(col(FollowUpCall.at))).all()
        if period_done and any(reached for reached, _at in calls):
            return
        failed = [at for reached, at in calls if not reached]
        if failed and failed[-1] > now - timedelta(hours=rules.retry_hours):
            return
        assert customer.id is not None
        out.append(DueCall(kind, subject_id, subject, customer.id, clean_text(customer.full_name, limit=80),
                           clean_text(customer.phone, limit=20), since, len(failed)))

    # -- recording -----------------------------------------------------------------------------------
    @guarded("follow_up")
    def record_call(self, actor: Actor, kind: FollowUpKind | str, subject_id: int, *, reached: bool,
                    outcome: str = "", satisfaction: int | None = None, comment: str = "") -> int:
        require_role(actor, *STAFF_ROLES)
        kind = FollowUpKind(kind)
        if satisfaction is not None and (isinstance(satisfaction, bool) or satisfaction not in range(1, 6)):
            raise ValidationError(_("Satisfaction is a score from 1 to 5."), code="satisfaction")
        if satisfaction is not None and not reached:
            raise ValidationError(_("Only a customer who was reached can give a score."), code="satisfaction")
        now = self.clock.now()
        with self.db.write() as s:
            customer_id, served_by, case_type = self._subject(s, kind, subject_id)
            row = FollowUpCall(subject_kind=kind, subject_id=subject_id, customer_id=customer_id, case_type=case_type,
                               served_by=served_by, caller_id=actor.staff_id, branch_code=actor.branch_code, at=now,
                               reached=reached, outcome=clean_text(outcome, limit=200), satisfaction=satisfaction,
                               comment=clean_text(comment, multiline=True, limit=1000))
            s.add(row)
            s.flush()
            assert row.id is not None
            self.audit.append(s, actor, "follow_up_call", subject=f"{kind.value}:{subject_id}", detail={
                "reached": reached, "satisfaction": satisfaction, "customer_id": customer_id})
            return row.id
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _subject(s: Session, kind: FollowUpKind, subject_id: int) -> tuple[int, int | None, str | None]:
        """(customer id, who served them, case type) of a call's subject."""
        if kind == FollowUpKind.NEW_WALLET:
            wallet = s.get(Wallet, subject_id)
            if wallet is None:
                raise NotFound(_("No such wallet"), code="no_wallet")
            return wallet.customer_id, wallet.opened_by, None
        if kind == FollowUpKind.RESOLVED_CASE:
            case = s.get(ServiceCase, subject_id)
            if case is None:
                raise NotFound(_("No case {number}").format(number=case_number(subject_id)), code="case_not_found")
            return case.customer_id, case.owner_id or case.opened_by, case.type
        if s.get(Customer, subject_id) is None:
            raise NotFound(_("No such customer"), code="no_customer")
        return subject_id, None, None

    # -- reports ---------------------------------------------------------------------------------------
    @guarded("follow_up")
    def satisfaction_by_teller(self, actor: Actor, *, since: datetime | None = None,
                               until: datetime | None = None) -> list[SatisfactionRow]:
        require_role(actor, *SUPERVISION_ROLES)
        stmt = (select(col(Staff.username), func.count(), func.avg(col(FollowUpCall.satisfaction)))
                .join(Staff, col(Staff.id) == col(FollowUpCall.served_by)))
        return self._satisfaction(actor, stmt, col(Staff.username), since, until)

    @guarded("follow_up")
    def satisfaction_by_case_type(self, actor: Actor, *, since: datetime | None = None,
                                  until: datetime | None = None) -> list[SatisfactionRow]:
        require_role(actor, *SUPERVISION_ROLES)
        stmt = select(col(FollowUpCall.case_type), func.count(), func.avg(col(FollowUpCall.satisfaction))).where(
            col(FollowUpCall.case_type).is_not(None))
        return self._satisfaction(actor, stmt, col(FollowUpCall.case_type), since, until)

    def _satisfaction(self, actor: Actor, stmt: Select[Any], key: Any, since: datetime | None,
                      until: datetime | None) -> list[SatisfactionRow]:
        q = stmt.where(col(FollowUpCall.branch_code) == actor.branch_code, col(FollowUpCall.satisfaction).is_not(None))
        if since is not None:
            q = q.where(col(FollowUpCall.at) >= since)
        if until is not None:
            q = q.where(col(FollowUpCall.at) < until)
        with self.db.read() as s:
            rows = s.execute(q.group_by(key).order_by(key)).all()
        return [SatisfactionRow(str(k), int(n), round(float(avg), 2)) for k, n, avg in rows]
