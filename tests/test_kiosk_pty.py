"""`teller kiosk` in a real pty (tmux): ^C ^Q ^Z ^\\ do not end, stop or leave the welcome screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]

REPO = Path(__file__).resolve().parent.parent
TELLER = Path(sys.executable).with_name("teller")


class Tmux:
    def __init__(self, tmp: Path) -> None:
        self.socket = f"kiosk-test-{os.getpid()}-{tmp.name}"[:80]
        self.session = "kiosk"

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True,
                              timeout=10).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def pane(self) -> tuple[bool, int]:
        dead, pid = self.run("list-panes", "-t", self.session, "-F", "#{pane_dead} #{pane_pid}").split()
        return dead == "1", int(pid)

    def wait_for(self, test: Callable[[str], bool], what: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if test(text):
                return text
            time.sleep(0.1)  # polling a real terminal; never a timing assertion
        raise AssertionError(f"timed out waiting for {what}; screen:\n{text}")


def _state(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("State:"):
            return line.split()[1]
    return "?"


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Tmux]:
    home = tmp_path / "home"
    env = {**os.environ, "TELLER_HOME": str(home), "TELLER_LOCALE": "en", "TELLER_TERMINAL_ID": "K09"}
    env.pop("TELLER_DATABASE_URL", None)
    subprocess.run([str(TELLER), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60, cwd=REPO)
    tmux = Tmux(tmp_path)
    command = " ".join(["env", f"TELLER_HOME={home}", "TELLER_LOCALE=en", "TELLER_TERMINAL_ID=K09",
                        "TERM=xterm-256color", str(TELLER), "kiosk"])
    tmux.run("new-session", "-d", "-s", tmux.session, "-x", "120", "-y", "40", command)
    tmux.run("set-option", "-t", tmux.session, "remain-on-exit", "on")
    try:
        yield tmux
    finally:
        subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], capture_output=True, timeout=10)


def test_keyboard_signals_and_quit_keys_do_not_end_the_kiosk(kiosk: Tmux) -> None:
    ready = kiosk.wait_for(lambda t: "Welcome" in t and "Starting" not in t, "the welcome screen")
    assert "English" in ready
    dead, pid = kiosk.pane()
    assert not dead
    for key in ("C-c", "C-q", "C-z", "C-\\", "C-p"):
        kiosk.run("send-keys", "-t", kiosk.session, key)
        text = kiosk.wait_for(lambda t: "Welcome" in t, f"the welcome screen after {key}", timeout=5)
        assert "English" in text
        dead, pid_now = kiosk.pane()
        assert not dead and pid_now == pid, key
        assert _state(pid) not in ("T", "t", "Z"), f"kiosk stopped or gone after {key}"
    # Still alive AND still taking input: Enter on the focused language button opens the sign-in.
    kiosk.run("send-keys", "-t", kiosk.session, "Right")
    # The focused button has a heavy frame: wait until it is around "English" before Enter,
    # since keys that arrive together are dispatched before a focus change lands.
    kiosk.wait_for(lambda t: any("English" in line and line.rstrip(" ║").endswith("┃") for line in t.splitlines()),
                   "focus on English")
    kiosk.run("send-keys", "-t", kiosk.session, "Enter")
    kiosk.wait_for(lambda t: "Wallet PIN" in t, "the sign-in screen")
    # Signals sent to the process from outside the keyboard path are ignored as well.
    import signal

    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
        os.kill(pid, sig)
    kiosk.run("send-keys", "-t", kiosk.session, "Escape")
    kiosk.wait_for(lambda t: "Welcome" in t, "the welcome screen after Escape")
    dead, _pid = kiosk.pane()
    assert not dead and _state(pid) not in ("T", "t", "Z")
