"""One terminal of the failover storm: a separate OS process posting transfers through the
production write path (``Database.write_retrying`` + the ledger's idempotency key) on a
multi-host URL, until STOP_FILE exists.

After each COMMIT returns it appends one JSON line to OUT_FILE and flushes: ``{"key", "id", "t"}``
(``t`` = time.time() of the acknowledgement). A lost connection is retried with the same key
(``write_retrying`` reconnects; if its budget runs out the worker tries again, as the app's
"reconnecting" loop does), so a posting whose COMMIT answer was lost is found again, never
posted twice. ``{"unavailable": key, "t"}`` lines record each spent budget.

usage: failover_worker.py URL WORKER_ID OUT_FILE STOP_FILE ACCOUNTS_JSON
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    url, worker, out_path, stop_path, accounts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    from teller_tui.common.clock import SystemClock
    from teller_tui.common.errors import DatabaseUnavailable
    from teller_tui.db.engine import make_database
    from teller_tui.ledger import EntryRequest, Ledger, Leg

    ids = json.loads(accounts)
    db = make_database(url, pool_size=1, reconnect_seconds=5)
    ledger = Ledger(SystemClock())
    i = 0
    with open(out_path, "a", encoding="utf-8") as out:
        while not os.path.exists(stop_path):
            i += 1
            key = f"w{worker}-{i}"
            amount = 1 + (worker * 31 + i * 7) % 500
            src, dst = ("a", "b") if (worker + i) % 2 else ("b", "a")
            req = EntryRequest(key, "transfer", (Leg(ids[src], amount), Leg(ids[dst], -amount)), None,
                               f"T{worker}", "B001")
            while True:
                try:
                    res = db.write_retrying(lambda s, r=req: ledger.post(s, r))
                    break
                except DatabaseUnavailable:
                    out.write(json.dumps({"unavailable": key, "t": time.time()}) + "\n")
                    out.flush()
                    if os.path.exists(stop_path):
                        return 0
            out.write(json.dumps({"key": key, "id": res.entry_id, "t": time.time(),
                                  "replayed": res.replayed}) + "\n")
            out.flush()
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
