"""Wallet lifecycle: the state machine, tier change, device replacement and closing.

Public API::

    svc = LifecycleService(db, clock, settings, ledger, audit, tiers, box=box, approvals=approvals, outbox=outbox)
    acts = svc.available(wallet_id)          # -> {action: None | reason it is refused}, for the UI
    svc.freeze(actor, wallet_id, reason)                                 # any teller, at once
    svc.block_lost(actor, wallet_id, reason)    # lost/stolen phone: nothing in or out (wallets/blocks.py)
    svc.unfreeze(actor, wallet_id, reason, approval_id=None)             # needs an approval
    svc.change_tier(actor, wallet_id, new_tier, evidence=(), reason="", approval_id=None, consent_id=None)
    res = svc.replace_device(actor, wallet_id, new_pin=..., enrol_totp=False, approval_id=None)
    svc.close(actor, wallet_id, reason, approval_id=None, consent_id=None)   # final; balance must be 0

States and actions (:data:`TRANSITIONS`)::

    active --freeze--> frozen --unfreeze--> active
    active --close--> closed            (closed is final: every action refused)
    active --change_tier--> active
    active|frozen --replace_device--> (unchanged; lifts a lost-phone block: back to the status before)
    active|frozen --block_lost--> frozen + blocked (unfreeze refused until the device is replaced)

Anything else raises :class:`~teller_tui.common.errors.Conflict` with ``code="illegal_transition"``
and a message naming the state and the action (:func:`check_transition`). Every change is audited.

Approval contract (the app's one approval flow, ``TellerApp.request_approval``): ``unfreeze``,
``replace_device``, ``change_tier`` and ``close`` ask the policy (actions ``unfreeze``,
``device_replacement``, ``class_change`` and ``wallet_close``; the shipped policy requires the first
two, a site may add the others). With the approval service (``services.approvals``, a required
``approvals=``) the core builds an ``ApprovalSpec`` (kind = the policy action, subject
``wallet:<number>`` (``wallet:<number>:class:<n>`` for a class change), accounts ``(number,)``, the customer and the reason) and calls
``approvals.check(session, spec, approval_id=...)`` inside the change's transaction: without
``approval_id`` it raises :class:`~teller_tui.common.errors.ApprovalRequired` carrying the spec in
``details["spec"]``; with one the approval is consumed (bound to that spec, single use) and its
id recorded in the audit record. Retry with the *same reason* so the spec hashes the same.
The state rules are checked first, so an illegal transition is refused without asking for an approval.

Consent (issue 16): at the counter ``close`` and ``change_tier`` also need the customer's own consent,
like a cash-out (:class:`~teller_tui.consent.gate.ConsentGate`, asked before the approval): without
``consent_id`` they raise :class:`~teller_tui.common.errors.ConsentRequired` carrying the
:class:`~teller_tui.consent.spec.ConsentSpec` (:func:`~teller_tui.wallets.lifecycle_rules.lifecycle_consent`,
bound to the wallet, the class and the reason); the consent's id and method go in the audit record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from teller_tui.approvals.policy import Facts
from teller_tui.approvals.service import ApprovalService
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.passwords import hash_pin
from teller_tui.auth.qr import qr_text
from teller_tui.auth.roles import STAFF_ROLES, require_role
from teller_tui.auth.secretbox import SecretBox
from teller_tui.auth.totp import new_secret, provisioning_uri
from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict, NotFound, ValidationError
from teller_tui.common.formatting import format_money
from teller_tui.common.masks import mask_name, mask_phone
from teller_tui.common.i18n import N_, _
from teller_tui.common.messages import message
from teller_tui.common.money import Money
from teller_tui.common.settings import Settings
from teller_tui.notify.outbox import Outbox
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.ledger import EntryRequest, EntryResult, Ledger, credit, debit, entry_facts
from teller_tui.ledger.accounts import AccountKind, points_pool_code
from teller_tui.ledger.business_day import Dating, current_business_date
from teller_tui.models import Customer, LinkedAccount, Wallet
from teller_tui.models.enums import WalletStatus
from teller_tui.wallets.blocks import is_blocked, lift_block, place_block
from teller_tui.wallets.classes import EVIDENCE_OWN_BANK_ACCOUNT, TierTable, close_evidence
from teller_tui.wallets.identity.pins import validate_pin
from teller_tui.wallets.kyc import evidence_from_kyc, evidence_rank, kyc_level
from teller_tui.wallets.limits import check_class_change
from teller_tui.wallets.service import WalletInfo, wallet_info
from teller_tui.auth.permissions import guarded
from teller_tui.consent.gate import ConsentGate
from teller_tui.wallets.lifecycle_rules import (  # noqa: F401 - re-exported (screens, tests)
    ACTIONS, APPROVAL_ACTIONS, STATUS_LABELS, TRANSITIONS, check_transition, lifecycle_consent,
)


@dataclass(frozen=True, slots=True)
class DeviceReset:
    wallet_number: str
    totp_secret: str | None  # shown once as a QR code for the customer to scan, never stored in clear
    totp_uri: str | None
    totp_qr: str | None


class LifecycleService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail,
                 tiers: TierTable, *, box: SecretBox, approvals: ApprovalService, outbox: Outbox,
                 consent: ConsentGate) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.tiers, self.box, self.approvals, self.outbox, self.consent = tiers, box, approvals, outbox, consent

    def _tell(self, s: Session, event: str, w: Wallet, key: str) -> None:
        """Queue the customer's notification in this transaction (teller_tui.notify.outbox)."""
        self.outbox.tell(s, event, key=f"{w.number}:{key}", customer_id=w.customer_id, wallet_number=w.number)

    def _approve(self, s: Session, actor: Actor, action: str, w: Wallet, reason: str, approval_id: int | None,
                 why: str, subject: str = "") -> None:
        """Raise ApprovalRequired, or consume the approval (see the module docstring)."""
        kind = APPROVAL_ACTIONS[action]
        hits = self.approvals.evaluate(Facts(kind, on=current_business_date(s, actor.branch_code, self.clock),
                                             role=actor.role))
        cust = s.get(Customer, w.customer_id)
        spec = ApprovalSpec(kind=kind, requester_id=actor.staff_id, branch_code=actor.branch_code,
                            accounts=(w.number,), customer_id=w.customer_id, subject=subject or f"wallet:{w.number}",
                            reason=reason, rules=tuple(h.rule for h in hits),
                            reasons=tuple(h.reason for h in hits) or (why,), summary=why,
                            customer_name=mask_name(cust.full_name) if cust else "")
        self.approvals.check(s, spec, approval_id=approval_id)

    # -- queries -------------------------------------------------------------------------------
    def available(self, wallet_id: int) -> dict[str, str | None]:
        """Each action -> None when the state allows it, else the reason it would be refused."""
        with self.db.read() as s:
            w = s.get(Wallet, wallet_id)
            if w is None:
                raise NotFound(_("No such wallet"), code="no_wallet")
            status, blocked = w.status, is_blocked(s, wallet_id)
        out: dict[str, str | None] = {}
        for action in ACTIONS:
            try:
                check_transition(status, action)
                out[action] = None
            except Conflict as exc:
                out[action] = str(exc)
        if blocked:
            out["block_lost"] = _("The wallet is already blocked")
            out["unfreeze"] = out["close"] = _("Blocked (lost phone): replace the device to lift the block")
        return out

    # -- transitions ---------------------------------------------------------------------------
    def _wallet(self, s: Session, wallet_id: int) -> Wallet:
        w = s.get(Wallet, wallet_id)
        if w is None:
            raise NotFound(_("No such wallet"), code="no_wallet")
        return w

    def _set_status(self, s: Session, w: Wallet, status: str) -> None:
        for acct in (w.account_id, w.points_account_id):
            if acct is not None:
                self.ledger.set_status(s, acct, status)
        values: dict[str, Any] = {"status": status}
        if status == WalletStatus.CLOSED:
            values["closed_at"] = self.clock.now()
        s.execute(update(Wallet).where(col(Wallet.id) == w.id).values(**values))
        s.refresh(w)

    def _need_reason(self, reason: str, what: str) -> str:
        reason = clean_text(reason, limit=200)
        if not reason:
            raise ValidationError(_("Give a reason to {what}").format(what=what), code="reason", field="reason")
        return reason

    @guarded("lifecycle")
    def freeze(self, actor: Actor, wallet_id: int, reason: str) -> WalletInfo:
        """Any teller, effective at once: the ledger refuses debits of a frozen wallet."""
        require_role(actor, *STAFF_ROLES)

        reason = self._need_reason(reason, _("freeze the wallet"))

        def work(s: Session) -> WalletInfo:
            w = self._wallet(s, wallet_id)
            check_transition(w.status, "freeze")
            self._set_status(s, w, WalletStatus.FROZEN)
            rec = self.audit.append(s, actor, "wallet_freeze", subject=w.number,
                                    detail={"from": WalletStatus.ACTIVE.value, "to": WalletStatus.FROZEN.value, "reason": reason})
            self._tell(s, "freeze", w, str(rec.seq))
            return wallet_info(w)

        return self.db.write_retrying(work)

    @guarded("lifecycle")
    def block_lost(self, actor: Actor, wallet_id: int, reason: str) -> WalletInfo:
        """Lost or stolen phone: any teller, at once; nothing in or out on any channel until
        :meth:`replace_device` (with its approval) lifts the block."""
        require_role(actor, *STAFF_ROLES)
        reason = self._need_reason(reason, _("block the wallet"))

        def work(s: Session) -> WalletInfo:
            w = self._wallet(s, wallet_id)
            before = w.status
            check_transition(w.status, "block_lost")
            place_block(s, self.ledger, w, actor.staff_id, reason, self.clock.now())
            rec = self.audit.append(s, actor, "wallet_block", subject=w.number,
                                    detail={"from": before, "to": w.status, "reason": reason})
            self._tell(s, "block", w, str(rec.seq))
            return wallet_info(w)

        return self.db.write_retrying(work)

    @guarded("lifecycle")
    def unfreeze(self, actor: Actor, wallet_id: int, reason: str, *, approval_id: int | None = None) -> WalletInfo:
        """Needs a supervisor's approval (see the module docstring for the contract)."""
        require_role(actor, *STAFF_ROLES)

        reason = self._need_reason(reason, _("unfreeze the wallet"))

        def work(s: Session) -> WalletInfo:
            w = self._wallet(s, wallet_id)
            check_transition(w.status, "unfreeze")
            if is_blocked(s, wallet_id):
                raise Conflict(_("Blocked (lost phone): replace the device to lift the block"), code="wallet_blocked")
            self._approve(s, actor, "unfreeze", w, reason, approval_id,
                          message(N_("Unfreezing a wallet needs a supervisor's approval")))
            self._set_status(s, w, WalletStatus.ACTIVE)
            rec = self.audit.append(s, actor, "wallet_unfreeze", subject=w.number,
                                    detail={"from": WalletStatus.FROZEN.value, "to": WalletStatus.ACTIVE.value,
                                            "reason": reason, "approval_id": approval_id})
            self._tell(s, "unfreeze", w, str(rec.seq))
            return wallet_info(w)

        return self.db.write_retrying(work)

    @guarded("lifecycle")
    def change_tier(self, actor: Actor, wallet_id: int, new_tier: int, *, evidence: Iterable[str] = (),
                    reason: str = "", approval_id: int | None = None, consent_id: int | None = None) -> WalletInfo:
        """Move a wallet to another class. ``evidence`` is what the teller collected now; it is
        added to what the customer showed before (``Customer.kyc_level`` and own linked accounts).
        The wallet must fit every limit of the new class (:func:`~teller_tui.wallets.limits.check_class_change`):
        the balance within its balance limit, and today's and this year's payments within its daily
        and yearly limits (usage carries over; a reversed payment does not count)."""
        require_role(actor, *STAFF_ROLES)
        given = close_evidence(evidence)
        reason = clean_text(reason, limit=200)

        def work(s: Session) -> WalletInfo:
            on = current_business_date(s, actor.branch_code, self.clock)
            target = self.tiers.tier(new_tier, on=on)
            w = self._wallet(s, wallet_id)
            check_transition(w.status, "change_tier")
            if w.tier == new_tier:
                raise ValidationError(_("The wallet is already class {tier}").format(tier=new_tier), code="same_tier")
            cust = s.get(Customer, w.customer_id)
            assert cust is not None
            have = set(evidence_from_kyc(cust.kyc_level)) | set(given)
            own = s.execute(select(LinkedAccount.id).where(
                LinkedAccount.customer_id == cust.id, col(LinkedAccount.removed_at).is_(None),
                LinkedAccount.holder_name == cust.full_name)).first()
            if own is not None:
                have.add(EVIDENCE_OWN_BANK_ACCOUNT)
            if not target.allows(have):
                missing = sorted(target.evidence - close_evidence(have))
                raise ValidationError(_("A class {tier} wallet needs more evidence: {missing}").format(
                    tier=new_tier, missing=", ".join(missing)), code="tier_evidence", missing=missing)
            if not target.admits_age(cust.birth_date, on):
                raise ValidationError(_("A class {tier} wallet is for customers aged {age} or over, with a "
                                        "recorded birth date").format(tier=new_tier, age=target.min_age),
                                      code="tier_age")
            if target.max_per_person:
                count = len(s.execute(select(Wallet.id).where(
                    Wallet.customer_id == cust.id, Wallet.tier == new_tier, Wallet.status != WalletStatus.CLOSED,
                    Wallet.id != w.id)).all())
                if count >= target.max_per_person:
                    raise Conflict(_("The customer already has a class {tier} wallet").format(tier=new_tier),
                                   code="wallet_tier_exists")
            check_class_change(s, self.tiers, tier=new_tier, account_id=w.account_id,
                               balance=self.ledger.balance(s, w.account_id).posted, on=on)
            agreed = self.consent.require(s, actor, lifecycle_consent("change_tier", w, reason, new_tier), consent_id)
            self._approve(s, actor, "change_tier", w, reason, approval_id,
                          message(N_("Changing the wallet to class {tier} needs a supervisor's approval"),
                                  tier=new_tier),
                          subject=f"wallet:{w.number}:class:{new_tier}:{','.join(sorted(given))}")
            before = w.tier
            w.tier = new_tier
            new_level = kyc_level(frozenset(close_evidence(have)))
            if evidence_rank(new_level) > evidence_rank(cust.kyc_level):
                cust.kyc_level = new_level
            s.flush()
            self.audit.append(s, actor, "wallet_tier_change", subject=w.number, detail={
                "from": before, "to": new_tier, "evidence": sorted(given), "reason": reason,
                "approval_id": approval_id, **(agreed.facts() if agreed else {})})
            return wallet_info(w)

        return self.db.write_retrying(work)

    @guarded("lifecycle")
    def replace_device(self, actor: Actor, wallet_id: int, *, new_pin: str, enrol_totp: bool = False,
                       approval_id: int | None = None, reason: str = "") -> DeviceReset:
        """Reset the customer's PIN (and TOTP: removed, or re-enrolled with a new secret)."""
        require_role(actor, *STAFF_ROLES)
        with self.db.read() as s:
            w = self._wallet(s, wallet_id)
            check_transition(w.status, "replace_device")
            number = w.number
            cust = s.get(Customer, w.customer_id)
            assert cust is not None
            birth, phone, cust_id = cust.birth_date, cust.phone, cust.id
        reason = clean_text(reason, limit=200)
        if approval_id is None:  # ask before the customer types a PIN (same rule as in the transaction)
            with self.db.write() as s:
                self._approve(s, actor, "replace_device", w, reason, None,
                              message(N_("Replacing the customer's device needs a supervisor's approval")))
        validate_pin(new_pin, birth_date=birth, phone=phone)
        pin_hash = hash_pin(new_pin)
        secret = uri = qr = None
        if enrol_totp:
            secret = new_secret()
            uri = provisioning_uri(secret, mask_phone(phone), _("Digital wallet").replace(":", ""))
            qr = qr_text(uri)
        enc = self.box.encrypt(secret, context=f"customer:{cust_id}:totp") if secret else None

        def work(s: Session) -> None:
            w2 = self._wallet(s, wallet_id)
            check_transition(w2.status, "replace_device")
            self._approve(s, actor, "replace_device", w2, reason, approval_id,
                          message(N_("Replacing the customer's device needs a supervisor's approval")))
            c = s.get(Customer, cust_id)
            assert c is not None
            c.pin_hash, c.pin_failed_attempts, c.pin_locked = pin_hash, 0, False
            c.totp_secret_enc, c.totp_last_step = enc, None
            lifted = lift_block(s, self.ledger, w2, actor.staff_id, self.clock.now(), how="device_replacement")
            s.flush()
            rec = self.audit.append(s, actor, "device_replace", subject=w2.number, detail={
                "customer": c.customer_no, "totp": bool(enc), "approval_id": approval_id, "reason": reason,
                "block_lifted": lifted})
            self._tell(s, "device", w2, str(rec.seq))

        self.db.write_retrying(work)
        return DeviceReset(number, secret, uri, qr)

    @guarded("lifecycle")
    def close(self, actor: Actor, wallet_id: int, reason: str, *, approval_id: int | None = None,
              consent_id: int | None = None) -> WalletInfo:
        """Final. The balance must be paid out first (zero, nothing held); remaining points are
        returned to the points pool; linked accounts of the wallet are unlinked."""
        require_role(actor, *STAFF_ROLES)
        reason = self._need_reason(reason, _("close the wallet"))

        def work(s: Session) -> WalletInfo:
            w = self._wallet(s, wallet_id)
            check_transition(w.status, "close")
            bal = self.ledger.balance(s, w.account_id)
            if bal.posted.minor != 0 or bal.held.minor != 0:
                raise Conflict(_("Pay out the balance of {balance} before closing").format(
                    balance=format_money(bal.posted)), code="close_nonzero")
            agreed = self.consent.require(s, actor, lifecycle_consent("close", w, reason), consent_id)
            self._approve(s, actor, "close", w, reason, approval_id,
                          message(N_("Closing the wallet needs a supervisor's approval")))
            forfeit: EntryResult | None = None
            if w.points_account_id is not None:
                pts = self.ledger.balance(s, w.points_account_id).posted
                if pts.minor > 0:
                    branch = actor.branch_code
                    pool = self.ledger.open_account(s, code=points_pool_code(branch), name=f"Points pool {branch}",
                                                    kind=AccountKind.POINTS_POOL, currency="PTS",
                                                    branch_code=branch)
                    forfeit = self.ledger.post(s, EntryRequest(
                        idempotency_key=f"close-points:{w.number}", kind="points_forfeit",
                        legs=(debit(w.points_account_id, Money(pts.minor, "PTS")), credit(pool, Money(pts.minor, "PTS"))),
                        actor_id=actor.staff_id, terminal_id=actor.terminal_id, branch_code=branch,
                        memo="wallet closed", customer_id=w.customer_id,
                        dating=Dating.AFTER_HOURS))  # automatic: follows the close, any hour
            self._set_status(s, w, WalletStatus.CLOSED)
            for link in s.execute(select(LinkedAccount).where(LinkedAccount.wallet_id == w.id,
                                                              col(LinkedAccount.removed_at).is_(None))
                                  ).scalars():
                link.removed_at = self.clock.now()
            self.audit.append(s, actor, "wallet_close", subject=w.number,
                              detail={**entry_facts((forfeit, actor.staff_id)), "reason": reason,
                                      "approval_id": approval_id, **(agreed.facts() if agreed else {})})
            return wallet_info(w)

        return self.db.write_retrying(work)
