"""Training mode on the real app (Pilot): scenarios played well (pass) and with a typical mistake
(fail, with the specific feedback), the watermark on every screen, the simulated supervisor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Input, OptionList, Select, Static

from pilot_helpers import settle, type_text
from screens.drawer import CountNotesDialog, _input_id
from screens.lifecycle import LifecycleDialog, WalletActionsScreen
from screens.training import QuizScreen, ScenarioPicker, TrainingPanel, TrainingResultScreen
from teller_tui.common.i18n import set_locale
from teller_tui.common.watermark import TRAINING_WATERMARK
from teller_tui.training.report import attempts
from training_harness import Training, counts, make_training

pytestmark = pytest.mark.slow


@pytest.fixture
def world(tmp_path: Any, db_path: Any, db: Any, template_db: Any, clock: Any) -> Iterator[Training]:
    w = make_training(tmp_path, db_path, db, template_db, clock)
    yield w
    w.services.close()
    set_locale("en")


def watermarked(app: Any) -> bool:
    bars = app.screen.query("#training-watermark")
    return bool(bars) and TRAINING_WATERMARK in str(bars.first(Static).render())


async def begin(pilot: Any, world: Training, scenario_id: str) -> None:
    """Sign in, choose ``scenario_id`` in the picker, read the panel, go back to the desk."""
    await world.start(pilot)
    picker = pilot.app.screen
    assert isinstance(picker, ScenarioPicker), picker
    assert watermarked(pilot.app)
    options = picker.query_one("#tr-pick-list", OptionList)
    options.highlighted = next(i for i in range(options.option_count)
                               if options.get_option_at_index(i).id == scenario_id)
    await pilot.press("enter")
    await settle(pilot)
    panel = pilot.app.screen
    assert isinstance(panel, TrainingPanel) and panel.scenario.id == scenario_id
    assert watermarked(pilot.app)
    await pilot.press("escape")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "HomeScreen" and watermarked(pilot.app)


async def open_customer(pilot: Any, phone: str) -> None:
    await pilot.press("f2")
    await settle(pilot)
    assert watermarked(pilot.app)
    await pilot.press(*phone)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "CustomerScreen" and watermarked(pilot.app)


async def finish(pilot: Any, answers: str = "") -> Any:
    """Ctrl+T, F10, answer the quiz with ``answers`` (digits; Esc for the rest), return the result."""
    await pilot.press("ctrl+t")
    await settle(pilot)
    assert isinstance(pilot.app.screen, TrainingPanel)
    await pilot.press("f10")
    await settle(pilot)
    if isinstance(pilot.app.screen, QuizScreen):
        for a in answers:
            await pilot.press(a)
            await settle(pilot)
        if isinstance(pilot.app.screen, QuizScreen):
            await pilot.press("escape")
            await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TrainingResultScreen), screen
    assert watermarked(pilot.app)
    return screen


def result_text(screen: Any) -> str:
    return str(screen.query_one("#tr-result-text", Static).render())


async def block_wallet(pilot: Any) -> None:
    await pilot.press("f4")
    await settle(pilot)
    actions = pilot.app.screen
    assert isinstance(actions, WalletActionsScreen)
    ol = actions.query_one("#wa-actions", OptionList)
    ol.highlighted = next(i for i in range(ol.option_count) if ol.get_option_at_index(i).id == "block_lost")
    await pilot.press("enter")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, LifecycleDialog) and watermarked(pilot.app)
    dialog.query_one("#lc-reason", Input).focus()
    await type_text(pilot, "phone stolen")
    await pilot.press("f10")
    await settle(pilot)
    if isinstance(pilot.app.screen, LifecycleDialog):
        await pilot.press("f10")  # the dialog shows the result; F10 again closes it
        await settle(pilot)


async def open_case(pilot: Any, case_type: str, summary: str) -> None:
    from screens.service import NewCaseDialog

    await pilot.press("f8")
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, NewCaseDialog) and watermarked(pilot.app)
    dialog.query_one("#nc-type", Select).value = case_type
    dialog.query_one("#nc-summary").focus()
    await type_text(pilot, summary)
    await pilot.press("f10")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "CaseScreen"
    await pilot.press("escape")
    await settle(pilot)


# -- played well -------------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_stolen_phone_played_well_passes(world: Training) -> None:
    live_before = counts(world.live.services)
    async with world.app.run_test(size=(120, 40)) as pilot:
        await begin(pilot, world, "stolen-phone")
        await open_customer(pilot, world.phone("stolen-phone"))
        await block_wallet(pilot)
        await open_case(pilot, "lost_device", "phone stolen on the metro")
        screen = await finish(pilot, "22")  # one right (option 2), one wrong
        text = result_text(screen)
        assert screen.result.passed and screen.result.score == 100, text
        assert "PASSED" in text and "✗" in text  # the quiz answer that was wrong is explained
        assert screen.result.quiz_right == 1 and screen.result.quiz_asked == 2
        assert screen.result.keys > 20
    with world.services.db.read() as s:
        [a] = attempts(s)
    assert a.passed and a.trainee == "wang"
    assert counts(world.live.services) == live_before  # the live books never moved


@pytest.mark.asyncio
async def test_cash_in_and_out_with_the_count_passes(world: Training) -> None:
    async with world.app.run_test(size=(120, 40)) as pilot:
        await begin(pilot, world, "cash-in-out-change")
        await open_customer(pilot, world.phone("cash-in-out-change"))
        await pilot.press("f5")
        await settle(pilot)
        form = pilot.app.screen
        assert type(form).__name__ == "CashInForm" and watermarked(pilot.app)
        form.query_one("#cash-amount", Input).focus()
        await type_text(pilot, "1250")
        await pilot.press("f4")  # count the notes received
        await settle(pilot)
        assert isinstance(pilot.app.screen, CountNotesDialog) and watermarked(pilot.app)
        for key, n in {"note:100": 12, "note:50": 1}.items():
            pilot.app.screen.query_one("#" + _input_id(key), Input).value = str(n)
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        assert pilot.app.screen is form and form.tender_counted is not None
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("enter")  # confirm
        await settle(pilot)
        receipt = pilot.app.screen
        assert type(receipt).__name__ == "ReceiptScreen" and watermarked(pilot.app)
        assert TRAINING_WATERMARK in str(receipt.query_one("#receipt-text", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        form = pilot.app.screen
        form.query_one("#cash-amount", Input).focus()
        await pilot.press(*"300")
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        screen = await finish(pilot)
        assert screen.result.passed and screen.result.score == 100, result_text(screen)


@pytest.mark.asyncio
async def test_over_limit_cash_out_approved_by_the_simulated_supervisor_passes(world: Training) -> None:
    from screens.approval import ApprovalScreen, WaitingScreen

    async with world.app.run_test(size=(120, 40)) as pilot:
        await begin(pilot, world, "cash-out-over-limit")
        await open_customer(pilot, world.phone("cash-out-over-limit"))
        await pilot.press("f6")
        await settle(pilot)
        form = pilot.app.screen
        form.query_one("#cash-amount", Input).focus()
        await pilot.press(*"30000")
        await pilot.press("f10")
        await settle(pilot)
        if type(pilot.app.screen).__name__ == "ConfirmScreen":
            await pilot.press("enter")
            await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ApprovalScreen) and watermarked(pilot.app), dialog
        await pilot.press("f8")  # send it to the queue: the simulated supervisor answers
        await settle(pilot)
        waiting = pilot.app.screen
        assert isinstance(waiting, WaitingScreen) and watermarked(pilot.app)
        pilot.app.answer_training_approvals()  # what its 1-second timer does
        await settle(pilot)
        world.clock.advance(seconds=2)
        waiting._poll()  # what the waiting dialog's timer does
        await settle(pilot)
        assert waiting.view is not None and waiting.view.status == "consumed", waiting.view
        while isinstance(pilot.app.screen, WaitingScreen) or type(pilot.app.screen).__name__ == "ReceiptScreen":
            await pilot.press("escape")
            await settle(pilot)
        screen = await finish(pilot, "1")
        assert screen.result.passed, result_text(screen)


# -- a typical mistake each --------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_stolen_phone_cash_rushed_out_fails_with_feedback(world: Training) -> None:
    async with world.app.run_test(size=(120, 40)) as pilot:
        await begin(pilot, world, "stolen-phone")
        await open_customer(pilot, world.phone("stolen-phone"))
        await pilot.press("f6")  # the customer asks for the money: the trainee pays it out
        await settle(pilot)
        pilot.app.screen.query_one("#cash-amount", Input).focus()
        await pilot.press(*"3000")
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        screen = await finish(pilot)
        text = result_text(screen)
        assert not screen.result.passed and "NOT PASSED" in text
        assert "The wallet was not blocked" in text and "lost-phone" in text
        assert "The balance was taken out or moved" in text
        assert "A compliance step was skipped" in text
        assert "[1] Lost or stolen phone" in text  # the article, numbered: its key opens it
        await pilot.press("1")
        await settle(pilot)
        article = pilot.app.screen
        assert type(article).__name__ == "ArticleScreen" and watermarked(pilot.app)
        assert "Freeze the wallet at once" in str(article.query_one("#tr-article-body", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is screen


@pytest.mark.asyncio
async def test_phishing_transfer_made_fails_with_feedback(world: Training) -> None:
    _wid, to_number = world.wallet_of(world.phone("cash-in-out-change"))  # any other wallet stands in for the fraudster's
    async with world.app.run_test(size=(120, 40)) as pilot:
        await begin(pilot, world, "phishing-victim")
        await open_customer(pilot, world.phone("phishing-victim"))
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press(*to_number)
        await settle(pilot)
        pilot.app.screen.query_one("#cash-amount", Input).focus()
        await pilot.press(*"1500")
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        screen = await finish(pilot, "1")
        text = result_text(screen)
        assert not screen.result.passed and screen.result.wrong_postings == 1
        assert "Money was moved as the fraudster asked" in text and "phishing-takeover" in text
        assert "No suspected-fraud case was opened" in text


@pytest.mark.asyncio
async def test_structuring_split_deposits_fail_with_feedback(world: Training) -> None:
    async with world.app.run_test(size=(120, 40)) as pilot:
        await begin(pilot, world, "structuring")
        await open_customer(pilot, world.phone("structuring"))
        for _ in range(2):
            await pilot.press("f5")
            await settle(pilot)
            pilot.app.screen.query_one("#cash-amount", Input).focus()
            await pilot.press(*"18000")
            await pilot.press("f10")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
        screen = await finish(pilot)
        text = result_text(screen)
        assert not screen.result.passed
        assert "The cash was split into several deposits" in text and "large-cash" in text



# -- the watermark at 80x24 in Chinese ------------------------------------------------------------------------
def _runner(world: Training, target: str) -> Any:
    async def run_before(pilot: Any) -> None:
        await begin(pilot, world, "stolen-phone")
        if target == "panel":
            await pilot.press("ctrl+t")
        elif target == "result":
            await pilot.press("ctrl+t")
            await settle(pilot)
            await pilot.press("f10")
            await settle(pilot)
            await pilot.press("escape")  # skip the quiz
        await settle(pilot)
        pilot.app.screen.set_focus(None)
        await settle(pilot)
    return run_before


@pytest.mark.parametrize("target", ["home", "panel", "result"])
def test_training_screens_at_80x24_in_chinese(snap_compare: Any, tmp_path: Any, db_path: Any, db: Any,
                                              template_db: Any, clock: Any, target: str) -> None:
    world = make_training(tmp_path, db_path, db, template_db, clock, locale="zh_CN")
    try:
        assert snap_compare(world.app, terminal_size=(80, 24), run_before=_runner(world, target))
    finally:
        world.services.close()
        set_locale("en")


@pytest.mark.asyncio
async def test_f4_at_sign_in_reopens_on_the_training_database(world: Training) -> None:
    """The choice at sign-in: the live app (no services given) reopens on the training database."""
    from screens.app import make_app

    live_settings = world.live.services.settings
    app = make_app(live_settings, clock=world.clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.services is not None and not app.services.settings.training
        assert not app.screen.query("#training-watermark")
        await pilot.press("f4")
        await settle(pilot)
        assert app.training and app.services_ready and app.services.settings.training
        assert app.services.db.path == world.services.db.path != world.live.services.db.path
        assert watermarked(app)
        await pilot.press("f4")  # once in training, F4 does nothing more
        await settle(pilot)
        assert app.services.settings.training
    app.services.close()
