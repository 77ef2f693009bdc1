"""The double-entry ledger: the only code that changes a balance.

Why one module of this size: posting is one job done in one order inside one transaction —
validate, lock the accounts in id order, date by the business day, chain, write, update the
cached totals — and holds are the same path in two phases; split, each piece would need the
others' locks and invariants in mind. Read models, kinds, accounts, dating, the hash chain and
hold expiry live in their own modules beside it.

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

Why one module of this size: posting, reversing and the hold life cycle share the same
locking order, balance-limit checks and cached-total updates; split apart, the rule "the
ledger is the only code that changes a balance" would span files that must change together.
Request/result types live beside it (``requests.py``), as do the chart of accounts (``accounts.py``,
``kinds.py``), the chains (``chain.py``), inter-branch clearing (``clearing.py``) and usage days
(``usage.py``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import col

from teller_tui.common.clock import Clock
from teller_tui.db import lean
from teller_tui.common.errors import Conflict, LimitExceeded, NotFound, ValidationError
from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _
from teller_tui.models import Hold, JournalEntry, LedgerAccount, Posting
from teller_tui.common.money import Money, currency as currency_info
from teller_tui.ledger.accounts import BALANCE_RULES, AccountKind, account_label, interbranch_code
from teller_tui.ledger.clearing import clearing_name, clearing_nets
from teller_tui.ledger.business_day import Dating, next_business_date, open_business_date
from teller_tui.ledger.chain import link_entry, lock_branch_head, next_entry_seq
from teller_tui.ledger.holds import overdue_reserved
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
    reference_for as reference_for,
    request_hash as request_hash,
)


_STATEMENTS: dict[str, Any] = {}


def _stmt(name: str, build: Any) -> Any:
    """A hot-path statement built once (on first use) with bind parameters, so each posting
    skips constructing it; SQLAlchemy's compiled cache then serves it directly."""
    stmt = _STATEMENTS.get(name)
    if stmt is None:
        stmt = _STATEMENTS[name] = build()
    return stmt


def _table(model: Any) -> Any:
    """The Core table of a model (statements on it skip the ORM: no identity map, no autoflush)."""
    return model.__table__


def _ACCOUNT_COLUMNS(la: Any) -> tuple[Any, ...]:  # noqa: N802 - reads like the constant it stands for
    return (la.c.id, la.c.code, la.c.kind, la.c.branch_code, la.c.currency, la.c.status,
            la.c.debits_must_not_exceed_credits, la.c.credits_must_not_exceed_debits, la.c.debits_posted, la.c.credits_posted, la.c.debits_pending,
            la.c.credits_pending)


def _sync_cached_account(session: Session, account_id: int, **values: int) -> None:
    """Keep a LedgerAccount already loaded in the session in step with a Core UPDATE (what the
    ORM's synchronize_session did): set the committed values, without marking it dirty."""
    obj = session.identity_map.get(identity_key(LedgerAccount, account_id))
    if obj is not None:
        for name, value in values.items():
            set_committed_value(obj, name, value)


class Ledger:
    """Stateless apart from the clock; every method takes the caller's session."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

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

    def balance(self, session: Session, account_id: int) -> Balance:
        """The account's balance now: holds past their time no longer count as held (invariant 17)."""
        row = session.get(LedgerAccount, account_id)
        if row is None:
            raise NotFound(f"No ledger account {account_id}", code="no_account")
        return live_balance(session, row, self.clock.now())

    def balances(self, session: Session, account_ids: Iterable[int]) -> dict[int, Balance]:
        ids = sorted(set(account_ids))
        if not ids:
            return {}
        rows = session.execute(select(LedgerAccount).where(col(LedgerAccount.id).in_(ids))).scalars().all()
        overdue = overdue_reserved(session, ids, self.clock.now())
        return {r.id: _balance(r, overdue.get(r.id, (0, 0))) for r in rows if r.id is not None}

    def release_overdue_holds(self, session: Session, account_ids: Iterable[int]) -> list[int]:
        """Inside the caller's write transaction: expire the pending holds past their time on these
        accounts (their funds are free again). Call it before judging or counting a balance."""
        return self._expire_overdue(session, account_ids)

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
        digest = request_hash(canonical)
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
            request_json=canonical_json(canonical), kind=req.kind, reference=reference, memo=req.memo,
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

    # -- holds (two-phase transfers) --------------------------------------------------------
    def create_hold(self, session: Session, req: HoldRequest) -> HoldResult:
        """Reserve funds: they count against limits but move only when the hold is posted."""
        amount = req.amount
        if amount.minor <= 0:
            raise ValidationError("A hold must be for a positive amount", code="hold_amount")
        if req.debit_account_id == req.credit_account_id:
            raise ValidationError("A hold needs two different accounts", code="hold_accounts")
        # No bank-wide row: the hold's accounts are locked below and its writers hold their keys (db/scopes.py).
        session.flush()
        canonical = req.canonical()
        digest = request_hash(canonical)
        existing = session.execute(select(Hold).where(col(Hold.idempotency_key) == req.idempotency_key)).scalar()
        if existing is not None:
            if existing.request_hash != digest:
                diff = _differences(json.loads(existing.request_json), canonical)
                raise Conflict(f"Idempotency key reused with a different request ({', '.join(diff)})",
                               code="idempotency_conflict", fields=diff)
            return _hold_result(existing, replayed=True)
        self._expire_overdue(session, [req.debit_account_id, req.credit_account_id])
        accounts = self._lock(session, [req.debit_account_id, req.credit_account_id])
        dr_acct, cr_acct = accounts[req.debit_account_id], accounts[req.credit_account_id]
        for acct in (dr_acct, cr_acct):
            if acct.currency != amount.currency:
                raise ValidationError(_("The currency does not match: {account} holds {currency}.").format(
                    account=account_label(acct.kind), currency=acct.currency), code="currency_mismatch",
                    account=acct.code)
        self._check_state(dr_acct, amount.minor, 0)
        self._check_state(cr_acct, 0, amount.minor)
        self._check_limits(dr_acct, amount.minor, 0, pending=True)
        self._check_limits(cr_acct, 0, amount.minor, pending=True)
        hold = Hold(idempotency_key=req.idempotency_key, request_hash=digest, request_json=canonical_json(canonical),
                    kind=req.kind, debit_account_id=req.debit_account_id, credit_account_id=req.credit_account_id,
                    currency=amount.currency, amount=amount.minor, memo=req.memo, actor_id=req.actor_id,
                    terminal_id=req.terminal_id, customer_id=req.customer_id, created_at=self.clock.now(),
                    expires_at=req.expires_at)
        session.add(hold)
        session.execute(update(LedgerAccount).where(col(LedgerAccount.id) == req.debit_account_id)
                        .values(debits_pending=col(LedgerAccount.debits_pending) + amount.minor))
        session.execute(update(LedgerAccount).where(col(LedgerAccount.id) == req.credit_account_id)
                        .values(credits_pending=col(LedgerAccount.credits_pending) + amount.minor))
        session.flush()
        return _hold_result(hold)

    def post_hold(self, session: Session, hold_id: int, *, idempotency_key: str, actor_id: int | None,
                  terminal_id: str, branch_code: str, memo: str | None = None,
                  dating: Dating = Dating.AFTER_HOURS) -> EntryResult:
        """Turn a pending hold into a posted entry. Refused if it has expired or was resolved.

        Dated like every entry (:mod:`teller_tui.ledger.business_day`); a remotely approved hold
        is an automatic posting by default: after the close it belongs to the next business day."""
        hold = self._lock_hold(session, hold_id)
        if hold.status == "posted" and hold.resolved_entry_id is not None:
            entry = session.get(JournalEntry, hold.resolved_entry_id)
            if entry is not None and entry.idempotency_key == idempotency_key:
                return self._result_for(session, entry, replayed=True)
        self._require_pending(session, hold)
        self._release_pending(session, hold)
        result = self.post(session, EntryRequest(
            idempotency_key=idempotency_key, kind=hold.kind,
            legs=(Leg(hold.debit_account_id, hold.amount, hold.currency),
                  Leg(hold.credit_account_id, -hold.amount, hold.currency)),
            actor_id=actor_id, terminal_id=terminal_id, branch_code=branch_code,
            memo=hold.memo if memo is None else memo, customer_id=hold.customer_id,
            meta={"hold": hold.id}, dating=dating,
        ), hold_id=hold.id, _skip_limits=True)
        session.execute(update(Hold).where(col(Hold.id) == hold.id).values(
            status="posted", resolved_at=self.clock.now(), resolved_entry_id=result.entry_id))
        return result

    def void_hold(self, session: Session, hold_id: int) -> HoldResult:
        """Release a pending hold (rejected or cancelled). Voiding twice is a no-op replay."""
        hold = self._lock_hold(session, hold_id)
        if hold.status in ("voided", "expired"):
            return _hold_result(hold, replayed=True)
        if hold.status == "pending" and hold.expires_at is not None and hold.expires_at <= self.clock.now():
            self._expire(session, hold)  # past its time: it expires rather than being voided
            session.refresh(hold)
            return _hold_result(hold)
        self._require_pending(session, hold)
        self._release_pending(session, hold)
        session.execute(update(Hold).where(col(Hold.id) == hold.id)
                        .values(status="voided", resolved_at=self.clock.now()))
        session.refresh(hold)
        return _hold_result(hold)

    def expire_holds(self, session: Session, *, limit: int = 500) -> list[int]:
        """Sweep pending holds whose time has passed (expiry is also checked on resolution)."""
        now = self.clock.now()
        ids = session.execute(select(col(Hold.id))
                              .where(col(Hold.status) == "pending", col(Hold.expires_at).is_not(None),
                                     col(Hold.expires_at) <= now)
                              .order_by(col(Hold.id)).limit(limit)).scalars()
        expired = []
        for hold_id in list(ids):
            hold = self._lock_hold(session, hold_id)
            if hold.status == "pending":
                self._expire(session, hold)
                expired.append(hold_id)
        return expired

    def hold_status(self, session: Session, hold_id: int) -> HoldResult:
        hold = session.get(Hold, hold_id)
        if hold is None:
            raise NotFound(f"No hold {hold_id}", code="no_hold")
        return _hold_result(hold)

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _flushed(session: Session) -> Session:
        """The session with pending ORM changes flushed (Core statements do not autoflush)."""
        session.flush()
        return session

    def _lock(self, session: Session, account_ids: Iterable[int]) -> dict[int, Any]:
        """Lock the accounts in id order and return their current rows (Core rows with the
        LedgerAccount column names as attributes, read under the lock)."""
        ids = sorted(set(account_ids))
        session.flush()
        la = _table(LedgerAccount)
        rows = lean.all_rows(session, _stmt("accounts_lock", lambda: select(*_ACCOUNT_COLUMNS(la)).where(
            la.c.id.in_(bindparam("ids", expanding=True))).order_by(la.c.id).with_for_update()), {"ids": ids})
        found = {int(row.id): row for row in rows}
        missing = set(ids) - set(found)
        if missing:
            raise NotFound(f"No ledger account {sorted(missing)}", code="no_account")
        return found

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

    def _lock_hold(self, session: Session, hold_id: int) -> Hold:
        session.flush()  # the hold row is its own lock (no bank-wide row: db/scopes.py)
        hold: Hold | None = session.execute(select(Hold).where(col(Hold.id) == hold_id).with_for_update()).scalar()
        if hold is None:
            raise NotFound(f"No hold {hold_id}", code="no_hold")
        session.refresh(hold)
        return hold

    def _expire_overdue(self, session: Session, account_ids: Iterable[int], *,
                        keep: int | None = None) -> list[int]:
        """Release overdue holds on these accounts before their limits are judged, so expired
        reservations never block a payment even if the sweeper has not run (invariant 9)."""
        ids = sorted(set(account_ids))
        h = _table(Hold)
        overdue = session.execute(_stmt("holds_overdue", lambda: select(h.c.id).where(
            h.c.status == "pending", h.c.expires_at.is_not(None), h.c.expires_at <= bindparam("now"),
            h.c.debit_account_id.in_(bindparam("ids", expanding=True))
            | h.c.credit_account_id.in_(bindparam("ids", expanding=True))).order_by(h.c.id)),
            {"now": self.clock.now(), "ids": ids}).scalars().all()
        expired = []
        for hold_id in overdue:
            if hold_id == keep:
                continue
            hold = session.execute(select(Hold).where(col(Hold.id) == hold_id).with_for_update()).scalar_one()
            session.refresh(hold)
            if hold.status == "pending":
                self._expire(session, hold)
                expired.append(hold_id)
        return expired

    def _require_pending(self, session: Session, hold: Hold) -> None:
        if hold.status != "pending":
            raise Conflict(f"This hold is already {hold.status}", code=f"hold_{hold.status}", status=hold.status)
        if hold.expires_at is not None and hold.expires_at <= self.clock.now():
            self._expire(session, hold)
            raise Conflict("This hold has expired; the funds were released", code="hold_expired")

    def _expire(self, session: Session, hold: Hold) -> None:
        self._release_pending(session, hold)
        session.execute(update(Hold).where(col(Hold.id) == hold.id)
                        .values(status="expired", resolved_at=self.clock.now()))

    def _release_pending(self, session: Session, hold: Hold) -> None:
        session.execute(update(LedgerAccount).where(col(LedgerAccount.id) == hold.debit_account_id)
                        .values(debits_pending=col(LedgerAccount.debits_pending) - hold.amount))
        session.execute(update(LedgerAccount).where(col(LedgerAccount.id) == hold.credit_account_id)
                        .values(credits_pending=col(LedgerAccount.credits_pending) - hold.amount))

    @staticmethod
    def _check_state(acct: LedgerAccount, dr: int, cr: int) -> None:
        if acct.status == "closed":
            raise Conflict(_("This cannot be posted: {account} is closed.").format(account=account_label(acct.kind)),
                           code="account_closed", account=acct.code)
        if acct.status == "frozen" and dr > 0 and acct.debits_must_not_exceed_credits:
            raise Conflict(_("No payments out of {account}: it is frozen.").format(account=account_label(acct.kind)),
                           code="account_frozen", account=acct.code)

    @staticmethod
    def _check_limits(acct: LedgerAccount, dr: int, cr: int, *, pending: bool) -> None:
        if acct.debits_must_not_exceed_credits and dr:
            if acct.debits_posted + acct.debits_pending + dr > acct.credits_posted:
                available = acct.credits_posted - acct.debits_posted - acct.debits_pending
                raise LimitExceeded(_("Not enough money in {account}: {amount} available.").format(
                    account=account_label(acct.kind), amount=format_money(Money(max(available, 0), acct.currency))),
                    code="insufficient_funds", account=acct.code)
        if acct.credits_must_not_exceed_debits and cr:
            if acct.credits_posted + acct.credits_pending + cr > acct.debits_posted:
                available = acct.debits_posted - acct.credits_posted - acct.credits_pending
                raise LimitExceeded(_("Not enough cash in {account}: it holds {amount}.").format(
                    account=account_label(acct.kind), amount=format_money(Money(max(available, 0), acct.currency))),
                    code="insufficient_cash", account=acct.code)

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

    def _result_for(self, session: Session, entry: JournalEntry, *, replayed: bool) -> EntryResult:
        rows = session.execute(select(col(Posting.account_id), col(LedgerAccount.code), col(Posting.amount),
                                      col(Posting.currency))
                               .join(LedgerAccount, col(LedgerAccount.id) == col(Posting.account_id))
                               .where(col(Posting.entry_id) == entry.id).order_by(col(Posting.id))).all()
        assert entry.id is not None
        return EntryResult(
            entry_id=entry.id, seq=entry.seq, reference=entry.reference, kind=entry.kind,
            posted_at=entry.posted_at, business_date=entry.business_date,
            legs=tuple(PostedLeg(r.account_id, r.code, r.amount, r.currency) for r in rows),
            memo=entry.memo, customer_id=entry.customer_id, reverses_entry_id=entry.reverses_entry_id,
            replayed=replayed,
        )

    def entry(self, session: Session, entry_id: int) -> EntryResult:
        entry = session.get(JournalEntry, entry_id)
        if entry is None:
            raise NotFound(f"No journal entry {entry_id}", code="no_entry")
        return self._result_for(session, entry, replayed=False)

    def key_entry(self, session: Session, key: str) -> Any:
        """(id, hold_id) of the entry posted under idempotency key ``key``, or None (one indexed read)."""
        je = _table(JournalEntry)
        return lean.first(session, _stmt("entry_id_by_key", lambda: select(je.c.id, je.c.hold_id).where(
            je.c.idempotency_key == bindparam("key"))), {"key": key})

    def entry_by_key(self, session: Session, key: str) -> EntryResult | None:
        entry = session.execute(select(JournalEntry).where(col(JournalEntry.idempotency_key) == key)).scalar()
        return None if entry is None else self._result_for(session, entry, replayed=True)


def _balance(row: LedgerAccount, overdue: tuple[int, int] = (0, 0)) -> Balance:
    assert row.id is not None
    return Balance(row.id, row.code, row.kind, row.currency, row.status, row.debits_posted, row.credits_posted,
                   row.debits_pending - overdue[0], row.credits_pending - overdue[1])


def live_balance(session: Session, row: LedgerAccount, now: datetime) -> Balance:
    """The balance of a loaded account row as it stands at ``now``: what pending holds past their
    time still reserve is not held any more (:mod:`teller_tui.ledger.holds`)."""
    assert row.id is not None
    if not (row.debits_pending or row.credits_pending):  # nothing held: no hold to read
        return _balance(row)
    return _balance(row, overdue_reserved(session, [row.id], now).get(row.id, (0, 0)))


def _hold_result(hold: Hold, *, replayed: bool = False) -> HoldResult:
    assert hold.id is not None
    return HoldResult(hold.id, hold.status, Money(hold.amount, hold.currency), hold.debit_account_id,
                      hold.credit_account_id, hold.expires_at, replayed)


def trial_balance(session: Session, *, branch_code: str | None = None) -> dict[str, int]:
    """Sum of (debits − credits) over all accounts per currency, from the maintained totals.

    Zero for every currency when the books balance (invariant 6)."""
    stmt = select(col(LedgerAccount.currency),
                  func.sum(col(LedgerAccount.debits_posted) - col(LedgerAccount.credits_posted))
                  ).group_by(col(LedgerAccount.currency))
    if branch_code is not None:
        stmt = stmt.where(col(LedgerAccount.branch_code) == branch_code)
    return {cur: int(total or 0) for cur, total in session.execute(stmt).all()}


def legs_total(legs: Sequence[Leg]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.currency] += leg.amount
    return dict(totals)
