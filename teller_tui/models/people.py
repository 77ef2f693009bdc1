"""Staff, customers, their wallets and linked bank accounts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    __table_args__ = (CheckConstraint("role IN ('teller','supervisor','admin','kiosk')", name="ck_staff_role"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=80)
    role: str = Field(max_length=12)
    branch_code: str = Field(max_length=16)
    password_hash: str = Field(default="")
    must_change_password: bool = True
    totp_secret_enc: str | None = None  # encrypted with the key file outside the database
    totp_pending_enc: str | None = None  # enrolment not yet confirmed by one valid code
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    failed_attempts: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        UniqueConstraint("id_type", "id_number", name="uq_customer_document"),
        Index("ix_customer_phone", "phone"),
        Index("ix_customer_id_number", "id_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_no: str = Field(max_length=20, unique=True)
    full_name: str = Field(max_length=80)
    name_latin: str = Field(default="", max_length=120)  # pinyin or latin spelling, lower case
    phone: str = Field(max_length=20)
    id_type: str | None = Field(default=None, max_length=16)  # None for anonymous (class 4) customers
    id_number: str | None = Field(default=None, max_length=32)
    id_expiry: date | None = None
    birth_date: date | None = None
    sex: str | None = Field(default=None, max_length=1)
    nationality: str = Field(default="CHN", max_length=3)
    address: str = Field(default="", max_length=200)
    occupation: str = Field(default="", max_length=80)
    risk_level: str = Field(default="low", max_length=8)
    kyc_level: str = Field(default="none", max_length=24)  # evidence summary, see tiers
    pin_hash: str | None = None
    pin_failed_attempts: int = 0
    pin_locked: bool = False
    totp_secret_enc: str | None = None
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    branch_code: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="staff.id")


class Wallet(SQLModel, table=True):
    __tablename__ = "wallet"
    __table_args__ = (
        CheckConstraint("tier BETWEEN 1 AND 4", name="ck_wallet_tier"),
        CheckConstraint("status IN ('active','frozen','closed')", name="ck_wallet_status"),
        Index("ix_wallet_opened_on", "opened_on", "opened_by"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    tier: int
    status: str = Field(default="active", max_length=8)
    currency: str = Field(default="CNY", max_length=3)
    account_id: int = Field(foreign_key="ledger_account.id", unique=True)
    points_account_id: int | None = Field(default=None, foreign_key="ledger_account.id")
    opened_at: datetime = Field(sa_type=UTCDateTime)
    opened_by: int | None = Field(default=None, foreign_key="staff.id")
    # The business date the wallet was opened on (the branch's open day, like a ledger entry's date):
    # analytics count openings and activation by it. Migration 0060 filled older rows from opened_at.
    opened_on: date | None = None
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    explanations_json: str = Field(default="{}")  # which explanations the teller gave at opening


class LinkedAccount(SQLModel, table=True):
    """A bank card or account linked as a wallet's funding source; only masked and tokenised."""

    __tablename__ = "linked_account"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    wallet_id: int | None = Field(default=None, foreign_key="wallet.id")
    kind: str = Field(max_length=8)  # card | account
    bank_name: str = Field(max_length=80)
    masked: str = Field(max_length=32)
    token: str = Field(max_length=64, unique=True)  # keyed hash of the number, never the number
    holder_name: str = Field(max_length=80)
    added_at: datetime = Field(sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CustomerNote(SQLModel, table=True):
    __tablename__ = "customer_note"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(sa_type=UTCDateTime)
    text: str = Field(max_length=1000)
