"""Training settings: a separate home, database, key file and audit chain; the watermark.

``training_settings(live)`` derives the training terminal's settings from the live ones:

* home ``$TELLER_HOME/training`` (its own ``secret.key``, receipts, reports, in-flight journal);
* database ``TELLER_TRAINING_DATABASE_URL`` if set, else ``$TELLER_HOME/training/teller.db``.
  On PostgreSQL the training database must be named (a separate database, never the live one's
  URL): training postings cannot reach the live books because they are never in the same database.

Only this function marks settings as training (:attr:`Settings.training` is a private flag no
environment variable can set), and every training service method refuses unmarked settings.
The database is checked too: the training builder writes a ``training_database`` audit record,
and :func:`require_training_database` refuses a database without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import col

from teller_tui.common.errors import Conflict
from teller_tui.common.i18n import _
from teller_tui.common.settings import Settings
from teller_tui.common.watermark import TRAINING_WATERMARK
from teller_tui.models import AuditRecord

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["MARKER_ACTION", "WATERMARK", "require_training", "require_training_built", "require_training_database",
           "training_settings"]

#: On every screen and every receipt, in both languages whatever the interface language.
WATERMARK = TRAINING_WATERMARK
#: The audit action the training builder writes first into a training database.
MARKER_ACTION = "training_database"


def training_settings(live: Settings) -> Settings:
    """The training terminal's settings, derived from the live ones (see the module docstring)."""
    url = live.training_database_url.strip()
    home = live.home / "training"
    if not url:
        if live.effective_database_url.startswith("postgresql"):
            raise Conflict(_("Training on PostgreSQL needs its own database: set TELLER_TRAINING_DATABASE_URL."),
                           code="training_url")
        url = f"sqlite:///{home / 'teller.db'}"
    if same_database(url, live.effective_database_url):
        raise Conflict(_("The training database must not be the live database."), code="training_url")
    return live.as_training(home, url)


def same_database(a: str, b: str) -> bool:
    """Whether two URLs name the same database however they are spelled: the resolved file for
    SQLite; host, port and database name for PostgreSQL (driver, user and options aside)."""
    try:
        ua, ub = make_url(a), make_url(b)
    except ArgumentError:
        return a.strip() == b.strip()
    if ua.get_backend_name() != ub.get_backend_name():
        return False
    if ua.get_backend_name() == "sqlite":
        return Path(ua.database or "").expanduser().resolve() == Path(ub.database or "").expanduser().resolve()
    def where(u: URL) -> tuple[str, int, str]:
        host = (u.host or "localhost").lower()
        return ("localhost" if host in ("127.0.0.1", "::1") else host, u.port or 5432, u.database or "")
    return where(ua) == where(ub)


def require_training_built(settings: Settings) -> None:
    """Refuse to open a training SQLite file that `teller training setup` has not built yet."""
    url = settings.effective_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise Conflict(_("There is no training database yet: run `teller training setup` first."),
                       code="training_missing")


def require_training(settings: Settings) -> None:
    if not settings.training:
        raise Conflict(_("Training is not on: this is the live desk."), code="not_training")


def require_training_database(session: Session) -> None:
    """Refuse a database the training builder did not make (a live database, whatever the settings)."""
    found = session.execute(select(col(AuditRecord.seq)).where(col(AuditRecord.action) == MARKER_ACTION)
                            .limit(1)).first()
    if found is None:
        raise Conflict(_("This is not a training database (run `teller training setup`)."), code="not_training")
