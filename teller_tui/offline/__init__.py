"""The offline counter: cash-ins taken while the central database cannot be reached (issue 26).

* :mod:`.store` — the terminal's durable queue (one SQLite file under ``$TELLER_HOME/offline``).
* :mod:`.types` — what the queue holds and what the service hands the screens.
* :mod:`.taking` — the caps and the offline receipt.
* :mod:`.upload` — posting the queue once the database answers (by each item's idempotency key).
* :mod:`.service` — :class:`~teller_tui.offline.service.OfflineService` (``services.offline``).
"""
