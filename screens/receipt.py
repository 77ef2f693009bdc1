"""The receipt viewer (after a posting, or a reprint) and the "reprint by reference" prompt.

The receipt is plain text rendered by the core (``teller_tui.desk.receipts``); it is shown
literally (``Content``, never markup). A posting writes no file: the ledger gives the receipt again
at any time, and a copy is saved under ``TELLER_HOME/receipts`` only when a print does not happen.
Actions:

* **p / F8** print: in a browser (``app.is_web``) the text opens in a browser tab to print
  (``App.deliver_text(open_method="browser")``); in a terminal it goes to this terminal's printer
  (``services.printing``: ESC/POS over TCP 9100 or a device, or CUPS ``lp``) in a worker, a
  receipt re-laid out for the roll's width (a large-print copy — the customer's needs say low vision
  or elderly — printed double size), and the outcome is one sentence in the status line
  (a failure saves a copy, or keeps the document's saved file, and says where it is).
* **d** download a copy: ``App.deliver_text`` (a download under textual-serve, a file in the
  receipts folder in a terminal).
* **Esc** close.

A reprint (``ReceiptScreen(reference=...)`` without text) loads the text with
``services.cash.receipt_for`` in a worker.
"""

from __future__ import annotations

import io
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static

from teller_tui.common.i18n import N_, _
from teller_tui.common.printing.config import Purpose
from teller_tui.notify.preferences import is_large_print

from .base import TellerModal, TellerScreen
from .widgets.desk import DeskScreenMixin, error_text
from .widgets.safe import clean
from .widgets.footer import KeyFooter

if TYPE_CHECKING:
    from textual.dom import DOMNode

__all__ = ["ReceiptScreen", "ReprintPrompt", "open_reprint"]


class ReceiptScreen(DeskScreenMixin, TellerScreen[None]):
    """Shows one receipt; print, download a copy, close."""

    BINDINGS = [
        Binding("escape", "close", N_("Close"), id="receipt.close"),
        Binding("p", "print", N_("Print"), id="receipt.print"),
        Binding("f8", "print", N_("Print"), id="receipt.print_f8", show=False),
        Binding("d", "download", N_("Download copy"), id="receipt.download"),
    ]

    HELP = N_(
        "## Receipt\n\n"
        "If it cannot be printed, a copy is saved in the receipts folder.\n\n"
        "- **p / F8** print on this terminal's printer (the line under the receipt says how it went)\n"
        "- **d** download a copy (in a browser) or save a copy (in a terminal)\n"
        "- **Esc** close"
    )

    class Loaded(Message):
        def __init__(self, text: str | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.text = text
            self.error = error

    class Printed(Message):
        def __init__(self, message: str, printed: bool) -> None:
            super().__init__()
            self.message = message
            self.printed = printed

    def __init__(self, reference: str, text: str | None = None, *, path: Path | None = None,
                 replayed: bool = False, document: bool = False, title: str = "",
                 render: Callable[[int], str] | None = None) -> None:
        """``document``: a welcome sheet or statement (to the document printer); ``title`` replaces
        "Receipt <reference>"; ``render(width)`` lays the document out again for a narrower roll."""
        super().__init__()
        self.title_text = title
        self.layout_for = render
        self.reference = reference
        self.text = text
        self.path = path
        self.replayed = replayed
        self.reprint = text is None
        self.document = document
        self.printing = False

    @classmethod
    def from_result(cls, result: Any, *, approved: bool = False) -> ReceiptScreen:
        """From a ``teller_tui.desk.cash.TxnResult``; ``approved``: posted by a supervisor's approval."""
        return cls(result.reference, result.receipt_text,
                   replayed=bool(getattr(result, "replayed", False)) and not approved)

    def compose(self) -> ComposeResult:
        with Vertical(id="receipt-body"):
            title = clean(self.title_text) or _("Receipt {reference}").format(reference=clean(self.reference))
            if self.reprint:
                title += "  " + _("(reprint)")
            yield Static(Content(title), id="receipt-title")
            if self.replayed:
                yield Static(Content(_("Already posted: this is the original transaction, nothing was "
                                       "posted again.")), id="receipt-replayed")
            with VerticalScroll(id="receipt-scroll"):
                yield Static(Content(_("Loading…") if self.text is None else clean(self.text, multiline=True)),
                             id="receipt-text")
            yield Static(Content(""), id="receipt-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#receipt-scroll").focus()
        if self.text is None:
            self._load(self.reference)

    @work(thread=True, exclusive=True, exit_on_error=False, group="receipt")
    def _load(self, reference: str) -> None:
        try:
            text = self.services.cash.receipt_for(reference)
        except Exception as exc:
            self.post_message(self.Loaded(None, exc))
            return
        self.post_message(self.Loaded(text))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        widget = self.query_one("#receipt-text", Static)
        if message.error is not None or message.text is None:
            widget.update(Content(error_text(message.error) if message.error else _("No receipt")))
            widget.add_class("-error")
            return
        self.text = message.text
        widget.update(Content(clean(message.text, multiline=True)))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("print", "download"):
            return True if self.text else None
        return True

    def action_print(self) -> None:
        if not self.text:
            return
        if self.app.is_web:
            self.app.deliver_text(io.StringIO(self.text), save_filename=f"{self.reference}.txt",
                                  open_method="browser", mime_type="text/plain")
            return
        if self.printing:
            return
        self.printing = True
        self.query_one("#receipt-status", Static).update(Content(_("Printing…")))
        self._print(self.text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="receipt-print")
    def _print(self, shown: str) -> None:
        printing = self.services.printing
        purpose = Purpose.DOCUMENT if self.document else Purpose.RECEIPT
        text = shown
        # A document saved before it was shown (a statement, a welcome sheet) is the file kept;
        # otherwise a copy of what the screen shows is saved, only if the print does not happen.
        saved = Path(self.path) if self.path is not None and Path(self.path).exists() else None
        keep = None if saved is not None else printing.receipt_copy(self.reference, shown)
        try:
            columns = printing.columns_for(purpose)
            if columns != 80:  # lay it out again for the roll
                if self.layout_for is not None:
                    text = self.layout_for(columns)
                elif not self.document:
                    text = self.services.cash.receipt_for(self.reference, width=columns, reprint=self.reprint)
            outcome = printing.print_text(text, purpose=purpose, title=self.reference, kept_at=saved, keep=keep,
                                          large=is_large_print(text))
        except Exception as exc:  # before a printer was reached (the roll's layout needs the database)
            outcome = printing.not_printed(error_text(exc), kept_at=saved, keep=keep)
        self.post_message(self.Printed(outcome.message, outcome.printed))

    @on(Printed)
    def _printed(self, message: Printed) -> None:
        self.printing = False
        status = self.query_one("#receipt-status", Static)
        status.update(Content(message.message))
        status.set_class(not message.printed, "-error")
        if message.printed:
            self.show_info(message.message, title=_("Print"))
        else:
            self.show_error(message.message, title=_("Not printed"))

    def action_download(self) -> None:
        if not self.text:
            return
        name = f"{self.reference}-copy.txt"
        if self.app.is_web:
            self.app.deliver_text(io.StringIO(self.text), save_filename=name, open_method="download",
                                  mime_type="text/plain")
            return
        directory = Path(self.services.settings.receipts_dir)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.app.deliver_text(io.StringIO(self.text), save_directory=directory, save_filename=name,
                              mime_type="text/plain")
        self.show_info(_("Copy saved at {path}").format(path=str(directory / name)))

    def action_close(self) -> None:
        self.dismiss(None)


class ReprintPrompt(DeskScreenMixin, TellerModal[str | None]):
    """Ask for a receipt reference (F8 on the home screen); dismisses with it or ``None``."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="reprint.cancel")]
    HELP = N_("Type the reference printed on the receipt (or read from the history), then Enter.")

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Content(_("Reprint receipt")), id="confirm-title")
            yield Input(placeholder=_("Receipt reference"), id="reprint-reference", max_length=32)

    def on_mount(self) -> None:
        self.query_one("#reprint-reference", Input).focus()

    @on(Input.Submitted, "#reprint-reference")
    def _submitted(self, event: Input.Submitted) -> None:
        value = clean(event.value).strip()
        if value:
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def open_reprint(node: DOMNode, reference: str | None = None) -> None:
    """Show the receipt of ``reference`` (asking for it first when not given)."""
    app = node.app
    if reference:
        app.push_screen(ReceiptScreen(reference))
        return

    def chosen(value: str | None) -> None:
        if value:
            app.push_screen(ReceiptScreen(value))

    app.push_screen(ReprintPrompt(), chosen)
