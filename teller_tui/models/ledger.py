"""Ledger tables: accounts with cached balances, immutable journal entries and postings, holds.

A posting's ``amount`` is signed: positive is a debit, negative a credit; each entry's
postings sum to zero per currency. Accounts cache four running totals (TigerBeetle's
model): posted and pending debits and credits. The ledger service is their only writer.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime


class LedgerAccount(SQLModel, table=True):
    __tablename__ = "ledger_account"
    __table_args__ = (
        CheckConstraint("debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 "
                        "AND credits_pending >= 0", name="ck_account_totals_nonneg"),
        CheckConstraint("status IN ('active','frozen','closed')", name="ck_account_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=24, index=True)  # see teller_tui.ledger.accounts.AccountKind
    currency: str = Field(max_length=3)
    branch_code: str = Field(max_length=16, index=True)
    # Balance-limit flags: a liability (wallet) may never be debited beyond its credits; a
    # cash asset (drawer, vault) may never be credited beyond its debits.
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    status: str = Field(default="active", max_length=8)
    debits_posted: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    credits_posted: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    debits_pending: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    credits_pending: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LedgerHead(SQLModel, table=True):
    """One row. SQLite: the bank-wide entry number counter (``last_seq``; writers are serialized
    anyway). PostgreSQL: frozen at the branch-parallel cut-over (numbers come from the
    ``journal_entry_seq`` sequence); holds still lock it."""

    __tablename__ = "ledger_head"
    id: int = Field(default=1, primary_key=True)
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    last_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JournalEntry(SQLModel, table=True):
    """An immutable journal entry. Corrections are new entries (``reverses_entry_id``)."""

    __tablename__ = "journal_entry"
    __table_args__ = (
        UniqueConstraint("reverses_entry_id", name="uq_entry_reversed_once"),
        Index("ix_entry_date_kind", "business_date", "kind"),
        # kind last: the day's cash of one kind per customer or teller is read on every cash posting;
        # matching all three equalities, these win over ix_entry_date_kind on any plan (0101_entry_day_kind)
        Index("ix_entry_customer_date", "customer_id", "business_date", "kind"),
        Index("ix_entry_actor_date", "actor_id", "business_date", "kind"),
        Index("uq_entry_branch_seq", "branch_code", "branch_seq", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: Bank-wide unique and increasing along each branch's chain (SQLite: gap-free; PostgreSQL:
    #: from a sequence, so branches number in parallel and a rolled-back posting leaves a gap).
    seq: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    #: The entry's place in its branch: 1, 2, 3… with no gap (the branch's chain head counts them).
    branch_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    idempotency_key: str = Field(max_length=80, unique=True)
    request_hash: str = Field(max_length=64)
    request_json: str
    kind: str = Field(max_length=24)
    reference: str = Field(max_length=32, unique=True)
    memo: str = Field(default="", max_length=200)
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    terminal_id: str = Field(max_length=32)
    branch_code: str = Field(max_length=16)
    business_date: date
    posted_at: datetime = Field(sa_type=UTCDateTime)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    reverses_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    hold_id: int | None = Field(default=None, foreign_key="ledger_hold.id")
    # The branch's hash chain (invariant 16): SHA-256 over this entry, its postings and the
    # previous entry of the same branch (teller_tui.ledger.chain).
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class LedgerChainHead(SQLModel, table=True):
    """One row per branch: the last entry of the branch's hash chain. Posting locks and moves it.

    The branch's ledger head: its entries are numbered (``branch_seq`` = ``entries``), dated and
    chained here, so branches write in parallel; the heads are printed (``teller ledger head``)
    and kept outside the database."""

    __tablename__ = "ledger_chain_head"
    branch_code: str = Field(primary_key=True, max_length=16)
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    entries: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    hash: str = Field(default="0" * 64, max_length=64)
    #: The last entry's posting time and business date: the next is never before them (invariant 12).
    last_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_date: date | None = Field(default=None)


class WalletUsageDay(SQLModel, table=True):
    """Per wallet account and business date: what its standing postings moved, debits (money out)
    and credits (money in), reversed entries and reversals left out. The ledger keeps it in the
    posting transaction (:mod:`teller_tui.ledger.usage`); the class limits read a year of it by
    its key (:mod:`teller_tui.wallets.limits`), however long the wallet's history."""

    __tablename__ = "wallet_usage_day"
    __table_args__ = (
        CheckConstraint("debits >= 0 AND credits >= 0", name="ck_wallet_usage_nonneg"),
    )

    account_id: int = Field(foreign_key="ledger_account.id", primary_key=True)
    business_date: date = Field(primary_key=True)
    debits: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    credits: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class Posting(SQLModel, table=True):
    __tablename__ = "posting"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="ck_posting_nonzero"),
        Index("ix_posting_account_entry", "account_id", "entry_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="journal_entry.id", index=True)
    account_id: int = Field(foreign_key="ledger_account.id")
    currency: str = Field(max_length=3)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))


class Hold(SQLModel, table=True):
    """A two-phase transfer: funds reserved (pending) until posted, voided or expired."""

    __tablename__ = "ledger_hold"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_hold_positive"),
        CheckConstraint("status IN ('pending','posted','voided','expired')", name="ck_hold_status"),
        Index("ix_hold_status_expires", "status", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=80, unique=True)
    request_hash: str = Field(max_length=64)
    request_json: str
    kind: str = Field(max_length=24)
    debit_account_id: int = Field(foreign_key="ledger_account.id")
    credit_account_id: int = Field(foreign_key="ledger_account.id")
    currency: str = Field(max_length=3)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default="pending", max_length=8)
    memo: str = Field(default="", max_length=200)
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    terminal_id: str = Field(max_length=32)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_entry_id: int | None = None  # journal_entry.id; no FK (entry already points here)
