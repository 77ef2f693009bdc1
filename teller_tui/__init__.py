"""Teller workstation core: domain, ledger, storage and authentication.

This package never imports Textual; the UI lives in :mod:`screens`.
"""

__version__ = "0.1.0"
