"""Helpers for the onboarding, lifecycle and funding tests: services on the test database, staff,
and a complete, valid onboarding ``data`` dict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from teller_tui.audit.trail import Actor
from teller_tui.common.clock import FakeClock
from teller_tui.wallets.identity import luhn_check_digit, make_prc_id

PIN = "358179"
BIRTH = date(1990, 3, 7)
ID_NUMBER = make_prc_id("110101", BIRTH, 15, "F")


def card_number(body: str = "622202123456789") -> str:
    return body + luhn_check_digit(body)


CARD = card_number()


@dataclass
class Env:
    services: Any
    clock: FakeClock
    teller: Actor
    teller2: Actor
    other_branch: Actor
    supervisor: Actor

    @property
    def onboarding(self) -> Any:
        return self.services.onboarding

    def staff(self, username: str, role: str = "teller", branch: str = "B001") -> Actor:
        from teller_tui.models import Staff

        with self.services.db.write() as s:
            row = Staff(username=username, display_name=username, role=role, branch_code=branch,
                        created_at=self.clock.now())
            s.add(row)
            s.flush()
            return Actor(row.id, username, "T01", role, branch)


APPROVER_PW = "approver-pass-123"
APPROVER_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def counter_approval(env: Env, spec: Any, actor: Any = None) -> int:
    """A real four-eyes approval at the counter: a supervisor with a password and a fresh TOTP code."""
    import pyotp

    from teller_tui.auth.service import system_actor

    auth = env.services.auth
    if not any(v.username == "approver" for v in auth.list_staff()):
        auth.create_staff(system_actor(env.services.settings), "approver", "Approver", "supervisor",
                          password=APPROVER_PW, totp_secret=APPROVER_SECRET)
    env.clock.advance(seconds=31)
    code = pyotp.TOTP(APPROVER_SECRET).at(env.clock.now())
    return env.services.approvals.approve_at_counter(actor or env.teller, spec, "approver", APPROVER_PW,
                                                      code).approval_id


def make_env(db: Any, clock: FakeClock, home: Path) -> Env:
    from teller_tui.services import make_services
    from teller_tui.common.settings import load_settings

    settings = load_settings(home=home, locale="en", database_url="sqlite:///unused.db")
    services = make_services(settings, clock=clock, database=db)
    env = Env(services, clock, None, None, None, None)  # type: ignore[arg-type]
    env.teller = env.staff("teller1")
    env.teller2 = env.staff("teller2")
    env.other_branch = env.staff("far", branch="B002")
    env.supervisor = env.staff("super1", "supervisor")
    # Counter postings (funding) need the branch's business day open (teller_tui.ledger.business_day).
    services.drawers.open_business_day(env.supervisor)
    return env


@pytest.fixture
def env(db: Any, clock: FakeClock, tmp_path: Path) -> Env:
    from teller_tui.auth import passwords

    with passwords.test_parameters():
        yield make_env(db, clock, tmp_path / "home")


def full_data(**over: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from teller_tui.wallets.onboarding import blank_data

    data = blank_data()
    data["identity"].update(doc_type="prc_id", number=ID_NUMBER, expiry="2035-01-01", in_person=True)
    data["personal"].update(full_name="王芳", name_latin="wang fang", address="北京市东城区1号", occupation="教师")
    data["contact"].update(phone="13800138000", phone_confirmed=True)
    data["risk"].update(purpose="payments", monthly="low", pep=False)
    data["tier"].update(tier=1)
    data["funding"].update(kind="card", number=CARD, holder_name="王芳")
    data["security"].update(totp=False)
    data["explanations"].update({k: True for k in data["explanations"]})
    data["review"].update(consent=True)
    for step, values in over.items():
        data[step].update(values)
    return data
