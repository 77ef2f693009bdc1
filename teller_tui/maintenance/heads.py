"""Chain heads kept outside the database: ``teller heads export`` and verification against them.

The audit trail and the ledger (one chain per branch) are hash chains whose heads live in the
database; someone with write access to the file can delete the last entries and rewrite the
heads, or rewrite a whole tail with recomputed hashes. Neither survives a comparison with a head
copied elsewhere earlier: chains only grow, so every head ever exported must still be in them.

The heads file is plain text, one head per line, appended (never rewritten)::

    2026-11-24T17:05:00Z audit B001:1234:3f1c…(64 hex)
    2026-11-24T17:05:00Z ledger B001:5678:9ab0…(64 hex)

One audit line per stream (``STREAM:SEQ:HASH``: the branch, or ``BANK``; files written before
streams existed hold ``SEQ:HASH`` lines, which still verify), one ledger line per branch. Keep it
on another machine (a mounted share, a USB key, a mail to the auditor), or send the
same lines to syslog with ``--syslog``. ``teller audit verify --heads-file FILE`` and ``teller
ledger verify --heads-file FILE`` check every line of it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from teller_tui.audit.trail import AuditTrail, StreamHead
from teller_tui.common.text import clean_text
from teller_tui.ledger.chain import ChainHead, branch_heads

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["Heads", "append_heads", "current_heads", "heads_lines", "read_heads_file"]


@dataclass(frozen=True, slots=True)
class Heads:
    audit: tuple[StreamHead, ...]
    ledger: tuple[ChainHead, ...]


def current_heads(session: Session) -> Heads:
    return Heads(tuple(AuditTrail.heads(session)), tuple(branch_heads(session)))


def heads_lines(heads: Heads, at: datetime) -> list[str]:
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [f"{stamp} audit {h.stream}:{h.seq}:{h.hash}" for h in heads.audit]
    lines += [f"{stamp} ledger {h.branch_code}:{h.last_seq}:{h.hash}" for h in heads.ledger]
    return [clean_text(line) for line in lines]  # values read from the database: nothing but text


def append_heads(path: Path, lines: Iterable[str]) -> None:
    """Append ``lines`` to ``path`` (created 0600), flushed to disk before returning."""
    path = path.expanduser()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, "".join(f"{line}\n" for line in lines).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_heads_file(path: Path) -> tuple[list[str], list[str]]:
    """The audit heads and the ledger heads named in a heads file, as ``--expect-head`` values.

    Blank lines and lines starting with ``#`` are skipped; anything else that is not a head line
    raises ValueError naming the line."""
    audit: list[str] = []
    ledger: list[str] = []
    for number, line in enumerate(path.expanduser().read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) != 3 or parts[1] not in ("audit", "ledger"):
            raise ValueError(f"{path}:{number}: not a head line (TIME audit|ledger HEAD)")
        (audit if parts[1] == "audit" else ledger).append(parts[2])
    return audit, ledger
