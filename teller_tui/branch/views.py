"""Read models of the branch: what its services return (plain frozen dataclasses, no ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from teller_tui.common.money import Money
from teller_tui.models.enums import DrawerStatus as DrawerState

__all__ = [
    "BusinessDayView", "CountResult", "DrawerClosed", "DrawerStatus", "OpenDrawer", "SupervisorCredentials",
    "Tender", "TransferResult", "VaultView",
]


@dataclass(frozen=True, slots=True)
class SupervisorCredentials:
    """A supervisor's fresh credentials, typed at this terminal (dual control)."""

    username: str
    password: str = field(repr=False)
    code: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class BusinessDayView:
    id: int
    branch_code: str
    business_date: date
    status: str
    opened_at: datetime
    closed_at: datetime | None
    drawers_open: int = 0


@dataclass(frozen=True, slots=True)
class OpenDrawer:
    """The actor's open drawer, as :func:`require_open_drawer` finds it inside a transaction."""

    drawer_id: int
    account_id: int
    business_date: date
    currency: str


@dataclass(frozen=True, slots=True)
class DrawerStatus:
    """What the home screen shows. ``state``: no_business_day | not_opened | open | counting | closed."""

    state: str
    branch_code: str
    business_date: date | None
    message: str
    drawer_id: int | None = None
    username: str = ""
    opening_float: Money | None = None
    opened_at: datetime | None = None
    transactions: int = 0
    balance: Money | None = None  # only with include_balance=True: a blind count must stay blind

    @property
    def can_transact(self) -> bool:
        return self.state == DrawerState.OPEN


@dataclass(frozen=True, slots=True)
class TransferResult:
    reference: str
    direction: str
    amount: Money
    approver: str


@dataclass(frozen=True, slots=True)
class CountResult:
    drawer_id: int
    counted: Money
    expected: Money
    difference: Money  # counted − expected: negative is short, positive is over
    tolerance: Money

    @property
    def needs_approval(self) -> bool:
        return abs(self.difference.minor) > self.tolerance.minor

    @property
    def short(self) -> bool:
        return self.difference.minor < 0


@dataclass(frozen=True, slots=True)
class DrawerClosed:
    drawer_id: int
    business_date: date
    counted: Money
    expected: Money
    difference: Money
    approver: str | None
    over_short_reference: str | None
    return_reference: str | None
    report_path: Path | None


@dataclass(frozen=True, slots=True)
class VaultView:
    branch_code: str
    balance: Money
    holdings: dict[str, int]  # denomination key -> pieces


@dataclass(frozen=True, slots=True)
class Tender:
    """Pieces received (cash in) or paid out (cash out), checked against the amount."""

    kind: str  # cash_in | cash_out
    amount: Money
    pieces: dict[str, int]
    pieces_total: Money
    change_due: Money
    change: dict[str, int]  # the pieces given back (cash in); suggested when not given

