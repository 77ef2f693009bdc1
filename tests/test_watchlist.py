"""Watch-list screening: the file format, fuzzy matching in Chinese characters and pinyin, the hold at
onboarding (a supervisor's approval) and the periodic scan."""

from __future__ import annotations

from datetime import date

import pytest

from onboarding_fixtures import PIN, card_number, counter_approval, env, full_data  # noqa: F401
from teller_tui.common.errors import ApprovalRequired, ValidationError
from teller_tui.risk.watchlist import Watchlist, edit_distance, name_keys

LIST = Watchlist.load()
WL1_ID = "110101196001010230"  # WL-0001 钱多多, born 1960 (fictional)


def _hits(names: tuple[str, ...], id_number: str | None = None, born: date | None = None) -> list[str]:
    return [h.entry.list_id for h in LIST.screen(names=names, id_number=id_number, birth_date=born)]


def test_shipped_sample_loads() -> None:
    assert [e.list_id for e in LIST.entries] == ["WL-0001", "WL-0002", "WL-0003", "WL-0004"]
    assert all("fictional" in e.source for e in LIST.entries)


@pytest.mark.parametrize(("names", "id_number", "born", "expected"), [
    (("完全不同",), WL1_ID, None, ["WL-0001"]),  # the ID number alone
    (("完全不同",), " 44010119820808067x ", None, ["WL-0004"]),  # spaces and case ignored
    (("钱多多",), None, date(1960, 5, 1), ["WL-0001"]),  # same name, same birth year
    (("钱朵朵",), None, date(1960, 5, 1), ["WL-0001"]),  # other characters, same pinyin
    (("钱多",), None, date(1960, 5, 1), []),  # "qianduo": two letters away
    (("前多多",), None, date(1960, 5, 1), ["WL-0001"]),  # qian: same pinyin, other tone and character
    (("", "Qian Duoduo"), None, date(1960, 5, 1), ["WL-0001"]),  # latin spelling
    (("", "qian duodou"), None, date(1960, 5, 1), []),  # two edits
    (("", "qian duodu"), None, date(1960, 5, 1), ["WL-0001"]),  # one edit
    (("钱多多",), None, date(1961, 5, 1), []),  # another birth year
    (("钱多多",), None, None, []),  # no birth date: a name alone never matches
    (("Testa Fictiva",), None, date(1982, 1, 1), ["WL-0003"]),
    (("王芳",), "110101199003070015", date(1990, 3, 7), []),
])
def test_matching(names: tuple[str, ...], id_number: str | None, born: date | None, expected: list[str]) -> None:
    assert _hits(names, id_number, born) == expected


def test_keys_and_distance() -> None:
    assert name_keys("张伟") == {"zhangwei"}
    assert name_keys("Zhang Wei", "章伟") == {"zhangwei"}
    assert edit_distance("zhangwei", "zhangwi") == 1 and edit_distance("abc", "xyz") == 2


@pytest.mark.parametrize(("text", "fragment"), [
    ("list_id,name\nA,b\n", "header"),
    ("list_id,name,name_latin,id_number,birth_year,source\nA,,,,1960,x\n", "name or an ID"),
    ("list_id,name,name_latin,id_number,birth_year,source\nA,x,,,19x0,\n", "birth_year"),
    ("list_id,name,name_latin,id_number,birth_year,source\nA,x,,,,\nA,y,,,,\n", "unique"),
])
def test_malformed_list_names_the_line(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        Watchlist.parse("# comment\n" + text)
    assert fragment in str(info.value)


def _listed_person(**over: dict[str, object]) -> dict[str, dict[str, object]]:
    return full_data(identity={"number": WL1_ID}, personal={"full_name": "钱多多", "name_latin": "qian duoduo"},
                     funding={"holder_name": "钱多多", "number": card_number("622202987654321")}, **over)


def test_onboarding_a_match_is_held_for_a_supervisor(env) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    data = _listed_person()
    with pytest.raises(ApprovalRequired) as held:
        env.onboarding.issue(env.teller, data, pin=PIN, idempotency_key="wl-1")
    assert held.value.rules == ["watchlist_hit"]
    spec = held.value.details["spec"]
    # The supervisor sees the match (review); the teller's screen, which the customer can see, never says
    # "watch list" (reasons, summary, memo, action title).
    assert spec.kind == "watchlist_onboarding" and "WL-0001" in spec.review[0] and "WL-0001" not in spec.reason
    from teller_tui.approvals.actions import action_title

    shown = " ".join((*spec.reasons, spec.display_summary(), spec.reason, action_title(spec.kind))).lower()
    assert "watch" not in shown and "supervisor's review" in shown
    assert env.onboarding.find_duplicate("prc_id", WL1_ID) is None  # nothing was created
    res = env.onboarding.issue(env.teller, data, pin=PIN, idempotency_key="wl-1",
                               approval_id=counter_approval(env, spec))
    assert res.customer_no
    with env.services.db.read() as s:
        from sqlalchemy import select

        from teller_tui.models import AuditRecord

        detail = s.execute(select(AuditRecord.detail_json).where(AuditRecord.action == "customer_onboard")
                           ).scalar_one()
    assert '"watchlist":["WL-0001"]' in detail
    # The periodic scan holds the customer for a supervisor as well (once, however often it runs).
    sup = env.supervisor
    env.services.risk.scan(sup)
    env.services.risk.scan(sup)
    (alert,) = [a for a in env.services.risk.alerts(sup) if a.rule == "watchlist"]
    assert alert.window == "w:WL-0001" and alert.customer_id == res.customer_id


def test_onboarding_without_a_match_is_not_held(env) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert env.onboarding.issue(env.teller, full_data(), pin=PIN, idempotency_key="plain").customer_no
