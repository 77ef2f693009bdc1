"""Kiosk sign-in guard: wrong tries counted per identifier typed (known or not), and per customer.

``key`` is an HMAC of what was typed (``id:<digits>``) or of the customer (``customer:<id>``), so
the table reveals neither phone numbers nor which of them belong to customers.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime


class KioskGuard(SQLModel, table=True):
    __tablename__ = "kiosk_guard"

    key: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
