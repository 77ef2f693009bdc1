"""Teller cash drawers: open with a float from the vault, status, the pieces of each cash
transaction, the blind count and the close with its over/short.

* A drawer belongs to one teller for one business day (``open`` → ``counting`` → ``closed``);
  its cash is the ledger account ``drawer:<branch>:<username>``. A closed drawer cannot
  transact; the teller opens a new drawer on the next business day. Opening a drawer opens the
  branch's business day for the local date when none is open.
* Dual control: the opening float, every vault transfer and the close need a supervisor (a
  different person, role ``supervisor``) confirming with fresh credentials.
* End of day: the blind count is submitted before the expected figure is shown
  (:meth:`DrawerService.status` never returns the balance unless asked). Closing posts the
  difference to cash over/short — within ``settings.over_short_tolerance`` on the supervisor's
  countersignature, beyond it with the supervisor's explicit approval — and returns the counted
  cash to the vault, so a closed drawer holds zero and the vault holds the branch's cash overnight.

``DrawerService`` is what screens call (``services.drawers``); it delegates business days to
:class:`~teller_tui.branch.business_day.BusinessDayService` and the vault to
:class:`~teller_tui.branch.vault.VaultService`, both built by the composition root.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlmodel import Session, col, func, select

from teller_tui.approvals.service import ApprovalService
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.service import AuthService
from teller_tui.branch.business_day import BusinessDayService
from teller_tui.branch.cashbook import check_vault_has, drawer_account, post_move, record_event, vault_account
from teller_tui.branch.counts import clean_counts
from teller_tui.branch.drawer_lookup import actor_drawer
from teller_tui.branch.dual_control import countersign, require_staff
from teller_tui.branch.eod import EodReport
from teller_tui.branch.eod_build import build_report
from teller_tui.branch.kinds import Direction
from teller_tui.branch.vault import VaultService
from teller_tui.branch.views import (
    BusinessDayView, CountResult, DrawerClosed, DrawerStatus, SupervisorCredentials, Tender, TransferResult,
    VaultView,
)
from teller_tui.common.clock import Clock
from teller_tui.common.errors import ApprovalRequired, Conflict, ValidationError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _
from teller_tui.common.money import Money, parse_money
from teller_tui.common.reference import count_total
from teller_tui.common.settings import Settings
from teller_tui.db.engine import Database
from teller_tui.ledger import AccountKind, Ledger
from teller_tui.ledger.accounts import over_short_code
from teller_tui.ledger.kinds import DRAWER_ENTRY_KINDS, EntryKind
from teller_tui.models.drawers import DenominationCount, Drawer, DrawerEvent
from teller_tui.models.enums import DrawerEventKind, DrawerStatus as DrawerState
from teller_tui.models.ledger import JournalEntry, Posting
from teller_tui.auth.permissions import guarded

__all__ = ["DrawerService"]


def _tolerance(settings: Settings) -> Money:
    try:
        return parse_money(str(settings.over_short_tolerance), "CNY", allow_zero=True)
    except ValidationError:
        return Money.zero()


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
                 auth: AuthService, days: BusinessDayService, vaults: VaultService,
                 approvals: ApprovalService) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.auth, self.days, self.vaults, self.approvals = auth, days, vaults, approvals

    # -- business day and vault (delegates, so screens have one service for the cash desk) ----------
    @guarded("drawers")
    def open_business_day(self, actor: Actor, business_date: date | None = None) -> BusinessDayView:
        return self.days.open(actor, business_date)

    @guarded("drawers")
    def close_business_day(self, actor: Actor, *, write_report: bool = True) -> BusinessDayView:
        view = self.days.close(actor)
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
                            supervisor: SupervisorCredentials | None, *, idempotency_key: str | None = None,
                            currency: str = "CNY") -> TransferResult:
        return self.vaults.transfer(actor, direction, counts, supervisor, idempotency_key=idempotency_key,
                                    currency=currency)

    # -- opening --------------------------------------------------------------------------------------
    @guarded("drawers")
    def open_drawer(self, actor: Actor, counts: Mapping[str, int], supervisor: SupervisorCredentials | None,
                    *, currency: str = "CNY") -> DrawerStatus:
        """Open the actor's drawer for the business day with a float counted out of the vault."""
        require_staff(actor)
        counts = clean_counts(counts, currency)
        self._precheck_open(actor)
        approver = countersign(self.auth, actor, supervisor, "drawer_open")
        self._open_drawer(actor, counts, approver, currency)
        return self.status(actor)

    def _precheck_open(self, actor: Actor) -> None:
        """Refuse before asking for the supervisor's code when the drawer cannot open anyway."""
        with self.db.read() as session:
            found = actor_drawer(session, actor)
            if found is not None and found[0] is not None:
                _refuse_reopen(found[0])

    def _open_drawer(self, actor: Actor, counts: dict[str, int], approver: str, currency: str) -> int:
        """Open the drawer once ``approver`` has countersigned (package-internal: set-up code in
        :mod:`teller_tui.branch.setup` records ``system:...`` as the approver)."""
        total = count_total(counts, currency)
        with self.db.write() as session:
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
            entry_id = None
            if total.minor:
                entry = post_move(session, self.ledger, actor, kind=EntryKind.DRAWER_FLOAT, debit_id=account,
                                  credit_id=vault, amount=total, key=f"drawer:{drawer.id}:float", memo=f"Opening float {actor.username}",
                                  meta={"drawer": drawer.id})
                entry_id = entry.entry_id
            record_event(session, at=self.clock.now(), drawer_id=drawer.id, branch=actor.branch_code,
                         business_date=day.business_date, kind=DrawerEventKind.OPEN_FLOAT, currency=currency,
                         amount=total.minor, actor=actor, counts=counts, entry_id=entry_id, approver=approver)
            self.audit.append(session, actor, "drawer_open", subject=f"drawer:{drawer.id}",
                              detail={"business_date": day.business_date.isoformat(), "float": total.minor,
                                      "currency": currency, "approver": approver, "counts": counts})
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
            self.approvals.release_overdue(session, [drawer.account_id])
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
            return _count_result(drawer, _tolerance(self.settings))

    @guarded("drawers")
    def pending_count(self, actor: Actor) -> CountResult | None:
        """The submitted count of the actor's drawer while it waits to close (None otherwise)."""
        with self.db.read() as session:
            found = actor_drawer(session, actor)
            drawer = found[0] if found else None
            if drawer is None or drawer.status != DrawerState.COUNTING:
                return None
            return _count_result(drawer, _tolerance(self.settings))

    @guarded("drawers")
    def close_drawer(self, actor: Actor, supervisor: SupervisorCredentials | None = None, *,
                     write_report: bool = True) -> DrawerClosed:
        """Post the over/short, return the counted cash to the vault and close the drawer.

        Beyond the tolerance a supervisor must approve with fresh credentials (or the call raises
        :class:`ApprovalRequired`, rule ``over_short``).
        """
        require_staff(actor)
        pending = self.pending_count(actor)
        if pending is None:
            raise Conflict(_("Count your drawer before closing it."), code="drawer_not_counted")
        # Closing always needs a supervisor: the counted cash goes back into the vault (dual
        # control, as when the float came out), and any over/short is posted only with a
        # supervisor's approval (RELIABILITY invariant 13). Within the tolerance the
        # countersignature is that approval; beyond it the supervisor approves the difference
        # explicitly.
        if supervisor is None:
            if pending.needs_approval:
                raise ApprovalRequired(
                    _("The difference of {diff} is beyond the tolerance of {tol}: a supervisor must approve it.")
                    .format(diff=format_money(pending.difference), tol=format_money(pending.tolerance)), rules=["over_short"])
            raise ApprovalRequired(
                _("Closing returns the drawer's cash to the vault: a supervisor must countersign."),
                rules=["vault_return"])
        approver = countersign(self.auth, actor, supervisor,
                               "over_short" if pending.needs_approval else "vault_return")
        with self.db.write() as session:
            found = actor_drawer(session, actor)
            drawer = found[0] if found else None
            if drawer is None or drawer.status != DrawerState.COUNTING or drawer.id != pending.drawer_id:
                raise Conflict(_("The drawer changed while closing; look at it again."), code="drawer_changed")
            assert drawer.counted_minor is not None and drawer.expected_minor is not None
            bal = self.ledger.balance(session, drawer.account_id)
            if bal.debits_posted - bal.credits_posted != drawer.expected_minor:
                raise Conflict(_("The drawer balance changed after the count; count again."), code="drawer_changed")
            diff = Money(drawer.counted_minor - drawer.expected_minor, drawer.currency)
            os_ref = self._post_over_short(session, actor, drawer, diff, approver) if diff.minor else None
            ret_ref = self._return_to_vault(session, actor, drawer, approver) if drawer.counted_minor else None
            drawer.status = DrawerState.CLOSED
            drawer.closed_at = self.clock.now()
            drawer.close_approver = approver
            session.flush()
            self.audit.append(session, actor, "drawer_close", subject=f"drawer:{drawer.id}",
                              detail={"counted": drawer.counted_minor, "expected": drawer.expected_minor,
                                      "difference": diff.minor, "approver": approver,
                                      "over_short": os_ref, "returned": ret_ref})
            result = DrawerClosed(pending.drawer_id, drawer.business_date, Money(drawer.counted_minor, diff.currency),
                                  Money(drawer.expected_minor, diff.currency), diff, approver, os_ref, ret_ref, None)
        if write_report:
            report = self.eod_report(actor.branch_code, result.business_date, username=actor.username, write=True)
            result = DrawerClosed(result.drawer_id, result.business_date, result.counted, result.expected,
                                  result.difference, approver, os_ref, ret_ref, report.path)
        return result

    def _post_over_short(self, session: Session, actor: Actor, drawer: Drawer, diff: Money, approver: str) -> str:
        """Post the counted difference to cash over/short (inside the close); return its reference."""
        cur = drawer.currency
        os_acct = self.ledger.open_account(session, code=over_short_code(actor.branch_code, cur),
                                           name=f"Cash over/short {actor.branch_code}", kind=AccountKind.OVER_SHORT,
                                           currency=cur, branch_code=actor.branch_code)
        if diff.minor < 0:  # short: the drawer gives up the missing cash to over/short
            dr, cr, amt = os_acct, drawer.account_id, Money(-diff.minor, cur)
        else:
            dr, cr, amt = drawer.account_id, os_acct, diff
        entry = post_move(session, self.ledger, actor, kind=EntryKind.OVER_SHORT, debit_id=dr, credit_id=cr, amount=amt,
                          key=f"drawer:{drawer.id}:over_short",
                          memo=("Cash short " if diff.minor < 0 else "Cash over ") + actor.username,
                          meta={"drawer": drawer.id, "approver": approver})
        drawer.over_short_entry_id = entry.entry_id
        return entry.reference

    def _return_to_vault(self, session: Session, actor: Actor, drawer: Drawer, approver: str) -> str:
        """Move the counted cash, piece by piece as counted, back to the vault; return the reference."""
        assert drawer.counted_minor is not None
        cur = drawer.currency
        count_event = session.exec(select(DrawerEvent.id).where(DrawerEvent.drawer_id == drawer.id,
                                                                DrawerEvent.kind == DrawerEventKind.BLIND_COUNT)
                                   .order_by(col(DrawerEvent.id).desc())).first()
        counts = {k: int(n) for k, n in session.exec(
            select(DenominationCount.denomination, DenominationCount.pieces)
            .where(DenominationCount.event_id == count_event, DenominationCount.side == "main")).all()}
        vault = vault_account(session, self.ledger, actor.branch_code, cur)
        entry = post_move(session, self.ledger, actor, kind=EntryKind.DRAWER_RETURN, debit_id=vault,
                          credit_id=drawer.account_id, amount=Money(drawer.counted_minor, cur),
                          key=f"drawer:{drawer.id}:return",
                          memo=f"Drawer return {actor.username}",
                          meta={"drawer": drawer.id})
        record_event(session, at=self.clock.now(), drawer_id=drawer.id, branch=actor.branch_code,
                     business_date=drawer.business_date, kind=DrawerEventKind.CLOSE_RETURN, currency=cur,
                     amount=drawer.counted_minor, actor=actor, counts=counts, entry_id=entry.entry_id,
                     approver=approver)
        return entry.reference

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
            # Today's cash transactions: the drawer account's postings whose entry is dated this
            # business day (not the drawer's own float/transfer/return entries). Restricted by
            # the date first (ix_entry_date_kind), then probing (account_id, entry_id)
            # (ix_posting_account_entry) per entry of the day: a join driven from the drawer
            # account would walk every posting the account ever had (years of them).
            todays = (select(JournalEntry.id)
                      .where(JournalEntry.business_date == drawer.business_date,
                             col(JournalEntry.kind).not_in(DRAWER_ENTRY_KINDS)))
            n = session.exec(select(func.count()).select_from(Posting)
                             .where(Posting.account_id == drawer.account_id,
                                    col(Posting.entry_id).in_(todays))).one()
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
