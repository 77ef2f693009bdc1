"""The customer profile (the teller desk's read side): customer view, wallet history, notes.

Public API (stable; the desk UI codes against it)::

    svc = CustomerService(db, clock, settings, audit=audit, tiers=tiers)   # services.customers
    page = svc.search("王芳", limit=20, offset=0)        # -> SearchPage (teller_tui.desk.search)
    view = svc.get_customer(customer_id)                 # -> CustomerView
    hist = svc.wallet_history(wallet_id, limit=20, before_seq=None)   # -> HistoryPage
    svc.add_note(actor, customer_id, "text")             # -> NoteView

The read models are in :mod:`teller_tui.desk.customer_views`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlmodel import col

from teller_tui.common.clock import local_date
from teller_tui.common.errors import NotFound, ValidationError
from teller_tui.common.masks import mask_document_number, mask_phone, mask_wallet
from teller_tui.common.money import Money
from teller_tui.common.text import clean_text
from teller_tui.desk.customer_views import (
    CustomerView, HistoryPage, HistoryRow, LinkedAccountView, NoteView, SearchPage,
)
from teller_tui.desk.search import search_customers
from teller_tui.desk.search_grams import GramSampler
from teller_tui.ledger.core import _balance
from teller_tui.models import Customer, CustomerNote, LedgerAccount, LinkedAccount, Staff, Wallet
from teller_tui.models.types import UTCDateTime
from teller_tui.ledger.business_day import current_business_date
from teller_tui.wallets.views import wallet_views
from teller_tui.auth.permissions import guarded

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.common.clock import Clock
    from teller_tui.common.settings import Settings
    from teller_tui.db.engine import Database
    from teller_tui.wallets.classes import TierTable


class CustomerService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, *, audit: AuditTrail, tiers: TierTable) -> None:
        self.db, self.clock, self.settings = db, clock, settings
        self.audit = audit
        self.tiers = tiers
        self._grams = GramSampler()  # which FTS trigrams are rare (sampled; a speed-up only)

    def search(self, query: str, *, limit: int = 20, offset: int = 0) -> SearchPage:
        """See :func:`teller_tui.desk.search.search_customers`."""
        return search_customers(self.db, query, limit=limit, offset=offset, grams=self._grams)

    # -- profile ---------------------------------------------------------------------------
    def get_customer(self, customer_id: int) -> CustomerView:
        with self.db.read() as s:
            c = s.get(Customer, customer_id)
            if c is None:
                raise NotFound("No such customer", code="no_customer")
            business_date = current_business_date(s, c.branch_code, self.clock)
            today = local_date(self.clock.now())  # documents expire by the calendar
            wallet_rows = s.execute(select(Wallet).where(col(Wallet.customer_id) == customer_id)
                                    .order_by(col(Wallet.tier), col(Wallet.id))).scalars().all()
            wallets = wallet_views(s, wallet_rows, business_date, self.tiers, now=self.clock.now())
            linked = [LinkedAccountView(la.id, la.kind, la.bank_name, la.masked, la.wallet_id)
                      for la in s.execute(select(LinkedAccount).where(col(LinkedAccount.customer_id) == customer_id,
                                                                      col(LinkedAccount.removed_at).is_(None))
                                          .order_by(col(LinkedAccount.id))).scalars()]
            notes = [NoteView(nid, at, author or "", text) for nid, at, author, text in s.execute(
                select(col(CustomerNote.id), col(CustomerNote.at), col(Staff.username), col(CustomerNote.text))
                .outerjoin(Staff, col(Staff.id) == col(CustomerNote.author_id))
                .where(col(CustomerNote.customer_id) == customer_id)
                .order_by(col(CustomerNote.id).desc()).limit(50)).all()]
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
                mask_document_number(c.id_number, c.id_type), c.id_expiry, status, c.birth_date, c.sex, c.nationality, c.address,
                c.occupation, c.risk_level, c.kyc_level, c.branch_code, c.created_at, c.pin_locked, wallets,
                linked, notes)

    @guarded("customers")
    def add_note(self, actor: Actor, customer_id: int, text: str) -> NoteView:
        body = clean_text(text, limit=1000)
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
            self.audit.append(s, actor, "customer_note", subject=c.customer_no,
                              detail={"note_id": note.id, "length": len(body)})
            return NoteView(note.id, note.at, actor.username, body)

        return self.db.write_retrying(work)

    # -- history ---------------------------------------------------------------------------
    def wallet_history(self, wallet_id: int, *, limit: int = 20, before_seq: int | None = None) -> HistoryPage:
        """A page of the wallet's entries, newest first, with the balance after each.

        The balance after the page's newest row is the current posted balance minus every
        newer posting (one indexed range sum over ``ix_posting_account_entry``)."""
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
                # e.id (the primary key) in GROUP BY: PostgreSQL then accepts e.* in the select list.
                f"WHERE p.account_id = :a {cond} GROUP BY p.entry_id, e.id ORDER BY p.entry_id DESC LIMIT :n"),
                params).all()
            conv = UTCDateTime()
            out: list[HistoryRow] = []
            for r in rows[:limit]:
                amount = -int(r.amt)
                raw = r.posted_at if isinstance(r.posted_at, datetime) else datetime.fromisoformat(str(r.posted_at))
                posted = conv.process_result_value(raw, None)
                assert posted is not None
                bdate = r.business_date if isinstance(r.business_date, date) else date.fromisoformat(
                    str(r.business_date))
                out.append(HistoryRow(int(r.entry_id), int(r.seq), r.reference, posted, bdate, r.kind, r.memo,
                                      Money(amount, w.currency), Money(balance, w.currency), bool(r.reversed),
                                      r.reverses_entry_id))
                balance -= amount
            more = len(rows) > limit
            return HistoryPage(wallet_id, out, out[-1].seq if more and out else None)
