"""Service levels (``data/service_levels.toml``, effective-dated): case deadlines and the follow-up rules.

:meth:`ServiceLevels.deadline` is the one place a case's deadline is computed; the working-hours rule
is documented in the data file (only working hours count for ``clock = "working"`` types, every hour
for ``clock = "calendar"`` ones).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from teller_tui.common.clock import BRANCH_TZ, local_date
from teller_tui.common.errors import NotFound
from teller_tui.common.i18n import _
from teller_tui.common.paths import data_file
from teller_tui.common.reference import ReferenceDataError
from teller_tui.models.cases import CaseType

__all__ = ["CLOCKS", "FollowUpRules", "LevelSet", "ServiceLevels", "TypeLevel"]

CLOCKS = ("working", "calendar")


@dataclass(frozen=True, slots=True)
class TypeLevel:
    hours: int
    clock: str  # "working" | "calendar"


@dataclass(frozen=True, slots=True)
class FollowUpRules:
    new_wallet_days: int
    window_days: int
    resolved_case_days: int
    assistance_every_days: int
    retry_hours: int


@dataclass(frozen=True, slots=True)
class LevelSet:
    effective_from: date
    source: str
    working_days: frozenset[int]
    working_start: time
    working_end: time
    types: Mapping[CaseType, TypeLevel]
    follow_up: FollowUpRules


def _bad(origin: str, where: str, problem: str) -> ReferenceDataError:
    return ReferenceDataError(_("{file}: {where}: {problem}").format(file=origin, where=where, problem=problem),
                              file=origin, where=where)


def _positive_int(origin: str, where: str, raw: Any, *, allow_zero: bool = False) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < (0 if allow_zero else 1):
        raise _bad(origin, where, _("must be a whole number above zero"))
    return raw


def _hhmm(origin: str, where: str, raw: Any) -> time:
    try:
        hh, mm = str(raw).split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise _bad(origin, where, _("must be a time such as 09:00")) from None


def _parse_set(origin: str, index: int, raw: Any) -> LevelSet:
    where = f"level set #{index + 1}"
    if not isinstance(raw, dict):
        raise _bad(origin, where, _("must be a table"))
    eff = raw.get("effective_from")
    if not isinstance(eff, date) or isinstance(eff, datetime):
        raise _bad(origin, where, _("effective_from must be a date such as 2020-10-01"))
    where = f"level set {eff.isoformat()}"
    days = raw.get("working_days", [1, 2, 3, 4, 5])
    if not isinstance(days, list) or not days or any(not isinstance(d, int) or not 1 <= d <= 7 for d in days):
        raise _bad(origin, f"{where}, working_days", _("must list ISO weekdays 1 to 7"))
    start = _hhmm(origin, f"{where}, working_start", raw.get("working_start", "09:00"))
    end = _hhmm(origin, f"{where}, working_end", raw.get("working_end", "17:00"))
    if end <= start:
        raise _bad(origin, f"{where}, working_end", _("must be after working_start"))
    raw_types = raw.get("types")
    if not isinstance(raw_types, dict):
        raise _bad(origin, where, _("needs a [level_set.types] table"))
    types: dict[CaseType, TypeLevel] = {}
    for name, level in raw_types.items():
        if name not in CaseType.__members__.values():
            raise _bad(origin, f"{where}, {name}", _("unknown case type"))
        if not isinstance(level, dict) or level.get("clock") not in CLOCKS:
            raise _bad(origin, f"{where}, {name}", _("clock must be working or calendar"))
        types[CaseType(name)] = TypeLevel(_positive_int(origin, f"{where}, {name}", level.get("hours")),
                                          str(level["clock"]))
    missing = sorted(set(CaseType) - set(types))
    if missing:
        raise _bad(origin, where, _("case types missing: {types}").format(types=", ".join(missing)))
    fu = raw.get("follow_up")
    if not isinstance(fu, dict):
        raise _bad(origin, where, _("needs a [level_set.follow_up] table"))
    follow_up = FollowUpRules(*(_positive_int(origin, f"{where}, follow_up.{key}", fu.get(key))
                                for key in ("new_wallet_days", "window_days", "resolved_case_days",
                                            "assistance_every_days", "retry_hours")))
    return LevelSet(eff, str(raw.get("source", "")), frozenset(days), start, end, types, follow_up)


@dataclass(frozen=True, slots=True)
class ServiceLevels:
    """Every level set, oldest first."""

    level_sets: tuple[LevelSet, ...]
    tz: tzinfo = BRANCH_TZ

    @classmethod
    def load(cls, path: Path | None = None) -> ServiceLevels:
        path = path or data_file("service_levels.toml")
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ReferenceDataError(_("{file}: cannot read the service levels ({error})").format(
                file=path, error=exc), file=str(path)) from None
        return cls.from_dict(data, origin=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "service_levels.toml") -> ServiceLevels:
        raw_sets = data.get("level_set")
        if not isinstance(raw_sets, list) or not raw_sets:
            raise _bad(origin, "[[level_set]]", _("at least one level set is required"))
        sets = sorted((_parse_set(origin, i, raw) for i, raw in enumerate(raw_sets)),
                      key=lambda s: s.effective_from)
        for a, b in zip(sets, sets[1:], strict=False):
            if a.effective_from == b.effective_from:
                raise _bad(origin, f"level set {b.effective_from}", _("two level sets start on the same day"))
        return cls(tuple(sets))

    def level_set(self, on: date) -> LevelSet:
        found: LevelSet | None = None
        for s in self.level_sets:
            if s.effective_from <= on:
                found = s
        if found is None:
            raise NotFound(_("No service levels are in force on {day}").format(day=on.isoformat()),
                           code="service_levels_none")
        return found

    def follow_up(self, at: datetime) -> FollowUpRules:
        return self.level_set(local_date(at, self.tz)).follow_up

    def deadline(self, case_type: CaseType | str, opened_at: datetime) -> datetime:
        """When a case of ``case_type`` opened at ``opened_at`` must be resolved (aware UTC)."""
        levels = self.level_set(local_date(opened_at, self.tz))
        level = levels.types[CaseType(case_type)]
        if level.clock == "calendar":
            return opened_at + timedelta(hours=level.hours)
        return self._add_working(levels, opened_at, timedelta(hours=level.hours))

    def resume(self, case_type: CaseType | str, due_at: datetime, paused_at: datetime, now: datetime) -> datetime:
        """The deadline of a case that waited for the customer from ``paused_at`` until ``now``: the
        time that was left at the pause (working or calendar, by type) counted again from ``now``."""
        levels = self.level_set(local_date(paused_at, self.tz))
        if levels.types[CaseType(case_type)].clock == "calendar":
            return due_at + max(now - paused_at, timedelta(0))
        left = self._working_between(levels, paused_at, due_at)
        return self._add_working(levels, now, left) if left > timedelta(0) else now

    def _working_between(self, levels: LevelSet, start: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        day = start.astimezone(self.tz).date()
        while day <= end.astimezone(self.tz).date():
            if day.isoweekday() in levels.working_days:
                opens = datetime.combine(day, levels.working_start, self.tz)
                closes = datetime.combine(day, levels.working_end, self.tz)
                total += max(min(closes, end) - max(opens, start), timedelta(0))
            day += timedelta(days=1)
        return total

    def _add_working(self, levels: LevelSet, start: datetime, left: timedelta) -> datetime:
        """``start`` plus ``left`` of working time (only the set's working days and hours count)."""
        moment = start.astimezone(self.tz)
        for _day in range(3660):  # ten years of days: a bound, never reached with sane figures
            day = moment.date()
            if day.isoweekday() in levels.working_days:
                opens = datetime.combine(day, levels.working_start, self.tz)
                closes = datetime.combine(day, levels.working_end, self.tz)
                begin = max(moment, opens)
                if begin < closes:
                    if begin + left <= closes:
                        return (begin + left).astimezone(UTC)
                    left -= closes - begin
            moment = datetime.combine(day + timedelta(days=1), time(0), self.tz)
        raise ReferenceDataError("service levels: no working hours in ten years", file="service_levels.toml")
