"""Helpers for the drawer tests: services with staff, a stocked vault, a customer wallet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from auth_fixtures import ADMIN_PW, SECRETS, SUP_PW, code_for, make_test_services, seed_staff
from teller_tui.audit.trail import Actor
from teller_tui.common.clock import FakeClock
from teller_tui.branch.views import SupervisorCredentials

_seq = count(1)

#: 10,000.00 of notes and coins: the vault stock used by most tests.
STOCK = {"note:100": 80, "note:50": 20, "note:20": 25, "note:10": 27, "note:5": 20, "note:1": 50, "coin:1": 50,
         "coin:0.5": 40, "coin:0.1": 100}
#: A 2,000.00 opening float.
FLOAT = {"note:100": 15, "note:50": 6, "note:20": 5, "note:10": 5, "note:5": 4, "note:1": 10, "coin:1": 10, "coin:0.5": 10,
         "coin:0.1": 50}


@dataclass
class Branch:
    services: Any
    clock: FakeClock
    teller: Actor
    teller2: Actor
    supervisor: Actor
    system: Actor

    def sup(self, offset: int = 0) -> SupervisorCredentials:
        """Fresh supervisor credentials: the clock moves one TOTP step so the code is unused."""
        self.clock.advance(timedelta(seconds=31))
        return SupervisorCredentials("li", SUP_PW, code_for(SECRETS["li"], self.clock, offset))

    def admin_creds(self) -> SupervisorCredentials:
        """The administrator's fresh credentials (approves what a supervisor asks, e.g. the day's close)."""
        self.clock.advance(timedelta(seconds=31))
        return SupervisorCredentials("admin", ADMIN_PW, code_for(SECRETS["admin"], self.clock))

    def customer_wallet(self, tier: int = 1) -> int:
        from teller_tui.models import Customer

        n = next(_seq)
        with self.services.db.write() as s:
            c = Customer(customer_no=f"D{n:09d}", full_name="王芳", name_latin="wang fang", phone=f"139{n:08d}",
                         branch_code="B001", created_at=self.clock.now())
            s.add(c)
            s.flush()
            cid = c.id
        return int(self.services.wallets.open_wallet_now(self.teller, cid, tier).wallet_id)


@pytest.fixture
def branch(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> Branch:
    services = make_test_services(tmp_path / "home", db_path, clock, database=db, locale="en",
                                  over_short_tolerance="5.00")
    staff = seed_staff(services)
    t2, _otp = services.auth.create_staff(
        Actor(None, "system:test", "T01", "system", "B001"), "zhao", "Zhao", "teller",
        password="another long teller password", totp_secret="KRSXG5CTMVRXEZLUKN2XAZLSONSWG4TA")
    b = Branch(services, clock, staff["wang"].actor("T01"), t2.actor("T02"), staff["li"].actor("T01"),
               Actor(None, "system:test", "T01", "system", "B001"))
    services.drawers.receive_into_vault(b.system, STOCK, source="equity")
    return b
