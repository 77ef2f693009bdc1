"""Explain a transaction: for a posted entry (by reference) or a stored refused attempt, the time,
status, channel, who (teller or kiosk) and the cause in plain words.

Public API::

    svc = ExplainService(db, clock)                            # services.explain
    e = svc.explain(actor, "R20261123-000000042")              # a posted entry, or "RF-000007" (a refusal)
    rows = svc.refusals(actor, customer_id=7)                  # stored refusals, newest first
    rows = svc.history(actor, wallet_id=3)                     # entries and refusals of a wallet, newest first
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import STAFF_ROLES, Role, require_role
from teller_tui.cases.refusals import CAUSE_GROUPS, refusal_cause, refusal_number
from teller_tui.common.errors import NotFound
from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.common.clock import Clock
from teller_tui.db.engine import Database
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models import JournalEntry, LedgerAccount, Posting, Staff, Wallet
from teller_tui.models.cases import Channel, RefusedAttempt

__all__ = ["CHANNEL_TITLES", "ExplainService", "Explanation"]

CHANNEL_TITLES: Mapping[str, str] = {
    Channel.COUNTER: N_("At the counter"),
    Channel.KIOSK: N_("At a self-service kiosk"),
    Channel.LINKED_ACCOUNT: N_("Through a linked bank account"),
}

_KIND_TEXT: Mapping[str, str] = {
    EntryKind.CASH_IN: N_("Cash paid into the wallet."),
    EntryKind.CASH_OUT: N_("Cash paid out of the wallet."),
    EntryKind.TRANSFER: N_("A transfer between two wallets."),
    EntryKind.REVERSAL: N_("The reversal of an earlier transaction."),
    EntryKind.LINKED_TOP_UP: N_("A top-up from a linked bank account."),
    EntryKind.LINKED_WITHDRAW: N_("A withdrawal to a linked bank account."),
    EntryKind.WELCOME_REWARD: N_("Welcome reward points."),
    EntryKind.POINTS_FORFEIT: N_("Points given up when the wallet closed."),
    EntryKind.DISPUTE_CORRECTION: N_("A correction after a dispute was resolved in the customer's favour."),
}

_LINKED_KINDS = frozenset({EntryKind.LINKED_TOP_UP, EntryKind.LINKED_WITHDRAW})


@dataclass(frozen=True, slots=True)
class Explanation:
    """One transaction or attempt, explained. ``cause`` is plain words in the current language."""

    reference: str  # entry reference, or RF-000007 for a refusal
    refused: bool
    at: datetime
    status: str  # posted | reversed | reversal | refused
    status_text: str
    channel: str
    channel_text: str
    by: str  # the teller's or kiosk's name (cleaned)
    terminal: str
    kind: str
    amount: Money | None
    wallet_number: str | None
    cause: str
    code: str  # the reason code of a refusal; the entry kind of a posting
    group: str  # limits | frozen | funds | pin | approval | other ("" for postings)


def _staff(s: Session, staff_id: int | None, fallback: str = "") -> tuple[str, str]:
    """(display name, role) of a staff row."""
    if staff_id is None:
        return clean_text(fallback, limit=64), Role.SYSTEM
    row = s.get(Staff, staff_id)
    if row is None:
        return clean_text(fallback, limit=64), ""
    return clean_text(row.display_name or row.username, limit=80), row.role


def _title(channel: str) -> str:
    return _(CHANNEL_TITLES[channel]) if channel in CHANNEL_TITLES else channel


class ExplainService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock  # the clock: the staff-row check of every guarded call

    @guarded("explain")
    def explain(self, actor: Actor, reference: str) -> Explanation:
        """A posted entry by its reference, or a stored refusal by its ``RF-`` number."""
        require_role(actor, *STAFF_ROLES)
        ref = clean_text(reference, limit=40).upper()
        with self.db.read() as s:
            if ref.startswith("RF-"):
                try:
                    row = s.get(RefusedAttempt, int(ref[3:]))
                except ValueError:
                    row = None
                if row is None:
                    raise NotFound(_("No refused attempt {reference}").format(reference=ref), code="no_refusal")
                return self._refusal(s, row)
            entry = s.execute(select(JournalEntry).where(col(JournalEntry.reference) == ref)).scalar_one_or_none()
            if entry is None:
                raise NotFound(_("No transaction with reference {reference}").format(reference=ref), code="no_entry")
            return self._entry(s, entry)

    @guarded("explain")
    def refusals(self, actor: Actor, *, customer_id: int | None = None, wallet_id: int | None = None,
                 limit: int = 50) -> list[Explanation]:
        """Stored refusals of a customer or a wallet (or the branch's, with neither), newest first."""
        require_role(actor, *STAFF_ROLES)
        stmt = select(RefusedAttempt).order_by(col(RefusedAttempt.id).desc()).limit(max(1, min(limit, 500)))
        if customer_id is not None:
            stmt = stmt.where(col(RefusedAttempt.customer_id) == customer_id)
        if wallet_id is not None:
            stmt = stmt.where(col(RefusedAttempt.wallet_id) == wallet_id)
        if customer_id is None and wallet_id is None:
            stmt = stmt.where(col(RefusedAttempt.branch_code) == actor.branch_code)
        with self.db.read() as s:
            return [self._refusal(s, r) for r in s.execute(stmt).scalars()]

    @guarded("explain")
    def history(self, actor: Actor, *, wallet_id: int, limit: int = 50) -> list[Explanation]:
        """A wallet's posted entries and refused attempts together, newest first."""
        require_role(actor, *STAFF_ROLES)
        n = max(1, min(limit, 500))
        with self.db.read() as s:
            wallet = s.get(Wallet, wallet_id)
            if wallet is None:
                raise NotFound(_("No such wallet"), code="no_wallet")
            entries = s.execute(select(JournalEntry).join(Posting, col(Posting.entry_id) == col(JournalEntry.id))
                                .where(col(Posting.account_id) == wallet.account_id)
                                .order_by(col(JournalEntry.id).desc()).limit(n)).scalars().all()
            out = [self._entry(s, e) for e in entries]
        out += self.refusals(actor, wallet_id=wallet_id, limit=n)
        return sorted(out, key=lambda e: e.at, reverse=True)[:n]

    # -- one of each ------------------------------------------------------------------------------
    def _refusal(self, s: Session, row: RefusedAttempt) -> Explanation:
        assert row.id is not None
        by, _role = _staff(s, row.actor_id, row.actor_name)
        wallet = s.get(Wallet, row.wallet_id) if row.wallet_id is not None else None
        return Explanation(
            reference=refusal_number(row.id), refused=True, at=row.at, status="refused",
            status_text=_("Refused: nothing was posted and no money moved."), channel=row.channel,
            channel_text=_title(row.channel), by=by, terminal=row.terminal_id, kind=row.kind,
            amount=Money(row.amount, row.currency) if row.amount is not None else None,
            wallet_number=wallet.number if wallet is not None else None, cause=refusal_cause(row.reason_code),
            code=row.reason_code, group=CAUSE_GROUPS.get(row.reason_code, "other"))

    def _entry(self, s: Session, entry: JournalEntry) -> Explanation:
        assert entry.id is not None
        by, role = _staff(s, entry.actor_id)
        meta = json.loads(entry.request_json or "{}").get("meta", {}) if entry.request_json else {}
        channel = (Channel.KIOSK if role == Role.KIOSK or meta.get("channel") == "kiosk"
                   else Channel.LINKED_ACCOUNT if entry.kind in _LINKED_KINDS else Channel.COUNTER)
        wallet_legs = s.execute(select(col(Posting.amount), col(Posting.currency), col(LedgerAccount.code))
                                .join(LedgerAccount, col(LedgerAccount.id) == col(Posting.account_id))
                                .where(col(Posting.entry_id) == entry.id, col(LedgerAccount.kind) == "wallet")
                                .order_by(col(Posting.id))).all()
        amount = Money(abs(int(wallet_legs[0][0])), wallet_legs[0][1]) if wallet_legs else None
        number = str(wallet_legs[0][2]).split(":", 1)[-1] if wallet_legs else None
        reversal = s.execute(select(col(JournalEntry.reference), col(JournalEntry.posted_at))
                             .where(col(JournalEntry.reverses_entry_id) == entry.id)).first()
        if entry.reverses_entry_id is not None:
            original = s.get(JournalEntry, entry.reverses_entry_id)
            status, status_text = "reversal", _("Posted: it reverses {reference}.").format(
                reference=original.reference if original else "?")
        elif reversal is not None:
            status, status_text = "reversed", _("Posted, then reversed by {reference}.").format(
                reference=reversal[0])
        else:
            status, status_text = "posted", _("Posted: the money moved.")
        cause = _(_KIND_TEXT[entry.kind]) if entry.kind in _KIND_TEXT else clean_text(entry.kind)
        if entry.memo:
            cause = f"{cause} {clean_text(entry.memo, limit=200)}"
        return Explanation(
            reference=entry.reference, refused=False, at=entry.posted_at, status=status, status_text=status_text,
            channel=channel, channel_text=_title(channel), by=by, terminal=entry.terminal_id, kind=entry.kind,
            amount=amount, wallet_number=number, cause=cause, code=entry.kind, group="")
