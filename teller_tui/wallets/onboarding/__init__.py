"""Guided onboarding: step validation, drafts, the welcome sheet and wallet issuance.

* :mod:`.steps` — the wizard's steps, choices and blank data;
* :mod:`.validation` — one step's section checked and normalised (pure), the classes offered;
* :mod:`.drafts` — what a saved draft keeps (never the PIN, a card number or a TOTP secret);
* :mod:`.welcome` — the welcome sheet, the welcome reward, service contacts;
* :mod:`.service` — :class:`OnboardingService` (duplicates, drafts, TOTP, issuance).

Public API::

    svc = services.onboarding
    section = svc.validate_step("identity", data)        # normalised section; raises ValidationError,
                                                         # DuplicateCustomer (identity step)
    offers = svc.offered_tiers(data)                     # -> [TierOffer] the evidence allows
    enrol = svc.new_totp(data)                           # -> TotpEnrolment(secret, uri, qr)
    ok = svc.check_totp(secret, code)                    # customer's first code
    info = svc.save_draft(actor, data, step, draft_id=None, totp_secret=None)   # -> DraftInfo
    drafts = svc.list_drafts(actor)                      # the actor's branch, not expired
    state = svc.load_draft(actor, draft_id)              # -> DraftState (PIN must be re-entered)
    svc.discard_draft(actor, draft_id); n = svc.purge_expired(actor)
    res = svc.issue(actor, data, pin=pin, totp_secret=secret, draft_id=id, idempotency_key=key)
    text = svc.welcome_text(wallet_id)                   # reprint of the welcome sheet

The names below are re-exported so ``from teller_tui.wallets.onboarding import STEPS`` works.
"""

from __future__ import annotations

from teller_tui.wallets.onboarding.drafts import DraftInfo, DraftState
from teller_tui.wallets.onboarding.service import DuplicateCustomer, IssueResult, OnboardingService, TotpEnrolment
from teller_tui.wallets.onboarding.steps import (
    DOC_NONE,
    EXPLANATIONS,
    INPUT_STEPS,
    MONTHLY_BANDS,
    PURPOSES,
    SEXES,
    STEP_TITLES,
    STEPS,
    blank_data,
)
from teller_tui.wallets.onboarding.validation import (
    TierOffer,
    evidence_of,
    offered_tiers,
    risk_level,
    validate_section,
)
from teller_tui.wallets.onboarding.welcome import WelcomeSheet, render_welcome, service_contacts, welcome_points

__all__ = [
    "DOC_NONE",
    "EXPLANATIONS",
    "INPUT_STEPS",
    "MONTHLY_BANDS",
    "PURPOSES",
    "SEXES",
    "STEPS",
    "STEP_TITLES",
    "DraftInfo",
    "DraftState",
    "DuplicateCustomer",
    "IssueResult",
    "OnboardingService",
    "TierOffer",
    "TotpEnrolment",
    "WelcomeSheet",
    "blank_data",
    "evidence_of",
    "offered_tiers",
    "render_welcome",
    "risk_level",
    "service_contacts",
    "validate_section",
    "welcome_points",
]
