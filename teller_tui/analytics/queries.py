"""The promotion report's SQL: one aggregate per measure, grouped by teller, branch or business date.

Every query is bounded by business date (``journal_entry.business_date``, ``wallet.opened_on``) and
served by an index: ``ix_entry_date_kind`` (entries of a range and kind), ``ix_entry_actor_date``,
``ix_posting_account_entry`` / ``posting.entry_id`` (legs), ``ix_wallet_opened_on`` (openings, 0060).
Money is summed in integer minor units (the positive legs of an entry: what moved). Time-grouped
queries group by the business date in SQL and fold dates into weeks and months in Python
(at most a few hundred rows). Cases and follow-up calls carry timestamps, not business dates:
they are counted by their local (branch time zone) date.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal, select
from sqlmodel import Session, col

from teller_tui.analytics.periods import By, period_start
from teller_tui.auth.roles import Role
from teller_tui.common.clock import BRANCH_TZ, local_date
from teller_tui.ledger.kinds import EntryKind
from teller_tui.models import JournalEntry, LedgerAccount, Posting, Staff, Wallet
from teller_tui.models.cases import CaseType, Channel, FollowUpCall, ServiceCase
from teller_tui.training.report import Attempt
from teller_tui.training.results import aware
from teller_tui.wallets.activation import TRANSACTION_KINDS, activations

__all__ = [
    "ACTIVE_DAYS", "COUNTED_KINDS", "Cohort", "Measures", "WalletOpening", "activity", "active_wallets",
    "cases", "channel_of", "heatmap", "local_bounds", "openings", "rewards", "satisfaction", "training",
]

#: "Active": a transaction in the last 30 business days (the day itself and the 29 before it).
ACTIVE_DAYS = 30
#: Kinds counted in "transactions by kind and channel": a customer's transactions and their reversals.
COUNTED_KINDS: tuple[str, ...] = (*TRANSACTION_KINDS, EntryKind.REVERSAL)
_LINKED = (EntryKind.LINKED_TOP_UP, EntryKind.LINKED_WITHDRAW)


def channel_of(role: str | None, kind: str) -> str:
    """Where a transaction came from: the kiosk (posted by a kiosk identity), a linked bank
    account (top-up and withdrawal), else the counter. :func:`_channel` is the same rule in SQL."""
    if role == Role.KIOSK:
        return Channel.KIOSK
    return Channel.LINKED_ACCOUNT if kind in _LINKED else Channel.COUNTER


def _channel() -> Any:
    return case((col(Staff.role) == Role.KIOSK.value, literal(Channel.KIOSK.value)),
                (col(JournalEntry.kind).in_(_LINKED), literal(Channel.LINKED_ACCOUNT.value)),
                else_=literal(Channel.COUNTER.value))


@dataclass
class Measures:
    """The additive measures of one group (a teller, a branch, a period)."""

    opened: int = 0
    by_class: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    activated_7: int = 0
    activated_30: int = 0
    active: int = 0  # wallets with a transaction in the 30 days to the group's last day
    active_txns: int = 0  # those wallets' transactions in those 30 days
    txns: int = 0
    amount: int = 0  # minor units
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [count, minor]
    by_channel: dict[str, list[int]] = field(default_factory=dict)  # channel -> [count, minor]
    rewards: int = 0
    reward_points: int = 0
    cases: int = 0
    complaints: int = 0
    satisfaction_n: int = 0
    satisfaction_sum: int = 0
    training_runs: int = 0  # scored training runs of the group's tellers (by the run's local date)
    training_passes: int = 0
    training_score_sum: int = 0


@dataclass(frozen=True, slots=True)
class WalletOpening:
    wallet_id: int
    opened_on: date
    opened_by: int | None
    branch_code: str
    tier: int
    activated_on: date | None


@dataclass(frozen=True, slots=True)
class Cohort:
    week: date  # Monday of the opening week
    opened: int
    activated_7: int
    activated_30: int


def key_of(by: By, first: date, *, day: date, staff_id: int | None, branch: str) -> Hashable:
    """The group a row belongs to: its teller, its branch, or the (clipped) start of its period."""
    if by == By.TELLER:
        return staff_id
    if by == By.BRANCH:
        return branch
    return max(period_start(day, by), first)


def _branch(column: Any, branch: str | None) -> ColumnElement[bool]:
    return column == branch if branch is not None else literal(True)


def local_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), tzinfo=BRANCH_TZ).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=BRANCH_TZ).astimezone(UTC)
    return start, end


# -- wallets opened and their activation ------------------------------------------------------------
def openings(s: Session, first: date, last: date, branch: str | None) -> list[WalletOpening]:
    """Every wallet opened on a business date in [first, last], with its activation date."""
    rows = s.execute(select(col(Wallet.id), col(Wallet.opened_on), col(Wallet.opened_by), col(LedgerAccount.branch_code),
                            col(Wallet.tier))
                     .join(LedgerAccount, col(LedgerAccount.id) == col(Wallet.account_id))
                     .where(col(Wallet.opened_on).between(first, last),
                            _branch(col(LedgerAccount.branch_code), branch))).all()
    found = activations(s, col(Wallet.opened_on).between(first, last))
    out = []
    for wid, opened_on, opened_by, branch_code, tier in rows:
        act = found.get(int(wid))
        out.append(WalletOpening(int(wid), opened_on, opened_by, str(branch_code), int(tier),
                                 act.business_date if act else None))
    return out


def activated_within(w: WalletOpening, days: int) -> bool:
    return w.activated_on is not None and (w.activated_on - w.opened_on).days <= days


def cohorts(rows: list[WalletOpening]) -> list[Cohort]:
    weeks: dict[date, list[int]] = {}
    for w in rows:
        c = weeks.setdefault(period_start(w.opened_on, By.WEEK), [0, 0, 0])
        c[0] += 1
        c[1] += activated_within(w, 7)
        c[2] += activated_within(w, 30)
    return [Cohort(k, *v) for k, v in sorted(weeks.items())]


# -- transactions by kind and channel, rewards ------------------------------------------------------
def _entry_key(by: By) -> Any:
    return {By.TELLER: col(JournalEntry.actor_id), By.BRANCH: col(JournalEntry.branch_code)}.get(
        by, col(JournalEntry.business_date))


def _fold(by: By, first: date, raw: Any) -> Hashable:
    return max(period_start(raw, by), first) if by.is_period else raw


def activity(s: Session, first: date, last: date, by: By, branch: str | None
             ) -> list[tuple[Hashable, str, str, int, int]]:
    """(group, kind, channel, entries, minor units moved) of the counted kinds."""
    key = _entry_key(by)
    chan = _channel()
    rows = s.execute(select(key, col(JournalEntry.kind), chan, func.count(func.distinct(col(JournalEntry.id))),
                            func.coalesce(func.sum(col(Posting.amount)), 0))
                     .join(Posting, and_(col(Posting.entry_id) == col(JournalEntry.id), col(Posting.amount) > 0))
                     .outerjoin(Staff, col(Staff.id) == col(JournalEntry.actor_id))
                     .where(col(JournalEntry.business_date).between(first, last),
                            col(JournalEntry.kind).in_(COUNTED_KINDS), _branch(col(JournalEntry.branch_code), branch))
                     .group_by(key, col(JournalEntry.kind), chan)).all()
    return [(_fold(by, first, k), str(kind), str(ch), int(n), int(total)) for k, kind, ch, n, total in rows]


def rewards(s: Session, first: date, last: date, by: By, branch: str | None) -> list[tuple[Hashable, int, int]]:
    """(group, rewards granted, points) of the welcome rewards dated in the range."""
    key = _entry_key(by)
    rows = s.execute(select(key, func.count(func.distinct(col(JournalEntry.id))),
                            func.coalesce(func.sum(col(Posting.amount)), 0))
                     .join(Posting, and_(col(Posting.entry_id) == col(JournalEntry.id), col(Posting.amount) > 0))
                     .where(col(JournalEntry.business_date).between(first, last),
                            col(JournalEntry.kind) == EntryKind.WELCOME_REWARD.value,
                            _branch(col(JournalEntry.branch_code), branch))
                     .group_by(key)).all()
    return [(_fold(by, first, k), int(n), int(p)) for k, n, p in rows]


# -- active wallets -----------------------------------------------------------------------------------
def active_wallets(s: Session, end: date, by: By, branch: str | None) -> dict[Hashable, tuple[int, int]]:
    """Wallets with a transaction in the 30 business days to ``end``, and their transactions in
    that window, per teller who opened the wallet or per the wallet's branch (one group for periods)."""
    key: Any = (col(Wallet.opened_by) if by == By.TELLER else col(LedgerAccount.branch_code) if by == By.BRANCH
                else literal(0))
    rows = s.execute(select(key, func.count(func.distinct(col(Wallet.id))), func.count())
                     .select_from(JournalEntry)
                     .join(Posting, col(Posting.entry_id) == col(JournalEntry.id))
                     .join(Wallet, and_(col(Wallet.account_id) == col(Posting.account_id),
                                        col(Wallet.customer_id) == col(JournalEntry.customer_id)))
                     .join(LedgerAccount, col(LedgerAccount.id) == col(Wallet.account_id))
                     .where(col(JournalEntry.business_date).between(end - timedelta(days=ACTIVE_DAYS - 1), end),
                            col(JournalEntry.kind).in_(TRANSACTION_KINDS),
                            _branch(col(LedgerAccount.branch_code), branch))
                     .group_by(key)).all()
    return {k: (int(n), int(t)) for k, n, t in rows}


# -- service cases and satisfaction ---------------------------------------------------------------------
def cases(s: Session, first: date, last: date, by: By, branch: str | None) -> list[tuple[Hashable, bool]]:
    """(group, is a complaint) of every case opened on a local date in the range."""
    start, end = local_bounds(first, last)
    rows = s.execute(select(col(ServiceCase.opened_at), col(ServiceCase.type), col(ServiceCase.opened_by),
                            col(ServiceCase.branch_code))
                     .where(col(ServiceCase.opened_at) >= start, col(ServiceCase.opened_at) < end,
                            _branch(col(ServiceCase.branch_code), branch))).all()
    return [(key_of(by, first, day=local_date(at), staff_id=who, branch=str(br)), kind == CaseType.COMPLAINT)
            for at, kind, who, br in rows]


def satisfaction(s: Session, first: date, last: date, by: By, branch: str | None) -> list[tuple[Hashable, int]]:
    """(group, score 1-5) of every follow-up call with a score, by its local date; per teller by
    the person who served the customer."""
    start, end = local_bounds(first, last)
    rows = s.execute(select(col(FollowUpCall.at), col(FollowUpCall.served_by), col(FollowUpCall.branch_code),
                            col(FollowUpCall.satisfaction))
                     .where(col(FollowUpCall.at) >= start, col(FollowUpCall.at) < end,
                            col(FollowUpCall.satisfaction).is_not(None),
                            _branch(col(FollowUpCall.branch_code), branch))).all()
    return [(key_of(by, first, day=local_date(at), staff_id=who, branch=str(br)), int(score))
            for at, who, br, score in rows]


# -- training scores -------------------------------------------------------------------------------------------
def training(s: Session, found: Sequence[Attempt], first: date, by: By, branch: str | None
             ) -> list[tuple[Hashable, Attempt]]:
    """(group, run) of scored training runs (read from the training database by the caller): the
    trainee is the live member of staff with the same user name (training databases have their own
    staff rows); runs of names unknown here count for no teller and no branch."""
    names = sorted({a.trainee for a in found})
    staff = {str(u): (int(i), str(b)) for i, u, b in s.execute(
        select(col(Staff.id), col(Staff.username), col(Staff.branch_code)).where(col(Staff.username).in_(names))
    ).all()} if names else {}
    out: list[tuple[Hashable, Attempt]] = []
    for a in found:
        who, home = staff.get(a.trainee, (None, ""))
        if branch is not None and home != branch:
            continue
        out.append((key_of(by, first, day=local_date(aware(a.at)), staff_id=who, branch=home or "?"), a))
    return out


# -- busiest hours ------------------------------------------------------------------------------------------
def _local_hour(dialect: str) -> Any:
    if dialect == "postgresql":
        return func.extract("hour", func.timezone(str(BRANCH_TZ), col(JournalEntry.posted_at)))
    offset = datetime(2000, 1, 1, tzinfo=UTC).astimezone(BRANCH_TZ).utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset else 0  # Asia/Shanghai: +8 all year
    return cast(func.strftime("%H", col(JournalEntry.posted_at), f"{hours:+d} hours"), Integer())


def heatmap(s: Session, first: date, last: date, branch: str | None) -> list[list[int]]:
    """Transactions per weekday (0 = Monday, of the business date) and local hour (of posting)."""
    dialect = s.get_bind().dialect.name
    hour = _local_hour(dialect)
    grid = [[0] * 24 for _ in range(7)]
    for day, h, n in s.execute(select(col(JournalEntry.business_date), hour, func.count())
                               .where(col(JournalEntry.business_date).between(first, last),
                                      col(JournalEntry.kind).in_(TRANSACTION_KINDS),
                                      _branch(col(JournalEntry.branch_code), branch))
                               .group_by(col(JournalEntry.business_date), hour)).all():
        grid[day.weekday()][int(h)] += int(n)
    return grid
