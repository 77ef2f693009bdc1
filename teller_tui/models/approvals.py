"""Supervisor approvals (four eyes) and large-value cash reports.

``approval_request`` holds one request for a supervisor's approval: given at the counter
(``mode='counter'``, born approved) or queued for any supervisor of the branch
(``mode='remote'``, born pending, funds held meanwhile). It is bound to its request by
``request_hash`` and used once (``consumed``). Supervisor screens poll it by
``(status, branch_code)``, so that index keeps the poll cheap.

``large_value_report`` is the compliance record of a cash transaction of ¥50,000 or more
(single or same-day cumulative): a snapshot of the customer's identity data at the time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime

APPROVAL_STATUSES = ("pending", "approved", "rejected", "cancelled", "expired", "consumed")


class ApprovalRequest(SQLModel, table=True):
    __tablename__ = "approval_request"
    __table_args__ = (
        CheckConstraint("status IN ('pending','approved','rejected','cancelled','expired','consumed')",
                        name="ck_approval_status"),
        CheckConstraint("mode IN ('counter','remote')", name="ck_approval_mode"),
        Index("ix_approval_status_branch", "status", "branch_code"),
        Index("ix_approval_status_expires", "status", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_code: str = Field(max_length=16)
    kind: str = Field(max_length=24)  # the policy action: cash_out, reversal, unfreeze, ...
    mode: str = Field(max_length=8)
    status: str = Field(default="pending", max_length=12)
    request_hash: str = Field(max_length=64)
    request_json: str  # the canonical request plus annotations (reasons, source of funds...)
    summary: str = Field(default="", max_length=200)
    rules_json: str = Field(default="[]")
    requester_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    terminal: str = Field(max_length=32)
    hold_id: int | None = Field(default=None, foreign_key="ledger_hold.id")
    approver_id: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=200)  # the supervisor's (or canceller's) reason
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    consumed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")  # what the approval posted


class LargeValueReport(SQLModel, table=True):
    """One large-value cash transaction, with what a compliance officer needs to file it."""

    __tablename__ = "large_value_report"
    __table_args__ = (
        CheckConstraint("direction IN ('in','out')", name="ck_lvr_direction"),
        Index("ix_lvr_branch_date", "branch_code", "business_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_code: str = Field(max_length=16)
    business_date: date
    txn_at: datetime = Field(sa_type=UTCDateTime)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    customer_name: str = Field(max_length=80)
    id_type: str = Field(default="", max_length=16)
    id_number: str = Field(default="", max_length=32)
    nationality: str = Field(default="", max_length=3)
    occupation: str = Field(default="", max_length=80)
    address: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=20)
    direction: str = Field(max_length=3)
    currency: str = Field(default="CNY", max_length=3)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    cumulative_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    teller_id: int | None = Field(default=None, foreign_key="staff.id")
    teller_username: str = Field(max_length=64)
    terminal: str = Field(max_length=32)
    reference: str = Field(max_length=32, unique=True)
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    approval_id: int | None = Field(default=None, foreign_key="approval_request.id")
    source_of_funds: str = Field(default="", max_length=200)
    purpose: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
