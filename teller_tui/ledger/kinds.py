"""Journal entry kinds: what a ledger entry was for (``journal_entry.kind``, ``hold.kind``).

The column is free text (the ledger posts any kind it is given, and the verifier does not
depend on it), but every kind the application posts is listed here so reports, exports and
filters name them from one place. Members compare equal to the stored strings.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CASH_ENTRY_KINDS", "CUSTOMER_ENTRY_KINDS", "DRAWER_ENTRY_KINDS", "EntryKind"]


class EntryKind(StrEnum):
    # customer transactions at the counter or the kiosk
    CASH_IN = "cash_in"
    CASH_OUT = "cash_out"
    TRANSFER = "transfer"
    REVERSAL = "reversal"  # the mirror of an earlier entry (Ledger.reverse)
    # linked bank cards and accounts
    LINKED_TOP_UP = "linked_top_up"
    LINKED_WITHDRAW = "linked_withdraw"
    # wallet life cycle
    WELCOME_REWARD = "welcome_reward"  # points credited when a wallet opens
    POINTS_FORFEIT = "points_forfeit"  # points left when a wallet closes
    # customer service
    DISPUTE_CORRECTION = "dispute_correction"  # a dispute resolved in the customer's favour (a case)
    # branch cash: drawers and vault
    DRAWER_FLOAT = "drawer_float"  # vault -> drawer when a drawer opens
    VAULT_TRANSFER = "vault_transfer"  # between an open drawer and the vault
    OVER_SHORT = "over_short"  # a counted drawer differs from its balance
    DRAWER_RETURN = "drawer_return"  # drawer -> vault when a drawer closes
    VAULT_RECEIVE = "vault_receive"  # cash brought into the branch vault
    DRAWER_HANDOVER = "drawer_handover"  # giver's drawer -> receiver's drawer, mid-day
    # demo data and benchmarks only
    DEMO_VAULT_OPEN = "vault_open"
    DEMO_DRAWER_ISSUE = "drawer_issue"
    BENCH = "bench"


#: Kinds that move customer cash over the counter, and their direction.
CASH_ENTRY_KINDS: dict[EntryKind, str] = {EntryKind.CASH_IN: "in", EntryKind.CASH_OUT: "out"}
#: Kinds the drawer and vault module posts (branch cash, not customer transactions).
DRAWER_ENTRY_KINDS = frozenset({EntryKind.DRAWER_FLOAT, EntryKind.VAULT_TRANSFER, EntryKind.OVER_SHORT,
                                EntryKind.DRAWER_RETURN, EntryKind.VAULT_RECEIVE, EntryKind.DRAWER_HANDOVER})
#: Kinds that are a transaction done for a customer (what a teller's transaction count counts): not branch
#: cash (a drawer's float, vault transfers), not points the wallet's life cycle posts by itself.
CUSTOMER_ENTRY_KINDS = frozenset({EntryKind.CASH_IN, EntryKind.CASH_OUT, EntryKind.TRANSFER, EntryKind.REVERSAL,
                                  EntryKind.LINKED_TOP_UP, EntryKind.LINKED_WITHDRAW,
                                  EntryKind.DISPUTE_CORRECTION})
