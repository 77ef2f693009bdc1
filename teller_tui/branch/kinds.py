"""The names the branch package writes: who may hold a drawer, entry kinds, drawer-event kinds."""

from __future__ import annotations

from typing import Literal

from teller_tui.common.i18n import N_

__all__ = [
    "BRANCH_MANAGER_ROLES", "DRAWER_ROLES", "Direction", "ENTRY_FLOAT", "ENTRY_OVER_SHORT", "ENTRY_RETURN", "ENTRY_TRANSFER",
    "ENTRY_VAULT_RECEIVE", "KIND_LABELS", "OWN_KINDS", "SUPERVISOR_ROLES", "VAULT_IN_EVENTS", "VAULT_OUT_EVENTS",
]

#: Roles that hold a cash drawer.
DRAWER_ROLES = frozenset({"teller", "supervisor", "admin"})
#: Roles that countersign (dual control).
SUPERVISOR_ROLES = ("supervisor",)
#: Roles that close a business day or receive cash into the vault (``system``: set-up code).
BRANCH_MANAGER_ROLES = frozenset({"supervisor", "admin", "system"})

#: Ledger entry kinds the branch posts (the report lists everything else as cash in/out).
ENTRY_FLOAT = "drawer_float"
ENTRY_TRANSFER = "vault_transfer"
ENTRY_OVER_SHORT = "over_short"
ENTRY_RETURN = "drawer_return"
ENTRY_VAULT_RECEIVE = "vault_receive"
OWN_KINDS = frozenset({ENTRY_FLOAT, ENTRY_TRANSFER, ENTRY_OVER_SHORT, ENTRY_RETURN, ENTRY_VAULT_RECEIVE})

#: Drawer events that move pieces into / out of the vault.
VAULT_IN_EVENTS = ("vault_receive", "vault_count", "drawer_to_vault", "close_return")
VAULT_OUT_EVENTS = ("open_float", "vault_to_drawer")

#: Labels of the customer entry kinds in the end-of-day report (others show their kind).
KIND_LABELS = {
    "cash_in": N_("Cash in"),
    "cash_out": N_("Cash out"),
    "reversal": N_("Reversals"),
    "transfer": N_("Transfers"),
}

Direction = Literal["to_vault", "from_vault"]
