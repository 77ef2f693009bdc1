"""The branch: business days, teller cash drawers, the vault and the end-of-day report.

Modules, one job each:

* ``business_day`` — :class:`BusinessDayService`: open, close and look at the branch's day
  (which date an entry carries is the ledger's rule: :mod:`teller_tui.ledger.business_day`).
* ``drawers`` — :class:`DrawerService` (``services.drawers``): open with a float, status, the
  pieces of a cash transaction, blind count, close with over/short; delegates day and vault.
* ``vault`` — :class:`VaultService`: balance and pieces, cash received, drawer ↔ vault transfers.
* ``cashbook`` — accounts, ledger entries, drawer events and vault holdings inside a transaction.
* ``counts`` — denomination arithmetic: ``clean_counts``, ``counts_total``, ``tender``.
* ``drawer_lookup`` — ``actor_drawer`` and ``require_open_drawer`` (the desk's cash rule).
* ``dual_control`` — a supervisor's countersignature with fresh credentials.
* ``eod`` / ``eod_build`` — the end-of-day report and its rendering / building it from the database.
* ``kinds`` — roles, entry kinds and drawer-event kinds the branch writes.
* ``views`` — the read models the services return.
* ``setup`` — demo and test set-up (no countersignature); never used by the app.

Nothing is re-exported here: import from the module that owns a name.
"""
