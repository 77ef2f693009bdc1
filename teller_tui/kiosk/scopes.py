"""What a kiosk's or customer display's write locks first on PostgreSQL (:mod:`teller_tui.db.scopes`):
never the bank-wide key.

* the kiosk's audit stream (its branch);
* the customer signing in or confirming (PIN hash, lock-out mirror, consents, notifications);
* the sign-in guard's counters (``kiosk_guard`` rows, named by an HMAC of the number typed or of
  the customer): their named keys, so two kiosks counting a wrong PIN for one number one after the
  other never lose a count or both insert its first row.
The transfer itself: :mod:`teller_tui.kiosk.transfer_scope`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from teller_tui.audit.trail import stream_of
from teller_tui.db.scopes import LockKey, WriteScope, customer_key, fixed_scope, named_key, stream_key

if TYPE_CHECKING:
    from teller_tui.audit.trail import Actor

__all__ = ["kiosk_keys", "kiosk_scope"]


def kiosk_keys(actor: Actor, customer_id: int | None = None, guard_keys: Iterable[str] = ()) -> list[LockKey]:
    keys = [stream_key(stream_of(actor)), *(named_key(f"kiosk_guard:{k}") for k in guard_keys)]
    if customer_id is not None:
        keys.append(customer_key(customer_id))
    return keys


def kiosk_scope(actor: Actor, customer_id: int | None = None, guard_keys: Iterable[str] = ()) -> WriteScope:
    """The kiosk's stream, the customer, the guard counters named."""
    return fixed_scope(kiosk_keys(actor, customer_id, guard_keys))
