"""THE table of every public method of every core service (see :mod:`teller_tui.auth.permissions`
for what each access kind means and how :func:`~teller_tui.auth.permissions.guarded` uses it).

One table with one row per public service method, read as a whole; ``tests/test_authorization_table.py``
calls every method as every identity against it."""

from __future__ import annotations

from collections.abc import Mapping

from teller_tui.auth.access import (
    ADMINS, APPROVING, COUNTER, HOUSE, IN_TXN, PRE, PURE, READ, STAFF, SUPERVISION, Permission, Scope, actor_rule,
)
from teller_tui.auth.roles import Role

__all__ = ["INFRASTRUCTURE", "PERMISSIONS"]

_actor = actor_rule
T, S, A, SYS, K = Role.TELLER, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM, Role.KIOSK

#: Fields of Services that are building blocks, not services called on anyone's behalf: their
#: methods take an open Session (ledger, audit) or hold no data about anyone.
INFRASTRUCTURE: frozenset[str] = frozenset({
    "settings", "clock", "db", "read_db", "ledger", "audit", "box", "tiers", "policy", "teller_limits", "kiosk_limits",
    "service_levels", "risk_rules", "watchlist", "outbox", "consent_gate",
    "printing",  # sends text it is given to this terminal's printer: no data of its own, no database
})

PERMISSIONS: Mapping[str, Mapping[str, Permission]] = {
    "auth": {
        "authenticate": PRE,
        "verify_fresh_credentials": PRE,
        "create_first_admin": PRE,
        "is_first_run": PRE,
        "change_password": _actor(*COUNTER, scope=Scope.OWN),
        "begin_totp_enrolment": _actor(*COUNTER, scope=Scope.OWN),
        "confirm_totp_enrolment": _actor(*COUNTER, scope=Scope.OWN),
        "record_session_event": _actor(*COUNTER, scope=Scope.OWN, live_check=False),
        "check_session": _actor(*COUNTER, scope=Scope.OWN, live_check=False),
        "create_staff": _actor(*ADMINS, scope=Scope.BANK),
        "disable": _actor(*ADMINS, scope=Scope.BANK),
        "reset_totp": _actor(*ADMINS, scope=Scope.BANK),
        "unlock": _actor(*SUPERVISION),
        "get_staff": READ,
        "get_staff_by_id": READ,
        "list_staff": READ,
    },
    "approvals": {
        "approve_at_counter": _actor(*COUNTER, scope=Scope.OWN),
        "request": _actor(*COUNTER, scope=Scope.OWN),
        "decide": _actor(*APPROVING),
        "cancel": _actor(*COUNTER, scope=Scope.OWN),
        "check": IN_TXN,
        "consume": IN_TXN,
        "attach_entry": IN_TXN,
        "record_large_value": IN_TXN,
        "evaluate": PURE,
        "expire_sweep": HOUSE,
        "release_overdue": IN_TXN,
        "may_approve": PURE,
        "pending": READ,
        "get": READ,
        "recent": READ,
        "large_value_reports": READ,
        "dashboard": _actor(*SUPERVISION),
    },
    "analytics": {  # per-teller figures: supervisors and admins (and the host's `teller report`)
        "business_date": _actor(*SUPERVISION),
        "promotion": _actor(*SUPERVISION),
    },
    "customers": {
        "add_note": _actor(*COUNTER, scope=Scope.BANK),
        "get_customer": READ,
        "search": READ,
        "wallet_history": READ,
    },
    "wallets": {
        "open_wallet_now": _actor(*STAFF, scope=Scope.BANK),
        "freeze": _actor(*STAFF, scope=Scope.BANK),
        # A person unfreezes through the lifecycle service, which asks the approval policy.
        # This direct path is the host's command line only.
        "unfreeze": _actor(SYS, scope=Scope.BANK),
        "open_wallet": IN_TXN,
        "get_wallet": READ,
        "find_by_number": READ,
    },
    "cash": {
        "cash_in": _actor(*COUNTER, scope=Scope.OWN, at_write=True),
        "cash_out": _actor(*COUNTER, scope=Scope.OWN, at_write=True),
        "transfer": _actor(*COUNTER, scope=Scope.OWN, at_write=True),
        "reverse": _actor(*COUNTER),
        "preview_cash_in": _actor(*COUNTER, scope=Scope.OWN),
        "preview_cash_out": _actor(*COUNTER, scope=Scope.OWN),
        "preview_transfer": _actor(*COUNTER, scope=Scope.OWN),
        "preview_reversal": _actor(*COUNTER),
        "check_limits": IN_TXN,
        "posting_legs": IN_TXN,
        "receipt_data": IN_TXN,
        "wallet_side": IN_TXN,
        "finish": PURE,
        "receipt_for": READ,
    },
    "business_days": {
        "open": _actor(*STAFF),
        "close": _actor(*SUPERVISION),
        "open_in": IN_TXN,
        "check_open_in": IN_TXN,
        "current": READ,
    },
    "vault": {
        "receive": _actor(*SUPERVISION),
        "transfer": _actor(*COUNTER, scope=Scope.OWN),
        "view": READ,
    },
    "drawers": {
        "open_business_day": _actor(*STAFF),
        "close_business_day": _actor(*SUPERVISION),
        "receive_into_vault": _actor(*SUPERVISION),
        "transfer_with_vault": _actor(*COUNTER, scope=Scope.OWN),
        "open_drawer": _actor(*COUNTER, scope=Scope.OWN),
        "submit_blind_count": _actor(*COUNTER, scope=Scope.OWN),
        "pending_count": _actor(*COUNTER, scope=Scope.OWN),
        "close_drawer": _actor(*COUNTER, scope=Scope.OWN),
        "record_tender": _actor(*COUNTER, scope=Scope.OWN),
        "status": _actor(*COUNTER, scope=Scope.OWN),
        "eod_report": READ,
        "vault": READ,
    },
    "custody": {
        "take_break": _actor(*COUNTER, scope=Scope.OWN),
        "on_break": _actor(*COUNTER, scope=Scope.OWN),
        "return_from_break": _actor(*COUNTER, scope=Scope.OWN),
    },
    # A drawer handed to another teller mid-day (teller_tui.branch.handover).
    "handover": {
        "offer": _actor(*COUNTER, scope=Scope.OWN),
        "withdraw": _actor(*COUNTER, scope=Scope.OWN),
        "state": _actor(*COUNTER, scope=Scope.OWN),
        "count": _actor(*COUNTER, scope=Scope.BRANCH),
        "take_over": _actor(*COUNTER, scope=Scope.BRANCH),
    },
    "funding": {
        "link_now": _actor(*STAFF, scope=Scope.BANK),
        "unlink": _actor(*STAFF, scope=Scope.BANK),
        "top_up_from_linked": _actor(*STAFF, scope=Scope.BANK),
        "withdraw_to_linked": _actor(*STAFF, scope=Scope.BANK),
        "link": IN_TXN,
        "check_number": PURE,
        "token_for": PURE,
        "linked_for_wallet": READ,
    },
    "journal": {
        "search": _actor(*STAFF),
    },
    "profile": {
        "change_contact": _actor(*STAFF, scope=Scope.BANK),
        "renew_document": _actor(*STAFF, scope=Scope.BANK),
    },
    "statements": {
        "statement": _actor(*STAFF, scope=Scope.BANK),
        "issue": _actor(*STAFF, scope=Scope.BANK),
    },
    "linked_desk": {
        "top_up": _actor(*STAFF, scope=Scope.BANK),
        "withdraw": _actor(*STAFF, scope=Scope.BANK),
        "preview_top_up": _actor(*STAFF, scope=Scope.BANK),
        "preview_withdraw": _actor(*STAFF, scope=Scope.BANK),
    },
    "onboarding": {
        "issue": _actor(*STAFF, scope=Scope.BANK),
        "save_draft": _actor(*STAFF),
        "list_drafts": _actor(*STAFF),
        "load_draft": _actor(*STAFF),
        "discard_draft": _actor(*STAFF),
        "purge_expired": HOUSE,
        "check_totp": PURE,
        "first_invalid": PURE,
        "new_totp": PURE,
        "offered_tiers": PURE,
        "validate_step": PURE,
        "today": READ,
        "find_duplicate": READ,
        "welcome_text": READ,
    },
    "lifecycle": {
        "freeze": _actor(*STAFF, scope=Scope.BANK),
        "block_lost": _actor(*STAFF, scope=Scope.BANK),
        "unfreeze": _actor(*STAFF, scope=Scope.BANK),
        "change_tier": _actor(*STAFF, scope=Scope.BANK),
        "close": _actor(*STAFF, scope=Scope.BANK),
        "replace_device": _actor(*STAFF, scope=Scope.BANK),
        "available": READ,
    },
    "kiosk": {
        "sign_in": _actor(K, scope=Scope.OWN),
        "sign_out": _actor(K, scope=Scope.OWN),
        "live_session": _actor(K, scope=Scope.OWN),
        "account": _actor(K, scope=Scope.OWN),
        "history": _actor(K, scope=Scope.OWN),
        "history_text": _actor(K, scope=Scope.OWN),
        "preview_transfer": _actor(K, scope=Scope.OWN),
        "transfer": _actor(K, scope=Scope.OWN),
        "ensure_identity": PRE,
        "active_sessions": READ,
    },
    # A signed-in customer's own PIN change at the kiosk (teller_tui/kiosk/pin_change.py).
    "kiosk_pin_change": {
        "change_pin": _actor(K, scope=Scope.OWN),
    },
    "customer_pins": {
        "unlock_customer_pin": _actor(*COUNTER, scope=Scope.BANK),
    },
    # Customer service (teller_tui/cases): the kiosk may only ask for help.
    "cases": {
        "open_case": _actor(*STAFF, scope=Scope.BANK),
        "get": _actor(*STAFF, scope=Scope.BRANCH),
        "list_cases": _actor(*STAFF, scope=Scope.BRANCH),
        "escalated": _actor(*SUPERVISION, scope=Scope.BRANCH),
        "add_note": _actor(*STAFF, scope=Scope.BRANCH),
        "assign": _actor(*STAFF, scope=Scope.BRANCH),
        "link_entry": _actor(*STAFF, scope=Scope.BRANCH),
        "link_refusal": _actor(*STAFF, scope=Scope.BRANCH),
        "move": _actor(*STAFF, scope=Scope.BRANCH),
        "resolve": _actor(*STAFF, scope=Scope.BRANCH),
        "close": _actor(*STAFF, scope=Scope.BRANCH),
        "reopen": _actor(*STAFF, scope=Scope.BRANCH),
        "escalate_overdue": _actor(*STAFF, scope=Scope.BRANCH),
        "escalate": _actor(*STAFF, scope=Scope.BRANCH),
    },
    "disputes": {
        "correction_spec": _actor(*COUNTER, scope=Scope.BRANCH),
        "resolve_with_correction": _actor(*COUNTER, scope=Scope.BRANCH),
    },
    "explain": {
        "explain": _actor(*STAFF, scope=Scope.BANK),
        "refusals": _actor(*STAFF, scope=Scope.BANK),
        "history": _actor(*STAFF, scope=Scope.BANK),
    },
    "follow_up": {
        "call_list": _actor(*STAFF, scope=Scope.BRANCH),
        "record_call": _actor(*STAFF, scope=Scope.BRANCH),
        "satisfaction_by_teller": _actor(*SUPERVISION, scope=Scope.BRANCH),
        "satisfaction_by_case_type": _actor(*SUPERVISION, scope=Scope.BRANCH),
    },
    "crm": {
        "add_note": _actor(*STAFF, scope=Scope.BANK),
        "correct_note": _actor(*STAFF, scope=Scope.BANK),
        "notes": _actor(*STAFF, scope=Scope.BANK),
        "note_history": _actor(*STAFF, scope=Scope.BANK),
        "needs": _actor(*STAFF, scope=Scope.BANK),
        "set_needs": _actor(*STAFF, scope=Scope.BANK),
    },
    "help_requests": {
        "ask": _actor(K, *STAFF, scope=Scope.BRANCH),
        "open_count": _actor(*STAFF, scope=Scope.BRANCH),
        "open_requests": _actor(*STAFF, scope=Scope.BRANCH),
        "take": _actor(*STAFF, scope=Scope.BRANCH),
        "done": _actor(*STAFF, scope=Scope.BRANCH),
    },
    "lost_phones": {
        "report": _actor(*STAFF, scope=Scope.BANK),
    },
    # The terminal's journal of submissions in flight: written while the database may be down, so
    # recording and clearing it read no staff row; looking an outcome up does.
    "inflight": {
        "journal": _actor(*COUNTER, scope=Scope.OWN, live_check=False),
        "record": _actor(*COUNTER, scope=Scope.OWN, live_check=False),
        "resolve": _actor(*COUNTER, scope=Scope.OWN, live_check=False),
        "pending": _actor(*COUNTER, scope=Scope.OWN, live_check=False),
        "outcome_of": _actor(*COUNTER, scope=Scope.OWN),
        "check_pending": _actor(*COUNTER, scope=Scope.OWN),
    },
    # The offline counter (teller_tui/offline): taking, the banner and the queue's figures read no staff
    # row (the database is what is down; the person's session was checked at sign-in, and the upload
    # posts through cash.cash_in, which re-reads the taker's row). Remembering, uploading and the
    # supervisors' exception list need the database.
    "offline": {
        "remember": _actor(*COUNTER, scope=Scope.OWN),
        "cached_wallet": _actor(*COUNTER, scope=Scope.OWN, live_check=False),
        "take_cash_in": _actor(*COUNTER, scope=Scope.OWN, live_check=False),
        "summary": _actor(*COUNTER, scope=Scope.OWN, live_check=False),
        "terminal_summary": READ,  # the sign-in screen's banner: this terminal's queue, counts and totals
        "unposted_cash": _actor(*COUNTER, scope=Scope.OWN, live_check=False),
        "items": _actor(*COUNTER, scope=Scope.OWN, live_check=False),
        "upload": _actor(*COUNTER, scope=Scope.OWN),
        "exceptions": _actor(*APPROVING),
        "sequence_gaps": _actor(*APPROVING),
        "refund": _actor(*APPROVING),
        "post_exception": _actor(*APPROVING),
    },
    # The kiosk's own journal of transfers in flight (teller_tui/kiosk/inflight.py): written while the
    # database may be down (no staff row read); the lookup and the settling for staff read it.
    "kiosk_inflight": {
        "record": _actor(K, scope=Scope.OWN, live_check=False),
        "resolve": _actor(K, scope=Scope.OWN, live_check=False),
        "pending": _actor(K, scope=Scope.OWN, live_check=False),
        "outcome_of": _actor(K, scope=Scope.OWN),
        "settle": _actor(K, scope=Scope.OWN),
    },
    # A colleague locked out: anyone at the counter asks, a different approver approves.
    "staff_unlock": {
        "unlock": _actor(*COUNTER, scope=Scope.BRANCH),
    },
    # Staff administration at a terminal: an administrator asks, a different approver approves grants.
    "staff_admin": {
        "roster": _actor(*ADMINS, scope=Scope.BANK),
        "can_write_staff": _actor(*ADMINS, scope=Scope.BANK),
        "add": _actor(*ADMINS, scope=Scope.BANK),
        "change_role": _actor(*ADMINS, scope=Scope.BANK),
        "disable": _actor(*ADMINS, scope=Scope.BANK),
        "enable": _actor(*ADMINS, scope=Scope.BANK),
        "reset_authenticator": _actor(*ADMINS, scope=Scope.BANK),
    },
    # Risk monitoring: supervisors scan, review and report; the counter reads warnings.
    "risk": {
        "scan": _actor(*SUPERVISION),
        "alerts": _actor(*SUPERVISION),
        "open_count": _actor(*SUPERVISION),
        "get": _actor(*SUPERVISION),
        "clear": _actor(S),
        "freeze_wallet": _actor(S),
        "file_report": _actor(S),
        "reports": _actor(*SUPERVISION),
        "export_reports": _actor(*SUPERVISION),
        "warnings_for": _actor(*STAFF, scope=Scope.BANK),
        "acknowledge": _actor(S),
    },
    # Customer notifications: the counter reads and records consent; delivery is the host's cron
    # (or a running supervisor/admin terminal).
    "notify": {
        "for_customer": _actor(*STAFF, scope=Scope.BANK),
        "contacts": _actor(*STAFF, scope=Scope.BANK),
        "set_contact": _actor(*COUNTER, scope=Scope.BANK),
        "run": _actor(*SUPERVISION),
    },
    # The customer's consent at the counter (issue 16): the teller asks, the customer's display answers.
    "consent": {
        "start_pairing": _actor(*COUNTER), "display_paired": _actor(*COUNTER), "unpair": _actor(*COUNTER),
        "request": _actor(*COUNTER), "status": _actor(*COUNTER), "cancel": _actor(*COUNTER),
        "record_id_check": _actor(*COUNTER), "begin_pin_reset": _actor(*COUNTER), "policy": _actor(*COUNTER),
        "set_policy": _actor(S, A), "policy_view": _actor(*COUNTER),
    },
    "credentials": {
        "authenticator_enrolled": _actor(*COUNTER), "begin": _actor(*COUNTER), "remove_authenticator": _actor(*COUNTER),
    },
    "pinpad": {
        "pair": _actor(K), "prompt": _actor(K), "answer": _actor(K), "decline": _actor(K), "set_new_pin": _actor(K),
    },
    "pad_credentials": {
        "change_pin": _actor(K), "authenticator_offer": _actor(K), "enrol_authenticator": _actor(K),
        "remove_authenticator": _actor(K),
    },
    # Training mode (teller_tui/training): refuses everything unless the settings and the database
    # are the training ones; a trainee at the training desk signs in with a training account.
    "training": {
        "start": _actor(*COUNTER, scope=Scope.OWN),
        "finish": _actor(*COUNTER, scope=Scope.OWN),
        "answer_approvals": _actor(*COUNTER, scope=Scope.OWN),
        "scenarios": PURE,
        "quiz_for": PURE,
    },
    "kb": {
        # Everyone at a terminal reads the help (the kiosk offers customer-safe articles too).
        "search": _actor(*STAFF, K, scope=Scope.BANK),
        "article": _actor(*STAFF, K, scope=Scope.BANK),
        "for_screen": _actor(*STAFF, K, scope=Scope.BANK),
        "for_refusal": _actor(*STAFF, K, scope=Scope.BANK),
        "refusal_codes": _actor(*STAFF, K, scope=Scope.BANK),
        "history": _actor(*STAFF, scope=Scope.BANK),
        # The branch keeps it current: a supervisor proposes, a second person reviews.
        "sync_shipped": _actor(*SUPERVISION),
        "propose": _actor(*SUPERVISION),
        "review": _actor(*SUPERVISION),
        "resolve_conflict": _actor(*SUPERVISION),
        "revisions": _actor(*SUPERVISION),
    },
}
