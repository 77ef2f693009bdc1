"""``teller ledger verify`` over the big ledger: wall time and peak memory of the whole command.

The command runs in a child process exactly as a supervisor would run it (``python -m
teller_tui.cli ledger verify`` with the data set's TELLER_HOME / TELLER_DATABASE_URL); its
exit status must be 0 (every invariant holds: the bulk loader keeps them). Memory "flat"
means the peak RSS over ``postings`` postings stays within 1.25x of the same command's peak
over the small ledger of the customer data set (a few postings): rows are streamed.

The command runs with ``--timings``: one INFO row per group of checks follows (15/16, the
content and hash chain, and A, the ledger/audit cross-check, included), so a slow check is
named rather than hidden in the total.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from teller_tui.bench.runner import Row, limit_row, ratio_row

if TYPE_CHECKING:
    from teller_tui.bench.data import DataSet
    from teller_tui.bench.runner import Context

NAME = "verify"
TITLE = "teller ledger verify over the big ledger (time, memory flat)"


def run(ctx: Context) -> list[Row]:
    big = ctx.ledger()
    small = ctx.customers()
    s_small, m_small, rc_small, _line, _t = run_verify_rss(small)
    seconds, peak, rc, line, timings = run_verify_rss(big)
    postings = big.info.get("postings", ctx.opts.postings)
    row = limit_row(NAME, f"`teller ledger verify` over {postings:,} postings (whole command)", seconds, 60.0,
                    unit="s", fmt=lambda v: f"{v:,.1f} s", exit_code=rc, summary=line)
    row.reference = f"{s_small:,.1f} s over the small ledger"
    if rc != 0:
        row.verdict = "FAIL"
        row.detail = f"exit {rc}: {line}"
    mem = ratio_row(NAME, "  peak memory (RSS) of that verify, vs the same over a small ledger", peak / 2**20,
                    m_small / 2**20, 1.25, unit="MiB", fmt=lambda v: f"{v:,.0f} MiB")
    mem.reference = f"{m_small / 2**20:,.0f} MiB (small ledger)"
    checks = [Row(NAME, f"  check {check}", f"{value:,.2f} s", detail=f"{value / seconds * 100:.0f}% of the command"
                  if seconds else "", values={"check": check, "seconds": value}) for check, value in timings.items()]
    return [row, mem, *checks]


def run_verify_rss(data: DataSet, timeout: float = 3600) -> tuple[float, int, int, str, dict[str, float]]:
    """(seconds, peak RSS bytes, exit code, first output line, seconds per group of checks) of
    ``teller ledger verify --timings``, run through :mod:`teller_tui.bench.peakrss` so the peak is
    the command's own."""
    env = {**os.environ, **data.env}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "teller_tui.bench.peakrss", sys.executable, "-m", "teller_tui.cli",
                             "ledger", "verify", "--timings"], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.wait()
    seconds = time.perf_counter() - started
    from teller_tui.bench.peakrss import MARKER

    peak = 0
    lines = []
    timings: dict[str, float] = {}
    for line in out.strip().splitlines():
        if line.startswith(MARKER):
            peak = int(line.split()[1])
        elif line.startswith("  time [") and "]: " in line:
            name, _sep, value = line[len("  time ["):].partition("]: ")
            timings[name] = float(value.split()[0])
        else:
            lines.append(line)
    return seconds, peak, proc.returncode, (lines or [""])[0][:200], timings
