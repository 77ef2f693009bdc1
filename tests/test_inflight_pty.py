"""The real app in a real terminal (tmux, as tests/test_kiosk_pty.py): a cash-in killed with SIGKILL between
the confirmation and the receipt, then a restart (the app says whether it was posted, and the ledger
agrees; nothing is posted twice); and read-only, full and corrupt databases (one clear sentence, never a
traceback; the CLI prints one line).

The branch is ``teller demo --no-run --customers 50``, built once and copied per test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]

REPO = Path(__file__).resolve().parent.parent
TELLER1 = ("teller1", "teller-demo-pass", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")  # printed by `teller demo`
DISK_FULL = "The disk holding the database is full"
READ_ONLY = "The database can only be read, not written"
CORRUPT = "The database file is damaged"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "TELLER_HOME": str(home), "TELLER_LOCALE": "en", "TELLER_TERMINAL_ID": "T07",
           "PYTHONPATH": str(REPO), "TERM": "xterm-256color", **extra}
    if "TELLER_DATABASE_URL" not in extra:
        env.pop("TELLER_DATABASE_URL", None)
    return env


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("demo") / "home"
    subprocess.run([sys.executable, "-m", "screens.cli", "demo", "--no-run", "--customers", "50"], env=_env(home),
                   check=True, capture_output=True, timeout=300, cwd=REPO)
    return home


class Terminal:
    """One tmux server with one window running the app."""

    def __init__(self, tmp: Path) -> None:
        self.socket = f"inflight-{os.getpid()}-{tmp.name}"[:80]
        self.session = "app"
        self.started = False

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True,
                              timeout=10).stdout

    def start(self, env: dict[str, str]) -> None:
        names = ("TELLER_HOME", "TELLER_LOCALE", "TELLER_TERMINAL_ID", "PYTHONPATH", "TERM", "TELLER_DATABASE_URL")
        assigns = [f"{k}={env[k]}" for k in names if k in env]
        # -u: the test process may carry COLUMNS/LINES (pytest plugins set 80x24), which would make
        # Textual ignore the real 120x60 terminal.
        command = " ".join(["exec", "env", "-u", "COLUMNS", "-u", "LINES", *assigns, sys.executable, "-m",
                            "screens.cli"])
        if not self.started:
            self.run("new-session", "-d", "-s", self.session, "-x", "120", "-y", "60", command)
            self.run("set-option", "-t", self.session, "remain-on-exit", "on")
            self.started = True
        else:
            self.run("respawn-pane", "-k", "-t", self.session, command)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def pid(self) -> int:
        return int(self.run("list-panes", "-t", self.session, "-F", "#{pane_pid}").split()[0])

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", "-t", self.session, key)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.session, "-l", text)

    def wait_for(self, test: Callable[[str], bool], what: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            assert "Traceback" not in text, f"a traceback on screen while waiting for {what}:\n{text}"
            if test(text):
                return text
            time.sleep(0.1)  # polling a real terminal; never a timing assertion
        size = self.run("display", "-p", "-t", self.session, "#{window_width}x#{window_height}").strip()
        raise AssertionError(f"timed out waiting for {what} ({size}); screen:\n{text}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Terminal]:
    terminal = Terminal(tmp_path)
    yield terminal
    terminal.close()


def sign_in(term: Terminal, offset_steps: int = 0) -> None:
    user, password, secret = TELLER1
    term.wait_for(lambda t: "Sign in" in t and "Opening the database" not in t, "the sign-in screen")
    term.type(user)
    term.wait_for(lambda t: user in t, "the user name typed")
    term.keys("Enter")  # to the password field: keys sent together would land before the focus moves
    time.sleep(0.5)
    term.type(password)
    term.wait_for(lambda t: "•" * len(password) in t, "the password typed (masked)")
    assert password not in term.screen()
    term.keys("Enter")
    time.sleep(0.5)
    term.type(pyotp.TOTP(secret).at(time.time() + 30 * offset_steps))  # a later step: codes are single-use
    time.sleep(0.3)
    term.keys("Enter")


def one_customer(db: Path) -> tuple[str, str]:
    """(phone, wallet number) of a customer with exactly one active wallet."""
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT c.phone, min(w.number) FROM customer c JOIN wallet w ON w.customer_id = c.id "
                           "GROUP BY c.id HAVING count(*) = 1 AND min(w.status) = 'active' ORDER BY c.id").fetchone()
    return str(row[0]), str(row[1])


def entries_with_key(db: Path, key: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return [(str(r[0]), str(r[1])) for r in conn.execute(
            "SELECT reference, kind FROM journal_entry WHERE idempotency_key = ?", (key,))]


def count_entries(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM journal_entry").fetchone()[0])


def _kill_app(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)  # the pane runs the app itself (exec)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                break
        except OSError:
            break
        time.sleep(0.02)


@pytest.mark.parametrize("lock", [False, True], ids=["posting-free", "posting-waiting-for-the-write-lock"])
def test_sigkill_between_confirm_and_receipt(demo_home: Path, tmp_path: Path, term: Terminal, lock: bool) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    db = home / "teller.db"
    phone, wallet = one_customer(db)
    before = count_entries(db)
    env = _env(home)
    term.start(env)
    sign_in(term)
    term.wait_for(lambda t: "Find customer" in t, "the home screen")
    term.keys("F5")  # cash in: find the customer first
    term.wait_for(lambda t: "Cash in: find the customer" in t, "the lookup for a cash-in")
    time.sleep(0.5)  # keys typed before the search field has the focus would be lost
    term.type(phone)
    term.wait_for(lambda t: phone in t, "the customer in the results")
    term.keys("Enter")
    shown = term.wait_for(lambda t: "optional" in t or ("f5 Cash in" in t and wallet in t), "the customer")
    if "optional" not in shown:  # the customer screen without the form on top: F5 opens it
        term.keys("F5")
    term.wait_for(lambda t: "optional" in t and wallet in t, "the cash-in form")  # the memo's placeholder
    time.sleep(0.3)
    term.type("123")
    term.wait_for(lambda t: "123" in t, "the amount typed")
    term.keys("Enter")
    term.wait_for(lambda t: "Confirm" in t and "123.00" in t, "the confirmation")
    journal = home / "inflight" / "T07"
    holder: sqlite3.Connection | None = None
    if lock:  # another writer holds the lock: the posting waits for it, and is killed waiting
        holder = sqlite3.connect(db, isolation_level=None, timeout=10)
        holder.execute("BEGIN IMMEDIATE")
    try:
        term.keys("Enter")  # confirm ...
        deadline = time.monotonic() + 20
        while not list(journal.glob("*.json")):  # ... the key is written down before sending ...
            assert time.monotonic() < deadline, term.screen()
            time.sleep(0.001)
        _kill_app(term.pid())  # ... and the terminal dies before any receipt
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    (record,) = [json.loads(p.read_text()) for p in journal.glob("*.json")]
    key = record["key"]
    posted = entries_with_key(db, key)
    if lock:
        assert posted == []  # it never got the lock
    assert len(posted) <= 1

    term.start(env)  # restart, and the same person signs in
    sign_in(term, offset_steps=1)
    text = term.wait_for(lambda t: "Postings interrupted at this terminal" in t, "the report of the interruption")
    posted = entries_with_key(db, key)  # the ledger now, after the restart
    assert len(posted) <= 1
    if posted:
        reference = posted[0][0]
        assert f"{reference} was posted: Cash in of CN¥123.00, wallet {wallet}" in text
        term.keys("p")  # reprint
        term.wait_for(lambda t: f"Receipt {reference}" in t, "the reprinted receipt")
        term.keys("Escape")
        term.wait_for(lambda t: "Postings interrupted" in t, "back to the report")
    else:
        assert f"Cash in of CN¥123.00, wallet {wallet} was not posted" in text
    term.keys("Escape")
    term.wait_for(lambda t: "Postings interrupted" not in t and "Find customer" in t, "the home screen")
    deadline = time.monotonic() + 10
    while list(journal.glob("*.json")):  # told once: forgotten
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert count_entries(db) == before + len(posted)  # nothing posted twice, nothing else posted


# -- storage faults ------------------------------------------------------------------------------
@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(point)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def fill(directory: Path) -> None:
    """Write until the filesystem refuses (ENOSPC)."""
    with (directory / "filler").open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError:
            pass


def cli_line(env: dict[str, str], *argv: str) -> str:
    out = subprocess.run([sys.executable, "-m", "screens.cli", *argv], env=env, capture_output=True, text=True,
                         timeout=60, cwd=REPO)
    assert out.returncode == 1, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    return lines[0]


def startup_sentence(term: Terminal, env: dict[str, str], words: str) -> str:
    term.start(env)
    text = term.wait_for(lambda t: "cannot start" in t, "the start-up error screen")
    flat = " ".join(" ".join(line.strip(" │") for line in text.splitlines()).split())
    assert words in flat, text
    assert "teller db upgrade" not in flat and "OperationalError" not in flat and "DatabaseError" not in flat
    return flat


def test_corrupt_database(demo_home: Path, tmp_path: Path, term: Terminal) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    (home / "teller.db").write_bytes(os.urandom(200_000))
    env = _env(home)
    flat = startup_sentence(term, env, CORRUPT)
    assert "teller db restore FILE" in flat
    ref = flat.split("Reference ", 1)[1].split(".", 1)[0]
    assert f"reference {ref}" in (home / "logs" / "teller.log").read_text()  # details in the log
    assert cli_line(env, "db", "status").startswith(f"teller: {CORRUPT}")


def test_read_only_database(demo_home: Path, tmp_path: Path, term: Terminal,
                            tmpfs: Callable[[str], Path]) -> None:
    disk = tmpfs("8m")
    shutil.copyfile(demo_home / "teller.db", disk / "teller.db")
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True, capture_output=True)
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    env = _env(home, TELLER_DATABASE_URL=f"sqlite:///{disk / 'teller.db'}")
    startup_sentence(term, env, READ_ONLY)
    assert cli_line(env, "db", "status").startswith(f"teller: {READ_ONLY}")


def test_full_disk_at_start_up(demo_home: Path, tmp_path: Path, term: Terminal,
                               tmpfs: Callable[[str], Path]) -> None:
    disk = tmpfs("4m")
    shutil.copyfile(demo_home / "teller.db", disk / "teller.db")
    fill(disk)
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    env = _env(home, TELLER_DATABASE_URL=f"sqlite:///{disk / 'teller.db'}")
    startup_sentence(term, env, DISK_FULL)
    assert cli_line(env, "ledger", "verify").startswith(f"teller: {DISK_FULL}")


def test_disk_fills_up_while_the_app_runs(demo_home: Path, tmp_path: Path, term: Terminal,
                                          tmpfs: Callable[[str], Path]) -> None:
    disk = tmpfs("8m")
    shutil.copyfile(demo_home / "teller.db", disk / "teller.db")
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    env = _env(home, TELLER_DATABASE_URL=f"sqlite:///{disk / 'teller.db'}")
    term.start(env)
    term.wait_for(lambda t: "Sign in" in t and "Opening the database" not in t, "the sign-in screen")
    fill(disk)  # the disk fills up under the running app
    sign_in(term)  # signing in writes (the code's step, the audit record)
    text = term.wait_for(lambda t: DISK_FULL in " ".join(t.split()), "the disk-full sentence")
    assert "OperationalError" not in text and "sqlite3" not in text
    flat = " ".join(text.split())
    if "Reference " in flat:
        ref = flat.split("Reference ", 1)[1][:6]
        assert f"reference {ref}" in (home / "logs" / "teller.log").read_text()
