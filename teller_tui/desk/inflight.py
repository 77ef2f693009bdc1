"""A submission in flight survives a crash: the terminal writes its key down before sending it.

Each terminal keeps a tiny journal under ``$TELLER_HOME/inflight/<terminal>/``: one JSON file per
submission, named by its idempotency key, written (and fsynced) *before* the posting is sent to
the database, and removed once the outcome is known and shown. The journal lives on the
terminal's own disk because the database may be the thing that is down.

After a restart, a reconnect or an unlock, whatever is still in the journal is looked up by its
key (:class:`~teller_tui.desk.inflight_service.InflightService`): the entry exists (posted: reprint its receipt) or it does not (not
posted: safe to enter again, with a new form and a new key). A key is never reused for a new
request, so a submission whose fate was unknown can never post twice.
"""

from __future__ import annotations

import json
import re
from dataclasses import MISSING, asdict, dataclass
from datetime import datetime
from pathlib import Path

from teller_tui.common.files import fsync_dir, write_private_file

__all__ = ["InflightJournal", "Submission"]

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class Submission:
    """What the teller was doing, enough to tell them plainly what became of it."""

    key: str
    kind: str            # cash_in, cash_out, transfer, reversal, vault_transfer, drawer_open, drawer_close,
    username: str        # kiosk_transfer
    wallet: str          # the wallet number as shown on the form ("" for the drawer's own postings)
    amount: str          # formatted for display, e.g. "¥500.00"
    started_at: str      # ISO 8601, UTC
    subject: str = ""    # what the outcome is looked up by when the key alone cannot say (``drawer:12``)

    @classmethod
    def from_json(cls, text: str) -> Submission:
        data = json.loads(text)
        fields = cls.__dataclass_fields__
        # A field added later (``subject``) has a default: files written before it still read.
        return cls(**{k: str(data[k]) for k in fields if k in data or fields[k].default is MISSING})


class InflightJournal:
    """The per-terminal journal of submissions whose outcome the teller has not yet been shown."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def for_terminal(cls, home: Path, terminal_id: str) -> InflightJournal:
        return cls(Path(home) / "inflight" / (_SAFE.sub("_", terminal_id) or "terminal"))

    def _path(self, key: str) -> Path:
        return self.directory / f"{_SAFE.sub('_', key)}.json"

    def record(self, kind: str, key: str, *, username: str, wallet: str, amount: str, now: datetime,
               subject: str = "") -> Submission:
        """Write the submission durably (before it is sent). Raises OSError if the disk refuses:
        the caller then does not send it, because a crash could no longer be accounted for."""
        sub = Submission(key, kind, username, wallet, amount, now.isoformat(), subject)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private_file(self._path(key), json.dumps(asdict(sub), ensure_ascii=False))
        return sub

    def resolve(self, key: str) -> None:
        """The outcome is known and shown: forget the submission."""
        path = self._path(key)
        if path.exists():
            path.unlink()
            fsync_dir(self.directory)

    def pending(self, username: str | None = None) -> list[Submission]:
        """Submissions not yet resolved (of ``username`` only, if given), oldest first."""
        if not self.directory.is_dir():
            return []
        found: list[Submission] = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                sub = Submission.from_json(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a torn file cannot exist (atomic rename); anything else is not ours
            if username is None or sub.username == username:
                found.append(sub)
        return sorted(found, key=lambda s: s.started_at)

