"""Knowledge-base articles: every revision is a row; the published one of an (article, locale) is shown."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime


class KbStatus(StrEnum):
    PUBLISHED = "published"    # what tellers see (one per article and locale)
    PENDING = "pending"        # a local revision waiting for a second person's review
    SUPERSEDED = "superseded"  # an older published revision, kept readable
    REJECTED = "rejected"      # a revision the reviewer turned down
    CONFLICT = "conflict"      # a shipped update that arrived while a local revision was published


class KbAudience(StrEnum):
    STAFF = "staff"        # tellers, supervisors, administrators (the workstation's F1)
    CUSTOMER = "customer"  # written for the customer: the kiosk's help shows only these


class KbSource(StrEnum):
    SHIPPED = "shipped"
    LOCAL = "local"


class KbArticle(SQLModel, table=True):
    __tablename__ = "kb_article"
    __table_args__ = (
        UniqueConstraint("article_id", "locale", "version", name="uq_kb_article_version"),
        Index("ix_kb_article_status", "status", "article_id", "locale"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: str = Field(max_length=64)
    locale: str = Field(max_length=8)
    version: int
    status: str = Field(max_length=12)  # KbStatus
    source: str = Field(max_length=8)  # KbSource
    title: str = Field(max_length=200)
    tags: str = ""  # JSON list
    screens: str = ""  # JSON list
    refusals: str = ""  # JSON list
    audience: str = Field(default="staff", max_length=8, sa_column_kwargs={"server_default": "staff"})  # KbAudience
    body: str
    shipped_hash: str | None = Field(default=None, max_length=64)
    author: str = Field(max_length=64)
    reviewer: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
