"""Training mode, core: isolation from the live books, the simulated supervisor only in training,
scoring from the training audit trail, receipts watermarked, reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from desk_harness import SUPERVISOR_PW
from teller_tui.audit.trail import Actor
from teller_tui.common.errors import ApprovalRequired, Conflict
from teller_tui.common.money import Money
from teller_tui.common.settings import load_settings
from teller_tui.common.watermark import TRAINING_WATERMARK
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.models import Staff
from teller_tui.training.mode import training_settings
from teller_tui.training.report import attempts, effect, live_signals, summarize
from teller_tui.training.scenarios import load_quiz, load_scenarios
from teller_tui.training.service import SIM_SUPERVISOR
from training_harness import Training, counts, make_training


@pytest.fixture
def world(tmp_path: Any, db_path: Any, db: Any, template_db: Any, clock: Any) -> Iterator[Training]:
    w = make_training(tmp_path, db_path, db, template_db, clock)
    yield w
    w.services.close()


# -- scenarios ---------------------------------------------------------------------------------------------
def test_at_least_eight_scenarios_in_both_languages() -> None:
    found = load_scenarios()
    assert len(found) >= 8
    for sc in found:
        assert sc.title.zh_CN and sc.title.en and sc.title.zh_CN != sc.title.en
        assert sc.script and all(line.zh_CN and line.en for line in sc.script)
        assert all(step.missed.zh_CN and step.missed.en for step in sc.steps)
    assert {"stolen-phone", "phishing-victim", "structuring", "cash-out-over-limit"} <= {s.id for s in found}
    assert all(q.scenario in {s.id for s in found} for q in load_quiz())


def test_every_feedback_links_a_knowledge_base_article() -> None:
    from teller_tui.common.paths import data_dir

    for sc in load_scenarios():
        for step in sc.steps:
            if step.kb:
                assert (data_dir() / "kb" / f"{step.kb}.en.md").is_file(), (sc.id, step.kb)
                assert (data_dir() / "kb" / f"{step.kb}.zh_CN.md").is_file(), (sc.id, step.kb)


# -- isolation -----------------------------------------------------------------------------------------------
def test_training_postings_never_touch_the_live_database(world: Training) -> None:
    live, training = world.live.services, world.services
    assert training.settings.training and not live.settings.training
    assert training.db.path != live.db.path and training.settings.home != live.settings.home
    live_before = counts(live)
    wallet_id, _number = world.wallet_of(world.phone("cash-in-out-change"))
    training.cash.cash_in(world.trainee, wallet_id, Money.of("1250"), idempotency_key=new_idempotency_key())
    training.cash.cash_out(world.trainee, wallet_id, Money.of("300"), idempotency_key=new_idempotency_key())
    assert counts(live) == live_before  # no entry, no audit record in the live books
    with live.db.read() as s:  # the scenario customers exist only in training
        from sqlalchemy import select

        from teller_tui.models import Customer
        assert s.execute(select(Customer).where(Customer.phone == world.phone("cash-in-out-change"))).first() is None
    # and the reverse: live work leaves the training books alone
    training_before = counts(training)
    live.cash.cash_in(world.live.actor, world.live.wallets["wang"].wallet_id, Money.of("10"),
                      idempotency_key=new_idempotency_key())
    assert counts(training) == training_before
    assert counts(live)[0] > live_before[0]  # the cash-in (and a first-use reward if it was the first payment)


def test_training_has_its_own_key_file_and_audit_chain(world: Training) -> None:
    live, training = world.live.services, world.services
    with live.db.read() as a, training.db.read() as b:
        assert live.audit.head(a) != training.audit.head(b)
        from teller_tui.audit.trail import verify
        assert verify(b).ok and verify(a).ok
    assert training.settings.home == live.settings.home / "training"


def test_settings_cannot_be_switched_into_training_from_outside(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("TELLER_TRAINING", "1")
    monkeypatch.setenv("TELLER__TRAINING", "1")
    live = load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'teller.db'}")
    assert live.training is False
    with pytest.raises(Conflict, match="must not be the live"):
        training_settings(load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'teller.db'}",
                                        training_database_url=f"sqlite:///{tmp_path / 'teller.db'}"))
    with pytest.raises(Conflict, match="TELLER_TRAINING_DATABASE_URL"):
        training_settings(load_settings(home=tmp_path, database_url="postgresql+psycopg://x@h/teller"))
    pg = training_settings(load_settings(home=tmp_path, database_url="postgresql+psycopg://x@h/teller",
                                         training_database_url="postgresql+psycopg://x@h/teller_training"))
    assert pg.training and pg.effective_database_url.endswith("/teller_training")


def test_live_services_refuse_training_and_have_no_simulated_supervisor(world: Training) -> None:
    live = world.live.services
    teller = world.live.actor
    for call in (lambda: live.training.start(teller, "stolen-phone"),
                 lambda: live.training.finish(teller, 1),
                 lambda: live.training.answer_approvals(teller, "cash-out-over-limit")):
        with pytest.raises(Conflict) as err:
            call()
        assert err.value.code == "not_training"
    with live.db.read() as s:
        from sqlalchemy import select
        assert s.execute(select(Staff).where(Staff.username == SIM_SUPERVISOR)).first() is None
    assert not (live.settings.home / "simulated_supervisor.toml").exists()
    assert (world.services.settings.home / "simulated_supervisor.toml").stat().st_mode & 0o077 == 0


def test_training_settings_on_a_live_database_are_refused(world: Training) -> None:
    """Even with settings marked as training, a database the builder did not mark is refused."""
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.services import make_services

    marked = training_settings(world.live.services.settings)
    on_live = make_services(marked, clock=world.clock, database=world.live.services.db, box=SecretBox.ephemeral())
    with pytest.raises(Conflict) as err:
        on_live.training.start(world.live.actor, "stolen-phone")
    assert err.value.code == "not_training"


# -- receipts ------------------------------------------------------------------------------------------------
def test_every_training_receipt_carries_the_watermark(world: Training) -> None:
    wallet_id, _ = world.wallet_of(world.phone("cash-in-out-change"))
    r = world.services.cash.cash_in(world.trainee, wallet_id, Money.of("20"), idempotency_key=new_idempotency_key())
    lines = r.receipt_text.splitlines()
    assert TRAINING_WATERMARK in lines[0] and TRAINING_WATERMARK in lines[-1]
    assert TRAINING_WATERMARK in world.services.cash.receipt_for(r.reference)  # reprints too
    live = world.live.services.cash.cash_in(world.live.actor, world.live.wallets["wang"].wallet_id, Money.of("20"),
                                            idempotency_key=new_idempotency_key())
    assert "TRAINING" not in live.receipt_text and "培训" not in live.receipt_text


# -- assessment ----------------------------------------------------------------------------------------------
def test_stolen_phone_played_well_passes(world: Training) -> None:
    t = world.services
    run = t.training.start(world.trainee, "stolen-phone")
    wallet_id, _ = world.wallet_of(world.phone("stolen-phone"))
    world.clock.advance(seconds=120)
    t.lifecycle.block_lost(world.trainee, wallet_id, "phone stolen")
    t.cases.open_case(world.trainee, run.customer_id, "lost_device", "phone stolen on the metro", wallet_id=wallet_id)
    result = t.training.finish(world.trainee, run.run_id, keys=42, answers={"stolen-first": 1, "stolen-unfreeze": 2})
    assert result.passed and result.score == 100
    assert (result.quiz_right, result.quiz_asked) == (1, 2)
    assert result.seconds == 120 and result.keys == 42
    with t.db.read() as s:
        [a] = attempts(s)
    assert a.trainee == "wang" and a.passed and a.scenario == "stolen-phone"


def test_stolen_phone_with_the_cash_rushed_out_fails_with_its_feedback(world: Training) -> None:
    t = world.services
    run = t.training.start(world.trainee, "stolen-phone")
    wallet_id, _ = world.wallet_of(world.phone("stolen-phone"))
    t.cash.cash_out(world.trainee, wallet_id, Money.of("3000"), idempotency_key=new_idempotency_key())
    result = t.training.finish(world.trainee, run.run_id)
    assert not result.passed
    by = {r.step: r for r in result.steps}
    assert not by["blocked"].done and "block the wallet first" in by["blocked"].feedback("en")
    assert "冻结钱包" in by["blocked"].feedback("zh_CN") and by["blocked"].kb == "lost-phone"
    assert not by["no_cash_out"].done and result.wrong_postings == 1
    assert set(result.compliance_skipped) == {"blocked", "no_cash_out"}
    with pytest.raises(Conflict):  # scored once
        t.training.finish(world.trainee, run.run_id)


def test_work_before_the_run_does_not_count(world: Training) -> None:
    t = world.services
    wallet_id, _ = world.wallet_of(world.phone("stolen-phone"))
    t.lifecycle.block_lost(world.trainee, wallet_id, "earlier")
    world.clock.advance(seconds=5)
    run = t.training.start(world.trainee, "stolen-phone")
    result = t.training.finish(world.trainee, run.run_id)
    assert not {r.step: r for r in result.steps}["blocked"].done


def test_simulated_supervisor_approves_the_queued_over_limit_cash_out(world: Training) -> None:
    t = world.services
    run = t.training.start(world.trainee, "cash-out-over-limit")
    wallet_id, _ = world.wallet_of(world.phone("cash-out-over-limit"))
    with pytest.raises(ApprovalRequired) as err:
        t.cash.cash_out(world.trainee, wallet_id, Money.of("30000"), idempotency_key=new_idempotency_key())
    t.approvals.request(world.trainee, err.value.details["spec"])
    assert t.training.answer_approvals(world.trainee, "cash-out-over-limit") == 1
    result = t.training.finish(world.trainee, run.run_id)
    assert result.passed, result.steps
    # the supervisor is simulated: a real person cannot sign in as it (its password is not known)
    from teller_tui.common.errors import AuthenticationFailed
    with pytest.raises(AuthenticationFailed):
        t.auth.authenticate(SIM_SUPERVISOR, SUPERVISOR_PW, "000000", terminal_id="T01")


def test_over_limit_split_into_two_fails(world: Training) -> None:
    t = world.services
    run = t.training.start(world.trainee, "cash-out-over-limit")
    wallet_id, _ = world.wallet_of(world.phone("cash-out-over-limit"))
    for amount in ("15000", "15000"):
        t.cash.cash_out(world.trainee, wallet_id, Money.of(amount), idempotency_key=new_idempotency_key())
    result = t.training.finish(world.trainee, run.run_id)
    assert not result.passed
    by = {r.step: r for r in result.steps}
    assert not by["approved_cash_out"].done and not by["no_split"].done
    assert "Never split" in by["approved_cash_out"].feedback("en")


# -- reports -------------------------------------------------------------------------------------------------
def test_report_scores_over_time_and_live_signals_before_and_after(world: Training) -> None:
    t = world.services
    live = world.live.services
    teller = world.live.actor
    # a live reversal before training (the teller's own mistake, approved by the supervisor)
    r = live.cash.cash_in(teller, world.live.wallets["wang"].wallet_id, Money.of("5"),
                          idempotency_key=new_idempotency_key())
    from teller_tui.models import JournalEntry
    with live.db.read() as s:
        from sqlalchemy import select
        entry_id = s.execute(select(JournalEntry.id).where(JournalEntry.reference == r.reference)).scalar_one()
    try:
        live.cash.reverse(teller, entry_id, "wrong amount", idempotency_key=new_idempotency_key())
    except ApprovalRequired as exc:
        from desk_harness import SUPERVISOR_SECRET
        from pilot_helpers import code_for
        grant = live.approvals.approve_at_counter(teller, exc.details["spec"], "chen", SUPERVISOR_PW,
                                                  code_for(SUPERVISOR_SECRET, world.clock))
        live.cash.reverse(teller, entry_id, "wrong amount", idempotency_key=new_idempotency_key(),
                          approval_id=grant.approval_id)
    world.clock.advance(days=1)
    for mistake in (True, False):
        run = t.training.start(world.trainee, "stolen-phone")
        wallet_id, _ = world.wallet_of(run.values["phone"])
        if not mistake:
            t.lifecycle.block_lost(world.trainee, wallet_id, "stolen")
            t.cases.open_case(world.trainee, run.customer_id, "lost_device", "stolen", wallet_id=wallet_id)
        t.training.finish(world.trainee, run.run_id)
        world.clock.advance(hours=1)
    with t.db.read() as s:
        [summary] = summarize(attempts(s))
    assert summary.attempts == 2 and summary.passes == 1
    assert summary.scenarios["stolen-phone"][0] < summary.scenarios["stolen-phone"][1] == 100
    assert summary.mistakes["stolen-phone/blocked"] == 1
    with live.db.read() as s:
        e = effect(s, summary, world.clock.now())
        assert e is not None and e.before.reversals == 1 and e.after.reversals == 0
        assert live_signals(s, "nobody", e.trained_at, world.clock.now()).total == 0
    assert json.dumps(summary.mistakes)


# -- onboarding scenarios (core: the wizard's Pilot journey is in test_onboarding_pilot) ------------------
def _onboard(world: Training, id_number: str, phone: str, name: str, tier: int, **over: Any) -> Any:
    from onboarding_fixtures import full_data

    data = full_data(identity={"number": id_number}, personal={"full_name": name, "name_latin": "x"},
                     contact={"phone": phone}, tier={"tier": tier}, funding={"holder_name": name}, **over)
    return world.services.onboarding.issue(world.trainee, data, pin="135790", idempotency_key=new_idempotency_key())


def test_onboarding_with_the_number_from_the_card_passes(world: Training) -> None:
    from teller_tui.common.errors import ValidationError

    t = world.services
    run = t.training.start(world.trainee, "onboarding-bad-id")
    v = run.values
    assert v["id_number"][:-1] == v["wrong_id_number"][:-1] != "" and v["id_number"] != v["wrong_id_number"]
    with pytest.raises(ValidationError):  # the form's number fails its check digit: the desk refuses it
        _onboard(world, v["wrong_id_number"], v["phone"], "赵雪梅", 3)
    issued = _onboard(world, v["id_number"], v["phone"], "赵雪梅", 3)
    result = t.training.finish(world.trainee, run.run_id)
    assert result.passed and result.score == 100
    # the welcome sheet is a printout too: watermarked first and last, on screen, on disk and reprinted
    for text in (issued.welcome_text, issued.welcome_path.read_text(),
                 t.onboarding.welcome_text(issued.wallet.wallet_id)):
        lines = text.strip().splitlines()
        assert TRAINING_WATERMARK in lines[0] and TRAINING_WATERMARK in lines[-1]


def test_onboarding_abandoned_fails_with_feedback(world: Training) -> None:
    t = world.services
    run = t.training.start(world.trainee, "onboarding-bad-id")
    result = t.training.finish(world.trainee, run.run_id)
    assert not result.passed
    by = {r.step: r for r in result.steps}
    assert "type it from there; never guess a digit" in by["onboarded"].feedback("en")


def test_elderly_customer_given_a_high_limit_class_fails(world: Training) -> None:
    t = world.services
    run = t.training.start(world.trainee, "elderly-guided")
    _onboard(world, run.values["id_number"], run.values["phone"], "孙桂兰", 2)
    result = t.training.finish(world.trainee, run.run_id)
    assert not result.passed and "No class 4 wallet was opened" in {r.step: r for r in result.steps}[
        "onboarded"].feedback("en")


def test_elderly_customer_given_class_4_passes(world: Training) -> None:
    t = world.services
    run = t.training.start(world.trainee, "elderly-guided")
    _onboard(world, run.values["id_number"], run.values["phone"], "孙桂兰", 4)
    result = t.training.finish(world.trainee, run.run_id)
    assert result.passed and result.score == 100, result.steps


@pytest.mark.parametrize(("scenario", "case_type"), [
    ("payment-not-arrived", "transaction_dispute"),
    ("phishing-victim", "suspected_fraud"),
    ("structuring", "suspected_fraud"),
])
def test_case_scenarios_played_well_pass(world: Training, scenario: str, case_type: str) -> None:
    t = world.services
    run = t.training.start(world.trainee, scenario)
    wallet_id, _ = world.wallet_of(run.values["phone"])
    t.cases.open_case(world.trainee, run.customer_id, case_type, "training", wallet_id=wallet_id)
    result = t.training.finish(world.trainee, run.run_id)
    assert result.passed and result.score == 100, result.steps


def test_a_case_of_the_wrong_type_does_not_count(world: Training) -> None:
    t = world.services
    run = t.training.start(world.trainee, "phishing-victim")
    wallet_id, _ = world.wallet_of(world.phone("phishing-victim"))
    t.cases.open_case(world.trainee, run.customer_id, "question", "asked about a call", wallet_id=wallet_id)
    result = t.training.finish(world.trainee, run.run_id)
    assert not {r.step: r for r in result.steps}["case"].done and result.score == 60


def test_each_run_gets_its_own_copy_of_the_customer_until_they_run_out(world: Training) -> None:
    """A replay must not meet the wallet an earlier trainee blocked: each run its own customer copy."""
    t = world.services
    first = t.training.start(world.trainee, "stolen-phone")
    t.lifecycle.block_lost(world.trainee, world.wallet_of(first.values["phone"])[0], "stolen")
    t.training.finish(world.trainee, first.run_id)
    second = t.training.start(world.trainee, "stolen-phone")
    assert second.values["phone"] == world.phone("stolen-phone", 1) != first.values["phone"]
    assert second.customer_id != first.customer_id and second.wallets != first.wallets
    t.lifecycle.block_lost(world.trainee, world.wallet_of(second.values["phone"])[0], "stolen")
    assert t.training.finish(world.trainee, second.run_id).steps[0].done
    with pytest.raises(Conflict) as err:  # the harness seeds two copies
        t.training.start(world.trainee, "stolen-phone")
    assert err.value.code == "training_copies"
