"""Business days, teller cash drawers and the branch vault.

Public API (``services.drawers`` is a :class:`DrawerService`; ``services.drawers.days`` its
:class:`BusinessDayService`)::

    drawers.open_business_day(actor, business_date=None)            # -> BusinessDayView
    drawers.open_drawer(actor, counts, supervisor)                   # float from the vault -> DrawerStatus
    drawers.transfer_with_vault(actor, "to_vault" | "from_vault", counts, supervisor)  # -> TransferResult
    drawers.submit_blind_count(actor, counts)                        # -> CountResult (first sight of expected)
    drawers.close_drawer(actor, supervisor=None)                     # -> DrawerClosed
    drawers.close_business_day(actor)                                # -> BusinessDayView
    drawers.status(actor)                                            # -> DrawerStatus (cheap, for the home screen)
    drawers.vault(branch_code)                                       # -> VaultView
    drawers.receive_into_vault(actor, counts, source="settlement")   # cash from the cash centre
    drawers.eod_report(branch_code, business_date=None, username=None, write=True)  # -> EodReport
    tender(amount, pieces, change=None, kind="cash_in")              # -> Tender (denomination arithmetic)
    drawers.record_tender(actor, entry_id, tender)                   # keep the pieces of a cash txn
    require_open_drawer(session, actor)                              # -> OpenDrawer (used by cash.py)
    open_demo_drawer(services, username, counts)                     # demo set-up, no countersign

Rules (choices documented):

* One business day per branch is open at a time. Opening a drawer opens the branch's business
  day for the local date when none is open. A day closes only when every drawer is closed.
* A drawer belongs to one teller for one business day (``open`` → ``counting`` → ``closed``);
  its cash is the ledger account ``drawer:<branch>:<username>``. A closed drawer cannot
  transact; the teller opens a new drawer on the next business day.
* Dual control: the opening float and every vault transfer need a supervisor (a different
  person, role ``supervisor``) confirming with fresh credentials (password + unused TOTP code).
* End of day: the blind count is submitted before the expected figure is shown
  (:meth:`DrawerService.status` never returns the balance unless asked). Closing posts the
  difference to cash over/short — without approval within ``settings.over_short_tolerance``,
  with a supervisor's approval beyond it — and returns the counted cash to the vault, so a
  closed drawer holds zero and the vault holds the branch's cash overnight.
* The vault is tracked by denomination: every movement in or out of it is counted, and a
  transfer asking for pieces the vault does not hold is refused. The ledger balance of the
  vault always equals the value of those pieces.
* Every movement is one ledger entry dated with the open business date, one drawer event with
  its denomination rows, and one audit record, in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from teller_tui.audit.trail import Actor
from teller_tui.common.clock import local_date
from teller_tui.common.errors import ApprovalRequired, Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money, parse_money

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.services import Services

__all__ = [
    "BusinessDayService",
    "BusinessDayView",
    "CountResult",
    "DrawerClosed",
    "DrawerReport",
    "DrawerService",
    "DrawerStatus",
    "EodReport",
    "OpenDrawer",
    "SupervisorCredentials",
    "Tender",
    "TransferResult",
    "VaultView",
    "adopt_vault_cash",
    "open_demo_drawer",
    "open_drawer_for_setup",
    "require_open_drawer",
    "tender",
]

DRAWER_ROLES = frozenset({"teller", "supervisor", "admin"})
SUPERVISOR_ROLES = ("supervisor",)
#: Ledger entry kinds this module posts (the report lists everything else as cash in/out).
ENTRY_FLOAT = "drawer_float"
ENTRY_TRANSFER = "vault_transfer"
ENTRY_OVER_SHORT = "over_short"
ENTRY_RETURN = "drawer_return"
ENTRY_VAULT_RECEIVE = "vault_receive"
OWN_KINDS = frozenset({ENTRY_FLOAT, ENTRY_TRANSFER, ENTRY_OVER_SHORT, ENTRY_RETURN, ENTRY_VAULT_RECEIVE})
#: Drawer events that move pieces into / out of the vault.
VAULT_IN_EVENTS = ("vault_receive", "vault_count", "drawer_to_vault", "close_return")
VAULT_OUT_EVENTS = ("open_float", "vault_to_drawer")

KIND_LABELS = {
    "cash_in": N_("Cash in"),
    "cash_out": N_("Cash out"),
    "reversal": N_("Reversals"),
    "transfer": N_("Transfers"),
}

Direction = Literal["to_vault", "from_vault"]


# -- read models -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SupervisorCredentials:
    """A supervisor's fresh credentials, typed at this terminal (dual control)."""

    username: str
    password: str = field(repr=False)
    code: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class BusinessDayView:
    id: int
    branch_code: str
    business_date: date
    status: str
    opened_at: datetime
    closed_at: datetime | None
    drawers_open: int = 0


@dataclass(frozen=True, slots=True)
class OpenDrawer:
    """The actor's open drawer, as :func:`require_open_drawer` finds it inside a transaction."""

    drawer_id: int
    account_id: int
    business_date: date
    currency: str


@dataclass(frozen=True, slots=True)
class DrawerStatus:
    """What the home screen shows. ``state``: no_business_day | not_opened | open | counting | closed."""

    state: str
    branch_code: str
    business_date: date | None
    message: str
    drawer_id: int | None = None
    username: str = ""
    opening_float: Money | None = None
    opened_at: datetime | None = None
    transactions: int = 0
    balance: Money | None = None  # only with include_balance=True: a blind count must stay blind

    @property
    def can_transact(self) -> bool:
        return self.state == "open"


@dataclass(frozen=True, slots=True)
class TransferResult:
    reference: str
    direction: str
    amount: Money
    approver: str


@dataclass(frozen=True, slots=True)
class CountResult:
    drawer_id: int
    counted: Money
    expected: Money
    difference: Money  # counted − expected: negative is short, positive is over
    tolerance: Money

    @property
    def needs_approval(self) -> bool:
        return abs(self.difference.minor) > self.tolerance.minor

    @property
    def short(self) -> bool:
        return self.difference.minor < 0


@dataclass(frozen=True, slots=True)
class DrawerClosed:
    drawer_id: int
    business_date: date
    counted: Money
    expected: Money
    difference: Money
    approver: str | None
    over_short_reference: str | None
    return_reference: str | None
    report_path: Path | None


@dataclass(frozen=True, slots=True)
class VaultView:
    branch_code: str
    balance: Money
    holdings: dict[str, int]  # denomination key -> pieces


@dataclass(frozen=True, slots=True)
class Tender:
    """Pieces received (cash in) or paid out (cash out), checked against the amount."""

    kind: str  # cash_in | cash_out
    amount: Money
    pieces: dict[str, int]
    pieces_total: Money
    change_due: Money
    change: dict[str, int]  # the pieces given back (cash in); suggested when not given


# -- denomination arithmetic ----------------------------------------------------------------------
def clean_counts(counts: Mapping[str, int], currency: str = "CNY") -> dict[str, int]:
    """Validate a count (keys, whole non-negative numbers) and drop zero entries."""
    from teller_tui.common.reference import count_total

    count_total(counts, currency)
    return {k: int(v) for k, v in counts.items() if v}


def counts_total(counts: Mapping[str, int], currency: str = "CNY") -> Money:
    from teller_tui.common.reference import count_total

    return count_total(counts, currency)


def _piece_gcd(currency: str) -> int:
    """The largest unit every denomination is a multiple of (CNY: 10 fen)."""
    from math import gcd

    from teller_tui.common.reference import denominations

    out = 0
    for d in denominations(currency):
        out = gcd(out, d.value.minor)
    return out or 1


def tender(amount: Money, pieces: Mapping[str, int], change: Mapping[str, int] | None = None, *,
           kind: str = "cash_in") -> Tender:
    """Check the pieces of a cash transaction: counts × face values against the amount.

    Cash in: the pieces received must cover the amount; the change due is the excess, and
    ``change`` (pieces given back) must add up to it — without it, the fewest pieces are
    suggested. Cash out: the pieces paid out must add up to the amount exactly.
    """
    from teller_tui.common.reference import count_total, make_change

    if kind not in ("cash_in", "cash_out"):
        raise ValidationError(_("Unknown cash transaction kind"), code="tender_kind")
    if amount.minor <= 0:
        raise ValidationError(_("Enter the amount first"), code="tender_amount")
    pieces = clean_counts(pieces, amount.currency)
    total = count_total(pieces, amount.currency)
    if kind == "cash_out":
        if total != amount:
            raise ValidationError(_("The notes counted add up to {total}, not {amount}").format(
                total=total.plain(), amount=amount.plain()), code="tender_mismatch")
        if change:
            raise ValidationError(_("No change is given on a cash payout"), code="tender_change")
        return Tender(kind, amount, pieces, total, Money.zero(amount.currency), {})
    if total < amount:
        raise ValidationError(_("The notes received ({total}) are less than the amount ({amount})").format(
            total=total.plain(), amount=amount.plain()), code="tender_short")
    due = total - amount
    if change is None:
        given = {}
        if due.minor and due.minor % _piece_gcd(amount.currency) == 0:
            given = make_change(due)
        # otherwise (fen below the smallest coin) the teller settles the odd fen by hand
    else:
        given = clean_counts(change, amount.currency)
        if count_total(given, amount.currency) != due:
            raise ValidationError(_("The change counted does not add up to the change due ({due})").format(
                due=due.plain()), code="tender_change_mismatch")
    return Tender(kind, amount, pieces, total, due, given)


# -- helpers used inside transactions --------------------------------------------------------------
def _actor_drawer_query(session: Session, actor: Actor) -> tuple[Any, Any] | None:
    """(drawer, business_day) of the actor on the branch's open business day, or (None, day)."""
    from sqlalchemy import select

    from teller_tui.models import BusinessDay, Drawer

    day = session.execute(select(BusinessDay).where(BusinessDay.branch_code == actor.branch_code,
                                                    BusinessDay.status == "open")
                          .order_by(BusinessDay.business_date.desc())).scalars().first()
    if day is None:
        return None
    drawer = None
    if actor.staff_id is not None:
        drawer = session.execute(select(Drawer).where(Drawer.business_day_id == day.id,
                                                      Drawer.staff_id == actor.staff_id)).scalars().first()
    return drawer, day


def require_open_drawer(session: Session, actor: Actor) -> OpenDrawer:
    """The actor's open drawer on the current business day, or a Conflict saying why not.

    cash.py calls this for every cash transaction (inside its write transaction).
    """
    found = _actor_drawer_query(session, actor)
    if found is None:
        raise Conflict(_("The branch business day is not open: open your cash drawer first."),
                       code="no_business_day")
    drawer, day = found
    if drawer is None:
        raise Conflict(_("You have no open cash drawer for business day {date}: open your drawer with a float "
                         "from the vault first.").format(date=day.business_date.isoformat()), code="no_open_drawer")
    if drawer.status == "counting":
        raise Conflict(_("Your drawer is being counted for the end of day: no more cash transactions today."),
                       code="drawer_counting")
    if drawer.status == "closed":
        raise Conflict(_("Your drawer for business day {date} is closed; it reopens on the next business day.")
                       .format(date=day.business_date.isoformat()), code="drawer_closed")
    return OpenDrawer(drawer.id, drawer.account_id, drawer.business_date, drawer.currency)


def open_business_date(session: Session, branch_code: str) -> date | None:
    """The branch's open business date (for ledger entries), or None."""
    from sqlalchemy import select

    from teller_tui.models import BusinessDay

    return session.execute(select(BusinessDay.business_date).where(BusinessDay.branch_code == branch_code,
                                                                   BusinessDay.status == "open")
                           .order_by(BusinessDay.business_date.desc())).scalars().first()


def current_business_date(session: Session, branch_code: str, clock: Any) -> date:
    """The date a posting belongs to: the branch's open business day, else today's local date.

    Limits ("today", "this year") and same-day rules must use this, not the calendar: a
    business day kept open past midnight still books its entries on its own date.
    """
    return open_business_date(session, branch_code) or local_date(clock.now())


def _day_view(day: Any, drawers_open: int = 0) -> BusinessDayView:
    return BusinessDayView(day.id, day.branch_code, day.business_date, day.status, day.opened_at, day.closed_at,
                           drawers_open)


def _tolerance(settings: Any) -> Money:
    try:
        return parse_money(str(settings.over_short_tolerance), "CNY", allow_zero=True)
    except ValidationError:
        return Money.zero()


# -- business days ------------------------------------------------------------------------------------
class BusinessDayService:
    def __init__(self, *, db: Database, clock: Clock, settings: Settings, ledger: Ledger,
                 audit: AuditTrail) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit

    def current(self, branch_code: str) -> BusinessDayView | None:
        from sqlalchemy import func, select

        from teller_tui.models import BusinessDay, Drawer

        with self.db.read() as session:
            day = session.execute(select(BusinessDay).where(BusinessDay.branch_code == branch_code,
                                                            BusinessDay.status == "open")).scalars().first()
            if day is None:
                return None
            n = session.execute(select(func.count()).select_from(Drawer).where(
                Drawer.business_day_id == day.id, Drawer.status != "closed")).scalar_one()
            return _day_view(day, int(n))

    def open(self, actor: Actor, business_date: date | None = None) -> BusinessDayView:
        with self.db.write() as session:
            return _day_view(self._open_in(session, actor, business_date))

    def _open_in(self, session: Session, actor: Actor, business_date: date | None) -> Any:
        """The open business day of the actor's branch, opening one for ``business_date`` (default:
        today, local) when none is open."""
        from sqlalchemy import select

        from teller_tui.models import BusinessDay

        if actor.role not in DRAWER_ROLES and actor.role != "system":
            raise PermissionDenied(_("Only branch staff can open a business day."), code="forbidden")
        wanted = business_date or local_date(self.clock.now())
        branch = actor.branch_code
        current = session.execute(select(BusinessDay).where(BusinessDay.branch_code == branch,
                                                            BusinessDay.status == "open")).scalars().first()
        if current is not None:
            if business_date is not None and current.business_date != business_date:
                raise Conflict(_("Business day {date} is still open; close it before opening another.").format(
                    date=current.business_date.isoformat()), code="business_day_open")
            return current
        last = session.execute(select(BusinessDay).where(BusinessDay.branch_code == branch)
                               .order_by(BusinessDay.business_date.desc())).scalars().first()
        if last is not None and last.business_date >= wanted:
            raise Conflict(_("Business day {date} is already closed; the next business day starts on a later "
                             "date.").format(date=last.business_date.isoformat()), code="business_day_closed")
        day = BusinessDay(branch_code=branch, business_date=wanted, status="open", opened_at=self.clock.now(),
                          opened_by=actor.username)
        session.add(day)
        session.flush()
        self.audit.append(session, actor, "business_day_open", subject=f"business_day:{branch}:{wanted}",
                            detail={"business_date": wanted.isoformat()})
        return day

    def close(self, actor: Actor) -> BusinessDayView:
        from sqlalchemy import select

        from teller_tui.models import BusinessDay, Drawer

        if actor.role not in ("supervisor", "admin", "system"):
            raise PermissionDenied(_("Only a supervisor can close the business day."), code="forbidden")
        with self.db.write() as session:
            day = session.execute(select(BusinessDay).where(BusinessDay.branch_code == actor.branch_code,
                                                            BusinessDay.status == "open")).scalars().first()
            if day is None:
                raise Conflict(_("No business day is open at this branch."), code="no_business_day")
            still_open = session.execute(select(Drawer.username).where(
                Drawer.business_day_id == day.id, Drawer.status != "closed").order_by(Drawer.username)).scalars().all()
            if still_open:
                raise Conflict(_("The business day cannot close while drawers are open: {names}").format(
                    names=", ".join(still_open)), code="drawers_open", drawers=list(still_open))
            day.status = "closed"
            day.closed_at = self.clock.now()
            day.closed_by = actor.username
            session.flush()
            self.audit.append(session, actor, "business_day_close",
                                subject=f"business_day:{day.branch_code}:{day.business_date}",
                                detail={"business_date": day.business_date.isoformat()})
            return _day_view(day)


# -- drawers and the vault -----------------------------------------------------------------------------
class DrawerService:
    def __init__(self, *, db: Database, clock: Clock, settings: Settings, ledger: Ledger,
                 audit: AuditTrail, auth: AuthService) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.auth = auth
        self.days = BusinessDayService(db=db, clock=clock, settings=settings, ledger=ledger, audit=audit)

    # -- business day (delegates) -------------------------------------------------------------------
    def open_business_day(self, actor: Actor, business_date: date | None = None) -> BusinessDayView:
        return self.days.open(actor, business_date)

    def close_business_day(self, actor: Actor, *, write_report: bool = True) -> BusinessDayView:
        view = self.days.close(actor)
        if write_report:
            self.eod_report(view.branch_code, view.business_date, write=True)
        return view

    # -- accounts -----------------------------------------------------------------------------------
    def _vault_account(self, session: Session, branch: str, currency: str = "CNY") -> int:
        from teller_tui.ledger.accounts import AccountKind, vault_code

        return self.ledger.open_account(session, code=vault_code(branch, currency), name=f"Vault {branch}",
                                          kind=AccountKind.VAULT, currency=currency, branch_code=branch)

    def _drawer_account(self, session: Session, actor: Actor, currency: str = "CNY") -> int:
        from teller_tui.ledger.accounts import AccountKind, drawer_code

        return self.ledger.open_account(session, code=drawer_code(actor.branch_code, actor.username),
                                          name=f"Drawer {actor.username}", kind=AccountKind.DRAWER,
                                          currency=currency, branch_code=actor.branch_code)

    def _holdings(self, session: Session, branch: str, currency: str = "CNY") -> dict[str, int]:
        from sqlalchemy import case, func, select

        from teller_tui.models import DenominationCount, DrawerEvent

        sign = case((DrawerEvent.kind.in_(VAULT_IN_EVENTS), 1), else_=-1)  # type: ignore[attr-defined]
        rows = session.execute(
            select(DenominationCount.denomination, func.sum(sign * DenominationCount.pieces))
            .join(DrawerEvent, DrawerEvent.id == DenominationCount.event_id)
            .where(DrawerEvent.branch_code == branch, DrawerEvent.currency == currency,
                   DrawerEvent.kind.in_(VAULT_IN_EVENTS + VAULT_OUT_EVENTS),  # type: ignore[attr-defined]
                   DenominationCount.side == "main")
            .group_by(DenominationCount.denomination)).all()
        return {k: int(n) for k, n in rows if n}

    def _check_vault_has(self, session: Session, branch: str, counts: Mapping[str, int], currency: str) -> None:
        from teller_tui.common.reference import denominations

        held = self._holdings(session, branch, currency)
        labels = {d.key: d for d in denominations(currency)}
        short = [k for k, n in counts.items() if n > held.get(k, 0)]
        if short:
            from teller_tui.common.i18n import get_locale

            parts = [_("{label}: {held} held").format(label=labels[k].label_for(get_locale()), held=held.get(k, 0))
                     for k in short]
            raise Conflict(_("The vault does not hold those notes ({detail}).").format(detail="; ".join(parts)),
                           code="vault_short")

    def _event(self, session: Session, *, drawer_id: int | None, branch: str, business_date: date, kind: str,
               currency: str, amount: int, actor: Actor, counts: Mapping[str, int], entry_id: int | None = None,
               approver: str = "", change: Mapping[str, int] | None = None, change_minor: int = 0,
               memo: str = "") -> int:
        from teller_tui.models import DenominationCount, DrawerEvent

        ev = DrawerEvent(drawer_id=drawer_id, branch_code=branch, business_date=business_date, kind=kind,
                         currency=currency, amount_minor=amount, change_minor=change_minor, entry_id=entry_id,
                         actor_id=actor.staff_id, actor=actor.username[:64], approver=approver[:64],
                         at=self.clock.now(), memo=memo[:200])
        session.add(ev)
        session.flush()
        assert ev.id is not None
        for side, data in (("main", counts), ("change", change or {})):
            for key, n in sorted(data.items()):
                if n:
                    session.add(DenominationCount(event_id=ev.id, side=side, denomination=key, pieces=int(n)))
        session.flush()
        return ev.id

    def _post(self, session: Session, actor: Actor, *, kind: str, debit_id: int, credit_id: int, amount: Money,
              business_date: date, key: str, memo: str, meta: Mapping[str, Any] | None = None) -> Any:
        from teller_tui.ledger import EntryRequest, credit, debit

        return self.ledger.post(session, EntryRequest(
            idempotency_key=key, kind=kind, legs=(debit(debit_id, amount), credit(credit_id, amount)),
            actor_id=actor.staff_id, terminal_id=actor.terminal_id, branch_code=actor.branch_code, memo=memo,
            business_date=business_date, meta=dict(meta or {})))

    # -- dual control -----------------------------------------------------------------------------
    def _countersign(self, actor: Actor, supervisor: SupervisorCredentials | None, action: str) -> str:
        """Verify the supervisor's fresh credentials; return their user name (audited by auth)."""
        if supervisor is None:
            raise ApprovalRequired(_("A supervisor must confirm this with their password and code."),
                                   rules=["dual_control"])
        staff = self.auth.verify_fresh_credentials(
            supervisor.username, supervisor.password, supervisor.code, required_role=SUPERVISOR_ROLES,
            not_staff_id=actor.staff_id, terminal_id=actor.terminal_id, action=f"countersign_{action}")
        return str(staff.username)

    @staticmethod
    def _require_staff(actor: Actor) -> int:
        if actor.staff_id is None or actor.role not in DRAWER_ROLES:
            raise PermissionDenied(_("Only a signed-in teller has a cash drawer."), code="forbidden")
        return actor.staff_id

    # -- opening --------------------------------------------------------------------------------------
    def open_drawer(self, actor: Actor, counts: Mapping[str, int], supervisor: SupervisorCredentials | None,
                    *, currency: str = "CNY") -> DrawerStatus:
        """Open the actor's drawer for the business day with a float counted out of the vault."""
        self._require_staff(actor)
        counts = clean_counts(counts, currency)
        self._precheck_open(actor)
        approver = self._countersign(actor, supervisor, "drawer_open")
        self._open_drawer(actor, counts, approver, currency)
        return self.status(actor)

    def _precheck_open(self, actor: Actor) -> None:
        """Refuse before asking for the supervisor's code when the drawer cannot open anyway."""
        with self.db.read() as session:
            found = _actor_drawer_query(session, actor)
            if found is not None and found[0] is not None:
                self._refuse_reopen(found[0])

    @staticmethod
    def _refuse_reopen(drawer: Any) -> None:
        if drawer.status == "closed":
            raise Conflict(_("Your drawer for business day {date} is closed; it reopens on the next business day.")
                           .format(date=drawer.business_date.isoformat()), code="drawer_closed")
        raise Conflict(_("Your drawer is already open for business day {date}.").format(
            date=drawer.business_date.isoformat()), code="drawer_open")

    def _open_drawer(self, actor: Actor, counts: dict[str, int], approver: str, currency: str) -> int:
        from sqlalchemy import select

        from teller_tui.models import Drawer
        from teller_tui.common.reference import count_total

        total = count_total(counts, currency)
        with self.db.write() as session:
            day = self.days._open_in(session, actor, None)
            existing = session.execute(select(Drawer).where(Drawer.business_day_id == day.id,
                                                            Drawer.staff_id == actor.staff_id)).scalars().first()
            if existing is not None:
                self._refuse_reopen(existing)
            self._check_vault_has(session, actor.branch_code, counts, currency)
            vault = self._vault_account(session, actor.branch_code, currency)
            account = self._drawer_account(session, actor, currency)
            bal = self.ledger.balance(session, account)
            if bal.debits_posted != bal.credits_posted:
                raise Conflict(_("Your drawer account still holds cash from an earlier day; ask a supervisor."),
                               code="drawer_not_empty")
            now = self.clock.now()
            drawer = Drawer(business_day_id=day.id, branch_code=actor.branch_code, business_date=day.business_date,
                            staff_id=actor.staff_id, username=actor.username, account_id=account, currency=currency,
                            status="open", opened_at=now, float_minor=total.minor, opened_approver=approver)
            session.add(drawer)
            session.flush()
            assert drawer.id is not None
            entry_id = None
            if total.minor:
                entry = self._post(session, actor, kind=ENTRY_FLOAT, debit_id=account, credit_id=vault, amount=total,
                                   business_date=day.business_date, key=f"drawer:{drawer.id}:float",
                                   memo=f"Opening float {actor.username}", meta={"drawer": drawer.id})
                entry_id = entry.entry_id
            self._event(session, drawer_id=drawer.id, branch=actor.branch_code, business_date=day.business_date,
                        kind="open_float", currency=currency, amount=total.minor, actor=actor, counts=counts,
                        entry_id=entry_id, approver=approver)
            self.audit.append(session, actor, "drawer_open", subject=f"drawer:{drawer.id}",
                                detail={"business_date": day.business_date.isoformat(), "float": total.minor,
                                        "currency": currency, "approver": approver, "counts": counts})
            return drawer.id

    # -- mid-day transfers ------------------------------------------------------------------------------
    def transfer_with_vault(self, actor: Actor, direction: Direction, counts: Mapping[str, int],
                            supervisor: SupervisorCredentials | None, *, idempotency_key: str | None = None,
                            currency: str = "CNY") -> TransferResult:
        """Move counted cash between the actor's open drawer and the vault (dual control)."""
        from teller_tui.common.reference import count_total

        self._require_staff(actor)
        if direction not in ("to_vault", "from_vault"):
            raise ValidationError(_("Choose whether the cash goes to or comes from the vault."), code="direction")
        counts = clean_counts(counts, currency)
        total = count_total(counts, currency)
        if total.minor <= 0:
            raise ValidationError(_("Count the notes to transfer first."), code="transfer_empty")
        with self.db.read() as session:
            require_open_drawer(session, actor)
        approver = self._countersign(actor, supervisor, "vault_transfer")
        key = idempotency_key or f"vault-{uuid.uuid4().hex}"
        with self.db.write() as session:
            drawer = require_open_drawer(session, actor)
            vault = self._vault_account(session, actor.branch_code, currency)
            if direction == "from_vault":
                self._check_vault_has(session, actor.branch_code, counts, currency)
                dr, cr, ev_kind = drawer.account_id, vault, "vault_to_drawer"
            else:
                dr, cr, ev_kind = vault, drawer.account_id, "drawer_to_vault"
            entry = self._post(session, actor, kind=ENTRY_TRANSFER, debit_id=dr, credit_id=cr, amount=total,
                               business_date=drawer.business_date, key=key,
                               memo=f"{ev_kind} {actor.username}", meta={"drawer": drawer.drawer_id,
                                                                         "direction": direction})
            if not entry.replayed:
                self._event(session, drawer_id=drawer.drawer_id, branch=actor.branch_code,
                            business_date=drawer.business_date, kind=ev_kind, currency=currency, amount=total.minor,
                            actor=actor, counts=counts, entry_id=entry.entry_id, approver=approver)
                self.audit.append(session, actor, "vault_transfer", subject=f"drawer:{drawer.drawer_id}",
                                    detail={"direction": direction, "amount": total.minor, "currency": currency,
                                            "approver": approver, "counts": counts, "reference": entry.reference})
            return TransferResult(entry.reference, direction, total, approver)

    # -- cash pieces at the counter -------------------------------------------------------------------
    def record_tender(self, actor: Actor, entry_id: int, t: Tender) -> int:
        """Keep the pieces received / paid out for a posted cash entry of the actor's drawer."""
        from sqlalchemy import select

        from teller_tui.models import DrawerEvent, Posting

        with self.db.write() as session:
            found = _actor_drawer_query(session, actor)
            drawer = found[0] if found else None
            if drawer is None:
                raise Conflict(_("You have no cash drawer open today."), code="no_open_drawer")
            amount = session.execute(select(Posting.amount).where(Posting.entry_id == entry_id,
                                                                  Posting.account_id == drawer.account_id)).scalar()
            expected = t.amount.minor if t.kind == "cash_in" else -t.amount.minor
            if amount is None or int(amount) != expected:
                raise ValidationError(_("The notes counted do not match that transaction."), code="tender_entry")
            if session.execute(select(DrawerEvent.id).where(DrawerEvent.entry_id == entry_id,
                                                            DrawerEvent.kind == t.kind)).first() is not None:
                raise Conflict(_("The notes of that transaction are already recorded."), code="tender_recorded")
            ev = self._event(session, drawer_id=drawer.id, branch=actor.branch_code,
                             business_date=drawer.business_date, kind=t.kind, currency=t.amount.currency,
                             amount=t.pieces_total.minor, actor=actor, counts=t.pieces, entry_id=entry_id,
                             change=t.change, change_minor=t.change_due.minor)
            self.audit.append(session, actor, "cash_pieces", subject=f"drawer:{drawer.id}",
                                detail={"entry_id": entry_id, "kind": t.kind, "pieces": t.pieces,
                                        "change": t.change})
            return ev

    # -- end of day ----------------------------------------------------------------------------------
    def submit_blind_count(self, actor: Actor, counts: Mapping[str, int], *, currency: str = "CNY") -> CountResult:
        """Record the teller's count; only now is the expected figure revealed."""
        from teller_tui.common.reference import count_total

        self._require_staff(actor)
        counts = clean_counts(counts, currency)
        counted = count_total(counts, currency)
        with self.db.write() as session:
            found = _actor_drawer_query(session, actor)
            drawer = found[0] if found else None
            if drawer is None:
                raise Conflict(_("You have no cash drawer open today."), code="no_open_drawer")
            if drawer.status != "open":
                raise Conflict(_("This drawer has already been counted."), code="drawer_counted")
            bal = self.ledger.balance(session, drawer.account_id)
            if bal.debits_pending or bal.credits_pending:
                raise Conflict(_("A cash transaction is waiting for a supervisor's decision; settle it before "
                                 "counting."), code="drawer_pending")
            expected = bal.debits_posted - bal.credits_posted
            now = self.clock.now()
            drawer.status = "counting"
            drawer.counted_minor = counted.minor
            drawer.expected_minor = expected
            drawer.counted_at = now
            session.flush()
            self._event(session, drawer_id=drawer.id, branch=actor.branch_code, business_date=drawer.business_date,
                        kind="blind_count", currency=currency, amount=counted.minor, actor=actor, counts=counts)
            self.audit.append(session, actor, "drawer_blind_count", subject=f"drawer:{drawer.id}",
                                detail={"counted": counted.minor, "expected": expected,
                                        "difference": counted.minor - expected, "counts": counts})
            return CountResult(drawer.id, counted, Money(expected, currency), Money(counted.minor - expected, currency),
                               _tolerance(self.settings))

    def pending_count(self, actor: Actor) -> CountResult | None:
        """The submitted count of the actor's drawer while it waits to close (None otherwise)."""
        with self.db.read() as session:
            found = _actor_drawer_query(session, actor)
            drawer = found[0] if found else None
            if drawer is None or drawer.status != "counting":
                return None
            cur = drawer.currency
            return CountResult(drawer.id, Money(drawer.counted_minor, cur), Money(drawer.expected_minor, cur),
                               Money(drawer.counted_minor - drawer.expected_minor, cur), _tolerance(self.settings))

    def close_drawer(self, actor: Actor, supervisor: SupervisorCredentials | None = None, *,
                     write_report: bool = True) -> DrawerClosed:
        """Post the over/short, return the counted cash to the vault and close the drawer.

        Beyond the tolerance a supervisor must approve with fresh credentials (or the call raises
        :class:`ApprovalRequired`, rule ``over_short``).
        """
        from sqlalchemy import select

        from teller_tui.ledger.accounts import AccountKind, over_short_code
        from teller_tui.models import DenominationCount, DrawerEvent

        self._require_staff(actor)
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
                    .format(diff=pending.difference.plain(), tol=pending.tolerance.plain()), rules=["over_short"])
            raise ApprovalRequired(
                _("Closing returns the drawer's cash to the vault: a supervisor must countersign."),
                rules=["vault_return"])
        approver: str = self._countersign(actor, supervisor,
                                          "over_short" if pending.needs_approval else "vault_return")
        with self.db.write() as session:
            found = _actor_drawer_query(session, actor)
            drawer = found[0] if found else None
            if drawer is None or drawer.status != "counting" or drawer.id != pending.drawer_id:
                raise Conflict(_("The drawer changed while closing; look at it again."), code="drawer_changed")
            cur = drawer.currency
            bal = self.ledger.balance(session, drawer.account_id)
            if bal.debits_posted - bal.credits_posted != drawer.expected_minor:
                raise Conflict(_("The drawer balance changed after the count; count again."), code="drawer_changed")
            diff = Money(drawer.counted_minor - drawer.expected_minor, cur)
            os_ref = None
            if diff.minor:
                os_acct = self.ledger.open_account(session, code=over_short_code(actor.branch_code, cur),
                                                     name=f"Cash over/short {actor.branch_code}",
                                                     kind=AccountKind.OVER_SHORT, currency=cur,
                                                     branch_code=actor.branch_code)
                if diff.minor < 0:  # short: the drawer gives up the missing cash to over/short
                    dr, cr, amt = os_acct, drawer.account_id, Money(-diff.minor, cur)
                else:
                    dr, cr, amt = drawer.account_id, os_acct, diff
                entry = self._post(session, actor, kind=ENTRY_OVER_SHORT, debit_id=dr, credit_id=cr, amount=amt,
                                   business_date=drawer.business_date, key=f"drawer:{drawer.id}:over_short",
                                   memo=("Cash short " if diff.minor < 0 else "Cash over ") + actor.username,
                                   meta={"drawer": drawer.id, "approver": approver})
                drawer.over_short_entry_id = entry.entry_id
                os_ref = entry.reference
            count_event = session.execute(select(DrawerEvent.id).where(DrawerEvent.drawer_id == drawer.id,
                                                                       DrawerEvent.kind == "blind_count")
                                          .order_by(DrawerEvent.id.desc())).scalar_one()  # type: ignore[union-attr]
            counts = {k: int(n) for k, n in session.execute(
                select(DenominationCount.denomination, DenominationCount.pieces)
                .where(DenominationCount.event_id == count_event, DenominationCount.side == "main")).all()}
            ret_ref = None
            if drawer.counted_minor:
                vault = self._vault_account(session, actor.branch_code, cur)
                entry = self._post(session, actor, kind=ENTRY_RETURN, debit_id=vault, credit_id=drawer.account_id,
                                   amount=Money(drawer.counted_minor, cur), business_date=drawer.business_date,
                                   key=f"drawer:{drawer.id}:return", memo=f"Drawer return {actor.username}",
                                   meta={"drawer": drawer.id})
                ret_ref = entry.reference
                self._event(session, drawer_id=drawer.id, branch=actor.branch_code, business_date=drawer.business_date,
                            kind="close_return", currency=cur, amount=drawer.counted_minor, actor=actor,
                            counts=counts, entry_id=entry.entry_id, approver=approver or "")
            drawer.status = "closed"
            drawer.closed_at = self.clock.now()
            drawer.close_approver = approver
            session.flush()
            self.audit.append(session, actor, "drawer_close", subject=f"drawer:{drawer.id}",
                                detail={"counted": drawer.counted_minor, "expected": drawer.expected_minor,
                                        "difference": diff.minor, "approver": approver,
                                        "over_short": os_ref, "returned": ret_ref})
            result = DrawerClosed(drawer.id, drawer.business_date, Money(drawer.counted_minor, cur),
                                  Money(drawer.expected_minor, cur), diff, approver, os_ref, ret_ref, None)
        if write_report:
            report = self.eod_report(actor.branch_code, result.business_date, username=actor.username, write=True)
            result = DrawerClosed(result.drawer_id, result.business_date, result.counted, result.expected,
                                  result.difference, approver, os_ref, ret_ref, report.path)
        return result

    # -- reads ---------------------------------------------------------------------------------------
    def status(self, actor: Actor, *, include_balance: bool = False) -> DrawerStatus:
        """The actor's drawer today, for the home screen (one short read transaction).

        The balance is left out unless asked for: the end-of-day count is blind.
        """
        from sqlalchemy import func, select

        from teller_tui.models import JournalEntry, Posting

        branch = actor.branch_code
        with self.db.read() as session:
            found = _actor_drawer_query(session, actor)
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
                             JournalEntry.kind.not_in(OWN_KINDS)))  # type: ignore[attr-defined]
            n = session.execute(select(func.count()).select_from(Posting)
                                .where(Posting.account_id == drawer.account_id,
                                       Posting.entry_id.in_(todays))).scalar_one()  # type: ignore[attr-defined]
            balance = None
            if include_balance:
                b = self.ledger.balance(session, drawer.account_id)
                balance = Money(b.debits_posted - b.credits_posted, drawer.currency)
            message = {"open": _("Drawer open"), "counting": _("Drawer counted: waiting to close"),
                       "closed": _("Drawer closed for the day")}[drawer.status]
            return DrawerStatus(drawer.status, branch, drawer.business_date, message, drawer.id, drawer.username,
                                Money(drawer.float_minor, drawer.currency), drawer.opened_at, int(n), balance)

    def vault(self, branch_code: str, currency: str = "CNY") -> VaultView:
        from teller_tui.ledger.accounts import vault_code

        with self.db.read() as session:
            holdings = self._holdings(session, branch_code, currency)
            try:
                acct = self.ledger.account_id(session, vault_code(branch_code, currency))
                b = self.ledger.balance(session, acct)
                balance = Money(b.debits_posted - b.credits_posted, currency)
            except NotFound:
                balance = Money.zero(currency)
            return VaultView(branch_code, balance, holdings)

    def receive_into_vault(self, actor: Actor, counts: Mapping[str, int], *, source: str = "settlement",
                           memo: str = "", currency: str = "CNY", idempotency_key: str | None = None) -> VaultView:
        """Cash delivered into the vault from the central bank / cash centre (``source`` settlement),
        or brought in as opening capital (``source`` equity)."""
        from teller_tui.ledger.accounts import AccountKind, equity_code, settlement_code
        from teller_tui.common.reference import count_total

        if actor.role not in ("supervisor", "admin", "system"):
            raise PermissionDenied(_("Only a supervisor can receive cash into the vault."), code="forbidden")
        if source not in ("settlement", "equity"):
            raise ValidationError(_("The source is settlement or equity."), code="vault_source")
        counts = clean_counts(counts, currency)
        total = count_total(counts, currency)
        if total.minor <= 0:
            raise ValidationError(_("Count the notes received first."), code="vault_empty")
        branch = actor.branch_code
        with self.db.write() as session:
            business_date = open_business_date(session, branch) or local_date(self.clock.now())
            vault = self._vault_account(session, branch, currency)
            if source == "equity":
                src = self.ledger.open_account(session, code=equity_code(branch, currency),
                                                 name=f"Equity {branch}", kind=AccountKind.EQUITY,
                                                 currency=currency, branch_code=branch)
            else:
                src = self.ledger.open_account(session, code=settlement_code(branch, currency),
                                                 name=f"Settlement {branch}", kind=AccountKind.SETTLEMENT,
                                                 currency=currency, branch_code=branch)
            entry = self._post(session, actor, kind=ENTRY_VAULT_RECEIVE, debit_id=vault, credit_id=src, amount=total,
                               business_date=business_date, key=idempotency_key or f"vault-{uuid.uuid4().hex}",
                               memo=(memo or f"Cash received from {source}")[:200], meta={"source": source})
            if not entry.replayed:
                self._event(session, drawer_id=None, branch=branch, business_date=business_date, kind="vault_receive",
                            currency=currency, amount=total.minor, actor=actor, counts=counts,
                            entry_id=entry.entry_id, memo=memo)
                self.audit.append(session, actor, "vault_receive", subject=f"vault:{branch}",
                                    detail={"amount": total.minor, "currency": currency, "source": source,
                                            "counts": counts, "reference": entry.reference})
        return self.vault(branch, currency)

    def _sweep_idle_drawer(self, system: Actor, teller: Actor, currency: str = "CNY") -> int:
        """Move cash left in a teller's drawer account outside any drawer day back to the vault."""
        from teller_tui.ledger.accounts import drawer_code

        with self.db.write() as session:
            try:
                acct = self.ledger.account_id(session, drawer_code(teller.branch_code, teller.username))
            except NotFound:
                return 0
            found = _actor_drawer_query(session, teller)
            if found is not None and found[0] is not None:
                return 0
            b = self.ledger.balance(session, acct)
            held = b.debits_posted - b.credits_posted
            if held <= 0:
                return 0
            business_date = open_business_date(session, teller.branch_code) or local_date(self.clock.now())
            vault = self._vault_account(session, teller.branch_code, currency)
            self._post(session, system, kind=ENTRY_RETURN, debit_id=vault, credit_id=acct,
                       amount=Money(held, currency), business_date=business_date,
                       key=f"sweep-{teller.username}-{uuid.uuid4().hex[:12]}",
                       memo=f"Idle drawer cash back to the vault ({teller.username})")
            self.audit.append(session, system, "drawer_sweep", subject=f"drawer:{teller.username}",
                                detail={"amount": held, "currency": currency})
            return held

    # -- reports --------------------------------------------------------------------------------------
    def eod_report(self, branch_code: str, business_date: date | None = None, *, username: str | None = None,
                   write: bool = True) -> EodReport:
        from teller_tui.branch.eod import build_report

        report = build_report(self, branch_code, business_date, username=username)
        if write:
            report = report.written_to(self.settings.reports_dir)
        return report


# The report module is separate (it is long); re-exported here for callers.
from teller_tui.branch.eod import DrawerReport, EodReport  # noqa: E402


def open_demo_drawer(services: Services, username: str, counts: Mapping[str, int] | None = None) -> DrawerStatus:
    """Demo set-up: open today's business day and ``username``'s drawer with a float.

    No supervisor countersigns (the approver is recorded as ``system:demo``). Idempotent: a drawer
    already open today is left as it is. Cash the demo history left in the teller's drawer account
    goes back to the vault first, the vault's uncounted cash is counted into denominations
    (:func:`adopt_vault_cash`), and the vault is stocked from equity if it still lacks the float.
    """
    from sqlalchemy import select

    from teller_tui.models import Staff

    with services.db.read() as session:
        row = session.execute(select(Staff).where(Staff.username == username)).scalars().one()
        actor = Actor(row.id, row.username, services.settings.terminal_id, row.role, row.branch_code)
    system = Actor(None, "system:demo", services.settings.terminal_id, "system", actor.branch_code)
    drawers: DrawerService = services.drawers
    counts = clean_counts(counts or {"note:100": 50, "note:50": 20, "note:20": 25, "note:10": 30, "note:5": 20,
                                     "note:1": 50, "coin:1": 50, "coin:0.5": 40, "coin:0.1": 50})
    status = drawers.status(actor)
    if status.state in ("open", "counting", "closed"):
        return status
    drawers._sweep_idle_drawer(system, actor)
    adopt_vault_cash(services, system)
    vault = drawers.vault(actor.branch_code)
    if any(vault.holdings.get(k, 0) < n for k, n in counts.items()):
        drawers.receive_into_vault(system, {k: n * 4 for k, n in counts.items()}, source="equity",
                                   memo="Demo vault stock")
    drawers._open_drawer(actor, counts, "system:demo", "CNY")
    return drawers.status(actor)


def open_drawer_for_setup(parts: Any, actor: Actor, amount: Money) -> int:
    """Set-up code (tests, imports): stock the vault from equity with ``amount`` in the fewest
    pieces and open ``actor``'s drawer with it as the float, recorded as approved by ``system:setup``.

    ``parts`` is a :class:`~teller_tui.services.Services` or anything with ``db``, ``clock``,
    ``settings``, ``ledger`` and ``audit``. Returns the drawer id. Never used by the app itself.
    """
    from teller_tui.common.reference import make_change

    svc = DrawerService(db=parts.db, clock=parts.clock, settings=parts.settings, ledger=parts.ledger,
                        audit=parts.audit, auth=parts.auth)
    counts = make_change(amount)
    system = Actor(None, "system:setup", actor.terminal_id, "system", actor.branch_code)
    svc.receive_into_vault(system, counts, source="equity", memo="Set-up stock", currency=amount.currency)
    return svc._open_drawer(actor, counts, "system:setup", amount.currency)


def adopt_vault_cash(services: Services, actor: Actor, currency: str = "CNY") -> int:
    """Count the vault's cash that has no denominations yet (ledger balance above the counted
    pieces, e.g. from an import or the demo history) into the fewest pieces. Returns the value
    adopted in minor units (0 when the vault was already fully counted). No money moves."""
    from teller_tui.ledger.accounts import vault_code
    from teller_tui.common.reference import count_total, make_change

    drawers: DrawerService = services.drawers
    branch = actor.branch_code
    with services.db.write() as session:
        try:
            acct = services.ledger.account_id(session, vault_code(branch, currency))
        except NotFound:
            return 0
        b = services.ledger.balance(session, acct)
        held = drawers._holdings(session, branch, currency)
        gap = (b.debits_posted - b.credits_posted) - count_total(held, currency).minor
        if gap <= 0:
            return 0
        pieces = make_change(Money(gap, currency))
        business_date = open_business_date(session, branch) or local_date(services.clock.now())
        drawers._event(session, drawer_id=None, branch=branch, business_date=business_date, kind="vault_count",
                       currency=currency, amount=gap, actor=actor, counts=pieces, memo="Uncounted vault cash")
        services.audit.append(session, actor, "vault_count", subject=f"vault:{branch}",
                              detail={"amount": gap, "currency": currency, "counts": pieces})
        return gap
