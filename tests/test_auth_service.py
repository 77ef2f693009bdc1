"""AuthService: sign-in, TOTP replay guard in the database, lockout, enrolment, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest

from teller_tui.auth import passwords, totp
from teller_tui.auth.service import (
    LOCKOUT_MINUTES,
    MAX_FAILED_ATTEMPTS,
    AuthService,
    failure_message,
    system_actor,
)
from teller_tui.common.clock import FakeClock
from teller_tui.audit.trail import Actor
from teller_tui.common.errors import ApprovalRequired, AuthenticationFailed, Conflict, PermissionDenied, ValidationError

from auth_fixtures import (
    ADMIN_PW,
    RFC_SECRET,
    SECRETS,
    SUP_PW,
    TELLER_PW,
    cheap_hashing,  # noqa: F401  (autouse fixture)
    code_for,
    make_test_services,
    seed_staff,
)


@pytest.fixture
def services(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> Any:
    svc = make_test_services(tmp_path / "home", db_path, clock, database=db)
    seed_staff(svc)
    return svc


def audit_actions(services: Any, limit: int = 200) -> list[tuple[str, str, str, str]]:
    with services.db.read() as s:
        recs = services.audit.recent(s, limit=limit)
    return [(r.action, r.outcome, r.actor, r.terminal_id) for r in reversed(recs)]


def test_service_registered(services: Any) -> None:
    assert isinstance(services.auth, AuthService)
    assert not services.auth.is_first_run()


def test_first_run_and_first_admin(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> None:
    svc = make_test_services(tmp_path / "home", db_path, clock, database=db)
    assert svc.auth.is_first_run()
    view = svc.auth.create_first_admin("Boss", "The Boss", ADMIN_PW, terminal_id="T09")
    assert view.username == "boss" and view.role == "admin" and not view.must_change_password
    assert not svc.auth.is_first_run()
    with pytest.raises(Conflict):
        svc.auth.create_first_admin("boss2", "Another", ADMIN_PW, terminal_id="T09")
    signed = svc.auth.authenticate("boss", ADMIN_PW, "", "T09")
    assert signed.needs_totp_enrolment and not signed.must_change_password
    assert ("staff_create", "ok", "boss", "T09") in audit_actions(svc)


# -- RFC 6238 through the service path ----------------------------------------------------------------
@pytest.mark.parametrize("unix_time, expected", [
    (59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
    (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130"),
])
def test_rfc6238_vectors(unix_time: int, expected: str) -> None:
    step = totp.current_step(datetime.fromtimestamp(unix_time, UTC))
    assert totp.totp_at(RFC_SECRET, step, digits=8) == expected
    assert totp.totp_at(RFC_SECRET, step) == expected[-6:]


@pytest.mark.parametrize("unix_time", [1111111109, 1234567890, 2000000000])
def test_service_accepts_rfc_code(services: Any, clock: FakeClock, unix_time: int) -> None:
    clock.set(datetime.fromtimestamp(unix_time, UTC))
    code = totp.totp_at(RFC_SECRET, totp.current_step(clock.now()))
    assert code == pyotp.TOTP(RFC_SECRET).at(unix_time)
    signed = services.auth.authenticate("wang", TELLER_PW, code, "T01")
    assert signed.complete and signed.staff.username == "wang"


# -- replay guard ----------------------------------------------------------------------------------------
def test_code_cannot_be_used_twice_on_the_same_terminal(services: Any, clock: FakeClock) -> None:
    code = code_for(SECRETS["wang"], clock)
    services.auth.authenticate("wang", TELLER_PW, code, "T01")
    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate("wang", TELLER_PW, code, "T01")


def test_code_used_on_one_terminal_fails_on_another(services: Any, clock: FakeClock, tmp_path: Path,
                                                   db_path: Path) -> None:
    from teller_tui.db.engine import make_database

    other_db = make_database(f"sqlite:///{db_path}")
    try:
        other = make_test_services(tmp_path / "home", db_path, clock, database=other_db, terminal_id="T02")
        code = code_for(SECRETS["wang"], clock)
        services.auth.authenticate("wang", TELLER_PW, code, "T01")
        with pytest.raises(AuthenticationFailed):
            other.auth.authenticate("wang", TELLER_PW, code, "T02")
        trail = audit_actions(services)
        assert ("sign_in", "failed", "wang", "T02") in trail
        # The next step's code works on the other terminal.
        clock.advance(seconds=30)
        other.auth.authenticate("wang", TELLER_PW, code_for(SECRETS["wang"], clock), "T02")
    finally:
        other_db.dispose()


def test_step_claim_is_atomic_in_the_database(services: Any) -> None:
    staff_id = services.auth.get_staff("wang").id
    with services.db.write() as s:
        assert AuthService._claim_step(s, staff_id, 100)
        assert not AuthService._claim_step(s, staff_id, 100)
        assert not AuthService._claim_step(s, staff_id, 99)
        assert AuthService._claim_step(s, staff_id, 101)


@pytest.mark.parametrize("offset, ok", [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_window_is_plus_minus_one_step(services: Any, clock: FakeClock, offset: int, ok: bool) -> None:
    code = code_for(SECRETS["wang"], clock, offset)
    if ok:
        services.auth.authenticate("wang", TELLER_PW, code, "T01")
    else:
        with pytest.raises(AuthenticationFailed):
            services.auth.authenticate("wang", TELLER_PW, code, "T01")


def test_earlier_step_refused_after_later_one(services: Any, clock: FakeClock) -> None:
    later = code_for(SECRETS["wang"], clock, 1)
    now = code_for(SECRETS["wang"], clock, 0)
    services.auth.authenticate("wang", TELLER_PW, later, "T01")
    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate("wang", TELLER_PW, now, "T01")


# -- uniform failures -----------------------------------------------------------------------------------
def test_uniform_failure_messages(services: Any, clock: FakeClock) -> None:
    good = code_for(SECRETS["wang"], clock)
    services.auth.disable(system_actor(services.settings), "li")
    attempts = [
        ("nobody", TELLER_PW, good),          # unknown user
        ("wang", "wrong password here", good),  # wrong password
        ("wang", TELLER_PW, "000000"),         # wrong code
        ("wang", TELLER_PW, ""),               # missing code
        ("li", SUP_PW, code_for(SECRETS["li"], clock)),  # disabled
    ]
    messages = set()
    for user, pw, code in attempts:
        with pytest.raises(AuthenticationFailed) as info:
            services.auth.authenticate(user, pw, code, "T01")
        messages.add(str(info.value))
    assert messages == {failure_message()}
    reasons = []
    with services.db.read() as s:
        for r in services.audit.recent(s, action="sign_in"):
            if r.outcome == "failed":
                reasons.append(r.detail["reason"])
    assert set(reasons) == {"unknown_user", "password", "code", "disabled"}


def test_unknown_user_spends_a_hash(services: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []
    real = passwords.verify_secret
    monkeypatch.setattr(passwords, "verify_secret", lambda h, p: seen.append(h) or real(h, p))
    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate("ghost", "whatever password", "123456", "T01")
    assert seen == [None]  # verify_secret(None, ...) burns a dummy hash


# -- lockout ----------------------------------------------------------------------------------------------
def test_lockout_after_ten_failures_survives_restart(services: Any, clock: FakeClock, tmp_path: Path,
                                                   db_path: Path) -> None:
    for i in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(AuthenticationFailed):
            services.auth.authenticate("wang", f"wrong password {i}", "", "T01")
    assert services.auth.get_staff("wang").failed_attempts == MAX_FAILED_ATTEMPTS - 1
    assert not services.auth.get_staff("wang").locked(clock.now())
    # The tenth failure comes from another terminal: the counter is per account.
    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate("wang", TELLER_PW, "000000", "T02")
    assert services.auth.get_staff("wang").locked(clock.now())
    services.close()

    # "Restart": a brand-new services object on the same file.
    from teller_tui.db.engine import make_database

    database = make_database(f"sqlite:///{db_path}")
    try:
        fresh = make_test_services(tmp_path / "home", db_path, clock, database=database)
        clock.advance(seconds=31)
        with pytest.raises(AuthenticationFailed) as info:
            fresh.auth.authenticate("wang", TELLER_PW, code_for(SECRETS["wang"], clock), "T01")
        assert str(info.value) == failure_message()
        trail = audit_actions(fresh)
        assert ("lockout", "locked", "wang", "T02") in trail
        # After 30 minutes the account opens again.
        clock.advance(minutes=LOCKOUT_MINUTES)
        fresh.auth.authenticate("wang", TELLER_PW, code_for(SECRETS["wang"], clock), "T01")
        assert fresh.auth.get_staff("wang").failed_attempts == 0
    finally:
        database.dispose()


def test_supervisor_unlocks(services: Any, clock: FakeClock) -> None:
    for i in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            services.auth.authenticate("wang", f"bad password {i}", "", "T01")
    li = services.auth.get_staff("li")
    with pytest.raises(PermissionDenied):
        services.auth.unlock(services.auth.get_staff("wang").actor("T01"), "li")  # a teller cannot
    with pytest.raises(PermissionDenied):  # nor a supervisor directly: people unlock with an approval
        services.auth.unlock(li.actor("T03"), "wang")
    # The supervisor asks, the administrator approves (policy rule staff_unlock).
    with pytest.raises(ApprovalRequired) as needs:
        services.staff_unlock.unlock(li.actor("T03"), "wang", "forgot the new password")
    clock.advance(seconds=31)
    approval = services.approvals.approve_at_counter(li.actor("T03"), needs.value.details["spec"], "admin",
                                                     ADMIN_PW, code_for(SECRETS["admin"], clock))
    services.staff_unlock.unlock(li.actor("T03"), "wang", "forgot the new password",
                                 approval_id=approval.approval_id)
    view = services.auth.get_staff("wang")
    assert not view.locked(clock.now()) and view.failed_attempts == 0
    services.auth.authenticate("wang", TELLER_PW, code_for(SECRETS["wang"], clock), "T01")
    assert ("unlock", "ok", "li", "T03") in audit_actions(services)


def test_success_resets_counter(services: Any, clock: FakeClock) -> None:
    for i in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(AuthenticationFailed):
            services.auth.authenticate("wang", f"bad password {i}", "", "T01")
    services.auth.authenticate("wang", TELLER_PW, code_for(SECRETS["wang"], clock), "T01")
    assert services.auth.get_staff("wang").failed_attempts == 0


# -- one-time password, change, enrolment -------------------------------------------------------------------
def test_new_staff_one_time_password_then_change_and_enrol(services: Any, clock: FakeClock) -> None:
    admin = services.auth.get_staff("admin").actor("T01")
    view, otp = services.auth.create_staff(admin, "zhao", "赵六", "teller")
    assert otp and view.must_change_password and not view.totp_active
    signed = services.auth.authenticate("zhao", otp, "", "T05")
    assert signed.must_change_password and signed.needs_totp_enrolment and not signed.complete
    with pytest.raises(ValidationError):
        services.auth.change_password(signed.actor, otp, "short")
    with pytest.raises(ValidationError):
        services.auth.change_password(signed.actor, "not the otp at all", "a fine new passphrase")
    services.auth.change_password(signed.actor, otp, "a fine new passphrase")
    enrol = services.auth.begin_totp_enrolment(signed.actor)
    assert enrol.uri.startswith("otpauth://totp/Teller:zhao?secret=") and "issuer=Teller" in enrol.uri
    assert len(totp._secret_bytes(enrol.secret)) * 8 >= 160
    assert not services.auth.get_staff("zhao").totp_active  # pending until confirmed
    with pytest.raises(ValidationError):
        services.auth.confirm_totp_enrolment(signed.actor, "000000")
    code = code_for(enrol.secret, clock)
    services.auth.confirm_totp_enrolment(signed.actor, code)
    assert services.auth.get_staff("zhao").totp_active
    # The confirming code is used up; the next step signs in.
    with pytest.raises(AuthenticationFailed):
        services.auth.authenticate("zhao", "a fine new passphrase", code, "T05")
    clock.advance(seconds=30)
    signed = services.auth.authenticate("zhao", "a fine new passphrase", code_for(enrol.secret, clock), "T05")
    assert signed.complete
    # The secret is stored encrypted, never in clear.
    from teller_tui.models import Staff

    with services.db.read() as s:
        row = s.get(Staff, view.id)
        assert row.totp_secret_enc and enrol.secret not in row.totp_secret_enc
    with pytest.raises(Conflict):
        services.auth.begin_totp_enrolment(signed.actor)


def test_reset_totp_forces_enrolment(services: Any, clock: FakeClock) -> None:
    admin = services.auth.get_staff("admin").actor("T01")
    with pytest.raises(PermissionDenied):
        services.auth.reset_totp(services.auth.get_staff("li").actor("T01"), "wang")
    services.auth.reset_totp(admin, "wang")
    signed = services.auth.authenticate("wang", TELLER_PW, "", "T01")
    assert signed.needs_totp_enrolment
    with pytest.raises(PermissionDenied):
        services.auth.reset_totp(admin, "admin")


def test_argon2_parameters_read_back_from_stored_hash(services: Any) -> None:
    from teller_tui.models import Staff

    passwords.use_default_parameters()
    try:
        admin = services.auth.get_staff("admin").actor("T01")
        view, _otp = services.auth.create_staff(admin, "strong", "Strong Hash", "teller",
                                                password="a strong long passphrase")
    finally:
        passwords.use_test_parameters()
    with services.db.read() as s:
        stored = s.get(Staff, view.id).password_hash
    params = passwords.hash_parameters(stored)
    assert params.variant == "argon2id"
    assert params.memory_cost >= 19456 and params.time_cost >= 2  # OWASP minimum or stronger
    assert params == passwords.DEFAULT_PARAMS


def test_unicode_password_any_script(services: Any, clock: FakeClock) -> None:
    # Precomposed vs combining accents are the same password (NFC).
    admin = services.auth.get_staff("admin").actor("T01")
    services.auth.create_staff(admin, "chen", "陈", "teller", password="caf\u00e9 au lait 中文密码",
                               totp_secret=SECRETS["li"])
    services.auth.authenticate("chen", "cafe\u0301 au lait 中文密码", code_for(SECRETS["li"], clock), "T01")


# -- fresh credentials (supervisor approval) -----------------------------------------------------------------
def test_verify_fresh_credentials(services: Any, clock: FakeClock) -> None:
    wang = services.auth.get_staff("wang")
    li = services.auth.get_staff("li")
    approver = services.auth.verify_fresh_credentials("li", SUP_PW, code_for(SECRETS["li"], clock),
                                                      required_role="supervisor", not_staff_id=wang.id)
    assert approver.id == li.id
    # A code cannot be reused for a second approval.
    with pytest.raises(AuthenticationFailed):
        services.auth.verify_fresh_credentials("li", SUP_PW, code_for(SECRETS["li"], clock),
                                               required_role="supervisor", not_staff_id=wang.id)
    clock.advance(seconds=30)
    # A teller is not a supervisor.
    with pytest.raises(AuthenticationFailed):
        services.auth.verify_fresh_credentials("wang", TELLER_PW, code_for(SECRETS["wang"], clock),
                                               required_role="supervisor", not_staff_id=li.id)


def test_verify_fresh_credentials_refuses_self(services: Any, clock: FakeClock) -> None:
    li = services.auth.get_staff("li")
    with pytest.raises(PermissionDenied):
        services.auth.verify_fresh_credentials("li", SUP_PW, code_for(SECRETS["li"], clock),
                                               required_role=("supervisor", "admin"), not_staff_id=li.id)
    assert ("approval_auth", "failed", "li", "T01") in audit_actions(services)


def test_verify_fresh_credentials_needs_totp(services: Any) -> None:
    services.auth.reset_totp(services.auth.get_staff("admin").actor("T01"), "li")
    with pytest.raises(AuthenticationFailed):
        services.auth.verify_fresh_credentials("li", SUP_PW, "", required_role="supervisor", not_staff_id=None)


# -- audit ----------------------------------------------------------------------------------------------------
def test_every_auth_event_is_audited_with_terminal(services: Any, clock: FakeClock) -> None:
    from teller_tui.audit.trail import verify

    auth = services.auth
    admin = auth.get_staff("admin").actor("T07")
    _view, otp = auth.create_staff(admin, "sun", "孙", "teller")
    signed = auth.authenticate("sun", otp, "", "T07")
    auth.change_password(signed.actor, otp, "sun's new long passphrase")
    enrol = auth.begin_totp_enrolment(signed.actor)
    auth.confirm_totp_enrolment(signed.actor, code_for(enrol.secret, clock))
    auth.record_session_event(signed.actor, "lock", reason="idle")
    clock.advance(seconds=30)
    auth.authenticate("sun", "sun's new long passphrase", code_for(enrol.secret, clock), "T07",
                      purpose="unlock_screen")
    auth.record_session_event(signed.actor, "sign_out")
    for i in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            auth.authenticate("sun", f"nope nope nope {i}", "", "T07")
    auth.unlock(Actor(None, "system:test", "T07", "system", "B001"), "sun")  # the host's `teller staff unlock`
    auth.reset_totp(admin, "sun")
    auth.disable(admin, "sun")
    trail = [(a, o) for a, o, _who, term in audit_actions(services) if term == "T07"]
    for expected in [("staff_create", "ok"), ("sign_in", "ok"), ("password_change", "ok"),
                     ("totp_enrol_begin", "ok"), ("totp_enrol", "ok"), ("lock", "ok"), ("unlock_screen", "ok"),
                     ("sign_out", "ok"), ("sign_in", "failed"), ("lockout", "locked"), ("unlock", "ok"),
                     ("totp_reset", "ok"), ("disable", "ok")]:
        assert expected in trail, expected
    with services.db.read() as s:
        assert verify(s).ok


# -- idle lock policy with a fake clock (the UI's timer calls this) --------------------------------------------
def test_idle_lock_with_fake_clock() -> None:
    from teller_tui.auth.session import IdleTracker

    clock = FakeClock(datetime(2026, 1, 5, 1, 0, tzinfo=UTC))
    tracker = IdleTracker(clock, timeout_seconds=15 * 60)
    assert not tracker.expired()
    clock.advance(minutes=14, seconds=59)
    assert not tracker.expired()
    tracker.touch()
    clock.advance(minutes=14)
    assert not tracker.expired()
    clock.advance(minutes=1)
    assert tracker.expired()
    assert tracker.idle_for() == timedelta(minutes=15)
