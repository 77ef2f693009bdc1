"""The double-entry ledger: the only code that changes a balance.

Posting is one job done in one order inside one transaction — validate, lock the accounts in
id order, date by the business day, chain, write, update the cached totals — and it lives here,
with reversing and opening accounts. ``Ledger`` is the one class callers use; it is assembled
from parts by job: the hold life cycle (:mod:`teller_tui.ledger.holds`), balances and stored
entries (:mod:`teller_tui.ledger.reads`), and what they all share — row locks in id order, the
state and balance-limit checks, the statement cache (:mod:`teller_tui.ledger.base`).

Every function here runs inside the caller's write transaction (``Database.write()``), so
a service can check limits, post and audit in one atomic unit. Rules enforced here:

* an entry has at least two legs and sums to zero per currency;
* amounts are ints of minor units (floats and bools are a TypeError);
* each entry has an idempotency key: a retry with the same request returns the original
  result, the same key with a different request is a :class:`~teller_tui.common.errors.Conflict`;
* balance-limit flags (a wallet never below zero, a drawer never pays out cash it does not
  hold) count pending holds as well as posted amounts;
* frozen accounts refuse debits, closed accounts refuse everything;
* account rows are locked in id order (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
  ``BEGIN IMMEDIATE`` already holds the database write lock);
* legs across branches get inter-branch clearing legs (:mod:`teller_tui.ledger.clearing`, THE owner
  of that rule) before the request is hashed: each branch's trial balance stays zero;
* entries get a bank-wide unique ``seq`` and a gap-free ``branch_seq``, and are never dated
  before their branch's predecessor (the branch's ``ledger_chain_head`` row serializes a
  branch's postings, :mod:`teller_tui.ledger.chain`; branches post in parallel);
* the ledger dates every entry itself, by its branch's open business day (a request carries
  no date; counter postings without an open day are refused, self-service and automatic ones
  go to the next business day: :mod:`teller_tui.ledger.business_day`);
* holds past their time release their funds before any balance is judged, and reads of a
  balance leave them out (:mod:`teller_tui.ledger.holds`);
* holds resolve exactly once, and expiry is checked when a hold is resolved.

Request/result types live beside it (``requests.py``), as do the chart of accounts (``accounts.py``,
``kinds.py``), the chains (``chain.py``), inter-branch clearing (``clearing.py``) and usage days
(``usage.py``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update
from sqlmodel import col

from teller_tui.db import lean
from teller_tui.common.errors import Conflict, NotFound, ValidationError
from teller_tui.common.i18n import _
from teller_tui.models import JournalEntry, LedgerAccount, Posting
from teller_tui.common.money import currency as currency_info
from teller_tui.ledger.accounts import BALANCE_RULES, AccountKind, account_label, interbranch_code
from teller_tui.ledger.base import _ACCOUNT_COLUMNS, _sync_cached_account as _sync_cached_account, _stmt, _table
from teller_tui.ledger.clearing import clearing_name, clearing_nets
from teller_tui.ledger.business_day import Dating, next_business_date, open_business_date
from teller_tui.ledger.chain import link_entry, lock_branch_head, next_entry_seq
from teller_tui.ledger.holds import LedgerHolds
from teller_tui.ledger.reads import (  # read-backs, imported from here too
    LedgerReads,
    _balance as _balance,
    legs_total as legs_total,
    live_balance as live_balance,
    trial_balance as trial_balance,
)
from teller_tui.ledger.cash_day import track_cash_day
from teller_tui.ledger.usage import track_usage

if TYPE_CHECKING:
    from sqlmodel import Session


from teller_tui.ledger.requests import (  # the ledger's public types, imported from here too
    Balance as Balance,
    EntryRequest as EntryRequest,
    EntryResult as EntryResult,
    HoldRequest as HoldRequest,
    HoldResult as HoldResult,
    Leg as Leg,
    PostedLeg as PostedLeg,
    _differences as _differences,
    _require_int as _require_int,
    canonical_json as canonical_json,
    credit as credit,
    debit as debit,
    json_hash as json_hash,
    reference_for as reference_for,
    request_hash as request_hash,
)



class Ledger(LedgerHolds, LedgerReads):
    """Stateless apart from the clock; every method takes the caller's session.

    Posting, reversing and accounts live here; the hold life cycle in :class:`LedgerHolds`
    (:mod:`teller_tui.ledger.holds`), balances and stored entries in :class:`LedgerReads`
    (:mod:`teller_tui.ledger.reads`), row locks and limit checks in :mod:`teller_tui.ledger.base`.
    """

    # -- accounts ------------------------------------------------------------------------
    def open_account(self, session: Session, *, code: str, name: str, kind: AccountKind | str,
                     currency: str = "CNY", branch_code: str) -> int:
        """Create an account, or return the id of the existing one with that code."""
        kind = AccountKind(kind)
        currency_info(currency)
        existing = session.execute(select(col(LedgerAccount.id), col(LedgerAccount.kind), col(LedgerAccount.currency))
                                   .where(col(LedgerAccount.code) == code)).first()
        if existing is not None:
            if existing.kind != kind or existing.currency != currency:
                raise Conflict(f"Account {code} exists with another kind or currency", code="account_conflict")
            return int(existing.id)
        dr_limit, cr_limit = BALANCE_RULES[kind]
        account = LedgerAccount(code=code, name=name, kind=kind.value, currency=currency, branch_code=branch_code,
                                debits_must_not_exceed_credits=dr_limit, credits_must_not_exceed_debits=cr_limit,
                                opened_at=self.clock.now())
        session.add(account)
        session.flush()
        assert account.id is not None
        return account.id

    def account_id(self, session: Session, code: str) -> int:
        found = session.execute(select(col(LedgerAccount.id)).where(col(LedgerAccount.code) == code)).scalar()
        if found is None:
            raise NotFound(f"No ledger account {code}", code="no_account")
        return int(found)

    def set_status(self, session: Session, account_id: int, status: str) -> None:
        """Freeze, unfreeze or close an account. Closing needs a zero balance and no holds."""
        if status not in ("active", "frozen", "closed"):
            raise ValidationError(f"Unknown account status {status!r}")
        acct = self._lock(session, [account_id])[account_id]
        if acct.status == "closed":
            raise Conflict("A closed account cannot change state", code="account_closed")
        if status == "closed":
            if acct.debits_posted != acct.credits_posted or acct.debits_pending or acct.credits_pending:
                raise Conflict("An account closes only at zero with no pending holds", code="close_nonzero")
        session.execute(update(LedgerAccount).where(col(LedgerAccount.id) == account_id).values(
            status=status, closed_at=self.clock.now() if status == "closed" else None))

    # -- posting --------------------------------------------------------------------------
    def post(self, session: Session, req: EntryRequest, *, reverses_entry_id: int | None = None,
             hold_id: int | None = None, _skip_limits: bool = False, key_unused: bool = False) -> EntryResult:
        """Post a balanced entry atomically, or return the original for a repeated key.

        ``key_unused``: the caller looked the idempotency key up in this same write transaction
        (:meth:`key_entry`) and found no entry, so it is not read a second time."""
        if len(req.legs) < 2:
            raise ValidationError("A journal entry needs at least two postings", code="entry_legs")
        totals: dict[str, int] = defaultdict(int)
        for leg in req.legs:
            totals[leg.currency] += leg.amount
        unbalanced = {c: t for c, t in totals.items() if t != 0}
        if unbalanced:
            raise ValidationError(f"Entry does not balance: {unbalanced}", code="entry_unbalanced")
        if not req.idempotency_key or len(req.idempotency_key) > 80:
            raise ValidationError("An idempotency key of 1–80 characters is required", code="idempotency_key")

        head = lock_branch_head(self._flushed(session), req.branch_code)
        accounts = self._lock(session, {leg.account_id for leg in req.legs})
        # Legs across branches get their inter-branch clearing legs (teller_tui.ledger.clearing),
        # before the request is hashed: a retry re-derives the same legs. A reversal mirrors its
        # original exactly (invariant 7), clearing legs included: nothing is added to it.
        nets = clearing_nets(((leg.account_id, leg.amount, leg.currency) for leg in req.legs),
                             {a: str(row.branch_code) for a, row in accounts.items()}) \
            if reverses_entry_id is None else {}
        if nets:
            clearing = self._clearing_accounts(session, set(nets))
            accounts.update({int(row.id): row for row in clearing.values()})
            req = replace(req, legs=req.legs + tuple(
                Leg(int(clearing[key].id), -net, key[1]) for key, net in nets.items()))
        canonical = req.canonical()
        canonical["reverses_entry_id"] = reverses_entry_id
        canonical["hold_id"] = hold_id
        request_json = canonical_json(canonical)  # once: stored, and hashed (request_hash)
        digest = json_hash(request_json)
        replay = None if key_unused else self._replay(session, req.idempotency_key, digest, canonical)
        if replay is not None:
            return replay

        per_account: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # debits, credits
        for leg in req.legs:
            if leg.amount > 0:
                per_account[leg.account_id][0] += leg.amount
            else:
                per_account[leg.account_id][1] += -leg.amount
        # Holds past their time release their funds first (invariant 9); only an account with
        # pending amounts can have one, so the common case reads no holds.
        if any(a.debits_pending or a.credits_pending for a in accounts.values()) \
                and self._expire_overdue(session, per_account, keep=hold_id):
            accounts = self._lock(session, per_account)  # their pending totals changed
        for account_id, (dr, cr) in per_account.items():
            acct = accounts.get(account_id)
            if acct is None:
                raise NotFound(f"No ledger account {account_id}", code="no_account")
            leg_currencies = {leg.currency for leg in req.legs if leg.account_id == account_id}
            if leg_currencies != {acct.currency}:
                raise ValidationError(_("The currency does not match: {account} holds {currency}.").format(
                    account=account_label(acct.kind), currency=acct.currency), code="currency_mismatch",
                    account=acct.code)
            self._check_state(acct, dr, cr)
            if not _skip_limits:
                self._check_limits(acct, dr, cr, pending=False)

        now = self.clock.now()
        posted_at = max(now, head.last_at) if head.last_at else now  # never before the branch's last entry
        # The ledger dates the entry (invariant 14): the branch's open day, else the dating rule.
        # A counter posting locks the day's row so the day cannot close before it commits; a
        # self-service posting does not (the kiosk's database role may not lock rows it cannot
        # update): racing a close, it keeps the day that was open when it was posted, which
        # `ledger verify` accepts, and never takes a day that had already closed.
        open_date = open_business_date(session, req.branch_code, lock=req.dating == Dating.COUNTER)
        if open_date is None and req.dating == Dating.COUNTER:
            raise Conflict(_("No business day is open at this branch."), code="no_business_day")
        business_date = open_date or next_business_date(session, req.branch_code, self.clock)
        # No entry is dated before its branch's predecessor (invariant 12).
        last_date = head.last_date
        if last_date is not None and business_date < last_date:
            if open_date is not None:
                raise ValidationError(f"Business date {business_date} is before the last entry's ({last_date})",
                                      code="business_date_backwards")
            business_date = last_date  # no day open: a later day, never a closed one
        seq = next_entry_seq(session, lean.dialect_name(session))
        reference = reference_for(seq, business_date)
        je = _table(JournalEntry)
        # Core statements (no ORM objects, no flush, no identity map): the rows were locked above.
        values = dict(
            seq=seq, idempotency_key=req.idempotency_key, request_hash=digest,
            request_json=request_json, kind=req.kind, reference=reference, memo=req.memo,
            actor_id=req.actor_id, terminal_id=req.terminal_id, branch_code=req.branch_code,
            business_date=business_date, posted_at=posted_at, customer_id=req.customer_id,
            reverses_entry_id=reverses_entry_id, hold_id=hold_id,
        )
        # The branch's hash chain (invariant 16): one hash, from the values being written.
        link_entry(session, head, values, ((leg.account_id, leg.currency, leg.amount) for leg in req.legs))
        entry_id = int(lean.scalar_one(session, _stmt("entry_insert", lambda: je.insert().returning(je.c.id)), values,
                                       insert=True))
        lean.run_many(session, _stmt("posting_insert", lambda: _table(Posting).insert()), [
            {"entry_id": entry_id, "account_id": leg.account_id, "currency": leg.currency, "amount": leg.amount}
            for leg in req.legs
        ], insert=True)
        la = _table(LedgerAccount)
        add_totals = _stmt("account_add_posted", lambda: la.update().where(la.c.id == bindparam("acct")).values(
            debits_posted=la.c.debits_posted + bindparam("dr"), credits_posted=la.c.credits_posted + bindparam("cr")))
        totals_after: list[tuple[int, int, int]] = []
        # One executemany, in account-id order as locked.
        lean.run_many(session, add_totals, [{"acct": a, "dr": dr, "cr": cr}
                                            for a, (dr, cr) in sorted(per_account.items())])
        for account_id, (dr, cr) in sorted(per_account.items()):
            acct = accounts[account_id]
            totals_after.append((account_id, acct.debits_posted + dr, acct.credits_posted + cr))
            _sync_cached_account(session, account_id, debits_posted=acct.debits_posted + dr,
                                 credits_posted=acct.credits_posted + cr)
        track_usage(session, accounts, per_account, business_date, reverses_entry_id)  # the wallets' days
        track_cash_day(session, req, accounts, business_date, reverses_entry_id)  # tellers' and customers' cash days
        return EntryResult(
            entry_id=entry_id, seq=seq, reference=reference, kind=req.kind, posted_at=posted_at,
            business_date=business_date,
            legs=tuple(PostedLeg(leg.account_id, accounts[leg.account_id].code, leg.amount, leg.currency)
                       for leg in req.legs),
            memo=req.memo, customer_id=req.customer_id, reverses_entry_id=reverses_entry_id,
            totals=tuple(totals_after),
        )

    def reverse(self, session: Session, entry_id: int, *, idempotency_key: str, actor_id: int | None,
                terminal_id: str, memo: str = "", dating: Dating = Dating.AFTER_HOURS) -> EntryResult:
        """Post a new entry that undoes ``entry_id``. An entry can be reversed once."""
        original = session.get(JournalEntry, entry_id)
        if original is None:
            raise NotFound(f"No journal entry {entry_id}", code="no_entry")
        if original.reverses_entry_id is not None:
            raise Conflict("A reversal cannot itself be reversed", code="reverse_reversal")
        legs = session.execute(select(col(Posting.account_id), col(Posting.amount), col(Posting.currency))
                               .where(col(Posting.entry_id) == entry_id).order_by(col(Posting.id))).all()
        req = EntryRequest(
            idempotency_key=idempotency_key, kind="reversal",
            legs=tuple(Leg(r.account_id, -r.amount, r.currency) for r in legs),
            actor_id=actor_id, terminal_id=terminal_id, branch_code=original.branch_code,
            memo=memo or f"Reversal of {original.reference}", customer_id=original.customer_id,
            meta={"reverses": original.reference}, dating=dating,
        )
        # A replay of the same reversal returns the original result before the "reversed
        # once" check, so a retried reversal is not reported as a conflict.
        already = session.execute(select(col(JournalEntry.id))
                                  .where(col(JournalEntry.reverses_entry_id) == entry_id)).scalar()
        existing_key = session.execute(select(col(JournalEntry.id)).where(
            col(JournalEntry.idempotency_key) == idempotency_key)).scalar()
        if already is not None and existing_key != already:
            raise Conflict(f"Entry {original.reference} has already been reversed", code="already_reversed",
                           reference=original.reference)
        return self.post(session, req, reverses_entry_id=entry_id)

    def _clearing_accounts(self, session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The inter-branch clearing account of each (branch, currency), opened on first use, locked
        after the entry's other accounts (out of id order: no cycle, as on PostgreSQL a posting that
        moves one holds both branches' lock keys, or the bank-wide key alone: teller_tui.db.scopes)."""
        codes = {interbranch_code(branch, cur): (branch, cur) for branch, cur in keys}
        la = _table(LedgerAccount)
        stmt = _stmt("clearing_lock", lambda: select(*_ACCOUNT_COLUMNS(la)).where(
            la.c.code.in_(bindparam("codes", expanding=True))).order_by(la.c.id).with_for_update())
        rows = session.execute(stmt, {"codes": sorted(codes)}).all()
        missing = set(codes) - {str(row.code) for row in rows}
        for code in sorted(missing):
            branch, cur = codes[code]
            self.open_account(session, code=code, name=clearing_name(branch), kind=AccountKind.SETTLEMENT,
                              currency=cur, branch_code=branch)
        if missing:
            rows = session.execute(stmt, {"codes": sorted(codes)}).all()
        return {codes[str(row.code)]: row for row in rows}

    def _replay(self, session: Session, key: str, digest: str, canonical: dict[str, Any]) -> EntryResult | None:
        je = _table(JournalEntry)
        found = lean.first(session, _stmt("entry_by_key", lambda: select(je.c.id, je.c.request_hash, je.c.request_json)
                                          .where(je.c.idempotency_key == bindparam("key"))), {"key": key})
        if found is None:
            return None
        if found.request_hash != digest:
            diff = _differences(json.loads(found.request_json), canonical)
            raise Conflict(f"Idempotency key reused with a different request ({', '.join(diff)})",
                           code="idempotency_conflict", fields=diff)
        entry = session.get(JournalEntry, found.id)
        assert entry is not None
        return self._result_for(session, entry, replayed=True)
