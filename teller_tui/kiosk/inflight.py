"""The kiosk's transfers in flight: the key is written down before sending, the outcome looked up by it.

Public API (``services.kiosk_inflight``)::

    receipt = submit_tracked(svc, actor, "kiosk_transfer", key, wallet=masked, amount=amount,
                             subject=f"wallet:{wallet_id}", send=lambda: kiosk.transfer(...))
        # raises OutcomeUnknown (teller_tui.desk.inflight_service) on a fault: the key stays written down
    out = outcome_when_answered(svc, actor, sub, wait=..., cancelled=...)   # retries while the database is down
    svc.settle(actor, out)        # after a kiosk restart: audited for staff, then forgotten

The journal is the desk's (:class:`teller_tui.desk.inflight.InflightJournal`, one file per key under
``$TELLER_HOME/inflight/<kiosk terminal>``), on the kiosk's own disk because the database may be
what is down. It holds the wallet number masked only: a kiosk is a public machine.

The customer at the kiosk is told the outcome on the spot ("not known yet — checking", then the
receipt or "not made"), never "refused" for an unknown outcome, and the form cannot be sent again
with a new key meanwhile. A submission still in the journal when the kiosk starts belongs to a
customer who has gone: its outcome is for staff, not for the next customer. :meth:`settle` writes
it to the audit trail (``kiosk_transfer_interrupted``, outcome ``posted`` with the reference, or
``not_posted``; subject the wallet) and the app logs one line in ``$TELLER_HOME/logs/teller.log``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import KIOSK_ROLE, require_role
from teller_tui.common.errors import StorageError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _
from teller_tui.desk.cash_types import EntryReceipt
from teller_tui.desk.inflight import InflightJournal, Submission
from teller_tui.kiosk.scopes import kiosk_scope
from teller_tui.kiosk.views import KioskReceipt

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.common.money import Money
    from teller_tui.common.settings import Settings
    from teller_tui.db.engine import Database
    from teller_tui.desk.cash import CashService
    from teller_tui.ledger import Ledger

__all__ = ["KioskInflightService", "KioskOutcome", "outcome_when_answered"]


@dataclass(frozen=True, slots=True)
class KioskOutcome:
    """What became of one kiosk transfer; ``receipt`` (posted only) is the customer's receipt."""

    submission: Submission
    posted: bool
    receipt: KioskReceipt | None = None

    @property
    def reference(self) -> str | None:
        return self.receipt.reference if self.receipt is not None else None


class KioskInflightService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail, *,
                 cash: CashService) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit, self.cash = db, clock, settings, ledger, audit, cash

    def _journal(self, actor: Actor) -> InflightJournal:
        return InflightJournal.for_terminal(self.settings.home, actor.terminal_id or self.settings.terminal_id)

    @guarded("kiosk_inflight")
    def record(self, actor: Actor, kind: str, key: str, *, wallet: str, amount: Money,
               subject: str = "") -> Submission:
        """Write the transfer down (fsynced) before it is sent; a refusing disk raises StorageError
        and the transfer is not sent."""
        require_role(actor, KIOSK_ROLE)
        try:
            return self._journal(actor).record(kind, key, username=actor.username, wallet=wallet,
                                               amount=format_money(amount), now=self.clock.now(), subject=subject)
        except OSError as exc:
            raise StorageError(_("This kiosk cannot write down the transfer before sending it, so nothing was "
                                 "sent. Please go to the counter."), code="io_error") from exc

    @guarded("kiosk_inflight")
    def resolve(self, actor: Actor, key: str) -> None:
        """The outcome is known and shown (or settled for staff): forget the transfer."""
        require_role(actor, KIOSK_ROLE)
        try:
            self._journal(actor).resolve(key)
        except OSError:
            pass  # left in the journal, it is looked up and settled once more: harmless

    @guarded("kiosk_inflight")
    def pending(self, actor: Actor) -> list[Submission]:
        """This kiosk's unresolved transfers, oldest first."""
        require_role(actor, KIOSK_ROLE)
        return self._journal(actor).pending(actor.username)

    @guarded("kiosk_inflight")
    def outcome_of(self, actor: Actor, submission: Submission) -> KioskOutcome:
        """Posted (with its kiosk receipt) or not: the key is unique in the ledger. Raises a
        StorageError (DatabaseUnavailable) while the database cannot answer."""
        require_role(actor, KIOSK_ROLE)
        with self.db.read() as s:
            entry = self.ledger.entry_by_key(s, submission.key)
            if entry is None:
                return KioskOutcome(submission, posted=False)
            data = self.cash.receipt_data(s, entry.entry_id)
        txn = self.cash.finish(entry, EntryReceipt(replace(data.data, channel="kiosk"), data.wallet_number_full))
        return KioskOutcome(submission, True, KioskReceipt(txn.reference, txn.amount, txn.new_balance, txn.posted_at,
                                                           txn.receipt_text, replayed=False))

    @guarded("kiosk_inflight")
    def settle(self, actor: Actor, outcome: KioskOutcome) -> None:
        """A transfer left by a kiosk restart: its outcome goes to staff (the audit trail, subject the
        wallet), not to the next customer; then it is forgotten."""
        require_role(actor, KIOSK_ROLE)
        sub = outcome.submission
        with self.db.write(kiosk_scope(actor)) as s:  # one record in the kiosk's stream
            self.audit.append(s, actor, "kiosk_transfer_interrupted", subject=sub.subject or sub.wallet,
                              outcome="posted" if outcome.posted else "not_posted",
                              detail={"key": sub.key, "reference": outcome.reference, "amount": sub.amount,
                                      "wallet": sub.wallet, "started_at": sub.started_at})
        self.resolve(actor, sub.key)


def outcome_when_answered(svc: KioskInflightService, actor: Actor, submission: Submission, *,
                          wait: Callable[[], object], cancelled: Callable[[], bool]) -> KioskOutcome | None:
    """Look ``submission`` up, calling ``wait()`` and asking again while the database cannot answer;
    None only when ``cancelled()`` (the app is closing: the key stays written down)."""
    while not cancelled():
        try:
            return svc.outcome_of(actor, submission)
        except StorageError:
            wait()
    return None
