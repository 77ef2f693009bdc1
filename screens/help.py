"""F1 help of our own: the screen's purpose and keys, its knowledge-base articles, a search box.

F1 on any screen of the teller app opens :class:`HelpScreen` *on top of* that screen, so Esc
returns to it exactly as it was (a half-typed form included). What it shows:

* the screen's purpose: its ``HELP`` text, translated;
* its keys: the screen's and the app's active bindings, with their translated labels and the
  keys written as on the keyboard (``F1``, ``Ctrl+A``, ``Esc``), never Textual's key names;
* the articles the knowledge base offers for that kind of screen (:data:`TOPICS` maps screen
  classes to the ``screens`` names of the articles' front matter), and a search box over the
  whole knowledge base, searched as you type in a worker;
* after a refusal (:func:`note_refusal`), the refusal and, first in the list, the article that
  explains its code (which article: the articles' ``refusals`` front matter, i.e. data);
* on a customer's view, the articles for that customer's situation (PIN locked, wallet frozen or
  blocked, identity document expired, class limit reached: the screen's ``help_situation``, codes
  looked up like refusals) before the screen's own.

The articles and the screen's purpose and keys are two tabs (F2 and F3), so each has the whole
height at 80x24.

Enter opens an article (:class:`ArticleScreen`). Supervisors and administrators revise articles
from there (:mod:`screens.kb_edit`); F9 lists the revisions waiting for a second person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Markdown, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from teller_tui.common.i18n import N_, _, get_locale

from .base import TellerScreen, note_refusal
from .widgets.footer import KeyFooter
from .widgets.safe import clean

if TYPE_CHECKING:
    from teller_tui.kb.articles import ArticleText
    from teller_tui.kb.search import KbHit

__all__ = ["ArticleScreen", "HelpScreen", "ScreenHelp", "TOPICS", "help_for", "key_caps", "note_refusal",
           "SUPERVISING_ROLES"]

#: Screen classes (by class name, any class in the screen's MRO) -> the knowledge base's screen names.
TOPICS: dict[str, str] = {
    "SignInScreen": "signin", "LockScreen": "signin", "ChangePasswordScreen": "signin",
    "EnrolTotpScreen": "signin", "FirstAdminScreen": "signin",
    "HomeScreen": "home", "LookupScreen": "lookup", "CustomerScreen": "customer",
    "CashForm": "cash", "ConfirmScreen": "cash", "ReceiptScreen": "cash", "ReprintPrompt": "cash",
    "InflightOutcomesScreen": "cash",
    "OnboardingScreen": "onboarding", "DraftsScreen": "onboarding", "LeaveOnboardingScreen": "onboarding",
    "DrawerScreen": "drawer", "_DrawerForm": "drawer", "CountNotesDialog": "drawer", "EodReportScreen": "drawer",
    "ApprovalsQueueScreen": "approvals", "DecideScreen": "approvals", "ApprovalScreen": "approvals",
    "WaitingScreen": "approvals", "DashboardScreen": "dashboard",
    "WalletActionsScreen": "lifecycle", "LifecycleDialog": "lifecycle",
}
#: Who may propose and review article revisions (the core's table decides; this only shows the keys).
SUPERVISING_ROLES = ("supervisor", "admin")

#: Textual's own bindings worth listing, with our (translated) labels.
_TEXTUAL_KEYS = {"app.focus_next": N_("Next field"), "app.focus_previous": N_("Previous field")}

_KEY_CAPS = {"escape": "Esc", "enter": "Enter", "tab": "Tab", "space": "Space", "backspace": "Backspace",
             "delete": "Del", "insert": "Ins", "home": "Home", "end": "End", "pageup": "PgUp",
             "pagedown": "PgDn", "up": "↑", "down": "↓", "left": "←", "right": "→"}


def key_caps(key: str) -> str:
    """A Textual key (``ctrl+a``, ``escape``, ``f10``) as printed on the keyboard: ``Ctrl+A``, ``Esc``, ``F10``."""
    parts = key.split("+")
    out = []
    for part in parts[:-1]:
        out.append({"ctrl": "Ctrl", "shift": "Shift", "alt": "Alt", "meta": "Meta"}.get(part, part.title()))
    last = parts[-1]
    if last in _KEY_CAPS:
        out.append(_KEY_CAPS[last])
    elif len(last) <= 3 and last[:1] == "f" and last[1:].isdigit():
        out.append(last.upper())
    else:
        out.append(last.upper() if len(last) == 1 else last.title())
    return "+".join(out)


@dataclass(frozen=True, slots=True)
class ScreenHelp:
    title: str
    purpose: str  # Markdown
    keys: tuple[tuple[str, str], ...]  # (keys as on the keyboard, what they do)
    topic: str | None
    refusal: tuple[str, str] | None  # (code, reason shown)
    situation: tuple[str, ...] = ()  # codes describing the customer on screen (PIN locked, frozen …)


def _topic(screen: Screen[Any]) -> str | None:
    for cls in type(screen).__mro__:
        if cls.__name__ in TOPICS:
            return TOPICS[cls.__name__]
    return None


def help_for(screen: Screen[Any]) -> ScreenHelp:
    """What F1 shows for ``screen`` (read on the UI thread, before the help screen covers it)."""
    raw = getattr(type(screen), "HELP", None) or ""
    text = _(raw) if raw else ""
    title, purpose = "", text
    first, _sep, rest = text.partition("\n")
    if first.startswith("## "):
        title, purpose = first[3:].strip(), rest.strip()
    if not title:
        screen_title = getattr(type(screen), "TITLE", "") or ""
        title = (_(screen_title) if screen_title else "") or _("This screen")
    grouped: dict[str, list[str]] = {}
    app = screen.app
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if active.node not in (screen, app) or not active.enabled or not binding.description:
            continue
        if binding.action in ("app.show_keys", "show_keys", "app.help", "help"):
            continue
        if binding.id is None:  # Textual's own (copy, maximize …): only focus moves, in our words
            if binding.action not in _TEXTUAL_KEYS:
                continue
            label = _(_TEXTUAL_KEYS[binding.action])
        else:
            label = _(binding.description)
        caps = key_caps(key)
        if caps not in grouped.setdefault(label, []):
            grouped[label].append(caps)
    keys = [(" / ".join(caps), label) for label, caps in grouped.items()]
    keys.append(("F1", _("This help (Esc closes it)")))
    return ScreenHelp(title, purpose, tuple(keys), _topic(screen), getattr(screen, "help_refusal", None),
                      tuple(getattr(screen, "help_situation", ()) or ()))


class HelpScreen(TellerScreen[None]):
    """F1: help for the screen underneath (which stays as it was)."""

    DEFAULT_CSS = """
    HelpScreen #help-body { padding: 0 1; height: 1fr; }
    HelpScreen #help-title { text-style: bold; height: 1; }
    HelpScreen #help-refusal { color: $text-error; height: auto; }
    HelpScreen #help-tabs { height: 1fr; }
    HelpScreen #help-tabs > ContentSwitcher { height: 1fr; }
    HelpScreen TabPane { padding: 0; height: 1fr; }
    HelpScreen #help-search { height: 3; }
    HelpScreen #help-list-label { height: 1; text-style: bold; }
    HelpScreen #help-articles { height: 1fr; min-height: 4; }
    HelpScreen #help-about { height: 1fr; min-height: 4; }
    HelpScreen #help-about Markdown { margin: 0 0 1 0; padding: 0; }
    """

    BINDINGS = [
        Binding("escape", "close", N_("Back"), id="help.close"),
        Binding("f1", "close", N_("Back"), id="help.close_f1", show=False),
        Binding("down", "to_list", N_("Articles"), id="help.to_list", show=False),
        Binding("ctrl+f", "to_search", N_("Search"), id="help.search", show=False),
        # The tabs' labels name F2 and F3, so the footer need not.
        Binding("f2", "tab('help-tab-articles')", N_("Articles"), id="help.tab_articles", show=False),
        Binding("f3", "tab('help-tab-screen')", N_("Purpose and keys"), id="help.tab_screen", show=False),
        Binding("f4", "new_article", N_("New article"), id="help.new_article"),
        Binding("f9", "review", N_("Articles to review"), id="help.review"),
    ]

    def __init__(self, info: ScreenHelp) -> None:
        super().__init__()
        self.info = info
        self.showing: list[str] = []  # article ids in the list, in order

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        info = self.info
        with Vertical(id="help-body"):
            yield Static(Content(_("Help: {title}").format(title=info.title)), id="help-title")
            if info.refusal is not None:
                yield Static(Content(_("Refused: {reason}").format(reason=clean(info.refusal[1])) + "\n"
                                     + _("The first article explains it and what to tell the customer.")),
                             id="help-refusal")
            with TabbedContent(id="help-tabs", initial="help-tab-articles"):
                with TabPane(_("F2 Articles"), id="help-tab-articles"):
                    yield Input(placeholder=_("Search the knowledge base (Chinese or English)"), id="help-search")
                    yield Static(Content(self._list_label()), id="help-list-label")
                    yield OptionList(id="help-articles")
                with TabPane(_("F3 Purpose and keys"), id="help-tab-screen"):
                    with VerticalScroll(id="help-about", can_focus=True):
                        if info.purpose:
                            yield Markdown(info.purpose, open_links=False)
                        yield Static(self._keys_content(), id="help-keys")
        yield KeyFooter()

    def _keys_content(self) -> Content:
        width = max((len(k) for k, _label in self.info.keys), default=0)
        lines = [_("Keys on this screen:")]
        lines += [f"  {keys.ljust(width)}  {label}" for keys, label in self.info.keys]
        return Content("\n".join(lines))

    def _list_label(self) -> str:
        return (_("Articles for this customer and screen") if self.info.situation
                else _("Articles for this screen"))

    def on_mount(self) -> None:
        self.query_one("#help-search", Input).focus()
        self.load_screen_articles()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("review", "new_article"):
            session = getattr(self.app, "session", None)
            return session is not None and session.staff.role in SUPERVISING_ROLES
        return super().check_action(action, parameters)

    def action_tab(self, pane: str) -> None:
        self.query_one("#help-tabs", TabbedContent).active = pane
        if pane == "help-tab-articles":
            self.query_one("#help-search", Input).focus()
        else:
            self.query_one("#help-about").focus()

    def action_new_article(self) -> None:
        from .kb_edit import EditArticleScreen

        self.app.push_screen(EditArticleScreen(None, screen=self.info.topic))

    # -- articles -----------------------------------------------------------------------------------
    @property
    def _actor(self) -> Any:
        return getattr(self.app, "actor", None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kb-help")
    def load_screen_articles(self) -> None:
        services, actor = getattr(self.app, "services", None), self._actor
        if services is None or actor is None or getattr(self.app, "locked", False):
            self.app.call_from_thread(self._no_kb)
            return
        locale = get_locale()
        first: list[ArticleText] = []
        codes = ([self.info.refusal[0]] if self.info.refusal is not None else []) + list(self.info.situation)
        for code in codes:
            found = services.kb.for_refusal(actor, code, locale, screen=self.info.topic)
            if found is not None and all(a.article_id != found.article_id for a in first):
                first.append(found)
        listed = services.kb.for_screen(actor, self.info.topic, locale) if self.info.topic else []
        seen = {a.article_id for a in first}
        articles = first + [a for a in listed if a.article_id not in seen]
        self.app.call_from_thread(self._show_articles, [(a, "") for a in articles], self._list_label())

    def _no_kb(self) -> None:
        self.query_one("#help-search", Input).disabled = True
        self.query_one("#help-list-label", Static).update(Content(_("Sign in to read the knowledge base.")))

    @on(Input.Changed, "#help-search")
    def _search_changed(self, event: Input.Changed) -> None:
        query = event.value.strip()
        if query:
            self.search(query)
        else:
            self.load_screen_articles()

    @work(thread=True, exclusive=True, exit_on_error=False, group="kb-help")
    def search(self, query: str) -> None:
        services, actor = getattr(self.app, "services", None), self._actor
        if services is None or actor is None or getattr(self.app, "locked", False):
            return
        hits: list[KbHit] = services.kb.search(actor, query, get_locale(), limit=12)
        label = (_("Results for “{query}”").format(query=clean(query, limit=40)) if hits
                 else _("Nothing found for “{query}”").format(query=clean(query, limit=40)))
        self.app.call_from_thread(self._show_articles, [(h.article, h.passage) for h in hits], label)

    def _show_articles(self, rows: list[tuple[ArticleText, str]], label: str) -> None:
        if not self.is_attached:
            return
        options = self.query_one("#help-articles", OptionList)
        options.clear_options()
        self.showing = []
        for article, passage in rows:
            text = clean(article.title)
            if passage:
                text += "\n  " + clean(passage, limit=150)
            options.add_option(Option(Content(text), id=article.article_id))
            self.showing.append(article.article_id)
        if rows:
            options.highlighted = 0
        self.query_one("#help-list-label", Static).update(Content(label))

    @on(Input.Submitted, "#help-search")
    def _open_first(self) -> None:
        options = self.query_one("#help-articles", OptionList)
        index = options.highlighted if options.highlighted is not None else 0
        if self.showing:
            self.open_article(self.showing[min(index, len(self.showing) - 1)])

    @on(OptionList.OptionSelected, "#help-articles")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.open_article(event.option.id)

    def open_article(self, article_id: str) -> None:
        self.app.push_screen(ArticleScreen(article_id))

    # -- actions ------------------------------------------------------------------------------------
    def action_close(self) -> None:
        self.dismiss(None)

    def action_to_list(self) -> None:
        if self.showing and self.query_one("#help-tabs", TabbedContent).active == "help-tab-articles":
            self.query_one("#help-articles", OptionList).focus()

    def action_to_search(self) -> None:
        self.action_tab("help-tab-articles")

    def action_review(self) -> None:
        from .kb_edit import ReviewListScreen

        self.app.push_screen(ReviewListScreen())


class ArticleScreen(TellerScreen[None]):
    """One article, readable at 80x24 (Markdown, scrolled with the arrows and PgUp/PgDn)."""

    DEFAULT_CSS = """
    ArticleScreen #article-title { text-style: bold; height: auto; padding: 0 1; }
    ArticleScreen #article-scroll { height: 1fr; padding: 0 1; }
    ArticleScreen #article-scroll Markdown { margin: 0; padding: 0; }
    """

    BINDINGS = [
        Binding("escape", "close", N_("Back"), id="article.close"),
        Binding("f4", "revise", N_("Propose a revision"), id="article.revise"),
    ]

    def __init__(self, article_id: str) -> None:
        super().__init__()
        self.article_id = article_id
        self.article: ArticleText | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content(_("Loading…")), id="article-title")
        with VerticalScroll(id="article-scroll"):
            yield Markdown("", id="article-body", open_links=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#article-scroll").focus()
        self.load()

    async def relabel(self) -> None:
        await super().relabel()
        self.load()  # the article in the new language

    @work(thread=True, exclusive=True, exit_on_error=False, group="kb-article")
    def load(self) -> None:
        services, actor = getattr(self.app, "services", None), getattr(self.app, "actor", None)
        if services is None or actor is None:
            return
        article = services.kb.article(actor, self.article_id, get_locale())
        self.app.call_from_thread(self._show, article)

    def _show(self, article: ArticleText) -> None:
        if not self.is_attached:
            return
        self.article = article
        self.query_one("#article-title", Static).update(Content(clean(article.title)))
        self.query_one("#article-body", Markdown).update(clean(article.body, multiline=True))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "revise":
            session = getattr(self.app, "session", None)
            return self.article is not None and session is not None and session.staff.role in SUPERVISING_ROLES
        return super().check_action(action, parameters)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_revise(self) -> None:
        if self.article is None:
            return
        from .kb_edit import EditArticleScreen

        self.app.push_screen(EditArticleScreen(self.article))
