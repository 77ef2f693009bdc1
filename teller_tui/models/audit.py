"""The tamper-evident audit trail: append-only records linked by a SHA-256 hash chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime


#: The stream of branch-less records and of every record written before streams existed.
BANK_STREAM = "BANK"


class AuditRecord(SQLModel, table=True):
    """One audit record. ``seq`` is bank-wide unique; ``stream`` (the actor's branch, or
    :data:`BANK_STREAM`) and ``stream_seq`` (1, 2, 3… gap-free per stream) place it in its stream's
    chain: ``prev_hash`` is the hash of the stream's previous record."""

    __tablename__ = "audit_record"
    __table_args__ = (Index("ix_audit_action_at", "action", "at"), Index("ix_audit_actor_at", "actor_id", "at"),
                      Index("uq_audit_stream_seq", "stream", "stream_seq", unique=True))

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None)  # staff id; None for system/kiosk customer actions
    actor: str = Field(max_length=64)  # username or "system" / "kiosk:<terminal>" at the time
    terminal_id: str = Field(max_length=32)
    action: str = Field(max_length=48)
    subject: str = Field(default="", max_length=96)  # e.g. "wallet:8600…", "staff:3"
    outcome: str = Field(max_length=16)  # ok | denied | failed | requested | approved | rejected
    detail_json: str = Field(default="{}")  # before/after and other facts, canonical JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    stream: str = Field(default=BANK_STREAM, max_length=16)
    stream_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class AuditHead(SQLModel, table=True):
    """One row. Before streams: the last record's seq and hash, locked by every append. Since
    0100_audit_streams: ``hash`` is the bank stream's head at the migration (no longer moved) and
    ``seq`` is SQLite's bank-wide counter (PostgreSQL takes ``seq`` from ``audit_record_seq``)."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    hash: str = Field(default="0" * 64, max_length=64)


class AuditStreamHead(SQLModel, table=True):
    """One row per audit stream: its last record (bank-wide ``seq``), how many records it has
    (the last ``stream_seq``), the last hash and time. An append locks its stream's row only."""

    __tablename__ = "audit_stream_head"
    stream: str = Field(primary_key=True, max_length=16)
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    entries: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    hash: str = Field(default="0" * 64, max_length=64)
    last_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
