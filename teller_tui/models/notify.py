"""Customer notifications: the durable outbox and each customer's contact consent per channel.

An outbox row is written in the SAME transaction as the event it tells about (a posting, a freeze, a
PIN change ...): it exists exactly when the event committed. ``message_id`` is the de-duplication key
the receiver (SMS gateway, mail server) sees, unchanged across retries. ``event_key`` + ``channel`` are
unique, so an event is queued once per channel however often its code runs. A sender claims a row by
setting ``claim`` and ``claimed_until`` (a lease); only the holder of the claim records the outcome.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime

__all__ = ["Channel", "CustomerContact", "OutboxMessage", "OutboxStatus"]


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting, or claimed by a sender (see claimed_until)
    SENT = "sent"  # the receiver accepted it (one recorded outcome)
    FAILED = "failed"  # gave up after the last attempt
    SKIPPED = "skipped"  # nothing to send to (no consent, no address) — recorded, never sent


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "notify_outbox"
    __table_args__ = (
        UniqueConstraint("event_key", "channel", name="uq_notify_event_channel"),
        UniqueConstraint("message_id", name="uq_notify_message_id"),
        CheckConstraint("status IN ('pending','sent','failed','skipped')", name="ck_notify_status"),
        CheckConstraint("channel IN ('sms','email')", name="ck_notify_channel"),
        Index("ix_notify_due", "status", "next_attempt_at"),
        Index("ix_notify_customer", "customer_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=40)
    event: str = Field(max_length=32)
    event_key: str = Field(max_length=96)
    customer_id: int = Field(foreign_key="customer.id")
    channel: str = Field(max_length=8)
    address: str = Field(max_length=254)
    locale: str = Field(max_length=8)
    params_json: str = Field(default="{}")
    status: str = Field(default=OutboxStatus.PENDING, max_length=8)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claim: str = Field(default="", max_length=40)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CustomerContact(SQLModel, table=True):
    """Consent per customer and channel. SMS goes to the customer's phone unless opted out here; e-mail
    only to an address recorded here with consent."""

    __tablename__ = "customer_contact"
    __table_args__ = (UniqueConstraint("customer_id", "channel", name="uq_contact_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    channel: str = Field(max_length=8)
    address: str = Field(default="", max_length=254)
    consent: bool = True
    updated_at: datetime = Field(sa_type=UTCDateTime)
    updated_by: int | None = Field(default=None, foreign_key="staff.id")
