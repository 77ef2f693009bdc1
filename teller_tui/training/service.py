"""The training service: start a run, finish and score it, and the simulated supervisor.

Every method first refuses unless the settings were made by
:func:`teller_tui.training.mode.training_settings` *and* the database is one the training builder
made (its ``training_database`` audit record): on the live desk this service has nothing to do,
and the simulated supervisor cannot act — its account and credentials exist only in the training
database and under the training home.

A run is the ``training_start`` audit record (its sequence number is the run id); finishing it
scores what the trainee did since (:func:`teller_tui.training.assessment.assess`) and appends a
``training_result`` record with the score, the steps missed, time, keys and quiz answers.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from teller_tui.approvals.service import ApprovalService
from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.permissions import guarded
from teller_tui.auth.roles import Role
from teller_tui.auth.totp import current_step, totp_at
from teller_tui.common.clock import Clock
from teller_tui.common.errors import AuthenticationFailed, Conflict, DomainError, NotFound
from teller_tui.common.i18n import _
from teller_tui.common.settings import Settings
from teller_tui.db.engine import Database
from teller_tui.models import AuditRecord, Customer, Staff, Wallet
from teller_tui.models.approvals import ApprovalRequest
from teller_tui.training.assessment import Assessment, assess, grade_quiz
from teller_tui.training.mode import require_training, require_training_database
from teller_tui.training.copies import COPIES, copy_values, fill
from teller_tui.training.scenarios import Bilingual, Question, Scenario

__all__ = ["SIM_SUPERVISOR", "Run", "TrainingService", "sim_supervisor_file"]

#: The simulated supervisor's user name: an account only the training builder creates.
SIM_SUPERVISOR = "sim-supervisor"


def sim_supervisor_file(home: Path) -> Path:
    """Where the training builder keeps the simulated supervisor's password and secret (0600)."""
    return home / "simulated_supervisor.toml"


@dataclass(frozen=True, slots=True)
class Run:
    run_id: int
    scenario: Scenario
    started_at: datetime
    customer_id: int | None
    wallets: tuple[str, ...]
    values: dict[str, str]  # this run's copy of the customer: phone, id_number, wrong_id_number, name

    def text(self, text: Bilingual, locale: str) -> str:
        """A scenario text in ``locale`` with this run's numbers filled in."""
        return fill(text.get(locale), self.values)


class TrainingService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, audit: AuditTrail, *,
                 approvals: ApprovalService, scenarios: tuple[Scenario, ...], quiz: tuple[Question, ...]) -> None:
        self.db, self.clock, self.settings, self.audit = db, clock, settings, audit
        self.approvals = approvals
        self._scenarios = {s.id: s for s in scenarios}
        self._quiz = quiz

    # -- reference ---------------------------------------------------------------------------------
    def scenarios(self) -> tuple[Scenario, ...]:
        return tuple(self._scenarios.values())

    def quiz_for(self, scenario_id: str) -> tuple[Question, ...]:
        return tuple(q for q in self._quiz if q.scenario == scenario_id)

    def _scenario(self, scenario_id: str) -> Scenario:
        found = self._scenarios.get(scenario_id)
        if found is None:
            raise NotFound(_("No such training scenario."), code="training_scenario")
        return found

    def _copy(self, s: Session, scenario: Scenario) -> tuple[int, dict[str, str], int | None, tuple[str, ...]]:
        """The first copy of the scenario's customer no earlier run used (see copies.py)."""
        used = {json.loads(d).get("copy") for d in s.execute(select(col(AuditRecord.detail_json)).where(
            col(AuditRecord.action) == "training_start", col(AuditRecord.subject) == scenario.id)).scalars()}
        for copy in range(COPIES):
            if copy in used:
                continue
            values = copy_values(scenario, copy)
            cid = s.execute(select(col(Customer.id)).where(col(Customer.phone) == values["phone"])
                            .order_by(col(Customer.id))).scalars().first()
            if scenario.customer.onboarded and cid is None:
                break  # the database holds fewer copies than COPIES
            if not scenario.customer.onboarded and cid is not None:
                continue  # a walk-in already onboarded by some other path
            numbers = () if cid is None else tuple(str(n) for n in s.execute(
                select(col(Wallet.number)).where(col(Wallet.customer_id) == cid).order_by(col(Wallet.id))).scalars())
            return copy, values, (None if cid is None else int(cid)), numbers
        raise Conflict(_("Every copy of this scenario's customer has been used: rebuild the training database "
                         "(`teller training setup --force`; results are kept)."), code="training_copies")

    # -- runs --------------------------------------------------------------------------------------
    @guarded("training")
    def start(self, actor: Actor, scenario_id: str) -> Run:
        """Begin a run of ``scenario_id`` for the signed-in trainee (training database only)."""
        require_training(self.settings)
        scenario = self._scenario(scenario_id)
        with self.db.write() as s:
            require_training_database(s)
            copy, values, customer_id, wallets = self._copy(s, scenario)
            rec = self.audit.append(s, actor, "training_start", subject=scenario.id, detail={
                "copy": copy, "values": values, "customer_id": customer_id, "wallets": list(wallets)})
        return Run(rec.seq, scenario, rec.at, customer_id, wallets, values)

    @guarded("training")
    def finish(self, actor: Actor, run_id: int, keys: int = 0,
               answers: Mapping[str, int] | None = None) -> Assessment:
        """Score the run from the training audit trail and record the result."""
        require_training(self.settings)
        with self.db.write() as s:
            require_training_database(s)
            start = s.execute(select(AuditRecord).where(col(AuditRecord.seq) == run_id)).scalar_one_or_none()
            if start is None or start.action != "training_start" or start.actor != actor.username:
                raise NotFound(_("No such training run of yours."), code="training_run")
            done = s.execute(select(col(AuditRecord.seq)).where(col(AuditRecord.action) == "training_result",
                                                               col(AuditRecord.subject) == f"run:{run_id}")).first()
            if done is not None:
                raise Conflict(_("This training run is already scored."), code="training_scored")
            scenario = self._scenario(start.subject)
            detail = json.loads(start.detail_json)
            result = assess(s, scenario, trainee=actor.username, start_seq=run_id, since=start.at,
                            until=self.clock.now(),
                            customer_id=detail.get("customer_id"), wallets=tuple(detail.get("wallets", ())),
                            keys=keys, values=dict(detail.get("values", {})))
            right, asked = grade_quiz(self.quiz_for(scenario.id), dict(answers or {}))
            result = replace(result, quiz_right=right, quiz_asked=asked)
            self.audit.append(s, actor, "training_result", subject=f"run:{run_id}",
                              outcome="pass" if result.passed else "fail", detail=result.as_dict())
        return result

    # -- the simulated supervisor ------------------------------------------------------------------
    @guarded("training")
    def answer_approvals(self, actor: Actor, scenario_id: str) -> int:
        """The simulated supervisor decides this trainee's queued requests as the scenario says.

        Returns how many it decided. Its credentials are read from the training home; its account
        exists only in the training database."""
        require_training(self.settings)
        scenario = self._scenario(scenario_id)
        path = sim_supervisor_file(self.settings.home)
        try:
            with path.open("rb") as fh:
                creds = tomllib.load(fh)
        except OSError:
            raise Conflict(_("The simulated supervisor is not set up (run `teller training setup`)."),
                           code="training_supervisor") from None
        with self.db.read() as s:
            require_training_database(s)
            sim = s.execute(select(Staff).where(col(Staff.username) == SIM_SUPERVISOR)).scalar_one_or_none()
            pending = [int(i) for i in s.execute(select(col(ApprovalRequest.id)).where(
                col(ApprovalRequest.requester_id) == actor.staff_id, col(ApprovalRequest.status) == "pending")
                .order_by(col(ApprovalRequest.id))).scalars()]
        if sim is None or sim.id is None:
            raise Conflict(_("The simulated supervisor is not set up (run `teller training setup`)."),
                           code="training_supervisor")
        sim_actor = Actor(sim.id, SIM_SUPERVISOR, actor.terminal_id, Role.SUPERVISOR, sim.branch_code)
        approve = scenario.supervisor != "reject"
        decided = 0
        for request_id in pending:
            code = totp_at(str(creds["totp_secret"]), current_step(self.clock.now()))
            try:
                self.approvals.decide(sim_actor, request_id, approve=approve, password=str(creds["password"]),
                                      code=code, reason=_("Simulated supervisor (training)"))
            except AuthenticationFailed:
                break  # one code per 30 s: the next poll decides the rest
            except DomainError:
                continue
            decided += 1
        return decided
