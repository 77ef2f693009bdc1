"""``teller bench`` at toy sizes: every figure runs and the table has every row.

No timing assertions: the figures at these sizes mean nothing. What is checked is that each
benchmark runs end to end (data built, drivers spawned, services exercised), that every
expected row is produced with a verdict, that the big-ledger loader leaves a ledger
``teller ledger verify`` passes, and that the command's options and JSON work.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from teller_tui.bench import FIGURES
from teller_tui.bench.runner import Options, Report, Row, limit_row, percentile, print_report, ratio_row, run_bench

pytestmark = pytest.mark.slow

#: Row figures (prefixes) every full table must have, per benchmark.
EXPECTED = {
    "startup": ["cold start to the sign-in screen", "peak memory (RSS) of that start", "cold start to a usable sign-in",
                "peak memory (RSS) when usable", "kiosk: cold start to usable"],
    "lookup": ["phone prefix", "ID fragment", "2-character name fragment", "3-character name fragment"],
    "keystroke": ["keystroke to updated results", "in-app: key event"],
    "posting": ["one cash-in through the full service"],  # its detail names the statement count
    "concurrency": ["processes x", "lock errors"],
    "verify": ["`teller ledger verify` over", "peak memory (RSS) of that verify", "  check 15, 16 content and chain",
               "  check A ledger/audit"],
    "totals": ["trial balance", "home-screen totals"],
    "bounded": ["one cash-out at", "home totals (drawers.status) on a day of", "day totals (teller's and customer's cash out today)",
                "the read it replaced"],
}
#: PostgreSQL figures: their rows, unless the table says why they were skipped.
EXPECTED_PG = {
    "failover": ["failover: primary SIGKILLed", "terminals posting again", "postings/s, ", "postings/s after"],
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    work = tmp_path_factory.mktemp("bench")
    opts = Options.tiny(workdir=work, keep=True, customers=200, postings=2_000, processes=2, per_process=20,
                        single=40)
    return run_bench(opts)


def test_every_benchmark_produces_its_rows(report: Report) -> None:
    failed = [(r.name, r.detail) for r in report.rows if r.verdict == "FAIL"]
    assert not failed
    for name, figures in EXPECTED.items():
        mine = [r for r in report.rows if r.name == name]
        for wanted in figures:
            assert any(wanted in r.figure for r in mine), (name, wanted, [r.figure for r in mine])
    for r in report.rows:
        assert r.verdict in ("PASS", "MISS", "INFO", "SKIP"), r
        assert r.measured and r.ratio


def test_postgres_rows_run_or_say_why_they_are_skipped(report: Report) -> None:
    pg = [r for r in report.rows if r.name == "pg"]
    assert pg
    if pg[0].verdict == "SKIP":
        assert pg[0].detail  # the reason is in the table
    else:
        figures = " ".join(r.figure for r in pg)
        assert "PostgreSQL" in figures and "lock errors" in figures
    for name, wanted in EXPECTED_PG.items():
        mine = [r for r in report.rows if r.name == name]
        assert mine, name
        if mine[0].verdict == "SKIP":
            assert mine[0].detail
            continue
        for prefix in wanted:
            assert any(prefix in r.figure for r in mine), (name, prefix, [r.figure for r in mine])


def test_the_loader_keeps_the_ledger_verifiable_and_no_lock_errors(report: Report) -> None:
    verify = next(r for r in report.rows if r.figure.startswith("`teller ledger verify`"))
    assert verify.values["exit_code"] == 0, verify.values["summary"]
    assert "OK" in verify.values["summary"]
    locks = [r for r in report.rows if "lock errors" in r.figure]
    assert locks and all(r.values["lock_errors"] == 0 and r.values["other_errors"] == 0 for r in locks)


def test_table_json_and_markdown(report: Report) -> None:
    buf = io.StringIO()
    print_report(report, file=buf)
    text = buf.getvalue()
    assert "figure" in text and "verdict" in text and "fsync here" in text
    assert "200 customers" in text  # the table says which sizes were used
    data = json.loads(json.dumps(report.to_json(), default=str))
    assert {r["name"] for r in data["rows"]} == set(FIGURES)
    assert data["machine"]["cpus"] and data["machine"]["sqlite"]
    md = report.markdown()
    assert md.count("\n") == len(report.rows) + 1


def test_row_helpers_judge_ratios_and_limits() -> None:
    assert ratio_row("x", "f", 110, 100, 1.25, unit="ms").verdict == "PASS"
    miss = ratio_row("x", "f", 150, 100, 1.25, unit="ms")
    assert miss.verdict == "MISS" and miss.detail == "over by 20%"
    assert ratio_row("x", "f", 50, 100, 0.6, unit="/s", higher_is_better=True).verdict == "MISS"
    assert ratio_row("x", "f", 70, 100, 0.6, unit="/s", higher_is_better=True).verdict == "PASS"
    assert limit_row("x", "f", 4.0, 5.0, unit="ms").verdict == "PASS"
    assert limit_row("x", "f", 7.5, 5.0, unit="ms").detail == "over by 50%"
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == 10
    assert percentile([3, 1, 2], 50) == 2


def test_command_line_refuses_unknown_names_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from teller_tui.cli import main

    assert main(["bench", "--only", "nonsense", "--no-progress"]) == 1
    assert "Unknown benchmark nonsense" in capsys.readouterr().err

    import teller_tui.bench.runner as runner

    def fake_run(opts: Options) -> Report:
        assert opts.only == ("lookup",) and opts.customers == 123 and opts.quick
        return Report([Row("lookup", "lookup in the core", "1.0 ms", verdict="PASS")], {"cpus": 2, "sqlite": "3"},
                      runner.sizes_of(opts), 1.0, ["fsync here ~0.1 ms"])

    monkeypatch.setattr(runner, "run_bench", fake_run)
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--only", "lookup", "--customers", "123", "--json", str(out),
                 "--no-progress"]) == 0
    assert "lookup in the core" in capsys.readouterr().out
    assert json.loads(out.read_text())["rows"][0]["verdict"] == "PASS"


def test_importtime_parser() -> None:
    from teller_tui.bench.startup import importtime_top, imported_modules

    log = ("import time: self [us] | cumulative | imported package\n"
           "import time:       100 |        100 |     sqlalchemy.util\n"
           "import time:       500 |     120000 |   sqlalchemy\n"
           "import time:       300 |      30000 | textual\n"
           "import time:       200 |      20000 | textual.app\n")
    top = dict(importtime_top(log))
    assert top["textual"] == pytest.approx(50.0)
    assert "sqlalchemy" in imported_modules(log)


def test_importtime_components_count_own_time_once() -> None:
    from teller_tui.bench.startup import importtime_components

    log = ("import time: self [us] | cumulative | imported package\n"
           "import time:      4000 |       4000 |       teller_tui.models.ledger\n"
           "import time:      1000 |       5000 |     teller_tui.models\n"
           "import time:      2000 |       2000 |     teller_tui.common.settings_preview\n"
           "import time:      3000 |      10000 |   teller_tui.common.settings\n"
           "import time:       500 |      15500 | teller_tui.services\n"
           "import time:      7000 |       7000 | sqlalchemy.orm\n"
           "import time:       250 |        250 | json\n")
    parts = dict(importtime_components(log))
    assert parts["model classes (teller_tui.models)"] == pytest.approx(5.0)
    assert parts["settings (teller_tui.common.settings)"] == pytest.approx(3.0)
    assert parts["rest of the core (teller_tui)"] == pytest.approx(2.5)  # settings_preview + services
    assert parts["SQLAlchemy + SQLModel"] == pytest.approx(7.0)
    assert parts["other (stdlib, small packages)"] == pytest.approx(0.25)
    assert list(parts)[0] == "SQLAlchemy + SQLModel"


def test_the_round_trip_ceiling_runs_real_clients_and_leaves_no_table(pg_server: Any, pg_database: str) -> None:
    """teller_tui.bench.roundtrips: spawned bare-driver clients on a real server, their transactions
    counted and timed, the scratch tables dropped after (the branch bench's 2-client ceiling)."""
    import psycopg

    from teller_tui.bench import roundtrips

    url = pg_server.url(pg_database)
    r = roundtrips.ratio(url, reads=3, writes=2, client_us=50, n=20)
    assert r["one_per_s"] > 0 and r["two_per_s"] > 0 and r["ratio"] == r["two_per_s"] / r["one_per_s"]
    assert r["client_cpu_ms"] >= 5 * 0.05  # at least the client work asked for, per transaction
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
        assert con.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE %s",
                           (roundtrips.TABLE + "%",)).fetchone() == (0,)
