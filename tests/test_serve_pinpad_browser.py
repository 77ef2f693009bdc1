"""`teller serve --pinpad T01` on loopback, driven by headless Chromium: the customer display in a
browser pairs with terminal T01 (the one-time code the teller's terminal made), shows the teller's
cash-out request and takes the customer's PIN; the request is then granted in the database.

The page's terminal text is read as in tests/test_serve_browser.py (the websocket's byte stream).
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from test_serve_browser import CAPTURE, REPO, TELLER, _free_port, _prepare, plain

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                                   reason="Chromium is not installed")]
PIN = "135790"


def _services(home: Path) -> Any:
    from teller_tui.common.clock import SystemClock
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services

    return make_services(load_settings(home=home, locale="en", terminal_id="T01", counter_consent=True),
                         clock=SystemClock())


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    home = tmp_path / "home"
    _prepare(home)
    from teller_tui.auth import passwords
    from teller_tui.models import Customer

    services = _services(home)
    try:
        with services.db.write() as s:
            s.execute(update(Customer).values(pin_hash=passwords.hash_pin(PIN)))
    finally:
        services.close()
    port = _free_port()
    env = {**os.environ, "TELLER_HOME": str(home), "TELLER_LOCALE": "en"}
    env.pop("TELLER_DATABASE_URL", None)
    proc = subprocess.Popen([str(TELLER), "serve", "--port", str(port), "--pinpad", "T01"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"teller serve did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
                time.sleep(0.1)  # polling a starting server
        yield url, home
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_pinpad_command() -> None:
    from screens.cli import app_command, register_serve
    from teller_tui.cli import build_parser

    args = build_parser([register_serve]).parse_args(["serve", "--pinpad", "T01"])
    assert args.pinpad == "T01" and args.host == "127.0.0.1"
    assert app_command(kiosk=False, pinpad="T01").endswith("screens.cli pinpad --pair T01")


def test_customer_display_in_the_browser_pairs_and_takes_the_pin(served: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    from teller_tui.audit.trail import Actor
    from teller_tui.common.money import Money
    from teller_tui.consent.spec import ConsentSpec
    from teller_tui.models import Customer, Staff, Wallet

    url, home = served
    services = _services(home)
    try:
        with services.db.read() as s:
            staff = s.execute(select(Staff).where(Staff.username == "teller1")).scalar_one()
            teller = Actor(staff.id, "teller1", "T01", "teller", staff.branch_code)
            c = s.execute(select(Customer)).scalar_one()
            w = s.execute(select(Wallet).where(Wallet.customer_id == c.id)).scalar_one()
            cid, wid, number = c.id, w.id, w.number
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.add_init_script(CAPTURE)
                page.goto(url)

                def text() -> str:
                    return plain(page.evaluate("window.__termText || ''"))

                def wait_for(needle: str, since: int = 0, timeout: float = 30.0) -> None:
                    deadline = time.monotonic() + timeout
                    while needle not in plain(page.evaluate("window.__termText || ''")[since:]):
                        if time.monotonic() > deadline:
                            raise AssertionError(f"{needle!r} never appeared; last output: {text()[-1500:]!r}")
                        page.wait_for_timeout(100)

                wait_for("Customer display for terminal T01")
                code = services.consent.start_pairing(teller)
                # Type the code until the display says it is paired (a key can go missing while the
                # app starts: the field is cleared and the code typed again).
                for attempt in range(3):
                    mark = len(page.evaluate("window.__termText"))
                    page.keyboard.type(code, delay=80)
                    page.keyboard.press("Enter")
                    try:
                        wait_for("Paired", since=mark, timeout=10)
                        break
                    except AssertionError:
                        assert attempt < 2, "the display never paired"
                        for _ in range(8):
                            page.keyboard.press("Backspace")
                assert services.consent.display_paired(teller)
                spec = ConsentSpec("cash_out", cid, wid, wallet=number[-4:], amount=Money.of("100"), binding="b1")
                ticket = services.consent.request(teller, spec)
                assert ticket.display_paired
                wait_for("Cash withdrawal from your wallet")
                page.wait_for_timeout(300)
                page.keyboard.type(PIN, delay=80)
                page.keyboard.press("Enter")
                deadline = time.monotonic() + 20
                while services.consent.status(teller, ticket.request_id).status != "granted":
                    assert time.monotonic() < deadline, f"never granted; last output: {text()[-1500:]!r}"
                    page.wait_for_timeout(200)
                wait_for("Thank you")
            finally:
                browser.close()
    finally:
        services.close()
