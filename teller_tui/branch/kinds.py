"""The branch's own groupings of shared names: which drawer events move vault pieces, and the
labels of customer entry kinds in the end-of-day report.

Roles come from :mod:`teller_tui.auth.roles`, entry kinds from :mod:`teller_tui.ledger.kinds`,
stored statuses and drawer-event kinds from :mod:`teller_tui.models.enums`.
"""

from __future__ import annotations

from typing import Literal

from teller_tui.common.i18n import N_
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models.enums import DrawerEventKind

__all__ = ["Direction", "KIND_LABELS", "VAULT_IN_EVENTS", "VAULT_OUT_EVENTS"]

#: Drawer events that move pieces into / out of the vault (its holdings are in minus out).
VAULT_IN_EVENTS: tuple[DrawerEventKind, ...] = (DrawerEventKind.VAULT_RECEIVE, DrawerEventKind.VAULT_COUNT,
                                                DrawerEventKind.DRAWER_TO_VAULT, DrawerEventKind.CLOSE_RETURN)
VAULT_OUT_EVENTS: tuple[DrawerEventKind, ...] = (DrawerEventKind.OPEN_FLOAT, DrawerEventKind.VAULT_TO_DRAWER)

#: Labels of the customer entry kinds in the end-of-day report (others show their kind).
KIND_LABELS: dict[str, str] = {
    EntryKind.CASH_IN: N_("Cash in"),
    EntryKind.CASH_OUT: N_("Cash out"),
    EntryKind.REVERSAL: N_("Reversals"),
    EntryKind.TRANSFER: N_("Transfers"),
}

Direction = Literal["to_vault", "from_vault"]
