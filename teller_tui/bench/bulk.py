"""The bench's bulk history: millions of ledger entries written straight into the real schema.

:func:`bulk_history` appends two-leg cash entries (cash in, cash out, wallet transfers) to a
demo branch with raw sqlite3, keeping every ledger invariant: request hashes, references,
per-branch sequence numbers and hash chain, cached account totals, the per-wallet day rows
(:mod:`teller_tui.ledger.usage`), the ledger head and an audit record attesting the load, so
``teller ledger verify`` passes. It is as fast as the checks allow: the request text and the
times are built as strings (checked against the ledger's own functions for the first 50 entries
of every load), each chunk of 50,000 entries is one transaction of ``executemany``, the indexes
of the two big tables are dropped for the load and built again after it, without a journal and
without fsync (a load cut short leaves no ``dataset.json``, see :mod:`teller_tui.bench.data`).
Progress: a bar of postings, then one of indexes and totals.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BRANCH = "B001"


def _fmt_ts(dt: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite (naive, always with microseconds)."""
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


#: The bulk history's first posting of a day: 01:00 UTC (09:00 in Shanghai), in microseconds.
_FIRST_US = 3600 * 1_000_000


def _clock_text(us: int) -> str:
    """``HH:MM:SS.ffffff`` of ``us`` microseconds after midnight (strftime is a fifth of the loop)."""
    minutes, rest = divmod(us, 60_000_000)
    return f"{minutes // 60:02d}:{minutes % 60:02d}:{rest // 1_000_000:02d}.{rest % 1_000_000:06d}"


_ENTRY_SQL = ("INSERT INTO journal_entry (id, seq, branch_seq, idempotency_key, request_hash, request_json, kind, reference, memo, "
              "actor_id, terminal_id, branch_code, business_date, posted_at, customer_id, reverses_entry_id, hold_id, "
              "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)")
_POSTING_SQL = "INSERT INTO posting (entry_id, account_id, currency, amount) VALUES (?, ?, 'CNY', ?)"


def _request_json(kind: str, actor_id: int, customer_id: int, legs: list[tuple[int, int]], wallet: str,
                  to_wallet: str | None) -> str:
    """``teller_tui.ledger.core.canonical_json`` of the cash service's request, without json.dumps
    (checked against the real function for the first entries of every load)."""
    (a1, m1), (a2, m2) = legs if legs[0] <= legs[1] else (legs[1], legs[0])  # sorted, as canonical_json
    meta = f'{{"to_wallet":"{to_wallet}","wallet":"{wallet}"}}' if to_wallet else f'{{"wallet":"{wallet}"}}'
    return (f'{{"actor_id":{actor_id},"branch_code":"{BRANCH}","customer_id":{customer_id},"hold_id":null,'
            f'"kind":"{kind}","legs":[[{a1},{m1},"CNY"],[{a2},{m2},"CNY"]],"memo":"","meta":{meta},'
            f'"reverses_entry_id":null}}')


def _check_template(kind: str, actor_id: int, customer_id: int, legs: list[tuple[int, int]], wallet: str,
                    to_wallet: str | None, got: str) -> None:
    from teller_tui.ledger.core import canonical_json

    meta = {"wallet": wallet} if to_wallet is None else {"wallet": wallet, "to_wallet": to_wallet}
    want = canonical_json({"kind": kind, "legs": sorted([a, m, "CNY"] for a, m in legs), "actor_id": actor_id,
                           "branch_code": BRANCH, "memo": "", "customer_id": customer_id, "meta": meta,
                           "reverses_entry_id": None, "hold_id": None})
    if want != got:  # pragma: no cover - a schema change in the ledger's request format
        raise AssertionError(f"bench request template drifted from canonical_json:\n{got}\n{want}")


def _attest_history(con: sqlite3.Connection, until_seq: int, terminal_id: str) -> None:
    """One audit record saying the entries up to ``until_seq`` were bulk-loaded without audit
    records of their own (teller_tui.ledger.verify_links), chained like any other record."""
    from teller_tui.audit.trail import record_hash

    (head_seq,) = con.execute("SELECT seq FROM audit_head WHERE id = 1").fetchone()
    entries, head_hash = con.execute("SELECT entries, hash FROM audit_stream_head WHERE stream = 'BANK'").fetchone()
    seq, now = int(head_seq) + 1, datetime.now(UTC)
    detail = json.dumps({"history_until_seq": until_seq}, sort_keys=True, separators=(",", ":"))
    digest = record_hash(seq=seq, at=now, actor_id=None, actor="system:bench", terminal_id=terminal_id,
                         action="bench_load", subject=BRANCH, outcome="ok", detail_json=detail, prev_hash=head_hash)
    con.execute("INSERT INTO audit_record (seq, at, actor_id, actor, terminal_id, action, subject, outcome, detail_json, "
                "prev_hash, hash, stream, stream_seq) VALUES (?, ?, NULL, 'system:bench', ?, 'bench_load', ?, 'ok', ?, "
                "?, ?, 'BANK', ?)", (seq, _fmt_ts(now), terminal_id, BRANCH, detail, head_hash, digest, int(entries) + 1))
    con.execute("UPDATE audit_head SET seq = ? WHERE id = 1", (seq,))
    con.execute("UPDATE audit_stream_head SET seq = ?, entries = ?, hash = ?, last_at = ? WHERE stream = 'BANK'",
                (seq, int(entries) + 1, digest, _fmt_ts(now)))


def bulk_history(db_path: Path, entries: int, days: int, terminal_id: str, *, progress: bool = True,
                 seed: int = 5, batch: int = 50_000, through_today: bool = False,
                 drawer_staff: tuple[str, ...] | None = None) -> None:
    """Append ``entries`` two-leg cash entries (cash in, cash out, wallet transfers) dated over the
    ``days`` business days before today, keeping every ledger invariant."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from teller_tui.common.clock import local_date
    from teller_tui.ledger.chain import GENESIS, entry_hash, hash_parts

    rng = random.Random(seed)
    con = sqlite3.connect(db_path, isolation_level=None)
    try:
        con.execute("PRAGMA synchronous=OFF")
        # No journal while loading (each page written once, not to the WAL and again at checkpoint):
        # a load cut short leaves no dataset.json, so the data set is built again from scratch.
        journal_mode = str(con.execute("PRAGMA journal_mode").fetchone()[0])
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA cache_size=-262144")
        con.execute("PRAGMA temp_store=MEMORY")
        wallets = con.execute("SELECT w.account_id, w.customer_id, w.number FROM wallet w ORDER BY w.id").fetchall()
        staff = {u: int(i) for i, u in con.execute("SELECT id, username FROM staff")}
        drawers = []
        for acct_id, code, dr, cr in con.execute(
                "SELECT id, code, debits_posted, credits_posted FROM ledger_account WHERE kind = 'drawer' ORDER BY id"):
            user = code.rsplit(":", 1)[-1]
            if user in staff and (drawer_staff is None or user in drawer_staff):
                drawers.append([int(acct_id), staff[user], int(dr) - int(cr)])
        if not wallets or not drawers:
            raise RuntimeError("the demo branch has no wallets or drawers to post to")
        base_id, base_seq, last_at = con.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM journal_entry), last_seq, last_at FROM ledger_head "
            "WHERE id = 1").fetchone()
        chain = con.execute("SELECT entries, hash FROM ledger_chain_head WHERE branch_code = ?", (BRANCH,)).fetchone()
        chained, prev_hash = (int(chain[0]), str(chain[1])) if chain else (0, GENESIS)
        saved = con.execute("SELECT type, name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                            "AND tbl_name IN ('journal_entry', 'posting')").fetchall()
        con.execute("BEGIN")
        for _type, name, _sql in saved:
            con.execute(f'DROP INDEX "{name}"')
        con.execute("COMMIT")

        n_w = len(wallets)
        wallet_accounts = {int(w[0]) for w in wallets}
        usage: dict[tuple[int, str], list[int]] = {}
        cash_days: dict[tuple[str, int, str], int] = {}  # the ledger's cash_day rows (teller_tui.ledger.cash_day)
        bal = [0] * n_w  # wallet balances (credit-normal), the demo left them empty
        acct_dr: dict[int, int] = {}
        acct_cr: dict[int, int] = {}
        per_day = -(-entries // days)
        first_day = local_date(datetime.now(UTC)) - timedelta(days=days - (1 if through_today else 0))
        # Spread each day's entries over 01:00–09:00 UTC (09:00–17:00 in Shanghai).
        step_us = max(1, (8 * 3600 * 1_000_000) // per_day)
        cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        last_ts, last_bdate = last_at, None
        day_at, bdate, day_s = -1, first_day, first_day.isoformat()
        with Progress(*cols, disable=not progress, transient=False) as bar:
            task = bar.add_task("postings", total=entries * 2)
            done = 0
            sha = hashlib.sha256
            while done < entries:
                size = min(batch, entries - done)
                erows: list[tuple[Any, ...]] = []
                prows: list[tuple[int, int, int]] = []
                for k in range(done, done + size):
                    seq = base_seq + k + 1
                    entry_id = base_id + k + 1
                    day_index, slot = divmod(k, per_day)
                    if day_index != day_at:  # the day's date and its text, once a day
                        day_at = day_index
                        bdate = first_day + timedelta(days=day_index)
                        day_s = bdate.isoformat()
                    clock = _clock_text(_FIRST_US + slot * step_us)  # 01:00–09:00 UTC: never past midnight
                    d = drawers[k % len(drawers)]
                    w = rng.randrange(n_w)
                    acct, cust, number = wallets[w]
                    r = rng.random()
                    to_number = None
                    if r < 0.5 or bal[w] < 5_000:
                        kind = "cash_in"
                        amt = rng.choice((10_000, 20_000, 50_000, 100_000))
                        legs = [(d[0], amt), (acct, -amt)]
                        bal[w] += amt
                        d[2] += amt
                    elif r < 0.8 and d[2] >= bal[w]:
                        kind = "cash_out"
                        amt = min(bal[w], rng.choice((5_000, 10_000, 20_000)))
                        legs = [(acct, amt), (d[0], -amt)]
                        bal[w] -= amt
                        d[2] -= amt
                    else:
                        w2 = (w + 1 + rng.randrange(n_w - 1)) % n_w if n_w > 1 else w
                        if w2 == w:
                            kind = "cash_in"
                            amt = 10_000
                            legs = [(d[0], amt), (acct, -amt)]
                            bal[w] += amt
                            d[2] += amt
                        else:
                            kind = "transfer"
                            amt = min(bal[w], rng.choice((2_000, 5_000, 8_800)))
                            acct2, _c2, to_number = wallets[w2]
                            legs = [(acct, amt), (acct2, -amt)]
                            bal[w] -= amt
                            bal[w2] += amt
                    for a, m in legs:
                        if m > 0:
                            acct_dr[a] = acct_dr.get(a, 0) + m
                        else:
                            acct_cr[a] = acct_cr.get(a, 0) - m
                    req = _request_json(kind, d[1], cust, legs, number, to_number)
                    if k < 50:
                        _check_template(kind, d[1], cust, legs, number, to_number, req)
                    key, req_hash = f"bench-{seq:012d}", sha(req.encode()).hexdigest()
                    reference = f"R{day_s[:4]}{day_s[5:7]}{day_s[8:]}-{seq:09d}"
                    last_ts, last_bdate = f"{day_s} {clock}", day_s
                    hashed_legs = [(a, "CNY", m) for a, m in legs]
                    # The ledger's own hash format (chain.hash_parts) on the texts built above.
                    digest = hash_parts(seq, reference, kind, key, req_hash, "", d[1], terminal_id, BRANCH, day_s,
                                        f"{day_s}T{clock}Z", cust, None, None, hashed_legs, prev_hash)
                    if k < 50:  # the texts are what the ledger would make of the datetime (as _check_template)
                        posted = datetime(bdate.year, bdate.month, bdate.day, tzinfo=UTC) + timedelta(
                            microseconds=_FIRST_US + slot * step_us)
                        values = {"seq": seq, "idempotency_key": key, "request_hash": req_hash, "kind": kind,
                                  "reference": f"R{bdate:%Y%m%d}-{seq:09d}", "memo": "", "actor_id": d[1],
                                  "terminal_id": terminal_id, "branch_code": BRANCH, "business_date": bdate,
                                  "posted_at": posted, "customer_id": cust, "reverses_entry_id": None, "hold_id": None}
                        if (entry_hash(values, hashed_legs, prev_hash) != digest or _fmt_ts(posted) != last_ts
                                or values["reference"] != reference):
                            raise AssertionError(f"bulk history: entry {seq} is not hashed as the ledger hashes it")
                    erows.append((entry_id, seq, chained + k + 1, key, req_hash, req, kind, reference, d[1], terminal_id,
                                  BRANCH, day_s, last_ts, cust, prev_hash, digest))
                    prev_hash = digest
                    prows.append((entry_id, legs[0][0], legs[0][1]))
                    prows.append((entry_id, legs[1][0], legs[1][1]))
                    if kind != "transfer":  # the drawer leg: the customer's and (cash out) the teller's day
                        cash = abs(legs[0][1])
                        subject = ("customer_in" if kind == "cash_in" else "customer_out", cust, day_s)
                        cash_days[subject] = cash_days.get(subject, 0) + cash
                        if kind == "cash_out":
                            cash_days[("teller_out", d[1], day_s)] = cash_days.get(("teller_out", d[1], day_s), 0) + cash
                    for a, m in legs:  # the ledger's per-wallet day rows (teller_tui.ledger.usage)
                        if a in wallet_accounts:
                            day_use = usage.setdefault((a, day_s), [0, 0])
                            day_use[0 if m > 0 else 1] += abs(m)
                con.execute("BEGIN")
                con.executemany(_ENTRY_SQL, erows)
                con.executemany(_POSTING_SQL, prows)
                con.execute("COMMIT")
                done += size
                bar.advance(task, size * 2)
            t2 = bar.add_task("indexes and totals", total=len(saved) + 2)
            con.execute("BEGIN")
            con.executemany("UPDATE ledger_account SET debits_posted = debits_posted + ?, "
                            "credits_posted = credits_posted + ? WHERE id = ?",
                            [(acct_dr.get(a, 0), acct_cr.get(a, 0), a) for a in set(acct_dr) | set(acct_cr)])
            con.execute("UPDATE ledger_head SET last_seq = ?, last_at = ? WHERE id = 1", (base_seq + entries, last_ts))
            con.executemany("INSERT INTO wallet_usage_day (account_id, business_date, debits, credits) "
                            "VALUES (?, ?, ?, ?) "
                            "ON CONFLICT (account_id, business_date) DO UPDATE SET debits = debits + excluded.debits, "
                            "credits = credits + excluded.credits",
                            [(a, d, dr, cr) for (a, d), (dr, cr) in sorted(usage.items())])
            con.executemany("INSERT INTO cash_day (subject, subject_id, business_date, amount) VALUES (?, ?, ?, ?) "
                            "ON CONFLICT (subject, subject_id, business_date) DO UPDATE SET amount = amount + excluded.amount",
                            [(sub, i, day, x) for (sub, i, day), x in sorted(cash_days.items())])
            con.execute("INSERT INTO ledger_chain_head (branch_code, last_seq, entries, hash, last_at, last_date) "
                        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (branch_code) DO UPDATE SET last_seq = excluded.last_seq, "
                        "entries = excluded.entries, hash = excluded.hash, last_at = excluded.last_at, "
                        "last_date = excluded.last_date",
                        (BRANCH, base_seq + entries, chained + entries, prev_hash, last_ts, last_bdate))
            _attest_history(con, base_seq + entries, terminal_id)
            con.execute("COMMIT")
            bar.advance(t2)
            for _type, _name, sql in saved:
                con.execute(sql)
                bar.advance(t2)
            con.execute("PRAGMA analysis_limit=2000")
            con.execute("ANALYZE")
            con.execute(f"PRAGMA journal_mode={journal_mode}")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            bar.advance(t2)
    finally:
        con.close()
