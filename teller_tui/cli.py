"""The ``teller`` command line. Errors are one clear line and an exit code, never a traceback.

Each feature area registers its sub-commands from its own module (listed in
``COMMAND_MODULES``): a module exposes ``register(subparsers)`` and sets ``func`` on its
parsers; ``func(args) -> int`` is called with the parsed arguments.

The core never imports the UI: the console script is :func:`screens.cli.main`, which calls
:func:`main` with the registrars of the commands that start a Textual app (``run``, the
default; ``kiosk``; ``serve``) and with ``launch_app`` for ``teller demo`` to start the app.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from teller_tui.common.errorlog import record_error, setup_error_log
from teller_tui.common.errors import DomainError
from teller_tui.common.settings_preview import default_home
from teller_tui.common.text import clean_text
from teller_tui.db.faults import refused_by_database, storage_fault

Registrar = Callable[[Any], None]

#: Modules that add sub-commands, in the order they appear in --help.
COMMAND_MODULES = [
    "teller_tui.commands.db",
    "teller_tui.commands.ledger",
    "teller_tui.commands.audit",
    "teller_tui.commands.heads",
    "teller_tui.commands.demo",
    "teller_tui.commands.staff",
    "teller_tui.commands.bench",
    "teller_tui.commands.report",
    "teller_tui.commands.vault",
    "teller_tui.commands.approvals",
    "teller_tui.commands.maintenance",
    "teller_tui.commands.kb",
    "teller_tui.commands.cases",
    "teller_tui.commands.risk",
    "teller_tui.commands.notify",
    "teller_tui.commands.printer",
    "teller_tui.commands.training",
]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INVARIANT = 0, 1, 2, 3


def build_parser(extra_registrars: Sequence[Registrar] = (), *, command_modules: Sequence[str] | None = None
                 ) -> argparse.ArgumentParser:
    """Every command's parser (``command_modules`` None: :data:`COMMAND_MODULES`), then ``extra_registrars``'."""
    parser = argparse.ArgumentParser(
        prog="teller",
        description="Teller workstation for banks that issue digital wallets at the counter.",
        epilog="Configuration: TELLER_HOME, TELLER_DATABASE_URL, TELLER_LOCALE, TELLER_TERMINAL_ID "
               "(or a settings.toml under TELLER_HOME). Run `teller COMMAND --help` for details.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES if command_modules is None else command_modules:
        importlib.import_module(name).register(sub)
    for register in extra_registrars:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, extra_registrars: Sequence[Registrar] = (),
         launch_app: Callable[[argparse.Namespace], int] | None = None,
         command_modules: Sequence[str] | None = None) -> int:
    """``command_modules``: only these modules' commands (the console script starting an app parses
    its own command alone: building all ~60 parsers costs more than the app's first frame may)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(extra_registrars, command_modules=command_modules)
    parser.set_defaults(launch_app=launch_app)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    func = getattr(args, "func", None)
    if func is None:
        if not extra_registrars:
            parser.print_help()
            return EXIT_USAGE
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
        print(f"teller: {error_line(exc)}", file=sys.stderr)
        return EXIT_ERROR


def error_line(exc: BaseException) -> str:
    """One line for an error that ended a command: a domain error's own sentence, a storage fault
    named as such (disk full, read-only, corrupt…), anything else with a reference into the log."""
    if isinstance(exc, DomainError):
        return _one_line(exc)
    fault = storage_fault(exc) or refused_by_database(exc)
    if fault is not None:
        return _one_line(fault)
    where = setup_error_log(default_home())
    ref = record_error(exc, "command failed")
    if where is None:
        return f"unexpected error: {type(exc).__name__}: {_one_line(exc)} (run with --debug for details)"
    return (f"unexpected error: {type(exc).__name__}: {_one_line(exc)} (reference {ref}; details in {where}, "
            "or run with --debug)")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return clean_text(text[0][:300]) if text else ""


if __name__ == "__main__":  # pragma: no cover - the app itself starts through screens.cli
    raise SystemExit(main())
