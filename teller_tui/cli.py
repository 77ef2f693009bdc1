"""The ``teller`` command line. Errors are one clear line and an exit code, never a traceback.

Each feature area registers its sub-commands from its own module (listed in
``COMMAND_MODULES``): a module exposes ``register(subparsers)`` and sets ``func`` on its
parsers; ``func(args) -> int`` is called with the parsed arguments.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

#: Modules that add sub-commands, in the order they appear in --help.
COMMAND_MODULES = [
    "teller_tui.commands.db",
    "teller_tui.commands.ledger",
    "teller_tui.commands.audit",
    "teller_tui.commands.demo",
    "teller_tui.commands.run",
    "teller_tui.commands.staff",
    "teller_tui.commands.kiosk",
    "teller_tui.commands.serve",
    "teller_tui.commands.bench",
    "teller_tui.commands.report",
    "teller_tui.commands.vault",
]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INVARIANT = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="teller",
        description="Teller workstation for banks that issue digital wallets at the counter.",
        epilog="Configuration: TELLER_HOME, TELLER_DATABASE_URL, TELLER_LOCALE, TELLER_TERMINAL_ID "
               "(or a settings.toml under TELLER_HOME). Run `teller COMMAND --help` for details.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    func = getattr(args, "func", None)
    if func is None:
        # No sub-command: run the teller app, as `teller run` would.
        args = parser.parse_args(["run", *argv])
        func = args.func
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("teller: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into a line
        if args.debug:
            raise
        from .errors import DomainError

        if isinstance(exc, DomainError):
            print(f"teller: {exc}", file=sys.stderr)
        else:
            print(f"teller: unexpected error: {type(exc).__name__}: {_one_line(exc)} "
                  "(run with --debug for details)", file=sys.stderr)
        return EXIT_ERROR


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
