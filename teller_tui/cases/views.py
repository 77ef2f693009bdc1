"""Read models the cases core hands out (plain frozen dataclasses; no ORM rows leave the core)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money
from teller_tui.models.cases import CaseType

__all__ = ["CASE_TYPE_TITLES", "CaseDetail", "CaseEventView", "CaseView", "case_number", "case_type_title"]

CASE_TYPE_TITLES: Mapping[CaseType, str] = {
    CaseType.QUESTION: N_("Question"),
    CaseType.ACCOUNT_MANAGEMENT: N_("Account management"),
    CaseType.TRANSACTION_DISPUTE: N_("Transaction dispute"),
    CaseType.COMPLAINT: N_("Complaint"),
    CaseType.FAULT: N_("Fault"),
    CaseType.LOST_DEVICE: N_("Lost or stolen device"),
    CaseType.SUSPECTED_FRAUD: N_("Suspected fraud"),
    CaseType.TRAINING_REQUEST: N_("Training request"),
}


def case_type_title(case_type: str) -> str:
    return _(CASE_TYPE_TITLES[CaseType(case_type)]) if case_type in CASE_TYPE_TITLES else case_type


def case_number(case_id: int) -> str:
    """``CS-000042``: what a teller reads out and types (``CaseService`` accepts it or the bare id)."""
    return f"CS-{case_id:06d}"


@dataclass(frozen=True, slots=True)
class CaseView:
    case_id: int
    number: str
    type: str
    status: str
    customer_id: int
    customer_no: str
    customer_name: str  # cleaned
    wallet_id: int | None
    wallet_number: str | None
    branch_code: str
    summary: str
    owner: str | None  # user name
    opened_by: str | None
    opened_at: datetime
    due_at: datetime
    overdue: bool
    escalated_at: datetime | None
    resolution: str
    in_customer_favour: bool | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopened: int
    correction_reference: str | None


@dataclass(frozen=True, slots=True)
class CaseEventView:
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    text: str


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: CaseView
    events: tuple[CaseEventView, ...]
    entry_references: tuple[str, ...]
    refusal_ids: tuple[int, ...]
    disputed_total: Money | None  # the linked entries' amounts on the case's wallet, if any
