"""The knowledge base kept by the branch: shipped articles seed it, supervisors revise it, a second
person reviews each revision before it shows, and an upgrade never overwrites a local revision.

Every revision is a row of ``kb_article`` (:class:`~teller_tui.models.kb.KbArticle`); the one
``published`` row of an (article, locale) is what tellers read. :meth:`KnowledgeBaseService.sync_shipped`
(run by ``teller db upgrade``, ``teller demo`` and ``teller kb sync``) adds new shipped articles and
publishes shipped updates — unless the published revision is a local one, in which case the
update is stored as a ``conflict`` row for a supervisor to look at, and the local text stays.
:meth:`KnowledgeBaseService.resolve_conflict` turns a conflict into a pending revision (keep the local
text, take the shipped one, or a merge edited by hand) that a second person reviews like any other;
publishing it closes the conflict, and the published row remembers the shipped text it answered, so the
same shipped update never raises the conflict again.

Articles have an audience (front matter ``audience``): the kiosk's identity reads only the articles
written for customers, staff only those written for staff.

The search index is built in memory from the published rows and rebuilt when they change (one
small query per search tells whether they did).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import ACCOUNT_ROLES, STAFF_ROLES, SUPERVISION_ROLES, Role, require_role
from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict, NotFound, PermissionDenied, ValidationError
from teller_tui.common.i18n import _
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.kb.articles import AUDIENCES, SCREENS, ArticleText, load_refusal_map, load_shipped, valid_id
from teller_tui.kb.search import KbHit, KbIndex
from teller_tui.models.kb import KbArticle, KbSource, KbStatus

__all__ = ["CONFLICT_CHOICES", "KbRevision", "KnowledgeBaseService", "SyncReport"]

#: Everyone who uses a terminal may read the help (the kiosk shows customer-safe articles too).
READ_ROLES = (*ACCOUNT_ROLES, *STAFF_ROLES)
LOCALES = ("zh_CN", "en")
#: How a supervisor resolves a conflict: keep the local text, take the shipped one, or a merge edited by hand.
CONFLICT_CHOICES = ("local", "shipped", "merged")


def _audience(actor: Actor) -> str:
    """The kiosk's identity reads articles written for customers; everyone else those for staff."""
    return "customer" if actor.role == Role.KIOSK else "staff"


@dataclass(frozen=True, slots=True)
class SyncReport:
    added: int
    updated: int
    conflicts: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class KbRevision:
    revision_id: int
    article: ArticleText
    version: int
    status: str
    source: str
    author: str
    reviewer: str | None


def _row_text(row: KbArticle) -> ArticleText:
    return ArticleText(row.article_id, row.locale, row.title, tuple(json.loads(row.tags or "[]")),
                       tuple(json.loads(row.screens or "[]")), tuple(json.loads(row.refusals or "[]")), row.body,
                       row.audience or "staff")


def _revision(row: KbArticle) -> KbRevision:
    assert row.id is not None
    return KbRevision(row.id, _row_text(row), row.version, row.status, row.source, row.author, row.reviewer)


class KnowledgeBaseService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail) -> None:
        self.db, self.clock, self.audit = db, clock, audit
        self._lock = threading.Lock()
        self._indexes: dict[tuple[str, str], KbIndex] = {}
        self._articles: dict[tuple[str, str], dict[str, ArticleText]] = {}
        self._stamp: tuple[int, int] | None = None
        self._first_for_refusal: dict[str, str] | None = None  # data/kb/refusals.toml, read once

    # -- reading ---------------------------------------------------------------------------------
    def _published(self, locale: str, audience: str) -> tuple[KbIndex, dict[str, ArticleText]]:
        if locale not in LOCALES:
            raise ValidationError(_("Unknown language {locale}").format(locale=locale), code="locale")
        with self.db.read() as s:
            stamp_row = s.execute(select(func.count(), func.coalesce(func.max(col(KbArticle.id)), 0))
                                  .where(col(KbArticle.status) == KbStatus.PUBLISHED)).one()
            stamp = (int(stamp_row[0]), int(stamp_row[1]))
            with self._lock:
                if stamp != self._stamp:
                    rows = s.execute(select(KbArticle).where(col(KbArticle.status) == KbStatus.PUBLISHED)
                                     .order_by(col(KbArticle.article_id))).scalars().all()
                    groups: dict[tuple[str, str], dict[str, ArticleText]] = {
                        (loc, aud): {} for loc in LOCALES for aud in AUDIENCES}
                    for row in rows:
                        text = _row_text(row)
                        groups.setdefault((row.locale, text.audience), {})[row.article_id] = text
                    self._articles = groups
                    self._indexes = {key: KbIndex(arts.values()) for key, arts in groups.items()}
                    self._stamp = stamp
                return self._indexes[(locale, audience)], self._articles[(locale, audience)]

    @guarded("kb")
    def search(self, actor: Actor, query: str, locale: str, *, limit: int = 10) -> list[KbHit]:
        """Ranked articles for ``query`` with the passage that matches best."""
        require_role(actor, *READ_ROLES)
        index, _articles = self._published(locale, _audience(actor))
        return index.search(clean_text(query, limit=200), limit=limit)

    @guarded("kb")
    def article(self, actor: Actor, article_id: str, locale: str) -> ArticleText:
        require_role(actor, *READ_ROLES)
        _index, articles = self._published(locale, _audience(actor))
        found = articles.get(article_id)
        if found is None:
            raise NotFound(_("No help article {id}").format(id=article_id), code="kb_not_found")
        return found

    @guarded("kb")
    def for_screen(self, actor: Actor, screen: str, locale: str) -> list[ArticleText]:
        """The articles a screen offers first (its ``screens`` list names it), by title."""
        require_role(actor, *READ_ROLES)
        if screen not in SCREENS:
            raise ValidationError(f"unknown screen {screen!r}", code="kb_screen")
        _index, articles = self._published(locale, _audience(actor))
        return sorted((a for a in articles.values() if screen in a.screens), key=lambda a: a.title)

    @guarded("kb")
    def for_refusal(self, actor: Actor, code: str, locale: str, *, screen: str | None = None) -> ArticleText | None:
        """The article that explains a refusal code: the one ``data/kb/refusals.toml`` names for it, else
        among the articles listing it one offered on ``screen`` (where the refusal was shown), then the most
        specific (fewest codes)."""
        require_role(actor, *READ_ROLES)
        _index, articles = self._published(locale, _audience(actor))
        if self._first_for_refusal is None:
            self._first_for_refusal = load_refusal_map()
        named = articles.get(self._first_for_refusal.get(code, ""))
        if named is not None and code in named.refusals:
            return named
        matches = [a for a in articles.values() if code in a.refusals]
        return min(matches, key=lambda a: (screen not in a.screens, len(a.refusals), a.article_id)) if matches else None

    @guarded("kb")
    def refusal_codes(self, actor: Actor, locale: str) -> frozenset[str]:
        """Every refusal code some published article explains (a refusal on screen offers F1 for these)."""
        require_role(actor, *READ_ROLES)
        _index, articles = self._published(locale, _audience(actor))
        return frozenset(code for a in articles.values() for code in a.refusals)

    # -- keeping it current ------------------------------------------------------------------------
    @guarded("kb")
    def sync_shipped(self, actor: Actor, shipped: Sequence[ArticleText] | None = None) -> SyncReport:
        """Seed or update from the shipped files (see the module docstring for conflicts)."""
        require_role(actor, *SUPERVISION_ROLES)
        articles = list(shipped) if shipped is not None else load_shipped()
        added = updated = conflicts = unchanged = 0
        now = self.clock.now()
        with self.db.write() as s:
            for art in articles:
                digest = art.content_hash
                rows = s.execute(select(KbArticle).where(col(KbArticle.article_id) == art.article_id,
                                                         col(KbArticle.locale) == art.locale)
                                 .order_by(col(KbArticle.version))).scalars().all()
                current = next((r for r in rows if r.status == KbStatus.PUBLISHED), None)
                version = (rows[-1].version + 1) if rows else 1
                if current is None:
                    s.add(self._row(art, version, KbStatus.PUBLISHED, KbSource.SHIPPED, digest, actor, now))
                    added += 1
                elif current.shipped_hash == digest or any(r.shipped_hash == digest and r.status == KbStatus.CONFLICT
                                                           for r in rows):
                    unchanged += 1
                elif current.source == KbSource.SHIPPED:
                    current.status = KbStatus.SUPERSEDED
                    s.add(current)
                    s.flush()
                    s.add(self._row(art, version, KbStatus.PUBLISHED, KbSource.SHIPPED, digest, actor, now))
                    updated += 1
                else:
                    s.add(self._row(art, version, KbStatus.CONFLICT, KbSource.SHIPPED, digest, actor, now))
                    conflicts += 1
            if added or updated or conflicts:
                self.audit.append(s, actor, "kb_sync", subject="kb",
                                  detail={"added": added, "updated": updated, "conflicts": conflicts})
        return SyncReport(added, updated, conflicts, unchanged)

    @staticmethod
    def _row(art: ArticleText, version: int, status: KbStatus, source: KbSource, shipped_hash: str | None,
             actor: Actor, now: datetime) -> KbArticle:
        return KbArticle(article_id=art.article_id, locale=art.locale, version=version, status=status,
                         source=source, title=art.title, tags=json.dumps(list(art.tags), ensure_ascii=False),
                         screens=json.dumps(list(art.screens)), refusals=json.dumps(list(art.refusals)),
                         body=art.body, audience=art.audience, shipped_hash=shipped_hash, author=actor.username,
                         created_at=now)

    @staticmethod
    def _checked(revised: ArticleText) -> ArticleText:
        """A proposed text, cleaned and checked (title, text, id, language, screens, audience)."""
        title, body = clean_text(revised.title, limit=200), clean_text(revised.body, multiline=True, limit=20_000)
        if not title or not body:
            raise ValidationError(_("An article needs a title and a text"), code="kb_empty")
        if not valid_id(revised.article_id):
            raise ValidationError(_("An article's name is lower-case letters and digits joined by hyphens "
                                    "(lost-phone)"), code="kb_id")
        if revised.locale not in LOCALES:
            raise ValidationError(_("Unknown language {locale}").format(locale=revised.locale), code="locale")
        if set(revised.screens) - SCREENS:
            raise ValidationError(_("Unknown screens: {names}").format(
                names=", ".join(sorted(set(revised.screens) - SCREENS))), code="kb_screen")
        if revised.audience not in AUDIENCES:
            raise ValidationError(f"unknown audience {revised.audience!r}", code="kb_audience")
        return ArticleText(revised.article_id, revised.locale, title,
                           tuple(clean_text(t, limit=40) for t in revised.tags if clean_text(t)), revised.screens,
                           revised.refusals, body, revised.audience)

    @guarded("kb")
    def propose(self, actor: Actor, revised: ArticleText) -> KbRevision:
        """A supervisor's revision (or a new article): stored as pending until a second person reviews it."""
        require_role(actor, *SUPERVISION_ROLES)
        art = self._checked(revised)
        with self.db.write() as s:
            rows = s.execute(select(KbArticle).where(col(KbArticle.article_id) == art.article_id,
                                                     col(KbArticle.locale) == art.locale)
                             .order_by(col(KbArticle.version))).scalars().all()
            base = next((r for r in rows if r.status == KbStatus.PUBLISHED), None)
            row = self._row(art, (rows[-1].version + 1) if rows else 1, KbStatus.PENDING, KbSource.LOCAL,
                            base.shipped_hash if base is not None else None, actor, self.clock.now())
            s.add(row)
            s.flush()
            self.audit.append(s, actor, "kb_propose", subject=f"kb:{art.article_id}:{art.locale}",
                              detail={"version": row.version})
            return _revision(row)

    @guarded("kb")
    def review(self, actor: Actor, revision_id: int, *, approve: bool) -> KbRevision:
        """A second person publishes (or rejects) a pending revision; the author cannot review their own."""
        require_role(actor, *SUPERVISION_ROLES)
        with self.db.write() as s:
            row = s.get(KbArticle, revision_id)
            if row is None or row.status != KbStatus.PENDING:
                raise NotFound(_("No revision {id} waiting for review").format(id=revision_id),
                               code="kb_not_pending")
            if row.author == actor.username:
                raise PermissionDenied(_("A second person must review this revision"), code="same_person")
            now = self.clock.now()
            if approve:
                for old in s.execute(select(KbArticle).where(
                        col(KbArticle.article_id) == row.article_id, col(KbArticle.locale) == row.locale,
                        col(KbArticle.status).in_([KbStatus.PUBLISHED, KbStatus.CONFLICT]))).scalars():
                    if old.status == KbStatus.CONFLICT and old.shipped_hash != row.shipped_hash:
                        continue  # a conflict this revision does not answer stays open
                    old.status = KbStatus.SUPERSEDED
                    s.add(old)
                s.flush()
            row.status = KbStatus.PUBLISHED if approve else KbStatus.REJECTED
            row.reviewer, row.reviewed_at = actor.username, now
            s.add(row)
            s.flush()
            self.audit.append(s, actor, "kb_publish" if approve else "kb_reject",
                              subject=f"kb:{row.article_id}:{row.locale}", detail={"version": row.version})
            return _revision(row)

    @guarded("kb")
    def resolve_conflict(self, actor: Actor, conflict_id: int, take: str,
                         merged: ArticleText | None = None) -> KbRevision:
        """Answer a shipped update that met a local revision: a pending revision (``take``: ``local`` keeps
        the published text, ``shipped`` the update's, ``merged`` the supervisor's edit), reviewed by a second
        person; when published it closes the conflict and carries the update's hash (no new conflict next time)."""
        require_role(actor, *SUPERVISION_ROLES)
        if take not in CONFLICT_CHOICES:
            raise ValidationError(f"take must be one of {CONFLICT_CHOICES}", code="kb_choice")
        with self.db.write() as s:
            conflict = s.get(KbArticle, conflict_id)
            if conflict is None or conflict.status != KbStatus.CONFLICT:
                raise NotFound(_("No conflict {id} to resolve").format(id=conflict_id), code="kb_not_conflict")
            rows = s.execute(select(KbArticle).where(col(KbArticle.article_id) == conflict.article_id,
                                                     col(KbArticle.locale) == conflict.locale)
                             .order_by(col(KbArticle.version))).scalars().all()
            published = next((r for r in rows if r.status == KbStatus.PUBLISHED), None)
            if take == "merged":
                if merged is None or (merged.article_id, merged.locale) != (conflict.article_id, conflict.locale):
                    raise ValidationError(_("A merge needs the edited text of this article"), code="kb_merge")
                text = self._checked(merged)
            else:
                text = _row_text(conflict if take == "shipped" or published is None else published)
            source = KbSource.SHIPPED if take == "shipped" else KbSource.LOCAL
            row = self._row(text, rows[-1].version + 1, KbStatus.PENDING, source, conflict.shipped_hash, actor,
                            self.clock.now())
            s.add(row)
            s.flush()
            self.audit.append(s, actor, "kb_resolve", subject=f"kb:{conflict.article_id}:{conflict.locale}",
                              detail={"conflict": conflict_id, "take": take, "version": row.version})
            return _revision(row)

    @guarded("kb")
    def revisions(self, actor: Actor, *, status: KbStatus | None = None) -> list[KbRevision]:
        """Revisions (pending, conflicts …) for the supervisor's review list, newest first."""
        require_role(actor, *SUPERVISION_ROLES)
        with self.db.read() as s:
            stmt = select(KbArticle).order_by(col(KbArticle.id).desc())
            if status is not None:
                stmt = stmt.where(col(KbArticle.status) == status)
            return [_revision(r) for r in s.execute(stmt.limit(500)).scalars()]

    @guarded("kb")
    def history(self, actor: Actor, article_id: str, locale: str) -> list[KbRevision]:
        require_role(actor, *READ_ROLES)
        with self.db.read() as s:
            rows = s.execute(select(KbArticle).where(col(KbArticle.article_id) == article_id,
                                                     col(KbArticle.locale) == locale)
                             .order_by(col(KbArticle.version))).scalars().all()
        if not rows:
            raise Conflict(_("No help article {id}").format(id=article_id), code="kb_not_found")
        return [_revision(r) for r in rows]
