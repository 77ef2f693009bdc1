"""What a counter consent write locks first on PostgreSQL (:mod:`teller_tui.db.scopes`): the teller's
audit stream and the customer whose consent it is (their consents are used up by that customer's
postings, and ID-check failures are counted per customer) — not the bank-wide key. A request's
customer never changes, so it is read before the keys are taken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from teller_tui.audit.trail import stream_of
from teller_tui.db.scopes import LockKey, WriteScope, customer_key, stream_key
from teller_tui.models import ConsentRequest

if TYPE_CHECKING:
    from sqlmodel import Session

    from teller_tui.audit.trail import Actor

__all__ = ["consent_scope"]


def consent_scope(actor: Actor, *, customer_id: int | None = None, request_id: int | None = None) -> WriteScope:
    """The actor's stream and the customer (given, or the one consent request ``request_id`` is for)."""

    def keys(s: Session) -> list[LockKey]:
        customer = customer_id
        if customer is None and request_id is not None:
            cr = ConsentRequest.__table__  # type: ignore[attr-defined]
            customer = s.execute(select(cr.c.customer_id).where(cr.c.id == request_id)).scalar()
        return [stream_key(stream_of(actor)), *([customer_key(int(customer))] if customer is not None else [])]

    return keys
