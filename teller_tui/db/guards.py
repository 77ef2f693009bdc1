"""PostgreSQL guards on compliance records and the one function the application role may call.

Grants (:mod:`teller_tui.db.roles`) say which *columns* a role may change; they cannot say that a
decided approval stays decided. These triggers do, for every role including the owner:

* ``approval_request``: what was asked (kind, branch, request and its hash, rules, requester,
  terminal, times) never changes; the decision (approver, decided_at, hold, consumed_at, entry) is
  written once; status moves only forward (pending -> approved/rejected/cancelled/expired,
  approved -> consumed/cancelled/expired); a decided row's reason is fixed; no row is deleted.
* ``ledger_hold``: what is held (accounts, amount, key, request, actor, times) never changes;
  status moves only from pending to posted/voided/expired, once, with its resolution; no DELETE.

``teller_register_kiosk(username, display_name, branch_code, at)`` is ``SECURITY DEFINER`` with a
fixed ``search_path``: it lets the application role (which may not INSERT into ``staff``) record a
kiosk's own identity (role ``kiosk``, no password, user ``kiosk-…``) and nothing else.

* ``audit_stream_head`` (installed by 0100_audit_streams, :func:`stream_head_guard_statements`): a
  stream's head row starts empty (no records, the genesis hash), then only moves forward one
  record at a time (``entries`` + 1, a greater ``seq``); it is never renamed or deleted. Before
  streams the application role could set ``audit_head`` to anything; now it cannot move a head
  back over records it cannot delete.

SQLite has no roles: there these are not installed (the file's permissions are the boundary).
"""

from __future__ import annotations

__all__ = ["GUARDED_TABLES", "KIOSK_REGISTER_SIGNATURE", "drop_guard_statements", "drop_stream_head_guard_statements",
           "guard_statements", "stream_head_guard_statements"]

GUARDED_TABLES = ("approval_request", "ledger_hold")
KIOSK_REGISTER_SIGNATURE = "teller_register_kiosk(text, text, text, timestamp with time zone)"

_REFUSE = "USING ERRCODE = '42501'"

_APPROVAL_GUARD = f"""
CREATE OR REPLACE FUNCTION teller_approval_guard() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'approval_request % is a compliance record: never deleted', OLD.id {_REFUSE};
  END IF;
  IF (NEW.id, NEW.branch_code, NEW.kind, NEW.mode, NEW.request_hash, NEW.request_json, NEW.summary,
      NEW.rules_json, NEW.requester_id, NEW.terminal, NEW.expires_at, NEW.created_at)
     IS DISTINCT FROM
     (OLD.id, OLD.branch_code, OLD.kind, OLD.mode, OLD.request_hash, OLD.request_json, OLD.summary,
      OLD.rules_json, OLD.requester_id, OLD.terminal, OLD.expires_at, OLD.created_at) THEN
    RAISE EXCEPTION 'approval_request %: what was asked cannot change', OLD.id {_REFUSE};
  END IF;
  IF (OLD.hold_id IS NOT NULL AND NEW.hold_id IS DISTINCT FROM OLD.hold_id)
     OR (OLD.approver_id IS NOT NULL AND NEW.approver_id IS DISTINCT FROM OLD.approver_id)
     OR (OLD.decided_at IS NOT NULL AND NEW.decided_at IS DISTINCT FROM OLD.decided_at)
     OR (OLD.consumed_at IS NOT NULL AND NEW.consumed_at IS DISTINCT FROM OLD.consumed_at)
     OR (OLD.entry_id IS NOT NULL AND NEW.entry_id IS DISTINCT FROM OLD.entry_id) THEN
    RAISE EXCEPTION 'approval_request %: a decision is recorded once', OLD.id {_REFUSE};
  END IF;
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
       (OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected', 'cancelled', 'expired'))
    OR (OLD.status = 'approved' AND NEW.status IN ('consumed', 'cancelled', 'expired'))) THEN
    RAISE EXCEPTION 'approval_request %: % cannot become %', OLD.id, OLD.status, NEW.status {_REFUSE};
  END IF;
  IF NEW.status = OLD.status AND OLD.status NOT IN ('pending', 'approved')
     AND NEW.reason IS DISTINCT FROM OLD.reason THEN
    RAISE EXCEPTION 'approval_request %: a decided request is not rewritten', OLD.id {_REFUSE};
  END IF;
  RETURN NEW;
END $$
"""

_HOLD_GUARD = f"""
CREATE OR REPLACE FUNCTION teller_hold_guard() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'ledger_hold % is never deleted', OLD.id {_REFUSE};
  END IF;
  IF (NEW.id, NEW.idempotency_key, NEW.request_hash, NEW.request_json, NEW.kind, NEW.debit_account_id,
      NEW.credit_account_id, NEW.currency, NEW.amount, NEW.memo, NEW.actor_id, NEW.terminal_id,
      NEW.customer_id, NEW.created_at, NEW.expires_at)
     IS DISTINCT FROM
     (OLD.id, OLD.idempotency_key, OLD.request_hash, OLD.request_json, OLD.kind, OLD.debit_account_id,
      OLD.credit_account_id, OLD.currency, OLD.amount, OLD.memo, OLD.actor_id, OLD.terminal_id,
      OLD.customer_id, OLD.created_at, OLD.expires_at) THEN
    RAISE EXCEPTION 'ledger_hold %: what is held cannot change', OLD.id {_REFUSE};
  END IF;
  IF OLD.status <> 'pending' AND (NEW.status, NEW.resolved_at, NEW.resolved_entry_id)
     IS DISTINCT FROM (OLD.status, OLD.resolved_at, OLD.resolved_entry_id) THEN
    RAISE EXCEPTION 'ledger_hold % is % and stays so', OLD.id, OLD.status {_REFUSE};
  END IF;
  IF NEW.status NOT IN ('pending', 'posted', 'voided', 'expired') THEN
    RAISE EXCEPTION 'ledger_hold %: no status %', OLD.id, NEW.status {_REFUSE};
  END IF;
  RETURN NEW;
END $$
"""

_REGISTER_KIOSK = f"""
CREATE OR REPLACE FUNCTION teller_register_kiosk(p_username text, p_display_name text, p_branch_code text,
                                                 p_at timestamp with time zone)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_id integer;
  v_role text;
BEGIN
  IF p_username IS NULL OR p_username !~ '^kiosk-[a-z0-9._-]{{1,26}}$' THEN
    RAISE EXCEPTION 'not a kiosk user name: %', p_username USING ERRCODE = '22023';
  END IF;
  INSERT INTO public.staff (username, display_name, role, branch_code, password_hash, must_change_password,
                            failed_attempts, disabled, created_at)
  VALUES (p_username, left(coalesce(p_display_name, p_username), 80), 'kiosk', left(p_branch_code, 16), '',
          false, 0, false, p_at)
  ON CONFLICT (username) DO NOTHING;
  SELECT id, role INTO v_id, v_role FROM public.staff WHERE username = p_username;
  IF v_role IS DISTINCT FROM 'kiosk' THEN
    RAISE EXCEPTION 'the user name % belongs to a person, not a kiosk', p_username {_REFUSE};
  END IF;
  RETURN v_id;
END $$
"""


def guard_statements() -> list[str]:
    """PostgreSQL: the guard triggers and the kiosk registration function (idempotent)."""
    out = [_APPROVAL_GUARD.strip(), _HOLD_GUARD.strip(), _REGISTER_KIOSK.strip(),
           f"REVOKE ALL ON FUNCTION {KIOSK_REGISTER_SIGNATURE} FROM PUBLIC"]
    for table, fn in (("approval_request", "teller_approval_guard"), ("ledger_hold", "teller_hold_guard")):
        out += [f"DROP TRIGGER IF EXISTS {table}_guard ON {table}",
                f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {fn}()",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION teller_append_only()"]
    return out


def drop_guard_statements() -> list[str]:
    out = []
    for table in GUARDED_TABLES:
        out += [f"DROP TRIGGER IF EXISTS {table}_guard ON {table}", f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"]
    return out + ["DROP FUNCTION IF EXISTS teller_approval_guard()", "DROP FUNCTION IF EXISTS teller_hold_guard()",
                  f"DROP FUNCTION IF EXISTS {KIOSK_REGISTER_SIGNATURE}"]


_STREAM_HEAD_GUARD = f"""
CREATE OR REPLACE FUNCTION teller_stream_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'an audit stream head is never deleted' {_REFUSE};
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.entries <> 0 OR NEW.seq <> 0 OR NEW.hash <> repeat('0', 64) THEN
      RAISE EXCEPTION 'a new audit stream starts empty' {_REFUSE};
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.stream <> OLD.stream OR NEW.entries <> OLD.entries + 1 OR NEW.seq <= OLD.seq THEN
    RAISE EXCEPTION 'an audit stream head moves forward one record at a time' {_REFUSE};
  END IF;
  RETURN NEW;
END $$
"""


def stream_head_guard_statements() -> list[str]:
    """PostgreSQL: ``audit_stream_head`` only moves forward (idempotent; after its rows exist)."""
    return [_STREAM_HEAD_GUARD.strip(),
            "DROP TRIGGER IF EXISTS audit_stream_head_guard ON audit_stream_head",
            "CREATE TRIGGER audit_stream_head_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_stream_head "
            "FOR EACH ROW EXECUTE FUNCTION teller_stream_head_guard()",
            "DROP TRIGGER IF EXISTS audit_stream_head_no_truncate ON audit_stream_head",
            "CREATE TRIGGER audit_stream_head_no_truncate BEFORE TRUNCATE ON audit_stream_head "
            "FOR EACH STATEMENT EXECUTE FUNCTION teller_append_only()"]


def drop_stream_head_guard_statements() -> list[str]:
    return ["DROP TRIGGER IF EXISTS audit_stream_head_guard ON audit_stream_head",
            "DROP TRIGGER IF EXISTS audit_stream_head_no_truncate ON audit_stream_head",
            "DROP FUNCTION IF EXISTS teller_stream_head_guard()"]
