"""Send a finished job somewhere: a raw TCP port, a device file, or the CUPS spooler (``lp``).

Each sender returns a short job description (``lp``'s request id, or the byte count) or raises
:class:`PrintFailed` whose ``reason`` is one clause a teller can read ("connection refused",
"no reader on the device", "lp: The printer or class does not exist."). Nothing here retries:
a receipt printed twice is worse than one the teller reprints.

Status read back: over TCP the printer is asked its paper and offline status first (``DLE EOT``,
:mod:`.escpos_status`); out of paper or cover open refuses before anything is sent. Through CUPS
the job ``lp`` queued is followed over IPP (:mod:`.ipp`) until it completes; aborted or canceled,
a stopped printer (its reason: out of paper, offline...), or still waiting when the time is up
is a failure, so the teller hears it and the file is kept.
"""

from __future__ import annotations

import errno
import os
import re
import select
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass

from teller_tui.common.errors import DomainError
from teller_tui.common.i18n import _
from teller_tui.common.text import clean_text

from .escpos_status import query_status
from .ipp import JOB_ABORTED, JOB_CANCELED, JOB_COMPLETED, JOB_STOPPED, PRINTER_STOPPED, IppError, cups_server
from .ipp import job_state, printer_state

__all__ = ["PrintFailed", "Sent", "send_cups", "send_device", "send_tcp"]


@dataclass(frozen=True, slots=True)
class Sent:
    job: str  # lp's request id, or the byte count
    note: str = ""  # something the teller should know although it printed (paper low; status unknown)


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


def send_tcp(host: str, port: int, data: bytes, *, timeout: float, status_timeout: float = 0.0) -> Sent:
    """Raw TCP (JetDirect/AppSocket, port 9100): ask the status (``status_timeout`` > 0), connect,
    send everything, close cleanly."""
    note = ""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            status = query_status(sock, status_timeout) if status_timeout > 0 else None
            if status is not None and status.problem():
                raise PrintFailed(status.problem())
            if status is not None and status.paper_low:
                note = _("the paper is running low")
            sock.settimeout(timeout)
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
    except OSError as exc:
        raise PrintFailed(_reason(exc)) from exc
    return Sent(f"{len(data)} bytes", note)


def send_device(path: str, data: bytes, *, timeout: float) -> Sent:
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
    return Sent(f"{len(data)} bytes")


def send_cups(data: bytes, *, queue: str, title: str, raw: bool, timeout: float, large: bool = False,
              server: str = "", follow_seconds: float = 0.0) -> Sent:
    """Hand the job to the spooler with ``lp`` (job on stdin; ``-h server`` when one is named), then
    follow it for up to ``follow_seconds`` (:func:`follow_job`). ``large``: plain text at 5
    characters and 3 lines per inch (twice the usual size)."""
    lp = shutil.which("lp")
    if lp is None:
        raise PrintFailed(_("the lp command is not installed (CUPS client missing)"))
    args = [lp] + (["-h", server] if server else []) + ["-t", clean_text(title, limit=60) or "teller"]
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
    found = re.search(r"(\S+)-(\d+)\b", out)
    if follow_seconds <= 0 or found is None:
        return Sent(out or "queued")
    return follow_job(cups_server(server), found.group(1), int(found.group(2)), found.group(0),
                      seconds=follow_seconds)


def follow_job(server: str, queue: str, job_id: int, name: str, *, seconds: float) -> Sent:
    """Watch job ``job_id`` until it completes (printed) or fails (:class:`PrintFailed`): aborted or
    canceled, its printer stopped, or still not printed after ``seconds``. A spooler that cannot be
    asked is not a failure (lp took the job): the note says the outcome is not known."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            job = job_state(server, job_id, timeout=2.0)
            if job.state == JOB_COMPLETED:
                return Sent(name)
            if job.state in (JOB_ABORTED, JOB_CANCELED):
                why = job.message or ", ".join(job.reasons)
                raise PrintFailed(_("the spooler gave up on job {job} ({reason})").format(
                    job=name, reason=clean_text(why, limit=100) or _("no reason given")))
            printer = printer_state(server, queue, timeout=2.0)
        except IppError:
            return Sent(name, _("the spooler did not say whether it printed"))
        if printer.state == PRINTER_STOPPED or job.state == JOB_STOPPED or _paper_out(printer.reasons):
            raise PrintFailed(_printer_problem(printer.reasons, printer.message, name))
        if time.monotonic() >= deadline:
            raise PrintFailed(_("job {job} is still waiting in the spooler, not printed yet").format(job=name))
        time.sleep(0.2)


def _paper_out(reasons: tuple[str, ...]) -> bool:
    return any(r.startswith("media-empty") or r.startswith("media-needed") for r in reasons)


def _printer_problem(reasons: tuple[str, ...], message: str, name: str) -> str:
    if _paper_out(reasons):
        return _("printer out of paper (job {job} waits in the spooler)").format(job=name)
    if any(r.startswith("offline") or r.startswith("connecting-to-device") for r in reasons):
        return _("printer offline (job {job} waits in the spooler)").format(job=name)
    said = clean_text(message, limit=100)
    return (_("printer stopped: {message} (job {job} waits in the spooler)").format(message=said, job=name) if said
            else _("printer stopped (job {job} waits in the spooler)").format(job=name))
