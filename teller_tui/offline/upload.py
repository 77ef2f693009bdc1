"""Posting the offline queue once the central database answers.

Each item carries its own idempotency key (made when it was taken), and it is posted through the
counter's own :meth:`~teller_tui.desk.cash.CashService.cash_in` as the teller who took it, under
that key. So an upload interrupted anywhere (the terminal killed between the posting and the
queue's update, the database gone mid-way) and run again never posts twice: the ledger's key is
unique, the second attempt finds the entry (or replays it) and only the queue's row is updated.

What the central books refuse goes to the supervisor's exception list (status ``exception``, with
the refusal's code and sentence), never dropped. Two more cases go there although the books would
post them, because the teller could not see them when the cash was taken:

* the wallet was **frozen** meanwhile (a freeze is a compliance or fraud measure: money coming in is
  a supervisor's decision) — ``offline_wallet_frozen``;
* the **business day** the cash was taken on is no longer the branch's open day (it was closed
  while this terminal was cut off): invariant 14 lets no entry into a closed day, and dating it into
  the next day silently would put it into another drawer's count — ``offline_day_changed``.
  An item taken before midnight and uploaded after, while its day is still open, is dated by that
  day (the ledger's ``Dating.COUNTER`` rule: a day kept open past midnight books its own date).

Every outcome is audited centrally: ``offline_upload`` (the OFFLINE- reference, the entry it became,
who took it and when) next to the counter's own ``cash_in`` record, or ``offline_exception``.
A storage fault (the database went away again) stops the upload; the rest stays queued.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from teller_tui.common.errors import ApprovalRequired, DomainError, StorageError
from teller_tui.common.i18n import _
from teller_tui.common.text import clean_text
from teller_tui.ledger.business_day import open_business_date
from teller_tui.models import AuditRecord, Wallet
from teller_tui.offline.types import Caps, ItemStatus, OfflineItem
from teller_tui.offline.verify import central_check

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database
    from teller_tui.desk.cash import CashService
    from teller_tui.ledger import Ledger
    from teller_tui.offline.store import OfflineStore

__all__ = ["Uploader", "item_facts", "posting_memo"]

#: A fault hook for tests: called as ``hook(stage, item)`` at "posted" (the entry is committed, the
#: queue not yet updated); raising or exiting there is an interrupted upload.
Hook = Callable[[str, OfflineItem], None]


def posting_memo(item: OfflineItem) -> str:
    """The entry's memo: the OFFLINE- reference first (the customer's receipt names it), then the teller's."""
    return clean_text(f"{item.reference} {item.memo}".strip(), limit=200)


def item_facts(item: OfflineItem) -> dict[str, Any]:
    return {"offline_reference": item.reference, "amount": item.amount.plain(), "currency": item.amount.currency,
            "wallet": item.wallet_number, "taken_by": item.taker.username, "taken_at": item.taken_at.isoformat(),
            "taken_business_date": item.business_date.isoformat(), "terminal": item.taker.terminal_id,
            "taken_by_id": item.taker.staff_id, "wallet_id": item.wallet_id, "amount_minor": item.amount.minor,
            "seq": item.seq}


def refusal_sentence(exc: DomainError) -> str:
    if isinstance(exc, ApprovalRequired):
        return _("Needs supervisor approval: {reasons}").format(reasons="; ".join(exc.reasons))
    return str(exc.message or exc.code)


class Uploader:
    def __init__(self, db: Database, clock: Clock, ledger: Ledger, audit: AuditTrail, cash: CashService,
                 store: OfflineStore, *, caps: Caps, runner: Actor) -> None:
        self.db, self.clock, self.ledger, self.audit, self.cash, self.store = db, clock, ledger, audit, cash, store
        self.caps, self.runner = caps, runner  # the caps re-checked centrally; who runs the upload (audited)

    @staticmethod
    def audited(session: Session, action: str, reference: str) -> bool:
        found = session.execute(select(col(AuditRecord.id)).where(col(AuditRecord.action) == action,
                                                                  col(AuditRecord.subject) == reference)).first()
        return found is not None

    def precheck(self, item: OfflineItem) -> tuple[str | None, str, str]:
        """(posted entry reference or None, exception code, sentence) before sending (read-only)."""
        with self.db.read() as s:
            existing = self.ledger.entry_by_key(s, item.key)
            if existing is not None:
                return existing.reference, "", ""
            status = s.execute(select(col(Wallet.status)).where(col(Wallet.id) == item.wallet_id)).scalar()
            if status == "frozen":
                return None, "offline_wallet_frozen", _(
                    "The wallet was frozen after the cash was taken offline: a supervisor decides.")
            open_day = open_business_date(s, item.taker.branch_code)
            if open_day != item.business_date:
                return None, "offline_day_changed", _(
                    "The cash was taken on business day {taken}, which is no longer open: a supervisor decides."
                ).format(taken=item.business_date.isoformat())
            failed = central_check(s, item, self.caps, self.clock.now())
            if failed is not None:
                return None, failed[0], failed[1]
        return None, "", ""

    def post(self, item: OfflineItem, hook: Hook | None = None) -> str:
        """Post ``item`` under its key as its taker; the entry's reference. Raises the central refusal."""
        result = self.cash.cash_in(item.taker, item.wallet_id, item.amount, memo=posting_memo(item),
                                   idempotency_key=item.key)
        if hook is not None:
            hook("posted", item)
        return result.reference

    def mark_posted(self, item: OfflineItem, entry_reference: str, actor: Actor, action: str = "offline_upload",
                    extra: dict[str, Any] | None = None, *,
                    expect: tuple[ItemStatus, ...] = (ItemStatus.QUEUED,), resolved_by: str | None = None) -> bool:
        """Audit the upload (once, naming who ran it) and move the queue's row to posted (from ``expect``)."""
        def work(s: Session) -> None:
            if not self.audited(s, action, item.reference):
                self.audit.append(s, actor, action, subject=item.reference,
                                  detail={**item_facts(item), "entry_reference": entry_reference,
                                          "uploaded_by": self.runner.username,
                                          "uploaded_by_id": self.runner.staff_id, **(extra or {})})
        self.db.write_retrying(work)
        return self.store.set_status(item.key, ItemStatus.POSTED, self.clock.now(), expect=expect,
                                     entry_reference=entry_reference, resolved_by=resolved_by)

    def mark_exception(self, item: OfflineItem, code: str, reason: str) -> OfflineItem:
        """Audit the refusal (once per code) and put the item on the exception list."""
        def work(s: Session) -> None:
            subject = item.reference
            if not self.audited(s, "offline_exception", subject):
                self.audit.append(s, item.taker, "offline_exception", subject=subject, outcome="failed",
                                  detail={**item_facts(item), "code": code, "reason": clean_text(reason, limit=300),
                                          "uploaded_by": self.runner.username,
                                          "uploaded_by_id": self.runner.staff_id})
        self.db.write_retrying(work)
        self.store.set_status(item.key, ItemStatus.EXCEPTION, self.clock.now(), expect=(ItemStatus.QUEUED,
                              ItemStatus.EXCEPTION), reason_code=code, reason=clean_text(reason, limit=300))
        found = self.store.get(item.key)
        assert found is not None
        return found

    def upload_one(self, item: OfflineItem, hook: Hook | None = None) -> OfflineItem:
        """Post one queued item or put it on the exception list. A storage fault propagates (still queued)."""
        posted, code, reason = self.precheck(item)
        if posted is None and code:
            return self.mark_exception(item, code, reason)
        if posted is None:
            try:
                posted = self.post(item, hook)
            except StorageError:
                raise
            except DomainError as exc:
                return self.mark_exception(item, exc.code or "refused", refusal_sentence(exc))
        self.mark_posted(item, posted, item.taker)
        found = self.store.get(item.key)
        assert found is not None
        return found
