"""Business days, teller cash drawers and denomination counts.

* :class:`BusinessDay` — one per branch and date; ``open`` until every drawer is closed and the
  branch closes it.
* :class:`Drawer` — one per teller per business day (``open`` → ``counting`` → ``closed``). Its
  cash balance lives in the ledger (``account_id``); the row holds the day's figures for reports.
* :class:`DrawerEvent` — every movement or count of cash (opening float, vault transfers, the
  blind count, the return to the vault, cash received/paid by denomination, vault receipts).
* :class:`DenominationCount` — the pieces of one event (``"note:100"`` × 12 …).

Balances are never stored here: the ledger is their only writer.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime


class BusinessDay(SQLModel, table=True):
    __tablename__ = "business_day"
    __table_args__ = (
        UniqueConstraint("branch_code", "business_date", name="uq_business_day_branch_date"),
        CheckConstraint("status IN ('open','closed')", name="ck_business_day_status"),
        Index("ix_business_day_branch_status", "branch_code", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_code: str = Field(max_length=16)
    business_date: date
    status: str = Field(default="open", max_length=8)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    opened_by: str = Field(max_length=64)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=64)


class Drawer(SQLModel, table=True):
    __tablename__ = "drawer"
    __table_args__ = (
        UniqueConstraint("business_day_id", "staff_id", name="uq_drawer_day_staff"),
        CheckConstraint("status IN ('open','counting','closed')", name="ck_drawer_status"),
        Index("ix_drawer_staff_status", "staff_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    business_day_id: int = Field(foreign_key="business_day.id")
    branch_code: str = Field(max_length=16)
    business_date: date
    staff_id: int = Field(foreign_key="staff.id")
    username: str = Field(max_length=64)
    account_id: int = Field(foreign_key="ledger_account.id")
    currency: str = Field(default="CNY", max_length=3)
    status: str = Field(default="open", max_length=10)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    float_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    opened_approver: str = Field(default="", max_length=64)
    # Filled by the blind count and the close.
    counted_minor: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    expected_minor: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    counted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    over_short_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    close_approver: str | None = Field(default=None, max_length=64)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DrawerEvent(SQLModel, table=True):
    """One movement or count of cash, with its denominations in :class:`DenominationCount`."""

    __tablename__ = "drawer_event"
    __table_args__ = (
        Index("ix_drawer_event_drawer", "drawer_id", "id"),
        Index("ix_drawer_event_branch_date", "branch_code", "business_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    drawer_id: int | None = Field(default=None, foreign_key="drawer.id")  # None: vault-only events
    branch_code: str = Field(max_length=16)
    business_date: date
    # open_float | vault_to_drawer | drawer_to_vault | blind_count | close_return | vault_receive
    # | cash_in | cash_out (pieces received / paid out at the counter)
    kind: str = Field(max_length=20)
    currency: str = Field(default="CNY", max_length=3)
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    change_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    actor: str = Field(max_length=64)
    approver: str = Field(default="", max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    memo: str = Field(default="", max_length=200)


class DenominationCount(SQLModel, table=True):
    """How many pieces of one denomination an event moved or counted (``side``: the pieces
    received or moved, or ``change`` given back to the customer)."""

    __tablename__ = "denomination_count"
    __table_args__ = (
        UniqueConstraint("event_id", "side", "denomination", name="uq_denomination_event_side"),
        CheckConstraint("pieces > 0", name="ck_denomination_pieces_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="drawer_event.id", index=True)
    side: str = Field(default="main", max_length=8)  # main | change
    denomination: str = Field(max_length=16)  # "note:100", "coin:0.5"
    pieces: int = Field(sa_column=Column(BigInteger, nullable=False))
