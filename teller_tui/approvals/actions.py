"""The actions a supervisor can be asked to approve, with their display names.

Which entry kinds are cash, and in which direction, is the ledger's to say
(:data:`teller_tui.ledger.kinds.CASH_ENTRY_KINDS`).
"""

from __future__ import annotations

from teller_tui.common.i18n import N_, _

__all__ = ["ACTIONS", "action_title"]

#: Actions the policy knows, with their display names (msgids).
ACTIONS: dict[str, str] = {
    "cash_in": N_("Cash in"),
    "cash_out": N_("Cash out"),
    "transfer": N_("Transfer"),
    "reversal": N_("Reversal"),
    "unfreeze": N_("Unfreeze wallet"),
    "device_replacement": N_("Device replacement"),
    "over_short": N_("End-of-day over/short"),
    "staff_unlock": N_("Unlock staff account"),
    "staff_role": N_("Grant a staff role"),
    "staff_enable": N_("Re-enable a staff account"),
    "staff_totp_reset": N_("Reset a staff authenticator"),
    "class_change": N_("Change wallet class"),
    "wallet_close": N_("Close wallet"),
    "drawer_open": N_("Open drawer (float from the vault)"),
    "vault_transfer": N_("Vault transfer"),
    "drawer_close": N_("Close drawer (cash back to the vault)"),
    "drawer_handover": N_("Hand a drawer to another teller"),
    "day_close": N_("Close business day"),
    "dispute_correction": N_("Dispute correction"),
    "watchlist_onboarding": N_("Onboarding held for review"),
    "linked_top_up": N_("Top up from linked account"),
    "linked_withdraw": N_("Withdraw to linked account"),
    "contact_change": N_("Change contact details"),
    "phone_change": N_("Change mobile number"),
    "id_renewal": N_("Renew identity document"),
    "id_number_change": N_("New identity document number"),
    "pin_reset": N_("Reset a customer's wallet PIN"),
    "customer_totp_remove_id": N_("Remove a customer's authenticator (ID check)"),
}


def action_title(kind: str) -> str:
    """The translated display name of an action (the kind itself if the policy does not know it)."""
    return _(ACTIONS[kind]) if kind in ACTIONS else kind
