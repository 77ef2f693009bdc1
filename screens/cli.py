"""The ``teller`` console script: the core's commands plus those that start a Textual app.

The core (:mod:`teller_tui.cli`) never imports the UI; this module adds ``run`` (the default
command), ``kiosk`` and ``serve``, and lets ``teller demo`` start the app when it is done.
"""

from __future__ import annotations

import argparse
import gc
import sys
from typing import Any
from collections.abc import Callable, Sequence

from teller_tui import cli as core_cli

#: ``python -m`` target that textual-serve runs for each browser session.
ENTRY_MODULE = "screens.cli"


#: Commands that start a full-screen app: ``teller`` (no command), ``teller run …`` and ``teller kiosk …``
#: parse their own command alone, so the first frame does not wait for every other command's parser.
APP_STARTS: dict[str, Callable[[argparse._SubParsersAction], None]] = {}  # type: ignore[type-arg]


#: ``run``'s own options: given first, they start the app as after ``teller run`` (``teller --terminal T02``).
RUN_OPTIONS = ("--terminal", "--locale", "--training")


def with_default_command(argv: Sequence[str]) -> list[str]:
    """``run`` is the default command: ``teller`` alone, or followed by one of ``run``'s options, is
    ``teller run …``; anything else is left for the parser (a command, ``-h``, a usage error)."""
    if not argv or argv[0].split("=", 1)[0] in RUN_OPTIONS:
        return ["run", *argv]
    return list(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = with_default_command(sys.argv[1:] if argv is None else argv)
    first = argv[0]
    if first in APP_STARTS and "-h" not in argv and "--help" not in argv:
        # What a start allocates lives as long as the app (modules, classes, the first screen): the cycle
        # collector would walk it over and over before the first frame. The app runs it again, with that
        # start-up heap frozen out of its walks, once the first frame is out (resume_collection).
        gc.disable()
        try:
            return core_cli.main(argv, extra_registrars=[APP_STARTS[first]], launch_app=launch_teller_app,
                                 command_modules=())
        finally:
            gc.enable()  # the app ended (or never started: a refusal, a usage error)
    return core_cli.main(argv, extra_registrars=[register_run, register_kiosk, register_pinpad, register_serve],
                         launch_app=launch_teller_app)


# -- teller run ------------------------------------------------------------------------------------
def register_run(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="start the teller workstation (the default command)")
    p.add_argument("--terminal", default=None, help="terminal name used in audit records (TELLER_TERMINAL_ID)")
    p.add_argument("--locale", default=None, choices=["zh_CN", "en"], help="interface language (TELLER_LOCALE)")
    p.add_argument("--training", action="store_true",
                   help="the training desk: the training database (teller training setup), watermarked")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """The teller workstation. Nothing heavy is imported first: the UI paints, then the
    settings (pydantic-settings) and the database load in the app's startup worker; a value
    they refuse is shown on the startup error screen."""
    overrides = {}
    if getattr(args, "terminal", None):
        overrides["terminal_id"] = args.terminal
    if getattr(args, "locale", None):
        overrides["locale"] = args.locale

    from teller_tui.common.errorlog import keep_logs_off_the_terminal
    from teller_tui.common.settings_preview import default_home

    from .app import make_app

    keep_logs_off_the_terminal(default_home())  # nothing may draw over the screen
    app = make_app(overrides=overrides, training=bool(getattr(args, "training", False)))
    result = app.run()
    if app.services is not None:
        app.services.close()
    return int(result or 0)


def launch_teller_app(args: argparse.Namespace) -> int:
    """What ``teller demo`` calls once the demo branch is built."""
    return cmd_run(argparse.Namespace(terminal=None, locale=None, training=False))


# -- teller kiosk ----------------------------------------------------------------------------------
def register_kiosk(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("kiosk", help="start the customer self-service kiosk (locked down)")
    p.add_argument("--terminal", default=None, help="kiosk name (TELLER_TERMINAL_ID); its identity is kiosk-<name>")
    p.add_argument("--locale", default=None, choices=["zh_CN", "en"], help="default language (TELLER_LOCALE)")
    p.set_defaults(func=cmd_kiosk)


def ignore_keyboard_signals() -> None:
    """Signals from the keyboard must not end, stop or core-dump the kiosk.

    The process ignores SIGINT, SIGTSTP and SIGQUIT (the app also swallows ^C ^Q ^Z ^\\ as
    keys), and TEXTUAL_ALLOW_SIGNALS is removed so the terminal stays in raw mode. An operator
    ends a kiosk with ``kill <pid>`` (SIGTERM) from another session.
    """
    import os
    import signal

    os.environ.pop("TEXTUAL_ALLOW_SIGNALS", None)
    for name in ("SIGINT", "SIGTSTP", "SIGQUIT"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)


def refuse_kiosk_only_role(settings: Any) -> None:
    """`teller kiosk` runs on the host under the application role; a kiosk-only database login
    (or any narrower role) is refused before the screen starts (README "Kiosks")."""
    from teller_tui.db.roles import check_kiosk_host_role
    from teller_tui.services import open_database

    database = open_database(settings)
    try:
        with database.write_engine.connect() as conn:
            check_kiosk_host_role(conn)
    finally:
        database.dispose()


def cmd_kiosk(args: argparse.Namespace) -> int:
    from teller_tui.common.settings import load_settings

    ignore_keyboard_signals()
    overrides = {}
    if getattr(args, "terminal", None):
        overrides["terminal_id"] = args.terminal
    if getattr(args, "locale", None):
        overrides["locale"] = args.locale
    settings = load_settings(**overrides)
    if settings.effective_database_url.startswith("postgresql"):
        refuse_kiosk_only_role(settings)

    from teller_tui.common.errorlog import keep_logs_off_the_terminal

    from .kiosk.app import make_kiosk_app

    keep_logs_off_the_terminal(settings.home)  # nothing may draw over the screen

    app = make_kiosk_app(settings)
    result = app.run()
    if app.services is not None:
        app.services.close()
    return int(result or 0)


APP_STARTS.update(run=register_run, kiosk=register_kiosk)


# -- teller pinpad ---------------------------------------------------------------------------------
def register_pinpad(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("pinpad", help="start the customer display for a teller terminal (locked down)")
    p.add_argument("--pair", required=True, help="the teller terminal this display serves (e.g. T01)")
    p.add_argument("--locale", choices=["zh_CN", "en"], default=None)
    p.set_defaults(func=cmd_pinpad)


def cmd_pinpad(args: argparse.Namespace) -> int:
    from teller_tui.common.errorlog import keep_logs_off_the_terminal
    from teller_tui.common.settings import load_settings

    from .pinpad.app import make_pinpad_app

    ignore_keyboard_signals()
    overrides = {"terminal_id": f"PAD-{args.pair}"[:32]}
    if getattr(args, "locale", None):
        overrides["locale"] = args.locale
    settings = load_settings(**overrides)
    if settings.effective_database_url.startswith("postgresql"):
        refuse_kiosk_only_role(settings)
    keep_logs_off_the_terminal(settings.home)
    app = make_pinpad_app(settings, pair_terminal=args.pair.strip()[:32])
    result = app.run()
    if app.services is not None:
        app.services.close()
    return int(result or 0)


# -- teller serve ----------------------------------------------------------------------------------
def register_serve(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="serve the teller app (or the kiosk, or a customer display) to browsers")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--kiosk", action="store_true", help="serve the self-service kiosk instead of the teller app")
    p.add_argument("--pinpad", metavar="TERMINAL", default=None,
                   help="serve the customer display for this teller terminal (e.g. T01) instead of the teller app")
    p.add_argument("--terminal", default=None, help="terminal name for the served app (TELLER_TERMINAL_ID)")
    p.add_argument("--public-url", default=None, help="URL browsers use, when behind a proxy")
    p.set_defaults(func=cmd_serve)


def app_command(*, kiosk: bool, terminal: str | None = None, pinpad: str | None = None) -> str:
    """The shell command textual-serve runs for each browser session (one app process each)."""
    import shlex

    if pinpad:
        parts = [sys.executable, "-m", ENTRY_MODULE, "pinpad", "--pair", pinpad]
        return " ".join(shlex.quote(p) for p in parts)
    parts = [sys.executable, "-m", ENTRY_MODULE, "kiosk" if kiosk else "run"]
    if terminal:
        parts += ["--terminal", terminal]
    return " ".join(shlex.quote(p) for p in parts)


def cmd_serve(args: argparse.Namespace) -> int:
    """The app in a browser: binds to loopback unless told otherwise; the app's own sign-in
    protects it, but put TLS in front (a reverse proxy) before serving beyond the host."""
    from teller_tui.common.errors import ValidationError

    if not 0 < args.port < 65536:
        raise ValidationError("--port must be between 1 and 65535", code="port")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"teller: serving on {args.host}: reachable from the network; use TLS in front of it.",
              file=sys.stderr)
    from teller_tui.common.settings import load_settings

    from .serve import TellerServer, find_cjk_font

    pinpad = (getattr(args, "pinpad", None) or "").strip()[:32] or None
    if pinpad is not None and (args.kiosk or not pinpad.replace("-", "").replace("_", "").isalnum()):
        raise ValidationError("--pinpad takes a teller terminal name (letters, digits, - or _), without --kiosk",
                              code="pinpad")
    title = f"Customer display {pinpad}" if pinpad else ("Teller kiosk" if args.kiosk else "Teller")
    font = find_cjk_font(load_settings().web_cjk_font)
    if font is None:
        print("teller: no CJK font found to send browsers (set TELLER_WEB_CJK_FONT, or install "
              "fonts-wqy-microhei / fonts-noto-cjk); Chinese shows only where the browser has a font.",
              file=sys.stderr)
    server = TellerServer(app_command(kiosk=args.kiosk, terminal=args.terminal, pinpad=pinpad), host=args.host,
                          port=args.port,
                          title=title, public_url=args.public_url, cjk_font=font)
    print(f"Serving {title} at http://{args.host}:{args.port}/ (Ctrl+C stops)", file=sys.stderr)
    server.serve()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
