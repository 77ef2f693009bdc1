"""The real app in a real terminal (tmux): a whole sign-in sent in ONE ``send-keys`` lands field
by field (screens/keyroute.py), on the demo database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]

REPO = Path(__file__).resolve().parent.parent


class Tmux:
    def __init__(self, tmp: Path) -> None:
        self.socket = f"burst-test-{os.getpid()}-{tmp.name}"[:80]
        self.session = "desk"

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True,
                              timeout=10).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def wait_for(self, test: Callable[[str], bool], what: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if test(text):
                return text
            time.sleep(0.1)  # polling a real terminal; never a timing assertion
        raise AssertionError(f"timed out waiting for {what}; screen:\n{text}")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[Tmux, str]]:
    home = tmp_path / "home"
    env = {**os.environ, "TELLER_HOME": str(home), "TELLER_LOCALE": "en", "PYTHONPATH": str(REPO)}
    env.pop("TELLER_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-m", "teller_tui.cli", "demo", "--no-run", "--customers", "20"],
                         env=env, check=True, capture_output=True, text=True, timeout=120, cwd=REPO).stdout
    secret = next(line.split()[-1] for line in out.splitlines() if line.strip().startswith("teller1 "))
    tmux = Tmux(tmp_path)
    command = " ".join(["env", f"TELLER_HOME={home}", "TELLER_LOCALE=en", f"PYTHONPATH={REPO}",
                        "TERM=xterm-256color", sys.executable, "-m", "screens.cli"])
    tmux.run("new-session", "-d", "-s", tmux.session, "-x", "80", "-y", "24", command)
    tmux.run("set-option", "-t", tmux.session, "remain-on-exit", "on")
    try:
        yield tmux, secret
    finally:
        subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], capture_output=True, timeout=10)


def test_whole_sign_in_in_one_send_keys(desk: tuple[Tmux, str]) -> None:
    tmux, secret = desk
    tmux.wait_for(lambda t: "User name" in t, "the sign-in screen")  # Enter before the database is open waits for it
    code = pyotp.TOTP(secret).now()
    tmux.run("send-keys", "-t", tmux.session, "teller1", "Tab", "teller-demo-pass", "Tab", code, "Enter")
    home = tmux.wait_for(lambda t: "Find customer" in t, "the home screen")
    assert "teller1" in home, home
    assert "teller-demo-pass" not in home


def test_sign_in_then_desk_keys_in_one_send_keys(desk: tuple[Tmux, str]) -> None:
    """F2 and digits typed behind the sign-in reach the desk (not the sign-in screen, where F2 switches
    the language); then Esc and Ctrl+K in one send-keys open the case queue."""
    tmux, secret = desk
    tmux.wait_for(lambda t: "User name" in t, "the sign-in screen")
    code = pyotp.TOTP(secret).now()
    tmux.run("send-keys", "-t", tmux.session, "teller1", "Tab", "teller-demo-pass", "Tab", code, "Enter", "F2", "139")
    lookup = tmux.wait_for(lambda t: "Find customer" in t and "139" in t, "the lookup with 139 typed")
    assert "查找客户" not in lookup  # the language did not switch
    tmux.run("send-keys", "-t", tmux.session, "Escape", "C-k")
    tmux.wait_for(lambda t: "Open cases" in t, "the case queue")
