"""The Textual UI: the teller workstation, the kiosk, the customer display (the core is ``teller_tui``)."""

from __future__ import annotations

import gc

__all__ = ["resume_collection"]


def resume_collection() -> None:
    """Turn the cycle collector back on after an app's first frame, if the console script turned it off
    for the start (screens/cli.py); what the start allocated (modules, classes, the first screen) lives
    as long as the app and is frozen out of the collector's walks (``gc.freeze``). With the collector
    already on (tests, an app run some other way) this does nothing."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
