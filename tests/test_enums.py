"""The StrEnums of stored values agree with the tables' CHECK constraints."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest
from sqlalchemy import CheckConstraint

from teller_tui.auth.roles import ACCOUNT_ROLES, Role
from teller_tui.ledger import AccountKind, EntryKind
from teller_tui.models import enums
from teller_tui.models.approvals import ApprovalRequest, LargeValueReport
from teller_tui.models.drawers import BusinessDay, Drawer
from teller_tui.models.ledger import Hold, LedgerAccount
from teller_tui.models.people import Staff, Wallet


def _allowed(model: type, name: str) -> set[str]:
    table = model.__table__  # type: ignore[attr-defined]
    for c in table.constraints:
        if isinstance(c, CheckConstraint) and c.name == name:
            return set(re.findall(r"'([^']*)'", str(c.sqltext)))
    raise AssertionError(f"no constraint {name}")


@pytest.mark.parametrize(("model", "constraint", "values"), [
    (LedgerAccount, "ck_account_status", set(enums.AccountStatus)),
    (Wallet, "ck_wallet_status", set(enums.WalletStatus)),
    (Hold, "ck_hold_status", set(enums.HoldStatus)),
    (ApprovalRequest, "ck_approval_status", set(enums.ApprovalStatus)),
    (ApprovalRequest, "ck_approval_mode", set(enums.ApprovalMode)),
    (LargeValueReport, "ck_lvr_direction", set(enums.CashDirection)),
    (BusinessDay, "ck_business_day_status", set(enums.BusinessDayStatus)),
    (Drawer, "ck_drawer_status", set(enums.DrawerStatus)),
    (Staff, "ck_staff_role", set(ACCOUNT_ROLES)),
])
def test_enum_matches_check_constraint(model: type, constraint: str, values: set[StrEnum]) -> None:
    assert _allowed(model, constraint) == {str(v) for v in values}


def test_members_equal_the_stored_strings() -> None:
    assert enums.WalletStatus.FROZEN == "frozen" and "frozen" in {enums.WalletStatus.FROZEN}
    assert Role.SUPERVISOR == "supervisor" and f"{Role.SYSTEM}" == "system"
    assert EntryKind("cash_in") is EntryKind.CASH_IN and AccountKind("wallet") is AccountKind.WALLET
    assert len(set(EntryKind)) == len({str(k) for k in EntryKind})
