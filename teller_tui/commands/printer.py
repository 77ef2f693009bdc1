"""``teller printer list|test|send|listen``: this terminal's printers.

- ``list``: the printers in the settings and which one this terminal uses for receipts and documents.
- ``test [--document]``: a test page (Chinese and English) to this terminal's receipt (or document)
  printer; the outcome sentence; exit 1 when it did not print.
- ``send FILE [--document]``: print a saved file (a receipt, statement, welcome sheet or report).
- ``listen [--host 127.0.0.1] [--port 9100] [--count N] [--paper ok|low|out|mute]``: a stand-in
  ESC/POS printer on a TCP port that answers the status queries (DLE EOT) as told (``out``: out of
  paper, so the desk says "printer out of paper" and prints nothing; ``mute``: no answer, like a
  printer that passes no status back), decodes each job and shows its text and commands.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from teller_tui.common.printing.service import PrintService


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("printer", help="printers: list, test, send FILE, listen")
    psub = p.add_subparsers(dest="printer_command", metavar="COMMAND", required=True)
    psub.add_parser("list", help="configured printers and this terminal's choice").set_defaults(func=cmd_list)
    test = psub.add_parser("test", help="print a test page on this terminal's printer")
    test.add_argument("--document", action="store_true", help="the document printer instead of the receipt one")
    test.set_defaults(func=cmd_test)
    send = psub.add_parser("send", help="print a saved text file")
    send.add_argument("file", type=Path)
    send.add_argument("--document", action="store_true", help="the document printer instead of the receipt one")
    send.set_defaults(func=cmd_send)
    listen = psub.add_parser("listen", help="a stand-in ESC/POS printer on a TCP port (decodes each job)")
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=9100)
    listen.add_argument("--count", type=int, default=0, help="stop after this many jobs (0: run until Ctrl+C)")
    listen.add_argument("--paper", choices=("ok", "low", "out", "mute"), default="ok",
                        help="what to answer to status queries (DLE EOT): ok, low, out of paper, or nothing")
    listen.set_defaults(func=cmd_listen)


def _service() -> PrintService:
    from teller_tui.common.printing.service import PrintService
    from teller_tui.common.settings import load_settings

    return PrintService(load_settings())


def cmd_list(args: argparse.Namespace) -> int:
    from teller_tui.common.printing.config import Purpose

    svc = _service()
    s = svc.settings
    if not s.printers:
        print("no printers configured (see README: Printing)")
    for name, spec in sorted(s.printers.items()):
        print(f"{name:16} {spec.kind.value:14} {spec.where:28} {spec.encoding:8} {spec.columns} columns")
    print(f"terminal {s.terminal_id}: receipts -> {svc.printer_name(Purpose.RECEIPT) or '(none)'}, "
          f"documents -> {svc.printer_name(Purpose.DOCUMENT) or '(none)'}")
    return 0


def _print(text: str, document: bool, title: str, kept: Path | None) -> int:
    from teller_tui.common.printing.config import Purpose

    outcome = _service().print_text(text, purpose=Purpose.DOCUMENT if document else Purpose.RECEIPT, title=title,
                                    kept_at=kept)
    print(outcome.message, file=sys.stdout if outcome.printed else sys.stderr)
    return 0 if outcome.printed else 1


def cmd_test(args: argparse.Namespace) -> int:
    text = ("数字钱包柜台 打印测试\nDigital Wallet Counter - print test\n"
            "金额 ¥1,234.50 壹仟贰佰叁拾肆元伍角\n0123456789 ABCDEFGHIJ abcdefghij\n")
    return _print(text, args.document, "teller-print-test", None)


def cmd_send(args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    return _print(text, args.document, args.file.stem, args.file)


def cmd_listen(args: argparse.Namespace) -> int:
    from teller_tui.common.printing.escpos import decode_escpos
    from teller_tui.common.printing.escpos_status import (
        ANSWERS_OK, ANSWERS_PAPER_LOW, ANSWERS_PAPER_OUT, receive_job,
    )

    answers = {"ok": ANSWERS_OK, "low": ANSWERS_PAPER_LOW, "out": ANSWERS_PAPER_OUT, "mute": None}[args.paper]
    with socket.create_server((args.host, args.port)) as srv:
        print(f"listening on {args.host}:{srv.getsockname()[1]} (Ctrl+C stops)", flush=True)
        jobs = 0
        try:
            while not args.count or jobs < args.count:
                conn, peer = srv.accept()
                with conn:
                    data, asked = receive_job(conn, answers)
                if asked and not data:
                    print(f"--- status asked from {peer[0]} (paper {args.paper}); nothing printed", flush=True)
                    continue
                jobs += 1
                try:
                    job = decode_escpos(data)
                except ValueError as exc:
                    print(f"--- job {jobs} from {peer[0]}: {len(data)} bytes, not understood: {exc}", flush=True)
                    continue
                print(f"--- job {jobs} from {peer[0]}: {len(data)} bytes; {', '.join(job.commands)}")
                print(job.text, end="" if job.text.endswith("\n") else "\n", flush=True)
        except KeyboardInterrupt:
            pass
    return 0
