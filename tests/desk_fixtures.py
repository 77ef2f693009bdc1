"""Helpers for the teller-desk tests: staff, customers, wallets, funded drawers."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.desk.cash import CashService
from teller_tui.common.clock import FakeClock
from teller_tui.desk.customers import CustomerService
from teller_tui.ledger import Ledger
from teller_tui.common.settings import load_settings
from teller_tui.wallets.classes import TierTable
from teller_tui.wallets.service import WalletService

_seq = count(1)


@dataclass
class Desk:
    db: Any
    clock: FakeClock
    settings: Any
    ledger: Ledger
    audit: AuditTrail
    customers: CustomerService
    wallets: WalletService
    cash: CashService
    teller: Actor
    teller2: Actor
    supervisor: Actor

    def staff(self, username: str, role: str = "teller", branch: str = "B001") -> Actor:
        from teller_tui.models import Staff

        with self.db.write() as s:
            row = Staff(username=username, display_name=username, role=role, branch_code=branch,
                        created_at=self.clock.now())
            s.add(row)
            s.flush()
            return Actor(row.id, username, "T01", role, branch)

    def customer(self, name: str = "王芳", *, latin: str = "wang fang", phone: str | None = None,
                 id_number: str | None = None, branch: str = "B001") -> int:
        from teller_tui.models import Customer

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

    def fund_drawer(self, actor: Actor, amount: str = "1000000") -> None:
        from teller_tui.ledger import EntryRequest, credit, debit
        from teller_tui.ledger.accounts import AccountKind, equity_code
        from teller_tui.common.money import Money

        with self.db.write() as s:
            drawer = self.cash._drawer_account(s, actor)
            eq = self.ledger.open_account(s, code=equity_code(actor.branch_code), name="Equity",
                                          kind=AccountKind.EQUITY, branch_code=actor.branch_code)
            self.ledger.post(s, EntryRequest(f"fund-{actor.username}-{next(_seq)}", "opening",
                                             (debit(drawer, Money.of(amount)), credit(eq, Money.of(amount))),
                                             None, "T01", actor.branch_code))


class _Approvals:
    """The real approval policy; an ``approval_id`` counts as granted by that staff id (the approval
    flow itself is tested with the approvals feature)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def evaluate(self, facts: Any) -> Any:
        return self.real.evaluate(facts)

    def check(self, session: Any, spec: Any, *, approval_id: int | None = None) -> Any:
        if approval_id is None:
            return self.real.check(session, spec)
        from teller_tui.approvals.workflow import Grant

        return Grant(approval_id, approval_id, tuple(spec.rules))

    def __getattr__(self, name: str) -> Any:
        if name in ("attach_entry", "record_large_value"):
            return lambda *a, **k: None
        return getattr(self.real, name)


class _Cash(CashService):
    """Cash without the drawer-opening ceremony: the drawer is the teller's drawer account."""

    def _drawer_account(self, session: Any, actor: Actor) -> int:
        from teller_tui.ledger.accounts import AccountKind, drawer_code

        return self.ledger.open_account(session, code=drawer_code(actor.branch_code, actor.username),
                                        name=f"Drawer {actor.username}", kind=AccountKind.DRAWER,
                                        branch_code=actor.branch_code)


@pytest.fixture
def desk(db: Any, clock: FakeClock, tmp_path: Path) -> Desk:
    settings = load_settings(home=tmp_path / "home", locale="en")
    ledger, audit = Ledger(clock), AuditTrail(clock)
    d = Desk(db, clock, settings, ledger, audit, CustomerService(db, clock, settings, tiers=TierTable.load()),
             WalletService(db, clock, settings, ledger, audit), _make_cash(db, clock, settings, ledger, audit),
             None, None, None)  # type: ignore[arg-type]
    d.teller = d.staff("teller1")  # noqa
    d.teller2 = d.staff("teller2")
    d.supervisor = d.staff("super1", "supervisor")
    d.fund_drawer(d.teller)
    d.fund_drawer(d.teller2)
    d.fund_drawer(d.supervisor)
    return d


def _make_cash(db: Any, clock: Any, settings: Any, ledger: Ledger, audit: AuditTrail) -> CashService:
    from teller_tui.approvals.workflow import ApprovalPolicy, ApprovalService
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.auth.service import AuthService
    from teller_tui.desk.cash import TellerLimits
    from teller_tui.wallets.classes import TierTable

    auth = AuthService(db, clock, settings, audit, secretbox=SecretBox.ephemeral())
    approvals = ApprovalService(db, clock, settings, ledger, audit, auth=auth, policy=ApprovalPolicy.load())
    return _Cash(db, clock, settings, ledger, audit, tiers=TierTable.load(), teller_limits=TellerLimits.load(),
                 approvals=_Approvals(approvals))  # type: ignore[arg-type]
