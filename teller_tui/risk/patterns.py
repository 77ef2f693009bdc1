"""The patterns of the periodic scan: one small pure function per rule of ``data/risk_rules.toml``.

Each takes the scan's :class:`~teller_tui.risk.data.ScanData` and the rule's settings and returns
:class:`Finding`-s. A finding names its ``window`` (the first entry or audit record of the pattern,
or a day), so the same pattern found again is the same alert; a pattern never starts at or before
the end of an earlier alert of the same rule on the same subject (``ScanData.after_watermark``).
Windows are found greedily from the earliest event, so overlapping windows make one alert.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from teller_tui.common.clock import local_date
from teller_tui.ledger.kinds import EntryKind
from teller_tui.risk.data import ScanData, Txn
from teller_tui.risk.rules import RuleConfig

__all__ = ["PATTERNS", "Finding"]

_OUT_KINDS = (EntryKind.TRANSFER, EntryKind.LINKED_WITHDRAW)  # "transferred out"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    subject: str
    window: str
    first_at: datetime
    last_at: datetime
    amount: int = 0  # minor units, the total the pattern moved
    currency: str = "CNY"
    customer_id: int | None = None
    wallet_id: int | None = None
    entries: tuple[str, ...] = ()  # journal references
    facts: dict[str, Any] = field(default_factory=dict)


def _txn_finding(rule: str, data: ScanData, subject: str, txns: Sequence[Txn], *, window: str | None = None,
                 wallet: bool = True, **facts: Any) -> Finding:
    first = txns[0]
    return Finding(rule, subject, window or f"e:{first.entry_id}", first.at, txns[-1].at,
                   sum(t.size for t in txns), first.currency, first.customer_id,
                   first.wallet_id if wallet else None, tuple(t.reference for t in txns),
                   {"entries": [{"reference": t.reference, "kind": t.kind, "amount": t.amount, "at": t.at.isoformat(),
                                 "wallet": data.wallets[t.wallet_id].number} for t in txns], **facts})


def _bursts(events: Sequence[Any], at: Callable[[Any], datetime], span: timedelta, enough: Callable[[Sequence[Any]], bool],
            ) -> list[Sequence[Any]]:
    """Greedy, non-overlapping windows: from the earliest event, every event within ``span`` of it;
    kept when ``enough`` of them, and the next window starts after the last one kept."""
    out: list[Sequence[Any]] = []
    i = 0
    while i < len(events):
        j = i
        while j + 1 < len(events) and at(events[j + 1]) - at(events[i]) <= span:
            j += 1
        window = events[i:j + 1]
        if enough(window):
            out.append(window)
            i = j + 1
        else:
            i += 1
    return out


def velocity(data: ScanData, cfg: RuleConfig) -> list[Finding]:
    """``count`` or more transactions on one wallet within ``minutes``."""
    out = []
    for wid, txns in data.by_wallet().items():
        subject = data.wallet_subject(wid)
        fresh = [t for t in txns if data.after_watermark(cfg.id, subject, t.at)]
        for burst in _bursts(fresh, lambda t: t.at, timedelta(minutes=cfg.n("minutes")),
                             lambda w: len(w) >= cfg.n("count")):
            out.append(_txn_finding(cfg.id, data, subject, burst, count=len(burst)))
    return out


def structuring(data: ScanData, cfg: RuleConfig) -> list[Finding]:
    """``count`` cash amounts in the same direction just under the large-value threshold within ``days``,
    by one customer, or by a group of linked customers (when no single member did it alone)."""
    top = data.large_value.minor
    low = top - top * cfg.n("margin_percent") // 100
    span = timedelta(days=cfg.n("days"))
    cands = [t for t in data.txns if t.kind in (EntryKind.CASH_IN, EntryKind.CASH_OUT) and low <= t.size < top
             and t.currency == data.large_value.currency]
    by_customer: dict[tuple[int, str], list[Txn]] = defaultdict(list)
    by_group: dict[tuple[int, str], list[Txn]] = defaultdict(list)
    for t in cands:
        by_customer[(t.customer_id, t.kind)].append(t)
        by_group[(data.groups.get(t.customer_id, t.customer_id), t.kind)].append(t)
    out: list[Finding] = []
    enough: Callable[[Sequence[Txn]], bool] = lambda w: len(w) >= cfg.n("count")  # noqa: E731
    alone: set[int] = set()
    for (cid, kind), txns in by_customer.items():
        subject = data.customer_subject(cid)
        fresh = [t for t in txns if data.after_watermark(cfg.id, subject, t.at)]
        for burst in _bursts(fresh, lambda t: t.at, span, enough):
            alone.add(cid)
            out.append(_txn_finding(cfg.id, data, subject, burst, wallet=False, direction=kind,
                                    threshold=top, count=len(burst)))
    for (root, kind), txns in by_group.items():
        members = sorted({t.customer_id for t in txns})
        if len(members) < 2:
            continue
        subject = "group:" + data.customers[root].customer_no
        fresh = [t for t in txns if data.after_watermark(cfg.id, subject, t.at)]
        for burst in _bursts(fresh, lambda t: t.at, span, enough):
            who = sorted({t.customer_id for t in burst})
            if len(who) < 2 or any(c in alone for c in who):
                continue
            f = _txn_finding(cfg.id, data, subject, burst, wallet=False, direction=kind, threshold=top,
                             count=len(burst), linked_customers=[data.customers[c].customer_no for c in who])
            out.append(f)
    return out


def rapid_in_out(data: ScanData, cfg: RuleConfig) -> list[Finding]:
    """A cash in of ``min_amount`` or more, then transfers out of ``share_percent`` % of it within ``minutes``."""
    out = []
    span = timedelta(minutes=cfg.n("minutes"))
    for wid, txns in data.by_wallet().items():
        subject = data.wallet_subject(wid)
        used: set[int] = set()  # an out already matched to a cash in is not matched again
        for i, t in enumerate(txns):
            if t.kind != EntryKind.CASH_IN or t.size < cfg.amount("min_amount").minor:
                continue
            if not data.after_watermark(cfg.id, subject, t.at):
                continue
            outs = [o for o in txns[i + 1:] if o.kind in _OUT_KINDS and o.amount > 0 and o.at - t.at <= span
                    and o.entry_id not in used]
            if sum(o.size for o in outs) * 100 >= t.size * cfg.n("share_percent"):
                used.update(o.entry_id for o in outs)
                out.append(_txn_finding(cfg.id, data, subject, [t, *outs], cash_in=t.size,
                                        out=sum(o.size for o in outs)))
    return out


def new_wallet_cash_out(data: ScanData, cfg: RuleConfig) -> list[Finding]:
    """A cash out of ``min_amount`` or more within ``days`` of the wallet opening."""
    out = []
    for t in data.txns:
        w = data.wallets[t.wallet_id]
        if (t.kind == EntryKind.CASH_OUT and t.size >= cfg.amount("min_amount").minor
                and t.at - w.opened_at <= timedelta(days=cfg.n("days"))):
            out.append(_txn_finding(cfg.id, data, data.wallet_subject(t.wallet_id), [t],
                                    opened_at=w.opened_at.isoformat()))
    return out


def dormant_wakeup(data: ScanData, cfg: RuleConfig) -> list[Finding]:
    """A transaction of ``min_amount`` or more after ``days`` without any (or since opening)."""
    out = []
    gap = timedelta(days=cfg.n("days"))
    for wid, txns in data.by_wallet().items():
        prev = data.last_before.get(wid) or data.wallets[wid].opened_at
        for t in txns:
            if t.at - prev >= gap and t.size >= cfg.amount("min_amount").minor:
                out.append(_txn_finding(cfg.id, data, data.wallet_subject(wid), [t], idle_since=prev.isoformat(),
                                        idle_days=(t.at - prev).days))
            prev = t.at
    return out


def high_risk_customer(data: ScanData, cfg: RuleConfig) -> list[Finding]:
    """A high-risk customer (PEP answer or high expected volume) moving ``min_amount`` or more in one day."""
    days: dict[tuple[int, str], list[Txn]] = defaultdict(list)
    for t in data.txns:
        if data.customers[t.customer_id].risk_level == "high":
            days[(t.customer_id, local_date(t.at).isoformat())].append(t)
    out = []
    for (cid, day), txns in days.items():
        if sum(t.size for t in txns) >= cfg.amount("min_amount").minor:
            out.append(_txn_finding(cfg.id, data, data.customer_subject(cid), txns, window=f"d:{day}", wallet=False,
                                    risk_level="high"))
    return out


def kiosk_pin_failures(data: ScanData, cfg: RuleConfig) -> list[Finding]:
    """``count`` failed kiosk sign-ins within ``minutes`` on one kiosk, for ``wallets`` different customers."""
    by_kiosk: dict[str, list[Any]] = defaultdict(list)
    for e in data.audit:
        if e.action == "kiosk_sign_in" and e.outcome == "fail":
            by_kiosk[e.terminal_id].append(e)
    out = []
    for terminal, events in by_kiosk.items():
        subject = f"kiosk:{terminal}"
        fresh = [e for e in events if data.after_watermark(cfg.id, subject, e.at)]
        for burst in _bursts(fresh, lambda e: e.at, timedelta(minutes=cfg.n("minutes")),
                             lambda w: len(w) >= cfg.n("count") and len({e.subject for e in w}) >= cfg.n("wallets")):
            out.append(Finding(cfg.id, subject, f"a:{burst[0].seq}", burst[0].at, burst[-1].at,
                               facts={"failures": len(burst), "customers": sorted({e.subject or "?" for e in burst}),
                                      "terminal": terminal}))
    return out


def new_device_transfer(data: ScanData, cfg: RuleConfig) -> list[Finding]:
    """A device replacement, then a transfer or withdrawal of ``min_amount`` or more within ``hours``."""
    numbers = {w.number: w.id for w in data.wallets.values()}
    by_wallet = data.by_wallet()
    out = []
    for e in data.audit:
        wid = numbers.get(e.subject)
        if e.action != "device_replace" or wid is None:
            continue
        big = [t for t in by_wallet.get(wid, []) if t.kind in _OUT_KINDS and t.amount > 0
               and timedelta(0) <= t.at - e.at <= timedelta(hours=cfg.n("hours"))
               and t.size >= cfg.amount("min_amount").minor]
        if big:
            out.append(_txn_finding(cfg.id, data, data.wallet_subject(wid), big, window=f"a:{e.seq}",
                                    device_replaced_at=e.at.isoformat()))
    return out


#: Rule id -> its pattern (the watch list is screened by the service: it needs the list).
PATTERNS: dict[str, Callable[[ScanData, RuleConfig], list[Finding]]] = {
    "velocity": velocity,
    "structuring": structuring,
    "rapid_in_out": rapid_in_out,
    "new_wallet_cash_out": new_wallet_cash_out,
    "dormant_wakeup": dormant_wakeup,
    "high_risk_customer": high_risk_customer,
    "kiosk_pin_failures": kiosk_pin_failures,
    "new_device_transfer": new_device_transfer,
}
