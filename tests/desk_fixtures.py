"""Helpers for the teller-desk tests: staff, customers, wallets, open drawers, real approvals.

The ``desk`` fixture is the real core (``make_services`` with the test's database and clock and an
ephemeral secret box): the tellers and the supervisor work from drawers opened with a float
(``open_drawer_for_setup``), an approval is a real four-eyes approval at the counter
(:meth:`Desk.approve`: a supervisor's password and a fresh authenticator code), and "tomorrow"
is the next business day, reached the way a branch gets there (:meth:`Desk.next_business_day`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pyotp
import pytest

from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth import passwords
from teller_tui.auth.secretbox import SecretBox
from teller_tui.auth.service import system_actor
from teller_tui.branch.drawer_lookup import require_open_drawer
from teller_tui.branch.setup import open_drawer_for_setup
from teller_tui.branch.views import SupervisorCredentials
from teller_tui.common.clock import FakeClock
from teller_tui.common.money import Money
from teller_tui.common.reference import make_change
from teller_tui.common.settings import Settings, load_settings
from teller_tui.desk.cash import CashService
from teller_tui.desk.customers import CustomerService
from teller_tui.ledger import Ledger
from teller_tui.models import Customer, Staff
from teller_tui.services import Services, make_services
from teller_tui.wallets.service import WalletService

_seq = count(1)

#: The float each drawer opens with: large enough that no test runs a drawer dry.
DRAWER_FLOAT = Money.of("1000000")
#: Supervisors with passwords and authenticators: super1 approves and countersigns; super2
#: countersigns super1's own drawer (nobody approves their own work).
SUPERVISORS = {"super1": ("super1 long passphrase", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
               "super2": ("super2 long passphrase", "KRSXG5CTMVRXEZLUKN2XAZLSONSWG4TF")}


@dataclass
class Desk:
    services: Services
    db: Any
    clock: FakeClock
    settings: Settings
    ledger: Ledger
    audit: AuditTrail
    customers: CustomerService
    wallets: WalletService
    cash: CashService
    teller: Actor
    teller2: Actor
    supervisor: Actor

    def staff(self, username: str, role: str = "teller", branch: str = "B001") -> Actor:
        with self.db.write() as s:
            row = Staff(username=username, display_name=username, role=role, branch_code=branch,
                        created_at=self.clock.now())
            s.add(row)
            s.flush()
            return Actor(row.id, username, "T01", role, branch)

    def customer(self, name: str = "王芳", *, latin: str = "wang fang", phone: str | None = None,
                 id_number: str | None = None, branch: str = "B001") -> int:
        n = next(_seq)
        with self.db.write() as s:
            c = Customer(customer_no=f"C{n:09d}", full_name=name, name_latin=latin,
                         phone=phone or f"139{n:08d}", id_type="prc_id" if id_number else None,
                         id_number=id_number, branch_code=branch, created_at=self.clock.now())
            s.add(c)
            s.flush()
            assert c.id is not None
            return c.id

    def wallet(self, customer_id: int, tier: int = 1) -> int:
        return self.wallets.open_wallet_now(self.teller, customer_id, tier).wallet_id

    def fund_drawer(self, actor: Actor, amount: Money = DRAWER_FLOAT) -> None:
        """Open ``actor``'s drawer for the business day with ``amount`` from the vault."""
        open_drawer_for_setup(self.services, actor, amount)

    # -- supervisors -------------------------------------------------------------------------------
    def credentials(self, not_for: Actor) -> SupervisorCredentials:
        """A supervisor other than ``not_for``, with a fresh code (the clock moves one TOTP step)."""
        username = "super2" if not_for.username == "super1" else "super1"
        password, secret = SUPERVISORS[username]
        self.clock.advance(seconds=31)
        return SupervisorCredentials(username, password, pyotp.TOTP(secret).at(self.clock.now()))

    def approve(self, actor: Actor, spec: ApprovalSpec, **report: str) -> int:
        """A real four-eyes approval at the counter for ``actor``'s request; the approval id."""
        creds = self.credentials(actor)
        return self.services.approvals.approve_at_counter(actor, spec, creds.username, creds.password, creds.code,
                                                          **report).approval_id

    # -- days --------------------------------------------------------------------------------------
    def next_business_day(self, days: int = 1) -> None:
        """Close the business day the way a branch does (each drawer counted and closed with a
        supervisor's countersignature, the day closed), move the clock ``days`` on and open every
        drawer again. Limits and same-day rules follow the business day, not the calendar."""
        drawers = self.services.drawers
        holders = [self.teller, self.teller2, self.supervisor]
        for actor in holders:
            with self.db.read() as s:
                bal = self.ledger.balance(s, require_open_drawer(s, actor).account_id)
            held = bal.debits_posted - bal.credits_posted
            # Cash comes in tenths at the smallest: fen stay behind as a (countersigned) difference.
            drawers.submit_blind_count(actor, make_change(Money(held - held % 10)))
            drawers.close_drawer(actor, self.credentials(actor), write_report=False)
        drawers.close_business_day(self.supervisor, self.credentials(self.supervisor), write_report=False)
        self.clock.advance(timedelta(days=days))
        for actor in holders:
            self.fund_drawer(actor)


@pytest.fixture
def desk(db: Any, clock: FakeClock, tmp_path: Path) -> Desk:
    settings = load_settings(home=tmp_path / "home", locale="en")
    services = make_services(settings, clock=clock, database=db, box=SecretBox.ephemeral())
    d = Desk(services, db, clock, settings, services.ledger, services.audit, services.customers,
             services.wallets, services.cash, None, None, None)  # type: ignore[arg-type]
    d.teller = d.staff("teller1")
    d.teller2 = d.staff("teller2")
    with passwords.test_parameters():
        for username, (password, secret) in SUPERVISORS.items():
            view, _otp = services.auth.create_staff(system_actor(settings), username, username, "supervisor",
                                                    password=password, totp_secret=secret)
            if username == "super1":
                d.supervisor = view.actor("T01")
    for actor in (d.teller, d.teller2, d.supervisor):
        d.fund_drawer(actor)
    return d
