"""``python -m teller_tui.bench.peakrss CMD ARGS...``: run CMD, then print its peak RSS.

A child's ``ru_maxrss`` starts from its parent's RSS at fork (Linux keeps it across exec), so
a benchmark process that holds a big data set cannot read a small child's peak directly. This
tiny launcher (a few MiB) runs the command, passes its output through, and prints
``TELLER-BENCH-PEAK-RSS <bytes>`` last; its exit status is the command's.
"""

from __future__ import annotations

import os
import subprocess
import sys

MARKER = "TELLER-BENCH-PEAK-RSS"


def main(argv: list[str]) -> int:  # pragma: no cover - exercised through the verify figure
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    sys.stdout.flush()
    print(f"{MARKER} {int(usage.ru_maxrss) * 1024}", flush=True)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
