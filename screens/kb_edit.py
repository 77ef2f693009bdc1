"""Supervisors keep the knowledge base current: propose a revision, a second person reviews it.

Keyboard only:

* on an article (:class:`~screens.help.ArticleScreen`), **F4** opens :class:`EditArticleScreen`
  with the published text: title, tags (comma-separated) and the Markdown body; **F10** sends it
  for review (``services.kb.propose``: stored as *pending*, audited), **Esc** leaves without sending;
* **F9** on the help screen (or "Articles to review" in the palette) lists the pending revisions
  (:class:`ReviewListScreen`); **Enter** shows one (:class:`RevisionScreen`), **F10** publishes
  it, **F8** rejects it (``services.kb.review``). The core refuses the author's own review
  (code ``same_person``), whatever this screen shows: four eyes are the core's rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Markdown, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from teller_tui.common.i18n import N_, _
from teller_tui.kb.articles import ArticleText
from teller_tui.models.kb import KbStatus

from .base import TellerScreen
from .widgets.desk import DeskScreenMixin
from .widgets.footer import KeyFooter
from .widgets.safe import clean

if TYPE_CHECKING:
    from teller_tui.kb.service import KbRevision

__all__ = ["EditArticleScreen", "ReviewListScreen", "RevisionScreen"]

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
    EditArticleScreen #kb-edit-body { height: 1fr; min-height: 6; }
    EditArticleScreen .kb-edit-label { height: 1; }
    """

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="kb_edit.cancel"),
        Binding("f10", "propose", N_("Send for review"), id="kb_edit.propose", priority=True),
    ]

    def __init__(self, article: ArticleText) -> None:
        super().__init__()
        self.article = article
        self.sending = False

    def compose(self) -> ComposeResult:
        a = self.article
        with Vertical(id="kb-edit"):
            yield Static(Content(_("Revise: {title} ({locale})").format(title=clean(a.title), locale=LANGUAGES.get(a.locale, a.locale))),
                         id="kb-edit-title")
            yield Label(_("Title"), classes="kb-edit-label")
            yield Input(a.title, id="kb-edit-name")
            yield Label(_("Tags (separated by commas)"), classes="kb-edit-label")
            yield Input(", ".join(a.tags), id="kb-edit-tags")
            yield Label(_("Text (Markdown)"), classes="kb-edit-label")
            yield TextArea(a.body, id="kb-edit-body", soft_wrap=True, tab_behavior="focus")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#kb-edit-body", TextArea).focus()

    def revised(self) -> ArticleText:
        a = self.article
        tags = tuple(t.strip() for t in self.query_one("#kb-edit-tags", Input).value.replace("，", ",").split(",")
                     if t.strip())
        return ArticleText(a.article_id, a.locale, self.query_one("#kb-edit-name", Input).value.strip(), tags,
                           a.screens, a.refusals, self.query_one("#kb-edit-body", TextArea).text)

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
              "Revisions proposed by supervisors of the bank. Enter shows one; there F10 publishes it and F8 "
              "rejects it. Nobody reviews their own revision.")

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
        self.app.call_from_thread(self._show, pending)

    def _show(self, pending: list[KbRevision]) -> None:
        if not self.is_attached:
            return
        options = self.query_one("#kb-review-list", OptionList)
        options.clear_options()
        self.revisions = {}
        for rev in pending:
            key = str(rev.revision_id)
            self.revisions[key] = rev
            options.add_option(Option(Content(_("{title} ({locale}, version {version}) by {author}").format(
                title=clean(rev.article.title), locale=LANGUAGES.get(rev.article.locale, rev.article.locale), version=rev.version,
                author=clean(rev.author))), id=key))
        if not pending:
            options.add_option(Option(Content(_("Nothing waits for review.")), disabled=True))
        else:
            options.highlighted = 0

    @on(OptionList.OptionSelected, "#kb-review-list")
    def _open(self, event: OptionList.OptionSelected) -> None:
        rev = self.revisions.get(event.option.id or "")
        if rev is not None:
            self.app.push_screen(RevisionScreen(rev))


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

