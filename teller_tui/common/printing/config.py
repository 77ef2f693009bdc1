"""Printer settings: named printers, a default, and per-terminal choices.

An SSH host serves many counters, each with its own ``TELLER_TERMINAL_ID``; a terminal's
receipts go to ``terminal_printers[terminal].receipt`` and its statements, welcome sheets and
reports to ``terminal_printers[terminal].document``; unset, ``document_printer`` (documents
only) and then ``default_printer`` are used. In TOML::

    default_printer = "counter"
    [printers.counter]
    kind = "escpos-tcp"
    host = "10.1.2.21"
    [printers.office]
    kind = "cups"
    queue = "Office_A4"
    server = "printhost:631"   # optional: another CUPS scheduler (lp -h)
    follow_seconds = 15        # follow the job until printed; stopped/aborted/waiting: not printed
    [terminal_printers.T02]
    receipt = "counter2"
    document = "office"
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["ENCODINGS", "PrinterKind", "PrinterSpec", "Purpose", "TerminalPrinters"]

# ESC/POS text encodings: GB18030 is the printer's Chinese mode (FS &); the others are single-byte
# code pages chosen with ESC t n (the numbers of Epson's code page table).
ENCODINGS: dict[str, int | None] = {"gb18030": None, "cp437": 0, "cp850": 2, "cp866": 17, "cp1252": 16,
                                    "cp858": 19}

# A CUPS scheduler: ``host``, ``host:port``, ``[v6]:port`` or an absolute socket path (no spaces).
_SERVER = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?|/[^\s\x00-\x1f\x7f]+")

Encoding = Literal["gb18030", "cp437", "cp850", "cp866", "cp1252", "cp858"]


class PrinterKind(StrEnum):
    ESCPOS_TCP = "escpos-tcp"  # raw TCP, port 9100 (JetDirect / AppSocket)
    ESCPOS_DEVICE = "escpos-device"  # /dev/usb/lp0, a serial port, a fifo
    CUPS = "cups"  # the system spooler, through ``lp``


class Purpose(StrEnum):
    RECEIPT = "receipt"
    DOCUMENT = "document"  # statements, welcome sheets, reports


class PrinterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: PrinterKind
    host: str = ""
    port: int = Field(9100, ge=1, le=65535)
    device: str = ""
    queue: str = Field("", description="CUPS destination (lp -d); empty: the CUPS default printer")
    raw: bool = Field(False, description="CUPS: send ESC/POS bytes to a raw queue instead of text")
    encoding: Encoding = "gb18030"
    columns: Literal[32, 42, 48, 64, 80] = Field(48, description="Characters per line (80 mm: 48, 58 mm: 32)")
    cut: Literal["partial", "full", "none"] = "partial"
    feed_lines: int = Field(4, ge=0, le=20)
    timeout_seconds: int = Field(10, ge=1, le=120)
    server: str = Field("", description="CUPS: the scheduler (host:port or socket path; lp -h); empty: "
                                        "$CUPS_SERVER or this machine's")
    follow_seconds: int = Field(15, ge=0, le=300, description="CUPS: how long to follow a job until it has "
                                                               "printed (0: trust lp)")
    status_ms: int = Field(800, ge=0, le=10000, description="escpos-tcp: how long to wait for the printer's "
                                                           "status answer (DLE EOT; 0: do not ask)")

    @field_validator("server")
    @classmethod
    def _server_is_an_address(cls, value: str) -> str:
        value = value.strip()
        found = _SERVER.fullmatch(value)
        if value and (found is None or not 1 <= int(found.group(1) or 631) <= 65535):
            raise ValueError(f"server {value!r} is not a CUPS scheduler: write host, host:port or a socket path")
        return value

    @model_validator(mode="after")
    def _needs_address(self) -> Self:
        if self.kind is PrinterKind.ESCPOS_TCP and not self.host.strip():
            raise ValueError("an escpos-tcp printer needs a host")
        if self.kind is PrinterKind.ESCPOS_DEVICE and not self.device.strip():
            raise ValueError("an escpos-device printer needs a device path")
        return self

    @property
    def escpos(self) -> bool:
        return self.kind is not PrinterKind.CUPS or self.raw

    @property
    def where(self) -> str:
        """Where the printer is, for messages (never a secret)."""
        if self.kind is PrinterKind.ESCPOS_TCP:
            return f"{self.host}:{self.port}"
        if self.kind is PrinterKind.ESCPOS_DEVICE:
            return self.device
        where = f"lp -d {self.queue}" if self.queue else "lp"
        return f"{where} -h {self.server}" if self.server else where


class TerminalPrinters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    receipt: str = ""
    document: str = ""
