"""The core's refusals and errors, translated at the edge: one sentence in the screen's language.

Every :class:`~teller_tui.common.errors.DomainError` carries a stable ``code`` (and, where the
sentence names something, the values in ``details``). Most core messages are written with
``_()`` and arrive translated already; the rest (ledger and wallet housekeeping written in
English with an f-string, storage and schema faults) are rendered here from their code, so a
teller in zh_CN never reads an English sentence. :func:`refusal_text` is the one function every
screen uses to show a refusal (through :func:`screens.widgets.desk.error_text`).

The order: a sentence for the code (with its details), then the message looked up as a msgid
(a message raised in English, e.g. from a thread whose locale was overridden), then the
message itself.
"""

from __future__ import annotations

from typing import Any

from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import N_, _

__all__ = ["BY_CODE", "refusal_text"]

#: code -> sentence (``N_`` here, ``_`` when shown). Placeholders come from the error's details.
BY_CODE: dict[str, str] = {
    "no_customer": N_("No such customer."),
    "no_wallet": N_("No such wallet."),
    "wallet_closed": N_("This wallet is closed."),
    "wallet_tier_exists": N_("This customer already has a class {tier} wallet ({wallet})."),
    "tier": N_("A wallet class is 1, 2, 3 or 4."),
    "reason": N_("Give a reason."),
    "unfreeze_role": N_("Only a supervisor can unfreeze a wallet."),
    "note_empty": N_("A note cannot be empty."),
    "idempotency_key": N_("This request has no reference; close the form and open it again."),
    "idempotency_conflict": N_("This request was already made with different details; close the form and "
                               "open it again."),
    "no_account": N_("The ledger account was not found."),
    "account_conflict": N_("The ledger account exists with another kind or currency."),
    "account_closed": N_("This cannot be posted: the account is closed."),
    "close_nonzero": N_("An account closes only at zero with no pending holds."),
    "no_entry": N_("The transaction was not found."),
    "reverse_reversal": N_("A reversal cannot itself be reversed."),
    "already_reversed": N_("Transaction {reference} has already been reversed."),
    "no_hold": N_("The hold was not found."),
    "hold_expired": N_("This hold has expired; the funds were released."),
    "hold_posted": N_("This hold has already been completed."),
    "hold_voided": N_("This hold has already been released."),
    "hold_amount": N_("A hold must be for a positive amount."),
    "zero_leg": N_("A posting cannot be zero."),
    "entry_legs": N_("A transaction needs at least two postings."),
    "entry_unbalanced": N_("The transaction does not balance."),
    "no_ledger": N_("The ledger is not set up; run `teller db upgrade`."),
    "case_move": N_("Use resolve, close or reopen for this case."),
    "help_activity": N_("Unknown activity."),
    "kb_screen": N_("Unknown screen."),
    "approval_kind": N_("Unknown approval action."),
}


class _Details(dict[str, Any]):
    """Format values: money as money, a missing placeholder as an empty string (never KeyError)."""

    def __missing__(self, key: str) -> str:
        return ""


def _value(value: Any) -> Any:
    # Imported here, when a refusal is first worded: money formatting is not needed for a sign-in's or
    # the kiosk welcome's first frame, and every screen imports this module (``teller bench --only startup``).
    from teller_tui.common.formatting import format_money
    from teller_tui.common.money import Money

    return format_money(value) if isinstance(value, Money) else value


def refusal_text(error: DomainError) -> str:
    """The sentence to show for ``error`` in the active language."""
    template = BY_CODE.get(error.code)
    if template is not None:
        details = _Details({k: _value(v) for k, v in error.details.items()})
        return _(template).format_map(details)
    return _(error.message) if error.message else error.message
