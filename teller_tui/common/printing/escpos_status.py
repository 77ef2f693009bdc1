"""Ask an ESC/POS printer how it is before a job: real-time status, ``DLE EOT n`` (0x10 0x04 n).

The printer answers each query with one byte at once, even with its buffer full: ``n = 4`` the roll
paper sensor (bits 5-6 paper out, bits 2-3 paper low), ``n = 2`` the offline cause (bit 2 cover
open, bit 5 stopped at paper end, bit 6 an error). Every answer has bits 1 and 4 set and bits 0
and 7 clear, which tells an answer from noise. A printer that does not answer within the timeout
(many network interfaces do not pass status back) is printed to as before: ``None``, not a failure.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from teller_tui.common.i18n import _

__all__ = ["ANSWERS_OK", "ANSWERS_PAPER_LOW", "ANSWERS_PAPER_OUT", "OFFLINE_CAUSE", "PAPER_SENSOR", "EscposStatus",
           "query_status", "receive_job", "status_query"]

DLE, EOT = 0x10, 0x04
OFFLINE_CAUSE, PAPER_SENSOR = 2, 4


def status_query(n: int) -> bytes:
    return bytes((DLE, EOT, n))


def _valid(byte: int) -> bool:
    return byte & 0x93 == 0x12


@dataclass(frozen=True, slots=True)
class EscposStatus:
    paper_out: bool = False
    paper_low: bool = False
    cover_open: bool = False
    error: bool = False

    def problem(self) -> str:
        """Why nothing can be printed now ("" when it can), one clause for the teller."""
        if self.paper_out:
            return _("printer out of paper")
        if self.cover_open:
            return _("printer cover open")
        if self.error:
            return _("the printer reports an error")
        return ""


def _ask(sock: socket.socket, n: int, timeout: float) -> int | None:
    sock.sendall(status_query(n))
    sock.settimeout(timeout)
    try:
        got = sock.recv(1)
    except (TimeoutError, socket.timeout):
        return None
    return got[0] if got and _valid(got[0]) else None


def query_status(sock: socket.socket, timeout: float) -> EscposStatus | None:
    """The printer's paper and offline status over ``sock`` (connected), or None if it does not answer."""
    paper = _ask(sock, PAPER_SENSOR, timeout)
    if paper is None:
        return None
    offline = _ask(sock, OFFLINE_CAUSE, timeout) or 0x12
    return EscposStatus(paper_out=bool(paper & 0x60) or bool(offline & 0x20), paper_low=bool(paper & 0x0C),
                        cover_open=bool(offline & 0x04), error=bool(offline & 0x40))


#: What a printer answers to DLE EOT 4 and DLE EOT 2: all well, or out of paper (the stand-in printer).
ANSWERS_OK: dict[int, int] = {PAPER_SENSOR: 0x12, OFFLINE_CAUSE: 0x12}
ANSWERS_PAPER_OUT: dict[int, int] = {PAPER_SENSOR: 0x12 | 0x60, OFFLINE_CAUSE: 0x12 | 0x20}
ANSWERS_PAPER_LOW: dict[int, int] = {PAPER_SENSOR: 0x12 | 0x0C, OFFLINE_CAUSE: 0x12}


def receive_job(conn: socket.socket, answers: dict[int, int] | None) -> tuple[bytes, list[int]]:
    """A printer's side of one connection (``teller printer listen`` and the tests' stand-in):
    read until the sender closes, answer each ``DLE EOT n`` from ``answers`` (None: stay mute, as
    printers that pass no status back do), and return the job's bytes without the queries, and the
    queries asked. ``DLE EOT`` never occurs inside a job this program writes (GB18030 bytes after
    the first are 0x30 or above; command parameters are not followed by 0x04)."""
    job, pending = bytearray(), b""
    asked: list[int] = []
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            job += pending
            return bytes(job), asked
        data = pending + chunk
        pending = b""
        i = 0
        while i < len(data):
            if data[i] == DLE and i + 1 < len(data) and data[i + 1] == EOT:
                if i + 2 >= len(data):
                    pending = data[i:]
                    break
                n = data[i + 2]
                asked.append(n)
                if answers is not None and n in answers:
                    conn.sendall(bytes((answers[n],)))
                i += 3
            elif data[i] == DLE and i + 1 == len(data):
                pending = data[i:]
                break
            else:
                job.append(data[i])
                i += 1
