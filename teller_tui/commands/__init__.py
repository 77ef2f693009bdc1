"""Sub-commands of the ``teller`` CLI, one module per area (see teller_tui.cli)."""
