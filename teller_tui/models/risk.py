"""Risk monitoring: alerts raised by the periodic scan, and suspicious-transaction reports.

An alert is unique per (rule, subject, window): the scan raises each pattern once, however often
it runs. ``facts_json`` holds what the pattern found (entries, amounts, times) as canonical JSON.
A report is the record a supervisor files from an alert; its fields are what a suspicious-transaction
report needs (subject customer, wallets, transactions, amounts, pattern, narrative, filer, time).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime

__all__ = ["AlertStatus", "RiskAlert", "SuspiciousReport"]


class AlertStatus(StrEnum):
    """``risk_alert.status``: open until a supervisor clears it (with a reason) or escalates it
    (froze the wallet or filed a report)."""

    OPEN = "open"
    CLEARED = "cleared"
    ESCALATED = "escalated"


class RiskAlert(SQLModel, table=True):
    __tablename__ = "risk_alert"
    __table_args__ = (
        UniqueConstraint("rule", "subject", "window", name="uq_risk_alert_once"),
        CheckConstraint("status IN ('open','cleared','escalated')", name="ck_risk_alert_status"),
        Index("ix_risk_alert_status_branch", "status", "branch_code"),
        Index("ix_risk_alert_wallet", "wallet_id"),
        Index("ix_risk_alert_customer", "customer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(max_length=32)
    subject: str = Field(max_length=96)  # "wallet:<number>", "customer:<no>", "group:<no>", "kiosk:<terminal>"
    window: str = Field(max_length=64)  # what makes this occurrence of the pattern distinct
    branch_code: str = Field(max_length=16)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    wallet_id: int | None = Field(default=None, foreign_key="wallet.id")
    amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))  # minor units
    currency: str = Field(default="CNY", max_length=3)
    first_at: datetime = Field(sa_type=UTCDateTime)
    last_at: datetime = Field(sa_type=UTCDateTime)
    kb_article: str = Field(default="", max_length=64)
    facts_json: str = Field(default="{}")
    status: str = Field(default=AlertStatus.OPEN, max_length=12)
    created_at: datetime = Field(sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str = Field(default="", max_length=200)
    wallet_frozen: bool = False
    acked_by: int | None = Field(default=None, foreign_key="staff.id")  # a supervisor took it (still open)
    acked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SuspiciousReport(SQLModel, table=True):
    __tablename__ = "risk_report"
    __table_args__ = (Index("ix_risk_report_filed_at", "filed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    report_no: str = Field(max_length=24, unique=True)
    alert_id: int = Field(foreign_key="risk_alert.id", index=True)
    branch_code: str = Field(max_length=16)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    customer_no: str = Field(default="", max_length=20)
    customer_name: str = Field(default="", max_length=80)
    id_type: str = Field(default="", max_length=16)
    id_number: str = Field(default="", max_length=32)
    wallets_json: str = Field(default="[]")  # wallet numbers
    entries_json: str = Field(default="[]")  # [{reference, kind, amount, at}]
    amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    currency: str = Field(default="CNY", max_length=3)
    period_from: datetime = Field(sa_type=UTCDateTime)
    period_to: datetime = Field(sa_type=UTCDateTime)
    pattern: str = Field(max_length=32)
    narrative: str = Field(max_length=2000)
    filed_by: int | None = Field(default=None, foreign_key="staff.id")
    filer: str = Field(max_length=64)
    filed_at: datetime = Field(sa_type=UTCDateTime)
