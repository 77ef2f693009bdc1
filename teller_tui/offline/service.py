"""The offline counter (issue 26): cash-ins taken while the central database cannot be reached.

Public API (``services.offline``)::

    svc.remember(actor, wallet_id)                     # online: the wallet (and the teller's day) for later
    w = svc.cached_wallet(actor, "8800…")              # offline: a wallet this terminal saw, or None
    r = svc.take_cash_in(actor, "8800…", Money(…), memo="")   # offline -> OfflineReceipt (OFFLINE-…)
    q = svc.summary(actor)                             # -> QueueSummary (the banner)
    m = svc.unposted_cash(actor)                       # this teller's cash in the drawer, not in the books
    rep = svc.upload(actor)                            # online: post the queue -> UploadReport
    xs = svc.exceptions(actor)                         # supervisors: what the books refused
    svc.refund(actor, key, note)                       # supervisor: the cash went back to the customer
    svc.post_exception(actor, key, note)               # supervisor: post it after all (their approval)
    items = svc.items(actor)                           # every item of this terminal (newest last)
    gaps = svc.sequence_gaps(actor)                    # sequence numbers given out but missing (deleted items)

Taking needs no database at all (the permission table's live check is off for it: the person's
session was checked when they signed in, and the upload posts as them through the counter's own
guarded ``cash_in``, which reads their staff row again, so a teller disabled meanwhile has their
items refused onto the exception list). Rules and caps: :mod:`teller_tui.offline.taking`; the
upload: :mod:`teller_tui.offline.upload`; the file: :mod:`teller_tui.offline.store`.

Exceptions live in this terminal's queue, beside the drawer that holds their cash: a supervisor
resolves them at this terminal (``Ctrl+E``) by **refund** (the teller hands the cash back; nothing
is posted; audited ``offline_refund``) or **post** (the supervisor approves posting it after all —
into a frozen wallet, or into the day now open; it goes through the counter's checks again, and a
hard refusal such as a closed wallet or a balance limit leaves refund as the only way;
audited ``offline_exception_post`` naming the approver).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from teller_tui.auth.permissions import guarded
from teller_tui.branch.drawer_lookup import actor_drawer
from teller_tui.common.errors import Conflict, DatabaseUnavailable, DomainError, NotFound, PermissionDenied, StorageError, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.common.files import save_private_text
from teller_tui.desk.inflight import InflightJournal
from teller_tui.desk.wallet_sides import read_wallet_side
from teller_tui.models.enums import DrawerStatus
from teller_tui.offline.store import OfflineStore
from teller_tui.offline.taking import (check_caps, check_context, check_wallet, new_offline_key, new_offline_reference,
                                       offline_receipt)
from teller_tui.offline.types import (CachedWallet, Caps, ItemStatus, OfflineContext, OfflineItem, OfflineReceipt,
                                      QueueSummary, UNPOSTED, UploadReport)
from teller_tui.offline.upload import Hook, Uploader, item_facts, refusal_sentence
from teller_tui.offline.verify import report_high_water, sequence_gaps
from teller_tui.wallets.blocks import is_blocked

if TYPE_CHECKING:
    import sqlite3

    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings
    from teller_tui.db.engine import Database
    from teller_tui.desk.cash import CashService
    from teller_tui.ledger import Ledger

__all__ = ["OfflineService"]

log = logging.getLogger(__name__)


class OfflineService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail, *,
                 cash: CashService) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit, self.cash = db, clock, settings, ledger, audit, cash
        #: Tests only: called at each stage of an upload (see :data:`teller_tui.offline.upload.Hook`).
        self.fault_hook: Hook | None = None

    def _store(self, actor: Actor) -> OfflineStore:
        return OfflineStore.for_terminal(self.settings.home, actor.terminal_id or self.settings.terminal_id)

    def _uploader(self, actor: Actor) -> Uploader:
        return Uploader(self.db, self.clock, self.ledger, self.audit, self.cash, self._store(actor), caps=self.caps,
                        runner=actor)

    @property
    def caps(self) -> Caps:
        s = self.settings
        return Caps(s.offline_cap_per_wallet, s.offline_cap_per_teller, s.offline_cap_per_outage)

    # -- online: what the terminal keeps for an outage -----------------------------------------
    @guarded("offline")
    def remember(self, actor: Actor, wallet_id: int | None = None) -> None:
        """Note the teller's open day and drawer (and ``wallet_id``, shown on screen) for an outage."""
        now = self.clock.now()
        with self.db.read() as s:
            found = actor_drawer(s, actor)
            day = found[1].business_date if found is not None else None
            drawer_open = found is not None and found[0] is not None and found[0].status == DrawerStatus.OPEN
            wallet = None
            if wallet_id is not None:
                side = read_wallet_side(s, wallet_id, now)
                name = side.customer.full_name if side.customer is not None else ""
                wallet = CachedWallet(wallet_id, side.wallet.number, name, side.wallet.currency, side.wallet.status,
                                      is_blocked(s, wallet_id), now)
        store = self._store(actor)
        try:
            store.note_contact(now)
            if actor.staff_id is not None:
                store.remember_context(OfflineContext(actor.staff_id, day, drawer_open, now))
            if wallet is not None:
                store.remember_wallet(wallet)
        except OSError:  # the terminal's disk: offline cash-in will not be offered for this wallet
            log.warning("offline cache not written", exc_info=True)

    # -- offline: taking -----------------------------------------------------------------------
    @guarded("offline")
    def cached_wallet(self, actor: Actor, number: str) -> CachedWallet | None:
        """A wallet this terminal saw recently (by its number, spaces ignored), or None."""
        wallet = self._store(actor).wallet("".join(clean_text(number).split()))
        if wallet is None or self.clock.now() - wallet.seen_at > timedelta(hours=self.settings.offline_wallet_cache_hours):
            return None
        return wallet

    @guarded("offline")
    def take_cash_in(self, actor: Actor, wallet_number: str, amount: Money, memo: str = "") -> OfflineReceipt:
        """Queue one cash-in durably (fsynced) and return its receipt. Needs no database."""
        if not isinstance(amount, Money):
            raise TypeError("amount must be Money")
        if not self.settings.offline_cash_in:
            raise Conflict(_("Offline cash-in is switched off at this bank."), code="offline_off")
        if amount.minor <= 0:
            raise ValidationError(_("The amount must be more than zero"), code="amount_zero")
        self._refuse_if_database_answers()
        store, now = self._store(actor), self.clock.now()
        context = check_context(store.context(actor.staff_id) if actor.staff_id is not None else None, now,
                                self.settings.offline_wallet_cache_hours)
        number = "".join(clean_text(wallet_number).split())
        wallet = check_wallet(store.wallet(number), now, self.settings.offline_wallet_cache_hours)
        if wallet.currency != amount.currency:
            raise ValidationError(_("The wallet holds another currency"), code="currency_mismatch")
        self._refuse_if_in_flight(actor, wallet.number)
        assert context.business_date is not None
        item = OfflineItem(key=new_offline_key(), reference=new_offline_reference(actor.terminal_id), taker=actor,
                           wallet_id=wallet.wallet_id, wallet_number=wallet.number,
                           customer_name=wallet.customer_name, amount=amount, memo=clean_text(memo, limit=100),
                           taken_at=now, business_date=context.business_date, status=ItemStatus.QUEUED,
                           outage_since=store.last_contact())
        caps = self.caps

        def within_caps(st: OfflineStore, conn: sqlite3.Connection) -> None:
            check_caps(st, conn, caps, item)

        try:
            item = replace(item, seq=store.add(item, caps_check=within_caps))
        except OSError as exc:
            raise StorageError(_("This terminal cannot write the offline cash-in down, so it was not taken: "
                                 "give the cash back. {error}").format(error=exc.strerror or ""),
                               code="offline_disk") from exc
        text = offline_receipt(item, bank_name=getattr(self.settings, "bank_name", "") or "")
        path = None
        try:
            path = save_private_text(self.settings.receipts_dir, item.reference, text)
        except (OSError, ValueError):
            log.warning("offline receipt not saved", exc_info=True)  # the queue has it; the screen shows it
        return OfflineReceipt(item, text, path)

    def _refuse_if_database_answers(self) -> None:
        """Offline taking is for an outage only: one probe through the Database (``SELECT 1`` on a fresh
        connection), whatever the screen believes. A storage fault (file gone, password refused) is no
        usable database either."""
        try:
            answers = self.db.ping()
        except (StorageError, DatabaseUnavailable):
            answers = False
        if answers:
            raise Conflict(_("The database answers: take the cash-in at the counter as usual, not offline."),
                           code="offline_db_answers")

    def _refuse_if_in_flight(self, actor: Actor, number: str) -> None:
        """A cash-in for this wallet sent just before the outage, outcome unknown (the terminal's journal of
        submissions in flight, :mod:`teller_tui.desk.inflight`): taking the cash again could post it twice."""
        journal = InflightJournal.for_terminal(self.settings.home, actor.terminal_id or self.settings.terminal_id)
        try:
            pending = journal.pending(actor.username)
        except OSError:
            pending = []
        if any(sub.kind == "cash_in" and "".join(sub.wallet.split()) == number for sub in pending):
            raise Conflict(_("A cash-in for this wallet was sent just before the outage and its outcome is not "
                             "known yet: wait for the answer before taking the cash again."), code="offline_in_flight")

    @guarded("offline")
    def summary(self, actor: Actor) -> QueueSummary:
        """The banner's figures: this terminal's items not yet in the books."""
        return self._summary(self._store(actor))

    def terminal_summary(self) -> QueueSummary:
        """The same figures with nobody signed in (the sign-in screen): what the next teller at this
        terminal finds in its drawer and queue. Counts and totals only, from the terminal's own disk."""
        return self._summary(OfflineStore.for_terminal(self.settings.home, self.settings.terminal_id))

    @staticmethod
    def _summary(store: OfflineStore) -> QueueSummary:
        items = store.items(*UNPOSTED)
        amounts: dict[str, Money] = {}
        for item in items:
            amounts[item.amount.currency] = amounts.get(item.amount.currency, Money.zero(item.amount.currency)) \
                + item.amount
        return QueueSummary(queued=sum(1 for i in items if i.status == ItemStatus.QUEUED),
                            exceptions=sum(1 for i in items if i.status == ItemStatus.EXCEPTION), amounts=amounts)

    @guarded("offline")
    def unposted_cash(self, actor: Actor) -> list[Money]:
        """Cash this teller took offline here that is in their drawer but not in the books (per currency):
        the drawer's expected cash is its ledger balance plus this."""
        totals: dict[str, Money] = {}
        for item in self._store(actor).items(*UNPOSTED):
            if item.taker.staff_id == actor.staff_id:
                cur = item.amount.currency
                totals[cur] = totals.get(cur, Money.zero(cur)) + item.amount
        return list(totals.values())

    @guarded("offline")
    def items(self, actor: Actor) -> list[OfflineItem]:
        return self._store(actor).items()

    # -- online again: the upload --------------------------------------------------------------
    @guarded("offline")
    def upload(self, actor: Actor) -> UploadReport:
        """Post every queued item of this terminal (oldest first) as its taker, under its own key, after
        the central checks (:mod:`teller_tui.offline.verify`). Records the terminal's highest sequence
        number centrally first. A storage fault stops it (the rest stays queued and is sent next time)."""
        uploader = self._uploader(actor)
        posted: list[OfflineItem] = []
        refused: list[OfflineItem] = []
        queued = uploader.store.items(ItemStatus.QUEUED)
        high_water = uploader.store.high_water()
        terminal = actor.terminal_id or self.settings.terminal_id
        if high_water:
            try:
                self.db.write_retrying(lambda s: report_high_water(s, actor, self.audit, terminal, high_water))
            except StorageError:
                return UploadReport(posted, refused, left=len(queued))
        for n, item in enumerate(queued):
            try:
                done = uploader.upload_one(item, self.fault_hook)
            except StorageError:
                return UploadReport(posted, refused, left=len(queued) - n)
            (posted if done.status == ItemStatus.POSTED else refused).append(done)
        return UploadReport(posted, refused, left=0)

    # -- supervisors: the exception list ---------------------------------------------------------
    @guarded("offline")
    def exceptions(self, actor: Actor) -> list[OfflineItem]:
        return self._store(actor).items(ItemStatus.EXCEPTION, ItemStatus.RESOLVING)

    @guarded("offline")
    def sequence_gaps(self, actor: Actor) -> list[int]:
        """This terminal's sequence numbers that were given out (the high-water mark recorded centrally)
        but neither reached the books nor are in the queue file: items deleted from it."""
        local = [i.seq for i in self._store(actor).items() if i.seq]
        with self.db.read() as s:
            return sequence_gaps(s, actor.terminal_id or self.settings.terminal_id, local)

    def _claim(self, actor: Actor, key: str) -> OfflineItem:
        """Claim an exception for ``actor`` (EXCEPTION -> RESOLVING): only one resolution can follow.
        The same supervisor may take up a claim of theirs that was interrupted."""
        store = self._store(actor)
        item = store.get(key)
        mine = item is not None and item.status == ItemStatus.RESOLVING and item.resolved_by == actor.username
        if item is None or (item.status != ItemStatus.EXCEPTION and not mine):
            if item is not None and item.status == ItemStatus.RESOLVING:
                raise Conflict(_("Another supervisor is resolving this item ({who})."
                                 ).format(who=clean_text(item.resolved_by, limit=64)), code="offline_resolving")
            raise NotFound(_("No such offline exception (already resolved?)"), code="offline_no_exception")
        if item.taker.branch_code != actor.branch_code:
            raise PermissionDenied(_("This item belongs to another branch."), code="offline_branch")
        if item.taker.staff_id is not None and item.taker.staff_id == actor.staff_id:
            raise PermissionDenied(_("You took this cash yourself: another supervisor resolves it."),
                                   code="offline_own_item")
        if not mine and not store.set_status(key, ItemStatus.RESOLVING, self.clock.now(),
                                             expect=(ItemStatus.EXCEPTION,), resolved_by=actor.username):
            raise Conflict(_("Someone resolved this item a moment ago: look at the list again."),
                           code="offline_resolving")
        return item

    def _release(self, actor: Actor, key: str, **why: str) -> None:
        """Give a claim back (the resolution did not happen): RESOLVING -> EXCEPTION."""
        self._store(actor).set_status(key, ItemStatus.EXCEPTION, self.clock.now(), expect=(ItemStatus.RESOLVING,),
                                      resolved_by="", **why)

    def _final(self, actor: Actor, key: str) -> OfflineItem:
        found = self._store(actor).get(key)
        assert found is not None
        return found

    @guarded("offline")
    def refund(self, actor: Actor, key: str, note: str) -> OfflineItem:
        """The cash goes back to the customer: nothing is posted, the item leaves the drawer's expected cash."""
        note = clean_text(note, limit=200)
        if not note:
            raise ValidationError(_("Say how the cash went back (for example: handed back to the customer)"),
                                  code="reason")
        item = self._claim(actor, key)
        store = self._store(actor)
        try:
            with self.db.read() as s:  # posted meanwhile by someone's retry? then it is no refund
                posted = self.ledger.entry_by_key(s, item.key) is not None
        except BaseException:
            self._release(actor, key)
            raise
        if posted:
            self._release(actor, key)
            raise Conflict(_("It was posted: nothing to refund."), code="offline_posted")

        def work(s: Session) -> None:
            self.audit.append(s, actor, "offline_refund", subject=item.reference,
                              detail={**item_facts(item), "reason_code": item.reason_code, "note": note})
        self.db.write_retrying(work)
        store.set_status(key, ItemStatus.REFUNDED, self.clock.now(), expect=(ItemStatus.RESOLVING,),
                         resolved_by=actor.username)
        return self._final(actor, key)

    @guarded("offline")
    def post_exception(self, actor: Actor, key: str, note: str) -> OfflineItem:
        """The supervisor approves posting it after all (the counter's checks still apply)."""
        note = clean_text(note, limit=200)
        if not note:
            raise ValidationError(_("Give a reason for posting it"), code="reason")
        item = self._claim(actor, key)
        uploader = self._uploader(actor)
        try:
            reference = uploader.post(item, self.fault_hook)
        except StorageError:
            self._release(actor, key)
            raise
        except DomainError as exc:
            self._release(actor, key, reason_code=exc.code or "refused", reason=refusal_sentence(exc))
            raise
        uploader.mark_posted(item, reference, actor, "offline_exception_post",
                             {"approved_by": actor.staff_id, "reason_code": item.reason_code, "note": note},
                             expect=(ItemStatus.RESOLVING,), resolved_by=actor.username)
        return self._final(actor, key)
