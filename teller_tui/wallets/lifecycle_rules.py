"""The wallet lifecycle's rules without a database: the states and actions, the legal transitions, the
approval-policy action of each, and what the customer is asked to agree to (issue 16).

Public API (re-exported by :mod:`teller_tui.wallets.lifecycle`)::

    check_transition("active", "close")   # -> "closed", or Conflict(code="illegal_transition")
    ACTIONS, STATUS_LABELS, TRANSITIONS, APPROVAL_ACTIONS
    spec = lifecycle_consent("close", wallet, reason)   # ConsentSpec for the customer display / ID re-check
"""

from __future__ import annotations

from teller_tui.common.errors import Conflict, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.masks import mask_wallet
from teller_tui.consent.spec import ConsentSpec
from teller_tui.models import Wallet
from teller_tui.models.enums import WalletStatus

__all__ = ["ACTIONS", "APPROVAL_ACTIONS", "CONSENT_KINDS", "STATUS_LABELS", "TRANSITIONS", "check_transition",
           "lifecycle_consent"]

ACTIONS: dict[str, str] = {
    "freeze": N_("Freeze"),
    "block_lost": N_("Block: phone lost or stolen"),
    "unfreeze": N_("Unfreeze"),
    "change_tier": N_("Change class"),
    "replace_device": N_("Replace device"),
    "close": N_("Close"),
}
STATUS_LABELS: dict[str, str] = {WalletStatus.ACTIVE: N_("active"), WalletStatus.FROZEN: N_("frozen"),
                                 WalletStatus.CLOSED: N_("closed")}
#: (state, action) -> new state.
TRANSITIONS: dict[tuple[str, str], str] = {
    (WalletStatus.ACTIVE, "freeze"): WalletStatus.FROZEN,
    (WalletStatus.FROZEN, "unfreeze"): WalletStatus.ACTIVE,
    (WalletStatus.ACTIVE, "close"): WalletStatus.CLOSED,
    (WalletStatus.ACTIVE, "change_tier"): WalletStatus.ACTIVE,
    (WalletStatus.ACTIVE, "replace_device"): WalletStatus.ACTIVE,
    (WalletStatus.FROZEN, "replace_device"): WalletStatus.FROZEN,
    (WalletStatus.ACTIVE, "block_lost"): WalletStatus.FROZEN,  # + a wallet_block row (wallets/blocks.py)
    (WalletStatus.FROZEN, "block_lost"): WalletStatus.FROZEN,
}
#: Lifecycle action -> approval-policy action (data/approval_policy.toml).
APPROVAL_ACTIONS: dict[str, str] = {"unfreeze": "unfreeze", "replace_device": "device_replacement",
                                    "change_tier": "class_change", "close": "wallet_close"}


def check_transition(state: str, action: str) -> str:
    """The state after ``action``, or Conflict(code="illegal_transition") with the reason."""
    if action not in ACTIONS:
        raise ValidationError(_("Unknown action {action}").format(action=action), code="action")
    target = TRANSITIONS.get((state, action))
    if target is None:
        if state == WalletStatus.CLOSED:
            reason = _("The wallet is closed; closing is final")
        elif action == "unfreeze":
            reason = _("The wallet is not frozen")
        elif state == WalletStatus.FROZEN:
            reason = _("The wallet is frozen: unfreeze it first")
        else:
            reason = _("Not possible while the wallet is {state}").format(state=_(STATUS_LABELS.get(state, state)))
        raise Conflict(_("{action} refused: {reason}").format(action=_(ACTIONS[action]), reason=reason),
                       code="illegal_transition", state=state, action=action)
    return target


#: Lifecycle actions the customer must agree to at the counter -> consent kind (teller_tui.consent.spec).
CONSENT_KINDS: dict[str, str] = {"close": "wallet_close", "change_tier": "class_change"}


def lifecycle_consent(action: str, w: Wallet, reason: str, new_tier: int | None = None) -> ConsentSpec:
    """What the customer agrees to: this wallet, this change (``1 → 2`` for a class), bound to the reason
    (a retry with the same reason matches the same consent)."""
    detail = f"{w.tier} → {new_tier}" if new_tier is not None else ""
    return ConsentSpec(CONSENT_KINDS[action], w.customer_id, w.id, wallet=mask_wallet(w.number), detail=detail,
                       binding=reason)
