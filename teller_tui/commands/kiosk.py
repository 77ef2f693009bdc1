"""``teller kiosk [--terminal K01] [--locale zh_CN|en]``: the customer self-service kiosk.

The process ignores SIGINT, SIGTSTP and SIGQUIT (the app also swallows ^C ^Q ^Z ^\\ as keys),
and TEXTUAL_ALLOW_SIGNALS is removed so the terminal stays in raw mode. An operator ends a
kiosk with ``kill <pid>`` (SIGTERM) from another session.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("kiosk", help="start the customer self-service kiosk (locked down)")
    p.add_argument("--terminal", default=None, help="kiosk name (TELLER_TERMINAL_ID); its identity is kiosk-<name>")
    p.add_argument("--locale", default=None, choices=["zh_CN", "en"], help="default language (TELLER_LOCALE)")
    p.set_defaults(func=cmd_kiosk)


def ignore_keyboard_signals() -> None:
    """Signals from the keyboard must not end, stop or core-dump the kiosk."""
    import os
    import signal

    os.environ.pop("TEXTUAL_ALLOW_SIGNALS", None)
    for name in ("SIGINT", "SIGTSTP", "SIGQUIT"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)


def cmd_kiosk(args: argparse.Namespace) -> int:
    from ..settings import load_settings

    ignore_keyboard_signals()
    overrides = {}
    if getattr(args, "terminal", None):
        overrides["terminal_id"] = args.terminal
    if getattr(args, "locale", None):
        overrides["locale"] = args.locale
    settings = load_settings(**overrides)

    from screens.kiosk.app import make_kiosk_app

    app = make_kiosk_app(settings)
    result = app.run()
    if app.services is not None:
        app.services.close()
    return int(result or 0)
