"""``teller bench [--quick] [--only NAME,...] [--customers N] [--postings N] [--json FILE]``.

Builds its own data in a temporary directory (deleted afterwards), runs the figures of
PERFORMANCE.md each next to a reference measured in the same run, and prints the table.
The full run takes up to ~15 minutes on 2 cores; ``--quick`` ~2 minutes at smaller sizes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from teller_tui.bench import FIGURES

    p = sub.add_parser("bench", help="run the performance benchmarks and print the table",
                       description="Performance figures, each next to a reference measured in the same run on "
                                   "this machine. Names for --only: " + ", ".join(FIGURES) + ".")
    p.add_argument("--quick", action="store_true", help="smaller sizes (~2 minutes); the table says which")
    p.add_argument("--only", metavar="NAME,...", help="run only these figures (" + ", ".join(FIGURES) + ")")
    p.add_argument("--customers", type=int, metavar="N", help="customers for the lookup figures (default 1,000,000)")
    p.add_argument("--postings", type=int, metavar="N", help="postings for verify/totals (default 10,000,000)")
    p.add_argument("--processes", type=int, metavar="P", help="concurrent processes (default 16)")
    p.add_argument("--per-process", type=int, metavar="K", help="cash-ins per process (default 500)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    p.add_argument("--keep", type=Path, metavar="DIR", help="build the data in DIR and keep it; a later run with "
                                                           "the same DIR and sizes reuses it the same business day "
                                                           "(default: a temporary directory, deleted)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars or status lines")
    p.set_defaults(func=cmd_bench)


def options_from(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from teller_tui.bench.runner import Options
    from teller_tui.common.errors import ValidationError

    overrides: dict[str, Any] = {}
    for name in ("customers", "postings", "processes", "per_process"):
        value = getattr(args, name, None)
        if value is not None:
            if value < 1:
                raise ValidationError(f"--{name.replace('_', '-')} must be at least 1", code="bench_size")
            overrides[name] = value
    if "processes" in overrides or "per_process" in overrides:
        base = Options.quick_run() if args.quick else Options.full()
        overrides["single"] = overrides.get("processes", base.processes) * overrides.get("per_process",
                                                                                         base.per_process)
    if args.only:
        overrides["only"] = tuple(n.strip() for n in args.only.split(",") if n.strip())
    if args.keep:
        overrides["workdir"] = args.keep
        overrides["keep"] = True
    overrides["progress"] = not args.no_progress
    opts = Options.quick_run(**overrides) if args.quick else Options.full(**overrides)
    opts.selected()  # refuse unknown names before building anything
    return opts


def cmd_bench(args: argparse.Namespace) -> int:
    import json
    import sys

    from teller_tui.bench.runner import print_report, run_bench

    opts = options_from(args)
    report = run_bench(opts)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str) + "\n",
                             encoding="utf-8")
        print(f"figures written to {args.json}", file=sys.stderr)
    return 1 if any(r.verdict == "FAIL" for r in report.rows) else 0
