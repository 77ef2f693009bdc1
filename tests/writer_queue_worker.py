"""A separate OS process that writes to a shared SQLite file through ``Database.write`` (used by
tests/test_sqlite_writer_queue.py). It prints ``ready``, waits for a line on stdin (so that
every writer starts at once), then runs COUNT write transactions, each recording which commit
was the last one it saw before asking for its turn and its ticket in the writer queue; at the
end it prints one JSON line.

usage: writer_queue_worker.py DB_PATH WRITER_ID COUNT MODE   (MODE: queue | busy)
``busy`` is the negative control: the writer queue switched off, SQLite's busy handler waits.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    path, writer, count, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    from sqlalchemy import text

    from teller_tui.db.engine import make_database

    db = make_database(f"sqlite:///{path}")
    if mode == "busy":
        db.writer_queue = None
    with db.read() as s:
        s.execute(text("SELECT 1"))
    print("ready", flush=True)
    sys.stdin.readline()
    done = retried = 0
    for _ in range(count):
        with db.read() as s:  # the last commit this writer saw before it asked for its turn
            seen = int(s.execute(text("SELECT coalesce(max(id), 0) FROM queue_probe")).scalar_one())

        def work(s: object, seen: int = seen) -> None:
            ticket = db.writer_queue.last_ticket if db.writer_queue is not None else -1
            s.execute(text("INSERT INTO queue_probe (writer, seen, ticket) "  # type: ignore[attr-defined]
                           "VALUES (:w, :s, :t)"), {"w": writer, "s": seen, "t": ticket})
            time.sleep(0.002)  # a transaction that takes a while, as a posting does

        attempts = [0]

        def counted(s: object) -> None:
            attempts[0] += 1
            work(s)

        db.write_retrying(counted)
        retried += attempts[0] - 1
        done += 1
    waited = db.writer_queue.waited if db.writer_queue is not None else 0
    print(json.dumps({"writer": writer, "done": done, "retried": retried, "waited": waited}), flush=True)
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
