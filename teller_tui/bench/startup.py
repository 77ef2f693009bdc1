"""Cold start to the first frame of the sign-in screen, and the peak RSS of that start.

Both apps run through the same driver, ``python -m screens.bench_drivers startup MODE``, in a fresh
process, headless: ``minimal`` is a Textual app with a header, an input and a footer;
``teller`` is ``teller run`` exactly as the console script runs it (``screens.cli.main``),
with ``App.run`` switched to headless. The driver wraps ``App._display``: the first call with
a frame (after rendering it to terminal segments, as a real terminal driver would) prints a
marker and ends the process. The time is from spawning the process to reading the marker;
the peak RSS is the child's own high-water mark at that moment (``VmHWM``). Medians of ``startup_runs`` runs,
alternating the two apps.

When the teller app misses its ratio, ``python -X importtime`` of the same start names the
imports that cost the most (in the row's details and the JSON).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teller_tui.bench.runner import Context, Row

NAME = "startup"
TITLE = "cold start to the sign-in screen's first frame (headless, whole process) and its peak RSS"
MARKER = "TELLER-BENCH-FIRST-FRAME"


def spawn(mode: str, env: dict[str, str], *, importtime: bool = False, timeout: float = 60.0
          ) -> tuple[float, int, str, str]:
    """One cold start: (seconds to the first frame, peak RSS in bytes, screen name, stderr)."""
    import subprocess
    import time

    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "screens.bench_drivers", "startup", mode]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - started
    stderr = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if not line.startswith(MARKER):
        raise RuntimeError(f"{mode} app did not paint a frame (exit {proc.returncode}): "
                           f"{(stderr.strip().splitlines() or [''])[-1][:200]}")
    parts = line.split()
    screen = parts[1] if len(parts) > 1 else ""
    # The child's own high-water mark (VmHWM, reset by exec); ru_maxrss would include this
    # process's RSS at fork time.
    peak = int(parts[2]) * 1024 if len(parts) > 2 and parts[2].isdigit() else int(usage.ru_maxrss) * 1024
    return elapsed, peak, screen, stderr


def importtime_top(stderr: str, n: int = 8) -> list[tuple[str, float]]:
    """The top-level imports of an ``-X importtime`` log, by cumulative ms, grouped by package."""
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        try:
            _self, cumulative, name = line[len("import time:"):].split("|", 2)
            cum_us = int(cumulative.strip())
        except ValueError:
            continue
        if name.startswith("  ") or name.strip() == "imported package":
            continue  # nested: already counted in its top-level parent
        top = name.strip().split(".")[0]
        totals[top] = totals.get(top, 0.0) + cum_us / 1000
    return sorted(totals.items(), key=lambda kv: -kv[1])[:n]


def imported_modules(stderr: str) -> set[str]:
    """Every module named in an ``-X importtime`` log."""
    out = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") >= 2:
            out.add(line.rsplit("|", 1)[1].strip())
    return out


def run(ctx: Context) -> list[Row]:
    from teller_tui.bench.runner import median, ratio_row

    data = ctx.customers()
    env = {**os.environ, **data.env, "PYTHONDONTWRITEBYTECODE": "0"}
    env.pop("TEXTUAL", None)
    # Warm the OS file cache and the bytecode caches once (not timed): a cold disk is not the figure.
    for mode in ("minimal", "teller"):
        spawn(mode, env)
    times: dict[str, list[float]] = {"minimal": [], "teller": []}
    rss: dict[str, list[int]] = {"minimal": [], "teller": []}
    screens: set[str] = set()
    for _ in range(max(1, ctx.opts.startup_runs)):
        for mode in ("minimal", "teller"):
            t, peak, screen, _err = spawn(mode, env)
            times[mode].append(t)
            rss[mode].append(peak)
            if mode == "teller":
                screens.add(screen)
    t_app, t_ref = median(times["teller"]), median(times["minimal"])
    m_app, m_ref = median(rss["teller"]), median(rss["minimal"])
    runs = len(times["teller"])
    first = ratio_row(NAME, "cold start to the sign-in screen's first frame (headless, whole process; "
                            f"median of {runs})", t_app * 1000, t_ref * 1000, 1.25, unit="ms",
                      fmt=lambda v: f"{v:,.0f} ms", samples_ms=[round(x * 1000, 1) for x in times["teller"]],
                      reference_samples_ms=[round(x * 1000, 1) for x in times["minimal"]],
                      screen=sorted(screens))
    first.reference = f"{t_ref * 1000:,.0f} ms (minimal app)"
    memory = ratio_row(NAME, "peak memory (RSS) of that start", m_app / 2**20, m_ref / 2**20, 1.5, unit="MiB",
                       fmt=lambda v: f"{v:,.0f} MiB")
    memory.reference = f"{m_ref / 2**20:,.0f} MiB (minimal app)"
    if screens != {"SignInScreen"}:
        first.detail = (first.detail + f"; first frame showed {sorted(screens)}").strip("; ")
    rows = [first, memory]
    # Where the time goes: always recorded (JSON); shown in the table when the ratio is missed.
    try:
        _t, _m, _s, log = spawn("teller", env, importtime=True)
        top = importtime_top(log)
        first.values["importtime_top_ms"] = top
        names = imported_modules(log)
        heavy = [name for name in ("sqlalchemy", "sqlmodel", "pydantic", "pydantic_settings", "alembic", "babel",
                                   "argon2", "phonenumbers", "cryptography", "pypinyin") if name in names]
        first.values["heavy_imported_before_first_frame"] = heavy
        if first.verdict == "MISS":
            ctx.notes.append("startup imports (-X importtime, cumulative, top level): "
                             + ", ".join(f"{name} {ms:.0f} ms" for name, ms in top))
    except Exception as exc:  # noqa: BLE001 - the profile is a diagnostic only
        first.values["importtime_error"] = str(exc)
    return rows
