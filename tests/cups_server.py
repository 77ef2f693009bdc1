"""A private CUPS scheduler for tests: its own config, spool, state and log under a temporary
directory, listening on a free loopback port, started as the current user (``cupsd -f -c -s``; CI
runs as root, where cupsd runs filters and backends as user ``lp``, so the directory is a fresh
0755 one under the system temp dir, not pytest's 0700 one). Queues are added with ``lpadmin -h``.

``start_cupsd()`` -> :class:`Cupsd` (``server`` is ``127.0.0.1:PORT``), or ``pytest.skip`` with
the reason where cupsd or lpadmin is not installed. ``stop()`` ends that one process (by its pid)
and removes the directory.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["Cupsd", "start_cupsd"]

_CUPSD = ("/usr/sbin/cupsd", "/usr/local/sbin/cupsd")


@dataclass
class Cupsd:
    root: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def lpadmin(self, *args: str) -> None:
        done = subprocess.run(["lpadmin", "-h", self.server, *args], capture_output=True, timeout=30)
        if done.returncode != 0:
            raise AssertionError(f"lpadmin {' '.join(args)}: {done.stderr.decode(errors='replace')}")

    def add_queue(self, name: str, device: str, *options: str) -> None:
        self.lpadmin("-p", name, "-v", device, "-E", *options)

    def log(self) -> str:
        path = self.root / "log" / "error_log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: Test backends (``fail-paper:/``, ``fail-abort:/``): a printer that reports it is out of paper and
#: stops, and one whose job fails (aborted under printer-error-policy abort-job).
BACKENDS = {
    "fail-paper": "#!/bin/sh\n[ $# -eq 0 ] && exit 0\ncat >/dev/null\n"
                  "echo 'STATE: +media-empty-error' >&2\necho 'ERROR: out of paper' >&2\nexit 4\n",
    "fail-abort": "#!/bin/sh\n[ $# -eq 0 ] && exit 0\ncat >/dev/null\necho 'ERROR: device error' >&2\nexit 1\n",
}


def _server_bin(root: Path) -> Path:
    """/usr/lib/cups with the test backends added (links to the real filters and backends)."""
    real = Path("/usr/lib/cups")
    out = root / "serverbin"
    (out / "backend").mkdir(parents=True, exist_ok=True)
    for entry in real.iterdir():
        if entry.name != "backend":
            (out / entry.name).symlink_to(entry)
    for entry in (real / "backend").iterdir():
        (out / "backend" / entry.name).symlink_to(entry)
    for name, script in BACKENDS.items():
        path = out / "backend" / name
        path.write_text(script)
        path.chmod(0o700)  # cupsd runs a backend without "other" permissions as root, like the real usb one
    for d in (out, out / "backend"):
        d.chmod(0o755)
    return out


def start_cupsd() -> Cupsd:
    cupsd = shutil.which("cupsd") or next((p for p in _CUPSD if Path(p).exists()), None)
    if cupsd is None or shutil.which("lpadmin") is None or shutil.which("lp") is None:
        pytest.skip("CUPS is not installed here (no cupsd/lpadmin/lp: apt-get install cups cups-bsd); "
                    "the lp path is tested with a recording lp")
    port = _free_port()
    root = Path(tempfile.mkdtemp(prefix="teller-cupsd-"))
    for sub in ("spool", "cache", "state", "log", "ppd"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    (root / "spool").chmod(0o1777)
    (root / "cupsd.conf").write_text(f"""Listen 127.0.0.1:{port}
LogLevel info
DefaultAuthType None
Browsing Off
WebInterface No
<Location />
  Order allow,deny
  Allow from 127.0.0.1
</Location>
<Location /admin>
  Order allow,deny
  Allow from 127.0.0.1
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
""")
    (root / "cups-files.conf").write_text(f"""ServerRoot {root}
RequestRoot {root}/spool
CacheDir {root}/cache
StateDir {root}/state
TempDir {root}/spool
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
DataDir /usr/share/cups
ServerBin {_server_bin(root)}
Printcap {root}/printcap
""")
    process = subprocess.Popen([cupsd, "-f", "-c", str(root / "cupsd.conf"), "-s", str(root / "cups-files.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Cupsd(root, port, process)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:  # installed but not starting: a failure, not a skip
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise AssertionError(f"cupsd would not start: {err.strip() or server.log()[-400:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError(f"cupsd did not listen within 20 s: {server.log()[-400:]}")
