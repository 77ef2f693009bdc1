"""In-transaction blocking: the risk rules marked ``block`` stop a posting inside its own transaction.

The periodic scan (:mod:`.patterns`) finds patterns after the fact. A rule that also carries
``block = "refuse"`` or ``block = "approve"`` in ``data/risk_rules.toml`` is checked here, by the
one owner of the posting checks (``CashService.check_limits``, which the counter, its preview and the
kiosk all call inside the posting transaction), so the money never moves while:

* an alert of that rule is still open or escalated on one of the wallets or their customers
  (read in the posting transaction: an alert raised a moment ago blocks at once);
* ``velocity``: this posting would be the ``count``-th on the wallet within ``minutes``;
* ``high_risk_customer``: a high-risk customer moves ``min_amount`` or more in one posting.

``refuse``: a hard refusal (:class:`~teller_tui.common.errors.Conflict`, code ``risk_blocked``).
What the teller's screen says is neutral (:func:`neutral`: a customer can read it); the rule behind it
(``Block.review``) goes to the supervisor's approval queue and the alert queue.
``approve``: a supervisor's approval under the approval rule :data:`RISK_APPROVAL_RULE` (approvers: the
approval policy's defaults), bound to the request like every other approval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, distinct, func, or_, select
from sqlmodel import Session, col

from teller_tui.common.clock import Clock, local_date
from teller_tui.common.errors import Conflict
from teller_tui.common.i18n import N_
from teller_tui.common.messages import Msg, message
from teller_tui.common.money import Money
from teller_tui.db import lean
from teller_tui.models import Customer, JournalEntry, Posting, RiskAlert
from teller_tui.models.risk import AlertStatus
from teller_tui.risk.rules import RULE_TITLES, RiskRules

__all__ = ["Block", "PostingGate", "RISK_APPROVAL_RULE", "WalletParty"]

#: The approval rule id a blocking rule in "approve" mode asks for.
RISK_APPROVAL_RULE = "risk_hold"


@dataclass(frozen=True, slots=True)
class WalletParty:
    """A wallet the posting touches: its id, ledger account and customer."""

    wallet_id: int
    account_id: int
    customer_id: int


@dataclass(frozen=True, slots=True)
class Block:
    rule: str
    mode: str  # "refuse" | "approve"
    reason: str  # translated, neutral: fit for the teller's screen, which the customer can see
    review: str  # translated: the rule behind it, for the supervisor's own screen
    alert_id: int | None = None


def neutral(alert_id: int | None) -> str:
    """What the teller's screen says of any block: no rule, no "risk", no watch list (no tipping-off);
    the alert's number lets the teller and the supervisor find it in the alert queue (Ctrl+R)."""
    if alert_id is None:
        return message(N_("This transaction needs a supervisor's review."))
    return message(N_("This transaction needs a supervisor's review (reference {id})."), id=alert_id)


@cache
def _open_alerts_stmt() -> Any:
    """(id, rule) of the open or escalated alerts of these rules on these wallets or customers
    (built once: bind parameters carry the lists)."""
    ra = RiskAlert.__table__  # type: ignore[attr-defined]
    return (select(ra.c.id, ra.c.rule)
            .where(ra.c.rule.in_(bindparam("rules", expanding=True)),
                   ra.c.status.in_([AlertStatus.OPEN, AlertStatus.ESCALATED]),
                   or_(ra.c.wallet_id.in_(bindparam("wallets", expanding=True)),
                       ra.c.customer_id.in_(bindparam("customers", expanding=True))))
            .order_by(ra.c.id))


class PostingGate:
    """Evaluates the blocking rules for one posting (``services.cash`` holds one)."""

    def __init__(self, rules: RiskRules, clock: Clock) -> None:
        self.rules, self.clock = rules, clock

    def blocks(self, s: Session, *, parties: Sequence[WalletParty], amount: Money) -> list[Block]:
        now = self.clock.now()
        blocking = {rid: cfg for rid, cfg in self.rules.in_force(local_date(now)).items() if cfg.block}
        if not blocking or not parties:
            return []
        out: list[Block] = []
        wallet_ids = [p.wallet_id for p in parties]
        customer_ids = [p.customer_id for p in parties]
        alerts = lean.all_rows(s, _open_alerts_stmt(), {"rules": list(blocking), "wallets": wallet_ids,
                                                         "customers": customer_ids})
        seen: set[str] = set()
        for a in alerts:
            if a.rule in seen:
                continue
            seen.add(a.rule)
            title: str | Msg = Msg(RULE_TITLES[a.rule]) if a.rule in RULE_TITLES else str(a.rule)
            out.append(Block(a.rule, blocking[a.rule].block, neutral(a.id), message(N_(
                "Risk alert {id} ({rule}) is open on this customer: a supervisor must review it first."),
                id=a.id, rule=title), a.id))
        velocity = blocking.get("velocity")
        if velocity is not None and "velocity" not in seen:
            since = now - timedelta(minutes=velocity.n("minutes"))
            for p in parties[:1]:  # the paying wallet
                recent = s.execute(select(func.count(distinct(col(JournalEntry.id)))).select_from(JournalEntry)
                                   .join(Posting, col(Posting.entry_id) == col(JournalEntry.id))
                                   .where(col(Posting.account_id) == p.account_id,
                                          col(JournalEntry.posted_at) >= since)).scalar_one()
                if int(recent) + 1 >= velocity.n("count"):
                    out.append(Block("velocity", velocity.block, neutral(None), message(N_(
                        "This would be transaction {n} on the wallet within {minutes} minutes."),
                        n=int(recent) + 1, minutes=velocity.n("minutes"))))
        high = blocking.get("high_risk_customer")
        if high is not None and "high_risk_customer" not in seen and amount >= high.amount("min_amount"):
            levels = s.execute(select(col(Customer.risk_level)).where(col(Customer.id).in_(customer_ids))).scalars()
            if any(level == "high" for level in levels):
                out.append(Block("high_risk_customer", high.block, neutral(None), message(N_(
                    "A high-risk customer moving this much needs a supervisor's review."))))
        return out

    def refuse_any(self, s: Session, *, parties: Sequence[WalletParty], amount: Money) -> None:
        """For a channel with no approval path (linked top-up/withdrawal): any block refuses, in either
        mode (:class:`~teller_tui.common.errors.Conflict`, code ``risk_blocked``, the teller's wording)."""
        for block in self.blocks(s, parties=parties, amount=amount):
            raise Conflict(block.reason, code="risk_blocked", rule=block.rule)

