"""The Textual UI: the teller workstation, the kiosk, the customer display (the core is ``teller_tui``)."""

from __future__ import annotations

import gc

__all__ = ["freeze_core", "resume_collection"]

_froze_start = False  # resume_collection froze this process's start-up heap


def resume_collection() -> None:
    """Turn the cycle collector back on after an app's first frame, if the console script turned it off
    for the start (screens/cli.py); what the start allocated (modules, classes, the first screen) lives
    as long as the app and is frozen out of the collector's walks (``gc.freeze``). With the collector
    already on (tests, an app run some other way) this does nothing."""
    global _froze_start
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
        _froze_start = True


def freeze_core() -> None:
    """Freeze the core out of the collector's walks too, once it is loaded (called from the start's
    worker): the models, services and SQLAlchemy load after the first frame, live as long as the app,
    and a full collection walked them (~145,000 objects, ~50 ms) inside whatever the person was doing,
    a posting included. Only where :func:`resume_collection` froze the start (the console script);
    elsewhere (tests running many apps in one process) nothing is frozen."""
    if _froze_start:
        gc.freeze()
