"""Counter-side warnings: what the teller should know about a wallet before serving, and what to say.

Each :class:`RiskWarning` has a translated message (the risk and what to ask or say) and the id of the
knowledge-base article with the full script (``data/kb/<id>.<locale>.md``). Sources: alerts still open
or escalated on the wallet or its customer, a high-risk or politically exposed customer, and a device
replaced within the ``new_device_transfer`` rule's hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlmodel import Session, col

from teller_tui.common.errors import NotFound
from teller_tui.common.i18n import N_, _
from teller_tui.models import AuditRecord, Customer, RiskAlert, Wallet
from teller_tui.models.risk import AlertStatus
from teller_tui.risk.rules import RuleConfig

__all__ = ["RiskWarning", "warnings_for_wallet"]

#: What the teller is told for an alert of each rule, and the default article.
ALERT_WARNINGS: dict[str, tuple[str, str]] = {
    "velocity": (N_("Many transactions on this wallet within minutes. Ask whether anyone else uses the wallet "
                    "or is telling the customer what to do."), "phishing-takeover"),
    "structuring": (N_("Repeated cash amounts just under the large-value threshold. Serve normally; never advise "
                       "how to stay under the threshold. A supervisor is reviewing."), "large-cash"),
    "rapid_in_out": (N_("Cash paid in was transferred out within minutes. Ask who asked for the transfer: a "
                        "caller asking to move money to a \"safe account\" is a fraud."), "phishing-takeover"),
    "new_wallet_cash_out": (N_("Large cash out from a wallet opened only days ago. Check the identity document "
                               "and ask what the cash is for."), "large-cash"),
    "dormant_wakeup": (N_("This wallet was unused for months and is active again. Confirm the customer's identity "
                          "and that the phone bound to it is still theirs."), "phishing-takeover"),
    "high_risk_customer": (N_("High-risk or politically exposed customer: ask for the source of funds for large "
                              "amounts and note the answer."), "large-cash"),
    "new_device_transfer": (N_("The phone was replaced shortly before a large transfer out. Ask whether anyone "
                               "asked for codes or to set up a new phone: this is how accounts are taken over."),
                            "phishing-takeover"),
    "watchlist": (N_("A watch-list match is under review. Do not tell the customer; call a supervisor before any "
                     "transaction."), ""),
    "kiosk_pin_failures": (N_("Many failed PINs at a kiosk. Remind the customer never to share the PIN."),
                           "kiosk-pin-locked"),
}
HIGH_RISK = N_("High-risk or politically exposed customer (onboarding answer): ask for the source of funds for "
               "large amounts and note the answer.")
RECENT_DEVICE = N_("The customer's phone was replaced recently. Before a large transfer out, ask whether anyone "
                   "asked for codes or to set up a new phone.")


@dataclass(frozen=True, slots=True)
class RiskWarning:
    code: str  # the rule, or "high_risk" / "recent_device"
    message: str  # translated
    kb_article: str  # knowledge-base article id ("" when none)
    alert_id: int | None = None


def warnings_for_wallet(s: Session, wallet_id: int, *, now: datetime, rules: dict[str, RuleConfig]) -> list[RiskWarning]:
    wallet = s.get(Wallet, wallet_id)
    if wallet is None:
        raise NotFound(_("No such wallet"), code="no_wallet")
    cust = s.get(Customer, wallet.customer_id)
    out: list[RiskWarning] = []
    alerts = s.execute(select(RiskAlert).where(
        col(RiskAlert.status).in_([AlertStatus.OPEN, AlertStatus.ESCALATED]),
        or_(col(RiskAlert.wallet_id) == wallet_id, col(RiskAlert.customer_id) == wallet.customer_id))
        .order_by(col(RiskAlert.id))).scalars().all()
    seen: set[str] = set()
    for a in alerts:
        if a.rule in seen:
            continue
        seen.add(a.rule)
        text, kb = ALERT_WARNINGS.get(a.rule, (N_("A risk alert is open on this customer."), ""))
        out.append(RiskWarning(a.rule, _(text), a.kb_article or kb, a.id))
    if cust is not None and cust.risk_level == "high" and "high_risk_customer" not in seen:
        out.append(RiskWarning("high_risk", _(HIGH_RISK), ALERT_WARNINGS["high_risk_customer"][1]))
    device = rules.get("new_device_transfer")
    if device is not None and "new_device_transfer" not in seen:
        since = now - timedelta(hours=device.n("hours"))
        replaced = s.execute(select(col(AuditRecord.id)).where(
            col(AuditRecord.action) == "device_replace", col(AuditRecord.subject) == wallet.number,
            col(AuditRecord.at) >= since)).first()
        if replaced is not None:
            out.append(RiskWarning("recent_device", _(RECENT_DEVICE), device.kb or "phishing-takeover"))
    return out
