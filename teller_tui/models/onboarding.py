"""Onboarding drafts: an interrupted customer onboarding, resumable by any teller of the branch.

``data_json`` holds the wizard's collected fields. It never holds the wallet PIN (only whether
one was set; it must be entered again on resume) nor a TOTP secret in clear (encrypted with
the SecretBox, bound to the draft id).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime


class OnboardingDraft(SQLModel, table=True):
    __tablename__ = "onboarding_draft"
    __table_args__ = (
        Index("ix_onboarding_draft_branch", "branch", "updated_at"),
        Index("ix_onboarding_draft_expires_at", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch: str = Field(max_length=16)
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    updated_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    step: str = Field(max_length=24)
    label: str = Field(default="", max_length=120)  # masked name + document tail, for the draft list
    data_json: str = Field(default="{}")
