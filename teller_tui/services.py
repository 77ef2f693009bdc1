"""One object wires the core together; the CLI, the apps and the tests all build it here.

``make_services(settings)`` opens the database (checking pragmas, filesystem and schema)
and constructs each service with what it needs. Services are plain classes that take a
:class:`~teller_tui.db.engine.Database`, a clock and settings, and return read models.
Feature areas add their service as a field here and construct it in ``make_services``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teller_tui.common.clock import Clock, SystemClock

if TYPE_CHECKING:
    from teller_tui.audit.trail import AuditTrail
    from teller_tui.db.engine import Database
    from teller_tui.ledger import Ledger
    from teller_tui.common.settings import Settings


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    ledger: Ledger
    audit: AuditTrail
    # Feature services, constructed in make_services (typed loosely to keep this module light).
    extra: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["extra"][name]
        except KeyError:
            raise AttributeError(name) from None

    def close(self) -> None:
        self.db.dispose()


def open_database(settings: Settings, *, check_schema: bool = True) -> Database:
    from teller_tui.db import schema
    from teller_tui.db.engine import make_database

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
                  check_schema: bool = True) -> Services:
    from teller_tui.audit.trail import AuditTrail
    from teller_tui.ledger import Ledger

    clock = clock or SystemClock()
    db = database or open_database(settings, check_schema=check_schema)
    ledger = Ledger(clock)
    audit = AuditTrail(clock)
    services = Services(settings=settings, clock=clock, db=db, ledger=ledger, audit=audit, extra={})
    register_features()
    for name, factory in _FEATURES:
        services.extra[name] = factory(services)
    return services


def _feature_factories() -> list[tuple[str, Any]]:
    """Feature services in construction order: (attribute name, factory(services) -> service).

    Each feature area appends its entry here; later entries may use earlier ones.
    """
    features: list[tuple[str, Any]] = []
    from teller_tui.auth.service import AuthService
    features.append(("auth", lambda s: AuthService(s.db, s.clock, s.settings, s.audit)))
    from teller_tui.approvals.workflow import ApprovalService
    features.append(("approvals", lambda s: ApprovalService(s.db, s.clock, s.settings, s.ledger, s.audit, auth=s.auth)))
    from teller_tui.desk.customers import CustomerService
    from teller_tui.wallets.service import WalletService
    from teller_tui.desk.cash import CashService
    features.append(("customers", lambda s: CustomerService(s.db, s.clock, s.settings)))
    features.append(("wallets", lambda s: WalletService(s.db, s.clock, s.settings, s.ledger, s.audit)))
    features.append(("cash", lambda s: CashService(s.db, s.clock, s.settings, s.ledger, s.audit,
                                                   approvals=s.approvals)))
    from teller_tui.branch.drawers import DrawerService
    features.append(("drawers", lambda s: DrawerService(s)))
    from teller_tui.wallets.funding import FundingService
    from teller_tui.wallets.lifecycle import LifecycleService
    from teller_tui.wallets.onboarding import OnboardingService
    features.append(("funding", lambda s: FundingService(s.db, s.clock, s.settings, s.ledger, s.audit)))
    features.append(("onboarding", lambda s: OnboardingService(s.db, s.clock, s.settings, s.ledger, s.audit, funding=s.funding)))
    features.append(("lifecycle", lambda s: LifecycleService(s.db, s.clock, s.settings, s.ledger, s.audit, approvals=getattr(s, "approvals", None))))
    from teller_tui.kiosk.service import CustomerPinService, KioskService
    features.append(("kiosk", lambda s: KioskService(s.db, s.clock, s.settings, s.ledger, s.audit, cash=s.cash)))
    features.append(("customer_pins", lambda s: CustomerPinService(s.db, s.clock, s.settings, s.audit)))
    return features


_FEATURES: list[tuple[str, Any]] = []


def register_features() -> None:
    """Populate the feature list once (import-time free: called from make_services callers)."""
    if not _FEATURES:
        _FEATURES.extend(_feature_factories())
