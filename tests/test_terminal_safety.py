"""Nothing hostile reaches a terminal or a file: the end-of-day report and the CLI listings.

A large-value record whose customer name carries an OSC 52 clipboard write, a screen clear
and a bidi override (what a person could type into a form, or an attacker write into the
database) used to be executed by the terminal printing ``teller report eod``. Now every path
that prints or saves user text goes through :func:`teller_tui.common.text.clean_text`, and
columns are clipped by display width.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from teller_tui.common.formatting import display_width
from teller_tui.models.approvals import LargeValueReport
from teller_tui.models.drawers import BusinessDay

from drawer_fixtures import Branch, branch  # noqa: F401 - fixture

OSC52 = "\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07"
CLEAR = "\x1b[2J\x1b[H"
HOSTILE_NAME = f"{OSC52}{CLEAR}王芳\u202eLIVE\u202c 的非常非常非常长的名字和更多的字"
HOSTILE_TELLER = "mallory\x1b[31m\x9b2J"
#: Anything a terminal would act on: C0 (but \n), DEL, C1, bidi and other format characters.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _hostile_record(b: Branch) -> None:
    from drawer_fixtures import FLOAT

    b.services.drawers.open_drawer(b.teller, FLOAT, b.sup())  # opens the business day too
    with b.services.db.write() as s:
        day = s.exec(select(BusinessDay).order_by(col(BusinessDay.id).desc())).first()
        assert day is not None
        s.add(LargeValueReport(
            branch_code="B001", business_date=day.business_date, txn_at=b.clock.now(), customer_name=HOSTILE_NAME,
            direction="in", amount=5_000_000, cumulative_amount=5_000_000, teller_username=HOSTILE_TELLER,
            terminal="T01", reference="R20261123-000000999\x1b]0;pwned\x07", created_at=b.clock.now()))


def _assert_clean(text: str) -> None:
    assert not CONTROL.search(text), repr(CONTROL.search(text))
    assert "52;c;" not in text and "[2J" not in text and "pwned" not in text


def test_eod_report_text_and_file_carry_no_control_characters(branch: Branch) -> None:  # noqa: F811
    b = branch
    _hostile_record(b)
    report = b.services.drawers.eod_report("B001", write=True)
    text = report.text()
    _assert_clean(text)
    assert report.path is not None
    saved = report.path.read_text(encoding="utf-8")
    _assert_clean(saved)
    assert report.path.stat().st_mode & 0o777 == 0o600
    # The name is there (what is left of it), clipped to its column: the amount column starts
    # at the same cell on the large-value line whatever the name's width.
    line = next(ln for ln in text.splitlines() if "王芳" in ln)
    assert "…" in line and "LIVE" in line
    prefix = line[: line.index("CN¥")] if "CN¥" in line else line[: line.index("50,000")]
    assert display_width(prefix) == 2 + 22 + 16 + 5


def test_eod_report_carries_both_heads(branch: Branch) -> None:  # noqa: F811
    from teller_tui.audit.trail import AuditTrail
    from teller_tui.ledger.chain import branch_heads

    b = branch
    from drawer_fixtures import FLOAT

    b.services.drawers.open_drawer(b.teller, FLOAT, b.sup())
    report = b.services.drawers.eod_report("B001", write=False)
    with b.services.db.read() as s:
        audit = AuditTrail.head(s, "B001")  # the branch's audit stream
        [ledger] = [h for h in branch_heads(s) if h.branch_code == "B001"]
    text = report.text()
    assert audit[1] in text and f"#{audit[0]}" in text
    assert ledger.hash in text and f"B001:{ledger.last_seq}" in text


def test_cli_report_eod_stdout_and_saved_file(branch: Branch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui import cli

    b = branch
    _hostile_record(b)
    monkeypatch.setenv("TELLER_HOME", str(b.services.settings.home))
    monkeypatch.setenv("TELLER_DATABASE_URL", str(b.services.settings.effective_database_url))
    assert cli.main(["report", "eod"]) == 0
    captured = capsys.readouterr()
    _assert_clean(captured.out)
    _assert_clean(captured.err)
    assert "王芳" in captured.out
    saved = Path(captured.err.split("saved:", 1)[1].strip())
    _assert_clean(saved.read_text(encoding="utf-8"))


def test_cli_staff_listing_is_clean(branch: Branch, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui import cli
    from teller_tui.models import Staff

    b = branch
    with b.services.db.write() as s:
        row = s.exec(select(Staff).where(Staff.username == "wang")).one()
        row.display_name = f"Wang{OSC52}{CLEAR}\u202eevil"
    monkeypatch.setenv("TELLER_HOME", str(b.services.settings.home))
    monkeypatch.setenv("TELLER_DATABASE_URL", str(b.services.settings.effective_database_url))
    assert cli.main(["staff", "list"]) == 0
    out = capsys.readouterr().out
    _assert_clean(out)
    assert "Wang" in out


def test_fixed_width_helpers_clip_wide_text() -> None:
    from teller_tui.common.formatting import pad, truncate

    assert display_width(pad("王芳王芳王芳王芳王芳", 9, clip=True)) == 9
    assert display_width(truncate("王芳王芳王芳", 5)) <= 5
    assert pad("x", 3) == "x  "
