"""Training mode screens: pick a scenario, the customer's side panel, the quiz, the score.

The training desk is the real desk (every screen, every service) on the training database
(``teller run --training``); this module adds what only training has. :class:`TrainingDesk` is the
app's helper: it offers the scenarios after sign-in, starts a run (``services.training.start``),
counts the keys pressed during the run, lets the simulated supervisor answer queued approvals, and
on F10 in the panel asks the scenario's quiz questions, then scores the run
(``services.training.finish``) and shows the result with feedback per step and the KB topic to read.
Ctrl+T opens the panel from any screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import N_, _, get_locale

from .base import TellerModal
from .widgets.safe import clean

if TYPE_CHECKING:
    from teller_tui.training.assessment import Assessment
    from teller_tui.training.scenarios import Question, Scenario
    from teller_tui.training.service import Run

__all__ = ["ArticleScreen", "QuizScreen", "ScenarioPicker", "TrainingDesk", "TrainingPanel", "TrainingResultScreen"]

CSS_FILE = Path(__file__).resolve().parent / "training.tcss"


def _t(text: Any) -> str:
    """A scenario's bilingual text in the interface language."""
    return str(text.get(get_locale()))


class ScenarioPicker(TellerModal[str | None]):
    """Choose a scenario (Enter); Esc stays at the training desk without a run."""

    CSS_PATH = CSS_FILE
    BINDINGS = [Binding("escape", "cancel", N_("Close"), id="training.pick_cancel")]
    HELP = N_("Choose a scenario: a simulated customer comes to your counter. Ctrl+T shows their script.")

    def __init__(self, scenarios: Sequence[Scenario]) -> None:
        super().__init__()
        self.scenarios = list(scenarios)

    def compose(self) -> ComposeResult:
        with Vertical(id="tr-pick-box"):
            yield Static(Content(_("Training: choose a scenario")), id="tr-pick-title")
            yield OptionList(*[Option(Content(clean(f"{i + 1}. {_t(s.title)}")), id=s.id)
                               for i, s in enumerate(self.scenarios)], id="tr-pick-list")
            yield Static(Content(_("Enter starts it · Esc closes")), classes="tr-note")

    def on_mount(self) -> None:
        self.query_one("#tr-pick-list", OptionList).focus()

    @on(OptionList.OptionSelected, "#tr-pick-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)


def script_content(run: Run) -> Content:
    """The customer's side of the run's scenario: who, brief, lines, documents, reactions."""
    scenario, loc = run.scenario, get_locale()

    def t(text: Any) -> str:
        return run.text(text, loc)

    steps = {s.id: s for s in scenario.steps}
    who = scenario.customer.full_name
    if scenario.customer.onboarded:
        who = _("{name} · mobile {phone}").format(name=who, phone=run.values.get("phone", ""))
    parts: list[Content] = [Content.styled(clean(t(scenario.title)), "bold"), Content(clean(who)),
                            Content(clean(t(scenario.brief))),
                            Content.styled(_("The customer says:"), "bold underline")]
    parts += [Content(clean(f"“{t(line)}”")) for line in scenario.script]
    if scenario.documents:
        parts.append(Content.styled(_("Documents presented:"), "bold underline"))
        parts += [Content(clean(f"• {t(d)}")) for d in scenario.documents]
    if scenario.reactions:
        parts.append(Content.styled(_("How the customer reacts:"), "bold underline"))
        for on_step, say in scenario.reactions:
            when = t(steps[on_step].title) if on_step in steps else _("After the approval")
            parts.append(Content(clean(f"{when} → “{t(say)}”")))
    return Content("\n").join(parts)


class TrainingPanel(TellerModal[str | None]):
    """The simulated customer's side panel: ``"finish"``, ``"pick"`` or None (back to the desk)."""

    CSS_PATH = CSS_FILE
    BINDINGS = [
        Binding("escape", "back", N_("Back to the desk"), id="training.panel_back"),
        Binding("f10", "finish", N_("Finish and score"), id="training.finish"),
        Binding("f2", "pick", N_("Other scenario"), id="training.pick"),
    ]
    HELP = N_("The customer's script. Serve them at the desk (Esc), then F10 here to be scored.")

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run
        self.scenario = run.scenario

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="tr-panel"):
            yield Static(script_content(self.run), id="tr-script")
            yield Static(Content(_("Esc back to the desk · F10 finish and score · F2 other scenario")),
                         classes="tr-note")

    def action_back(self) -> None:
        self.dismiss(None)

    def action_finish(self) -> None:
        self.dismiss("finish")

    def action_pick(self) -> None:
        self.dismiss("pick")


class QuizScreen(TellerModal[dict[str, int]]):
    """The scenario's knowledge checks, one at a time: digit keys answer; Esc skips the rest."""

    CSS_PATH = CSS_FILE
    BINDINGS = [Binding("escape", "skip", N_("Skip"), id="training.quiz_skip")] + [
        Binding(str(n), f"answer({n - 1})", str(n), id=f"training.quiz_{n}", show=False) for n in range(1, 5)]
    HELP = N_("Press the number of your answer.")

    def __init__(self, questions: Sequence[Question]) -> None:
        super().__init__()
        self.questions = list(questions)
        self.index = 0
        self.answers: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="tr-quiz-box"):
            yield Static(self._question(), id="tr-quiz-text")
            yield Static(Content(_("Press 1–{n} · Esc skips").format(n=len(self.questions[self.index].options))),
                         classes="tr-note", id="tr-quiz-note")

    def _question(self) -> Content:
        q = self.questions[self.index]
        head = _("Question {i} of {n}").format(i=self.index + 1, n=len(self.questions))
        lines = [Content.styled(head, "bold"), Content(clean(_t(q.text)))]
        lines += [Content(clean(f"{i + 1}. {_t(o)}")) for i, o in enumerate(q.options)]
        return Content("\n").join(lines)

    def action_answer(self, choice: int) -> None:
        q = self.questions[self.index]
        if not 0 <= choice < len(q.options):
            return
        self.answers[q.id] = choice
        self.index += 1
        if self.index >= len(self.questions):
            self.dismiss(self.answers)
            return
        self.query_one("#tr-quiz-text", Static).update(self._question())

    def action_skip(self) -> None:
        self.dismiss(self.answers)


def result_content(result: Assessment, scenario: Scenario, questions: Sequence[Question],
                   answers: dict[str, int], articles: Sequence[tuple[str, str]] = ()) -> Content:
    """The score, each step with its feedback, and the articles to read (``articles``: (topic, title),
    numbered: the digit keys open them)."""
    loc = get_locale()
    verdict = _("PASSED") if result.passed else _("NOT PASSED")
    mins, secs = divmod(result.seconds, 60)
    lines: list[Content] = [
        Content.styled(clean(_t(scenario.title)), "bold"),
        Content.styled(_("Score {score} of 100 (pass mark {mark}): {verdict}").format(
            score=result.score, mark=result.pass_mark, verdict=verdict), "bold reverse" if not result.passed else "bold"),
        Content(_("Time {m} min {s} s · keys pressed {keys} · wrong postings {wrong}").format(
            m=mins, s=secs, keys=result.keys, wrong=result.wrong_postings)),
    ]
    for r in result.steps:
        mark = "✓" if r.done else "✗"
        lines.append(Content(clean(f"{mark} {r.title(loc)}  ({r.points}/{r.of})")))
        if not r.done:
            lines.append(Content(clean(f"   {r.feedback(loc)}")))
            if r.compliance:
                lines.append(Content(clean("   " + _("A compliance step was skipped."))))
        if r.kb and not r.done:
            number = next((i + 1 for i, (topic, _title) in enumerate(articles) if topic == r.kb), None)
            title = next((t for topic, t in articles if topic == r.kb), r.kb)
            lines.append(Content(clean("   " + _("Read: [{n}] {title} ({topic})").format(
                n=number or "-", title=title, topic=r.kb))))
    if questions:
        lines.append(Content.styled(_("Knowledge check: {right} of {asked} right").format(
            right=result.quiz_right, asked=result.quiz_asked), "bold"))
        for q in questions:
            if q.id in answers and answers[q.id] != q.answer:
                lines.append(Content(clean("✗ " + _t(q.text))))
                lines.append(Content(clean("   " + _("Right answer: {answer}. {why}").format(
                    answer=_t(q.options[q.answer]), why=_t(q.explain)))))
    if articles:
        lines.append(Content(clean(_("Press 1–{n} to read an article · F2 another scenario · Esc back to the desk")
                                   .format(n=len(articles)))))
    else:
        lines.append(Content(_("F2 another scenario · Esc back to the desk")))
    return Content("\n").join(lines)


class ArticleScreen(TellerModal[None]):
    """A knowledge-base article, as the training result links it. Esc closes."""

    CSS_PATH = CSS_FILE
    BINDINGS = [Binding("escape", "close", N_("Close"), id="training.article_close")]
    HELP = N_("The help article. Esc goes back to your result.")

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text, self.body = title, body

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="tr-article"):
            yield Static(Content.styled(clean(self.title_text), "bold"), id="tr-article-title")
            yield Static(Content(clean(self.body, multiline=True)), id="tr-article-body")

    def action_close(self) -> None:
        self.dismiss(None)


class TrainingResultScreen(TellerModal[str | None]):
    """The score with feedback per step. Esc back to the desk; F2 another scenario."""

    CSS_PATH = CSS_FILE
    BINDINGS = [
        Binding("escape", "close", N_("Close"), id="training.result_close"),
        Binding("f2", "pick", N_("Other scenario"), id="training.result_pick"),
    ] + [Binding(str(n), f"read({n - 1})", str(n), id=f"training.read_{n}", show=False) for n in range(1, 10)]
    HELP = N_("What you did well and what to do differently, with the article to read.")

    def __init__(self, body: Content, result: Assessment, articles: Sequence[Any] = ()) -> None:
        super().__init__()
        self.body = body
        self.result = result
        self.articles = list(articles)  # ArticleText of the missed steps' topics

    def action_read(self, index: int) -> None:
        if 0 <= index < len(self.articles):
            a = self.articles[index]
            self.app.push_screen(ArticleScreen(a.title, a.body))

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="tr-result"):
            yield Static(self.body, id="tr-result-text")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_pick(self) -> None:
        self.dismiss("pick")


class TrainingDesk:
    """The app's training helper (one per app, only when the app runs in training)."""

    #: How often the simulated supervisor looks at the trainee's queued requests (seconds).
    SUPERVISOR_SECONDS = 1.0

    def __init__(self, app: Any) -> None:
        self.app = app
        self.run: Run | None = None
        self.keys = 0
        self.last_result: Assessment | None = None

    # -- choosing and starting -------------------------------------------------------------------
    def offer_scenarios(self) -> None:
        services = self.app.services
        if services is None:
            return
        self.app.push_screen(ScenarioPicker(services.training.scenarios()), self._picked)

    def _picked(self, scenario_id: str | None) -> None:
        if scenario_id:
            self.app.run_worker(lambda: self._start(scenario_id), thread=True, exclusive=True,
                                group="training", exit_on_error=False)

    def _start(self, scenario_id: str) -> None:
        actor = self.app.actor
        run = self.app.services.training.start(actor, scenario_id)
        self.app.call_from_thread(self._started, run)

    def _started(self, run: Run) -> None:
        self.run, self.keys = run, 0
        self.show_panel()

    # -- the panel -------------------------------------------------------------------------------
    def show_panel(self) -> None:
        if self.run is None:
            self.offer_scenarios()
            return
        self.app.push_screen(TrainingPanel(self.run), self._panel_closed)

    def _panel_closed(self, choice: str | None) -> None:
        if choice == "pick":
            self.offer_scenarios()
        elif choice == "finish" and self.run is not None:
            questions = self.app.services.training.quiz_for(self.run.scenario.id)
            if questions:
                self.app.push_screen(QuizScreen(questions), self._quizzed)
            else:
                self._quizzed({})

    def _quizzed(self, answers: dict[str, int] | None) -> None:
        run, keys = self.run, self.keys
        if run is None:
            return
        given = dict(answers or {})
        self.app.run_worker(lambda: self._finish(run, keys, given), thread=True, exclusive=True,
                            group="training", exit_on_error=False)

    def _finish(self, run: Run, keys: int, answers: dict[str, int]) -> None:
        services, actor = self.app.services, self.app.actor
        result = services.training.finish(actor, run.run_id, keys, answers)
        articles = []
        for topic in dict.fromkeys(r.kb for r in result.steps if r.kb and not r.done):
            try:
                articles.append(services.kb.article(actor, topic, get_locale()))
            except DomainError:
                continue  # an article not published here: the topic id still shows
        self.app.call_from_thread(self._finished, run, result, answers, articles)

    def _finished(self, run: Run, result: Assessment, answers: dict[str, int], articles: list[Any]) -> None:
        self.run, self.last_result = None, result
        questions = self.app.services.training.quiz_for(run.scenario.id)
        body = result_content(result, run.scenario, questions, answers,
                              [(a.article_id, a.title) for a in articles])
        self.app.push_screen(TrainingResultScreen(body, result, articles), self._result_closed)

    def _result_closed(self, choice: str | None) -> None:
        if choice == "pick":
            self.offer_scenarios()

    # -- during a run ----------------------------------------------------------------------------
    def key_pressed(self) -> None:
        if self.run is not None:
            self.keys += 1

    def answer_approvals(self) -> None:
        """Called on a timer: the simulated supervisor decides the trainee's queued requests."""
        run, actor = self.run, self.app.actor
        if run is None or actor is None or self.app.services is None:
            return
        self.app.run_worker(lambda: self.app.services.training.answer_approvals(actor, run.scenario.id),
                            thread=True, exclusive=True, group="training-supervisor", exit_on_error=False)

    def signed_out(self) -> None:
        self.run = None
