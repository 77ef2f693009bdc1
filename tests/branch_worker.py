"""One teller terminal in its own OS process, posting through the real CashService at its branch
(used by tests/test_branch_parallel.py). Prints one JSON line per outcome, after its commit:
``{"ok": true, "key", "kind", "wallet", "to", "amount", "reference"}`` or
``{"ok": false, "kind", "wallet", "code"}``; on SQLite a last line ``{"queue": {"checkpoints", "frames"}}``.

usage: branch_worker.py PLAN_JSON
Mixed mode: cash into a hot wallet from every branch (at another branch's wallet the ledger adds the
inter-branch clearing legs, teller_tui/ledger/clearing.py) or a transfer from an own wallet, cash-ins
and cash-outs on own wallets, cash at other branches' wallets, transfers to them. Hot mode (the
negative control): cash at the hot wallet's own branch, transfers into it from the others.
PLAN: url, home, staff_id, username, branch, hot ([wallet id, its branch] every branch pays into), own (this
branch's wallets), others (other branches' wallets), ops, seed, amount_max (fen), locks (bool:
False is the negative control, db.scope_locks off), mode ("mixed" | "hot": cash-ins to ``hot`` only),
widen_ms (optional: a pause before each balance update, after the limit checks have read, so that
unserialized checks certainly overlap; the negative control uses it, and a run with the keys on stays
within the cap with the same pause).
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    plan = json.loads(sys.argv[1])
    os.environ["TELLER_COUNTER_CONSENT"] = "false"
    from teller_tui.audit.trail import Actor
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.common.errors import DomainError
    from teller_tui.common.money import Money
    from teller_tui.common.settings import load_settings
    from teller_tui.db.engine import make_database
    from teller_tui.services import make_services

    db = make_database(plan["url"])
    db.scope_locks = bool(plan["locks"])
    if plan.get("widen_ms"):
        import time

        from sqlalchemy import event

        pause = plan["widen_ms"] / 1000

        def _widen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            if statement.lstrip().upper().startswith("UPDATE LEDGER_ACCOUNT"):
                time.sleep(pause)

        event.listen(db.write_engine, "before_cursor_execute", _widen)
    settings = load_settings(home=Path(plan["home"]), locale="en", database_url=plan["url"], counter_consent=False)
    services = make_services(settings, database=db, box=SecretBox.ephemeral())
    actor = Actor(plan["staff_id"], plan["username"], f"T{plan['staff_id']:02d}", "teller", plan["branch"])
    rnd = random.Random(plan["seed"])
    out = sys.stdout
    print(json.dumps({"ready": True}), file=out, flush=True)
    sys.stdin.readline()  # the start signal: every worker starts at once
    for i in range(plan["ops"]):
        key = f"bp-{plan['seed']}-{plan['username']}-{i}"
        amount = Money(rnd.randint(1, plan["amount_max"] // 100) * 100)
        r = rnd.random()
        to = None
        if plan["mode"] == "hot" or r < 0.4:  # into a hot wallet: cash (also at another branch), or a transfer
            hot, hot_branch = rnd.choice(plan["hot"])
            if hot_branch == plan["branch"] or (plan["mode"] != "hot" and r < 0.2):
                kind, wallet = "cash_in", hot
            else:
                kind, wallet, to = "transfer", rnd.choice(plan["own"]), hot
        elif r < 0.55:
            kind, wallet = "cash_in", rnd.choice(plan["own"])
        elif r < 0.7:
            kind, wallet = "cash_out", rnd.choice(plan["own"])
        elif r < 0.75:  # the customer walked into another branch
            kind, wallet = "cash_in", rnd.choice(plan["others"])
        elif r < 0.8:
            kind, wallet = "cash_out", rnd.choice(plan["others"])
        else:
            kind, wallet, to = "transfer", rnd.choice(plan["own"]), rnd.choice(plan["others"])
        try:
            if kind == "cash_in":
                res = services.cash.cash_in(actor, wallet, amount, idempotency_key=key)
            elif kind == "cash_out":
                res = services.cash.cash_out(actor, wallet, amount, idempotency_key=key)
            else:
                res = services.cash.transfer(actor, wallet, to, amount, idempotency_key=key)
        except DomainError as exc:
            print(json.dumps({"ok": False, "kind": kind, "wallet": wallet, "code": exc.code}), file=out, flush=True)
            continue
        except Exception as exc:  # noqa: BLE001 - not a refusal: reported, and the checks fail on it
            print(json.dumps({"ok": False, "kind": kind, "wallet": wallet, "code": f"error:{type(exc).__name__}",
                              "error": str(exc)[:300]}), file=out, flush=True)
            continue
        print(json.dumps({"ok": True, "key": key, "kind": kind, "wallet": wallet, "to": to, "amount": amount.minor,
                          "reference": res.reference}), file=out, flush=True)
    if db.writer_queue is not None:  # SQLite: the WAL checkpoints this terminal ran after leaving the line
        print(json.dumps({"queue": {"checkpoints": db.writer_queue.checkpoints,
                                    "frames": db.writer_queue.checkpointed_frames}}), file=out, flush=True)
    services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
