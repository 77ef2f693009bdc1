"""Real servers on loopback for the notification tests: a small asyncio SMTP server and an HTTP
webhook (http.server), each in its own thread, each keeping what it received and de-duplicating
by the message id the sender carries (as a real gateway would). Either can be told to fail the
next N deliveries with a temporary error."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Inbox:
    received: list[Any] = field(default_factory=list)  # every delivery, repeats included
    by_id: dict[str, Any] = field(default_factory=dict)  # de-duplicated by message id
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_failure(self) -> bool:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return False


class SmtpServer:
    """Enough of RFC 5321 for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def __init__(self, *, hold_reply: threading.Event | None = None) -> None:
        """``hold_reply``: after a message is received (and kept), the "250" reply waits for this event —
        a sender killed meanwhile has delivered without knowing it."""
        self.inbox = Inbox()
        self.hold_reply = hold_reply
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._server = server
        self._ready.set()
        self.loop.run_forever()
        server.close()
        self.loop.run_until_complete(server.wait_closed())

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        await say("220 localhost test SMTP")
        rcpts: list[str] = []
        try:
            while True:
                line = (await reader.readline()).decode("ascii", "replace").rstrip("\r\n")
                if not line:
                    break
                verb = line.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    await say("250-localhost")
                    await say("250 8BITMIME")
                elif verb in ("HELO", "RSET", "NOOP"):
                    rcpts = [] if verb == "RSET" else rcpts
                    await say("250 OK")
                elif verb == "MAIL":
                    if self.inbox.take_failure():
                        await say("421 4.3.0 try again later")
                        continue
                    rcpts = []
                    await say("250 OK")
                elif verb == "RCPT":
                    rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                    await say("250 OK")
                elif verb == "DATA":
                    await say("354 end with .")
                    data = bytearray()
                    while True:
                        chunk = await reader.readline()
                        if chunk in (b".\r\n", b".\n", b""):
                            break
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    mail = message_from_bytes(bytes(data), policy=policy.default)
                    assert isinstance(mail, EmailMessage)
                    with self.inbox.lock:
                        self.inbox.received.append((rcpts, mail))
                        self.inbox.by_id.setdefault(str(mail["Message-ID"]), (rcpts, mail))
                    if self.hold_reply is not None:
                        await asyncio.to_thread(self.hold_reply.wait, 30)
                    await say("250 OK queued")
                elif verb == "QUIT":
                    await say("221 bye")
                    break
                else:
                    await say("502 not implemented")
        finally:
            writer.close()

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


@contextmanager
def webhook_server() -> Iterator[tuple[str, Inbox]]:
    """A JSON webhook on loopback: 200 for a new message, 409 for a message id it already has,
    503 while ``inbox.fail_next`` > 0."""
    inbox = Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if inbox.take_failure():
                self.send_response(503)
                self.end_headers()
                return
            payload = json.loads(body)
            key = self.headers.get("Idempotency-Key", "")
            with inbox.lock:
                inbox.received.append((dict(self.headers), payload))
                duplicate = key in inbox.by_id
                inbox.by_id.setdefault(key, payload)
            self.send_response(409 if duplicate else 200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sms", inbox
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
