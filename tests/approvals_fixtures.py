"""Helpers for the approval tests: full services on the test database, staff with known TOTP
secrets (tests/auth_fixtures), a customer with a class-1 wallet and funded drawers."""

from __future__ import annotations

from datetime import date

from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from teller_tui.audit.trail import Actor
from teller_tui.auth.secretbox import SecretBox
from teller_tui.common.clock import FakeClock
from teller_tui.common.money import Money

from auth_fixtures import SUP_PW, code_for, make_test_services, seed_staff

ZHAO_SECRET = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"
ZHAO_PW = "another supervisor phrase 7"
_seq = count(1)


@dataclass
class Env:
    services: Any
    clock: FakeClock
    teller: Actor  # wang
    supervisor: Actor  # li, signed in at T02
    supervisor2: Actor  # zhao
    customer_id: int
    wallet_id: int
    wallet_number: str

    @property
    def approvals(self) -> Any:
        return self.services.approvals

    @property
    def cash(self) -> Any:
        return self.services.cash

    def li_code(self, offset: int = 0) -> str:
        from auth_fixtures import SECRETS

        return code_for(SECRETS["li"], self.clock, offset)

    def next_step(self) -> None:
        """Move to the next TOTP step, so a fresh (unused) code exists."""
        self.clock.advance(seconds=30)

    def key(self) -> str:
        return f"test-{next(_seq)}"

    def wallet_balance(self) -> Any:
        from teller_tui.models import Wallet

        with self.services.db.read() as s:
            w = s.get(Wallet, self.wallet_id)
            return self.services.ledger.balance(s, w.account_id)

    def audit_actions(self) -> list[str]:
        from sqlalchemy import select

        from teller_tui.models import AuditRecord

        with self.services.db.read() as s:
            return list(s.execute(select(AuditRecord.action).order_by(AuditRecord.seq)).scalars())


def make_customer(services: Any, clock: FakeClock, teller: Actor, name: str = "李建国") -> tuple[int, int, str]:
    from teller_tui.models import Customer

    n = next(_seq)
    with services.db.write() as s:
        c = Customer(customer_no=f"C{n:09d}", full_name=name, name_latin="li jianguo", phone=f"139{n:08d}",
                     id_type="prc_id", id_number=f"11010519491231{n:03d}X"[:18], nationality="CHN",
                     occupation="engineer", address="北京市朝阳区1号", branch_code="B001", created_at=clock.now(),
                     birth_date=date(1949, 12, 31))
        s.add(c)
        s.flush()
        cid = c.id
    info = services.wallets.open_wallet_now(teller, cid, 1)
    return cid, info.wallet_id, info.number


def open_drawer(services: Any, clock: FakeClock, actor: Actor, supervisor_secret: str = "",
                supervisor: str = "zhao", password: str = "") -> None:
    """Stock the vault (once), open the business day and ``actor``'s drawer with a 10,000.00 float.

    The countersign uses zhao's code, so li's codes stay unused for the approval tests."""
    from teller_tui.branch.views import SupervisorCredentials

    system = Actor(None, "system:test", "T01", "system", actor.branch_code)
    services.drawers.receive_into_vault(system, {"note:100": 1000}, source="equity",
                                        idempotency_key=f"vault-{next(_seq)}")
    services.drawers.open_business_day(system)
    clock.advance(seconds=30)
    creds = SupervisorCredentials(supervisor, password or ZHAO_PW,
                                  code_for(supervisor_secret or ZHAO_SECRET, clock))
    services.drawers.open_drawer(actor, {"note:100": 100}, creds)


def build_env(home: Path, db_path: Path, clock: FakeClock, database: Any = None) -> Env:
    from teller_tui.auth.service import system_actor

    services = make_test_services(home, db_path, clock, database=database, box=SecretBox.ephemeral(), locale="en")
    staff = seed_staff(services)
    zhao, _otp = services.auth.create_staff(system_actor(services.settings), "zhao", "Zhao", "supervisor",
                                            password=ZHAO_PW, totp_secret=ZHAO_SECRET)
    teller = staff["wang"].actor("T01")
    sup = staff["li"].actor("T02")
    open_drawer(services, clock, teller)
    cid, wid, number = make_customer(services, clock, teller)
    return Env(services, clock, teller, sup, zhao.actor("T03"), cid, wid, number)


@pytest.fixture
def env(db: Any, db_path: Path, clock: FakeClock, tmp_path: Path) -> Env:
    return build_env(tmp_path / "home", db_path, clock, database=db)


__all__ = ["SUP_PW", "ZHAO_PW", "ZHAO_SECRET", "Env", "build_env", "env", "open_drawer", "make_customer"]
