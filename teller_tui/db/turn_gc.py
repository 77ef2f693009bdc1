"""No garbage collection while this process holds a turn in the SQLite writers' line.

A full (oldest-generation) collection in a process of this size took 89 ms, inside the transaction,
with every writer behind it waiting; young ones (0.2–0.7 ms) ran inside one turn in twelve of a
16-writer run. While any turn of the process is held the oldest generation's threshold is out of
reach and the youngest's is raised to :data:`YOUNG_GC_IN_TURN`; when the last turn ends the
thresholds are restored (:mod:`teller_tui.db.writer_queue` calls :func:`hold_gc` and :func:`release_gc`).
"""

from __future__ import annotations

import gc
import threading

__all__ = ["YOUNG_GC_IN_TURN", "hold_gc", "release_gc"]

_FULL_GC_HELD_OFF = 1 << 30  # the oldest generation's threshold while a turn is held: never reached
#: The youngest generation's threshold while a turn is held (CPython's default is 700): a posting's
#: allocations never reach it, so its young collections run after the turn; a bulk transaction
#: still collects every this many allocations.
YOUNG_GC_IN_TURN = 50_000
_gc_guard = threading.Lock()
_gc_turns = 0  # turns held in this process
_gc_threshold: tuple[int, ...] = ()


def hold_gc() -> None:
    """A turn of this process begins: no full collection, and young ones only past YOUNG_GC_IN_TURN."""
    global _gc_turns, _gc_threshold
    with _gc_guard:
        if _gc_turns == 0:
            _gc_threshold = gc.get_threshold()
            gc.set_threshold(max(_gc_threshold[0], YOUNG_GC_IN_TURN), _gc_threshold[1], _FULL_GC_HELD_OFF)
        _gc_turns += 1


def release_gc() -> None:
    """A turn ends: the last one restores the thresholds (a collection that fell due runs then)."""
    global _gc_turns
    with _gc_guard:
        _gc_turns -= 1
        if _gc_turns == 0:
            gc.set_threshold(*_gc_threshold)
