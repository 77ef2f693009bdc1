"""``teller serve [--host 127.0.0.1] [--port 8000] [--kiosk]``: the app in a browser (textual-serve).

Each browser tab gets its own app process (``teller run`` or ``teller kiosk``) with the same
settings (TELLER_* environment). It binds to loopback unless told otherwise; the app's own
sign-in protects it, but put TLS in front (a reverse proxy) before serving beyond the host.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="serve the teller app (or the kiosk) to browsers")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--kiosk", action="store_true", help="serve the self-service kiosk instead of the teller app")
    p.add_argument("--terminal", default=None, help="terminal name for the served app (TELLER_TERMINAL_ID)")
    p.add_argument("--public-url", default=None, help="URL browsers use, when behind a proxy")
    p.set_defaults(func=cmd_serve)


def app_command(*, kiosk: bool, terminal: str | None = None) -> str:
    """The shell command textual-serve runs for each browser session."""
    import shlex
    import sys

    parts = [sys.executable, "-m", "teller_tui.cli", "kiosk" if kiosk else "run"]
    if terminal:
        parts += ["--terminal", terminal]
    return " ".join(shlex.quote(p) for p in parts)


def cmd_serve(args: argparse.Namespace) -> int:
    import sys

    from ..errors import ValidationError

    if not 0 < args.port < 65536:
        raise ValidationError("--port must be between 1 and 65535", code="port")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"teller: serving on {args.host}: reachable from the network; use TLS in front of it.",
              file=sys.stderr)
    from textual_serve.server import Server

    title = "Teller kiosk" if args.kiosk else "Teller"
    server = Server(app_command(kiosk=args.kiosk, terminal=args.terminal), host=args.host, port=args.port,
                    title=title, public_url=args.public_url)
    print(f"Serving {title} at http://{args.host}:{args.port}/ (Ctrl+C stops)", file=sys.stderr)
    server.serve()
    return 0
