"""Supervisors keep the knowledge base current: propose a revision, a second person reviews it.

Keyboard only:

* on an article (:class:`~screens.help.ArticleScreen`), **F4** opens :class:`EditArticleScreen`
  with the published text: title, tags (comma-separated) and the Markdown body; **F10** sends it
  for review (``services.kb.propose``: stored as *pending*, audited), **Esc** leaves without sending;
* **F4** on the help screen opens the same editor for a *new* article (its name, the screens that
  offer it, and whether it is written for customers, i.e. shown on the kiosk), in the language
  the app is in; it is proposed and reviewed like a revision;
* **F9** on the help screen (or "Articles to review" in the palette) lists the pending revisions
  and the shipped updates that met a local revision (*conflicts*) (:class:`ReviewListScreen`);
  **Enter** shows one: a revision (:class:`RevisionScreen`: **F10** publishes it, **F8** rejects
  it, ``services.kb.review``) or a conflict (:class:`ConflictScreen`: **F5** keep the local text,
  **F6** take the shipped one, **F4** merge by editing; each becomes a pending revision,
  ``services.kb.resolve_conflict``). The core refuses the author's own review (code
  ``same_person``), whatever this screen shows: four eyes are the core's rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Checkbox, Input, Label, Markdown, OptionList, Static, TabbedContent, TabPane, TextArea
from textual.widgets.option_list import Option

from teller_tui.common.i18n import N_, _, get_locale
from teller_tui.kb.articles import SCREENS, ArticleText
from teller_tui.models.kb import KbStatus

from .base import TellerScreen
from .widgets.desk import DeskScreenMixin
from .widgets.footer import KeyFooter
from .widgets.safe import clean

if TYPE_CHECKING:
    from teller_tui.kb.service import KbRevision

__all__ = ["ConflictScreen", "EditArticleScreen", "ReviewListScreen", "RevisionScreen"]

#: Languages by their own names (the same whatever the UI language).
LANGUAGES = {"zh_CN": "简体中文", "en": "English"}


class EditArticleScreen(DeskScreenMixin, TellerScreen[bool]):
    """A supervisor's revision of one article in one language; a second person publishes it."""

    HELP = N_("## Revise an article\n\n"
              "Change the title, the tags (separated by commas) or the text (Markdown). F10 sends the revision "
              "for review: it shows to tellers only after a second supervisor or administrator publishes it. "
              "Esc leaves without sending.")

    DEFAULT_CSS = """
    EditArticleScreen #kb-edit { padding: 0 1; height: 1fr; }
    EditArticleScreen #kb-edit Input { height: 3; }
    EditArticleScreen #kb-edit Input.-textual-compact { height: 1; margin-bottom: 1; }
    EditArticleScreen #kb-edit-body { height: 1fr; min-height: 6; }
    EditArticleScreen .kb-edit-label { height: 1; }
    """

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="kb_edit.cancel"),
        Binding("f10", "propose", N_("Send for review"), id="kb_edit.propose", priority=True),
    ]

    def __init__(self, article: ArticleText | None, *, screen: str | None = None,
                 conflict_id: int | None = None) -> None:
        """``article`` None: a new article (offered on ``screen`` to start with); ``conflict_id``: the
        text is a merge answering that conflict."""
        super().__init__()
        self.new = article is None
        self.article = article or ArticleText("", get_locale(), "", (), (screen,) if screen else (), (), "")
        self.conflict_id = conflict_id
        self.sending = False

    def compose(self) -> ComposeResult:
        a = self.article
        language = LANGUAGES.get(a.locale, a.locale)
        with Vertical(id="kb-edit"):
            if self.new:
                head = _("New article ({locale})").format(locale=language)
            elif self.conflict_id is not None:
                head = _("Merge: {title} ({locale})").format(title=clean(a.title), locale=language)
            else:
                head = _("Revise: {title} ({locale})").format(title=clean(a.title), locale=language)
            yield Static(Content(head), id="kb-edit-title")
            if self.new:
                yield Label(_("Name (lower-case words joined by hyphens, e.g. branch-parking)"),
                            classes="kb-edit-label")
                yield Input(id="kb-edit-id", compact=True)
                yield Label(_("Screens that offer it (separated by commas: {names})").format(
                    names=", ".join(sorted(SCREENS))), classes="kb-edit-label")
                yield Input(", ".join(a.screens), id="kb-edit-screens", compact=True)
                yield Checkbox(_("Written for customers (shown on the kiosk only)"), id="kb-edit-customer",
                               compact=True)
            yield Label(_("Title"), classes="kb-edit-label")
            yield Input(a.title, id="kb-edit-name", compact=self.new)
            yield Label(_("Tags (separated by commas)"), classes="kb-edit-label")
            yield Input(", ".join(a.tags), id="kb-edit-tags", compact=self.new)
            yield Label(_("Text (Markdown)"), classes="kb-edit-label")
            yield TextArea(a.body, id="kb-edit-body", soft_wrap=True, tab_behavior="focus")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.new:
            self.query_one("#kb-edit-id", Input).focus()
            return
        body = self.query_one("#kb-edit-body", TextArea)
        body.focus()
        body.move_cursor(body.document.end)  # a revision usually adds to the end
        body.scroll_cursor_visible()

    @staticmethod
    def _items(value: str) -> tuple[str, ...]:
        return tuple(t.strip() for t in value.replace("，", ",").split(",") if t.strip())

    def revised(self) -> ArticleText:
        a = self.article
        tags = self._items(self.query_one("#kb-edit-tags", Input).value)
        article_id, screens, audience = a.article_id, a.screens, a.audience
        if self.new:
            article_id = self.query_one("#kb-edit-id", Input).value.strip()
            screens = self._items(self.query_one("#kb-edit-screens", Input).value)
            audience = "customer" if self.query_one("#kb-edit-customer", Checkbox).value else "staff"
        return ArticleText(article_id, a.locale, self.query_one("#kb-edit-name", Input).value.strip(), tags,
                           screens, a.refusals, self.query_one("#kb-edit-body", TextArea).text, audience)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_propose(self) -> None:
        if self.sending:
            return
        self.sending = True
        self._propose(self.actor, self.revised())

    @work(thread=True, exclusive=True, exit_on_error=False, group="kb-propose")
    def _propose(self, actor: Any, revised: ArticleText) -> None:
        try:
            if self.conflict_id is not None:
                revision = self.services.kb.resolve_conflict(actor, self.conflict_id, "merged", revised)
            else:
                revision = self.services.kb.propose(actor, revised)
        except Exception as exc:  # noqa: BLE001 - shown to the supervisor, the form stays
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._proposed, revision)

    def _failed(self, exc: BaseException) -> None:
        self.sending = False
        self.show_error(exc)

    def _proposed(self, revision: KbRevision) -> None:
        self.show_info(_("Revision {id} (version {version}) waits for a second supervisor or administrator.")
                       .format(id=revision.revision_id, version=revision.version), title=_("Sent for review"))
        self.dismiss(True)


class ReviewListScreen(DeskScreenMixin, TellerScreen[None]):
    """Revisions waiting for a second person."""

    HELP = N_("## Articles to review\n\n"
              "Revisions proposed by supervisors of the bank, and shipped updates that arrived while a local "
              "revision was published (conflicts). Enter shows one. On a revision F10 publishes it and F8 rejects "
              "it; nobody reviews their own revision. On a conflict F5 keeps the local text, F6 takes the shipped "
              "one, F4 merges them by editing: each becomes a revision for a second person to publish.")

    DEFAULT_CSS = """
    ReviewListScreen #kb-review { padding: 0 1; height: 1fr; }
    ReviewListScreen #kb-review-list { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "close", N_("Back"), id="kb_review.close"),
        Binding("f5", "refresh", N_("Refresh"), id="kb_review.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.revisions: dict[str, KbRevision] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="kb-review"):
            yield Static(Content(_("Articles to review")), id="kb-review-title")
            yield OptionList(id="kb-review-list")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#kb-review-list", OptionList).focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kb-review")
    def load(self) -> None:
        pending = self.services.kb.revisions(self.actor, status=KbStatus.PENDING)
        conflicts = self.services.kb.revisions(self.actor, status=KbStatus.CONFLICT)
        self.app.call_from_thread(self._show, pending + conflicts)

    def _show(self, revisions: list[KbRevision]) -> None:
        if not self.is_attached:
            return
        options = self.query_one("#kb-review-list", OptionList)
        options.clear_options()
        self.revisions = {}
        waiting = {(r.article.article_id, r.article.locale) for r in revisions if r.status == KbStatus.PENDING}
        for rev in revisions:
            key = str(rev.revision_id)
            self.revisions[key] = rev
            language = LANGUAGES.get(rev.article.locale, rev.article.locale)
            if rev.status == KbStatus.CONFLICT:
                text = _("CONFLICT {title} ({locale}): a shipped update met a local revision").format(
                    title=clean(rev.article.title), locale=language)
                if (rev.article.article_id, rev.article.locale) in waiting:
                    text += " " + _("(a revision of it waits for review)")
            else:
                text = _("{title} ({locale}, version {version}) by {author}").format(
                    title=clean(rev.article.title), locale=language, version=rev.version, author=clean(rev.author))
            options.add_option(Option(Content(text), id=key))
        if not revisions:
            options.add_option(Option(Content(_("Nothing waits for review.")), disabled=True))
        else:
            options.highlighted = 0

    @on(OptionList.OptionSelected, "#kb-review-list")
    def _open(self, event: OptionList.OptionSelected) -> None:
        rev = self.revisions.get(event.option.id or "")
        if rev is not None:
            self.app.push_screen(ConflictScreen(rev) if rev.status == KbStatus.CONFLICT else RevisionScreen(rev))


class RevisionScreen(DeskScreenMixin, TellerScreen[None]):
    """One pending revision as tellers would read it: F10 publishes, F8 rejects."""

    HELP = N_("## Review a revision\n\n"
              "Read the revision as tellers would see it. F10 publishes it (the previous version is kept in the "
              "history), F8 rejects it, Esc goes back without deciding.")

    DEFAULT_CSS = """
    RevisionScreen #kb-rev-head { padding: 0 1; height: auto; }
    RevisionScreen #kb-rev-scroll { height: 1fr; padding: 0 1; }
    RevisionScreen #kb-rev-scroll Markdown { margin: 0; padding: 0; }
    """

    BINDINGS = [
        Binding("escape", "close", N_("Back"), id="kb_rev.close"),
        Binding("f10", "decide(True)", N_("Publish"), id="kb_rev.publish"),
        Binding("f8", "decide(False)", N_("Reject"), id="kb_rev.reject"),
    ]

    def __init__(self, revision: KbRevision) -> None:
        super().__init__()
        self.revision = revision
        self.deciding = False

    def compose(self) -> ComposeResult:
        rev = self.revision
        head = _("{title} ({locale}, version {version}) by {author}").format(
            title=clean(rev.article.title), locale=LANGUAGES.get(rev.article.locale, rev.article.locale), version=rev.version, author=clean(rev.author))
        tags = _("Tags: {tags}").format(tags=clean(", ".join(rev.article.tags)))
        yield Static(Content(head + "\n" + tags), id="kb-rev-head")
        with VerticalScroll(id="kb-rev-scroll", can_focus=True):
            yield Markdown(clean(rev.article.body, multiline=True), open_links=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#kb-rev-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_decide(self, approve: bool) -> None:
        if self.deciding:
            return
        self.deciding = True
        self._decide(self.actor, approve)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kb-decide")
    def _decide(self, actor: Any, approve: bool) -> None:
        try:
            done = self.services.kb.review(actor, self.revision.revision_id, approve=approve)
        except Exception as exc:  # noqa: BLE001 - e.g. the author's own revision: said, nothing changed
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._done, done)

    def _failed(self, exc: BaseException) -> None:
        self.deciding = False
        self.show_error(exc)

    def _done(self, done: KbRevision) -> None:
        text = (_("Published: tellers now read version {version}.") if done.status == KbStatus.PUBLISHED
                else _("Rejected: version {version} will not show.")).format(version=done.version)
        self.show_info(text, title=_("Review"))
        self.dismiss(None)



class ConflictScreen(DeskScreenMixin, TellerScreen[None]):
    """A shipped update that arrived while a local revision was published: keep, take, or merge."""

    HELP = N_("## Resolve a conflict\n\n"
              "An upgrade brought a new version of an article your branch had revised, and left your text in "
              "place. F2 shows the text tellers read now (local), F3 the shipped update. F5 keeps the local "
              "text, F6 takes the shipped one, F4 opens the local text to merge the two by editing. Whichever "
              "you choose is sent for review: a second supervisor or administrator publishes it.")

    DEFAULT_CSS = """
    ConflictScreen #kb-conflict-head { padding: 0 1; height: auto; }
    ConflictScreen #kb-conflict-tabs { height: 1fr; }
    ConflictScreen #kb-conflict-tabs > ContentSwitcher { height: 1fr; }
    ConflictScreen TabPane { padding: 0 1; height: 1fr; }
    ConflictScreen VerticalScroll { height: 1fr; }
    ConflictScreen VerticalScroll Markdown { margin: 0; padding: 0; }
    """

    BINDINGS = [
        Binding("escape", "close", N_("Back"), id="kb_conflict.close"),
        Binding("f2", "tab('kb-conflict-local')", N_("Local"), id="kb_conflict.local_tab"),
        Binding("f3", "tab('kb-conflict-shipped')", N_("Shipped"), id="kb_conflict.shipped_tab"),
        Binding("f5", "resolve('local')", N_("Keep local"), id="kb_conflict.keep"),
        Binding("f6", "resolve('shipped')", N_("Take shipped"), id="kb_conflict.take"),
        Binding("f4", "merge", N_("Merge"), id="kb_conflict.merge"),
    ]

    def __init__(self, conflict: KbRevision) -> None:
        super().__init__()
        self.conflict = conflict
        self.local: ArticleText | None = None
        self.deciding = False

    def compose(self) -> ComposeResult:
        a = self.conflict.article
        yield Static(Content(_("Conflict: {title} ({locale})").format(
            title=clean(a.title), locale=LANGUAGES.get(a.locale, a.locale))), id="kb-conflict-head")
        with TabbedContent(id="kb-conflict-tabs", initial="kb-conflict-local"):
            with TabPane(_("F2 Local (published)"), id="kb-conflict-local"):
                with VerticalScroll(id="kb-conflict-local-scroll", can_focus=True):
                    yield Markdown(_("Loading…"), id="kb-conflict-local-body", open_links=False)
            with TabPane(_("F3 Shipped update"), id="kb-conflict-shipped"):
                with VerticalScroll(id="kb-conflict-shipped-scroll", can_focus=True):
                    yield Markdown(clean(a.body, multiline=True), open_links=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#kb-conflict-local-scroll").focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="kb-conflict")
    def load(self) -> None:
        a = self.conflict.article
        history = self.services.kb.history(self.actor, a.article_id, a.locale)
        local = next((r.article for r in history if r.status == KbStatus.PUBLISHED), None)
        self.app.call_from_thread(self._show, local)

    def _show(self, local: ArticleText | None) -> None:
        if not self.is_attached:
            return
        self.local = local
        text = clean(local.body, multiline=True) if local is not None else _("No published text.")
        self.query_one("#kb-conflict-local-body", Markdown).update(text)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "merge":
            return self.local is not None
        return super().check_action(action, parameters)

    def action_tab(self, pane: str) -> None:
        self.query_one("#kb-conflict-tabs", TabbedContent).active = pane
        self.query_one(f"#{pane}-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_merge(self) -> None:
        if self.local is not None:
            self.app.push_screen(EditArticleScreen(self.local, conflict_id=self.conflict.revision_id),
                                 self._merged)

    def _merged(self, sent: bool | None) -> None:
        if sent:
            self.dismiss(None)

    def action_resolve(self, take: str) -> None:
        if self.deciding:
            return
        self.deciding = True
        self._resolve(self.actor, take)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kb-resolve")
    def _resolve(self, actor: Any, take: str) -> None:
        try:
            revision = self.services.kb.resolve_conflict(actor, self.conflict.revision_id, take)
        except Exception as exc:  # noqa: BLE001 - said to the supervisor, nothing changed
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._done, revision)

    def _failed(self, exc: BaseException) -> None:
        self.deciding = False
        self.show_error(exc)

    def _done(self, revision: KbRevision) -> None:
        self.show_info(_("Revision {id} (version {version}) waits for a second supervisor or administrator.")
                       .format(id=revision.revision_id, version=revision.version), title=_("Sent for review"))
        self.dismiss(None)
