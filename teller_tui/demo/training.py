"""``teller training setup``: build the training database and its simulated world.

The training database is a demo branch (:func:`teller_tui.demo.build.build_demo`) built into the
training settings (:func:`teller_tui.training.mode.training_settings`: its own file or PostgreSQL
database, key file and audit chain), with drawers holding a larger float (a cash-out over the
teller's limit must be payable), plus :func:`seed_training`:

* the ``training_database`` audit record that marks it (the training service refuses any database
  without it);
* the simulated supervisor ``sim-supervisor``, a supervisor account that exists only here; its
  password and authenticator secret are random and kept in the training home (0600), for the
  training service alone;
* one customer per scenario (its phone number, name, ID, wallet class and opening balance).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import inspect, select
from sqlmodel import col

from teller_tui.audit.trail import Actor
from teller_tui.auth.roles import Role
from teller_tui.auth.service import system_actor
from teller_tui.auth.totp import new_secret
from teller_tui.common.errors import Conflict
from teller_tui.common.files import write_private_file
from teller_tui.common.i18n import _
from teller_tui.common.money import Money
from teller_tui.common.settings import Settings
from teller_tui.demo.build import DemoSummary, build_demo
from teller_tui.models import AuditRecord, Customer
from teller_tui.services import Services, make_services, open_database
from teller_tui.training.copies import COPIES, copy_values
from teller_tui.training.mode import MARKER_ACTION, training_settings
from teller_tui.training.report import archive_lines, archive_path, attempts
from teller_tui.training.service import SIM_SUPERVISOR, sim_supervisor_file

__all__ = ["TRAINING_FLOAT", "TrainingSummary", "build_training", "seed_training"]

#: Each training drawer's float: enough for the over-limit cash-out scenario (¥30,000).
TRAINING_FLOAT = {"note:100": 600, "note:50": 40, "note:20": 50, "note:10": 50, "note:5": 40, "note:1": 100,
                  "coin:1": 100, "coin:0.5": 40, "coin:0.1": 50}


@dataclass(frozen=True, slots=True)
class TrainingSummary:
    demo: DemoSummary
    scenarios: int
    home: str


def build_training(live: Settings, *, customers: int = 200, seed: int = 7, force: bool = False,
                   progress: bool = True) -> TrainingSummary:
    settings = training_settings(live)
    settings.ensure_home()
    if force:
        _refuse_foreign_database(settings)
        _archive_results(settings)
    demo = build_demo(settings, customers=customers, seed=seed, force=force, progress=progress,
                      drawer_float=TRAINING_FLOAT)
    database = open_database(settings)
    try:
        services = make_services(settings, database=database)
        funder = services.auth.get_staff("super1")
        actor = Actor(funder.id, funder.username, settings.terminal_id, Role(funder.role), funder.branch_code)
        count = seed_training(services, funder=actor)
    finally:
        database.dispose()
    return TrainingSummary(demo, count, str(settings.home))


def _refuse_foreign_database(settings: Settings) -> None:
    """``--force`` rebuilds only a training database: one with audit records but no training marker
    is somebody's books (a live database reached through another spelling of its URL)."""
    url = settings.effective_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return
    database = open_database(settings, check_schema=False)
    try:
        if not inspect(database.read_engine).has_table("audit_record"):
            return
        with database.read() as s:
            used = s.execute(select(col(AuditRecord.seq)).limit(1)).first() is not None
            marked = s.execute(select(col(AuditRecord.seq)).where(col(AuditRecord.action) == MARKER_ACTION)
                               .limit(1)).first() is not None
    finally:
        database.dispose()
    if used and not marked:
        raise Conflict(_("That database is not a training database: it will not be rebuilt."),
                       code="training_url")


def _archive_results(settings: Settings) -> None:
    """Before a rebuild: append the training results of the old database to the archive (0600),
    so `teller training report` still sees every attempt."""
    url = settings.effective_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return
    database = open_database(settings, check_schema=False)
    try:
        with database.read() as s:
            found = attempts(s)
    finally:
        database.dispose()
    if found:
        path = archive_path(settings.home)
        before = path.read_text(encoding="utf-8") if path.is_file() else ""
        write_private_file(path, before + archive_lines(found))


def seed_training(services: Services, *, funder: Actor, copies: int = COPIES) -> int:
    """Mark the database as training, create the simulated supervisor and the scenario customers.

    ``funder`` (a person with an open drawer) posts the customers' opening balances. Idempotent:
    a database already marked is left as it is. Returns the number of scenario customers (``copies``
    of each scenario's customer: each run takes its own, teller_tui.training.copies)."""
    settings = services.settings
    if not settings.training:
        raise ValueError("seed_training needs training settings (teller_tui.training.mode.training_settings)")
    system = system_actor(settings)
    with services.db.write() as s:
        if s.execute(select(col(AuditRecord.seq)).where(col(AuditRecord.action) == MARKER_ACTION)).first():
            return 0
        services.audit.append(s, system, MARKER_ACTION, subject=settings.branch_code,
                              detail={"scenarios": [sc.id for sc in services.training.scenarios()]})
    password = secrets.token_urlsafe(24)
    secret = new_secret()
    services.auth.create_staff(system, SIM_SUPERVISOR, "模拟主管 Simulated supervisor", Role.SUPERVISOR,
                               password=password, totp_secret=secret, branch_code=settings.branch_code)
    write_private_file(sim_supervisor_file(settings.home),
                       f'# the simulated supervisor of the training database (teller training setup)\n'
                       f'password = "{password}"\ntotp_secret = "{secret}"\n')
    count = 0
    for sc in services.training.scenarios():
        c = sc.customer
        if not c.onboarded:
            continue
        for copy in range(copies):
            values = copy_values(sc, copy)
            with services.db.write() as s:
                row = Customer(customer_no=f"TR{sc.order:02d}{copy:04d}", full_name=c.full_name,
                               name_latin=c.name_latin, phone=values["phone"], id_type="prc_id",
                               id_number=values["id_number"], id_expiry=date(2036, 1, 1), birth_date=c.birth,
                               sex=c.sex, kyc_level="in_person", branch_code=settings.branch_code,
                               created_at=services.clock.now())
                s.add(row)
                s.flush()
                customer_id = int(row.id)  # type: ignore[arg-type]
            wallet = services.wallets.open_wallet_now(system, customer_id, c.tier)
            balance = Money.of(c.balance)
            if balance.minor > 0:
                services.cash.cash_in(funder, wallet.wallet_id, balance, memo="training opening balance",
                                      idempotency_key=f"training-open-{sc.id}-{copy}")
            count += 1
    return count

