"""Test harness for training mode: a live world and a training world side by side.

``make_training(tmp_path, db_path, db, template_db, clock)`` builds the live desk world
(:func:`desk_harness.make_desk`, database ``db_path``) and, under the same ``TELLER_HOME``, the
training world the way ``teller training setup`` does: settings from
:func:`teller_tui.training.mode.training_settings` (home ``home/training``, database
``home/training/teller.db`` copied from the migrated template), the trainee ``wang`` (same user name
as the live teller, a teller account of the training database), a drawer with the training float,
and :func:`teller_tui.demo.training.seed_training` (marker, simulated supervisor, scenario customers).
``training.app`` is the real ``TellerApp`` on the training services.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from desk_harness import TELLER_PW, TELLER_SECRET, Desk, make_desk
from pilot_helpers import sign_in
from screens.app import make_app
from teller_tui.audit.trail import Actor
from teller_tui.auth.secretbox import SecretBox
from teller_tui.auth.service import system_actor
from teller_tui.branch.setup import open_demo_drawer
from teller_tui.common.clock import FakeClock
from teller_tui.common.i18n import set_locale
from teller_tui.db.engine import make_database
from teller_tui.demo.training import TRAINING_FLOAT, seed_training
from teller_tui.models import AuditRecord, Customer, JournalEntry, Wallet
from teller_tui.services import Services, make_services
from teller_tui.training.copies import copy_values
from teller_tui.training.mode import training_settings

__all__ = ["Training", "make_training"]


@dataclass
class Training:
    live: Desk
    services: Services
    clock: FakeClock
    trainee: Actor
    app: Any = None

    async def start(self, pilot: Any) -> None:
        await sign_in(pilot, "wang", TELLER_PW, TELLER_SECRET, self.clock)

    def phone(self, scenario_id: str, copy: int = 0) -> str:
        """The phone number of copy ``copy`` of the scenario's customer (the first run gets copy 0)."""
        [scenario] = [s for s in self.services.training.scenarios() if s.id == scenario_id]
        return copy_values(scenario, copy)["phone"]

    def wallet_of(self, phone: str) -> tuple[int, str]:
        with self.services.db.read() as s:
            cid = s.execute(select(Customer.id).where(Customer.phone == phone)).scalar_one()
            w = s.execute(select(Wallet).where(Wallet.customer_id == cid)).scalars().first()
            return int(w.id), str(w.number)


def counts(services: Services) -> tuple[int, int]:
    """(journal entries, audit records) of a database."""
    with services.db.read() as s:
        return (int(s.execute(select(func.count()).select_from(JournalEntry)).scalar_one()),
                int(s.execute(select(func.count()).select_from(AuditRecord)).scalar_one()))


def make_training(tmp_path: Path, db_path: Path, db: Any, template_db: Path, clock: FakeClock, *,
                  locale: str = "en") -> Training:
    live = make_desk(tmp_path, db_path, db, clock, locale=locale)
    settings = training_settings(live.services.settings)
    settings.ensure_home()
    tpath = settings.home / "teller.db"
    shutil.copyfile(template_db, tpath)
    assert settings.effective_database_url == f"sqlite:///{tpath}"
    tdb = make_database(settings.effective_database_url)
    services = make_services(settings, clock=clock, database=tdb, box=SecretBox.ephemeral())
    system = system_actor(settings)
    view, _otp = services.auth.create_staff(system, "wang", "王小明", "teller", password=TELLER_PW,
                                            totp_secret=TELLER_SECRET)
    open_demo_drawer(services, "wang", TRAINING_FLOAT)
    trainee = Actor(view.id, "wang", settings.terminal_id, "teller", settings.branch_code)
    seed_training(services, funder=trainee, copies=2)
    services.kb.sync_shipped(system)  # the help articles the feedback links to (as `teller training setup`)
    world = Training(live, services, clock, trainee)
    world.app = make_app(settings, services=services, clock=clock)
    set_locale(locale)
    return world
