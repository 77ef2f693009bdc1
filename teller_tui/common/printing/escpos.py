"""Plain text to ESC/POS bytes, and the bytes back to text (for the loopback listener and tests).

The job, byte for byte::

    ESC @                    initialise
    FS &                     Chinese mode, text in GB18030        (encoding "gb18030")
  | FS . ESC t n             leave Chinese mode, code page n       (a single-byte code page)
  [ GS ! 0x11 ]              double width and height               (large print: columns // 2 a line)
    <line> LF ...            each line at most ``columns`` cells (CJK characters take two)
    ESC d n                  feed n lines
    GS V 1 | GS V 0          partial | full cut                   (cut "none": nothing)

Text can never smuggle a command in: every line goes through
:func:`teller_tui.common.text.clean_text`, then any remaining C0/C1 control character is
dropped, and what cannot be encoded prints as ``?``. GB18030 and the supported code pages
encode printable characters to bytes >= 0x20 only (a test checks every BMP character), so ESC,
GS, FS and DLE appear in the stream only where this module writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from teller_tui.common.formatting import display_width
from teller_tui.common.text import clean_text, is_unsafe_char

from .config import ENCODINGS

__all__ = ["DecodedJob", "decode_escpos", "printable_lines", "render_escpos"]

ESC, GS, FS, LF = 0x1B, 0x1D, 0x1C, 0x0A
INIT = bytes([ESC, 0x40])
CHINESE_ON = bytes([FS, 0x26])
CHINESE_OFF = bytes([FS, 0x2E])
DOUBLE_SIZE = bytes([GS, 0x21, 0x11])
CUTS = {"partial": bytes([GS, 0x56, 0x01]), "full": bytes([GS, 0x56, 0x00]), "none": b""}


def _safe(line: str) -> str:
    """One line with nothing a printer could take as a command; spaces (alignment) kept."""
    line = line.expandtabs(4)
    if line.isascii() and line.isprintable():  # the common case: nothing to remove
        return line.rstrip()
    line = clean_text(line, multiline=True).replace("\n", " ")  # escape sequences go whole
    return "".join(ch for ch in line if not is_unsafe_char(ch)).rstrip()


def _cut_to(line: str, columns: int) -> list[str]:
    if display_width(line) <= columns:
        return [line]
    out: list[str] = []
    current, used = "", 0
    for ch in line:
        w = display_width(ch)
        if used + w > columns:
            out.append(current.rstrip())
            current, used = "", 0
            if ch == " ":
                continue
        current += ch
        used += w
    if current.strip():
        out.append(current.rstrip())
    return out or [""]


def printable_lines(text: str, columns: int) -> list[str]:
    """``text`` as the lines the printer gets: sanitised, none wider than ``columns`` cells."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        lines.extend(_cut_to(_safe(raw), columns))
    while lines and not lines[-1]:
        lines.pop()
    return lines


def render_escpos(text: str, *, encoding: str = "gb18030", columns: int = 48, cut: str = "partial",
                  feed_lines: int = 4, large: bool = False) -> bytes:
    """One print job: ``text`` (already laid out in ``columns`` cells, or ``columns // 2`` when
    ``large``: printed double width and height) as ESC/POS bytes."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unsupported printer encoding {encoding!r}")
    if cut not in CUTS:
        raise ValueError(f"cut must be one of {sorted(CUTS)}")
    if not 0 <= feed_lines <= 255:
        raise ValueError("feed_lines must be 0..255")
    page = ENCODINGS[encoding]
    out = bytearray(INIT)
    out += CHINESE_ON if page is None else CHINESE_OFF + bytes([ESC, 0x74, page])
    if large:
        out += DOUBLE_SIZE
        columns //= 2
    for line in printable_lines(text, columns):
        out += line.encode(encoding, errors="replace") + b"\n"
    if feed_lines:
        out += bytes([ESC, 0x64, feed_lines])
    out += CUTS[cut]
    return bytes(out)


@dataclass
class DecodedJob:
    """What a printer would do with a job: the text it prints and the commands, in order."""

    text: str = ""
    commands: list[str] = field(default_factory=list)
    cuts: int = 0


_PAGES = {v: k for k, v in ENCODINGS.items() if v is not None}


def decode_escpos(data: bytes) -> DecodedJob:
    """Decode the commands :func:`render_escpos` writes; any other control byte raises ValueError."""
    job = DecodedJob()
    chinese, page = False, "cp437"
    text = bytearray()
    parts: list[str] = []

    def flush() -> None:
        if text:
            parts.append(bytes(text).decode("gb18030" if chinese else page, errors="replace"))
            text.clear()

    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == LF:
            text.append(b)
            i += 1
        elif b == ESC and data[i + 1:i + 2] == b"@":
            flush()
            job.commands.append("init")
            i += 2
        elif b == ESC and data[i + 1:i + 2] == b"t" and i + 2 < n:
            flush()
            page = _PAGES.get(data[i + 2], f"page-{data[i + 2]}")
            job.commands.append(f"codepage {page}")
            i += 3
        elif b == ESC and data[i + 1:i + 2] == b"d" and i + 2 < n:
            flush()
            job.commands.append(f"feed {data[i + 2]}")
            i += 3
        elif b == FS and data[i + 1:i + 2] in (b"&", b"."):
            flush()
            chinese = data[i + 1:i + 2] == b"&"
            job.commands.append("chinese on" if chinese else "chinese off")
            i += 2
        elif b == GS and data[i + 1:i + 2] == b"!" and i + 2 < n:
            flush()
            job.commands.append(f"size {data[i + 2]:#04x}")
            i += 3
        elif b == GS and data[i + 1:i + 2] == b"V" and i + 2 < n:
            flush()
            job.commands.append("cut partial" if data[i + 2] in (1, 49) else "cut full")
            job.cuts += 1
            i += 3
        elif b < 0x20 or b == 0x7F:
            raise ValueError(f"unexpected control byte 0x{b:02x} at offset {i}")
        else:
            text.append(b)
            i += 1
    flush()
    job.text = "".join(parts)
    return job
