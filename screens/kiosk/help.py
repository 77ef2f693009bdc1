"""F1 on the kiosk: help written for customers, never the tellers' procedures.

The list holds the knowledge base's articles for the ``kiosk`` screen that are marked
``audience: customer`` (the core gives the kiosk's identity nothing else: ``services.kb`` filters by
the reader's role). After a refusal on the screen underneath (a transfer over the limit, a locked
PIN) the article explaining it comes first. The arrows move through the list and the highlighted
article shows below it at once; Tab moves into the article to scroll it; Esc or F1 closes the help
and returns to the screen as it was. Nothing here changes anything, and the idle timer still ends
the customer's session (the help closes with every other screen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Markdown, OptionList, Static
from textual.widgets.option_list import Option

from teller_tui.common.i18n import N_, _, get_locale
from teller_tui.common.text import clean_text

from .base import KioskScreen

if TYPE_CHECKING:
    from teller_tui.kb.articles import ArticleText

__all__ = ["KioskHelpScreen"]


class KioskHelpScreen(KioskScreen):
    KIOSK_ACTIONS = frozenset({"close"})
    BINDINGS = [
        Binding("escape,f1", "close", N_("Back"), id="kiosk.help.close"),
    ]
    DEFAULT_CSS = """
    KioskHelpScreen #kiosk-help-box { width: 90; max-width: 100%; height: 100%; padding: 0 2;
                                      border: heavy $primary; }
    KioskHelpScreen #kiosk-help-list { height: auto; max-height: 7; border: none; }
    KioskHelpScreen #kiosk-help-article { height: 1fr; border-top: solid $primary; }
    KioskHelpScreen #kiosk-help-article Markdown { margin: 0; padding: 0; }
    KioskHelpScreen #kiosk-help-hint { height: auto; color: $secondary; }
    """

    def __init__(self, refusal: str | None = None) -> None:
        super().__init__()
        self.refusal = refusal
        self.articles: dict[str, ArticleText] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="kiosk-help-box"):
            yield Static(Content(_("Help")), classes="kiosk-title", id="kiosk-help-title")
            yield OptionList(id="kiosk-help-list")
            with VerticalScroll(id="kiosk-help-article", can_focus=True):
                yield Markdown("", id="kiosk-help-body", open_links=False)
            yield Static(Content(_("↑ ↓ choose · Tab read on · Esc back")), id="kiosk-help-hint")

    def on_mount(self) -> None:
        self.query_one("#kiosk-help-list", OptionList).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="kiosk-kb")
    def load(self) -> None:
        app: Any = self.app
        services, actor = app.services, app.actor
        if services is None or actor is None:
            app.call_from_thread(self._show, [])
            return
        locale = get_locale()
        articles = services.kb.for_screen(actor, "kiosk", locale)
        first = services.kb.for_refusal(actor, self.refusal, locale, screen="kiosk") if self.refusal else None
        if first is not None:
            articles = [first] + [a for a in articles if a.article_id != first.article_id]
        app.call_from_thread(self._show, articles)

    def _show(self, articles: list[ArticleText]) -> None:
        if not self.is_attached:
            return
        options = self.query_one("#kiosk-help-list", OptionList)
        options.clear_options()
        self.articles = {a.article_id: a for a in articles}
        for a in articles:
            options.add_option(Option(Content(clean_text(a.title)), id=a.article_id))
        if articles:
            options.highlighted = 0
            self._read(articles[0].article_id)
        else:
            self.query_one("#kiosk-help-body", Markdown).update(_("Please ask at the counter: a teller will help you."))

    @on(OptionList.OptionHighlighted, "#kiosk-help-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self._read(event.option.id)

    @on(OptionList.OptionSelected, "#kiosk-help-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#kiosk-help-article").focus()

    def _read(self, article_id: str) -> None:
        article = self.articles.get(article_id)
        if article is not None:
            self.query_one("#kiosk-help-body", Markdown).update(clean_text(article.body, multiline=True))
            self.query_one("#kiosk-help-article", VerticalScroll).scroll_home(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
