"""Send a finished job somewhere: a raw TCP port, a device file, or the CUPS spooler (``lp``).

Each sender returns a short job description (``lp``'s request id, or the byte count) or raises
:class:`PrintFailed` whose ``reason`` is one clause a teller can read ("connection refused",
"no reader on the device", "lp: The printer or class does not exist."). Nothing here retries:
a receipt printed twice is worse than one the teller reprints.
"""

from __future__ import annotations

import errno
import os
import select
import shutil
import socket
import subprocess
import time

from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import _
from teller_tui.common.text import clean_text

__all__ = ["PrintFailed", "send_cups", "send_device", "send_tcp"]


class PrintFailed(DomainError):
    code = "print_failed"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reason(exc: OSError) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return _("no answer (timed out)")
    known = {errno.ECONNREFUSED: _("connection refused"), errno.EHOSTUNREACH: _("host unreachable"),
             errno.ENETUNREACH: _("network unreachable"), errno.ECONNRESET: _("the printer hung up"),
             errno.EPIPE: _("the printer hung up"), errno.ENOENT: _("no such device"),
             errno.EACCES: _("permission denied"), errno.EBUSY: _("the device is busy"),
             errno.ENODEV: _("no such device")}
    if exc.errno in known:
        return known[exc.errno]
    if isinstance(exc, socket.gaierror):
        return _("unknown host")
    text = exc.strerror or str(exc) or type(exc).__name__
    return clean_text(text, limit=120).lower()


def send_tcp(host: str, port: int, data: bytes, *, timeout: float) -> str:
    """Raw TCP (JetDirect/AppSocket, port 9100): connect, send everything, close cleanly."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
    except OSError as exc:
        raise PrintFailed(_reason(exc)) from exc
    return f"{len(data)} bytes"


def send_device(path: str, data: bytes, *, timeout: float) -> str:
    """Write to a printer device (``/dev/usb/lp0``, a serial port) or a fifo, giving up after ``timeout``.

    Opened non-blocking, so a fifo nobody reads or a printer that is switched off is an error
    now ("no reader", "no such device") rather than a worker hung for ever.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise PrintFailed(_("no reader on the device (printer off or not connected)")) from exc
        raise PrintFailed(_reason(exc)) from exc
    try:
        view = memoryview(data)
        deadline = time.monotonic() + timeout
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PrintFailed(_("no answer (timed out)"))
            writable = select.select([], [fd], [], left)[1]
            if not writable:
                continue
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                continue
            view = view[written:]
    except OSError as exc:
        raise PrintFailed(_reason(exc)) from exc
    finally:
        os.close(fd)
    return f"{len(data)} bytes"


def send_cups(data: bytes, *, queue: str, title: str, raw: bool, timeout: float, large: bool = False) -> str:
    """Hand the job to the spooler with ``lp`` (job on stdin); returns lp's request id line.
    ``large``: plain text at 5 characters and 3 lines per inch (twice the usual size)."""
    lp = shutil.which("lp")
    if lp is None:
        raise PrintFailed(_("the lp command is not installed (CUPS client missing)"))
    args = [lp, "-t", clean_text(title, limit=60) or "teller"]
    if queue:
        args += ["-d", queue]
    if raw:
        args += ["-o", "raw"]
    else:
        args += ["-o", "document-format=text/plain"]
        if large:
            args += ["-o", "cpi=5", "-o", "lpi=3"]
    try:
        done = subprocess.run(args, input=data, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PrintFailed(_("no answer from the spooler (timed out)")) from exc
    except OSError as exc:
        raise PrintFailed(_reason(exc)) from exc
    err = clean_text(done.stderr.decode("utf-8", errors="replace"), limit=160)
    out = clean_text(done.stdout.decode("utf-8", errors="replace"), limit=160)
    if done.returncode != 0:
        raise PrintFailed(err or _("lp exited with status {status}").format(status=done.returncode))
    return out or "queued"
