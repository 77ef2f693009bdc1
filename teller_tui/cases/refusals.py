"""Refused attempts: the recorder other code calls when it refuses, and the plain-words causes.

Call :func:`record_refusal` after a refusal has left the posting path (the failed transaction
rolled back), in a separate short transaction of its own::

    try:
        result = self.db.write_retrying(work)
    except DomainError as exc:
        record_refusal(self.db, self.audit, actor, exc, Channel.COUNTER, kind, wallet_id, amount, to_wallet_id)
        raise

Only refusals are stored (:func:`is_refusal`): a request for a supervisor's approval is a step of
the flow, not a refusal, and a storage fault ("the database did not answer") is never a refusal.
What is stored is the reason code, never a PIN, password, one-time code or card number. Recording
never hides the refusal it records: if it fails, it logs the failure and the caller re-raises.

:func:`refusal_cause` turns a reason code into plain words for the teller (translated); codes it
does not know get a generic sentence naming the code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.exc import SQLAlchemyError

from teller_tui.audit.trail import Actor, AuditTrail, stream_of
from teller_tui.auth.live import StaffRefused
from teller_tui.common.errorlog import record_error
from teller_tui.common.errors import ApprovalRequired, DomainError, StorageError
from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money
from teller_tui.db.engine import Database
from teller_tui.db.scopes import fixed_scope, stream_key
from teller_tui.models import Wallet
from teller_tui.models.cases import Channel, RefusedAttempt

__all__ = ["CAUSE_GROUPS", "REFUSAL_CAUSES", "is_refusal", "record_refusal", "refusal_cause", "refusal_number"]

_log = logging.getLogger("teller")

#: Reason code -> the cause in plain words (msgid; translated by :func:`refusal_cause`).
REFUSAL_CAUSES: Mapping[str, str] = {
    # money
    "insufficient_funds": N_("There was not enough money in the wallet (amounts on hold count as spent)."),
    # frozen or closed
    "wallet_frozen": N_("The wallet was frozen: no money may leave it until a supervisor unfreezes it."),
    "account_frozen": N_("The wallet was frozen: no money may leave it until a supervisor unfreezes it."),
    "wallet_closed": N_("The wallet was closed."),
    "wallet_blocked": N_("The wallet was blocked after the phone was reported lost or stolen: nothing in or out "
                         "until the device is replaced at the counter."),
    "account_closed": N_("The wallet was closed."),
    # limits
    "tier_per_txn": N_("The amount was above the wallet class's limit for one payment."),
    "tier_daily": N_("The wallet class's daily limit for payments was already used up."),
    "tier_yearly": N_("The wallet class's yearly limit for payments was already used up."),
    "tier_balance_cap": N_("The money would have taken the receiving wallet above its class's balance cap."),
    "kiosk_per_txn": N_("The amount was above the kiosk's limit for one transfer."),
    "kiosk_daily": N_("The kiosk's daily limit for this wallet was already used up."),
    "kiosk_needs_approval": N_("The transfer needed a supervisor's approval, which a kiosk cannot give."),
    # PIN and sign-in
    "kiosk_signin": N_("The PIN was wrong."),
    "kiosk_code": N_("The authenticator code was wrong."),
    "kiosk_pin_locked": N_("The PIN was locked after too many wrong attempts."),
    # approvals
    "approval_rejected": N_("A supervisor rejected the approval."),
    "approval_expired": N_("The supervisor's approval expired before it was used."),
    "approval_cancelled": N_("The approval request was cancelled."),
    "approval_mismatch": N_("The approval was given for a different amount, account or reason."),
    "approval_scope": N_("The approval did not cover everything the transaction needed."),
    # the request itself
    "amount_zero": N_("The amount was zero."),
    "currency_mismatch": N_("The wallet holds another currency."),
    "same_wallet": N_("The same wallet was given as payer and payee."),
    "kiosk_payee": N_("The payee could not be found."),
    "no_open_drawer": N_("The teller had no open cash drawer."),
    "no_business_day": N_("The branch's business day was not open."),
    "cash_role": N_("The person signed in could not handle cash."),
}

#: Reason code -> group, for filters and counts (limits, frozen, funds, pin, approval).
CAUSE_GROUPS: Mapping[str, str] = {
    "insufficient_funds": "funds",
    "wallet_frozen": "frozen", "wallet_blocked": "frozen", "account_frozen": "frozen", "wallet_closed": "frozen", "account_closed": "frozen",
    "tier_per_txn": "limits", "tier_daily": "limits", "tier_yearly": "limits", "tier_balance_cap": "limits",
    "kiosk_per_txn": "limits", "kiosk_daily": "limits", "kiosk_needs_approval": "limits",
    "kiosk_signin": "pin", "kiosk_code": "pin", "kiosk_pin_locked": "pin",
    "approval_rejected": "approval", "approval_expired": "approval", "approval_cancelled": "approval",
    "approval_mismatch": "approval", "approval_scope": "approval",
}


def refusal_cause(code: str) -> str:
    """The cause of a refusal in plain words, in the current language."""
    msgid = REFUSAL_CAUSES.get(code)
    if msgid is None:
        return _("Refused by the system (reason code {code}).").format(code=code)
    return _(msgid)


def refusal_number(refusal_id: int) -> str:
    """``RF-000042``: how a stored refusal is named (entry references start ``R2…``)."""
    return f"RF-{refusal_id:06d}"


def is_refusal(exc: BaseException) -> bool:
    """A refusal worth keeping: a domain error that is neither an approval step nor a storage fault.

    Nor a person's own account refusing them (:class:`StaffRefused`, disabled/locked/changed): the
    session ends there, and the record's own write would be refused by the same staff check."""
    return isinstance(exc, DomainError) and not isinstance(exc, (ApprovalRequired, StorageError, StaffRefused))


def record_refusal(db: Database, audit: AuditTrail, actor: Actor, exc: BaseException, channel: Channel | str,
                   kind: str, wallet_id: int | None = None, amount: Money | None = None,
                   to_wallet_id: int | None = None) -> int | None:
    """Store one refused attempt (and audit it) in its own transaction; returns its id.

    Returns None, storing nothing, when ``exc`` is not a refusal (:func:`is_refusal`) or when the
    record cannot be written (logged; the caller's refusal is what the user must see).
    """
    if not is_refusal(exc):
        return None
    code = str(getattr(exc, "code", "error"))[:48]
    try:
        # An insert and one record in the actor's stream: its key only, not the bank-wide one.
        with db.write(fixed_scope([stream_key(stream_of(actor))])) as s:
            customer_id = None
            if wallet_id is not None:
                wallet = s.get(Wallet, wallet_id)
                customer_id = wallet.customer_id if wallet is not None else None
                wallet_id = wallet_id if wallet is not None else None
            if to_wallet_id is not None and s.get(Wallet, to_wallet_id) is None:
                to_wallet_id = None
            row = RefusedAttempt(at=audit.clock.now(), actor_id=actor.staff_id, actor_name=actor.username[:64],
                                 terminal_id=actor.terminal_id[:32], branch_code=actor.branch_code[:16],
                                 channel=Channel(channel), kind=str(kind)[:24], wallet_id=wallet_id,
                                 to_wallet_id=to_wallet_id, customer_id=customer_id,
                                 amount=amount.minor if amount is not None else None,
                                 currency=amount.currency if amount is not None else "CNY", reason_code=code)
            s.add(row)
            s.flush()
            assert row.id is not None
            audit.append(s, actor, "refused", subject=refusal_number(row.id), outcome="refused",
                         detail={"kind": row.kind, "channel": row.channel, "code": code, "wallet_id": wallet_id,
                                 "amount": amount.plain() if amount is not None else None})
            return row.id
    except (DomainError, SQLAlchemyError, ValueError) as failure:
        record_error(failure, f"recording a refused attempt ({code})")
        return None
