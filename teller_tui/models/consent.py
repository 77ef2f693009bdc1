"""The customer's consent at the counter and the customer displays that collect it (migration ``0070_consent``).

* :class:`PinpadPairing`: a customer display paired with one teller terminal. Pairing starts on the
  teller's screen (a one-time code, stored as a hash, valid a few minutes) and ends when the code is
  typed on the display; a terminal has at most one active display and a display serves one terminal.
* :class:`ConsentRequest`: one request for the customer's consent, bound to the exact transaction
  (``request_hash``); granted by the customer's PIN on the paired display or by the teller's recorded
  ID re-check, then used once by the posting it names.
* :class:`ConsentPolicy`: per branch, whether the PIN path is required (no ID re-check), set by a supervisor.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from teller_tui.models.types import UTCDateTime

__all__ = ["ConsentPolicy", "ConsentRequest", "PinpadPairing"]


class PinpadPairing(SQLModel, table=True):
    __tablename__ = "pinpad_pairing"
    __table_args__ = (Index("ix_pinpad_pairing_terminal", "terminal_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    terminal_id: str = Field(max_length=32)  # the teller terminal
    code_hash: str = Field(max_length=64)  # sha256 of the one-time code with this row's salt
    salt: str = Field(max_length=32)
    status: str = Field(default="pending", max_length=8)  # pending | active | ended
    attempts: int = 0  # wrong codes typed; the pairing ends after a few
    display_staff_id: int | None = Field(default=None, foreign_key="staff.id")  # the display's own identity
    display_token_hash: str = Field(default="", max_length=64)  # sha256 of the display process's secret
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    paired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsentRequest(SQLModel, table=True):
    __tablename__ = "consent_request"
    __table_args__ = (Index("ix_consent_request_terminal", "terminal_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    terminal_id: str = Field(max_length=32)
    branch_code: str = Field(max_length=16)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    customer_id: int = Field(foreign_key="customer.id")
    wallet_id: int | None = Field(default=None, foreign_key="wallet.id")
    kind: str = Field(max_length=16)  # cash_out | transfer | wallet_close | class_change | pin_reset
    request_hash: str = Field(max_length=64)
    summary_json: str = ""  # what the display shows: amount, payee (masked), detail
    locale: str = Field(default="", max_length=8)  # the customer's language
    status: str = Field(default="pending", max_length=12)  # pending | granted | refused | cancelled | used
    method: str = Field(default="", max_length=12)  # pin | id_check
    document_last4: str = Field(default="", max_length=4)  # id_check: the digits the teller typed (matched)
    pin_failures: int = 0
    #: totp_enrol: the authenticator secret the service offered (SecretBox, context consent:<id>:totp_offer);
    #: only a code for this secret enrols it, after the customer's PIN on the display.
    offer_enc: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsentPolicy(SQLModel, table=True):
    __tablename__ = "consent_policy"

    branch_code: str = Field(primary_key=True, max_length=16)
    pin_required: bool = False  # True: only the customer's PIN on a paired display (no ID re-check)
    reason: str = Field(default="", max_length=200)
    set_by: int | None = Field(default=None, foreign_key="staff.id")
    set_at: datetime = Field(sa_type=UTCDateTime)
