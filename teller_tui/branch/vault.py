"""The branch vault: its balance and pieces, cash received from the cash centre (or brought in
as capital), and counted transfers between a teller's open drawer and the vault (dual control).

Every movement is one ledger entry dated with the open business date, one drawer event with its
denomination rows, and one audit record, in one transaction; a transfer asking for pieces the
vault does not hold is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date

from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.roles import SUPERVISION_ROLES
from teller_tui.branch.cashbook import check_vault_has, post_move, record_event, vault_account, vault_view
from teller_tui.branch.counts import clean_counts
from teller_tui.branch.drawer_lookup import require_open_drawer
from teller_tui.branch.dual_control import FourEyes, counts_key, require_staff
from teller_tui.branch.kinds import Direction
from teller_tui.branch.views import SupervisorCredentials, TransferResult, VaultView
from teller_tui.common.clock import Clock
from teller_tui.common.errors import PermissionDenied, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.common.money import Money
from teller_tui.common.reference import count_total
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.ledger import AccountKind, Ledger, entry_facts
from teller_tui.ledger.accounts import drawer_code, equity_code, settlement_code, vault_code
from teller_tui.ledger.business_day import Dating, current_business_date
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models.enums import DrawerEventKind
from teller_tui.auth.permissions import guarded

__all__ = ["VaultService"]


class VaultService:
    def __init__(self, *, db: Database, clock: Clock, ledger: Ledger, audit: AuditTrail, four_eyes: FourEyes) -> None:
        self.db, self.clock, self.ledger, self.audit, self.four_eyes = db, clock, ledger, audit, four_eyes

    def view(self, branch_code: str, currency: str = "CNY") -> VaultView:
        """The vault's balance and its pieces by denomination."""
        with self.db.read() as session:
            return vault_view(session, self.ledger, branch_code, currency)

    @guarded("vault")
    def receive(self, actor: Actor, counts: Mapping[str, int], *, source: str = "settlement", memo: str = "",
                currency: str = "CNY", idempotency_key: str | None = None) -> VaultView:
        """Cash delivered into the vault from the central bank / cash centre (``source`` settlement),
        or brought in as opening capital (``source`` equity)."""
        if actor.role not in SUPERVISION_ROLES:
            raise PermissionDenied(_("Only a supervisor can receive cash into the vault."), code="forbidden")
        if source not in ("settlement", "equity"):
            raise ValidationError(_("The source is settlement or equity."), code="vault_source")
        counts = clean_counts(counts, currency)
        total = count_total(counts, currency)
        if total.minor <= 0:
            raise ValidationError(_("Count the notes received first."), code="vault_empty")
        memo = clean_text(memo, limit=200)
        branch = actor.branch_code
        with self.db.write() as session:
            business_date = current_business_date(session, branch, self.clock)
            vault = vault_account(session, self.ledger, branch, currency)
            if source == "equity":
                src = self.ledger.open_account(session, code=equity_code(branch, currency),
                                               name=f"Equity {branch}", kind=AccountKind.EQUITY,
                                               currency=currency, branch_code=branch)
            else:
                src = self.ledger.open_account(session, code=settlement_code(branch, currency),
                                               name=f"Settlement {branch}", kind=AccountKind.SETTLEMENT,
                                               currency=currency, branch_code=branch)
            entry = post_move(session, self.ledger, actor, kind=EntryKind.VAULT_RECEIVE, debit_id=vault, credit_id=src,
                              amount=total, key=idempotency_key or f"vault-{uuid.uuid4().hex}",
                              memo=memo or f"Cash received from {source}", meta={"source": source},
                              dating=Dating.AFTER_HOURS)  # deliveries arrive outside the day too
            if not entry.replayed:
                record_event(session, at=self.clock.now(), drawer_id=None, branch=branch,
                             business_date=business_date, kind=DrawerEventKind.VAULT_RECEIVE, currency=currency,
                             amount=total.minor, actor=actor, counts=counts, entry_id=entry.entry_id, memo=memo)
                self.audit.append(session, actor, "vault_receive", subject=f"vault:{branch}",
                                  detail={**entry_facts((entry, actor.staff_id)),
                                          "amount": total.minor, "currency": currency, "source": source,
                                          "counts": counts, "reference": entry.reference})
        return self.view(branch, currency)

    @guarded("vault")
    def transfer(self, actor: Actor, direction: Direction, counts: Mapping[str, int],
                 supervisor: SupervisorCredentials | None = None, *, idempotency_key: str | None = None,
                 currency: str = "CNY", approval_id: int | None = None) -> TransferResult:
        """Move counted cash between the actor's open drawer and the vault (dual control: an approval
        through the approvals service, policy action ``vault_transfer``, bound to the pieces)."""
        require_staff(actor)
        if direction not in ("to_vault", "from_vault"):
            raise ValidationError(_("Choose whether the cash goes to or comes from the vault."), code="direction")
        counts = clean_counts(counts, currency)
        total = count_total(counts, currency)
        if total.minor <= 0:
            raise ValidationError(_("Count the notes to transfer first."), code="transfer_empty")
        with self.db.read() as session:
            drawer = require_open_drawer(session, actor)
            spec = self._spec(actor, direction, counts, total, drawer.drawer_id, drawer.business_date)
            if approval_id is None and supervisor is None:
                self.four_eyes.consume(session, spec, None)  # raises ApprovalRequired (with the spec)
        approval_id = self.four_eyes.obtain(actor, spec, supervisor, approval_id)
        key = idempotency_key or f"vault-{uuid.uuid4().hex}"
        with self.db.write() as session:
            drawer = require_open_drawer(session, actor)
            grant, approver = self.four_eyes.consume(
                session, self._spec(actor, direction, counts, total, drawer.drawer_id, drawer.business_date),
                approval_id)
            vault = vault_account(session, self.ledger, actor.branch_code, currency)
            if direction == "from_vault":
                check_vault_has(session, actor.branch_code, counts, currency)
                dr, cr, ev_kind = drawer.account_id, vault, DrawerEventKind.VAULT_TO_DRAWER
            else:
                dr, cr, ev_kind = vault, drawer.account_id, DrawerEventKind.DRAWER_TO_VAULT
            meta: dict[str, object] = {"drawer": drawer.drawer_id, "direction": direction}
            if grant is not None:
                meta["approval_id"] = grant.approval_id
            entry = post_move(session, self.ledger, actor, kind=EntryKind.VAULT_TRANSFER, debit_id=dr, credit_id=cr,
                              amount=total, key=key,
                              memo=f"{ev_kind} {actor.username}", meta=meta)
            if grant is not None and not entry.replayed:
                self.four_eyes.approvals.attach_entry(session, grant.approval_id, entry.entry_id)
            if not entry.replayed:
                record_event(session, at=self.clock.now(), drawer_id=drawer.drawer_id, branch=actor.branch_code,
                             business_date=drawer.business_date, kind=ev_kind, currency=currency,
                             amount=total.minor, actor=actor, counts=counts, entry_id=entry.entry_id,
                             approver=approver)
                self.audit.append(session, actor, "vault_transfer", subject=f"drawer:{drawer.drawer_id}",
                                  detail={**entry_facts((entry, actor.staff_id)),
                                          "direction": direction, "amount": total.minor, "currency": currency,
                                          "approver": approver, "counts": counts, "reference": entry.reference,
                                          "approval_id": grant.approval_id if grant else None})
            return TransferResult(entry.reference, direction, total, approver)

    def _spec(self, actor: Actor, direction: str, counts: Mapping[str, int], total: Money, drawer_id: int,
              business_date: date) -> ApprovalSpec:
        drawer, vault = drawer_code(actor.branch_code, actor.username), vault_code(actor.branch_code, total.currency)
        accounts = (vault, drawer) if direction == "from_vault" else (drawer, vault)
        summary = message(N_("Vault transfer {amount}: {source} → {target}"),
                          amount=total, source=accounts[0], target=accounts[1])
        return self.four_eyes.spec(actor, ("vault_transfer",), on=business_date, amount=total, accounts=accounts,
                                   subject=f"drawer:{drawer_id}:{direction}:{counts_key(counts)}", summary=summary)
