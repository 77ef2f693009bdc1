"""The counter's journal search: entries of this branch by business-date range, amount, wallet,
teller and a fragment of the reference, newest first, paged; a result's reference reprints its
receipt (``CashService.receipt_for``).

Public API::

    svc = JournalSearchService(db, clock)                                        # services.journal
    page = svc.search(actor, JournalQuery(date_from, date_to, amount=Money.of("500"),
                      wallet="8600000000000015", teller="teller1", reference="0312"),
                      limit=20, offset=0)                                   # -> JournalPage

One row per wallet leg (a transfer between two customers gives two rows, one per wallet), so
"which entries touched this wallet" and "which entries moved this amount" read the same way.
The business date bounds come first in the WHERE clause (``ix_entry_date_kind``); a range is at
most 93 days. Tests compare every filter with plain SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text

from teller_tui.audit.trail import Actor
from teller_tui.auth.permissions import guarded
from teller_tui.common.clock import Clock
from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.models.types import UTCDateTime

__all__ = ["MAX_DAYS", "JournalPage", "JournalQuery", "JournalRow", "JournalSearchService"]

MAX_DAYS = 93


@dataclass(frozen=True, slots=True)
class JournalQuery:
    date_from: date
    date_to: date
    amount: Money | None = None  # the wallet leg's amount, either direction
    wallet: str = ""  # a whole wallet number
    teller: str = ""  # a username
    reference: str = ""  # any part of the reference, 3 characters or more


@dataclass(frozen=True, slots=True)
class JournalRow:
    entry_id: int
    reference: str
    posted_at: datetime
    business_date: date
    kind: str
    teller: str
    wallet_number: str
    amount: Money  # signed: + into the wallet


@dataclass(frozen=True, slots=True)
class JournalPage:
    rows: list[JournalRow]
    has_more: bool
    offset: int
    limit: int


def _like(fragment: str) -> str:
    return "%" + fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class JournalSearchService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock  # the clock: the permission guard re-checks the staff row

    @guarded("journal")
    def search(self, actor: Actor, criteria: JournalQuery, *, limit: int = 20, offset: int = 0) -> JournalPage:
        query = criteria
        if query.date_to < query.date_from:
            raise ValidationError(_("The end date is before the start date"), code="journal_range")
        if (query.date_to - query.date_from).days >= MAX_DAYS:
            raise ValidationError(_("Search at most {n} days at a time").format(n=MAX_DAYS), code="journal_range")
        reference = clean_text(query.reference, limit=32).upper()
        if reference and len(reference) < 3:
            raise ValidationError(_("Type at least 3 characters of the reference"), code="journal_reference")
        limit = max(1, min(int(limit), 200))
        offset = max(0, int(offset))
        where = ["e.business_date >= :f", "e.business_date <= :t", "e.branch_code = :b"]
        params: dict[str, Any] = {"f": query.date_from, "t": query.date_to, "b": actor.branch_code,
                                  "n": limit + 1, "o": offset}
        if query.wallet.strip():
            where.append("w.number = :w")
            params["w"] = "".join(query.wallet.split())
        if query.teller.strip():
            where.append("s.username = :u")
            params["u"] = clean_text(query.teller, limit=64)
        if query.amount is not None:
            where.append("(p.amount = :amt OR p.amount = -:amt)")
            params["amt"] = query.amount.minor
        if reference:
            where.append("e.reference LIKE :r ESCAPE '\\'")
            params["r"] = _like(reference)
        sql = ("SELECT e.id, e.reference, e.posted_at, e.business_date, e.kind, s.username, w.number, p.amount, "
               "w.currency FROM journal_entry e JOIN posting p ON p.entry_id = e.id "
               "JOIN wallet w ON w.account_id = p.account_id LEFT JOIN staff s ON s.id = e.actor_id "
               f"WHERE {' AND '.join(where)} ORDER BY e.seq DESC, p.id LIMIT :n OFFSET :o")
        with self.db.read() as s:
            found = s.execute(text(sql), params).all()
        conv = UTCDateTime()
        rows: list[JournalRow] = []
        for r in found[:limit]:
            raw = r.posted_at if isinstance(r.posted_at, datetime) else datetime.fromisoformat(str(r.posted_at))
            posted = conv.process_result_value(raw, None)
            assert posted is not None
            bdate = r.business_date if isinstance(r.business_date, date) else date.fromisoformat(str(r.business_date))
            rows.append(JournalRow(int(r.id), r.reference, posted, bdate, r.kind, r.username or "", r.number,
                                   Money(-int(r.amount), r.currency)))
        return JournalPage(rows, len(found) > limit, offset, limit)
