"""The composition root: one typed object that wires the core together.

``make_services(settings)`` opens the database (checking pragmas, filesystem and schema), builds
the shared pieces once (secret box, wallet-class table, approval policy, teller and kiosk limits, risk
rules and watch list)
and constructs every service in dependency order, passing each exactly what it needs as required
constructor arguments. The CLI, both apps and the tests all build the core here; nothing else
constructs a service, and no service builds another one, a secret box or a class table itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from teller_tui.approvals.policy import ApprovalPolicy
from teller_tui.approvals.service import ApprovalService
from teller_tui.audit.trail import AuditTrail
from teller_tui.auth.secretbox import SecretBox
from teller_tui.auth.service import AuthService
from teller_tui.branch.business_day import BusinessDayService
from teller_tui.branch.drawers import DrawerService
from teller_tui.branch.vault import VaultService
from teller_tui.common.clock import Clock, SystemClock
from teller_tui.common.settings import Settings
from teller_tui.db import schema
from teller_tui.db.engine import Database, make_database
from teller_tui.desk.cash import CashService
from teller_tui.desk.customers import CustomerService
from teller_tui.desk.teller_limits import TellerLimits
from teller_tui.kb.service import KnowledgeBaseService
from teller_tui.kiosk.limits import KioskLimits
from teller_tui.kiosk.pins import CustomerPinService
from teller_tui.kiosk.service import KioskService
from teller_tui.ledger import Ledger
from teller_tui.risk.rules import RiskRules
from teller_tui.risk.screening import OnboardingScreen
from teller_tui.risk.service import RiskService
from teller_tui.risk.watchlist import Watchlist
from teller_tui.wallets.classes import TierTable
from teller_tui.wallets.funding import FundingService
from teller_tui.wallets.lifecycle import LifecycleService
from teller_tui.wallets.onboarding import OnboardingService
from teller_tui.wallets.service import WalletService


@dataclass(frozen=True)
class Services:
    """Every service of the core, built once. Fields are in construction order."""

    settings: Settings
    clock: Clock
    db: Database
    ledger: Ledger
    audit: AuditTrail
    box: SecretBox
    tiers: TierTable
    policy: ApprovalPolicy
    teller_limits: TellerLimits
    kiosk_limits: KioskLimits
    auth: AuthService
    approvals: ApprovalService
    customers: CustomerService
    wallets: WalletService
    cash: CashService
    business_days: BusinessDayService
    vault: VaultService
    drawers: DrawerService
    funding: FundingService
    onboarding: OnboardingService
    lifecycle: LifecycleService
    kiosk: KioskService
    customer_pins: CustomerPinService
    kb: KnowledgeBaseService
    risk_rules: RiskRules
    watchlist: Watchlist
    risk: RiskService

    def close(self) -> None:
        self.db.dispose()


def open_database(settings: Settings, *, check_schema: bool = True) -> Database:
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.ensure_home()
    database = make_database(url, synchronous=settings.sqlite_synchronous,
                             allow_network_fs=settings.allow_network_filesystem)
    database.check_pragmas()
    if check_schema:
        schema.ensure_current(database)
    return database


def make_services(settings: Settings, *, clock: Clock | None = None, database: Database | None = None,
                  check_schema: bool = True, box: SecretBox | None = None) -> Services:
    """Build the core. ``clock``, ``database`` and ``box`` are injected by tests and tools."""
    clock = clock or SystemClock()
    db = database or open_database(settings, check_schema=check_schema)
    ledger = Ledger(clock)
    audit = AuditTrail(clock)
    box = box or SecretBox.from_home_lazily(settings)
    tiers = TierTable.load()
    policy = ApprovalPolicy.load()
    teller_limits = TellerLimits.load()
    kiosk_limits = KioskLimits.load()
    risk_rules = RiskRules.load()
    watchlist = Watchlist.load()
    auth = AuthService(db, clock, settings, audit, secretbox=box)
    approvals = ApprovalService(db, clock, settings, ledger, audit, auth=auth, policy=policy)
    customers = CustomerService(db, clock, settings, audit=audit, tiers=tiers)
    wallets = WalletService(db, clock, settings, ledger, audit)
    cash = CashService(db, clock, settings, ledger, audit, tiers=tiers, teller_limits=teller_limits,
                       approvals=approvals)
    business_days = BusinessDayService(db=db, clock=clock, audit=audit)
    vault = VaultService(db=db, clock=clock, ledger=ledger, audit=audit, auth=auth)
    drawers = DrawerService(db=db, clock=clock, settings=settings, ledger=ledger, audit=audit, auth=auth,
                            days=business_days, vaults=vault)
    funding = FundingService(db, clock, settings, ledger, audit, tiers, box=box)
    onboarding = OnboardingService(db, clock, settings, ledger, audit, tiers, wallets=wallets, funding=funding,
                                   box=box, screening=OnboardingScreen(watchlist, approvals))
    lifecycle = LifecycleService(db, clock, settings, ledger, audit, tiers, box=box, approvals=approvals)
    kiosk = KioskService(db, clock, settings, ledger, audit, cash=cash, limits=kiosk_limits, box=box)
    customer_pins = CustomerPinService(db, clock, settings, audit)
    kb = KnowledgeBaseService(db, clock, audit)
    risk = RiskService(db, clock, settings, audit, rules=risk_rules, watchlist=watchlist, policy=policy,
                       freezer=lifecycle)
    return Services(settings=settings, clock=clock, db=db, ledger=ledger, audit=audit, box=box, tiers=tiers,
                    policy=policy, teller_limits=teller_limits, kiosk_limits=kiosk_limits, auth=auth,
                    approvals=approvals, customers=customers, wallets=wallets, cash=cash, business_days=business_days,
                    vault=vault, drawers=drawers,
                    funding=funding, onboarding=onboarding, lifecycle=lifecycle, kiosk=kiosk,
                    customer_pins=customer_pins, kb=kb, risk_rules=risk_rules, watchlist=watchlist, risk=risk)
