"""Errors with a reference: the screen shows one sentence and a short reference, the log keeps the rest.

``setup_error_log(home)`` attaches a rotating file handler (``<home>/logs/teller.log``, 0600,
5 files of 1 MiB) to the ``teller`` logger: one per process (a later home replaces the earlier). ``record_error`` writes one record
with the reference, the context and the traceback, and returns the reference, so that what a
teller reads out on the phone ("reference 3f9a1c") finds the full story in the log.

Log lines pass through the one sanitizer (:func:`teller_tui.common.text.clean_text`, line by
line, so a traceback keeps its shape), because the log is read with ``less`` and ``tail`` in a
terminal too: a customer's name must not be able to clear that screen.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from teller_tui.common.text import clean_text

__all__ = ["LOGGER_NAME", "keep_logs_off_the_terminal", "log_path", "record_error", "setup_error_log"]

LOGGER_NAME = "teller"
_MAX_BYTES = 1 << 20
_BACKUPS = 5


def log_path(home: Path) -> Path:
    return Path(home) / "logs" / "teller.log"


class _PrivateRotatingHandler(RotatingFileHandler):
    """A rotating file whose every generation is created 0600 whatever the umask."""

    def _open(self):  # type: ignore[no-untyped-def]  # (stdlib signature is untyped)
        old = os.umask(0o077)
        try:
            return super()._open()
        finally:
            os.umask(old)


def _printable(text: str) -> str:
    return "\n".join(clean_text(line, multiline=True) for line in text.split("\n"))


class _Sanitizing(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return _printable(super().format(record))


def setup_error_log(home: Path) -> Path | None:
    """Attach the file handler once; returns the log path, or None if the folder cannot be written
    (the app keeps working: the error is still shown, only without a log)."""
    logger = logging.getLogger(LOGGER_NAME)
    path = log_path(home)
    old: list[_PrivateRotatingHandler] = []
    for existing in logger.handlers:
        if isinstance(existing, _PrivateRotatingHandler):
            if Path(existing.baseFilename) == path.resolve():
                return path
            old.append(existing)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = _PrivateRotatingHandler(path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(_Sanitizing("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    for stale in old:  # one log per process: another home's (a test's, a restarted app's) is closed
        logger.removeHandler(stale)
        if stale in root.handlers:
            root.removeHandler(stale)
            root.addHandler(handler)
        stale.close()
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return path


def record_error(exc: BaseException, context: str, *, reference: str | None = None) -> str:
    """Log ``exc`` with a new (or the given) reference and the traceback; return the reference."""
    ref = reference or os.urandom(3).hex()  # what secrets.token_hex(3) returns, without hashlib at start-up
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    logging.getLogger(LOGGER_NAME).error("reference %s: %s: %s\n%s", ref, context, exc, details)
    return ref


def keep_logs_off_the_terminal(home: Path) -> Path | None:
    """For the full-screen apps: no log record may be written to the terminal under the UI (a
    warning or a traceback would be drawn over the screen). Handlers writing to the terminal are
    removed from the root logger, which writes to the error log instead (or nowhere, if the log
    cannot be opened: never Python's last-resort handler on stderr)."""
    root = logging.getLogger()
    terminals = {id(stream) for stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)}
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and id(getattr(handler, "stream", None)) in terminals:
            root.removeHandler(handler)
    path = setup_error_log(home)
    teller = logging.getLogger(LOGGER_NAME)
    files = [h for h in teller.handlers if isinstance(h, _PrivateRotatingHandler)]
    if files:
        if files[0] not in root.handlers:
            root.addHandler(files[0])
        teller.propagate = False  # its records reach the file once, through its own handler
    elif not root.handlers:
        root.addHandler(logging.NullHandler())
    return path
