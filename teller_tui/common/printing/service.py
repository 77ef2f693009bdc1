"""This terminal's printers: choose one for a receipt or a document, print, say what happened.

Public API::

    printing = PrintService(settings)
    spec = printing.printer_for(Purpose.RECEIPT)            # PrinterSpec | None
    outcome = printing.print_text(text, purpose=Purpose.RECEIPT, title="R123",
                                  keep=KeepCopy(receipts_dir, "R123", shown), large=False)
    outcome.printed, outcome.message                        # bool, one sentence for the teller

``print_text`` never raises for a printer problem: the outcome says "Not printed: …, the file is
kept at …". The file is either one the caller saved before printing (``kept_at``: a statement, a
report) or a copy saved only because the print did not happen (``keep``: a receipt, which the ledger
can give again at any time, so a posting writes no file of its own). Only a programming error raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from teller_tui.common.files import save_private_text
from teller_tui.common.i18n import _
from teller_tui.common.settings import Settings
from teller_tui.common.text import clean_text

from .backends import PrintFailed, Sent, send_cups, send_device, send_tcp
from .config import PrinterKind, PrinterSpec, Purpose
from .escpos import printable_lines, render_escpos

__all__ = ["KeepCopy", "PrintOutcome", "PrintService"]


@dataclass(frozen=True, slots=True)
class KeepCopy:
    """What to keep when a print does not happen: ``text`` (as the screen shows it, whatever the
    printer's layout) saved as ``<directory>/<name>.txt`` (0600, in a 0700 directory)."""

    directory: Path
    name: str
    text: str

    def save(self) -> str:
        """The saved file's path; ``""`` when it could not be saved (the outcome then names no file)."""
        try:
            return str(save_private_text(self.directory, self.name, self.text))
        except (OSError, ValueError):
            return ""


def _kept(kept_at: Path | None, keep: KeepCopy | None) -> str:
    """The file a failed print names: the one the caller saved, else the copy saved now ("" for none)."""
    return str(kept_at) if kept_at is not None else keep.save() if keep is not None else ""


@dataclass(frozen=True, slots=True)
class PrintOutcome:
    printed: bool
    printer: str  # the printer's name in the settings, "" when none is set up
    message: str  # one sentence for the teller
    job: str = ""


class PrintService:
    """Printing for the terminal named in ``settings.terminal_id``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def printer_name(self, purpose: Purpose) -> str:
        chosen = self.settings.terminal_printers.get(self.settings.terminal_id)
        name = getattr(chosen, purpose.value, "") if chosen is not None else ""
        if not name and purpose is Purpose.DOCUMENT:
            name = self.settings.document_printer
        return name or self.settings.default_printer

    def printer_for(self, purpose: Purpose) -> PrinterSpec | None:
        name = self.printer_name(purpose)
        return self.settings.printers.get(name) if name else None

    def columns_for(self, purpose: Purpose) -> int:
        """Characters per line on the printer a ``purpose`` job would go to (80 without one)."""
        spec = self.printer_for(purpose)
        return spec.columns if spec is not None and spec.escpos else 80

    def job_bytes(self, spec: PrinterSpec, text: str, *, large: bool = False) -> bytes:
        if spec.escpos:
            return render_escpos(text, encoding=spec.encoding, columns=spec.columns, cut=spec.cut,
                                 feed_lines=spec.feed_lines, large=large)
        return ("\n".join(printable_lines(text, 200)) + "\n\f").encode("utf-8")

    def receipt_copy(self, reference: str, text: str) -> KeepCopy:
        """Where a receipt's copy goes when its print does not happen: this terminal's receipts folder."""
        return KeepCopy(self.settings.receipts_dir, reference, text)

    def not_printed(self, reason: str, *, kept_at: Path | None = None, keep: KeepCopy | None = None,
                    printer: str = "") -> PrintOutcome:
        """The outcome of a print that failed before a printer took it (``reason``, one phrase; a
        printer named: it refused), the file kept named: ``kept_at`` as saved, or ``keep`` saved now."""
        kept = _kept(kept_at, keep)
        if printer:
            where = self.settings.printers[printer].where
            msg = _("Not printed: printer {printer} ({where}): {reason}; the file is kept at {path}.") if kept \
                else _("Not printed: printer {printer} ({where}): {reason}.")
            return PrintOutcome(False, printer, msg.format(printer=printer, where=where, reason=reason, path=kept))
        msg = _("Not printed: {reason}; the file is kept at {path}.") if kept else _("Not printed: {reason}")
        return PrintOutcome(False, "", msg.format(reason=reason, path=kept))

    def print_text(self, text: str, *, purpose: Purpose, title: str, kept_at: Path | None = None,
                   keep: KeepCopy | None = None, large: bool = False) -> PrintOutcome:
        """``kept_at``: a file the caller already saved; ``keep``: a copy to save only if the print
        does not happen. ``large``: a large-print layout (half the columns), printed double size on
        ESC/POS and at 5 characters per inch through CUPS."""
        name = self.printer_name(purpose)
        spec = self.settings.printers.get(name) if name else None
        if spec is None:
            kept = _kept(kept_at, keep)
            if kept:
                msg = _("No printer is set up for terminal {terminal}; the file is kept at {path}.")
            else:
                msg = _("No printer is set up for terminal {terminal}.")
            return PrintOutcome(False, "", msg.format(terminal=clean_text(self.settings.terminal_id), path=kept))
        data = self.job_bytes(spec, text, large=large)
        sent: Sent
        try:
            if spec.kind is PrinterKind.ESCPOS_TCP:
                sent = send_tcp(spec.host, spec.port, data, timeout=spec.timeout_seconds,
                                status_timeout=spec.status_ms / 1000)
            elif spec.kind is PrinterKind.ESCPOS_DEVICE:
                sent = send_device(spec.device, data, timeout=spec.timeout_seconds)
            else:
                sent = send_cups(data, queue=spec.queue, title=title, raw=spec.raw, timeout=spec.timeout_seconds,
                                 large=large, server=spec.server, follow_seconds=spec.follow_seconds)
        except PrintFailed as exc:
            return self.not_printed(exc.reason, kept_at=kept_at, keep=keep, printer=name)
        if sent.note:
            msg = _("Printed on {printer} ({where}); {note}.").format(printer=name, where=spec.where, note=sent.note)
        else:
            msg = _("Printed on {printer} ({where}).").format(printer=name, where=spec.where)
        return PrintOutcome(True, name, msg, sent.job)
