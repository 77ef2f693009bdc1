"""The case status flow: the one table of legal moves, and the check every status change passes.

::

    open ──▶ in progress ◀──▶ waiting for customer
      │            │                 │
      └────────────┴──▶ resolved ◀───┘
                          │   ▲
                          ▼   │ (reopen: back to in progress)
                        closed

``open`` may also go straight to ``waiting for customer`` or ``resolved`` (a question answered at
once). ``resolved`` and ``closed`` may be reopened: the case goes back to ``in progress`` with a
fresh deadline.
"""

from __future__ import annotations

from collections.abc import Mapping

from teller_tui.common.errors import Conflict
from teller_tui.common.i18n import NP_, _, p_
from teller_tui.models.cases import CaseStatus

__all__ = ["DONE", "REOPENABLE", "STATUS_TITLES", "TRANSITIONS", "check_transition", "status_title"]

S = CaseStatus

#: status -> the statuses it may move to. Everything not listed is illegal.
TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = {
    S.OPEN: frozenset({S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER, S.RESOLVED}),
    S.IN_PROGRESS: frozenset({S.WAITING_FOR_CUSTOMER, S.RESOLVED}),
    S.WAITING_FOR_CUSTOMER: frozenset({S.IN_PROGRESS, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),  # in progress again = reopened
    S.CLOSED: frozenset({S.IN_PROGRESS}),  # reopened
}
#: Statuses from which a move to ``in progress`` is a reopening (fresh deadline, counted).
REOPENABLE = frozenset({S.RESOLVED, S.CLOSED})
#: Statuses in which nothing is owed to the customer: no deadline, no escalation.
DONE = frozenset({S.RESOLVED, S.CLOSED})

#: The gettext context of a case's status ("Closed" is 已关闭 here, 关闭时间 beside a date).
STATUS_CONTEXT = "case status"
STATUS_TITLES: Mapping[CaseStatus, str] = {
    S.OPEN: NP_("case status", "Open"),
    S.IN_PROGRESS: NP_("case status", "In progress"),
    S.WAITING_FOR_CUSTOMER: NP_("case status", "Waiting for the customer"),
    S.RESOLVED: NP_("case status", "Resolved"),
    S.CLOSED: NP_("case status", "Closed"),
}


def status_title(status: str) -> str:
    return p_(STATUS_CONTEXT, STATUS_TITLES[CaseStatus(status)]) if status in STATUS_TITLES else status


def check_transition(current: str, target: str) -> None:
    """Raise :class:`Conflict` (code ``case_transition``) unless ``current`` -> ``target`` is legal."""
    if CaseStatus(target) not in TRANSITIONS[CaseStatus(current)]:
        raise Conflict(_("A case cannot go from “{current}” to “{target}”.").format(
            current=status_title(current), target=status_title(target)), code="case_transition")
