"""Check "A" (ledger/audit cross-check) on both backends (``[sqlite]``, ``[postgresql]``): its
JSON reads are SQLite's json_each/json_extract on one and jsonb on the other.

A branch day through the real services (drawer floats at the desk's start, cash in, a reversal);
then the audit record naming a drawer float is deleted, and a cash-in record's amount is edited.
Both are found and named; the untouched books pass (negative control).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from backends import backend_db  # noqa: F401  (fixture)
from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import ApprovalRequired
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.ledger.verify import verify_ledger
from teller_tui.ledger.verify_links import PROBLEM_NO_ENTRY, PROBLEM_NO_RECORD

from test_tamper_backends import one, tamper


@pytest.fixture
def db(backend_db: Any) -> Any:  # desk_fixtures.desk builds on ``db``  # noqa: F811
    return backend_db


def samples(db: Any, problem: str) -> tuple[list[str], str]:
    with db.read() as s:
        report = verify_ledger(s, history=True)
    text = "\n".join(x for v in report.violations if v.invariant == "A" and v.problem == problem for x in v.samples)
    return report.broken, text


def record_naming(db: Any, reference: str) -> tuple[int, dict[str, Any]]:
    seq, detail = one(db, f"SELECT seq, detail_json FROM audit_record WHERE detail_json LIKE '%{reference}%' "
                          "AND action <> 'approval_consume' ORDER BY seq LIMIT 1")
    return int(seq), json.loads(detail)


def test_cross_check_catches_a_deleted_and_an_edited_record(desk: Desk, db: Any) -> None:  # noqa: F811
    wid = desk.wallet(desk.customer("王芳", phone="13900000021"))
    first = desk.cash.cash_in(desk.teller, wid, Money.of("300"), idempotency_key=key())
    k = key()
    try:
        desk.cash.reverse(desk.teller, first.entry_id, "wrong wallet", idempotency_key=k)
    except ApprovalRequired as err:
        desk.cash.reverse(desk.teller, first.entry_id, "wrong wallet", idempotency_key=k,
                          approval_id=desk.approve(desk.teller, err.details["spec"]))
    cash_in = desk.cash.cash_in(desk.teller, wid, Money.of("12.34"), idempotency_key=key())
    with db.read() as s:
        report = verify_ledger(s, history=True)
    assert report.ok and "A" not in report.notes, report.render()
    float_ref, = one(db, "SELECT reference FROM journal_entry WHERE kind = 'drawer_float' ORDER BY seq LIMIT 1")
    float_seq, _detail = record_naming(db, float_ref)
    cash_seq, detail = record_naming(db, cash_in.reference)
    assert detail["entries"][0]["amount"] == 1234
    detail["entries"][0]["amount"] = 1235
    edited = json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace("'", "''")
    tamper(db, f"DELETE FROM audit_record WHERE seq = {float_seq}",
           f"UPDATE audit_record SET detail_json = '{edited}' WHERE seq = {cash_seq}")
    broken, missing = samples(db, PROBLEM_NO_RECORD)
    assert "A" in broken and f"{float_ref}: a drawer_float without its audit record" in missing
    _broken, differs = samples(db, PROBLEM_NO_ENTRY)
    assert f"audit record {cash_seq} (cash_in)" in differs and "1235" in differs, differs
