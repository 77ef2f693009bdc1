"""Cold start: to the sign-in screen's first frame, and to the moment it is usable, with peak RSS.

Every app runs through the same driver, ``python -m screens.bench_drivers startup MODE``, in a fresh
process, headless: ``minimal`` is a Textual app with a header, an input and a footer;
``teller`` is ``teller run`` exactly as the console script runs it (``screens.cli.main``),
with ``App.run`` switched to headless. The driver wraps ``App._display``: the first call with
the frame the mode waits for (after rendering it to terminal segments, as a real terminal driver
would) prints a marker and ends the process. The time is from spawning the process to reading the
marker; the peak RSS is the child's own high-water mark at that moment (``VmHWM``).

Two pairs are judged: the **first frame** (``teller`` against ``minimal``) and **time to usable**
— the first frame in which the sign-in button is enabled (``teller-usable``), against the
``reference`` app built for it: the minimal app whose input starts disabled, and which after its
first frame imports SQLAlchemy, opens the same database, runs ``SELECT 1`` and enables the input.
A first frame the person cannot use yet is not the figure that matters. The start is progressive
(the core — models, services — loads after the database is open, while the person types), so three
more rows say what the person meets next, each against the same reference: ``teller-core`` (the
services built: a sign-in goes ahead at once), ``teller-desk`` (a sign-in typed in one burst at the
first frame, ``teller1<TAB>password<TAB>code<ENTER>`` with the code of the moment, to the home screen
shown) with its peak memory, and ``teller-echo`` (a key typed every 50 ms from another thread, as a
terminal's input thread does, from the first frame until the core is loaded: the worst delay from a
key to the frame that shows it, since the UI shares the GIL with the loading thread).
``kiosk-usable`` (the kiosk's language buttons enabled) is judged against the teller app's time to usable. Every mode
runs ``startup_runs`` times, interleaved; rows give the median and p95 (nearest rank).

Every row shows its reference measured in the same run, each with median, p95 and the spread
(min–max) of its runs, and beside the wall time each side's CPU time (user + system of the child,
which ends itself at the frame; median): other work on a shared machine delays a start without adding
to its CPU time, so under load the CPU ratio is the steadier one (the verdict stays on wall time). When the teller app misses its ratio, ``python -X importtime`` of the same
start names what the time went to, by component (own time of every module, so nothing is counted
twice): Textual, SQLAlchemy, pydantic, the model classes, the rest of the core (in the JSON too).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teller_tui.bench.runner import Context, Row

NAME = "startup"
TITLE = "cold start to the sign-in screen's first frame and to a usable sign-in (headless, whole process), peak RSS"
MARKER = "TELLER-BENCH-FIRST-FRAME"


def spawn(mode: str, env: dict[str, str], *, importtime: bool = False, timeout: float = 60.0
          ) -> tuple[float, int, str, str, str, float]:
    """One cold start: (seconds to the frame, peak RSS in bytes, screen name, stderr, the marker's extra
    field: ``teller-echo``'s worst key-to-frame delay in ms, the child's CPU seconds, user + system, to
    that frame: it ends itself there, so its whole CPU time is the start's)."""
    import select
    import subprocess
    import tempfile
    import time

    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "screens.bench_drivers", "startup", mode]
    # stderr to a file, not a pipe: an ``-X importtime`` log is larger than a pipe's buffer and the
    # child would block writing it while this process waits for the marker.
    with tempfile.TemporaryFile(mode="w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        ready, _w, _x = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else ""
        elapsed = time.perf_counter() - started
        if not ready:
            proc.kill()
        _pid, status, usage = os.wait4(proc.pid, 0)
        err.seek(0)
        stderr = err.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if not line.startswith(MARKER):
        raise RuntimeError(f"{mode} app did not paint a frame (exit {proc.returncode}): "
                           f"{(stderr.strip().splitlines() or [''])[-1][:200]}")
    parts = line.split()
    screen = parts[1] if len(parts) > 1 else ""
    # The child's own high-water mark (VmHWM, reset by exec); ru_maxrss would include this
    # process's RSS at fork time.
    peak = int(parts[2]) * 1024 if len(parts) > 2 and parts[2].isdigit() else int(usage.ru_maxrss) * 1024
    return elapsed, peak, screen, stderr, parts[3] if len(parts) > 3 else "", usage.ru_utime + usage.ru_stime


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


#: Components of a start, by module name prefix (first match wins); anything else is "other".
COMPONENTS = (
    ("Textual + Rich", ("textual", "rich", "markdown_it", "mdurl", "linkify_it", "pygments")),
    ("SQLAlchemy + SQLModel", ("sqlalchemy", "sqlmodel", "greenlet")),
    ("pydantic + pydantic-settings", ("pydantic", "pydantic_core", "pydantic_settings", "annotated_types",
                                      "typing_inspection", "dotenv")),
    ("model classes (teller_tui.models)", ("teller_tui.models",)),
    ("settings (teller_tui.common.settings)", ("teller_tui.common.settings",)),
    ("rest of the core (teller_tui)", ("teller_tui",)),
    ("screens", ("screens",)),
)


OTHER = "other (stdlib, small packages)"


def importtime_components(stderr: str) -> list[tuple[str, float]]:
    """Own ("self") import time of an ``-X importtime`` log summed per :data:`COMPONENTS`, in ms,
    largest first; class bodies run at import (model classes, dataclasses) count where they are."""
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") < 2:
            continue
        try:
            own, _cumulative, name = line[len("import time:"):].split("|", 2)
            own_us = int(own.strip())
        except ValueError:
            continue
        name = name.strip()
        group = next((label for label, prefixes in COMPONENTS
                      if any(name == p or name.startswith(p + ".") for p in prefixes)), OTHER)
        totals[group] = totals.get(group, 0.0) + own_us / 1000
    return sorted(totals.items(), key=lambda kv: -kv[1])


def imported_modules(stderr: str) -> set[str]:
    """Every module named in an ``-X importtime`` log."""
    out = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") >= 2:
            out.add(line.rsplit("|", 1)[1].strip())
    return out


#: Modes run each round, interleaved so that load from elsewhere hits them alike.
MODES = ("minimal", "teller", "reference", "teller-usable", "teller-core", "teller-desk", "teller-echo",
         "kiosk-usable")
#: The demo teller whose sign-in ``teller-desk`` types (teller_tui.demo.staff).
BURST_USER = "teller1"


def spread(samples: list[float]) -> str:
    """``median 1,234 ms (p95 1,300, 1,200–1,310)``: the median, its p95 and the runs' min–max."""
    from teller_tui.bench.runner import median, percentile

    return (f"{median(samples):,.0f} ms (p95 {percentile(samples, 95):,.0f}, "
            f"{min(samples):,.0f}–{max(samples):,.0f})")


def burst_for_demo_teller(data: Any) -> str:
    """``teller1<TAB>password<TAB>code`` for ``teller-desk``, with the code of this moment. The sign-in's
    replay guard accepts a time step once: the bench database forgets the last accepted step first."""
    import sqlite3

    import pyotp

    from teller_tui.demo.staff import DEMO_STAFF

    demo = next(s for s in DEMO_STAFF if s.username == BURST_USER)
    if data.db_path is not None:
        with sqlite3.connect(data.db_path) as conn:
            conn.execute("UPDATE staff SET totp_last_step = NULL, failed_attempts = 0 WHERE username = ?",
                         (BURST_USER,))
    return f"{demo.username}\t{demo.password}\t{pyotp.TOTP(demo.totp_secret).now()}"


def run(ctx: Context) -> list[Row]:
    from teller_tui.bench.runner import Row, median, percentile, ratio_row

    data = ctx.customers()
    env = {**os.environ, **data.env, "PYTHONDONTWRITEBYTECODE": "0"}
    env.pop("TEXTUAL", None)
    env["TELLER_BENCH_ECHO_MS"] = "50"

    def env_for(mode: str) -> dict[str, str]:
        if mode != "teller-desk":
            return env
        return {**env, "TELLER_BENCH_BURST": burst_for_demo_teller(data)}

    # Warm the OS file cache and the bytecode caches once (not timed): a cold disk is not the figure.
    for mode in MODES:
        spawn(mode, env_for(mode))
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    rss: dict[str, list[int]] = {mode: [] for mode in MODES}
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}  # the child's CPU ms (user + system)
    screens: dict[str, set[str]] = {mode: set() for mode in MODES}
    echo_ms: list[float] = []  # each run's worst key-to-frame delay
    echo_p95_ms: list[float] = []  # each run's p95
    desk_rss_now: list[int] = []  # resident (VmRSS) at the desk, beside the peak
    for _ in range(max(1, ctx.opts.startup_runs)):
        for mode in MODES:
            t, peak, screen, _err, extra, cpu_s = spawn(mode, env_for(mode))
            times[mode].append(t * 1000)
            cpu[mode].append(cpu_s * 1000)
            rss[mode].append(peak)
            screens[mode].add(screen)
            if mode == "teller-desk" and extra.isdigit():
                desk_rss_now.append(int(extra) * 1024)
            if mode == "teller-echo" and extra:
                worst, p95 = extra.split("/")
                echo_ms.append(float(worst))
                echo_p95_ms.append(float(p95))
    runs = len(times["teller"])

    def ms_row(figure: str, mode: str, ref: str, limit: float, ref_name: str) -> Row:
        row = ratio_row(NAME, figure, median(times[mode]), median(times[ref]), limit, unit="ms",
                        fmt=lambda v: f"{v:,.0f} ms", samples_ms=[round(x, 1) for x in times[mode]],
                        reference_samples_ms=[round(x, 1) for x in times[ref]],
                        p95_ms=percentile(times[mode], 95), reference_p95_ms=percentile(times[ref], 95),
                        screen=sorted(screens[mode]))
        row.measured = spread(times[mode])
        row.reference = f"{spread(times[ref])}, {ref_name}"
        # CPU time beside the wall time: other work on a shared machine delays a start without adding to it.
        cpu_app, cpu_ref = median(cpu[mode]), median(cpu[ref])
        row.values.update(cpu_ms=[round(x, 1) for x in cpu[mode]], reference_cpu_ms=[round(x, 1) for x in cpu[ref]],
                          cpu_ratio=cpu_app / cpu_ref if cpu_ref else None)
        if cpu_ref:
            row.detail = "; ".join(part for part in (row.detail, f"CPU {cpu_app:,.0f} ms vs {cpu_ref:,.0f} ms "
                                                                 f"({cpu_app / cpu_ref:.2f}×)") if part)
        return row

    def mib_row(figure: str, mode: str, ref: str, limit: float, ref_name: str) -> Row:
        m_app, m_ref = median(rss[mode]), median(rss[ref])
        row = ratio_row(NAME, figure, m_app / 2**20, m_ref / 2**20, limit, unit="MiB", fmt=lambda v: f"{v:,.0f} MiB")
        row.measured = f"{m_app / 2**20:,.0f} MiB ({min(rss[mode]) / 2**20:,.0f}–{max(rss[mode]) / 2**20:,.0f})"
        row.reference = (f"{m_ref / 2**20:,.0f} MiB ({min(rss[ref]) / 2**20:,.0f}–{max(rss[ref]) / 2**20:,.0f}, "
                         f"{ref_name})")
        return row

    first = ms_row(f"cold start to the sign-in screen's first frame (headless, whole process; {runs} runs)",
                   "teller", "minimal", 1.25, "minimal app")
    memory = mib_row("peak memory (RSS) of that start", "teller", "minimal", 1.5, "minimal app")
    usable = ms_row(f"cold start to a usable sign-in (button enabled, database open; {runs} runs)",
                    "teller-usable", "reference", 1.3, "Textual + SQLAlchemy `SELECT 1` app")
    usable_memory = mib_row("peak memory (RSS) when usable", "teller-usable", "reference", 1.2,
                            "Textual + SQLAlchemy app")
    core = ms_row(f"cold start to the core loaded (services built; {runs} runs)", "teller-core", "reference", 1.3,
                  "Textual + SQLAlchemy `SELECT 1` app")
    core.verdict, core.detail = "INFO", ""
    core.ratio = core.ratio.split(" (")[0] + " (no target: the sign-in is usable before)"
    desk = ms_row(f"a sign-in typed in one burst at the first frame to the desk shown ({runs} runs)", "teller-desk",
                  "reference", 1.3, "Textual + SQLAlchemy `SELECT 1` app")
    desk.verdict, desk.detail, desk.ratio = "INFO", "", desk.ratio.split(" (")[0] + " (no target)"
    desk_memory = mib_row("peak memory (RSS) at the desk after that sign-in", "teller-desk", "reference", 1.2,
                          "Textual + SQLAlchemy app")
    desk_memory.verdict, desk_memory.detail = "INFO", ""
    desk_memory.ratio = desk_memory.ratio.split(" (")[0] + " (no target)"
    if desk_rss_now:
        desk_memory.values["resident_at_desk_bytes"] = desk_rss_now
        desk_memory.detail = (f"resident at the desk {median(desk_rss_now) / 2**20:,.0f} MiB; the peak includes "
                              "the password check's Argon2id working memory (64 MiB, freed after)")
    echo = Row(NAME, f"worst key-to-screen delay while the core loads (a key every 50 ms, at most 60, from the "
                     f"sign-in's first frame until the core is loaded; {len(echo_ms)} runs)",
               f"{median(echo_ms):,.0f} ms (p95 {percentile(echo_ms, 95):,.0f}, "
               f"{min(echo_ms):,.0f}–{max(echo_ms):,.0f})" if echo_ms else "—", "—", "—", "INFO",
               f"per-run p95 of the keys {median(echo_p95_ms):,.0f} ms; the UI shares the GIL with the loading thread"
               if echo_p95_ms else "", {"worst_echo_ms": echo_ms, "p95_echo_ms": echo_p95_ms})
    kiosk = ms_row(f"kiosk: cold start to usable (language buttons enabled; {runs} runs)",
                   "kiosk-usable", "teller-usable", 1.1, "teller app to usable")
    expected = {"teller": {"SignInScreen"}, "teller-usable": {"SignInScreen"}, "teller-core": {"SignInScreen"},
                "teller-desk": {"HomeScreen"}, "kiosk-usable": {"WelcomeScreen"}}
    for row, mode in ((first, "teller"), (usable, "teller-usable"), (core, "teller-core"), (desk, "teller-desk"),
                      (kiosk, "kiosk-usable")):
        if screens[mode] != expected[mode]:
            row.verdict = "FAIL"
            row.detail = (row.detail + f"; stopped at {sorted(screens[mode])}").strip("; ")
    rows = [first, memory, usable, usable_memory, core, desk, desk_memory, echo, kiosk]
    # Where the time goes: always recorded (JSON); shown in the table when the ratio is missed.
    try:
        _t, _m, _s, log, _x, _c = spawn("teller-usable", env, importtime=True)
        top = importtime_top(log)
        usable.values["importtime_top_ms"] = top
        parts = importtime_components(log)
        usable.values["importtime_components_ms"] = parts
        names = imported_modules(log)
        heavy = [name for name in ("sqlalchemy", "sqlmodel", "pydantic", "pydantic_settings", "alembic", "babel",
                                   "argon2", "phonenumbers", "cryptography", "pypinyin") if name in names]
        usable.values["heavy_imported_before_usable"] = heavy
        if usable.verdict == "MISS":
            ctx.notes.append("time to usable went to (-X importtime, own time per component): "
                             + ", ".join(f"{name} {ms:.0f} ms" for name, ms in parts))
    except Exception as exc:  # noqa: BLE001 - the profile is a diagnostic only
        usable.values["importtime_error"] = str(exc)
    return rows
