"""The posting path and the concurrency figure on PostgreSQL, next to SQLite's.

Where the server comes from, in order:

1. ``TELLER_BENCH_PG_URL`` (``postgresql://user@host:port/db``): an existing, EMPTY database;
2. in a source checkout with the PostgreSQL server binaries (``initdb``/``postgres``):
   ``tests/pgserver.py``'s throwaway ``PgServer`` with ``durable=True`` (fsync on, as
   SQLite's ``synchronous=FULL``), on 127.0.0.1, deleted afterwards;
3. otherwise the PostgreSQL rows are skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.bench.runner import Row

if TYPE_CHECKING:
    from teller_tui.bench.runner import Context

NAME = "pg"
TITLE = "posting path and concurrency on PostgreSQL"


class PgUnavailableForBench(Exception):
    """No PostgreSQL for the benchmark (the reason is shown in the table)."""


def _pgserver_module() -> Any:
    path = Path(__file__).resolve().parents[2] / "tests" / "pgserver.py"
    if not path.is_file():
        raise PgUnavailableForBench("no TELLER_BENCH_PG_URL, and tests/pgserver.py is not here (not a source "
                                    "checkout)")
    spec = importlib.util.spec_from_file_location("_teller_bench_pgserver", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:  # it needs pytest (a test dependency)
        raise PgUnavailableForBench(f"tests/pgserver.py cannot be loaded ({exc}); set TELLER_BENCH_PG_URL") from exc
    return module


@contextmanager
def postgres_url() -> Iterator[tuple[str, str]]:
    """Yield (SQLAlchemy URL of an empty database, where it came from)."""
    given = os.environ.get("TELLER_BENCH_PG_URL", "").strip()
    if given:
        yield given, "TELLER_BENCH_PG_URL"
        return
    pgserver = _pgserver_module()
    server = pgserver.PgServer(durable=True)
    try:
        server.start()
    except pgserver.PgUnavailable as exc:
        raise PgUnavailableForBench(exc.reason) from exc
    try:
        server.create_database("teller_bench")
        version = server.server_version_num()
        yield server.url("teller_bench"), f"throwaway PostgreSQL {version // 10000} (durable: fsync on)"
    finally:
        server.stop()


def run(ctx: Context) -> list[Row]:
    from teller_tui.bench import concurrency, posting
    from teller_tui.bench.data import build_customers

    try:
        with postgres_url() as (url, source):
            data = build_customers(ctx, name="pg", url=url, customers=min(ctx.opts.pg_customers, ctx.opts.customers))
            try:
                rows = [posting.measure(data, ctx, label=f"PostgreSQL, {data.info['customers']:,} customers")]
                rows += concurrency.measure(data, ctx, label="PostgreSQL database", scale=ctx.opts.pg_scale)
            finally:
                data.close()
            for row in rows:
                row.name = NAME
                row.values["source"] = source
            ctx.notes.append(f"PostgreSQL rows: {source}")
            return rows
    except PgUnavailableForBench as exc:
        return [Row(NAME, "PostgreSQL posting path and concurrency", "—", verdict="SKIP", detail=str(exc))]
