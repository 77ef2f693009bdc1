"""What a money-moving audit record says about the entry it wrote (``detail["entries"]``).

Every service that posts an entry writes, in the same transaction, an audit record whose
detail carries ``"entries": [entry_fact(result, actor_id), …]``: the entry's reference, kind,
amount (minor units, the sum of its debit side), currency and the actor the entry names. One
record may name several entries (a drawer close posts over/short and the return to the vault).
``teller ledger verify`` (check "A", :mod:`teller_tui.ledger.verify_links`) matches these facts
with the journal in both directions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teller_tui.ledger.core import EntryResult

__all__ = ["ENTRIES_KEY", "entry_fact", "entry_facts"]

#: The audit detail key under which a record names the entries it wrote.
ENTRIES_KEY = "entries"


def entry_fact(result: EntryResult, actor_id: int | None) -> dict[str, Any]:
    """The facts of one posted entry, as its audit record keeps them."""
    positive = [leg for leg in result.legs if leg.amount > 0]
    currency = min((leg.currency for leg in result.legs), default="")
    return {"reference": result.reference, "kind": str(result.kind), "amount": sum(leg.amount for leg in positive),
            "currency": currency, "actor_id": actor_id}


def entry_facts(*results: tuple[EntryResult | None, int | None]) -> dict[str, Any]:
    """``{"entries": [...]}`` for the entries actually posted (``None`` results are skipped),
    to merge into an audit record's detail."""
    return {ENTRIES_KEY: [entry_fact(r, actor) for r, actor in results if r is not None]}
