"""Customer notifications, the writing side: the durable outbox every event writes in its own transaction.

A low layer (below approvals, above the ledger) so that every writer — the counter, the kiosk, the
approvals service posting a held request, wallet life cycle, linked funding, PIN locks — queues its
customer's notification through the ONE writer, :class:`~teller_tui.notify.outbox.Outbox`.
Posting notices are built in one place, :func:`~teller_tui.notify.postings.notify_entry`.
Delivery and consent are the risk layer's (:mod:`teller_tui.risk.sender`, :mod:`teller_tui.risk.notify_service`).
"""
