"""Onboarding core: step validators, tier offers, duplicates, drafts (expiry, purge), issuance."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from teller_tui.common.errors import NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import _
from teller_tui.models import Wallet
from teller_tui.wallets.identity import make_prc_id
from teller_tui.wallets.onboarding import (
    DOC_NONE,
    DuplicateCustomer,
    blank_data,
    evidence_of,
    offered_tiers,
    render_welcome,
    validate_section,
    welcome_points,
)
from teller_tui.wallets.classes import default_table

from onboarding_fixtures import BIRTH, CARD, ID_NUMBER, PIN, env, full_data  # noqa: F401

TODAY = date(2026, 11, 23)


def _v(step: str, data: dict, **kw: object) -> dict:
    return validate_section(step, data, today=TODAY, tiers=default_table(), **kw)


def _code(step: str, data: dict, **kw: object) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        _v(step, data, **kw)
    return info.value.code, info.value.details.get("field", "")


# -- identity -------------------------------------------------------------------------------
def test_valid_prc_id_normalised() -> None:
    data = full_data(identity={"number": ID_NUMBER.lower() if ID_NUMBER.endswith("X") else " " + ID_NUMBER + " "})
    assert _v("identity", data)["number"] == ID_NUMBER


def test_x_check_digit_accepted_and_wrong_one_refused() -> None:
    x_id = next(n for seq in range(1, 400) if (n := make_prc_id("110101", BIRTH, seq, "M")).endswith("X"))
    assert _v("identity", full_data(identity={"number": x_id.lower()}))["number"] == x_id
    wrong = x_id[:-1] + "1"
    assert _code("identity", full_data(identity={"number": wrong})) == ("id_check_digit", "number")


def test_wrong_region_refused() -> None:
    bad = make_prc_id("110101", BIRTH, 15, "F")
    bad = "99" + bad[2:]
    assert _code("identity", full_data(identity={"number": bad}))[0] in ("id_region", "id_check_digit")
    from teller_tui.wallets.identity import prc_id_check_digit

    body = "990101" + bad[6:17]
    assert _code("identity", full_data(identity={"number": body + prc_id_check_digit(body)})) == (
        "id_region", "number")


def test_future_birth_date_refused() -> None:
    from teller_tui.wallets.identity import prc_id_check_digit

    body = "110101" + "20301212" + "123"
    assert _code("identity", full_data(identity={"number": body + prc_id_check_digit(body)})) == (
        "id_future_birth", "number")


def test_expired_card_refused_on_expiry_field() -> None:
    assert _code("identity", full_data(identity={"expiry": "2020-01-01"})) == ("id_expired", "expiry")


def test_bad_expiry_text() -> None:
    assert _code("identity", full_data(identity={"expiry": "tomorrow"})) == ("date_format", "expiry")


def test_in_person_check_required() -> None:
    assert _code("identity", full_data(identity={"in_person": False})) == ("in_person", "in_person")


@pytest.mark.parametrize(("doc_type", "number", "ok"), [
    ("passport", "E12345678", True), ("passport", "X1", False),
    ("hk_macau_permit", "H12345678", True), ("hk_macau_permit", "Q12345678", False),
    ("taiwan_permit", "12345678", True), ("taiwan_permit", "1234", False),
])
def test_other_documents(doc_type: str, number: str, ok: bool) -> None:
    data = full_data(identity={"doc_type": doc_type, "number": number, "expiry": "2030-01-01"})
    if ok:
        assert _v("identity", data)["number"] == number
    else:
        assert _code("identity", data)[1] == "number"


def test_passport_needs_expiry() -> None:
    data = full_data(identity={"doc_type": "passport", "number": "E12345678", "expiry": ""})
    assert _code("identity", data) == ("date_empty", "expiry")


# -- personal / contact ------------------------------------------------------------------------
def test_personal_takes_birth_and_sex_from_the_id() -> None:
    out = _v("personal", full_data())
    assert out["birth_date"] == BIRTH.isoformat() and out["sex"] == "F"
    assert _code("personal", full_data(personal={"birth_date": "1991-01-01"})) == ("birth_mismatch", "birth_date")
    assert _code("personal", full_data(personal={"sex": "M"})) == ("sex_mismatch", "sex")


@pytest.mark.parametrize("name", ["王芳", "Zhang Wei", "阿依古丽·买买提"])
def test_names_cjk_and_latin(name: str) -> None:
    assert _v("personal", full_data(personal={"full_name": name}))["full_name"]


@pytest.mark.parametrize(("field", "value"), [("full_name", "王\x1b芳"), ("address", "路\x07"),
                                              ("occupation", "a\u202eb"), ("full_name", "王3")])
def test_control_characters_refused(field: str, value: str) -> None:
    assert _code("personal", full_data(personal={field: value}))[1] == field


def test_latin_spelling_defaults_for_latin_names() -> None:
    out = _v("personal", full_data(personal={"full_name": "Anna Lee", "name_latin": ""}))
    assert out["name_latin"] == "anna lee"


def test_phone_rules() -> None:
    assert _v("contact", full_data(contact={"phone": "138 0013 8000"}))["phone"] == "13800138000"
    assert _code("contact", full_data(contact={"phone": "12345"}))[1] == "phone"
    assert _code("contact", full_data(contact={"phone_confirmed": False})) == ("phone_unconfirmed",
                                                                               "phone_confirmed")


def test_risk_level() -> None:
    assert _v("risk", full_data())["risk_level"] == "low"
    assert _v("risk", full_data(risk={"pep": True}))["risk_level"] == "high"
    assert _v("risk", full_data(risk={"purpose": "business"}))["risk_level"] == "medium"
    assert _code("risk", full_data(risk={"purpose": "x"}))[1] == "purpose"


# -- tiers -------------------------------------------------------------------------------------
def test_offered_tiers_follow_the_evidence() -> None:
    table = default_table()
    full = [o.tier.number for o in offered_tiers(full_data(), today=TODAY, tiers=table)]
    assert full == [1, 2, 3, 4]
    # Class 1 is opened with an own bank account linked (the 2021 classes), like class 2.
    assert [o.needs_link for o in offered_tiers(full_data(), today=TODAY, tiers=table)] == [True, True, False,
                                                                                           False]
    anon = full_data(identity={"doc_type": DOC_NONE, "number": ""})
    assert [o.tier.number for o in offered_tiers(anon, today=TODAY, tiers=table)] == [4]
    no_phone = full_data(contact={"phone_confirmed": False})
    assert offered_tiers(no_phone, today=TODAY, tiers=table) == []


def test_tier_step_refuses_a_class_the_evidence_does_not_allow() -> None:
    anon = full_data(identity={"doc_type": DOC_NONE, "number": ""}, tier={"tier": 1})
    assert _code("tier", anon) == ("tier_not_allowed", "tier")
    assert _v("tier", full_data(tier={"tier": 2}))["needs_link"] is True


def test_limits_effective_dated() -> None:
    table = default_table()
    old, new = table.tier(4, on=date(2020, 1, 1)).balance_cap, table.tier(4, on=TODAY).balance_cap
    assert old is not None and new is not None and old < new
    assert table.tier(1, on=TODAY).balance_cap is None  # unlimited since 2021


def test_class2_needs_own_linked_account() -> None:
    assert _code("funding", full_data(tier={"tier": 2}, funding={"kind": "none"})) == ("link_required", "kind")
    assert _code("funding", full_data(tier={"tier": 2}, funding={"holder_name": "李四"})) == (
        "holder_mismatch", "holder_name")
    assert "own_bank_account" in evidence_of(full_data())


def test_card_number_checks() -> None:
    out = _v("funding", full_data())
    assert out["number"] == CARD and out["bank_name"]
    bad = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)
    assert _code("funding", full_data(funding={"number": bad})) == ("card_check", "number")


# -- security / explanations / review -------------------------------------------------------------
@pytest.mark.parametrize(("pin", "code"), [("123456", "pin_sequence"), ("111111", "pin_same"),
                                           ("900307", "pin_birth"), ("12345", "pin_format"),
                                           ("138000", "pin_phone")])
def test_trivial_pins_refused(pin: str, code: str) -> None:
    data = full_data(contact={"phone": "13800138000"})
    data["personal"]["birth_date"] = BIRTH.isoformat()
    if code == "pin_phone":
        data["contact"]["phone"] = "13800138000"
        pin = "138000"
    assert _code("security", data, pin=pin)[0] == code


def test_pin_twice_must_match_and_totp_must_be_confirmed() -> None:
    assert _code("security", full_data(), pin=PIN, pin_again="358178") == ("pin_mismatch", "pin_again")
    assert _code("security", full_data(security={"totp": True}), pin=PIN) == ("totp_unconfirmed", "totp_code")
    assert _v("security", full_data(), pin=PIN)["pin_set"] is True


def test_explanations_and_consent() -> None:
    assert _code("explanations", full_data(explanations={"help": False})) == ("explanation_missing", "help")
    assert _code("review", full_data(review={"consent": False})) == ("consent", "consent")


# -- duplicates ---------------------------------------------------------------------------------
def test_duplicate_document_redirects(env) -> None:  # type: ignore[no-untyped-def]
    res = env.onboarding.issue(env.teller, full_data(), pin=PIN, idempotency_key="k1")
    with pytest.raises(DuplicateCustomer) as info:
        env.onboarding.validate_step("identity", full_data())
    assert info.value.customer_id == res.customer_id
    with pytest.raises(DuplicateCustomer):
        env.onboarding.issue(env.teller, full_data(funding={"kind": "none"}, tier={"tier": 3}), pin=PIN,
                             idempotency_key="k2")


# -- drafts -------------------------------------------------------------------------------------
def test_draft_never_stores_the_pin_or_clear_secrets(env) -> None:  # type: ignore[no-untyped-def]
    data = full_data()
    data["security"].update(pin=PIN, pin_again=PIN, pin_set=True, totp=True, totp_confirmed=True)
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    info = env.onboarding.save_draft(env.teller, data, "security", totp_secret=secret)
    from teller_tui.models import OnboardingDraft

    with env.services.db.read() as s:
        raw = s.get(OnboardingDraft, info.draft_id).data_json
    assert PIN not in raw and secret not in raw and CARD not in raw
    stored = json.loads(raw)
    assert stored["security"]["pin_set"] is True and "pin" not in stored["security"]
    assert stored["funding"]["number"] == "" and stored["funding"]["number_hint"].endswith(CARD[-4:])
    state = env.onboarding.load_draft(env.teller2, info.draft_id)  # any teller of the branch
    assert state.totp_secret == secret and state.info.step == "security"
    assert state.data["personal"]["full_name"] == "王芳"
    assert "王" in info.label and "*" in info.label


def test_draft_branch_and_expiry(env) -> None:  # type: ignore[no-untyped-def]
    info = env.onboarding.save_draft(env.teller, full_data(), "contact")
    with pytest.raises(PermissionDenied):
        env.onboarding.load_draft(env.other_branch, info.draft_id)
    assert [d.draft_id for d in env.onboarding.list_drafts(env.teller2)] == [info.draft_id]
    assert env.onboarding.list_drafts(env.other_branch) == []
    hours = env.services.settings.draft_expiry_hours
    env.clock.advance(hours=hours - 1)
    env.onboarding.save_draft(env.teller2, full_data(), "risk", draft_id=info.draft_id)  # renews
    env.clock.advance(hours=2)
    assert env.onboarding.load_draft(env.teller, info.draft_id).info.step == "risk"
    env.clock.advance(hours=hours)
    with pytest.raises(NotFound):
        env.onboarding.load_draft(env.teller, info.draft_id)
    assert env.onboarding.list_drafts(env.teller) == []
    assert env.onboarding.purge_expired(env.teller) == 1
    assert env.onboarding.purge_expired(env.teller) == 0
    from teller_tui.models import OnboardingDraft

    with env.services.db.read() as s:
        assert s.execute(select(func.count()).select_from(OnboardingDraft)).scalar_one() == 0


def test_discard_draft(env) -> None:  # type: ignore[no-untyped-def]
    info = env.onboarding.save_draft(env.teller, blank_data(), "identity")
    env.onboarding.discard_draft(env.teller2, info.draft_id)
    with pytest.raises(NotFound):
        env.onboarding.load_draft(env.teller, info.draft_id)


# -- issuance -----------------------------------------------------------------------------------
def test_issue_class1_wallet_with_everything(env) -> None:  # type: ignore[no-untyped-def]
    from teller_tui.auth.passwords import verify_pin
    from teller_tui.models import Customer, LinkedAccount, Wallet

    draft = env.onboarding.save_draft(env.teller, full_data(), "review")
    enrol = env.onboarding.new_totp(full_data())
    from teller_tui.auth.totp import current_step, totp_at

    assert env.onboarding.check_totp(enrol.secret, totp_at(enrol.secret, current_step(env.clock.now())))
    data = full_data(security={"totp": True, "totp_confirmed": True})
    res = env.onboarding.issue(env.teller, data, pin=PIN, totp_secret=enrol.secret, draft_id=draft.draft_id,
                               idempotency_key="issue-1")
    assert res.wallet.tier == 1 and res.linked_masked.endswith(CARD[-4:])
    assert PIN not in res.welcome_text and enrol.secret not in res.welcome_text
    assert res.wallet.number[-4:] in res.welcome_text.replace(" ", "")
    assert res.welcome_path is not None and res.welcome_path.read_text() == res.welcome_text
    with env.services.db.read() as s:
        c = s.get(Customer, res.customer_id)
        assert verify_pin(c.pin_hash, PIN) and c.kyc_level == "in_person" and c.sex == "F"
        assert c.totp_secret_enc and enrol.secret not in c.totp_secret_enc
        w = s.get(Wallet, res.wallet.wallet_id)
        assert json.loads(w.explanations_json)["security"] is True
        link = s.execute(select(LinkedAccount)).scalar_one()
        assert CARD not in (link.token + link.masked) and link.token == env.services.funding.token_for(CARD)
        # Issue 24: the welcome points are granted on the first payment (data/rewards.toml "first_use"),
        # no longer at issue (this assertion pinned the old rule); the sheet promises them.
        pts = env.services.ledger.balance(s, w.points_account_id).posted
        assert pts.minor == 0 and res.reward_points == welcome_points(TODAY) > 0
    assert _("{points} points on your first payment").format(points=res.reward_points) in res.welcome_text
    assert env.onboarding.list_drafts(env.teller) == []
    again = env.onboarding.issue(env.teller, data, pin=PIN, totp_secret=enrol.secret, idempotency_key="issue-1")
    assert again.replayed and again.wallet.wallet_id == res.wallet.wallet_id
    from teller_tui.audit.trail import verify

    with env.services.db.read() as s:
        verify(s)


def test_issue_anonymous_class4(env) -> None:  # type: ignore[no-untyped-def]
    data = full_data(identity={"doc_type": DOC_NONE, "number": ""}, tier={"tier": 4}, funding={"kind": "none"},
                     personal={"full_name": "Anna Lee"})
    res = env.onboarding.issue(env.teller, data, pin=PIN, idempotency_key="anon")
    assert res.wallet.tier == 4 and res.linked_masked == ""


def test_issue_refuses_invalid_data(env) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        env.onboarding.issue(env.teller, full_data(review={"consent": False}), pin=PIN, idempotency_key="x")
    assert info.value.code == "consent"
    with pytest.raises(ValidationError):
        env.onboarding.issue(env.teller, full_data(), pin="123456", idempotency_key="y")


def test_welcome_sheet_in_chinese(env) -> None:  # type: ignore[no-untyped-def]
    res = env.onboarding.issue(env.teller, full_data(), pin=PIN, idempotency_key="zh")
    text = env.onboarding.welcome_text(res.wallet.wallet_id, locale="zh_CN")
    assert "一类钱包" in text and PIN not in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_welcome_points_effective_dated() -> None:
    assert welcome_points(date(2019, 1, 1)) == 0
    assert welcome_points(date(2021, 1, 1)) < welcome_points(TODAY)
    _ = render_welcome, timedelta


def test_first_use_reward_on_the_first_payment_once(env) -> None:  # type: ignore[no-untyped-def]
    """Issue 24: the opening deposit earns nothing; the first payment after it (the activation) earns
    the welcome points, through the ledger, once; later payments and a replay add nothing."""
    from teller_tui.common.money import Money
    from teller_tui.ledger.kinds import EntryKind
    from teller_tui.models import JournalEntry
    from teller_tui.wallets.activation import activation_of

    res = env.onboarding.issue(env.teller, full_data(), pin=PIN, idempotency_key="first-use")
    wid = res.wallet.wallet_id
    funding = env.services.funding

    def points() -> int:
        with env.services.db.read() as s:
            w = s.get(Wallet, wid)
            return int(env.services.ledger.balance(s, w.points_account_id).posted.minor)

    funding.top_up_from_linked(env.teller, wid, Money.of("100"), idempotency_key="dep-1")  # opening deposit
    assert points() == 0
    with env.services.db.read() as s:
        assert activation_of(s, wid) is None
    funding.withdraw_to_linked(env.teller, wid, Money.of("30"), idempotency_key="pay-1")  # activation
    assert points() == welcome_points(TODAY) > 0
    funding.withdraw_to_linked(env.teller, wid, Money.of("30"), idempotency_key="pay-1")  # replay
    funding.top_up_from_linked(env.teller, wid, Money.of("10"), idempotency_key="dep-2")
    assert points() == welcome_points(TODAY)
    with env.services.db.read() as s:
        rewards = s.execute(select(JournalEntry).where(JournalEntry.kind == EntryKind.WELCOME_REWARD)).scalars().all()
        assert len(rewards) == 1 and rewards[0].idempotency_key == f"first-use:{res.wallet.number}"
        assert activation_of(s, wid) is not None


def test_reward_rule_from_the_data_file() -> None:
    from teller_tui.wallets.rewards import GRANT_AT_ISSUE, GRANT_FIRST_USE, reward_rule

    assert reward_rule(date(2021, 1, 1)).grant == GRANT_AT_ISSUE  # the first release's rule, kept by date
    assert reward_rule(TODAY).grant == GRANT_FIRST_USE
    assert reward_rule(date(2019, 1, 1)).points == 0
