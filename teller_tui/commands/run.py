"""``teller run`` (also plain ``teller``): the teller workstation in the terminal.

Nothing heavy is imported here: the UI paints first and opens the database in a worker.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="start the teller workstation (the default command)")
    p.add_argument("--terminal", default=None, help="terminal name used in audit records (TELLER_TERMINAL_ID)")
    p.add_argument("--locale", default=None, choices=["zh_CN", "en"], help="interface language (TELLER_LOCALE)")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    overrides = {}
    if getattr(args, "terminal", None):
        overrides["terminal_id"] = args.terminal
    if getattr(args, "locale", None):
        overrides["locale"] = args.locale

    from screens.app import make_app

    # The settings (pydantic-settings) load in the app's startup worker, after the first frame;
    # a value they refuse is shown on the startup error screen.
    app = make_app(overrides=overrides)
    result = app.run()
    services = app.services
    if services is not None:
        services.close()
    return int(result or 0)
