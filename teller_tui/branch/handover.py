"""Handing a drawer to another teller mid-day: counted and countersigned like an opening.

Public API (``services.handover``)::

    handover.offer(giver, "teller2")                    # the giver names the receiver; the drawer locks
    handover.withdraw(giver)                            # ... or takes the offer back (before the count)
    handover.state(actor)                               # on a break? offered to whom? offers naming me
    handover.count(receiver, "teller1", counts)         # the receiver's blind count; reveals the expected
    handover.take_over(receiver, "teller1", approval_id=...)   # countersigned: custody changes hands

The rules:

* The giver offers their open drawer to a named colleague of the same branch: not themselves, not a
  disabled or locked-out person, not a kiosk, not someone who already holds a drawer this business
  day. From the offer on, the drawer takes no cash (:func:`~teller_tui.branch.drawer_lookup.
  require_open_drawer` refuses with ``drawer_handover_pending``), as on a break.
* The receiver, signed in as themselves, counts the cash blind (the expected figure appears only
  after the count is recorded; the giver's drawer is then ``counting``, as at a close).
* A third person countersigns through the approvals service (policy action ``drawer_handover``,
  plus ``over_short`` beyond the tolerance, as at a close): never the receiver (the requester) nor
  the giver (whose custody the count settles). The approval binds both drawers, the count and the
  expected figure.
* Taking over, in one transaction: the difference is posted to cash over/short against the
  giver's drawer (their custody), the counted cash moves from the giver's drawer account to the
  receiver's (``drawer_handover`` entry), the giver's drawer closes, the receiver's opens with the
  counted cash, and both get drawer events and audit records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import COUNTER_ROLES
from teller_tui.auth.staff import normalize_username
from teller_tui.branch.cashbook import drawer_account, post_move, record_event
from teller_tui.branch.closing import counted_pieces, post_over_short
from teller_tui.branch.counts import clean_counts, over_short_tolerance
from teller_tui.branch.drawer_lookup import actor_drawer, handover_offer, on_break, require_open_drawer
from teller_tui.branch.dual_control import FourEyes, counts_key, require_staff
from teller_tui.branch.views import CountResult
from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict, NotFound, PermissionDenied
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.common.money import Money
from teller_tui.common.reference import count_total
from teller_tui.common.settings import Settings
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.ledger import Ledger
from teller_tui.ledger.accounts import drawer_code
from teller_tui.ledger.business_day import current_business_date, find_open_business_day
from teller_tui.ledger.kinds import EntryKind
from teller_tui.ledger.facts import entry_facts
from teller_tui.models import Staff
from teller_tui.models.drawers import BusinessDay, Drawer, DrawerEvent
from teller_tui.models.enums import DrawerEventKind, DrawerStatus as DrawerState

__all__ = ["CustodyState", "DrawerHandoverService", "HandedOver", "HandoverOffer"]


@dataclass(frozen=True, slots=True)
class HandoverOffer:
    drawer_id: int
    giver: str
    receiver: str
    business_date: date
    counted: bool  # the receiver's blind count is recorded (the drawer is counting)


@dataclass(frozen=True, slots=True)
class CustodyState:
    """The actor's custody at a glance: on a break, their drawer offered to someone, offers to them."""

    on_break: bool
    offered_to: str  # "" when the actor's drawer is not offered
    offers: tuple[HandoverOffer, ...]


@dataclass(frozen=True, slots=True)
class HandedOver:
    giver_drawer_id: int
    receiver_drawer_id: int
    business_date: date
    counted: Money
    expected: Money
    difference: Money
    approver: str
    over_short: str | None  # the over/short entry's reference
    reference: str | None  # the hand-over entry's reference (None when the drawer held no cash)


class DrawerHandoverService:
    def __init__(self, *, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail,
                 four_eyes: FourEyes) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.four_eyes = four_eyes

    # -- the giver ------------------------------------------------------------------------------------
    @guarded("handover")
    def offer(self, actor: Actor, receiver: str) -> HandoverOffer:
        """Offer the actor's open drawer to ``receiver``; the drawer takes no cash from now on."""
        require_staff(actor)
        with self.db.write() as s:
            drawer = require_open_drawer(s, actor)  # open, not on a break, not already offered
            day = find_open_business_day(s, actor.branch_code)
            assert day is not None
            row = self._receiver(s, actor, receiver, day)
            record_event(s, at=self.clock.now(), drawer_id=drawer.drawer_id, branch=actor.branch_code,
                         business_date=drawer.business_date, kind=DrawerEventKind.HANDOVER_OFFER,
                         currency=drawer.currency, amount=0, actor=actor, counts={}, memo=row.username)
            self.audit.append(s, actor, "drawer_handover_offer", subject=f"drawer:{drawer.drawer_id}",
                              detail={"receiver": row.username})
            return HandoverOffer(drawer.drawer_id, actor.username, row.username, drawer.business_date, False)

    @guarded("handover")
    def withdraw(self, actor: Actor) -> None:
        """Take the offer back (only before the receiver's count): the drawer takes cash again."""
        with self.db.write() as s:
            found = actor_drawer(s, actor)
            drawer = found[0] if found is not None else None
            if drawer is None or drawer.id is None or not handover_offer(s, drawer.id):
                raise Conflict(_("Your drawer is not offered to anyone."), code="handover_none")
            if drawer.status != DrawerState.OPEN:
                raise Conflict(_("The drawer is already counted for the hand-over: a supervisor countersigns "
                                 "it, or you close it."), code="handover_counted")
            record_event(s, at=self.clock.now(), drawer_id=drawer.id, branch=actor.branch_code,
                         business_date=drawer.business_date, kind=DrawerEventKind.HANDOVER_CANCEL,
                         currency=drawer.currency, amount=0, actor=actor, counts={})
            self.audit.append(s, actor, "drawer_handover_withdraw", subject=f"drawer:{drawer.id}")

    # -- anyone at the counter ------------------------------------------------------------------------
    @guarded("handover")
    def state(self, actor: Actor) -> CustodyState:
        """On a break? The actor's drawer offered to whom? Which drawers are offered to the actor?"""
        with self.db.read() as s:
            found = actor_drawer(s, actor)
            if found is None:
                return CustodyState(False, "", ())
            drawer, day = found
            mine = drawer is not None and drawer.id is not None and drawer.status != DrawerState.CLOSED
            broke = mine and drawer is not None and drawer.id is not None and on_break(s, drawer.id)
            offered = (handover_offer(s, drawer.id) or "") if mine and drawer is not None and drawer.id else ""
            offers = tuple(o for d in s.exec(select(Drawer).where(Drawer.business_day_id == day.id,
                                                                   Drawer.status != DrawerState.CLOSED)).all()
                           if (o := self._offer_of(s, d)) is not None and o.receiver == actor.username)
            return CustodyState(broke, offered, offers)

    # -- the receiver ---------------------------------------------------------------------------------
    @guarded("handover")
    def count(self, actor: Actor, giver: str, counts: Mapping[str, int]) -> CountResult:
        """The receiver's blind count of the drawer offered to them; only now is the expected shown."""
        require_staff(actor)
        with self.db.write() as s:
            drawer = self._offered_drawer(s, actor, giver)
            counts = clean_counts(counts, drawer.currency)
            day = s.get(BusinessDay, drawer.business_day_id)
            assert day is not None
            self._receiver(s, _giver_actor(s, drawer, actor), actor.username, day)  # still free to take it
            if drawer.status != DrawerState.OPEN:
                raise Conflict(_("This drawer has already been counted."), code="drawer_counted")
            self.four_eyes.approvals.release_overdue(s, [drawer.account_id])
            bal = self.ledger.balance(s, drawer.account_id)
            if bal.debits_pending or bal.credits_pending:
                raise Conflict(_("A cash transaction is waiting for a supervisor's decision; settle it before "
                                 "counting."), code="drawer_pending")
            counted = count_total(counts, drawer.currency)
            drawer.status = DrawerState.COUNTING
            drawer.counted_minor = counted.minor
            drawer.expected_minor = bal.debits_posted - bal.credits_posted
            drawer.counted_at = self.clock.now()
            s.flush()
            record_event(s, at=self.clock.now(), drawer_id=drawer.id, branch=actor.branch_code,
                         business_date=drawer.business_date, kind=DrawerEventKind.BLIND_COUNT,
                         currency=drawer.currency, amount=counted.minor, actor=actor, counts=counts,
                         memo=f"handover:{actor.username}")
            self.audit.append(s, actor, "drawer_handover_count", subject=f"drawer:{drawer.id}", detail={
                "giver": drawer.username, "counted": counted.minor, "expected": drawer.expected_minor,
                "difference": counted.minor - drawer.expected_minor, "counts": counts})
            return self._count_result(drawer)

    @guarded("handover")
    def take_over(self, actor: Actor, giver: str, *, approval_id: int | None = None) -> HandedOver:
        """Countersigned: the giver's custody ends, the receiver's begins (see the module's rules).
        Raises ApprovalRequired (with the spec) without ``approval_id``."""
        require_staff(actor)
        with self.db.read() as s:
            drawer = self._offered_drawer(s, actor, giver)
            spec = self._spec(s, actor, drawer)
            if approval_id is None:
                self.four_eyes.consume(s, spec, None)  # raises ApprovalRequired (with the spec)
        with self.db.write() as s:
            drawer = self._offered_drawer(s, actor, giver)
            grant, approver = self.four_eyes.consume(s, self._spec(s, actor, drawer), approval_id)
            if grant is not None and grant.approver_id == drawer.staff_id:
                raise PermissionDenied(_("The hand-over is countersigned by a third person, not the teller handing "
                                         "over."), code="handover_approver_giver")
            day = s.get(BusinessDay, drawer.business_day_id)
            assert day is not None and drawer.id is not None and drawer.counted_minor is not None
            self._receiver(s, _giver_actor(s, drawer, actor), actor.username, day)  # still free to take it
            return self._move(s, actor, drawer, approver, grant.approval_id if grant else None)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- inside the transactions ------------------------------------------------------------------------
    def _move(self, s: Session, actor: Actor, drawer: Drawer, approver: str, approval_ref: int | None) -> HandedOver:
        assert drawer.id is not None and drawer.counted_minor is not None and drawer.expected_minor is not None
        assert actor.staff_id is not None
        cur = drawer.currency
        bal = self.ledger.balance(s, drawer.account_id)
        if bal.debits_posted - bal.credits_posted != drawer.expected_minor:
            raise Conflict(_("The drawer balance changed after the count; count again."), code="drawer_changed")
        account = drawer_account(s, self.ledger, actor, cur)
        mine = self.ledger.balance(s, account)
        if mine.debits_posted != mine.credits_posted:
            raise Conflict(_("Your drawer account still holds cash from an earlier day; ask a supervisor."),
                           code="drawer_not_empty")
        counted = Money(drawer.counted_minor, cur)
        diff = Money(drawer.counted_minor - drawer.expected_minor, cur)
        giver = _giver_actor(s, drawer, actor)
        os_entry = post_over_short(s, self.ledger, actor, drawer, diff, approver, approval_ref,
                                   holder=drawer.username) if diff.minor else None
        os_ref = os_entry.reference if os_entry is not None else None
        now = self.clock.now()
        new = Drawer(business_day_id=drawer.business_day_id, branch_code=drawer.branch_code,
                     business_date=drawer.business_date, staff_id=actor.staff_id, username=actor.username,
                     account_id=account, currency=cur, status=DrawerState.OPEN, opened_at=now,
                     float_minor=counted.minor, opened_approver=approver)
        s.add(new)
        s.flush()
        assert new.id is not None
        entry = None
        if counted.minor:
            entry = post_move(s, self.ledger, actor, kind=EntryKind.DRAWER_HANDOVER, debit_id=account,
                              credit_id=drawer.account_id, amount=counted, key=f"drawer:{drawer.id}:handover",
                              memo=f"Drawer hand-over {drawer.username} -> {actor.username}",
                              meta={"from_drawer": drawer.id, "to_drawer": new.id, "approval_id": approval_ref})
        pieces = counted_pieces(s, drawer.id)
        entry_id = entry.entry_id if entry else None
        record_event(s, at=now, drawer_id=drawer.id, branch=drawer.branch_code, business_date=drawer.business_date,
                     kind=DrawerEventKind.HANDOVER_OUT, currency=cur, amount=counted.minor, actor=actor,
                     counts=pieces, entry_id=entry_id, approver=approver, memo=actor.username)
        record_event(s, at=now, drawer_id=new.id, branch=drawer.branch_code, business_date=drawer.business_date,
                     kind=DrawerEventKind.HANDOVER_IN, currency=cur, amount=counted.minor, actor=actor,
                     counts=pieces, entry_id=entry_id, approver=approver, memo=drawer.username)
        drawer.status = DrawerState.CLOSED
        drawer.closed_at = now
        drawer.close_approver = approver
        s.flush()
        detail = {"giver": drawer.username, "receiver": actor.username, "from_drawer": drawer.id,
                  "to_drawer": new.id, "counted": counted.minor, "expected": drawer.expected_minor,
                  "difference": diff.minor, "approver": approver, "over_short": os_ref,
                  "reference": entry.reference if entry else None, "approval_id": approval_ref}
        self.audit.append(s, giver, "drawer_handover_out", subject=f"drawer:{drawer.id}", detail=detail)
        self.audit.append(s, actor, "drawer_handover_in", subject=f"drawer:{new.id}",
                          detail={**detail, **entry_facts((os_entry, actor.staff_id), (entry, actor.staff_id))})
        return HandedOver(drawer.id, new.id, drawer.business_date, counted, Money(drawer.expected_minor, cur), diff,
                          approver, os_ref, entry.reference if entry else None)

    def _spec(self, s: Session, actor: Actor, drawer: Drawer) -> ApprovalSpec:
        """The hand-over as an approval request: ``drawer_handover``, and ``over_short`` beyond the
        tolerance (then the amount is the difference, else the cash changing hands)."""
        counter = s.exec(select(DrawerEvent.actor_id).where(
            DrawerEvent.drawer_id == drawer.id, DrawerEvent.kind == DrawerEventKind.BLIND_COUNT)
            .order_by(col(DrawerEvent.id).desc()).limit(1)).first()
        if drawer.status != DrawerState.COUNTING or counter != actor.staff_id:
            raise Conflict(_("Count the drawer before taking it over."), code="drawer_not_counted")
        count = self._count_result(drawer)
        cur = drawer.currency
        return self.four_eyes.spec(
            actor, ("drawer_handover", "over_short"), on=current_business_date(s, actor.branch_code, self.clock),
            amount=Money(abs(count.difference.minor), cur) if count.needs_approval else count.counted,
            facts_amounts={"over_short": count.difference, "drawer_handover": count.counted},
            accounts=(drawer_code(drawer.branch_code, drawer.username), drawer_code(actor.branch_code, actor.username)),
            subject=(f"drawer:{drawer.id}:handover:{actor.username}:counted={count.counted.minor}"
                     f":expected={count.expected.minor}"),
            summary=message(N_("Hand-over of {giver}'s drawer to {receiver}: counted {counted}, expected {expected}, "
                               "difference {diff}"),
                            giver=drawer.username, receiver=actor.username, counted=count.counted,
                            expected=count.expected, diff=format_money(count.difference, sign=True)))

    def _count_result(self, drawer: Drawer) -> CountResult:
        assert drawer.id is not None and drawer.counted_minor is not None and drawer.expected_minor is not None
        cur = drawer.currency
        return CountResult(drawer.id, Money(drawer.counted_minor, cur), Money(drawer.expected_minor, cur),
                           Money(drawer.counted_minor - drawer.expected_minor, cur), over_short_tolerance(self.settings))

    def _offer_of(self, s: Session, drawer: Drawer) -> HandoverOffer | None:
        if drawer.id is None:
            return None
        receiver = handover_offer(s, drawer.id)
        if not receiver:
            return None
        return HandoverOffer(drawer.id, drawer.username, receiver, drawer.business_date,
                             drawer.status == DrawerState.COUNTING)

    def _offered_drawer(self, s: Session, actor: Actor, giver: str) -> Drawer:
        """The giver's drawer on today's business day, offered to the actor (else a Conflict)."""
        day = find_open_business_day(s, actor.branch_code)
        name = normalize_username(giver)
        drawer = None if day is None else s.exec(select(Drawer).where(
            Drawer.business_day_id == day.id, Drawer.username == name,
            Drawer.status != DrawerState.CLOSED)).first()
        offer = self._offer_of(s, drawer) if drawer is not None else None
        if drawer is None or offer is None or offer.receiver != actor.username:
            raise Conflict(_("{giver} has not offered you their drawer.").format(giver=clean_text(giver, limit=40)),
                           code="handover_not_offered")
        return drawer

    def _receiver(self, s: Session, giver: Actor, receiver: str, day: BusinessDay) -> Staff:
        """The receiving teller, if they may take the drawer (the rules in the module's docstring)."""
        name = normalize_username(receiver)
        row: Staff | None = s.execute(sa_select(Staff).where(col(Staff.username) == name)).scalar_one_or_none()
        if row is None or row.branch_code != giver.branch_code:
            raise NotFound(_("No staff member is called {name}.").format(name=clean_text(receiver, limit=40)),
                           code="staff_not_found")
        if row.id == giver.staff_id:
            raise Conflict(_("Hand the drawer to someone else."), code="handover_self")
        if row.disabled or row.role not in COUNTER_ROLES or (
                row.locked_until is not None and row.locked_until > self.clock.now()):
            raise Conflict(_("{name} cannot take a drawer now (disabled, locked out or not a teller).").format(
                name=row.username), code="handover_receiver_unavailable")
        held = s.exec(select(Drawer.id).where(Drawer.business_day_id == day.id, Drawer.staff_id == row.id)).first()
        if held is not None:
            raise Conflict(_("{name} already has a drawer this business day.").format(name=row.username),
                           code="handover_receiver_has_drawer")
        return row



def _giver_actor(s: Session, drawer: Drawer, receiver: Actor) -> Actor:
    """The giver as the audit trail names them (at the receiver's terminal)."""
    row = s.get(Staff, drawer.staff_id)
    return Actor(drawer.staff_id, drawer.username, receiver.terminal_id, row.role if row else "teller",
                 drawer.branch_code)
