"""Run the benchmark figures, build their data once, print the table (and JSON).

::

    opts = Options.full()            # or Options.quick(), or Options(customers=200, ...)
    report = run_bench(opts)         # -> Report (rows, machine info, sizes, seconds)
    print_report(report)             # rich table on stdout
    report.to_json()                 # a dict for --json

Every row carries the figure, the measured value, the reference measured in the same run,
the ratio or target, and a verdict: PASS, MISS (by how much), INFO (no target) or SKIP (why).
"""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from teller_tui.bench import FIGURES


# -- options -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    """Sizes and repetitions. ``full()`` is the documented run; ``quick()`` ~2 minutes."""

    customers: int = 1_000_000
    postings: int = 10_000_000
    processes: int = 16
    per_process: int = 500
    single: int = 8_000  # postings by the one-process reference (processes x per_process)
    cash_ins: int = 400  # timed cash-ins through the service
    raw_postings: int = 2_000  # unused since the posting reference replays the service's statements
    day_entries: int = 200_000  # entries of the busy day the home totals are read on
    lookups: int = 200  # queries per lookup category
    startup_runs: int = 7  # cold starts per app (median)
    keystroke_rounds: int = 2  # texts typed per category in the keystroke harness
    ledger_customers: int = 10_000  # wallets the 10M-posting ledger is spread over
    pg_customers: int = 20_000
    failover_rounds: int = 3  # fresh primary + 2 standbys per round (failover figure)
    failover_terminals: int = 4
    failover_window: float = 5.0  # seconds of posting measured before the kill and after the failover
    failover_durable: bool = True  # fsync on (off only for the tests' toy run)
    pg_scale: float = 0.5  # PostgreSQL concurrency sizes relative to SQLite's (keeps the full run near 15 min)
    only: tuple[str, ...] = ()
    quick: bool = False
    progress: bool = True
    workdir: Path | None = None  # default: a fresh temporary directory, deleted afterwards
    keep: bool = False

    @classmethod
    def full(cls, **kw: Any) -> Options:
        return replace(cls(), **kw)

    @classmethod
    def quick_run(cls, **kw: Any) -> Options:
        base = cls(customers=100_000, postings=1_000_000, processes=16, per_process=60, single=960, cash_ins=150,
                   raw_postings=1000, lookups=60, startup_runs=3, keystroke_rounds=1, ledger_customers=2_000,
                   pg_customers=5_000, failover_rounds=2, failover_window=3.0, day_entries=200_000, quick=True)
        return replace(base, **kw)

    @classmethod
    def tiny(cls, **kw: Any) -> Options:
        """For the tests: every figure at toy sizes (figures mean nothing, the table must be whole)."""
        base = cls(customers=200, postings=2_000, processes=2, per_process=20, single=40, cash_ins=10,
                   raw_postings=20, lookups=5, startup_runs=1, keystroke_rounds=1, ledger_customers=50,
                   pg_customers=50, failover_rounds=1, failover_terminals=2, failover_window=1.0, failover_durable=False,
                   day_entries=2_000, quick=True, progress=False)
        return replace(base, **kw)

    def selected(self) -> list[str]:
        if not self.only:
            return list(FIGURES)
        unknown = [n for n in self.only if n not in FIGURES]
        if unknown:
            from teller_tui.common.errors import ValidationError

            raise ValidationError(f"Unknown benchmark {', '.join(unknown)}; choose from {', '.join(FIGURES)}",
                                  code="bench_only")
        return [n for n in FIGURES if n in self.only]


# -- rows ----------------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the table."""

    name: str  # module name (for --only)
    figure: str
    measured: str
    reference: str = "—"
    ratio: str = "—"  # "1.12× (target ≤ 1.25×)" or "target ≤ 5 ms"
    verdict: str = "INFO"  # PASS | MISS | INFO | SKIP | FAIL
    detail: str = ""  # "by 23%", a reason, a note
    values: dict[str, Any] = field(default_factory=dict)  # raw numbers for --json


def ratio_row(name: str, figure: str, measured: float, reference: float, limit: float, *, unit: str,
              higher_is_better: bool = False, fmt: Callable[[float], str] | None = None, **values: Any) -> Row:
    """A row judged on measured/reference against ``limit`` (≤ limit, or ≥ limit if higher is better)."""
    show = fmt or (lambda v: f"{v:,.1f} {unit}")
    ratio = measured / reference if reference else float("inf")
    if higher_is_better:
        ok = ratio >= limit
        target = f"≥ {limit:g}×"
        by = "" if ok else f"short by {(1 - ratio / limit) * 100:.0f}%"
    else:
        ok = ratio <= limit
        target = f"≤ {limit:g}×"
        by = "" if ok else f"over by {(ratio / limit - 1) * 100:.0f}%"
    return Row(name, figure, show(measured), show(reference), f"{ratio:.2f}× (target {target})",
               "PASS" if ok else "MISS", by, {"measured": measured, "reference": reference, "ratio": ratio,
                                               "limit": limit, "unit": unit, **values})


def limit_row(name: str, figure: str, measured: float, limit: float, *, unit: str, reference: str = "—",
              fmt: Callable[[float], str] | None = None, **values: Any) -> Row:
    """A row judged on an absolute limit (measured ≤ limit)."""
    show = fmt or (lambda v: f"{v:,.2f} {unit}")
    ok = measured <= limit
    by = "" if ok else f"over by {(measured / limit - 1) * 100:.0f}%"
    return Row(name, figure, show(measured), reference, f"target ≤ {show(limit)}", "PASS" if ok else "MISS", by,
               {"measured": measured, "limit": limit, "unit": unit, **values})


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    data = sorted(samples)
    if not data:
        return float("nan")
    k = max(0, min(len(data) - 1, int(round(q / 100 * len(data) + 0.5)) - 1))
    return data[k]


def median(samples: Sequence[float]) -> float:
    data = sorted(samples)
    n = len(data)
    if not n:
        return float("nan")
    return data[n // 2] if n % 2 else (data[n // 2 - 1] + data[n // 2]) / 2


# -- context: shared data, built once ------------------------------------------------------------
class Context:
    """What the figure modules share: options, the work directory, the data sets (built lazily)."""

    def __init__(self, opts: Options, workdir: Path) -> None:
        self.opts = opts
        self.workdir = workdir
        self.notes: list[str] = []
        self.timings: dict[str, float] = {}
        self._datasets: dict[str, Any] = {}

    def status(self, text: str) -> None:
        if self.opts.progress:
            print(f"teller bench: {text}", file=sys.stderr, flush=True)

    def dataset(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self._datasets:
            started = time.perf_counter()
            self._datasets[key] = build()
            self.timings[f"build {key}"] = time.perf_counter() - started
        return self._datasets[key]

    def customers(self) -> Any:
        """The customer base (``opts.customers``), staff, drawers open today: a :class:`data.DataSet`."""
        from teller_tui.bench import data

        return self.dataset("customers", lambda: data.build_customers(self))

    def ledger(self) -> Any:
        """A ledger of ``opts.postings`` postings that ``teller ledger verify`` passes."""
        from teller_tui.bench import data

        return self.dataset("ledger", lambda: data.build_ledger(self))

    def close(self) -> None:
        for ds in self._datasets.values():
            close = getattr(ds, "close", None)
            if close is not None:
                close()


# -- machine -------------------------------------------------------------------------------------
def fsync_ms(directory: Path, n: int = 100) -> float:
    """Median time of a 4 KiB write + fsync in ``directory`` (what a commit waits for)."""
    path = directory / ".fsync-probe"
    samples = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        block = os.urandom(4096)
        for i in range(n):
            os.pwrite(fd, block, (i % 16) * 4096)
            t = time.perf_counter()
            os.fsync(fd)
            samples.append((time.perf_counter() - t) * 1000)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return median(samples)


def machine_info(workdir: Path) -> dict[str, Any]:
    import sqlite3

    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(terse=True),
    }
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        pass
    for dist in ("textual", "sqlalchemy", "sqlmodel"):
        try:
            from importlib.metadata import version

            info[dist] = version(dist)
        except Exception:  # noqa: BLE001 - informational
            pass
    try:
        info["fsync_ms"] = round(fsync_ms(workdir), 3)
    except OSError:
        info["fsync_ms"] = None
    return info


def fsync_note(info: dict[str, Any]) -> str:
    f = info.get("fsync_ms")
    here = f"~{f:.2f} ms" if isinstance(f, float) else "unknown"
    return (f"fsync here {here}; a branch PC's disk is 1–5 ms, so commit-bound figures here are optimistic")


# -- report --------------------------------------------------------------------------------------
@dataclass
class Report:
    rows: list[Row]
    machine: dict[str, Any]
    sizes: dict[str, Any]
    seconds: float
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def missed(self) -> list[Row]:
        return [r for r in self.rows if r.verdict in ("MISS", "FAIL")]

    def to_json(self) -> dict[str, Any]:
        return {"rows": [asdict(r) for r in self.rows], "machine": self.machine, "sizes": self.sizes,
                "seconds": round(self.seconds, 1), "notes": self.notes,
                "timings": {k: round(v, 2) for k, v in self.timings.items()}}

    def markdown(self) -> str:
        lines = ["| figure | measured | reference | ratio / target | verdict |", "|---|---|---|---|---|"]
        for r in self.rows:
            verdict = r.verdict + (f" ({r.detail})" if r.detail else "")
            lines.append(f"| {r.figure} | {r.measured} | {r.reference} | {r.ratio} | {verdict} |")
        return "\n".join(lines)


def sizes_of(opts: Options) -> dict[str, Any]:
    return {"customers": opts.customers, "postings": opts.postings,
            "processes": f"{opts.processes} x {opts.per_process} vs 1 x {opts.single}",
            "cash_ins": opts.cash_ins, "raw_postings": opts.raw_postings, "lookups_per_kind": opts.lookups,
            "startup_runs": opts.startup_runs, "mode": "quick" if opts.quick else "full"}


@contextmanager
def _workdir(opts: Options) -> Iterator[Path]:
    if opts.workdir is not None:
        opts.workdir.mkdir(parents=True, exist_ok=True)
        yield opts.workdir
        return
    path = Path(tempfile.mkdtemp(prefix="teller-bench-"))
    try:
        yield path
    finally:
        if not opts.keep:
            shutil.rmtree(path, ignore_errors=True)


def run_bench(opts: Options) -> Report:
    """Run the selected figures; a figure that fails becomes a FAIL row, the others still run."""
    started = time.perf_counter()
    names = opts.selected()
    rows: list[Row] = []
    with _workdir(opts) as workdir:
        ctx = Context(opts, workdir)
        machine = machine_info(workdir)
        try:
            for name in names:
                module = importlib.import_module(f"{__package__}.{name}")
                ctx.status(f"{name}: {module.TITLE}")
                t = time.perf_counter()
                try:
                    rows.extend(module.run(ctx))
                except Exception as exc:  # noqa: BLE001 - one broken figure must not hide the others
                    import traceback

                    if os.environ.get("TELLER_BENCH_DEBUG"):
                        traceback.print_exc()
                    rows.append(Row(name, module.TITLE, "—", verdict="FAIL",
                                    detail=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"))
                ctx.timings[name] = time.perf_counter() - t
        finally:
            ctx.close()
    notes = [fsync_note(machine), *ctx.notes]
    return Report(rows, machine, sizes_of(opts), time.perf_counter() - started, notes, ctx.timings)


def print_report(report: Report, file: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=file or sys.stdout, width=max(120, min(200, shutil.get_terminal_size().columns)))
    m = report.machine
    title = (f"teller bench ({report.sizes['mode']}): {m.get('cpus')} CPUs, Python {m.get('python')}, "
             f"SQLite {m.get('sqlite')}, Textual {m.get('textual', '?')}")
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("figure", overflow="fold", ratio=4)
    table.add_column("measured", justify="right", ratio=2)
    table.add_column("reference", justify="right", ratio=2)
    table.add_column("ratio / target", ratio=2)
    table.add_column("verdict", ratio=2)
    colours = {"PASS": "green", "MISS": "red", "FAIL": "bold red", "SKIP": "yellow", "INFO": "cyan"}
    for r in report.rows:
        verdict = Text(r.verdict, style=colours.get(r.verdict, ""))
        if r.detail:
            verdict.append(f" {r.detail}", style="dim")
        # Every cell is plain text (Text), never markup.
        table.add_row(Text(r.figure), Text(r.measured), Text(r.reference), Text(r.ratio), verdict)
    console.print(table)
    s = report.sizes
    console.print(Text(f"sizes: {s['customers']:,} customers, {s['postings']:,} postings, {s['processes']}, "
                       f"{s['cash_ins']} timed cash-ins, {s['lookups_per_kind']} lookups per kind, "
                       f"{s['startup_runs']} cold starts per app; total {report.seconds:.0f} s"))
    if m.get("load_average"):
        console.print(Text(f"load average at start: {m['load_average']} (other work on this machine skews "
                           "absolute figures; ratios are measured side by side)"))
    for note in report.notes:
        console.print(Text(f"note: {note}"))
