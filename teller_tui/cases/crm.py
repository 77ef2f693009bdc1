"""CRM notes with versions, and each customer's needs.

Public API::

    svc = CrmService(db, clock, audit)                          # services.crm
    n = svc.add_note(actor, customer_id, "text")               # -> NoteView (version 1)
    n = svc.correct_note(actor, note_id, "corrected text")     # -> NoteView (version 2, supersedes 1)
    notes = svc.notes(actor, customer_id)                      # current versions, newest first
    versions = svc.note_history(actor, note_id)                # every version of that note, oldest first
    needs = svc.needs(actor, customer_id)                      # -> Needs (all False when nothing recorded)
    svc.set_needs(actor, customer_id, Needs(elderly=True, preferred_language="yue"))

A correction never edits a note: it is a new ``crm_note`` row whose ``supersedes_id`` names the version it
corrects (each version is corrected at most once, so the versions of a note form one chain). Notes in
the older ``customer_note`` table are shown too, read-only (``legacy = True``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import STAFF_ROLES, require_role
from teller_tui.common.clock import Clock
from teller_tui.common.errors import Conflict, NotFound, ValidationError
from teller_tui.common.i18n import N_, _
from teller_tui.common.text import clean_text
from teller_tui.db.engine import Database
from teller_tui.models import Customer, CustomerNote, Staff
from teller_tui.models.cases import CrmNote, CustomerNeeds
from teller_tui.notify.preferences import forget_needs

__all__ = ["NEED_TITLES", "CrmService", "Needs", "NoteView"]

NEED_TITLES = {
    "elderly": N_("Elderly"),
    "low_vision": N_("Low vision"),
    "needs_assistance": N_("Needs assistance"),
    "prefers_hard_wallet": N_("Prefers a hard wallet"),
}
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True, slots=True)
class Needs:
    elderly: bool = False
    low_vision: bool = False
    needs_assistance: bool = False
    prefers_hard_wallet: bool = False
    preferred_language: str = ""  # e.g. zh_CN, en, yue; "" = not recorded

    @property
    def flags(self) -> tuple[str, ...]:
        """The names of the flags that are set, in a fixed order (for the top of the customer view)."""
        return tuple(name for name in NEED_TITLES if getattr(self, name))

    def titles(self) -> tuple[str, ...]:
        """The set flags as translated words, the preferred language last."""
        out = [_(NEED_TITLES[name]) for name in self.flags]
        if self.preferred_language:
            out.append(_("Language: {language}").format(language=self.preferred_language))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class NoteView:
    note_id: int
    customer_id: int
    version: int
    supersedes_id: int | None
    author: str
    at: datetime
    text: str  # cleaned (multi-line)
    current: bool
    legacy: bool = False


def _view(row: CrmNote, current: bool) -> NoteView:
    assert row.id is not None
    return NoteView(row.id, row.customer_id, row.version, row.supersedes_id, clean_text(row.author_name, limit=64),
                    row.at, clean_text(row.text, multiline=True, limit=1000), current)


class CrmService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail) -> None:
        self.db, self.clock, self.audit = db, clock, audit

    # -- notes -----------------------------------------------------------------------------------------
    @guarded("crm")
    def add_note(self, actor: Actor, customer_id: int, text: str) -> NoteView:
        require_role(actor, *STAFF_ROLES)
        body = self._text(text)
        with self.db.write() as s:
            self._customer(s, customer_id)
            row = CrmNote(customer_id=customer_id, version=1, author_id=actor.staff_id,
                          author_name=actor.username[:64], at=self.clock.now(), text=body)
            s.add(row)
            s.flush()
            self.audit.append(s, actor, "crm_note_add", subject=f"customer:{customer_id}", detail={"note_id": row.id})
            return _view(row, True)
        raise AssertionError("unreachable")  # pragma: no cover

    @guarded("crm")
    def correct_note(self, actor: Actor, note_id: int, text: str) -> NoteView:
        """A new version of the note; the corrected version stays readable in :meth:`note_history`."""
        require_role(actor, *STAFF_ROLES)
        body = self._text(text)
        with self.db.write() as s:
            old = s.execute(select(CrmNote).where(col(CrmNote.id) == note_id).with_for_update()).scalar_one_or_none()
            if old is None:
                raise NotFound(_("No such note"), code="note_not_found")
            newer = s.execute(select(col(CrmNote.id)).where(col(CrmNote.supersedes_id) == note_id)).first()
            if newer is not None:
                raise Conflict(_("This note has been corrected already: correct its latest version."),
                               code="note_superseded")
            row = CrmNote(customer_id=old.customer_id, supersedes_id=note_id, version=old.version + 1,
                          author_id=actor.staff_id, author_name=actor.username[:64], at=self.clock.now(), text=body)
            s.add(row)
            s.flush()
            self.audit.append(s, actor, "crm_note_correct", subject=f"customer:{old.customer_id}",
                              detail={"note_id": row.id, "supersedes": note_id, "version": row.version})
            return _view(row, True)
        raise AssertionError("unreachable")  # pragma: no cover

    @guarded("crm")
    def notes(self, actor: Actor, customer_id: int) -> list[NoteView]:
        """The current version of each note (and the legacy notes), newest first."""
        require_role(actor, *STAFF_ROLES)
        with self.db.read() as s:
            rows = s.execute(select(CrmNote).where(col(CrmNote.customer_id) == customer_id)).scalars().all()
            superseded = {r.supersedes_id for r in rows if r.supersedes_id is not None}
            out = [_view(r, True) for r in rows if r.id not in superseded]
            for legacy in s.execute(select(CustomerNote).where(col(CustomerNote.customer_id) == customer_id)).scalars():
                assert legacy.id is not None
                author = s.get(Staff, legacy.author_id) if legacy.author_id is not None else None
                out.append(NoteView(legacy.id, customer_id, 1, None, author.username if author else "", legacy.at,
                                    clean_text(legacy.text, multiline=True, limit=1000), True, legacy=True))
        return sorted(out, key=lambda n: (n.at, n.note_id), reverse=True)

    @guarded("crm")
    def note_history(self, actor: Actor, note_id: int) -> list[NoteView]:
        """Every version of the note ``note_id`` belongs to, oldest first."""
        require_role(actor, *STAFF_ROLES)
        with self.db.read() as s:
            row = s.get(CrmNote, note_id)
            if row is None:
                raise NotFound(_("No such note"), code="note_not_found")
            chain = [row]
            while chain[0].supersedes_id is not None:  # back to version 1
                older = s.get(CrmNote, chain[0].supersedes_id)
                assert older is not None
                chain.insert(0, older)
            while True:  # forward to the latest
                newer = s.execute(select(CrmNote).where(col(CrmNote.supersedes_id) == chain[-1].id)).scalar_one_or_none()
                if newer is None:
                    break
                chain.append(newer)
            return [_view(r, r is chain[-1]) for r in chain]

    # -- needs -----------------------------------------------------------------------------------------
    @guarded("crm")
    def needs(self, actor: Actor, customer_id: int) -> Needs:
        require_role(actor, *STAFF_ROLES)
        with self.db.read() as s:
            row = s.get(CustomerNeeds, customer_id)
            if row is None:
                self._customer(s, customer_id)
                return Needs()
            return Needs(row.elderly, row.low_vision, row.needs_assistance, row.prefers_hard_wallet,
                         row.preferred_language)

    @guarded("crm")
    def set_needs(self, actor: Actor, customer_id: int, needs: Needs) -> Needs:
        require_role(actor, *STAFF_ROLES)
        language = clean_text(needs.preferred_language, limit=16)
        if language and not _LANGUAGE.match(language):
            raise ValidationError(_("A language looks like zh_CN, en or yue."), code="needs_language")
        clean = Needs(bool(needs.elderly), bool(needs.low_vision), bool(needs.needs_assistance),
                      bool(needs.prefers_hard_wallet), language)
        now = self.clock.now()
        with self.db.write() as s:
            self._customer(s, customer_id)
            row = s.get(CustomerNeeds, customer_id) or CustomerNeeds(customer_id=customer_id, updated_at=now)
            before = {f.name: getattr(row, f.name) for f in fields(Needs)}
            for f in fields(Needs):
                setattr(row, f.name, getattr(clean, f.name))
            row.updated_at, row.updated_by = now, actor.staff_id
            s.add(row)
            forget_needs(s)
            self.audit.append(s, actor, "customer_needs", subject=f"customer:{customer_id}",
                              detail={"before": before, "after": {f.name: getattr(clean, f.name) for f in fields(Needs)}})
        return clean

    # -- internals ---------------------------------------------------------------------------------------
    @staticmethod
    def _text(text: str) -> str:
        body = clean_text(text, multiline=True, limit=1000)
        if not body:
            raise ValidationError(_("The note is empty."), code="note_empty")
        return body

    @staticmethod
    def _customer(s: Session, customer_id: int) -> None:
        if s.get(Customer, customer_id) is None:
            raise NotFound(_("No such customer"), code="no_customer")
