"""Training scenarios and quiz questions, read from ``data/training/*.toml`` and ``data/training/quiz/``.

A scenario is a simulated customer (who they are, their wallet and balance), their script (what
they say, in order, shown in the side panel), the documents they present, how they react to the
trainee's steps, and the steps the assessment checks (:mod:`teller_tui.training.assessment`), each
with points, a KB topic and feedback in plain words. Every text is given in ``zh_CN`` and ``en``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from teller_tui.common.paths import data_dir
from teller_tui.common.reference import ReferenceDataError

__all__ = ["CHECKS", "Bilingual", "Question", "Scenario", "ScenarioCustomer", "Step", "load_quiz", "load_scenarios"]

#: The checks a step may name (each read from the training audit trail; see assessment.py).
CHECKS = frozenset({"posted", "not_posted", "at_most", "counted", "case_opened", "wallet_blocked",
                    "no_wallet_issued", "customer_onboarded", "within_minutes"})


@dataclass(frozen=True, slots=True)
class Bilingual:
    zh_CN: str
    en: str

    def get(self, locale: str) -> str:
        return self.zh_CN if locale.startswith("zh") else self.en

    @classmethod
    def of(cls, raw: Any, where: str) -> Bilingual:
        if isinstance(raw, str):
            return cls(raw, raw)
        if not isinstance(raw, dict) or not raw.get("zh_CN") or not raw.get("en"):
            raise ReferenceDataError(f"{where}: needs zh_CN and en text", file=where)
        return cls(str(raw["zh_CN"]), str(raw["en"]))


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    check: str
    points: int
    title: Bilingual
    missed: Bilingual  # feedback when the step was not done (or done wrong), in plain words
    kb: str = ""  # knowledge-base topic id (data/kb/<id>.<locale>.md)
    compliance: bool = False  # a compliance step: skipping it is listed as such
    critical: bool = False  # missing it fails the run whatever the score
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScenarioCustomer:
    full_name: str
    name_latin: str
    birth: date
    sex: str
    tier: int
    balance: str  # yuan, as text (parsed with Decimal by the builder)
    onboarded: bool = True  # False: a walk-in with no wallet yet (onboarding scenarios)


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    order: int
    title: Bilingual
    brief: Bilingual
    customer: ScenarioCustomer
    script: tuple[Bilingual, ...]
    documents: tuple[Bilingual, ...]
    reactions: tuple[tuple[str, Bilingual], ...]  # (step id or "approval", what the customer says)
    steps: tuple[Step, ...]
    pass_mark: int
    kb: tuple[str, ...]
    supervisor: str = "approve"  # what the simulated supervisor answers: approve | reject

    @property
    def total_points(self) -> int:
        return sum(s.points for s in self.steps)


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    scenario: str
    text: Bilingual
    options: tuple[Bilingual, ...]
    answer: int  # index into options
    explain: Bilingual
    kb: str = ""


def _step(raw: dict[str, Any], where: str) -> Step:
    check = str(raw.get("check", ""))
    if check not in CHECKS:
        raise ReferenceDataError(f"{where}: unknown check {check!r}", file=where)
    known = {"id", "check", "points", "title", "missed", "kb", "compliance", "critical"}
    return Step(id=str(raw["id"]), check=check, points=int(raw.get("points", 10)),
                title=Bilingual.of(raw.get("title"), f"{where} title"),
                missed=Bilingual.of(raw.get("missed"), f"{where} missed"), kb=str(raw.get("kb", "")),
                compliance=bool(raw.get("compliance", False)), critical=bool(raw.get("critical", False)),
                params={k: v for k, v in raw.items() if k not in known})


def _scenario(path: Path) -> Scenario:
    where = str(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ReferenceDataError(f"{where}: cannot read the scenario ({exc})", file=where) from None
    c = raw["customer"]
    customer = ScenarioCustomer(full_name=str(c["full_name"]), name_latin=str(c["name_latin"]),
                                birth=date.fromisoformat(str(c["birth"])), sex=str(c["sex"]), tier=int(c.get("tier", 2)),
                                balance=str(c.get("balance", "0.00")), onboarded=bool(c.get("onboarded", True)))
    steps = tuple(_step(s, f"{where} step {i + 1}") for i, s in enumerate(raw.get("steps", ())))
    if not steps:
        raise ReferenceDataError(f"{where}: a scenario needs steps", file=where)
    return Scenario(
        id=str(raw["id"]), order=int(raw.get("order", 99)), title=Bilingual.of(raw.get("title"), f"{where} title"),
        brief=Bilingual.of(raw.get("brief"), f"{where} brief"), customer=customer,
        script=tuple(Bilingual.of(s, f"{where} script") for s in raw.get("script", ())),
        documents=tuple(Bilingual.of(d, f"{where} documents") for d in raw.get("documents", ())),
        reactions=tuple((str(r["on"]), Bilingual.of(r.get("say"), f"{where} reaction"))
                        for r in raw.get("reactions", ())),
        steps=steps, pass_mark=int(raw.get("pass_mark", 70)), kb=tuple(str(k) for k in raw.get("kb", ())),
        supervisor=str(raw.get("supervisor", "approve")))


def load_scenarios(folder: Path | None = None) -> tuple[Scenario, ...]:
    folder = folder or data_dir() / "training"
    found = sorted((_scenario(p) for p in folder.glob("*.toml")), key=lambda s: (s.order, s.id))
    ids = [s.id for s in found]
    if len(set(ids)) != len(ids):
        raise ReferenceDataError(f"{folder}: scenario ids repeat", file=str(folder))
    return tuple(found)


def load_quiz(folder: Path | None = None) -> tuple[Question, ...]:
    folder = folder or data_dir() / "training" / "quiz"
    out: list[Question] = []
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        for i, q in enumerate(raw.get("questions", ())):
            where = f"{path} question {i + 1}"
            options = tuple(Bilingual.of(o, where) for o in q["options"])
            answer = int(q["answer"])
            if not 0 <= answer < len(options):
                raise ReferenceDataError(f"{where}: answer out of range", file=str(path))
            out.append(Question(id=str(q["id"]), scenario=str(raw.get("scenario", q.get("scenario", ""))),
                                text=Bilingual.of(q["text"], where), options=options, answer=answer,
                                explain=Bilingual.of(q["explain"], where), kb=str(q.get("kb", ""))))
    return tuple(out)
