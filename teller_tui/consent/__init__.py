"""The customer's own consent at the counter (issue 16).

* :mod:`teller_tui.consent.spec`: what the customer consents to (bound to the exact request).
* :mod:`teller_tui.consent.gate`: the posting side, inside the posting transaction: a granted,
  matching consent is used once, or :class:`~teller_tui.common.errors.ConsentRequired` is raised.
* :mod:`teller_tui.consent.service`: the teller side (ask, wait, record an ID re-check, pair a
  display, the branch policy, start a PIN reset).
* The customer's side (the paired display: pairing, PIN, new PIN) is
  :mod:`teller_tui.kiosk.pinpad`, next to the kiosk's PIN checks and lockout it uses.
"""
