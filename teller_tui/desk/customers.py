"""Customer lookup and the customer profile (the teller desk's read side).

Public API (stable; the desk UI codes against it)::

    svc = CustomerService(db, clock, settings)          # services.customers
    page = svc.search("王芳", limit=20, offset=0)        # -> SearchPage
    view = svc.get_customer(customer_id)                 # -> CustomerView
    hist = svc.wallet_history(wallet_id, limit=20, before_seq=None)   # -> HistoryPage
    svc.add_note(actor, customer_id, "text")             # -> NoteView

``search`` takes whatever the teller typed in ONE field and decides what it is
(``SearchPage.query_kind``):

* ``phone``     11 digits starting with 1: exact phone, else phone prefix (>= 3 digits);
* ``id``        an 18-character PRC ID (exact) or >= 3 digits / digits+X: ID substring;
* ``digits``    3-10 digits: phone prefix, ID substring, wallet-number and customer-number prefix;
* ``wallet``    a wallet number (exact or prefix) - digits queries also try wallets;
* ``name``      Chinese characters: 1-2 chars -> name prefix (B-tree) + 2-char infix
                (``customer_name_gram`` table); >= 3 chars -> exact/prefix + FTS5 trigram substring;
* ``latin``     letters (pinyin or latin spelling, e.g. ``zhang wei`` / ``zhangwei``):
                exact/prefix on ``name_latin`` + trigram substring over the space-less spelling;
* ``too_short`` / ``empty``: nothing searched.

Results are ranked exact (``CustomerHit.rank`` 0), then prefix (1), then substring (2), and paged
with ``limit``/``offset``; ``has_more`` says whether another page exists. The hit carries the
full phone (for the teller to read back to the customer) and masked forms for display.

Dialect-specific SQL lives in :class:`_SqliteSearch` / :class:`_PostgresSearch` only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from teller_tui.common.i18n import N_
from teller_tui.common.money import Money
from teller_tui.ledger.business_day import current_business_date
from teller_tui.wallets.views import WalletLimits, WalletView, wallet_views

#: Labels for stored codes, marked for translation; screens show ``_(LABEL[code])``.
KYC_LABELS: dict[str, str] = {
    "in_person": N_("ID seen in person"),
    "real_name_bank": N_("real name + own bank account"),
    "real_name": N_("real name"),
    "mobile": N_("mobile number only"),
    "none": N_("not verified"),
}
RISK_LABELS: dict[str, str] = {"low": N_("low"), "medium": N_("medium"), "high": N_("high")}

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlmodel import Session

    from teller_tui.audit.trail import Actor
    from teller_tui.common.clock import Clock
    from teller_tui.db.engine import Database
    from teller_tui.common.settings import Settings


# -- read models -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CustomerHit:
    customer_id: int
    customer_no: str
    full_name: str
    name_latin: str
    phone: str
    phone_masked: str
    id_number_masked: str  # "" for anonymous customers
    wallet_numbers: tuple[str, ...]
    match_kind: str  # phone | id_number | name | name_latin | wallet | customer_no
    exact: bool
    rank: int = 0  # 0 exact, 1 prefix, 2 substring


@dataclass(frozen=True, slots=True)
class SearchPage:
    query: str
    query_kind: str  # phone | id | digits | name | latin | wallet | too_short | empty
    results: list[CustomerHit]
    has_more: bool
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True, slots=True)
class LinkedAccountView:
    linked_id: int
    kind: str
    bank_name: str
    masked: str
    wallet_id: int | None


@dataclass(frozen=True, slots=True)
class NoteView:
    note_id: int
    at: datetime
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class CustomerView:
    customer_id: int
    customer_no: str
    full_name: str
    name_latin: str
    phone: str
    phone_masked: str
    id_type: str | None
    id_number_masked: str
    id_expiry: date | None
    identity_status: str  # none | valid | expires_soon | expired
    birth_date: date | None
    sex: str | None
    nationality: str
    address: str
    occupation: str
    risk_level: str
    kyc_level: str
    branch_code: str
    created_at: datetime
    pin_locked: bool
    wallets: list[WalletView]
    linked_accounts: list[LinkedAccountView]
    notes: list[NoteView]


@dataclass(frozen=True, slots=True)
class HistoryRow:
    entry_id: int
    seq: int
    reference: str
    posted_at: datetime
    business_date: date
    kind: str
    memo: str
    amount: Money  # signed: + credit to the wallet (money in), - money out
    running_balance: Money  # wallet balance right after this entry
    reversed: bool
    reversal_of: int | None  # entry id this entry reverses


@dataclass(frozen=True, slots=True)
class HistoryPage:
    wallet_id: int
    rows: list[HistoryRow]  # newest first
    next_before_seq: int | None  # pass as before_seq for the next (older) page; None = no more


# -- helpers shared with cash / receipts -----------------------------------------------------
_CJK_RE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_IDFRAG_RE = re.compile(r"^\d+X?$")
_LATIN_RE = re.compile(r"^[a-z][a-z' .\-]*$")
_CUSTNO_RE = re.compile(r"^[A-Z]+\d+$")
MAX_QUERY = 64


def clean_query(raw: str) -> str:
    text = unicodedata.normalize("NFKC", str(raw))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    return " ".join(text.split())[:MAX_QUERY]


def mask_phone(phone: str) -> str:
    try:
        from teller_tui.common.masks import mask_phone as _mp

        return str(_mp(phone))
    except (ImportError, Exception):  # noqa: BLE001 - fall back on any helper refusal
        pass
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return phone


def mask_id_number(number: str | None) -> str:
    if not number:
        return ""
    if len(number) <= 8:
        return number[:2] + "*" * max(len(number) - 2, 0)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def _upper_bound(prefix: str) -> str:
    return prefix + "\U0010ffff"


def _fts_phrase_and(fragment: str, *, every: bool = False) -> str:
    """An FTS5 query matching trigrams of ``fragment`` (verified by the caller).

    A covering subset (every third trigram and the last) is enough for names: the caller
    verifies the whole fragment, and fewer doclists keep long fragments fast. ``every`` asks
    for all trigrams: digit trigrams are shared by very many ID numbers (a birth year), so a
    subset lets through hundreds of candidates that each cost a row lookup to reject; all of
    them cut the candidates ~10x (a birth-date search at 1M customers: ~10 ms -> ~2-5 ms)."""
    if every:
        starts = list(range(len(fragment) - 2))
    else:
        starts = sorted(set(range(0, len(fragment) - 2, 3)) | {len(fragment) - 3})
    grams = {fragment[i:i + 3] for i in starts}
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in sorted(grams))


@dataclass(frozen=True, slots=True)
class _Source:
    rank: int
    match_kind: str
    ids: list[int]


class _SearchSql:
    """Portable exact/prefix lookups; subclasses supply the substring (dialect) part."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def _ids(self, sql: str, **params: Any) -> list[int]:
        from sqlalchemy import text

        return [int(r[0]) for r in self.s.execute(text(sql), params)]

    def exact(self, column: str, value: str, n: int) -> list[int]:
        return self._ids(f"SELECT id FROM customer WHERE {column} = :v ORDER BY id LIMIT :n", v=value, n=n)

    def prefix(self, column: str, value: str, n: int) -> list[int]:
        # A range, not LIKE: uses the index on every dialect and needs no escaping.
        return self._ids(f"SELECT id FROM customer WHERE {column} > :lo AND {column} < :hi "
                         f"ORDER BY {column}, id LIMIT :n", lo=value, hi=_upper_bound(value), n=n)

    def wallet_exact(self, number: str, n: int) -> list[int]:
        return self._ids("SELECT customer_id FROM wallet WHERE number = :v LIMIT :n", v=number, n=n)

    def wallet_prefix(self, number: str, n: int) -> list[int]:
        return self._ids("SELECT customer_id FROM wallet WHERE number > :lo AND number < :hi "
                         "ORDER BY number LIMIT :n", lo=number, hi=_upper_bound(number), n=n)

    def substring(self, column: str, fragment: str, n: int) -> list[int]:
        raise NotImplementedError

    def name_infix2(self, fragment: str, n: int) -> list[int]:
        raise NotImplementedError


class _SqliteSearch(_SearchSql):
    _FTS_COLUMN = {"id_number": "id_number", "full_name": "full_name", "latin": "latin"}
    _VERIFY = {"id_number": "instr(upper(c.id_number), :frag) > 0", "full_name": "instr(c.full_name, :frag) > 0",
               "latin": "instr(replace(c.name_latin, ' ', ''), :frag) > 0"}

    def substring(self, column: str, fragment: str, n: int) -> list[int]:
        if len(fragment) < 3:
            return []
        match = f"{self._FTS_COLUMN[column]} : ({_fts_phrase_and(fragment, every=column == 'id_number')})"
        return self._ids(
            "SELECT c.id FROM customer_fts f JOIN customer c ON c.id = f.rowid "
            f"WHERE customer_fts MATCH :m AND {self._VERIFY[column]} ORDER BY f.rowid LIMIT :n",
            m=match, frag=fragment, n=n)

    def name_infix2(self, fragment: str, n: int) -> list[int]:
        return self._ids("SELECT customer_id FROM customer_name_gram WHERE gram = :g ORDER BY customer_id LIMIT :n",
                         g=fragment, n=n)


def _like_escape(text: str) -> str:
    """Escape LIKE wildcards (PostgreSQL's default escape character is backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _PostgresSearch(_SearchSql):
    """pg_trgm GIN indexes (migration 0003) serve LIKE '%x%' for >= 3 characters."""

    # The expressions match the indexes exactly (else PostgreSQL scans); ILIKE on the ID column
    # (ix_customer_trgm_id is on plain id_number) equals SQLite's upper(id_number) check.
    _EXPR = {"id_number": "id_number ILIKE", "full_name": "full_name LIKE",
             "latin": "replace(name_latin, ' ', '') LIKE"}

    def substring(self, column: str, fragment: str, n: int) -> list[int]:
        if len(fragment) < 3:
            return []
        like = "%" + _like_escape(fragment) + "%"
        return self._ids(f"SELECT id FROM customer WHERE {self._EXPR[column]} :p ORDER BY id LIMIT :n",
                         p=like, n=n)

    def name_infix2(self, fragment: str, n: int) -> list[int]:
        # Same answers as SQLite's customer_name_gram table (migration 0003): CJK pairs only,
        # starting at character 2..8. (pg-helper: LIKE wildcards escaped; a bounded scan.)
        if len(fragment) != 2 or any(ord(ch) < 0x2E80 for ch in fragment):
            return []
        like = "_%" + _like_escape(fragment) + "%"
        positions = " OR ".join(f"substr(full_name, {i}, 2) = :g" for i in range(2, 9))
        return self._ids(f"SELECT id FROM customer WHERE full_name LIKE :p AND ({positions}) ORDER BY id LIMIT :n",
                         p=like, g=fragment, n=n)


def classify(query: str) -> str:
    """What a cleaned query looks like (see the module docstring for the kinds)."""
    if not query:
        return "empty"
    compact = query.replace(" ", "").replace("-", "").upper()
    if _CJK_RE.search(query):
        return "name"
    if compact.isdigit():
        if len(compact) < 3:
            return "too_short"
        if len(compact) == 11 and compact.startswith("1"):
            return "phone"
        if len(compact) == 18:
            return "id"
        if len(compact) == 16:
            return "wallet"
        return "digits"
    if _ID_RE.match(compact) or (_IDFRAG_RE.match(compact) and len(compact) >= 3):
        return "id"
    if _CUSTNO_RE.match(compact):
        return "customer_no"
    if _LATIN_RE.match(query.lower()):
        return "latin" if len(compact) >= 2 else "too_short"
    return "name"


class CustomerService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, tiers: Any = None) -> None:
        self.db, self.clock, self.settings = db, clock, settings
        self._tiers = tiers

    # -- search ----------------------------------------------------------------------------
    def _sql(self, session: Session) -> _SearchSql:
        return _PostgresSearch(session) if self.db.dialect == "postgresql" else _SqliteSearch(session)

    def search(self, query: str, *, limit: int = 20, offset: int = 0) -> SearchPage:
        q = clean_query(query)
        kind = classify(q)
        limit = max(1, min(int(limit), 200))
        offset = max(0, int(offset))
        if kind in ("empty", "too_short"):
            return SearchPage(q, kind, [], False, offset, limit)
        n = offset + limit + 1
        with self.db.read() as s:
            seen: set[int] = set()
            ordered: list[tuple[int, _Source]] = []
            # Sources come best-ranked first and each is already limited to ``n``: once ``n``
            # distinct customers are in hand, no later (worse-ranked) source can change the page
            # or ``has_more``, so the remaining searches are skipped (a phone prefix rarely needs
            # the ID-fragment search behind it).
            for src in self._sources(self._sql(s), q, kind, n):
                for cid in src.ids:
                    if cid not in seen:
                        seen.add(cid)
                        ordered.append((cid, src))
                if len(ordered) >= n:
                    break
            page = ordered[offset:offset + limit]
            hits = self._hydrate(s, page)
        return SearchPage(q, kind, hits, len(ordered) > offset + limit, offset, limit)

    def _sources(self, sql: _SearchSql, q: str, kind: str, n: int) -> Iterator[_Source]:
        """The sub-searches for ``q``, best rank first, each run only when the caller asks for it."""
        if kind == "name":
            name = q.replace(" ", "") if _CJK_RE.search(q) else q
            yield _Source(0, "name", sql.exact("full_name", name, n))
            yield _Source(1, "name", sql.prefix("full_name", name, n))
            if len(name) == 2:
                yield _Source(2, "name", sql.name_infix2(name, n))
            elif len(name) >= 3:
                yield _Source(2, "name", sql.substring("full_name", name, n))
            return
        if kind == "latin":
            spaced = q.lower()
            compact = spaced.replace(" ", "").replace("'", "").replace("-", "").replace(".", "")
            yield _Source(0, "name_latin", sql.exact("name_latin", spaced, n))
            yield _Source(1, "name_latin", sql.prefix("name_latin", spaced, n))
            if len(compact) >= 3:
                yield _Source(2, "name_latin", sql.substring("latin", compact, n))
            return
        if kind == "customer_no":
            value = q.replace(" ", "").upper()
            yield _Source(0, "customer_no", sql.exact("customer_no", value, n))
            yield _Source(1, "customer_no", sql.prefix("customer_no", value, n))
            return
        digits = q.replace(" ", "").replace("-", "").upper()
        if kind == "id":
            if len(digits) == 18:  # a whole ID number is only ever contained in itself
                yield _Source(0, "id_number", sql.exact("id_number", digits, n))
            else:
                yield _Source(2, "id_number", sql.substring("id_number", digits, n))
            return
        # phone / wallet / digits
        if len(digits) == 11:
            yield _Source(0, "phone", sql.exact("phone", digits, n))
        yield _Source(0, "wallet", sql.wallet_exact(digits, n))
        yield _Source(0, "customer_no", sql.exact("customer_no", digits, n))
        if digits.startswith("1") and len(digits) < 11:
            yield _Source(1, "phone", sql.prefix("phone", digits, n))
        if len(digits) < 16:
            yield _Source(1, "wallet", sql.wallet_prefix(digits, n))
        if kind != "wallet":  # a 16-digit wallet-shaped number: skip the ID-fragment search
            yield _Source(2, "id_number", sql.substring("id_number", digits, n))

    def _hydrate(self, s: Session, page: list[tuple[int, _Source]]) -> list[CustomerHit]:
        """The page's rows: only the columns a hit shows, two Core queries for the whole page."""
        from sqlalchemy import bindparam, text

        ids = [cid for cid, _src in page]
        if not ids:
            return []
        rows = {int(r[0]): r for r in s.execute(
            text("SELECT id, customer_no, full_name, name_latin, phone, id_number FROM customer "
                 "WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)), {"ids": ids})}
        wallets: dict[int, list[str]] = {}
        for cid, number in s.execute(
                text("SELECT customer_id, number FROM wallet WHERE customer_id IN :ids AND status != 'closed' "
                     "ORDER BY customer_id, tier, id").bindparams(bindparam("ids", expanding=True)), {"ids": ids}):
            wallets.setdefault(int(cid), []).append(number)
        hits = []
        for cid, src in page:
            r = rows.get(cid)
            if r is None:
                continue
            _id, customer_no, full_name, name_latin, phone, id_number = r
            hits.append(CustomerHit(cid, customer_no, full_name, name_latin, phone, mask_phone(phone),
                                    mask_id_number(id_number), tuple(wallets.get(cid, ())), src.match_kind,
                                    src.rank == 0, src.rank))
        return hits

    # -- profile ---------------------------------------------------------------------------
    def get_customer(self, customer_id: int) -> CustomerView:
        from sqlalchemy import select

        from teller_tui.common.clock import local_date
        from teller_tui.common.errors import NotFound
        from teller_tui.models import Customer, CustomerNote, LinkedAccount, Staff, Wallet

        today = local_date(self.clock.now())
        with self.db.read() as s:
            c = s.get(Customer, customer_id)
            if c is None:
                raise NotFound("No such customer", code="no_customer")
            wallet_rows = s.execute(select(Wallet).where(Wallet.customer_id == customer_id)
                                    .order_by(Wallet.tier, Wallet.id)).scalars().all()
            # Usage as every limit check counts it: by the branch's open business day.
            wallets = wallet_views(s, wallet_rows, current_business_date(s, self.settings.branch_code, self.clock),
                                   self._tiers)
            linked = [LinkedAccountView(la.id, la.kind, la.bank_name, la.masked, la.wallet_id)
                      for la in s.execute(select(LinkedAccount).where(LinkedAccount.customer_id == customer_id,
                                                                      LinkedAccount.removed_at.is_(None))
                                          .order_by(LinkedAccount.id)).scalars()]
            notes = [NoteView(nid, at, author or "", text) for nid, at, author, text in s.execute(
                select(CustomerNote.id, CustomerNote.at, Staff.username, CustomerNote.text)
                .outerjoin(Staff, Staff.id == CustomerNote.author_id)
                .where(CustomerNote.customer_id == customer_id)
                .order_by(CustomerNote.id.desc()).limit(50)).all()]
            if c.id_expiry is None:
                status = "none" if not c.id_number else "valid"
            elif c.id_expiry < today:
                status = "expired"
            elif (c.id_expiry - today).days <= 30:
                status = "expires_soon"
            else:
                status = "valid"
            assert c.id is not None
            return CustomerView(
                c.id, c.customer_no, c.full_name, c.name_latin, c.phone, mask_phone(c.phone), c.id_type,
                mask_id_number(c.id_number), c.id_expiry, status, c.birth_date, c.sex, c.nationality, c.address,
                c.occupation, c.risk_level, c.kyc_level, c.branch_code, c.created_at, c.pin_locked, wallets,
                linked, notes)

    def add_note(self, actor: Actor, customer_id: int, text: str) -> NoteView:
        from teller_tui.common.errors import NotFound, ValidationError
        from teller_tui.models import Customer, CustomerNote
        from teller_tui.desk.receipts import clean_text

        body = clean_text(text, 1000)
        if not body:
            raise ValidationError("A note cannot be empty", code="note_empty")

        def work(s: Session) -> NoteView:
            c = s.get(Customer, customer_id)
            if c is None:
                raise NotFound("No such customer", code="no_customer")
            note = CustomerNote(customer_id=customer_id, author_id=actor.staff_id, at=self.clock.now(), text=body)
            s.add(note)
            s.flush()
            assert note.id is not None
            from teller_tui.audit.trail import AuditTrail

            AuditTrail(self.clock).append(s, actor, "customer_note", subject=c.customer_no,
                                          detail={"note_id": note.id, "length": len(body)})
            return NoteView(note.id, note.at, actor.username, body)

        return self.db.write_retrying(work)

    # -- history ---------------------------------------------------------------------------
    def wallet_history(self, wallet_id: int, *, limit: int = 20, before_seq: int | None = None) -> HistoryPage:
        """A page of the wallet's entries, newest first, with the balance after each.

        The balance after the page's newest row is the current posted balance minus every
        newer posting (one indexed range sum over ``ix_posting_account_entry``)."""
        from sqlalchemy import text

        from teller_tui.common.errors import NotFound
        from teller_tui.models import LedgerAccount, Wallet

        limit = max(1, min(int(limit), 500))
        with self.db.read() as s:
            w = s.get(Wallet, wallet_id)
            if w is None:
                raise NotFound("No such wallet", code="no_wallet")
            acct = s.get(LedgerAccount, w.account_id)
            assert acct is not None
            balance = acct.credits_posted - acct.debits_posted  # wallet: credit-normal
            params: dict[str, Any] = {"a": w.account_id, "n": limit + 1}
            cond = ""
            if before_seq is not None:
                boundary = s.execute(text("SELECT id FROM journal_entry WHERE seq >= :q ORDER BY seq LIMIT 1"),
                                     {"q": before_seq}).scalar()
                if boundary is not None:
                    newer = s.execute(text("SELECT coalesce(sum(amount), 0) FROM posting "
                                           "WHERE account_id = :a AND entry_id >= :b"),
                                      {"a": w.account_id, "b": boundary}).scalar_one()
                    balance += int(newer)  # undo newer postings (debit +, so credit-normal adds back)
                    cond = "AND p.entry_id < :b"
                    params["b"] = boundary
            rows = s.execute(text(
                "SELECT p.entry_id, sum(p.amount) AS amt, e.seq, e.reference, e.posted_at, e.business_date, e.kind, "
                "e.memo, e.reverses_entry_id, "
                "EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id) AS reversed "
                "FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
                f"WHERE p.account_id = :a {cond} GROUP BY p.entry_id ORDER BY p.entry_id DESC LIMIT :n"),
                params).all()
            from teller_tui.models.types import UTCDateTime
            from datetime import date as _date

            conv = UTCDateTime()
            out: list[HistoryRow] = []
            for r in rows[:limit]:
                amount = -int(r.amt)
                posted = r.posted_at if isinstance(r.posted_at, datetime) else datetime.fromisoformat(str(r.posted_at))
                posted = conv.process_result_value(posted, None)
                bdate = r.business_date if isinstance(r.business_date, _date) else _date.fromisoformat(
                    str(r.business_date))
                out.append(HistoryRow(int(r.entry_id), int(r.seq), r.reference, posted, bdate, r.kind, r.memo,
                                      Money(amount, w.currency), Money(balance, w.currency), bool(r.reversed),
                                      r.reverses_entry_id))
                balance -= amount
            more = len(rows) > limit
            return HistoryPage(wallet_id, out, out[-1].seq if more and out else None)
