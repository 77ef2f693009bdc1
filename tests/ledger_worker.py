"""A separate OS process that posts to a shared SQLite ledger (used by the concurrency and
crash tests). Prints one JSON line per acknowledged posting, after its commit.

usage: ledger_worker.py DB_PATH WORKER_ID COUNT SEED MODE   (MODE: immediate | deferred | forever)
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    path, worker, count, seed, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    from sqlalchemy.exc import OperationalError

    from teller_tui.common.clock import SystemClock
    from teller_tui.db.engine import make_database
    from teller_tui.common.errors import DomainError
    from teller_tui.ledger import EntryRequest, Ledger, Leg

    db = make_database(f"sqlite:///{path}")
    if mode == "deferred":
        # Negative control: the same engine without the BEGIN IMMEDIATE listener, and without the
        # writer queue (which alone would also keep these writers apart, one at a time).
        db.writer_queue = None
        from sqlalchemy import create_engine, event

        eng = create_engine(db.url, connect_args={"timeout": 10, "check_same_thread": False})
        event.listen(eng, "connect", db._sqlite_on_connect)
        event.listen(eng, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        db.write_engine.dispose()
        db.write_engine = eng
    ledger = Ledger(SystemClock())
    with db.read() as s:
        ids = dict(s.connection().exec_driver_sql("SELECT code, id FROM ledger_account").all())
    wallets = [ids[c] for c in sorted(ids) if c.startswith("wallet:")]
    drawers = [ids[c] for c in sorted(ids) if c.startswith("drawer:")]
    rnd = random.Random(seed * 1000 + worker)
    out = sys.stdout
    i = 0
    while mode == "forever" or i < count:
        i += 1
        r = rnd.random()
        w, w2 = rnd.sample(wallets, 2)
        d = rnd.choice(drawers)
        amount = rnd.randint(1, 500)
        if r < 0.5:
            legs = ((w, amount), (w2, -amount))
            kind = "transfer"
        elif r < 0.8:
            legs = ((d, amount), (w, -amount))
            kind = "cash_in"
        else:
            legs = ((w, amount), (d, -amount))
            kind = "cash_out"
        key = f"w{worker}-s{seed}-{i}"
        req = EntryRequest(key, kind, tuple(Leg(a, x) for a, x in legs), None, f"P{worker}", "B001", memo=kind)
        t0 = time.monotonic()
        attempts = 0

        def post(session: object, req: EntryRequest = req) -> object:
            nonlocal attempts
            attempts += 1
            return ledger.post(session, req)  # type: ignore[arg-type]

        try:
            if mode == "deferred":  # the raw error, as a regression would show it
                with db.write() as s:
                    res = post(s)
            else:  # the production path: a lock timeout is retried with the same key
                res = db.write_retrying(post)
        except DomainError as exc:
            if exc.code == "busy":  # write_retrying gave up: report it as the lock error it is
                out.write(json.dumps({"error": key, "message": f"database is locked ({exc})",
                                      "waited": round(time.monotonic() - t0, 3)}) + "\n")
            else:
                out.write(json.dumps({"refused": key, "code": exc.code}) + "\n")
        except OperationalError as exc:
            out.write(json.dumps({"error": key, "message": str(exc.orig),
                                  "waited": round(time.monotonic() - t0, 3)}) + "\n")
        else:
            out.write(json.dumps({"ack": key, "entry": res.entry_id, "legs": legs, "attempts": attempts}) + "\n")
        out.flush()
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
