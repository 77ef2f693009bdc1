"""The self-service kiosk: a separate, locked-down Textual app (``teller kiosk``)."""
