"""Queries bounded by what they serve: a cash-out and the home screen's totals, small vs big.

* **Cash-out at N postings vs at 1,000** (target ≤ 1.2×): ``services.cash.cash_out`` (class limits
  with the wallet's usage today and this year, drawer cash, approval policy, ledger, audit,
  notification, receipt) on wallets with years of history, in a ledger of ``opts.postings``
  postings (default 10,000,000; ``--postings`` to change it) and in one of 1,000, same customers
  and tellers. The yearly usage is read from the ledger's per-wallet day rows
  (:mod:`teller_tui.ledger.usage`), so it does not grow with the wallet's lifetime history.
  The consent step is switched off for the run (``counter_consent``): it is a PIN on a customer
  display, not a query.
* **Home totals on a day with 200,000 entries vs a day with 1,000** (target ≤ 1.2×):
  ``services.drawers.status`` for a teller whose own drawer has a few postings today, while the
  other drawers of the branch posted the rest of the day's entries (today's count is read from
  the teller's own drawer postings: :func:`teller_tui.branch.drawer_lookup.todays_cash_count`).
* **Day totals on a day with 200,000 entries vs a day with 1,000** (target ≤ 1.2×): the approval
  policy's "cash the teller paid out today" and "the customer's cash out today"
  (:func:`teller_tui.ledger.cash_day.cash_today`, read by every cash-out) for a teller whose drawer
  took half the day's entries; the read they replaced (the teller's entries of the day and their
  postings) is timed alongside (INFO), and both must give the same total.

Each figure: the median with the middle half (IQR) of the samples, next to its small reference,
both measured in this run, interleaved (cash-outs in blocks of five, home totals one by one) so that
the load of a shared machine, which drifts, weighs on both sides alike. A home-totals sample is the
fastest of three reads in a row (a read changes nothing; a cash-out cannot be repeated). With ``--keep DIR`` the
data sets are built once and reused (:mod:`teller_tui.bench.data`).
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from teller_tui.bench.runner import Row, median, ratio_row

if TYPE_CHECKING:
    from teller_tui.bench.data import DataSet
    from teller_tui.bench.runner import Context

NAME = "bounded"
TITLE = ("cash-out at 10M vs 1k postings; home totals and day totals on a 200,000-entry day vs a "
         "1,000-entry day")
SMALL_POSTINGS = 1_000
SMALL_DAY_ENTRIES = 1_000
#: Cash-outs in a row on one side before the other side's turn (a shared machine's load drifts).
BLOCK = 5
#: Home-total reads per sample, the fastest kept (see ``home_totals``).
HOME_REPEATS = 3


def _iqr(samples: list[float]) -> str:
    data = sorted(samples)
    q1, q3 = data[len(data) // 4], data[min(len(data) - 1, (3 * len(data)) // 4)]
    return f"{q1 * 1000:,.2f}–{q3 * 1000:,.2f} ms"


def _no_consent_services(data: DataSet) -> Any:
    from teller_tui.services import make_services

    return make_services(data.settings.model_copy(update={"counter_consent": False}))


def _funded_wallets(services: Any, n: int) -> list[int]:
    """``n`` wallets with money and history (the bulk history's wallets), spread over the base."""
    from sqlalchemy import text

    with services.db.read() as s:
        rows = s.execute(text(
            "SELECT w.id FROM wallet w JOIN ledger_account a ON a.id = w.account_id "
            "WHERE w.status = 'active' AND a.credits_posted - a.debits_posted >= 10000 "
            "ORDER BY a.debits_posted + a.credits_posted DESC LIMIT :n"), {"n": n}).scalars().all()
    return [int(r) for r in rows]


def _quiet_wallets(services: Any, n: int) -> list[int]:
    from sqlalchemy import text

    with services.db.read() as s:
        rows = s.execute(text(
            "SELECT w.id FROM wallet w JOIN ledger_account a ON a.id = w.account_id "
            "WHERE w.status = 'active' AND w.tier = 1 "
            "ORDER BY a.debits_posted + a.credits_posted, w.id LIMIT :n"), {"n": n}).scalars().all()
    return [int(r) for r in rows]


def _cash_outs(services: Any, actor: Any, wallets: list[int], n: int, tag: str) -> list[float]:
    from teller_tui.common.money import Money

    run = uuid.uuid4().hex[:8]
    samples = []
    for i in range(n):
        t = time.perf_counter()
        services.cash.cash_out(actor, wallets[i % len(wallets)], Money(100), idempotency_key=f"co-{tag}-{run}-{i}")
        samples.append(time.perf_counter() - t)
    return samples


def cash_out(ctx: Context) -> Row:
    from teller_tui.bench import data as bench_data

    big = ctx.ledger()
    small = ctx.dataset("ledger-1k", lambda: bench_data.build_ledger(ctx, postings=SMALL_POSTINGS,
                                                                    name="ledger-1k"))
    sides = []
    for ds in (big, small):
        services = _no_consent_services(ds)
        wallets = _funded_wallets(services, 50)
        if not wallets:
            raise RuntimeError(f"no funded wallet in {ds.name}")
        sides.append((services, ds.actor("teller1"), wallets))
    for services, actor, wallets in sides:
        _cash_outs(services, actor, wallets, len(wallets), "warm")  # caches; each wallet's first posting today
    n = max(BLOCK, min(300, ctx.opts.cash_ins))
    big_ms: list[float] = []
    small_ms: list[float] = []
    for block in range(n // BLOCK):  # interleaved in short blocks: drift in machine load hits both alike
        big_ms += _cash_outs(*sides[0], BLOCK, f"big{block}")
        small_ms += _cash_outs(*sides[1], BLOCK, f"small{block}")
    for services, _actor, _wallets in sides:
        services.db.dispose()
    postings = big.info.get("postings", ctx.opts.postings)
    b, s = median(big_ms) * 1000, median(small_ms) * 1000
    row = ratio_row(NAME, f"one cash-out at {postings:,} postings vs at {SMALL_POSTINGS:,} (median of {len(big_ms)})",
                    b, s, 1.2, unit="ms", fmt=lambda v: f"{v:,.2f} ms", big_iqr=_iqr(big_ms),
                    small_iqr=_iqr(small_ms), postings=postings)
    row.reference = f"{s:,.2f} ms at {SMALL_POSTINGS:,} postings"
    row.detail = (row.detail + f"; IQR {_iqr(big_ms)} vs {_iqr(small_ms)}").strip("; ")
    return row


def _day(ctx: Context, entries: int) -> DataSet:
    from teller_tui.bench import data as bench_data

    name = f"day-{entries}"
    found: DataSet = ctx.dataset(name, lambda: bench_data.build_ledger(
        ctx, postings=entries * 2, name=name, days=1, through_today=True, drawer_staff=("teller2", "super1")))
    return found


def home_totals(ctx: Context) -> Row:
    from teller_tui.common.money import Money

    big_entries = ctx.opts.day_entries
    sides = []
    for entries in (big_entries, SMALL_DAY_ENTRIES):
        ds = _day(ctx, entries)
        services = ds.services()
        actor = ds.actor("teller1")
        wallets = _quiet_wallets(services, 5)  # no cash of theirs today: no large-cash approval
        before = services.drawers.status(actor).transactions  # 0, or a kept day's earlier runs (--keep)
        run = uuid.uuid4().hex[:8]
        for i in range(5):  # the teller's own few cash transactions today
            services.cash.cash_in(actor, wallets[i % len(wallets)], Money(100), idempotency_key=f"home-{run}-{i}")
        sides.append((services, actor, before + 5))

    def status(services: Any, actor: Any, want: int) -> float:
        """The fastest of ``HOME_REPEATS`` reads in a row: the read changes nothing, and on a shared
        machine one call in several is set aside for milliseconds (the median hops between the two)."""
        best = float("inf")
        for _ in range(HOME_REPEATS):
            t = time.perf_counter()
            st = services.drawers.status(actor)
            best = min(best, time.perf_counter() - t)
            if st.state != "open" or st.transactions != want:
                raise AssertionError(f"teller1's drawer: {st.state}, {st.transactions} transactions (want open, {want})")
        return best

    n = max(4, min(400, ctx.opts.cash_ins))
    for side in sides:
        status(*side)  # warm
    big_ms: list[float] = []
    small_ms: list[float] = []
    for _ in range(n):
        big_ms.append(status(*sides[0]))
        small_ms.append(status(*sides[1]))
    b, s = median(big_ms) * 1000, median(small_ms) * 1000
    row = ratio_row(NAME, f"home totals (drawers.status) on a day of {big_entries:,} entries vs "
                    f"{SMALL_DAY_ENTRIES:,} (median of {n}, each the fastest of {HOME_REPEATS})", b, s, 1.2, unit="ms", fmt=lambda v: f"{v:,.2f} ms",
                    big_iqr=_iqr(big_ms), small_iqr=_iqr(small_ms), day_entries=big_entries)
    row.reference = f"{s:,.2f} ms on a {SMALL_DAY_ENTRIES:,}-entry day"
    row.detail = (row.detail + f"; IQR {_iqr(big_ms)} vs {_iqr(small_ms)}").strip("; ")
    return row


#: The day totals' read before the ledger kept them (teller_tui.ledger.cash_day): the teller's entries of
#: the day and their postings. Timed next to the kept rows' read as what the figure replaced (INFO).
_OLD_TELLER_OUT = (
    "SELECT coalesce(sum(-p.amount), 0) FROM journal_entry e "
    "JOIN posting p ON p.entry_id = e.id JOIN ledger_account a ON a.id = p.account_id "
    "WHERE e.actor_id = :s AND e.business_date = :d AND +e.kind = 'cash_out' AND a.kind = 'drawer' "
    "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_entry_id = e.id)")


def day_totals(ctx: Context) -> list[Row]:
    """The approval policy's day totals (cash the teller paid out today, the customer's cash out today:
    :func:`teller_tui.ledger.cash_day.cash_today`, what every cash-out reads) for ``teller2``, whose
    drawer took half of a day of ``opts.day_entries`` entries, vs the same on a 1,000-entry day."""
    from sqlalchemy import text

    from teller_tui.ledger.business_day import current_business_date
    from teller_tui.ledger.cash_day import cash_today

    big_entries = ctx.opts.day_entries
    sides = []
    for entries in (big_entries, SMALL_DAY_ENTRIES):
        ds = _day(ctx, entries)
        services = ds.services()
        actor = ds.actor("teller2")
        with services.db.read() as s:
            on = current_business_date(s, actor.branch_code, services.clock)
            customer = s.execute(text("SELECT customer_id FROM journal_entry WHERE kind = 'cash_out' "
                                      "AND actor_id = :s AND business_date = :d LIMIT 1"),
                                 {"s": actor.staff_id, "d": on}).scalar()
        sides.append((services, int(actor.staff_id or 0), int(customer or 0), on))

    def read(services: Any, staff: int, customer: int, on: Any, old: bool) -> tuple[float, int]:
        with services.db.read() as s:
            t = time.perf_counter()
            if old:
                paid = int(s.execute(text(_OLD_TELLER_OUT), {"s": staff, "d": on}).scalar_one())
            else:
                paid = cash_today(s, customer_id=customer, kind="cash_out", staff_id=staff, on=on)[1]
            return time.perf_counter() - t, paid

    rows: list[Row] = []
    for old in (False, True):
        n = (max(4, min(400, ctx.opts.cash_ins)) if not old else 5)
        for side in sides:  # warm, and the two reads agree
            new_paid, old_paid = read(*side, False)[1], read(*side, True)[1]
            if new_paid != old_paid or not new_paid:
                raise AssertionError(f"teller2 paid out {new_paid} by the kept rows, {old_paid} by the postings")
        big_ms: list[float] = []
        small_ms: list[float] = []
        for _ in range(n):  # interleaved: drift in machine load hits both alike
            big_ms.append(read(*sides[0], old)[0])
            small_ms.append(read(*sides[1], old)[0])
        b, sm = median(big_ms) * 1000, median(small_ms) * 1000
        if not old:
            row = ratio_row(NAME, f"day totals (teller's and customer's cash out today) on a day of {big_entries:,} "
                            f"entries vs {SMALL_DAY_ENTRIES:,} (median of {n})", b, sm, 1.2, unit="ms",
                            fmt=lambda v: f"{v:,.3f} ms", big_iqr=_iqr(big_ms), small_iqr=_iqr(small_ms),
                            day_entries=big_entries)
            row.detail = (row.detail + f"; IQR {_iqr(big_ms)} vs {_iqr(small_ms)}").strip("; ")
        else:
            row = Row(NAME, f"  the read it replaced (the teller's entries of the day), median of {n}",
                      f"{b:,.2f} ms", detail=f"{b / sm:,.1f}x its own {sm:,.2f} ms on the small day",
                      values={"big_ms": b, "small_ms": sm})
        row.reference = f"{sm:,.3f} ms on a {SMALL_DAY_ENTRIES:,}-entry day"
        rows.append(row)
    for services, *_rest in sides:
        services.db.dispose()
    return rows


def run(ctx: Context) -> list[Row]:
    return [cash_out(ctx), home_totals(ctx), *day_totals(ctx)]
