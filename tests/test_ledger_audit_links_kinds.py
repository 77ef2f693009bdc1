"""Check "A" of `teller ledger verify` covers every money-moving kind, in both directions.

For each entry kind the services post (the midnight cases of test_business_dates drive the real
services: counter, kiosk, approvals, drawers and vault, onboarding, wallet close, disputes), the
audit record that names the entry is then tampered with on a copy of the database:

* deleted (the audit chain recomputed over what is left): the entry has no audit record;
* its amount changed in ``detail.entries`` (chain recomputed): the record and the entry differ.

Both are caught by check "A" and name the entry. A negative control: the untouched books pass.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.audit.trail import record_hash, verify as verify_audit
from teller_tui.db.engine import make_database
from teller_tui.ledger.kinds import EntryKind
from teller_tui.ledger.verify import VerifyReport, verify_ledger
from teller_tui.ledger.verify_links import PROBLEM_NO_ENTRY, PROBLEM_NO_RECORD
from teller_tui.models import JournalEntry
from test_business_dates import AFTER_MIDNIGHT, CASES, World
from test_ledger_chain import tampered

#: Kinds the services post (demo and bench data are loaded in bulk, attested by one record).
SERVICE_KINDS = [k for k in EntryKind if k not in (EntryKind.DEMO_VAULT_OPEN, EntryKind.DEMO_DRAWER_ISSUE,
                                                    EntryKind.BENCH)]


def report_for(path: Path) -> VerifyReport:
    db = make_database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            return verify_ledger(s, history=True)
    finally:
        db.dispose()


def a_samples(report: VerifyReport, problem: str) -> str:
    return "\n".join(s for v in report.violations if v.invariant == "A" and v.problem == problem for s in v.samples)


def rechain_audit(c: sqlite3.Connection) -> None:
    """Recompute every audit hash, per stream, and the streams' heads (an attacker who knows the
    schema: one chain per stream since 0100_audit_streams)."""
    prev: dict[str, str] = {}
    for row in c.execute("SELECT seq, at, actor_id, actor, terminal_id, action, subject, outcome, detail_json, stream "
                         "FROM audit_record ORDER BY seq").fetchall():
        link = prev.get(row[9], "0" * 64)
        digest = record_hash(seq=row[0], at=datetime.fromisoformat(row[1]).replace(tzinfo=UTC), actor_id=row[2],
                             actor=row[3], terminal_id=row[4], action=row[5], subject=row[6], outcome=row[7],
                             detail_json=row[8], prev_hash=link)
        c.execute("UPDATE audit_record SET prev_hash = ?, hash = ? WHERE seq = ?", (link, digest, row[0]))
        prev[row[9]] = digest
    for stream, digest in prev.items():
        c.execute("UPDATE audit_stream_head SET hash = ? WHERE stream = ?", (digest, stream))


def naming_record(path: Path, reference: str) -> tuple[int, str, dict[str, Any]]:
    """The (seq, action, detail) of the one audit record whose ``entries`` name ``reference``."""
    con = sqlite3.connect(path)
    try:
        found = [(seq, action, json.loads(detail)) for seq, action, detail in con.execute(
            "SELECT seq, action, detail_json FROM audit_record WHERE detail_json LIKE ?", (f"%{reference}%",))
            if any(f.get("reference") == reference for f in json.loads(detail).get("entries", []))]
    finally:
        con.close()
    assert len(found) == 1, f"{reference}: {len(found)} records name it"
    return found[0]


@pytest.mark.parametrize("kind", SERVICE_KINDS, ids=[k.value for k in SERVICE_KINDS])
def test_every_kind_is_cross_checked_both_ways(desk: Desk, db_path: Path, tmp_path: Path,  # noqa: F811
                                              kind: EntryKind) -> None:
    w = World(desk)
    case: Callable[[World], Callable[[], None]] = CASES[kind][0]
    act = case(w)
    desk.clock.set(getattr(case, "when", AFTER_MIDNIGHT))
    act()
    with desk.db.read() as s:
        reference = s.execute(select(JournalEntry.reference).where(JournalEntry.kind == kind.value)
                              .order_by(JournalEntry.seq.desc())).scalars().first()  # type: ignore[attr-defined]
    assert reference is not None, f"the case posted no {kind}"
    desk.db.dispose()
    clean = report_for(db_path)
    assert clean.ok and "A" not in clean.notes, clean.render()  # negative control: the books agree
    seq, action, detail = naming_record(db_path, reference)
    fact = next(f for f in detail["entries"] if f["reference"] == reference)
    assert fact["kind"] == kind.value and isinstance(fact["amount"], int) and fact["amount"] > 0

    def delete(c: sqlite3.Connection) -> None:
        c.execute("DELETE FROM audit_record WHERE seq = ?", (seq,))
        rechain_audit(c)

    report = report_for(tampered(db_path, tmp_path, fn=delete))
    assert "A" in report.broken, report.render()
    assert f"{reference}: a {kind.value} without its audit record" in a_samples(report, PROBLEM_NO_RECORD)

    def edit(c: sqlite3.Connection) -> None:
        fact["amount"] += 1
        c.execute("UPDATE audit_record SET detail_json = ? WHERE seq = ?",
                  (json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False), seq))
        rechain_audit(c)

    report = report_for(tampered(db_path, tmp_path / "edit", fn=edit) if (tmp_path / "edit").mkdir() is None
                        else db_path)
    assert "A" in report.broken, report.render()
    text = a_samples(report, PROBLEM_NO_ENTRY)
    assert f"audit record {seq} ({action})" in text and reference in text and str(fact["amount"]) in text


def test_records_from_before_the_cut_over_do_not_fail_verify(desk: Desk, db_path: Path,  # noqa: F811
                                                             tmp_path: Path) -> None:
    """A database of an older release: its drawer, approval, reward and forfeit records named no
    entry. Upgrading appends the cut-over record (migration 0008), chained like any other record;
    verify passes and says what it could not check."""
    from alembic import command

    from teller_tui.db import schema

    w = World(desk)
    CASES[EntryKind.DRAWER_FLOAT][0](w)()  # a drawer float, among the World's cash-ins
    desk.db.dispose()

    def older_release(c: sqlite3.Connection) -> None:
        for seq, detail in c.execute("SELECT seq, detail_json FROM audit_record").fetchall():
            data = json.loads(detail)
            if data.pop("entries", None) is not None:
                c.execute("UPDATE audit_record SET detail_json = ? WHERE seq = ?",
                          (json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False), seq))
        rechain_audit(c)

    old = tampered(db_path, tmp_path, fn=older_release)
    report = report_for(old)
    assert report.broken == ["A"] and "a drawer_float without its audit record" in a_samples(
        report, PROBLEM_NO_RECORD), report.render()  # what the older rule could not check
    db = make_database(f"sqlite:///{old}")
    try:
        cfg = schema.alembic_config(db)
        with db.write_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0100_audit_streams@-3")  # 0100, 0090 and 0008
        schema.upgrade(db)
    finally:
        db.dispose()
    report = report_for(old)
    assert report.ok, report.render()
    assert "predate audit records naming every entry" in report.notes.get("A", "")
    db = make_database(f"sqlite:///{old}")
    try:
        with db.read() as s:
            assert verify_audit(s).ok  # the cut-over record is part of the chain
    finally:
        db.dispose()
    con = sqlite3.connect(old)
    assert con.execute("SELECT COUNT(*) FROM audit_record WHERE action = 'ledger_audit_links'").fetchone()[0] == 1
    con.close()
