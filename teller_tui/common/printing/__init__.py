"""Printing: ESC/POS receipt printers (raw TCP 9100, a device file) and the CUPS spooler (``lp``).

- :mod:`.config`   the printer settings (``printers``, ``default_printer``, ``terminal_printers``)
- :mod:`.escpos`   text -> ESC/POS bytes (GB18030 or a single-byte code page, cut) and back
- :mod:`.backends` send bytes to a TCP port, a device file or ``lp``
- :mod:`.service`  :class:`PrintService`: choose this terminal's printer, print, say what happened
"""
