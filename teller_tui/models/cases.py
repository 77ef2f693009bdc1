"""Customer service after the wallet is open: cases, refused attempts, follow-up calls, CRM notes
and needs, and the kiosk's "ask for help" requests.

All of these tables are new (migration ``0030_cases``); none of the older tables is altered.
The closed sets of values stored in their string columns are the StrEnums below, and each
table's CHECK constraint lists the same values (``tests/test_cases.py`` keeps them in step).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime

__all__ = [
    "CaseEvent", "CaseEventKind", "CaseLink", "CaseStatus", "CaseType", "Channel", "CrmNote", "CustomerNeeds",
    "FollowUpCall", "FollowUpKind", "HelpRequest", "HelpRequestStatus", "RefusedAttempt", "ServiceCase",
]


class CaseType(StrEnum):
    """``service_case.type``: what the customer came about."""

    QUESTION = "question"
    ACCOUNT_MANAGEMENT = "account_management"
    TRANSACTION_DISPUTE = "transaction_dispute"
    COMPLAINT = "complaint"
    FAULT = "fault"
    LOST_DEVICE = "lost_device"  # lost or stolen phone or hard wallet
    SUSPECTED_FRAUD = "suspected_fraud"
    TRAINING_REQUEST = "training_request"


class CaseStatus(StrEnum):
    """``service_case.status`` (the legal moves are :data:`teller_tui.cases.flow.TRANSITIONS`)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_CUSTOMER = "waiting_for_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class CaseEventKind(StrEnum):
    """``case_event.kind``: the case's thread (notes) and its history, in one ordered list."""

    OPENED = "opened"
    NOTE = "note"
    STATUS = "status"
    ASSIGNED = "assigned"
    LINKED = "linked"
    ESCALATED = "escalated"
    CORRECTION = "correction"


class Channel(StrEnum):
    """Where a transaction or an attempt came from."""

    COUNTER = "counter"
    KIOSK = "kiosk"
    LINKED_ACCOUNT = "linked_account"


class FollowUpKind(StrEnum):
    """``follow_up_call.subject_kind``: why the customer is called."""

    NEW_WALLET = "new_wallet"
    RESOLVED_CASE = "resolved_case"
    ASSISTANCE = "assistance"


class HelpRequestStatus(StrEnum):
    """``help_request.status``: a kiosk's call for a person."""

    OPEN = "open"
    TAKEN = "taken"
    DONE = "done"


def _check(column: str, values: type[StrEnum], name: str) -> CheckConstraint:
    listed = ",".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


class ServiceCase(SQLModel, table=True):
    __tablename__ = "service_case"
    __table_args__ = (
        _check("type", CaseType, "ck_case_type"),
        _check("status", CaseStatus, "ck_case_status"),
        Index("ix_case_branch_status", "branch_code", "status", "due_at"),
        Index("ix_case_customer", "customer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=24)  # CaseType
    status: str = Field(default=CaseStatus.OPEN, max_length=24)  # CaseStatus
    customer_id: int = Field(foreign_key="customer.id")
    wallet_id: int | None = Field(default=None, foreign_key="wallet.id")
    branch_code: str = Field(max_length=16)
    summary: str = Field(max_length=200)
    owner_id: int | None = Field(default=None, foreign_key="staff.id")
    opened_by: int | None = Field(default=None, foreign_key="staff.id")
    opened_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    waiting_since: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the deadline pauses meanwhile
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution: str = Field(default="", max_length=1000)
    in_customer_favour: bool | None = None
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: int | None = Field(default=None, foreign_key="staff.id")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reopened: int = 0
    correction_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    updated_at: datetime = Field(sa_type=UTCDateTime)


class CaseLink(SQLModel, table=True):
    """A journal entry (by reference) or a refused attempt the case is about."""

    __tablename__ = "case_link"
    __table_args__ = (
        UniqueConstraint("case_id", "entry_reference", name="uq_case_link_entry"),
        UniqueConstraint("case_id", "refusal_id", name="uq_case_link_refusal"),
        CheckConstraint("(entry_reference IS NULL) <> (refusal_id IS NULL)", name="ck_case_link_one"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="service_case.id", index=True)
    entry_reference: str | None = Field(default=None, max_length=32)
    refusal_id: int | None = Field(default=None, foreign_key="refused_attempt.id")
    linked_at: datetime = Field(sa_type=UTCDateTime)
    linked_by: int | None = Field(default=None, foreign_key="staff.id")


class CaseEvent(SQLModel, table=True):
    """One line of a case's thread: a note, a status change, an escalation …  Append-only."""

    __tablename__ = "case_event"
    __table_args__ = (_check("kind", CaseEventKind, "ck_case_event_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="service_case.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    actor_name: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # CaseEventKind
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str | None = Field(default=None, max_length=24)
    text: str = Field(default="", max_length=2000)


class RefusedAttempt(SQLModel, table=True):
    """An attempt the core refused, kept so that "why did my payment fail?" can be answered later.

    Only the reason code, never a PIN, a password, a code or a card number."""

    __tablename__ = "refused_attempt"
    __table_args__ = (
        _check("channel", Channel, "ck_refused_channel"),
        Index("ix_refused_wallet_at", "wallet_id", "at"),
        Index("ix_refused_customer_at", "customer_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    actor_name: str = Field(max_length=64)
    terminal_id: str = Field(max_length=32)
    branch_code: str = Field(max_length=16)
    channel: str = Field(max_length=16)  # Channel
    kind: str = Field(max_length=24)  # what was attempted: an EntryKind value
    wallet_id: int | None = Field(default=None, foreign_key="wallet.id")
    to_wallet_id: int | None = Field(default=None, foreign_key="wallet.id")
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    currency: str = Field(default="CNY", max_length=3)
    reason_code: str = Field(max_length=48)


class FollowUpCall(SQLModel, table=True):
    __tablename__ = "follow_up_call"
    __table_args__ = (
        _check("subject_kind", FollowUpKind, "ck_follow_up_kind"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="ck_follow_up_satisfaction"),
        Index("ix_follow_up_subject", "subject_kind", "subject_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=16)  # FollowUpKind
    subject_id: int  # wallet id, case id or customer id (by subject_kind)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    case_type: str | None = Field(default=None, max_length=24)  # for a case: its type (satisfaction by type)
    served_by: int | None = Field(default=None, foreign_key="staff.id")  # who served the customer
    caller_id: int | None = Field(default=None, foreign_key="staff.id")
    branch_code: str = Field(max_length=16)
    at: datetime = Field(sa_type=UTCDateTime)
    reached: bool
    outcome: str = Field(default="", max_length=200)
    satisfaction: int | None = None
    comment: str = Field(default="", max_length=1000)


class CrmNote(SQLModel, table=True):
    """A note on a customer. A correction is a new row that ``supersedes`` the old one (each
    version is superseded at most once); the old versions stay readable."""

    __tablename__ = "crm_note"
    __table_args__ = (UniqueConstraint("supersedes_id", name="uq_crm_note_supersedes"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    supersedes_id: int | None = Field(default=None, foreign_key="crm_note.id")
    version: int = 1
    author_id: int | None = Field(default=None, foreign_key="staff.id")
    author_name: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    text: str = Field(max_length=1000)


class CustomerNeeds(SQLModel, table=True):
    """What a customer needs from us (one row per customer, absent = nothing recorded)."""

    __tablename__ = "customer_needs"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    elderly: bool = False
    low_vision: bool = False
    needs_assistance: bool = False
    prefers_hard_wallet: bool = False
    preferred_language: str = Field(default="", max_length=16)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    updated_by: int | None = Field(default=None, foreign_key="staff.id")


class HelpRequest(SQLModel, table=True):
    """A kiosk customer asked for a person: shown in the counter's queue until a teller takes it."""

    __tablename__ = "help_request"
    __table_args__ = (
        _check("status", HelpRequestStatus, "ck_help_request_status"),
        Index("ix_help_request_branch_status", "branch_code", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    terminal_id: str = Field(max_length=32)
    kiosk_id: int | None = Field(default=None, foreign_key="staff.id")
    branch_code: str = Field(max_length=16)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    activity: str = Field(max_length=24)  # what the customer was doing (teller_tui.cases.help.ACTIVITIES)
    detail: str = Field(default="", max_length=200)
    status: str = Field(default=HelpRequestStatus.OPEN, max_length=8)
    taken_by: int | None = Field(default=None, foreign_key="staff.id")
    taken_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
