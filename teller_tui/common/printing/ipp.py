"""Read a spooled job's state and its printer's state back from CUPS over IPP (RFC 8010/8011).

``lp`` only says the spooler took the job; whether it printed is the job's ``job-state`` (completed,
aborted, canceled, or still pending/processing) and the printer's ``printer-state`` (stopped) with
its ``printer-state-reasons`` (``media-empty-error``: out of paper). Two operations are enough,
Get-Job-Attributes and Get-Printer-Attributes, so this speaks them directly (a few dozen bytes
over HTTP) rather than parsing ``lpstat``, whose output is translated into the user's language.

The server is the printer's ``server`` setting (``host:port`` or a socket path), else
``$CUPS_SERVER``, else the local scheduler's socket ``/run/cups/cups.sock``, else ``localhost:631``.
"""

from __future__ import annotations

import http.client
import os
import socket
import struct
from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["IppError", "IppState", "cups_server", "job_state", "printer_state"]

#: job-state values (RFC 8011 5.3.7) and printer-state values (5.4.12).
JOB_PENDING, JOB_HELD, JOB_PROCESSING, JOB_STOPPED, JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED = 3, 4, 5, 6, 7, 8, 9
PRINTER_IDLE, PRINTER_PROCESSING, PRINTER_STOPPED = 3, 4, 5
_SOCKETS = ("/run/cups/cups.sock", "/var/run/cups/cups.sock")
_MAX_ANSWER = 1 << 16  # a few attributes: far less than this


class IppError(OSError):
    """The spooler could not be asked (not running, refused, an answer that is not IPP)."""


@dataclass(frozen=True, slots=True)
class IppState:
    state: int  # job-state or printer-state
    reasons: tuple[str, ...]  # job-state-reasons or printer-state-reasons
    message: str  # job-printer-state-message or printer-state-message (may be empty)


def cups_server(configured: str = "") -> str:
    """Where the scheduler listens: ``host:port`` or a socket path (see the module docstring)."""
    chosen = configured.strip() or os.environ.get("CUPS_SERVER", "").strip()
    if chosen:
        return chosen
    return next((path for path in _SOCKETS if os.path.exists(path)), "localhost:631")


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


def _attr(tag: int, name: str, value: bytes) -> bytes:
    raw = name.encode()
    return struct.pack(">BH", tag, len(raw)) + raw + struct.pack(">H", len(value)) + value


def _request(server: str, path: str, operation: int, target: tuple[str, str], wanted: tuple[str, ...],
             timeout: float) -> dict[str, list[bytes | int]]:
    body = struct.pack(">bbHI", 2, 0, operation, 1) + b"\x01"
    body += _attr(0x47, "attributes-charset", b"utf-8") + _attr(0x48, "attributes-natural-language", b"en")
    body += _attr(0x45, target[0], target[1].encode())
    for i, name in enumerate(wanted):
        body += _attr(0x44, "requested-attributes" if i == 0 else "", name.encode())
    body += b"\x03"
    try:
        data, http_status = _post(server, path, body, timeout)
        if http_status != 200 or len(data) < 9:
            raise IppError(f"HTTP {http_status}")
        (status,) = struct.unpack(">H", data[2:4])
        if status >= 0x0400:
            raise IppError(f"IPP status 0x{status:04x}")
        return _parse(data)
    except IppError:
        raise
    except (OSError, http.client.HTTPException, ValueError, OverflowError, struct.error, IndexError) as exc:
        # a refused or cut connection, a bad server setting, an answer that is not IPP
        raise IppError(str(exc) or type(exc).__name__) from exc


def _post(server: str, path: str, body: bytes, timeout: float) -> tuple[bytes, int]:
    conn: http.client.HTTPConnection
    if server.startswith("/"):
        conn = _UnixConnection(server, timeout)
    else:
        host, _, port = server.rpartition(":") if ":" in server and not server.endswith("]") else (server, "", "631")
        conn = http.client.HTTPConnection(host or "localhost", int(port or 631), timeout=timeout)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/ipp"})
        reply = conn.getresponse()
        data = reply.read(_MAX_ANSWER + 1)
    finally:
        conn.close()
    if len(data) > _MAX_ANSWER:
        raise IppError("answer too long")
    said = reply.getheader("Content-Length")
    if said is not None and said.strip().isdigit() and int(said) != len(data):
        raise IppError("answer cut short")
    return data, reply.status


def _take(data: bytes, i: int, n: int) -> bytes:
    """``n`` bytes at ``i``: an answer cut short is not IPP."""
    if i + n > len(data):
        raise IppError("answer cut short")
    return data[i:i + n]


def _parse(data: bytes) -> dict[str, list[bytes | int]]:
    """The attributes of an IPP answer; every length is checked against what arrived (:class:`IppError`)."""
    out: dict[str, list[bytes | int]] = {}
    i, last = 8, ""
    while i < len(data):
        tag = data[i]
        i += 1
        if tag == 0x03:
            break
        if tag < 0x10:  # a delimiter: the next group
            continue
        (nlen,) = struct.unpack(">H", _take(data, i, 2))
        name = _take(data, i + 2, nlen).decode("utf-8", "replace")
        i += 2 + nlen
        (vlen,) = struct.unpack(">H", _take(data, i, 2))
        value = _take(data, i + 2, vlen)
        i += 2 + vlen
        last = name or last
        out.setdefault(last, []).append(struct.unpack(">i", value)[0] if tag in (0x21, 0x23) and vlen == 4 else value)
    else:
        raise IppError("answer without its end tag")
    return out


def _state(found: dict[str, list[bytes | int]], state: str, reasons: str, message: str) -> IppState:
    value = found.get(state, [0])[0]
    texts = [v.decode("utf-8", "replace") for v in found.get(reasons, []) if isinstance(v, bytes)]
    said = found.get(message, [b""])[0]
    return IppState(value if isinstance(value, int) else 0, tuple(t for t in texts if t != "none"),
                    said.decode("utf-8", "replace") if isinstance(said, bytes) else "")


def job_state(server: str, job_id: int, *, timeout: float) -> IppState:
    uri = f"ipp://localhost/jobs/{job_id}"
    found = _request(server, "/jobs", 0x0009, ("job-uri", uri),
                     ("job-state", "job-state-reasons", "job-printer-state-message"), timeout)
    return _state(found, "job-state", "job-state-reasons", "job-printer-state-message")


def printer_state(server: str, queue: str, *, timeout: float) -> IppState:
    uri = f"ipp://localhost/printers/{quote(queue)}"
    found = _request(server, f"/printers/{quote(queue)}", 0x000B, ("printer-uri", uri),
                     ("printer-state", "printer-state-reasons", "printer-state-message"), timeout)
    return _state(found, "printer-state", "printer-state-reasons", "printer-state-message")
