"""Teller cash drawers: open with a float from the vault, status, the pieces of each cash
transaction, the blind count and the close with its over/short.

* A drawer belongs to one teller for one business day (``open`` → ``counting`` → ``closed``);
  its cash is the ledger account ``drawer:<branch>:<username>``. A closed drawer cannot
  transact; the teller opens a new drawer on the next business day. Opening a drawer opens the
  branch's business day for the local date when none is open.
* Dual control: the opening float, every vault transfer and the close need a second person's
  approval through the approvals service (:mod:`teller_tui.branch.dual_control`): the policy says
  who may approve (a supervisor; an administrator or another supervisor for a supervisor's own
  drawer), at the counter or from the branch queue.
* End of day: the blind count is submitted before the expected figure is shown
  (:meth:`DrawerService.status` never returns the balance unless asked). Closing posts the
  difference to cash over/short — within ``settings.over_short_tolerance`` on the supervisor's
  countersignature, beyond it with an approval that covers the policy's ``over_short`` rule — and returns the counted
  cash to the vault, so a closed drawer holds zero and the vault holds the branch's cash overnight.

``DrawerService`` is what screens call (``services.drawers``); it delegates business days to
:class:`~teller_tui.branch.business_day.BusinessDayService` and the vault to
:class:`~teller_tui.branch.vault.VaultService`, both built by the composition root.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlmodel import Session, col, select

from teller_tui.approvals.service import ApprovalService
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.branch.business_day import BusinessDayService
from teller_tui.branch.cashbook import check_vault_has, drawer_account, post_move, record_event, vault_account
from teller_tui.branch.closing import post_over_short, return_to_vault
from teller_tui.branch.counts import clean_counts, over_short_tolerance
from teller_tui.branch.drawer_lookup import actor_drawer, todays_cash_count
from teller_tui.branch.dual_control import FourEyes, counts_key, require_staff
from teller_tui.branch.eod import EodReport
from teller_tui.branch.eod_build import build_report
from teller_tui.branch.kinds import Direction
from teller_tui.branch.vault import VaultService
from teller_tui.branch.views import (
    BusinessDayView, CountResult, DrawerClosed, DrawerStatus, SupervisorCredentials, Tender, TransferResult,
    VaultView,
)
from teller_tui.common.clock import Clock
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.common.errors import Conflict, ValidationError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.common.money import Money
from teller_tui.common.reference import count_total
from teller_tui.common.settings import Settings
from teller_tui.db.engine import Database
from teller_tui.ledger import Ledger, entry_facts
from teller_tui.ledger.accounts import drawer_code, vault_code
from teller_tui.ledger.business_day import current_business_date
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models.drawers import Drawer, DrawerEvent
from teller_tui.models.enums import DrawerEventKind, DrawerStatus as DrawerState
from teller_tui.models.ledger import Posting
from teller_tui.auth.permissions import guarded

__all__ = ["DrawerService"]


def _refuse_reopen(drawer: Drawer) -> None:
    if drawer.status == DrawerState.CLOSED:
        raise Conflict(_("Your drawer for business day {date} is closed; it reopens on the next business day.")
                       .format(date=drawer.business_date.isoformat()), code="drawer_closed")
    raise Conflict(_("Your drawer is already open for business day {date}.").format(
        date=drawer.business_date.isoformat()), code="drawer_open")


def _count_result(drawer: Drawer, tolerance: Money) -> CountResult:
    assert drawer.id is not None and drawer.counted_minor is not None and drawer.expected_minor is not None
    cur = drawer.currency
    return CountResult(drawer.id, Money(drawer.counted_minor, cur), Money(drawer.expected_minor, cur),
                       Money(drawer.counted_minor - drawer.expected_minor, cur), tolerance)


class DrawerService:
    def __init__(self, *, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail,
                 four_eyes: FourEyes, days: BusinessDayService, vaults: VaultService) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.four_eyes, self.days, self.vaults = four_eyes, days, vaults

    # -- business day and vault (delegates, so screens have one service for the cash desk) ----------
    @guarded("drawers")
    def open_business_day(self, actor: Actor, business_date: date | None = None) -> BusinessDayView:
        return self.days.open(actor, business_date)

    @guarded("drawers")
    def close_business_day(self, actor: Actor, supervisor: SupervisorCredentials | None = None, *,
                           write_report: bool = True, approval_id: int | None = None) -> BusinessDayView:
        view = self.days.close(actor, supervisor, approval_id=approval_id)
        if write_report:
            self.eod_report(view.branch_code, view.business_date, write=True)
        return view

    def vault(self, branch_code: str, currency: str = "CNY") -> VaultView:
        return self.vaults.view(branch_code, currency)

    @guarded("drawers")
    def receive_into_vault(self, actor: Actor, counts: Mapping[str, int], *, source: str = "settlement",
                           memo: str = "", currency: str = "CNY", idempotency_key: str | None = None) -> VaultView:
        return self.vaults.receive(actor, counts, source=source, memo=memo, currency=currency,
                                   idempotency_key=idempotency_key)

    @guarded("drawers")
    def transfer_with_vault(self, actor: Actor, direction: Direction, counts: Mapping[str, int],
                            supervisor: SupervisorCredentials | None = None, *, idempotency_key: str | None = None,
                            currency: str = "CNY", approval_id: int | None = None) -> TransferResult:
        return self.vaults.transfer(actor, direction, counts, supervisor, idempotency_key=idempotency_key,
                                    currency=currency, approval_id=approval_id)

    # -- opening --------------------------------------------------------------------------------------
    @guarded("drawers")
    def open_drawer(self, actor: Actor, counts: Mapping[str, int], supervisor: SupervisorCredentials | None = None,
                    *, currency: str = "CNY", approval_id: int | None = None,
                    idempotency_key: str | None = None) -> DrawerStatus:
        """Open the actor's drawer for the business day with a float counted out of the vault
        (dual control: policy action ``drawer_open``, the approval bound to the pieces).

        ``idempotency_key``: the terminal's key (in its in-flight journal before sending): the float's
        entry carries it; sent again once posted, the drawer is returned as it is."""
        require_staff(actor)
        counts = clean_counts(counts, currency)
        if idempotency_key:
            with self.db.read() as session:
                if self.ledger.entry_by_key(session, idempotency_key) is not None:
                    return self.status(actor)
        spec = self._precheck_open(actor, counts, currency, ask=approval_id is None and supervisor is None)
        approval_id = self.four_eyes.obtain(actor, spec, supervisor, approval_id)
        self._open_drawer(actor, counts, "", currency, approve=True, approval_id=approval_id, key=idempotency_key)
        return self.status(actor)

    def _open_spec(self, session: Session, actor: Actor, counts: dict[str, int], currency: str) -> ApprovalSpec:
        total = count_total(counts, currency)
        return self.four_eyes.spec(
            actor, ("drawer_open",), on=current_business_date(session, actor.branch_code, self.clock), amount=total,
            accounts=(vault_code(actor.branch_code, currency), drawer_code(actor.branch_code, actor.username)),
            subject=f"drawer_open:{actor.branch_code}:{actor.username}:{counts_key(counts)}",
            summary=message(N_("Opening float {amount} for {user}"), amount=total, user=actor.username))

    def _precheck_open(self, actor: Actor, counts: dict[str, int], currency: str, *, ask: bool) -> ApprovalSpec:
        """Refuse before asking for the supervisor's code when the drawer cannot open anyway; with
        ``ask``, raise ApprovalRequired (with the spec) when an approval is needed."""
        with self.db.read() as session:
            found = actor_drawer(session, actor)
            if found is not None and found[0] is not None:
                _refuse_reopen(found[0])
            self.days.check_open_in(session, actor, None)  # a closed day: refused before any code is spent
            check_vault_has(session, actor.branch_code, counts, currency)
            spec = self._open_spec(session, actor, counts, currency)
            if ask:
                self.four_eyes.consume(session, spec, None)
            return spec

    def _open_drawer(self, actor: Actor, counts: dict[str, int], approver: str, currency: str, *,
                     approve: bool = False, approval_id: int | None = None, key: str | None = None) -> int:
        """Open the drawer. With ``approve`` the approval ``approval_id`` is consumed in the
        transaction (the approver recorded is its approver); set-up code in
        :mod:`teller_tui.branch.setup` records ``approver`` (``system:...``) instead."""
        total = count_total(counts, currency)
        with self.db.write() as session:
            approval_ref: int | None = None
            if approve:
                grant, approver = self.four_eyes.consume(session, self._open_spec(session, actor, counts, currency),
                                                         approval_id)
                approval_ref = grant.approval_id if grant else None
            day = self.days.open_in(session, actor, None)
            existing = session.exec(select(Drawer).where(Drawer.business_day_id == day.id,
                                                         Drawer.staff_id == actor.staff_id)).first()
            if existing is not None:
                _refuse_reopen(existing)
            check_vault_has(session, actor.branch_code, counts, currency)
            vault = vault_account(session, self.ledger, actor.branch_code, currency)
            account = drawer_account(session, self.ledger, actor, currency)
            bal = self.ledger.balance(session, account)
            if bal.debits_posted != bal.credits_posted:
                raise Conflict(_("Your drawer account still holds cash from an earlier day; ask a supervisor."),
                               code="drawer_not_empty")
            assert day.id is not None and actor.staff_id is not None
            now = self.clock.now()
            drawer = Drawer(business_day_id=day.id, branch_code=actor.branch_code, business_date=day.business_date,
                            staff_id=actor.staff_id, username=actor.username, account_id=account, currency=currency,
                            status=DrawerState.OPEN, opened_at=now, float_minor=total.minor, opened_approver=approver)
            session.add(drawer)
            session.flush()
            assert drawer.id is not None
            entry = (post_move(session, self.ledger, actor, kind=EntryKind.DRAWER_FLOAT, debit_id=account,
                               credit_id=vault, amount=total,
                               key=key or f"drawer:{drawer.id}:float", memo=f"Opening float {actor.username}",
                               meta={"drawer": drawer.id, "approval_id": approval_ref}) if total.minor else None)
            entry_id = entry.entry_id if entry is not None else None
            record_event(session, at=self.clock.now(), drawer_id=drawer.id, branch=actor.branch_code,
                         business_date=day.business_date, kind=DrawerEventKind.OPEN_FLOAT, currency=currency,
                         amount=total.minor, actor=actor, counts=counts, entry_id=entry_id, approver=approver)
            self.audit.append(session, actor, "drawer_open", subject=f"drawer:{drawer.id}",
                              detail={**entry_facts((entry, actor.staff_id)),
                                      "business_date": day.business_date.isoformat(), "float": total.minor,
                                      "currency": currency, "approver": approver, "counts": counts,
                                      "approval_id": approval_ref})
            return drawer.id

    # -- cash pieces at the counter -------------------------------------------------------------------
    @guarded("drawers")
    def record_tender(self, actor: Actor, entry_id: int, t: Tender) -> int:
        """Keep the pieces received / paid out for a posted cash entry of the actor's drawer."""
        with self.db.write() as session:
            drawer = self._own_drawer(session, actor)
            amount = session.exec(select(Posting.amount).where(Posting.entry_id == entry_id,
                                                               Posting.account_id == drawer.account_id)).first()
            expected = t.amount.minor if t.kind == DrawerEventKind.CASH_IN else -t.amount.minor
            if amount is None or int(amount) != expected:
                raise ValidationError(_("The notes counted do not match that transaction."), code="tender_entry")
            if session.exec(select(DrawerEvent.id).where(DrawerEvent.entry_id == entry_id,
                                                         DrawerEvent.kind == t.kind)).first() is not None:
                raise Conflict(_("The notes of that transaction are already recorded."), code="tender_recorded")
            ev = record_event(session, at=self.clock.now(), drawer_id=drawer.id, branch=actor.branch_code,
                              business_date=drawer.business_date, kind=DrawerEventKind(t.kind),
                              currency=t.amount.currency, amount=t.pieces_total.minor, actor=actor,
                              counts=t.pieces, entry_id=entry_id, change=t.change,
                              change_minor=t.change_due.minor)
            self.audit.append(session, actor, "cash_pieces", subject=f"drawer:{drawer.id}",
                              detail={"entry_id": entry_id, "kind": t.kind, "pieces": t.pieces,
                                      "change": t.change})
            return ev

    @staticmethod
    def _own_drawer(session: Session, actor: Actor) -> Drawer:
        found = actor_drawer(session, actor)
        drawer = found[0] if found else None
        if drawer is None:
            raise Conflict(_("You have no cash drawer open today."), code="no_open_drawer")
        return drawer

    # -- end of day ----------------------------------------------------------------------------------
    @guarded("drawers")
    def submit_blind_count(self, actor: Actor, counts: Mapping[str, int], *, currency: str = "CNY") -> CountResult:
        """Record the teller's count; only now is the expected figure revealed."""
        require_staff(actor)
        counts = clean_counts(counts, currency)
        counted = count_total(counts, currency)
        with self.db.write() as session:
            drawer = self._own_drawer(session, actor)
            if drawer.status != DrawerState.OPEN:
                raise Conflict(_("This drawer has already been counted."), code="drawer_counted")
            # A cash-out request past its time releases its hold here, supervisor or not (invariant 17).
            self.four_eyes.approvals.release_overdue(session, [drawer.account_id])
            bal = self.ledger.balance(session, drawer.account_id)
            if bal.debits_pending or bal.credits_pending:
                raise Conflict(_("A cash transaction is waiting for a supervisor's decision; settle it before "
                                 "counting."), code="drawer_pending")
            expected = bal.debits_posted - bal.credits_posted
            drawer.status = DrawerState.COUNTING
            drawer.counted_minor = counted.minor
            drawer.expected_minor = expected
            drawer.counted_at = self.clock.now()
            session.flush()
            record_event(session, at=self.clock.now(), drawer_id=drawer.id, branch=actor.branch_code,
                         business_date=drawer.business_date, kind=DrawerEventKind.BLIND_COUNT, currency=currency,
                         amount=counted.minor, actor=actor, counts=counts)
            self.audit.append(session, actor, "drawer_blind_count", subject=f"drawer:{drawer.id}",
                              detail={"counted": counted.minor, "expected": expected,
                                      "difference": counted.minor - expected, "counts": counts})
            return _count_result(drawer, over_short_tolerance(self.settings))

    @guarded("drawers")
    def pending_count(self, actor: Actor) -> CountResult | None:
        """The submitted count of the actor's drawer while it waits to close (None otherwise)."""
        with self.db.read() as session:
            found = actor_drawer(session, actor)
            drawer = found[0] if found else None
            if drawer is None or drawer.status != DrawerState.COUNTING:
                return None
            return _count_result(drawer, over_short_tolerance(self.settings))

    @guarded("drawers")
    def close_drawer(self, actor: Actor, supervisor: SupervisorCredentials | None = None, *,
                     write_report: bool = True, approval_id: int | None = None) -> DrawerClosed:
        """Post the over/short, return the counted cash to the vault and close the drawer.

        Needs an approval (:class:`ApprovalRequired` carrying the spec otherwise): policy action
        ``drawer_close`` (the cash goes back to the vault), plus ``over_short`` when the difference is
        beyond the tolerance. The approval binds the drawer, the count and the expected figure.
        """
        require_staff(actor)
        pending = self.pending_count(actor)
        if pending is None:
            raise Conflict(_("Count your drawer before closing it."), code="drawer_not_counted")
        # Closing always needs a second person: the counted cash goes back into the vault (dual
        # control, as when the float came out), and any over/short is posted only with an approval
        # (RELIABILITY invariant 13). Within the tolerance the countersignature is that approval;
        # beyond it the approval must also cover the policy's over_short rule.
        with self.db.read() as session:
            spec = self._close_spec(actor, pending, current_business_date(session, actor.branch_code, self.clock))
            if approval_id is None and supervisor is None:
                self.four_eyes.consume(session, spec, None)  # raises ApprovalRequired (with the spec)
        approval_id = self.four_eyes.obtain(actor, spec, supervisor, approval_id)
        with self.db.write() as session:
            found = actor_drawer(session, actor)
            drawer = found[0] if found else None
            if drawer is None or drawer.status != DrawerState.COUNTING or drawer.id != pending.drawer_id:
                raise Conflict(_("The drawer changed while closing; look at it again."), code="drawer_changed")
            assert drawer.counted_minor is not None and drawer.expected_minor is not None
            bal = self.ledger.balance(session, drawer.account_id)
            if bal.debits_posted - bal.credits_posted != drawer.expected_minor:
                raise Conflict(_("The drawer balance changed after the count; count again."), code="drawer_changed")
            on = current_business_date(session, actor.branch_code, self.clock)
            grant, approver = self.four_eyes.consume(session, self._close_spec(actor, _count_result(
                drawer, over_short_tolerance(self.settings)), on), approval_id)
            approval_ref = grant.approval_id if grant else None
            diff = Money(drawer.counted_minor - drawer.expected_minor, drawer.currency)
            os_entry = (post_over_short(session, self.ledger, actor, drawer, diff, approver, approval_ref)
                        if diff.minor else None)
            ret_entry = (return_to_vault(session, self.ledger, self.clock.now(), actor, drawer, approver)
                         if drawer.counted_minor else None)
            os_ref, ret_ref = (e.reference if e is not None else None for e in (os_entry, ret_entry))
            drawer.status = DrawerState.CLOSED
            drawer.closed_at = self.clock.now()
            drawer.close_approver = approver
            session.flush()
            self.audit.append(session, actor, "drawer_close", subject=f"drawer:{drawer.id}",
                              detail={**entry_facts((os_entry, actor.staff_id), (ret_entry, actor.staff_id)),
                                      "counted": drawer.counted_minor, "expected": drawer.expected_minor,
                                      "difference": diff.minor, "approver": approver,
                                      "over_short": os_ref, "returned": ret_ref, "approval_id": approval_ref})
            result = DrawerClosed(pending.drawer_id, drawer.business_date, Money(drawer.counted_minor, diff.currency),
                                  Money(drawer.expected_minor, diff.currency), diff, approver, os_ref, ret_ref, None)
        if write_report:
            report = self.eod_report(actor.branch_code, result.business_date, username=actor.username, write=True)
            result = DrawerClosed(result.drawer_id, result.business_date, result.counted, result.expected,
                                  result.difference, approver, os_ref, ret_ref, report.path)
        return result

    def _close_spec(self, actor: Actor, count: CountResult, on: date) -> ApprovalSpec:
        """The drawer's close as an approval request: ``drawer_close``, and ``over_short`` beyond the
        tolerance (then the amount is the difference, else the cash going back to the vault)."""
        diff = count.difference
        over = count.needs_approval
        cur = count.counted.currency
        summary = message(N_("Close drawer of {user}: counted {counted}, expected {expected}, difference {diff}"),
                          user=actor.username, counted=count.counted, expected=count.expected,
                          diff=format_money(diff, sign=True))
        return self.four_eyes.spec(
            actor, ("drawer_close", "over_short"), on=on,
            amount=Money(abs(diff.minor), cur) if over else count.counted,
            facts_amounts={"over_short": diff, "drawer_close": count.counted},
            accounts=(drawer_code(actor.branch_code, actor.username), vault_code(actor.branch_code, cur)),
            subject=f"drawer:{count.drawer_id}:close:counted={count.counted.minor}:expected={count.expected.minor}",
            summary=summary)

    # -- reads ---------------------------------------------------------------------------------------
    @guarded("drawers")
    def status(self, actor: Actor, *, include_balance: bool = False) -> DrawerStatus:
        """The actor's drawer today, for the home screen (one short read transaction).

        The balance is left out unless asked for: the end-of-day count is blind.
        """
        branch = actor.branch_code
        with self.db.read() as session:
            found = actor_drawer(session, actor)
            if found is None:
                return DrawerStatus("no_business_day", branch, None, _("Business day not open"))
            drawer, day = found
            if drawer is None:
                return DrawerStatus("not_opened", branch, day.business_date,
                                    _("Drawer not opened: open it with a float from the vault"))
            assert drawer.id is not None
            n = todays_cash_count(session, drawer.id, drawer.account_id, drawer.business_date)
            balance = None
            if include_balance:
                b = self.ledger.balance(session, drawer.account_id)
                balance = Money(b.debits_posted - b.credits_posted, drawer.currency)
            message = {DrawerState.OPEN: _("Drawer open"), DrawerState.COUNTING: _("Drawer counted: waiting to close"),
                       DrawerState.CLOSED: _("Drawer closed for the day")}[DrawerState(drawer.status)]
            return DrawerStatus(drawer.status, branch, drawer.business_date, message, drawer.id, drawer.username,
                                Money(drawer.float_minor, drawer.currency), drawer.opened_at, int(n), balance)

    # -- reports --------------------------------------------------------------------------------------
    def eod_report(self, branch_code: str, business_date: date | None = None, *, username: str | None = None,
                   write: bool = True) -> EodReport:
        """The end-of-day report (one drawer with ``username``), written to the reports directory."""
        with self.db.read() as session:
            report = build_report(session, self.ledger, branch_code=branch_code, business_date=business_date,
                                  username=username, generated_at=self.clock.now())
        if write:
            report = report.written_to(self.settings.reports_dir)
        return report
