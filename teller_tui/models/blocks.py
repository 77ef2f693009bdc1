"""A wallet blocked in full after a lost or stolen phone (migration ``0050_wallet_block``).

A new table only: the wallet's own status stays one of active/frozen/closed. While a block is in
force (``lifted_at IS NULL``) the wallet and its ledger accounts are ``frozen`` (the ledger itself
refuses every debit) and every channel refuses credits too (:mod:`teller_tui.wallets.blocks`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime

__all__ = ["WalletBlock"]


class WalletBlock(SQLModel, table=True):
    __tablename__ = "wallet_block"
    __table_args__ = (Index("ix_wallet_block_wallet", "wallet_id", "lifted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    wallet_id: int = Field(foreign_key="wallet.id")
    reason: str = Field(max_length=200)
    status_before: str = Field(max_length=8)  # the wallet's status when blocked: put back when lifted
    blocked_at: datetime = Field(sa_type=UTCDateTime)
    blocked_by: int | None = Field(default=None, foreign_key="staff.id")
    lifted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lifted_by: int | None = Field(default=None, foreign_key="staff.id")
    lifted_how: str = Field(default="", max_length=32)  # device_replacement
