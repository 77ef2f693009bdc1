"""What approval and hold writes lock first on PostgreSQL (:mod:`teller_tui.db.scopes`).

Every key is read from facts that never change, before the keys are taken, then taken at once in
the fixed order (so a supervisor of branch A approving at branch B, or a sweep over requests of
several branches, holds every branch's key before it locks any head row):

* a counter approval writes the request row and two audit records: the requester's branch stream
  and the approver's (a supervisor may come from another branch) — both branch keys;
* queueing a request takes the requester's branch (its stream, its drawer) and, for a hold, every
  account the hold reserves: the account's branch and, for a wallet, its customer (balance, limits,
  consents);
* deciding, cancelling or expiring requests takes the actor's stream, each request's branch (the
  requester's stream, where its hold posts), its customer and its hold's accounts as above. A sweep
  takes the keys of every request it expires in one fixed-order statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import col

from teller_tui.audit.trail import stream_of
from teller_tui.db.scopes import LockKey, WriteScope, customer_key, fixed_scope, scope_keys, stream_key
from teller_tui.models import ApprovalRequest, Hold, LedgerAccount, Wallet

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.approvals.spec import ApprovalSpec
    from teller_tui.audit.trail import Actor

__all__ = ["account_keys", "counter_scope", "queue_scope", "request_keys", "requests_scope"]


def account_keys(s: Session, account_ids: Iterable[int]) -> list[LockKey]:
    """Each account's branch (a drawer's, a wallet's home branch for its clearing legs) and, for a
    wallet, its customer."""
    ids = sorted({int(a) for a in account_ids})
    if not ids:
        return []
    rows = s.execute(select(col(LedgerAccount.branch_code), col(Wallet.customer_id))
                     .select_from(LedgerAccount)
                     .join(Wallet, col(Wallet.account_id) == col(LedgerAccount.id), isouter=True)
                     .where(col(LedgerAccount.id).in_(ids))).all()
    return scope_keys([str(r[0]) for r in rows if r[0]], [r[1] for r in rows])


def request_keys(s: Session, request_ids: Sequence[int]) -> list[LockKey]:
    """The keys of deciding, cancelling or expiring these requests (see the module docstring)."""
    if not request_ids:
        return []
    rows = s.execute(select(col(ApprovalRequest.branch_code), col(ApprovalRequest.request_json),
                            col(Hold.debit_account_id), col(Hold.credit_account_id))
                     .select_from(ApprovalRequest)
                     .join(Hold, col(Hold.id) == col(ApprovalRequest.hold_id), isouter=True)
                     .where(col(ApprovalRequest.id).in_(sorted(set(request_ids))))).all()
    keys: list[LockKey] = []
    accounts: list[int] = []
    for branch, request_json, debit, credit in rows:
        keys.append(stream_key(str(branch)[:16]))
        customer = json.loads(request_json).get("request", {}).get("customer_id")
        if isinstance(customer, int):
            keys.append(customer_key(customer))
        accounts += [a for a in (debit, credit) if a is not None]
    return keys + account_keys(s, accounts)


def requests_scope(actor: Actor | None, request_ids: Sequence[int]) -> WriteScope:
    """Deciding, cancelling or expiring ``request_ids`` as ``actor`` (None: the system, whose records
    go to each request's branch stream)."""
    ids = sorted(set(request_ids))
    own = [] if actor is None else [stream_key(stream_of(actor))]
    return lambda s: [*own, *request_keys(s, ids)]


def counter_scope(actor: Actor, approver: Actor) -> WriteScope:
    """A counter approval: the requester's and the approver's audit streams."""
    return fixed_scope(sorted({stream_key(stream_of(actor)), stream_key(stream_of(approver))}))


def queue_scope(actor: Actor, spec: ApprovalSpec) -> WriteScope:
    """Queueing ``spec``: the requester's stream and branch, its customer, the hold's accounts."""

    def keys(s: Session) -> list[LockKey]:
        got = [stream_key(stream_of(actor)), *scope_keys([actor.branch_code], [spec.customer_id])]
        if spec.hold is not None:
            got += account_keys(s, (spec.hold.debit_account_id, spec.hold.credit_account_id))
        return got

    return keys
