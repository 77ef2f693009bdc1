"""Which trigrams of a fragment to ask SQLite's FTS5 index for: the rarest, by a sample of the customers.

Public API::

    grams = GramSampler()                         # one per CustomerService (thread-safe)
    sample = grams.sample(session)                # -> GramSample | None (None: too few customers)
                                                  # (taken when a substring search first needs it: ~50 ms at 1M)
    chosen = sample.pick("id_number", "13031005")  # -> ["130", "005", "303"]

FTS5 answers an AND of trigrams by walking each trigram's doclist, so its cost follows the
commonest trigram asked for. In ID numbers some digit trigrams are in almost half the rows
(``101``, ``198``: dates) and others in half a percent; in pinyin ``ang`` is everywhere and
``ngj`` is not. The caller verifies the whole fragment on every candidate, so any subset of the
fragment's trigrams gives the same answers: asking for the two or three rarest reads a few
thousand doclist entries instead of hundreds of thousands (an 8-digit fragment at a million
customers: 4-8 ms -> ~1 ms CPU).

The frequencies come from a sample of the customer base (a few blocks of rows spread over the
id range), taken on first use and again after ``MAX_AGE`` seconds (``SMALL_AGE`` while the
table is too small to estimate from; then every trigram is asked for, as before).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlmodel import Session

#: Rows per sampled block, blocks spread over the id range.
BLOCK, BLOCKS = 1000, 4
#: Fewer sampled rows than this: no estimate (every trigram is asked for).
MIN_SAMPLE = 500
#: Seconds a sample serves (frequencies drift slowly); a too-small sample is retried sooner.
MAX_AGE, SMALL_AGE = 3600.0, 60.0
#: Trigrams asked for at most; beyond the two rarest, only those in at most this share of rows.
MAX_GRAMS, DENSE = 3, 0.10

_SAMPLE_SQL = text(
    "SELECT id, coalesce(upper(id_number), ''), lower(replace(coalesce(name_latin, ''), ' ', '')) "
    "FROM customer WHERE id >= :lo ORDER BY id LIMIT :n")


def trigrams(fragment: str) -> list[str]:
    """The distinct trigrams of ``fragment``, in the order they occur."""
    return list(dict.fromkeys(fragment[i:i + 3] for i in range(len(fragment) - 2)))


@dataclass(frozen=True, slots=True)
class GramSample:
    """Trigram document counts per FTS column (``id_number``, ``latin``) in ``size`` sampled rows."""

    size: int
    counts: dict[str, Counter[str]]

    def pick(self, column: str, fragment: str) -> list[str]:
        """The trigrams of ``fragment`` to ask for, at most ``MAX_GRAMS``: rarest first, and first
        those sharing no character with one already chosen (``ngg``, ``ggu`` and ``gui`` are
        found in the same names, so together they remove little); beyond two, none in more than
        ``DENSE`` of the rows (reading it costs more than the candidates it removes). Ties keep
        their order in the fragment."""
        grams = trigrams(fragment)
        counts = self.counts.get(column)
        if counts is None or len(grams) <= 2:
            return grams
        where = {g: fragment.index(g) for g in grams}
        ranked = sorted(grams, key=lambda g: counts.get(g, 0))
        dense = self.size * DENSE
        chosen: list[str] = []
        for apart in (True, False):
            for g in ranked:
                if len(chosen) >= MAX_GRAMS:
                    return chosen
                if g in chosen or (len(chosen) >= 2 and counts.get(g, 0) > dense):
                    continue
                if apart and any(abs(where[g] - where[c]) < 3 for c in chosen):
                    continue
                chosen.append(g)
        return chosen


def take_sample(session: Session) -> GramSample:
    """Trigram counts over ``BLOCKS`` blocks of ``BLOCK`` customers spread over the id range."""
    # Two queries: SQLite answers a lone min() or max() from the index end, min() and max() together by a scan.
    lo = session.execute(text("SELECT min(id) FROM customer")).scalar()
    hi = session.execute(text("SELECT max(id) FROM customer")).scalar()
    counts: dict[str, Counter[str]] = {"id_number": Counter(), "latin": Counter()}
    if lo is None or hi is None:
        return GramSample(0, counts)
    lo, hi = int(lo), int(hi)
    step = max(1, (hi - lo + 1) // BLOCKS)
    seen: set[int] = set()
    for start in range(lo, hi + 1, step):
        for cid, id_number, latin in session.execute(_SAMPLE_SQL, {"lo": start, "n": BLOCK}):
            if cid in seen:  # blocks overlap in a small table
                continue
            seen.add(cid)
            counts["id_number"].update({id_number[i:i + 3] for i in range(len(id_number) - 2)})
            counts["latin"].update({latin[i:i + 3] for i in range(len(latin) - 2)})
        if len(seen) >= BLOCK * BLOCKS:
            break
    return GramSample(len(seen), counts)


class GramSampler:
    """Holds the current :class:`GramSample`; takes a new one when it is due."""

    def __init__(self, *, min_sample: int = MIN_SAMPLE) -> None:
        self.min_sample = min_sample
        self._lock = threading.Lock()
        self._sample: GramSample | None = None
        self._due = 0.0

    def sample(self, session: Session) -> GramSample | None:
        """The sample to pick trigrams by, or None while the table is too small to tell."""
        now = time.monotonic()
        if now >= self._due and self._lock.acquire(blocking=False):  # one thread samples, others go on
            try:
                self._sample = take_sample(session)
                small = self._sample.size < self.min_sample
                self._due = now + (SMALL_AGE if small else MAX_AGE)
            finally:
                self._lock.release()
        sample = self._sample
        return sample if sample is not None and sample.size >= self.min_sample else None
