"""Risk monitoring: rules over transactions and audit records, alerts for supervisors, suspicious-transaction
reports, watch-list screening and counter-side warnings.

* :mod:`.rules` — ``data/risk_rules.toml`` (effective-dated rule settings);
* :mod:`.data` — what a scan reads (transactions, wallets, customers and their links, audit events);
* :mod:`.patterns` — one pure function per rule;
* :mod:`.alerts` — stored alerts (once per rule, subject and window), the queue;
* :mod:`.reports` — suspicious-transaction reports and their CSV/JSON exports;
* :mod:`.watchlist` — ``data/watchlist.csv`` and fuzzy name matching (Chinese characters and pinyin);
* :mod:`.screening` — the onboarding check (a match is held for a supervisor);
* :mod:`.warnings` — what the teller is told about a wallet;
* :mod:`.service` — :class:`~teller_tui.risk.service.RiskService`, ``services.risk``;
* :mod:`.blocking` — rules marked ``block`` checked inside each posting's transaction (refuse / approval);
* :mod:`.outbox` — customer notifications queued in the event's transaction, and their templates;
* :mod:`.sender`, :mod:`.transports` — delivery (SMTP, HTTP webhook), retries, one recorded outcome;
* :mod:`.notify_service` — :class:`~.notify_service.NotifyService`, ``services.notify`` (consent, status, run).

The package sits below the wallets in the import layers (the onboarding service screens through it)
and freezes wallets through the lifecycle service it is given (:class:`~.service.WalletFreezer`).
"""
