"""The composition root: one typed object that wires the core together.

``make_services(settings)`` opens the database (checking pragmas, filesystem and schema), builds
the shared pieces once (secret box, wallet-class table, approval policy, teller and kiosk limits,
service levels, risk rules and watch list)
and constructs every service in dependency order, passing each exactly what it needs as required
constructor arguments. The CLI, both apps and the tests all build the core here; nothing else
constructs a service, and no service builds another one, a secret box or a class table itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from teller_tui.analytics.service import AnalyticsService
from teller_tui.approvals.credential_gate import CredentialApprovalGate
from teller_tui.approvals.policy import ApprovalPolicy
from teller_tui.approvals.service import ApprovalService
from teller_tui.approvals.staff_admin import StaffAdminService
from teller_tui.approvals.staff_unlock import StaffUnlockService
from teller_tui.audit.trail import AuditTrail
from teller_tui.auth import live
from teller_tui.auth.secretbox import SecretBox
from teller_tui.auth.service import AuthService
from teller_tui.branch.business_day import BusinessDayService
from teller_tui.branch.custody import DrawerCustodyService
from teller_tui.branch.handover import DrawerHandoverService
from teller_tui.branch.drawers import DrawerService
from teller_tui.branch.dual_control import FourEyes
from teller_tui.branch.vault import VaultService
from teller_tui.cases.crm import CrmService
from teller_tui.cases.disputes import DisputeService
from teller_tui.cases.explain import ExplainService
from teller_tui.cases.follow_up import FollowUpService
from teller_tui.cases.help import HelpRequestService
from teller_tui.cases.lost import LostPhoneService
from teller_tui.cases.service import CaseService
from teller_tui.cases.service_levels import ServiceLevels
from teller_tui.common.clock import Clock, SystemClock
from teller_tui.common.printing.service import PrintService
from teller_tui.common.settings import Settings
from teller_tui.consent.credentials import CustomerCredentials
from teller_tui.consent.gate import ConsentGate
from teller_tui.consent.service import ConsentService
from teller_tui.db.engine import Database, make_database
from teller_tui.db.engines import open_checked
from teller_tui.desk.journal_search import JournalSearchService
from teller_tui.desk.linked_funding import LinkedFundingDesk
from teller_tui.desk.profile import ProfileService
from teller_tui.desk.wallet_statement import StatementService
from teller_tui.desk.cash import CashService
from teller_tui.desk.customers import CustomerService
from teller_tui.desk.inflight_service import InflightService
from teller_tui.offline.service import OfflineService
from teller_tui.desk.teller_limits import TellerLimits
from teller_tui.kb.service import KnowledgeBaseService
from teller_tui.kiosk.inflight import KioskInflightService
from teller_tui.kiosk.guard import ResponsePacer, SignInGuard, TerminalThrottle
from teller_tui.kiosk.limits import KioskLimits
from teller_tui.kiosk.pin_change import KioskPinChange
from teller_tui.kiosk.pad_credentials import PadCredentials
from teller_tui.kiosk.pinpad import PinpadService
from teller_tui.kiosk.pins import CustomerPinService
from teller_tui.kiosk.service import KioskService
from teller_tui.ledger import Ledger
from teller_tui.risk.blocking import PostingGate
from teller_tui.risk.notify_service import NotifyService
from teller_tui.notify.outbox import Outbox, Templates
from teller_tui.risk.sender import Sender
from teller_tui.risk.transports import SmtpTransport, Transport, WebhookTransport
from teller_tui.risk.rules import RiskRules
from teller_tui.risk.screening import OnboardingScreen
from teller_tui.risk.service import RiskService
from teller_tui.risk.watchlist import Watchlist
from teller_tui.training.scenarios import load_quiz, load_scenarios
from teller_tui.training.results import TrainingResults
from teller_tui.training.service import TrainingService
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
    #: Where analytics reads (TELLER_READ_DATABASE_URL: a hot standby); the same object as ``db`` when unset.
    read_db: Database
    ledger: Ledger
    audit: AuditTrail
    box: SecretBox
    tiers: TierTable
    policy: ApprovalPolicy
    teller_limits: TellerLimits
    kiosk_limits: KioskLimits
    auth: AuthService
    approvals: ApprovalService
    staff_unlock: StaffUnlockService
    staff_admin: StaffAdminService
    consent_gate: ConsentGate
    consent: ConsentService
    credentials: CustomerCredentials
    customers: CustomerService
    wallets: WalletService
    cash: CashService
    inflight: InflightService
    offline: OfflineService
    business_days: BusinessDayService
    vault: VaultService
    drawers: DrawerService
    custody: DrawerCustodyService
    handover: DrawerHandoverService
    funding: FundingService
    linked_desk: LinkedFundingDesk
    statements: StatementService
    profile: ProfileService
    journal: JournalSearchService
    onboarding: OnboardingService
    lifecycle: LifecycleService
    kiosk: KioskService
    kiosk_pin_change: KioskPinChange
    kiosk_inflight: KioskInflightService
    customer_pins: CustomerPinService
    pinpad: PinpadService
    pad_credentials: PadCredentials
    kb: KnowledgeBaseService
    service_levels: ServiceLevels
    cases: CaseService
    disputes: DisputeService
    explain: ExplainService
    follow_up: FollowUpService
    crm: CrmService
    help_requests: HelpRequestService
    lost_phones: LostPhoneService
    risk_rules: RiskRules
    watchlist: Watchlist
    risk: RiskService
    outbox: Outbox
    notify: NotifyService
    printing: PrintService
    analytics: AnalyticsService
    training: TrainingService

    def close(self) -> None:
        if self.read_db is not self.db:
            self.read_db.dispose()
        self.db.dispose()


def open_database(settings: Settings, *, check_schema: bool = True) -> Database:
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.ensure_home()
    database = make_database(url, synchronous=settings.sqlite_synchronous,
                             allow_network_fs=settings.allow_network_filesystem)
    return open_checked(database, check_schema=check_schema)


def open_read_database(settings: Settings, primary: Database) -> Database:
    """The database analytics reads: ``TELLER_READ_DATABASE_URL`` (a PostgreSQL hot standby, which a
    promotion report's long scan then spares the primary), else ``primary`` itself. Nothing is
    connected or checked here: a standby that is down must not stop a terminal from starting (only
    the reports wait for it; list every host and ``prefer-standby`` falls back to the primary), and
    its schema is the primary's, replayed. A standby replays a moment behind the primary, so only
    reports that may lag read there — approvals, drawers and the end-of-day report read the primary."""
    if not settings.read_database_url:
        return primary
    return make_database(settings.effective_read_database_url, pool_size=2)


def make_services(settings: Settings, *, clock: Clock | None = None, database: Database | None = None,
                  check_schema: bool = True, box: SecretBox | None = None) -> Services:
    """Build the core. ``clock``, ``database`` and ``box`` are injected by tests and tools."""
    clock = clock or SystemClock()
    db = database or open_database(settings, check_schema=check_schema)
    live.install(db, clock)  # every write re-reads the acting person's staff row (auth/live.py)
    read_db = open_read_database(settings, db)
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
    templates = Templates.load()
    outbox = Outbox(clock, templates=templates, locale=settings.locale, bank_name=settings.notify_bank_name)
    consent_gate = ConsentGate(settings, clock)
    approvals = ApprovalService(db, clock, settings, ledger, audit, auth=auth, policy=policy, outbox=outbox,
                                consent=consent_gate)
    staff_unlock = StaffUnlockService(db, clock, audit, approvals=approvals)
    staff_admin = StaffAdminService(db, clock, audit, box, approvals=approvals)
    credential_approvals = CredentialApprovalGate(approvals, clock)
    consent = ConsentService(db, clock, audit, approvals=credential_approvals)
    customers = CustomerService(db, clock, settings, audit=audit, tiers=tiers)
    wallets = WalletService(db, clock, settings, ledger, audit)
    risk_gate = PostingGate(risk_rules, clock)  # one gate: counter, kiosk (through cash) and linked funding
    cash = CashService(db, clock, settings, ledger, audit, tiers=tiers, teller_limits=teller_limits,
                       approvals=approvals, risk_gate=risk_gate, outbox=outbox,
                       consent=consent_gate)
    inflight = InflightService(db, clock, settings, ledger)
    four_eyes = FourEyes(approvals)
    business_days = BusinessDayService(db=db, clock=clock, audit=audit, four_eyes=four_eyes)
    vault = VaultService(db=db, clock=clock, ledger=ledger, audit=audit, four_eyes=four_eyes)
    drawers = DrawerService(db=db, clock=clock, settings=settings, ledger=ledger, audit=audit, four_eyes=four_eyes,
                            days=business_days, vaults=vault)
    custody = DrawerCustodyService(db=db, clock=clock, audit=audit, auth=auth)
    handover = DrawerHandoverService(db=db, clock=clock, settings=settings, ledger=ledger, audit=audit,
                                     four_eyes=four_eyes)
    funding = FundingService(db, clock, settings, ledger, audit, tiers, box=box, risk_gate=risk_gate, outbox=outbox,
                             approvals=approvals)
    linked_desk = LinkedFundingDesk(db, clock, settings, ledger, tiers, funding, approvals)
    statements = StatementService(db, clock, settings, audit)
    profile = ProfileService(db, clock, audit, approvals=approvals)
    journal = JournalSearchService(db, clock)
    onboarding = OnboardingService(db, clock, settings, ledger, audit, tiers, wallets=wallets, funding=funding,
                                   box=box, screening=OnboardingScreen(watchlist, approvals))
    lifecycle = LifecycleService(db, clock, settings, ledger, audit, tiers, box=box, approvals=approvals,
                                 outbox=outbox, consent=consent_gate)
    kb = KnowledgeBaseService(db, clock, audit)
    service_levels = ServiceLevels.load()
    cases = CaseService(db, clock, audit, levels=service_levels)
    disputes = DisputeService(db, clock, audit, ledger, approvals=approvals, levels=service_levels)
    explain = ExplainService(db, clock)
    follow_up = FollowUpService(db, clock, audit, levels=service_levels)
    crm = CrmService(db, clock, audit)
    help_requests = HelpRequestService(db, clock, audit)
    lost_phones = LostPhoneService(db, clock, audit, ledger, levels=service_levels, outbox=outbox)
    guard = SignInGuard(box, attempts=kiosk_limits.pin_attempts, lock_minutes=settings.kiosk_pin_lock_minutes)
    kiosk = KioskService(db, clock, settings, ledger, audit, cash=cash, limits=kiosk_limits, box=box, guard=guard,
                         pacer=ResponsePacer(settings.kiosk_min_response_seconds),
                         throttle=TerminalThrottle(settings.kiosk_attempts_per_minute))
    customer_pins = CustomerPinService(db, clock, settings, audit, guard=guard, outbox=outbox)
    pinpad = PinpadService(db, clock, settings, audit, box=box, guard=guard, outbox=outbox)
    risk = RiskService(db, clock, settings, audit, rules=risk_rules, watchlist=watchlist, policy=policy,
                       freezer=lifecycle)
    # On the live desk every method refuses (teller_tui/training/mode.py): scenarios are read anyway,
    # for `teller training list` and the sign-in choice.
    training = TrainingService(db, clock, settings, audit, approvals=approvals, scenarios=load_scenarios(),
                               quiz=load_quiz())
    return Services(settings=settings, clock=clock, db=db, read_db=read_db, ledger=ledger, audit=audit, box=box, tiers=tiers,
                    policy=policy, teller_limits=teller_limits, kiosk_limits=kiosk_limits, auth=auth,
                    approvals=approvals, staff_unlock=staff_unlock, staff_admin=staff_admin,
                    consent_gate=consent_gate, consent=consent,
                    credentials=CustomerCredentials(db, clock, audit, outbox=outbox, approvals=credential_approvals),
                    customers=customers,
                    wallets=wallets, cash=cash, inflight=inflight,
                    offline=OfflineService(db, clock, settings, ledger, audit, cash=cash),
                    business_days=business_days, vault=vault, drawers=drawers,
                    custody=custody, handover=handover, funding=funding, linked_desk=linked_desk,
                    statements=statements, profile=profile, journal=journal, onboarding=onboarding,
                    lifecycle=lifecycle, kiosk=kiosk,
                    kiosk_pin_change=KioskPinChange(db, clock, settings, audit, kiosk=kiosk, box=box, guard=guard,
                                                    outbox=outbox),
                    kiosk_inflight=KioskInflightService(db, clock, settings, ledger, audit, cash=cash),
                    customer_pins=customer_pins, pinpad=pinpad,
                    pad_credentials=PadCredentials(db, clock, settings, audit, box=box, guard=guard, outbox=outbox),
                    kb=kb, service_levels=service_levels, cases=cases,
                    disputes=disputes, explain=explain, follow_up=follow_up, crm=crm, help_requests=help_requests,
                    lost_phones=lost_phones,
                    risk_rules=risk_rules, watchlist=watchlist, risk=risk, outbox=outbox,
                    notify=NotifyService(db, clock, audit, sender=Sender(
                        db, clock, templates=templates, transports=notify_transports(settings),
                        enabled=settings.notify_send, max_attempts=settings.notify_max_attempts,
                        backoff_seconds=settings.notify_backoff_seconds, lease_seconds=settings.notify_lease_seconds)),
                    printing=PrintService(settings),
                    analytics=AnalyticsService(read_db, clock, settings, TrainingResults(settings)),
                    training=training)


def notify_transports(settings: Settings) -> dict[str, Transport]:
    """The delivery channels configured in the settings (none: notifications stay queued)."""
    out: dict[str, Transport] = {}
    if settings.notify_sms_url:
        out["sms"] = WebhookTransport(settings.notify_sms_url, settings.notify_sms_token)
    if settings.notify_smtp_host and settings.notify_smtp_from:
        out["email"] = SmtpTransport(settings.notify_smtp_host, settings.notify_smtp_port, settings.notify_smtp_from,
                                     settings.notify_smtp_user, settings.notify_smtp_password,
                                     settings.notify_smtp_starttls)
    return out
