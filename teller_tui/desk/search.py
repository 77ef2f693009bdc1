"""Customer search: one field, whatever the teller typed (the SQL for SQLite and PostgreSQL).

Public API::

    page = search_customers(db, "王芳", limit=20, offset=0)   # -> SearchPage (CustomerService.search)
    kind = classify(clean_query(raw))                        # what a query looks like

``search`` takes whatever the teller typed in ONE field and decides what it is
(``SearchPage.query_kind``):

* ``phone``     11 digits starting with 1: exact phone, else phone prefix (>= 3 digits);
* ``id``        an 18-character PRC ID (exact) or >= 3 digits / digits+X: ID substring;
* ``digits``    3-10 digits: phone prefix, the phone's last 4-10 digits (with the name shown to tell
                people apart), ID substring, wallet-number and customer-number prefix;
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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, text

from teller_tui.common.masks import mask_document_number, mask_phone
from teller_tui.common.text import clean_text
from teller_tui.desk.customer_views import CustomerHit, SearchPage
from teller_tui.desk.search_grams import GramSampler

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.db.engine import Database

_CJK_RE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_IDFRAG_RE = re.compile(r"^\d+X?$")
_LATIN_RE = re.compile(r"^[a-z][a-z' .\-]*$")
_CUSTNO_RE = re.compile(r"^[A-Z]+\d+$")
MAX_QUERY = 64


def clean_query(raw: str) -> str:
    """What was typed, NFKC-folded (full-width digits and letters become ASCII) and sanitised."""
    return clean_text(unicodedata.normalize("NFKC", str(raw)), limit=MAX_QUERY)


def _upper_bound(prefix: str) -> str:
    return prefix + "\U0010ffff"


def _fts_phrase_and(fragment: str, *, every: bool = False, grams: list[str] | None = None) -> str:
    """An FTS5 query matching trigrams of ``fragment`` (verified by the caller): ``grams`` when
    given (the rarest, :mod:`teller_tui.desk.search_grams`), else as below.

    A covering subset (every third trigram and the last) is enough for names: the caller
    verifies the whole fragment, and fewer doclists keep long fragments fast. ``every`` asks
    for all trigrams: digit trigrams are shared by very many ID numbers (a birth year), so a
    subset lets through hundreds of candidates that each cost a row lookup to reject; all of
    them cut the candidates ~10x (a birth-date search at 1M customers: ~10 ms -> ~2-5 ms)."""
    if grams is None:
        if every:
            starts = list(range(len(fragment) - 2))
        else:
            starts = sorted(set(range(0, len(fragment) - 2, 3)) | {len(fragment) - 3})
        grams = sorted({fragment[i:i + 3] for i in starts})
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


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
        return [int(r[0]) for r in self.s.execute(text(sql), params)]

    def rows_for(self, sql: str, ids: list[int]) -> list[Any]:
        """The rows of ``sql`` (its ``IN :ids`` given ``ids``)."""
        return list(self.s.execute(text(sql).bindparams(bindparam("ids", expanding=True)), {"ids": ids}))

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

    #: The ID number's last four characters as its tail index has them (SQLite / PostgreSQL).
    _ID_TAIL = "substr(id_number, -4)"
    _ID_END = "substr(upper(id_number), -:k)"

    def id_birth(self, fragment: str, n: int) -> list[int]:
        """ID numbers with ``fragment`` at the birth date (position 7): the expression index on
        ``substr(id_number, 7, 8)`` (migration 0090_id_parts), a range on its first 8 characters."""
        head = fragment[:8]
        return self._ids(f"SELECT id FROM customer WHERE {_ID_BIRTH} >= :lo AND {_ID_BIRTH} < :hi "
                         f"AND substr(upper(id_number), 7, :k) = :f ORDER BY {_ID_BIRTH}, id LIMIT :n",
                         lo=head, hi=_upper_bound(head), k=len(fragment), f=fragment, n=n)

    def id_tail(self, fragment: str, n: int) -> list[int]:
        """ID numbers ending in ``fragment`` (4+ characters): the index on their last four."""
        return self._ids(f"SELECT id FROM customer WHERE {self._ID_TAIL} = :tail "
                         f"AND {self._ID_END} = :f ORDER BY id LIMIT :n",
                         tail=fragment[-4:], k=len(fragment), f=fragment, n=n)

    def substring(self, column: str, fragment: str, n: int) -> list[int]:
        raise NotImplementedError

    def phone_suffix(self, digits: str, n: int) -> list[int]:
        raise NotImplementedError

    def name_infix2(self, fragment: str, n: int) -> list[int]:
        raise NotImplementedError


#: The ID number's birth date (characters 7-14) as its index has it (both dialects).
_ID_BIRTH = "substr(id_number, 7, 8)"


class _SqliteSearch(_SearchSql):
    """``grams``: trigram frequencies to ask FTS5 for the rarest trigrams of an ID-number or
    pinyin fragment (None: every ID trigram, a covering subset of pinyin ones)."""

    def __init__(self, session: Session, grams: GramSampler | None = None) -> None:
        super().__init__(session)
        self.grams = grams
        self._raw: Any = None

    def _driver(self) -> Any:
        # The session's own connection and transaction, through the driver: sqlite3 keeps the
        # prepared statements, and a lookup's 5-11 small queries lose SQLAlchemy's ~0.1-0.5 ms each.
        if self._raw is None:
            self._raw = self.s.connection().connection.driver_connection
        return self._raw

    def _ids(self, sql: str, **params: Any) -> list[int]:
        return [int(r[0]) for r in self._driver().execute(sql, params)]

    def rows_for(self, sql: str, ids: list[int]) -> list[Any]:
        marks = ", ".join("?" * len(ids))
        return list(self._driver().execute(sql.replace(":ids", f"({marks})"), ids))

    _FTS_COLUMN = {"id_number": "id_number", "full_name": "full_name", "latin": "latin"}
    _VERIFY = {"id_number": "instr(upper(c.id_number), :frag) > 0", "full_name": "instr(c.full_name, :frag) > 0",
               "latin": "instr(replace(c.name_latin, ' ', ''), :frag) > 0"}

    def substring(self, column: str, fragment: str, n: int) -> list[int]:
        if len(fragment) < 3:
            return []
        sample = self.grams.sample(self.s) if self.grams is not None and column != "full_name" else None
        picked = sample.pick(column, fragment) if sample is not None else None
        match = f"{self._FTS_COLUMN[column]} : ({_fts_phrase_and(fragment, every=column == 'id_number', grams=picked)})"
        return self._ids(
            "SELECT c.id FROM customer_fts f JOIN customer c ON c.id = f.rowid "
            f"WHERE customer_fts MATCH :m AND {self._VERIFY[column]} ORDER BY f.rowid LIMIT :n",
            m=match, frag=fragment, n=n)

    def name_infix2(self, fragment: str, n: int) -> list[int]:
        return self._ids("SELECT customer_id FROM customer_name_gram WHERE gram = :g ORDER BY customer_id LIMIT :n",
                         g=fragment, n=n)

    def phone_suffix(self, digits: str, n: int) -> list[int]:
        # substr(phone, -4) is the indexed expression (migration 0050_phone_tail), written literally.
        return self._ids("SELECT id FROM customer WHERE substr(phone, -4) = :tail AND substr(phone, -:k) = :v "
                         "ORDER BY id LIMIT :n", tail=digits[-4:], k=len(digits), v=digits, n=n)


def _like_escape(text: str) -> str:
    """Escape LIKE wildcards (PostgreSQL's default escape character is backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _PostgresSearch(_SearchSql):
    """pg_trgm GIN indexes (migration 0003) serve LIKE '%x%' for >= 3 characters."""

    # The expressions match the indexes exactly (else PostgreSQL scans); ILIKE on the ID column
    # (ix_customer_trgm_id is on plain id_number) equals SQLite's upper(id_number) check.
    _ID_TAIL = "right(id_number, 4)"
    _ID_END = "right(upper(id_number), :k)"
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

    def phone_suffix(self, digits: str, n: int) -> list[int]:
        return self._ids("SELECT id FROM customer WHERE right(phone, 4) = :tail AND right(phone, :k) = :v "
                         "ORDER BY id LIMIT :n", tail=digits[-4:], k=len(digits), v=digits, n=n)


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


def _sql(session: Session, dialect: str, grams: GramSampler | None = None) -> _SearchSql:
    if dialect == "postgresql":
        return _PostgresSearch(session)
    return _SqliteSearch(session, grams)


def search_customers(db: Database, query: str, *, limit: int = 20, offset: int = 0,
                     grams: GramSampler | None = None) -> SearchPage:
    """One page of customers matching what the teller typed (see the module docstring).
    ``grams`` (SQLite): trigram frequencies for the substring searches; same answers, faster."""
    q = clean_query(query)
    kind = classify(q)
    limit = max(1, min(int(limit), 200))
    offset = max(0, int(offset))
    if kind in ("empty", "too_short"):
        return SearchPage(q, kind, [], False, offset, limit)
    n = offset + limit + 1
    with db.read() as s:
        seen: set[int] = set()
        ordered: list[tuple[int, _Source]] = []
        # Sources come best-ranked first and each is already limited to ``n``: once ``n``
        # distinct customers are in hand, no later (worse-ranked) source can change the page
        # or ``has_more``, so the remaining searches are skipped (a phone prefix rarely needs
        # the ID-fragment search behind it).
        sql = _sql(s, db.dialect, grams)
        for src in _sources(sql, q, kind, n):
            for cid in src.ids:
                if cid not in seen:
                    seen.add(cid)
                    ordered.append((cid, src))
            if len(ordered) >= n:
                break
        page = ordered[offset:offset + limit]
        hits = _hydrate(sql, page)
    return SearchPage(q, kind, hits, len(ordered) > offset + limit, offset, limit)


def _sources(sql: _SearchSql, q: str, kind: str, n: int) -> Iterator[_Source]:
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
            yield from _id_fragment_sources(sql, digits, n)
        return
    # phone / wallet / digits
    if len(digits) == 11:
        yield _Source(0, "phone", sql.exact("phone", digits, n))
    yield _Source(0, "wallet", sql.wallet_exact(digits, n))
    yield _Source(0, "customer_no", sql.exact("customer_no", digits, n))
    if digits.startswith("1") and len(digits) < 11:
        yield _Source(1, "phone", sql.prefix("phone", digits, n))
    if 4 <= len(digits) < 11 and kind == "digits":  # the last digits of a phone ("8000")
        yield _Source(1, "phone_tail", sql.phone_suffix(digits, n))
    if len(digits) < 16:
        yield _Source(1, "wallet", sql.wallet_prefix(digits, n))
    if kind != "wallet":  # a 16-digit wallet-shaped number: skip the ID-fragment search
        yield from _id_fragment_sources(sql, digits, n)


def _id_fragment_sources(sql: _SearchSql, fragment: str, n: int) -> Iterator[_Source]:
    """An ID-number fragment where people read it from, each by its own index: the start (the
    region code), the birth date (position 7), the end (the last 4+ characters); then anywhere
    (the trigram index), asked only when those leave the page short. The trigram search alone
    reads the doclists of digit trigrams that very many ID numbers share (``198``), ~10-25 ms at
    a million customers; the positional ones take well under a millisecond."""
    if len(fragment) < 3:
        return
    yield _Source(2, "id_number", sql.prefix("id_number", fragment, n))
    if len(fragment) <= 12 and fragment[:1] in "12":  # a birth date starts with its century
        yield _Source(2, "id_number", sql.id_birth(fragment, n))
    if len(fragment) >= 4:
        yield _Source(2, "id_number", sql.id_tail(fragment, n))
    yield _Source(2, "id_number", sql.substring("id_number", fragment, n))


def _hydrate(sql: _SearchSql, page: list[tuple[int, _Source]]) -> list[CustomerHit]:
    """The page's rows: only the columns a hit shows, two queries for the whole page."""
    ids = [cid for cid, _src in page]
    if not ids:
        return []
    rows = {int(r[0]): r for r in sql.rows_for(
        "SELECT id, customer_no, full_name, name_latin, phone, id_type, id_number FROM customer WHERE id IN :ids", ids)}
    wallets: dict[int, list[str]] = {}
    for cid, number in sql.rows_for(
            "SELECT customer_id, number FROM wallet WHERE customer_id IN :ids AND status != 'closed' "
            "ORDER BY customer_id, tier, id", ids):
        wallets.setdefault(int(cid), []).append(number)
    hits = []
    for cid, src in page:
        r = rows.get(cid)
        if r is None:
            continue
        _id, customer_no, full_name, name_latin, phone, id_type, id_number = r
        hits.append(CustomerHit(cid, customer_no, full_name, name_latin, phone, mask_phone(phone),
                                mask_document_number(id_number, id_type), tuple(wallets.get(cid, ())), src.match_kind,
                                src.rank == 0, src.rank))
    return hits
