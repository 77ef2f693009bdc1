"""The audit record hash: SHA-256 over a record's canonical content and the previous record's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = ["GENESIS", "canonical_detail", "record_hash"]

GENESIS = "0" * 64


def canonical_detail(detail: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(*, seq: int, at: datetime, actor_id: int | None, actor: str, terminal_id: str, action: str,
                subject: str, outcome: str, detail_json: str, prev_hash: str) -> str:
    """THE record hash (unchanged since the first release: ``stream`` and ``stream_seq`` are not
    hashed; a record's place in its stream is fixed by the chain and checked by ``verify``)."""
    body = json.dumps([seq, at.isoformat(), actor_id, actor, terminal_id, action, subject, outcome, detail_json,
                       prev_hash], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()
