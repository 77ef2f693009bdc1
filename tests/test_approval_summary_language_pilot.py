"""An approval's one-line summary is stored as what it says (message id and arguments) and shown in
the reader's language: an administrator working in English asks for a role change, a supervisor
working in Chinese reads Chinese in the queue and in the decision dialog (real app, Pilot, 80x24).
A person's name inside the summary is shown as typed, never read as markup; an older row that kept
only its text shows that text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from textual.widgets import DataTable

from auth_fixtures import SECRETS, SUP_PW, cheap_hashing, seed_staff  # noqa: F401
from pilot_helpers import code_for, settle, sign_in, type_text
from screens.app import make_app
from screens.approvals_queue import ApprovalsQueueScreen, DecideScreen
from teller_tui.common.clock import FakeClock
from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.i18n import set_locale
from teller_tui.models import ApprovalRequest
from test_drawer_pilot import services_for
from test_zh_walk import screen_text


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    set_locale("en")


def _ask(services: Any, call: Any) -> int:
    """The administrator's request (their terminal, here the service), queued for any supervisor."""
    admin = services.auth.get_staff("admin").actor("T02")
    with pytest.raises(ApprovalRequired) as caught:
        call(admin)
    return int(services.approvals.request(admin, caught.value.details["spec"]).id)


@pytest.mark.asyncio
@pytest.mark.slow
async def test_english_admin_asks_chinese_supervisor_reads_and_approves(tmp_path: Path, db_path: Path, db: Any,
                                                                         clock: FakeClock) -> None:
    services = services_for(tmp_path, db_path, db, clock)
    seed_staff(services)
    set_locale("en")
    role_id = _ask(services, lambda a: services.staff_admin.change_role(a, "wang", "supervisor", "covers Saturdays"))
    add_id = _ask(services, lambda a: services.staff_admin.add(a, "sun", "[@click=app.quit]Sun[/]", "teller"))
    with services.db.read() as s:
        stored = {r.id: r.summary for r in s.exec(select(ApprovalRequest))}
    assert stored[role_id] == "Change the role of wang from teller to supervisor"  # as the admin read it
    assert stored[add_id] == "Add sun ([@click=app.quit]Sun[/]) as teller"
    app = make_app(services.settings, services=services, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "li", SUP_PW, SECRETS["li"], clock)
        app.set_language("zh_CN")
        await pilot.press("ctrl+a")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, ApprovalsQueueScreen)
        table = queue.query_one("#queue-table", DataTable)
        assert table.row_count == 2
        cells = {str(table.get_row(str(i))[3]) for i in (role_id, add_id)}
        assert cells == {"将 wang 的角色由柜员变更为主管", "添加 sun（[@click=app.quit]Sun[/]）为柜员"}, cells
        table.move_cursor(row=table.get_row_index(str(role_id)))
        await pilot.press("enter")
        await settle(pilot)
        decide = app.screen
        assert isinstance(decide, DecideScreen)
        lines = screen_text(app)
        assert any("将 wang 的角色由柜员变更为主管" in line for line in lines), lines
        assert not any("Change the role" in line for line in lines), lines
        assert all(len(line.rstrip()) <= 80 for line in lines)
        await type_text(pilot, SUP_PW)
        await pilot.press("enter")
        await type_text(pilot, code_for(SECRETS["li"], clock, 1))  # the sign-in used this step's code
        await pilot.press("enter")
        await type_text(pilot, "ok")
        await pilot.press("f10")
        await settle(pilot)
        assert app.screen is queue
        assert table.row_count == 1
        table.move_cursor(row=0)
        await pilot.press("enter")  # the name typed as markup is text: the app is still running
        await settle(pilot)
        assert isinstance(app.screen, DecideScreen)
        assert any("[@click=app.quit]Sun[/]" in line for line in screen_text(app))
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running
    # The administrator retries with the approval: the change is made.
    admin = services.auth.get_staff("admin").actor("T02")
    services.staff_admin.change_role(admin, "wang", "supervisor", "covers Saturdays", approval_id=role_id)
    assert services.auth.get_staff("wang").role == "supervisor"


def test_an_older_row_without_its_message_shows_its_text(tmp_path: Path, db_path: Path, db: Any,
                                                         clock: FakeClock) -> None:
    services = services_for(tmp_path, db_path, db, clock)
    seed_staff(services)
    set_locale("en")
    request_id = _ask(services, lambda a: services.staff_admin.reset_authenticator(a, "wang", "new phone"))
    with services.db.write() as s:
        row = s.get(ApprovalRequest, request_id)
        assert row is not None
        data = json.loads(row.request_json)
        assert data["annotations"]["summary_msg"]["msgid"] == "Reset the authenticator of {user}"
        data["annotations"].pop("summary_msg")  # as a row written before summaries kept their message
        row.request_json = json.dumps(data)
    set_locale("zh_CN")
    view = next(v for v in services.approvals.pending("B001") if v.id == request_id)
    assert view.summary == "Reset the authenticator of wang"  # its text, as written
    with services.db.write() as s:
        row = s.get(ApprovalRequest, request_id)
        assert row is not None
        data["annotations"]["summary_msg"] = {"msgid": "Reset the authenticator of {user}",
                                              "params": {"user": "wang"}}
        row.request_json = json.dumps(data)
    view = next(v for v in services.approvals.pending("B001") if v.id == request_id)
    assert view.summary != "Reset the authenticator of wang" and "wang" in view.summary, view.summary


def test_a_name_with_braces_is_text_in_every_language(tmp_path: Path, db_path: Path, db: Any,
                                                     clock: FakeClock) -> None:
    services = services_for(tmp_path, db_path, db, clock)
    seed_staff(services)
    set_locale("en")
    request_id = _ask(services, lambda a: services.staff_admin.add(a, "zhou", "{user} {0} {name!r}\x1b[2J", "admin"))
    for locale, expected in (("zh_CN", "添加 zhou（{user} {0} {name!r}）为管理员"),
                             ("en", "Add zhou ({user} {0} {name!r}) as administrator")):
        set_locale(locale)
        view = next(v for v in services.approvals.pending("B001") if v.id == request_id)
        assert view.summary == expected, view.summary
