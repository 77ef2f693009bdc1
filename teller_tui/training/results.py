"""Training scores for the live desk's reports (issue 24: the promotion report's training measure).

Training runs in its own database (:mod:`teller_tui.training.mode`): its scored runs are
``training_result`` audit records there, plus the results kept from rebuilt training databases
(``results-archive.jsonl``). :class:`TrainingResults` reads them for a time range, opening the
training database only for the read and closing it again, so a live terminal keeps no second
connection pool. Where there is no training database (never set up, or PostgreSQL without
``TELLER_TRAINING_DATABASE_URL``) there are simply no results; where it cannot be read (a server
down, a file that is not a training database) the report says the scores are unavailable rather
than failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from teller_tui.common.errors import DomainError
from teller_tui.common.settings import Settings
from teller_tui.db.engine import make_database
from teller_tui.training.mode import require_training_database, training_settings
from teller_tui.training.report import Attempt, archive_path, archived, attempts

__all__ = ["TrainingResults", "TrainingScores", "aware"]


@dataclass(frozen=True, slots=True)
class TrainingScores:
    """The scored runs of a range; ``available`` False when the training database could not be read."""

    attempts: tuple[Attempt, ...]
    available: bool = True


class TrainingResults:
    """Reads scored training runs for reports on the live desk (built once by ``make_services``)."""

    def __init__(self, live: Settings) -> None:
        self.live = live

    def between(self, since: datetime, until: datetime) -> TrainingScores:
        """Runs scored in [since, until) (aware UTC datetimes), from the archive and the training database."""
        try:
            tsettings = training_settings(self.live)
        except DomainError:  # PostgreSQL without its own training database: training is not set up
            return TrainingScores(())
        kept = [a for a in archived(archive_path(tsettings.home)) if since <= aware(a.at) < until]
        url = tsettings.effective_database_url
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            return TrainingScores(tuple(kept))
        try:
            db = make_database(url, synchronous=self.live.sqlite_synchronous,
                               allow_network_fs=self.live.allow_network_filesystem)
        except DomainError:
            return TrainingScores(tuple(kept), available=False)
        try:
            with db.read() as s:
                require_training_database(s)
                found = attempts(s, since=since, until=until)
        except DomainError:  # unreachable, or not a training database: say so, do not guess
            return TrainingScores(tuple(kept), available=False)
        finally:
            db.dispose()
        return TrainingScores(tuple(kept + found))


def aware(moment: datetime) -> datetime:
    """Stored moments are UTC; SQLite hands them back without a zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
