"""Inter-branch clearing: THE one owner of the rule that keeps each branch's own books balanced.

An entry whose legs touch accounts of more than one branch (a teller of one branch takes cash into,
or pays cash out of, a wallet held at another; a transfer between wallets of two branches; the
first-use reward from the teller's branch's points pool to the wallet's points account at its own
branch; a linked top-up or withdrawal settled at another branch than the wallet's) gets one more
leg for each branch and currency whose legs do not net to zero: on that branch's inter-branch
clearing account (``interbranch:<branch>:<cur>``, kind SETTLEMENT,
:func:`teller_tui.ledger.accounts.interbranch_code`), for the opposite of the net.
Each branch's trial balance then stays zero (invariant 6, per branch), and the entry still
balances, as its legs did.

:meth:`teller_tui.ledger.core.Ledger.post` applies the rule to every entry before it is hashed and
stored, so no path can forget it and a retry re-derives the same legs; the clearing legs are part of
the stored request (invariant 15). A reversal mirrors every leg of its original, clearing included,
and nothing is added to it (invariant 7): the reversal of an entry posted before the ledger owned
this rule, without clearing legs, puts each branch back where it was. A same-branch entry gets
nothing and costs no statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

__all__ = ["clearing_name", "clearing_nets"]


def clearing_nets(legs: Iterable[tuple[int, int, str]], branch_of: Mapping[int, str]
                  ) -> dict[tuple[str, str], int]:
    """``{(branch, currency): net}`` of the legs (account id, amount, currency) per branch, for the
    branches whose legs do not net to zero; empty when every branch's legs balance (the common case:
    an entry within one branch). The clearing leg of each is ``-net`` on its clearing account."""
    nets: dict[tuple[str, str], int] = defaultdict(int)
    for account_id, amount, currency in legs:
        nets[(branch_of[account_id], currency)] += amount
    return {key: net for key, net in sorted(nets.items()) if net}


def clearing_name(branch: str) -> str:
    """The name a branch's clearing account is opened with (on first use)."""
    return f"Inter-branch clearing {branch}"
