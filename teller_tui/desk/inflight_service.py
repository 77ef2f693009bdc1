"""The terminal's account of postings in flight: recorded before sending, looked up by key after a fault.

Public API (``services.inflight``)::

    sub = svc.record(actor, "cash_in", key, wallet="8800…", amount=Money(…))   # before sending
    svc.resolve(actor, key)                        # the outcome is shown: forget it
    out = svc.outcome_of(actor, sub)               # -> SubmissionOutcome (posted + receipt, or not)
    outs = svc.check_pending(actor, exclude={…})   # after restart, reconnect or unlock
    result = submit_tracked(svc, actor, "reversal", key, wallet=…, amount=…, send=lambda: …)  # all three

``submit_tracked`` is the whole protocol for one submission (the cash forms keep their own
steps because they poll on screen): written down, sent, forgotten once the answer is known
(posted, or refused: rolled back); on a fault whose outcome is unknown it raises
:class:`OutcomeUnknown` and the key stays in the journal, to be looked up after the reconnect,
restart or unlock. Reversals (F9), the vault transfer, the drawer's open and close and the kiosk's
transfer (with the kiosk's own journal, :mod:`teller_tui.kiosk.inflight`) go through it.

The drawer's own postings have no wallet receipt: a vault transfer or an opening float is found by
the terminal's key (the float entry carries it; a float of zero posts no entry and the drawer row
is asked instead), a close by its drawer (``subject`` ``drawer:<id>``: the close is one transaction
that marks the row closed and posts ``drawer:<id>:return`` and ``drawer:<id>:over_short``).

The journal itself is :class:`teller_tui.desk.inflight.InflightJournal` (one JSON file per
submission under ``$TELLER_HOME/inflight/<terminal>``, on the terminal's own disk because the
database may be what is down). ``outcome_of`` needs the database: it raises
:class:`~teller_tui.common.errors.DatabaseUnavailable` while it cannot answer, and the caller asks
again once it can. The answer is authoritative: the idempotency key is unique in the ledger, so an
entry under it means "posted", no entry means "not posted" (the transaction that carried it was
rolled back or never arrived), and entering the form again cannot post it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, TypeVar

from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import STAFF_ROLES, require_role
from teller_tui.common.errors import DomainError, StorageError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.db.faults import storage_fault
from teller_tui.desk.cash_types import TxnResult
from teller_tui.desk.entry_receipts import entry_receipt, txn_result
from teller_tui.desk.inflight import InflightJournal, Submission
from teller_tui.desk.inflight_drawer import drawer_close_outcome, drawer_open_outcome

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings
    from teller_tui.db.engine import Database
    from teller_tui.ledger import Ledger

__all__ = ["WALLETLESS_KINDS", "InflightService", "OutcomeUnknown", "SubmissionOutcome", "Tracker",
           "submit_tracked"]

T = TypeVar("T")


class OutcomeUnknown(StorageError):
    """Sent, but the database failed before answering: whether it was posted is not known yet.
    The submission stays in the terminal's journal and is looked up once the database answers."""

    code = "outcome_unknown"

    def __init__(self, submission: Submission, cause: BaseException) -> None:
        super().__init__(_("Not known yet — checking. The terminal looks it up once the database answers."),
                         code=self.code)
        self.submission = submission
        self.cause = cause


#: Postings of the drawer itself: no wallet, so no wallet receipt; their outcome is "R… was posted".
WALLETLESS_KINDS = frozenset({"vault_transfer", "drawer_open", "drawer_close"})


@dataclass(frozen=True, slots=True)
class SubmissionOutcome:
    """What became of one submission; ``result`` (posted only, wallet postings) carries the receipt to
    show or reprint; ``entry_reference`` names the entry of a posting without a wallet receipt."""

    submission: Submission
    posted: bool
    result: TxnResult | None = None
    entry_reference: str | None = None

    @property
    def reference(self) -> str | None:
        return self.result.reference if self.result is not None else self.entry_reference


class InflightService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.ledger = ledger

    @guarded("inflight")
    def journal(self, actor: Actor) -> InflightJournal:
        """This terminal's journal (the actor's terminal, else the configured one)."""
        return InflightJournal.for_terminal(self.settings.home, actor.terminal_id or self.settings.terminal_id)

    @guarded("inflight")
    def record(self, actor: Actor, kind: str, key: str, *, wallet: str, amount: Money,
               subject: str = "") -> Submission:
        """Write the submission down (fsynced) before it is sent. If this terminal's disk refuses,
        raise a :class:`StorageError`: the posting must then not be sent, since a crash could no
        longer be accounted for. ``subject``: what a ``drawer_close`` is looked up by (``drawer:<id>``)."""
        require_role(actor, *STAFF_ROLES)
        try:
            return self.journal(actor).record(kind, key, username=actor.username, wallet=wallet,
                                              amount=format_money(amount), now=self.clock.now(), subject=subject)
        except OSError as exc:
            fault = storage_fault(exc)
            raise StorageError(_("This terminal cannot write down the posting before sending it, so nothing "
                                 "was sent. {fault}").format(fault=str(fault) if fault else exc.strerror or ""),
                               code=fault.code if fault else "io_error") from exc

    @guarded("inflight")
    def resolve(self, actor: Actor, key: str) -> None:
        """The teller has been shown the outcome: forget the submission."""
        require_role(actor, *STAFF_ROLES)
        try:
            self.journal(actor).resolve(key)
        except OSError:
            pass  # left in the journal, it is looked up (and shown) once more: harmless

    @guarded("inflight")
    def pending(self, actor: Actor, *, exclude: Collection[str] = ()) -> list[Submission]:
        """This person's unresolved submissions at this terminal, oldest first."""
        require_role(actor, *STAFF_ROLES)
        return [s for s in self.journal(actor).pending(actor.username) if s.key not in exclude]

    @guarded("inflight")
    def outcome_of(self, actor: Actor, submission: Submission) -> SubmissionOutcome:
        """Whether ``submission`` reached the books, with its receipt when it did (read-only)."""
        require_role(actor, *STAFF_ROLES)
        with self.db.read() as s:
            if submission.kind == "drawer_close":
                posted, reference = drawer_close_outcome(s, self.ledger, actor, submission)
                return SubmissionOutcome(submission, posted=posted, entry_reference=reference)
            entry = self.ledger.entry_by_key(s, submission.key)
            if entry is None:
                # A float of zero posts no entry: the drawer row says whether it opened.
                posted = submission.kind == "drawer_open" and drawer_open_outcome(s, actor, submission)
                return SubmissionOutcome(submission, posted=posted)
            if submission.kind in WALLETLESS_KINDS:
                return SubmissionOutcome(submission, posted=True, entry_reference=entry.reference)
            receipt = entry_receipt(s, entry.entry_id, bank_name=getattr(self.settings, "bank_name", "") or "")
        # The original posting (not a replay of it): its receipt, rendered again.
        result = replace(txn_result(entry, receipt), replayed=False)
        return SubmissionOutcome(submission, posted=True, result=result)

    @guarded("inflight")
    def check_pending(self, actor: Actor, *, exclude: Collection[str] = ()) -> list[SubmissionOutcome]:
        """Look up every unresolved submission of this person here (after a restart, reconnect or
        unlock); ``exclude``: keys a form on screen is already resolving itself."""
        return [self.outcome_of(actor, sub) for sub in self.pending(actor, exclude=exclude)]


class Tracker(Protocol):
    """What ``submit_tracked`` writes to: the desk's :class:`InflightService` or the kiosk's journal."""

    def record(self, actor: Actor, kind: str, key: str, *, wallet: str, amount: Money,
               subject: str = "") -> Submission: ...

    def resolve(self, actor: Actor, key: str) -> None: ...


def submit_tracked(inflight: Tracker, actor: Actor, kind: str, key: str, *, wallet: str, amount: Money,
                   send: Callable[[], T], subject: str = "") -> T:
    """Send one posting with its idempotency key written down first (see the module docstring).

    Returns ``send()``'s result, the key forgotten. A refusal (any :class:`DomainError` but a
    storage fault) is re-raised with the key forgotten: the transaction was rolled back. Any
    other failure raises :class:`OutcomeUnknown` with the key kept. If the journal cannot be
    written, the :class:`StorageError` of :meth:`InflightService.record` is raised and nothing is sent."""
    submission = inflight.record(actor, kind, key, wallet=wallet, amount=amount, subject=subject)
    try:
        result = send()
    except DomainError as exc:
        if isinstance(exc, StorageError):
            raise OutcomeUnknown(submission, exc) from exc
        inflight.resolve(actor, key)
        raise
    except Exception as exc:
        raise OutcomeUnknown(submission, exc) from exc
    inflight.resolve(actor, key)
    return result
