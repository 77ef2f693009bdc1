"""The tamper-evident audit trail: append-only records linked by a SHA-256 hash chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_record"
    __table_args__ = (Index("ix_audit_action_at", "action", "at"), Index("ix_audit_actor_at", "actor_id", "at"))

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


class AuditHead(SQLModel, table=True):
    """One row: the last sequence number and hash. Appends lock it, so the chain stays linear."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    hash: str = Field(default="0" * 64, max_length=64)
