"""One branch's terminals in their own OS process: a teller, a kiosk and two supervisors, all through the
real services (used by tests/test_scope_workload.py). Prints one JSON line per outcome, after its commit:
``{"ok": true, "key", "kind", "wallet", "to", "amount", "via"}`` or ``{"ok": false, "kind", "code", ...}``.

usage: scope_worker.py PLAN_JSON
Per operation, at random:
* a kiosk transfer: the customer of an own wallet signs in at this branch's kiosk (phone and PIN) and
  pays a customer of another branch (or the hot wallet) by phone number;
* a cash-in (own wallet, another branch's wallet, the hot wallet);
* a cash-out above the teller's limit (a low-limit policy): approved at the counter by a supervisor of
  ANOTHER branch (two branches' audit streams in one transaction), or queued with its funds held and
  then approved from the queue by this branch's supervisor, or left queued for a sweep to expire;
* every few operations ``approvals.expire_sweep()`` (requests and holds of every branch in one
  transaction).
Every terminal of the process shares one fake clock that moves 31 s before each supervisor's code
(a fresh one-time code each time) and a few seconds per operation.
PLAN: url, home, branch, teller [id, username], kiosk terminal, sup_cross [username, secret],
sup_own [username, secret], password, own (wallet ids), customers ({wallet id: phone}), payees
(phones of other branches' customers), hot [wallet id, phone], pin, ops, seed, amount_max (fen),
locks (bool: db.scope_locks), start (ISO time), hot_only (bool: kiosk transfers into the hot wallet only).
"""

from __future__ import annotations

import json
import os
import random
import sys
import traceback
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _policy():  # type: ignore[no-untyped-def]
    from teller_tui.approvals.policy import ApprovalPolicy

    return ApprovalPolicy.from_dict({
        "approvers": {"supervisor": "unlimited", "admin": "unlimited"},
        "rule": [{"id": "teller_cash_limit", "actions": ["cash_out"], "when": "over_role_limits",
                  "effective_from": date(2020, 1, 1),
                  "role": {"teller": {"cash_out_per_txn": "300", "cash_out_daily": "1,000,000"}}}]})


def main() -> int:  # noqa: C901 - one loop of cases
    plan = json.loads(sys.argv[1])
    os.environ["TELLER_COUNTER_CONSENT"] = "false"
    import pyotp

    from teller_tui.audit.trail import Actor
    from teller_tui.common.clock import FakeClock
    from teller_tui.common.errors import ApprovalRequired, DomainError
    from teller_tui.common.money import Money
    from teller_tui.common.settings import load_settings
    from teller_tui.db import engine
    from teller_tui.db.engine import make_database
    from teller_tui.services import make_services

    db = make_database(plan["url"])
    db.scope_locks = bool(plan["locks"])
    clock = FakeClock(datetime.fromisoformat(plan["start"]))
    settings = load_settings(home=Path(plan["home"]), locale="en", database_url=plan["url"], counter_consent=False,
                             branch_code=plan["branch"], terminal_id=plan["kiosk"], approval_expiry_seconds=120,
                             kiosk_min_response_seconds=0, kiosk_attempts_per_minute=1000)
    services = make_services(settings, database=db, clock=clock)  # the home's key: the staff secrets
    services.approvals.policy = _policy()
    teller = Actor(plan["teller"][0], plan["teller"][1], f"T{plan['teller'][0]:02d}", "teller", plan["branch"])
    kiosk = services.kiosk.ensure_identity(plan["kiosk"])
    rnd = random.Random(plan["seed"])
    out = sys.stdout

    def say(**kw: object) -> None:
        print(json.dumps(kw), file=out, flush=True)

    def code(secret: str) -> str:
        clock.advance(seconds=31)  # a step of its own: each supervisor's code is fresh
        return str(pyotp.TOTP(secret).at(clock.now().timestamp()))

    say(ready=True)
    sys.stdin.readline()  # the start signal: every worker starts at once
    bank_writes = db.bank_writes
    seen: set[str] = set()  # where a bank-wide write came from (for the failure message)
    take_bank = engine.lock_bank

    def spy(session: object) -> None:
        stack = [f"{f.filename.split('teller_tui/')[-1]}:{f.lineno}:{f.name}" for f in traceback.extract_stack()
                 if "teller_tui" in f.filename and "db/engine" not in f.filename]
        seen.add(" < ".join(reversed(stack[-4:])))
        take_bank(session)  # type: ignore[arg-type]

    engine.lock_bank = spy  # type: ignore[assignment]
    for i in range(plan["ops"]):
        clock.advance(seconds=2)
        key = f"sw-{plan['seed']}-{plan['branch']}-{i}"
        amount = Money(rnd.randint(1, plan["amount_max"] // 100) * 100)
        r = rnd.random()
        own = rnd.choice(plan["own"])
        try:
            if r < 0.3 or plan["hot_only"]:  # the kiosk (hot_only, the negative control: always into the hot wallet)
                payee = plan["hot"][1] if plan["hot_only"] or rnd.random() < 0.4 else rnd.choice(plan["payees"])
                to = plan["hot"][0] if payee == plan["hot"][1] else plan["phones"][payee]
                session = services.kiosk.sign_in(kiosk, plan["customers"][str(own)], plan["pin"])
                services.kiosk.transfer(kiosk, session, own, payee, amount, idempotency_key=key)
                services.kiosk.sign_out(kiosk, session)
                say(ok=True, key=key, kind="transfer", wallet=own, to=to, amount=amount.minor, via="kiosk")
            elif r < 0.55:  # cash in: own, another branch's (clearing legs), the hot wallet
                wallet = rnd.choice([own, plan["hot"][0], rnd.choice(list(plan["phones"].values()))])
                services.cash.cash_in(teller, wallet, amount, idempotency_key=key)
                say(ok=True, key=key, kind="cash_in", wallet=wallet, to=None, amount=amount.minor, via="counter")
            else:  # a cash-out: above 300.00 a supervisor approves
                amount = Money(amount.minor + 30_000)
                try:
                    services.cash.cash_out(teller, own, amount, idempotency_key=key)
                    say(ok=True, key=key, kind="cash_out", wallet=own, to=None, amount=amount.minor, via="counter")
                    continue
                except ApprovalRequired as exc:
                    spec = exc.details["spec"]
                how = rnd.random()
                if how < 0.5:  # a supervisor of another branch at this counter
                    user, secret = plan["sup_cross"]
                    grant = services.approvals.approve_at_counter(teller, spec, user, plan["password"], code(secret))
                    services.cash.cash_out(teller, own, amount, idempotency_key=key, approval_id=grant.approval_id)
                    say(ok=True, key=key, kind="cash_out", wallet=own, to=None, amount=amount.minor, via="counter_approval")
                else:  # queued, the funds held
                    view = services.approvals.request(teller, spec)
                    if how < 0.8:  # approved from the queue by this branch's supervisor: the hold is posted
                        user, secret = plan["sup_own"]
                        sup = Actor(plan["sup_own_id"], user, f"S{plan['sup_own_id']:02d}", "supervisor", plan["branch"])
                        services.approvals.decide(sup, view.id, approve=True, password=plan["password"],
                                                  code=code(secret), reason="ok")
                        say(ok=True, key=key, kind="cash_out", wallet=own, to=None, amount=amount.minor, via="queue")
                    else:
                        say(ok=False, kind="cash_out", wallet=own, code="left_queued", request=view.id)
        except DomainError as exc:
            say(ok=False, kind="op", wallet=own, code=exc.code)
        except Exception as exc:  # noqa: BLE001 - not a refusal: reported, and the checks fail on it
            say(ok=False, kind="op", wallet=own, code=f"error:{type(exc).__name__}", error=str(exc)[:300])
        if i % 5 == 4:
            try:
                for request_id in services.approvals.expire_sweep():
                    say(ok=False, kind="sweep", code="expired", request=request_id)
            except Exception as exc:  # noqa: BLE001
                say(ok=False, kind="sweep", code=f"error:{type(exc).__name__}", error=str(exc)[:300])
    # PostgreSQL: how many of this run's writes took the bank-wide key (none should).
    say(ok=False, kind="bank_writes", code="count", count=db.bank_writes - bank_writes, where=sorted(seen))
    services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
