"""OnboardingService: the wizard's steps checked against the database, drafts, and issuance.

``validate_step`` checks a section (``ValidationError`` naming ``details["field"]``); ``issue`` creates, in
ONE write transaction, the customer, wallet, linked account, PIN, TOTP and (when data/rewards.toml grants it
at issue) the welcome reward, refusing a class the evidence does not allow. Drafts expire
``draft_expiry_hours`` after their last save (``purge_expired``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.passwords import hash_pin
from teller_tui.auth.qr import qr_text
from teller_tui.auth.roles import Role
from teller_tui.auth.secretbox import SecretBox
from teller_tui.auth.totp import new_secret, provisioning_uri, verify_totp
from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.files import save_private_text
from teller_tui.common.i18n import _, get_locale
from teller_tui.common.masks import mask_phone
from teller_tui.common.money import Money
from teller_tui.common.settings import Settings
from teller_tui.common.watermark import training_mark
from teller_tui.db.engine import Database
from teller_tui.ledger import EntryRequest, EntryResult, Ledger, credit, debit, entry_facts
from teller_tui.ledger.accounts import AccountKind, points_pool_code
from teller_tui.ledger.business_day import Dating, current_business_date
from teller_tui.models import AuditRecord, Customer, LinkedAccount, OnboardingDraft, Staff, Wallet
from teller_tui.risk.screening import OnboardingScreen
from teller_tui.wallets.classes import TierTable
from teller_tui.wallets.funding import FundingService
from teller_tui.wallets.kyc import kyc_level
from teller_tui.wallets.onboarding.naming import customer_number, with_pinyin
from teller_tui.wallets.onboarding.drafts import DRAFT_TOTP_CONTEXT, DraftInfo, DraftState, draft_data, draft_label
from teller_tui.wallets.onboarding.steps import DOC_NONE, INPUT_STEPS, STEPS, section
from teller_tui.wallets.onboarding.validation import TierOffer, evidence_of, invalid, offered_tiers, validate_section
from teller_tui.wallets.onboarding.welcome import GRANT_AT_ISSUE, WelcomeSheet, load_sheet, render_welcome, reward_rule
from teller_tui.wallets.service import WalletInfo, WalletService
from teller_tui.auth.permissions import guarded

__all__ = ["DuplicateCustomer", "IssueResult", "OnboardingService", "TotpEnrolment"]


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    uri: str
    qr: str  # text QR (half blocks), dark ink


@dataclass(frozen=True, slots=True)
class IssueResult:
    customer_id: int
    customer_no: str
    wallet: WalletInfo
    tier_name: str
    linked_masked: str
    bank_name: str
    reward_points: int  # the welcome points: credited at issue, or promised on the first payment (rewards.toml)
    welcome_text: str
    welcome_path: Path | None
    replayed: bool = False


class DuplicateCustomer(Conflict):
    """The identity document already belongs to a customer: go to that customer instead."""

    code = "duplicate_customer"

    def __init__(self, customer_id: int, customer_no: str) -> None:
        super().__init__(_("This document already belongs to customer {no}: open that customer instead").format(
            no=customer_no), customer_id=customer_id)
        self.customer_id = customer_id
        self.customer_no = customer_no


class OnboardingService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, ledger: Ledger, audit: AuditTrail,
                 tiers: TierTable, *, wallets: WalletService, funding: FundingService, box: SecretBox,
                 screening: OnboardingScreen) -> None:
        self.db, self.clock, self.settings, self.ledger, self.audit = db, clock, settings, ledger, audit
        self.tiers, self.wallets, self.funding, self.box, self.screening = tiers, wallets, funding, box, screening

    def today(self, branch_code: str | None = None) -> date:
        """The day onboarding rules are judged on (document expiry, the classes and reward in force): the
        open business day of ``branch_code`` (default: this workstation's branch), else today's date."""
        with self.db.read() as s:
            return current_business_date(s, branch_code or self.settings.branch_code, self.clock)

    # -- validation -------------------------------------------------------------------------
    def validate_step(self, step: str, data: Mapping[str, Any], *, pin: str | None = None,
                      pin_again: str | None = None) -> dict[str, Any]:
        out = validate_section(step, data, today=self.today(), tiers=self.tiers, pin=pin, pin_again=pin_again)
        if step == "personal":
            out = with_pinyin(out)
        if step == "identity" and out["doc_type"] != DOC_NONE:
            found = self.find_duplicate(out["doc_type"], out["number"])
            if found is not None:
                raise DuplicateCustomer(*found)
        if step == "funding" and out["kind"] != "none":
            self._check_link_free(out["kind"], out["number"])
        return out

    def offered_tiers(self, data: Mapping[str, Any]) -> list[TierOffer]:
        return offered_tiers(data, today=self.today(), tiers=self.tiers)

    def first_invalid(self, data: Mapping[str, Any]) -> str | None:
        """The first input step that does not validate (security needs a PIN: always re-entered)."""
        today = self.today()
        for step in INPUT_STEPS:
            if step == "security":
                if not section(data, "security").get("pin_set"):
                    return step
                continue
            try:
                validate_section(step, data, today=today, tiers=self.tiers)
            except ValidationError:
                return step
        return None

    def find_duplicate(self, doc_type: str, number: str) -> tuple[int, str] | None:
        with self.db.read() as s:
            return self._duplicate(s, doc_type, number)

    @staticmethod
    def _duplicate(s: Session, doc_type: str, number: str) -> tuple[int, str] | None:
        row = s.execute(select(Customer.id, Customer.customer_no).where(
            Customer.id_type == doc_type, Customer.id_number == number)).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def _check_link_free(self, kind: str, number: str) -> None:
        token = self.funding.token_for(number)
        with self.db.read() as s:
            if s.execute(select(LinkedAccount.id).where(LinkedAccount.token == token)).first() is not None:
                raise invalid(_("This card or account is already linked to another customer"),
                               "linked_elsewhere", "number")

    # -- TOTP ---------------------------------------------------------------------------------
    def new_totp(self, data: Mapping[str, Any]) -> TotpEnrolment:
        secret = new_secret()
        phone = str(section(data, "contact").get("phone") or "") or "wallet"
        uri = provisioning_uri(secret, mask_phone(phone).replace(":", ""), _("Digital wallet").replace(":", ""))
        return TotpEnrolment(secret, uri, qr_text(uri))

    def check_totp(self, secret: str, code: str) -> bool:
        return verify_totp(secret, code, now=self.clock.now(), last_step=None) is not None

    # -- drafts ---------------------------------------------------------------------------------
    @guarded("onboarding")
    def save_draft(self, actor: Actor, data: Mapping[str, Any], step: str, *, draft_id: int | None = None,
                   totp_secret: str | None = None) -> DraftInfo:
        """Create or update a draft; the PIN is dropped, the TOTP secret encrypted."""
        if step not in STEPS:
            raise ValidationError(_("Unknown step {step}").format(step=step), code="step")
        clean = draft_data(data)
        label = draft_label(clean)
        now = self.clock.now()
        expires = now + timedelta(hours=self.settings.draft_expiry_hours)

        def work(s: Session) -> DraftInfo:
            if draft_id is None:
                row = OnboardingDraft(branch=actor.branch_code, created_by=actor.staff_id,
                                      updated_by=actor.staff_id, created_at=now, updated_at=now,
                                      expires_at=expires, step=step, label=label, data_json="{}")
                s.add(row)
                s.flush()
            else:
                row = self._draft_row(s, actor, draft_id)
                row.updated_by, row.updated_at, row.expires_at, row.step, row.label = (
                    actor.staff_id, now, expires, step, label)
            sec = clean.setdefault("security", {})
            if totp_secret:
                sec["totp_secret_enc"] = self.box.encrypt(totp_secret, context=DRAFT_TOTP_CONTEXT.format(id=row.id))
            row.data_json = json.dumps(clean, ensure_ascii=False, sort_keys=True)
            s.flush()
            if draft_id is None:
                self.audit.append(s, actor, "onboarding_draft_save", subject=f"draft:{row.id}",
                                  detail={"step": step})
            return self._info(s, row)

        return self.db.write_retrying(work)

    @guarded("onboarding")
    def list_drafts(self, actor: Actor) -> list[DraftInfo]:
        with self.db.read() as s:
            rows = s.execute(select(OnboardingDraft).where(
                OnboardingDraft.branch == actor.branch_code, OnboardingDraft.expires_at > self.clock.now())
                .order_by(col(OnboardingDraft.updated_at).desc())).scalars().all()
            return [self._info(s, r) for r in rows]

    @guarded("onboarding")
    def load_draft(self, actor: Actor, draft_id: int) -> DraftState:
        with self.db.read() as s:
            row = self._draft_row(s, actor, draft_id)
            data = json.loads(row.data_json)
            info = self._info(s, row)
        sec = data.setdefault("security", {})
        token = sec.pop("totp_secret_enc", None)
        secret = self.box.decrypt(token, context=DRAFT_TOTP_CONTEXT.format(id=draft_id)) if token else None
        if secret is None:
            sec["totp_confirmed"] = False
        return DraftState(info, data, secret)

    @guarded("onboarding")
    def discard_draft(self, actor: Actor, draft_id: int) -> None:
        def work(s: Session) -> None:
            row = self._draft_row(s, actor, draft_id, allow_expired=True)
            s.delete(row)
            self.audit.append(s, actor, "onboarding_draft_discard", subject=f"draft:{draft_id}")

        self.db.write_retrying(work)

    def purge_expired(self, actor: Actor | None = None) -> int:
        """Delete every expired draft (all branches); audited when anything went."""
        who = actor or Actor(None, "system", self.settings.terminal_id, Role.SYSTEM, self.settings.branch_code)

        def work(s: Session) -> int:
            now = self.clock.now()
            ids = list(s.execute(select(OnboardingDraft.id).where(OnboardingDraft.expires_at <= now)).scalars())
            if ids:
                s.execute(delete(OnboardingDraft).where(col(OnboardingDraft.id).in_(ids)))
                self.audit.append(s, who, "onboarding_draft_purge", detail={"drafts": ids})
            return len(ids)

        return self.db.write_retrying(work)

    def _draft_row(self, s: Session, actor: Actor, draft_id: int, *, allow_expired: bool = False) -> OnboardingDraft:
        row = s.get(OnboardingDraft, draft_id)
        if row is None:
            raise NotFound(_("This draft no longer exists"), code="no_draft")
        if row.branch != actor.branch_code:
            raise PermissionDenied(_("This draft belongs to another branch"), code="draft_branch")
        if not allow_expired and row.expires_at <= self.clock.now():
            raise NotFound(_("This draft has expired; start again"), code="draft_expired")
        return row

    def _info(self, s: Session, row: OnboardingDraft) -> DraftInfo:
        def name(staff_id: int | None) -> str:
            st = s.get(Staff, staff_id) if staff_id else None
            return st.username if st else ""

        assert row.id is not None, "a stored draft"
        return DraftInfo(row.id, row.branch, row.step, row.label, name(row.created_by), name(row.updated_by),
                         row.updated_at, row.expires_at)

    # -- issuance ---------------------------------------------------------------------------------
    @guarded("onboarding")
    def issue(self, actor: Actor, data: Mapping[str, Any], *, pin: str, idempotency_key: str,
              totp_secret: str | None = None, draft_id: int | None = None, approval_id: int | None = None
              ) -> IssueResult:
        """Create the customer, the wallet, the linked account, PIN and TOTP, the welcome reward. A watch-list
        match raises ApprovalRequired (retry with the same key and ``approval_id``: teller_tui.risk.screening)."""
        if not idempotency_key:
            raise ValidationError(_("An idempotency key is required"), code="idempotency_key")
        replay = self._replay(idempotency_key)
        if replay is not None:
            return replay
        today = self.today(actor.branch_code)
        sections: dict[str, dict[str, Any]] = {}
        for step in INPUT_STEPS:
            sections[step] = validate_section(step, {**data, **sections} if step != "security" else data,
                                              today=today, tiers=self.tiers, pin=pin)
        if sections["security"]["totp"] and not totp_secret:
            raise invalid(_("Enrol the authenticator app again: its secret was not kept"), "totp_missing",
                           "totp_code")
        sections["personal"] = with_pinyin(sections["personal"])
        merged = {**dict(data), **sections}
        tier_no = int(sections["tier"]["tier"])
        tier = self.tiers.tier(tier_no, on=today)
        evidence = evidence_of(merged)
        if not tier.allows(evidence):
            raise invalid(_("The evidence collected does not allow a class {tier} wallet").format(tier=tier_no),
                           "tier_not_allowed", "tier")
        pin_hash = hash_pin(pin)  # slow: outside the transaction
        rule = reward_rule(today)
        points = rule.points  # promised; credited here only when the set in force says "at_issue"
        ident, personal, contact = sections["identity"], sections["personal"], sections["contact"]
        fund = sections["funding"]

        def work(s: Session) -> tuple[int, str, WalletInfo, str, str]:
            dup = None if ident["doc_type"] == DOC_NONE else self._duplicate(s, ident["doc_type"], ident["number"])
            if dup is not None:
                raise DuplicateCustomer(*dup)
            listed = self.screening.check(
                s, actor, full_name=personal["full_name"], name_latin=personal["name_latin"], on=today,
                id_number=None if ident["doc_type"] == DOC_NONE else ident["number"], approval_id=approval_id,
                birth_date=date.fromisoformat(personal["birth_date"]) if personal["birth_date"] else None,
                idempotency_key=idempotency_key)
            seq = int(s.execute(select(func.coalesce(func.max(Customer.id), 0))).scalar_one()) + 1
            customer_no = customer_number(seq)
            while s.execute(select(Customer.id).where(Customer.customer_no == customer_no)).first():
                seq += 1
                customer_no = customer_number(seq)
            cust = Customer(
                customer_no=customer_no, full_name=personal["full_name"], name_latin=personal["name_latin"],
                phone=contact["phone"],
                id_type=None if ident["doc_type"] == DOC_NONE else ident["doc_type"],
                id_number=None if ident["doc_type"] == DOC_NONE else ident["number"],
                id_expiry=date.fromisoformat(ident["expiry"]) if ident.get("expiry") else None,
                birth_date=date.fromisoformat(personal["birth_date"]) if personal["birth_date"] else None,
                sex=personal["sex"] or None, nationality=personal["nationality"], address=personal["address"],
                occupation=personal["occupation"], risk_level=sections["risk"]["risk_level"],
                kyc_level=kyc_level(evidence), pin_hash=pin_hash, branch_code=actor.branch_code,
                created_at=self.clock.now(), created_by=actor.staff_id)
            s.add(cust)
            s.flush()
            assert cust.id is not None
            if totp_secret and sections["security"]["totp"]:
                cust.totp_secret_enc = self.box.encrypt(totp_secret, context=f"customer:{cust.id}:totp")
            wallet = self.wallets.open_wallet(s, actor, cust.id, tier_no, explanations={
                **sections["explanations"], "at": self.clock.now().isoformat(), "by": actor.username})
            masked, bank, reward = "", "", cast("EntryResult | None", None)
            if fund["kind"] != "none":
                link = self.funding.link(s, actor, cust.id, wallet.wallet_id, fund["kind"], fund["number"],
                                         fund["holder_name"], bank_name=fund["bank_name"])
                masked, bank = link.masked, link.bank_name
            if points and rule.grant == GRANT_AT_ISSUE and wallet.points_account_id is not None:
                pool = self.ledger.open_account(s, code=points_pool_code(actor.branch_code),
                                                name=f"Points pool {actor.branch_code}",
                                                kind=AccountKind.POINTS_POOL, currency="PTS",
                                                branch_code=actor.branch_code)
                pts = Money(points, "PTS")
                reward = self.ledger.post(s, EntryRequest(
                    idempotency_key=f"welcome:{idempotency_key}"[:80], kind="welcome_reward",
                    legs=(debit(pool, pts), credit(wallet.points_account_id, pts)), actor_id=actor.staff_id,
                    terminal_id=actor.terminal_id, branch_code=actor.branch_code, memo="welcome reward",
                    customer_id=cust.id, meta={"wallet": wallet.number},
                    dating=Dating.AFTER_HOURS))  # automatic reward: any hour
            self.audit.append(s, actor, "customer_onboard", subject=customer_no, detail={
                **entry_facts((reward, actor.staff_id)), "wallet": wallet.number, "tier": tier_no, "evidence": sorted(evidence),
                "document": ident["doc_type"], "linked": masked, "totp": bool(cust.totp_secret_enc),
                "reward_points": points, "reward_grant": rule.grant, "key": idempotency_key, "draft": draft_id,
                "watchlist": [h.entry.list_id for h in listed], "approval_id": approval_id})
            if draft_id is not None:
                row = s.get(OnboardingDraft, draft_id)
                if row is not None and row.branch == actor.branch_code:
                    s.delete(row)
            return cust.id, customer_no, wallet, masked, bank

        cust_id, customer_no, wallet, masked, bank = self.db.write_retrying(work)
        text, path = self._write_welcome(wallet.wallet_id)
        return IssueResult(cust_id, customer_no, wallet, tier.name(get_locale()), masked, bank, points, text, path)

    def _replay(self, key: str) -> IssueResult | None:
        """A repeated issue() with the same key returns the first result (found via the audit trail)."""
        with self.db.read() as s:
            rows = s.execute(select(AuditRecord.subject, AuditRecord.detail_json).where(
                AuditRecord.action == "customer_onboard").order_by(col(AuditRecord.seq).desc()).limit(200)).all()
            for subject, detail_json in rows:
                detail = json.loads(detail_json)
                if detail.get("key") == key:
                    cust = s.execute(select(Customer).where(Customer.customer_no == subject)).scalar_one()
                    w = s.execute(select(Wallet).where(Wallet.number == detail["wallet"])).scalar_one()
                    wallet_id = w.id
                    break
            else:
                return None
        info = self._sheet_for(wallet_id)
        winfo = self.wallets.get_wallet(wallet_id)
        text, path = self._write_welcome(wallet_id)
        return IssueResult(cust.id, cust.customer_no, winfo, info.tier.name(get_locale()), info.linked_masked,
                           info.bank_name, info.reward_points or info.reward_on_first_use, text, path,
                           replayed=True)

    # -- welcome sheet ------------------------------------------------------------------------------
    def _sheet_for(self, wallet_id: int) -> WelcomeSheet:
        with self.db.read() as s:
            return load_sheet(s, self.ledger, self.tiers, wallet_id)

    def welcome_text(self, wallet_id: int, *, width: int = 80, locale: str | None = None) -> str:
        text = render_welcome(self._sheet_for(wallet_id), width=width, locale=locale)
        return training_mark(text, self.settings.training)

    def _write_welcome(self, wallet_id: int) -> tuple[str, Path | None]:
        sheet = self._sheet_for(wallet_id)
        text = training_mark(render_welcome(sheet), self.settings.training)
        try:
            path: Path | None = save_private_text(self.settings.receipts_dir, f"welcome-{sheet.wallet_number}", text)
        except OSError:
            path = None  # the sheet is still shown and can be delivered; saving is best effort
        return text, path
