"""`teller demo` at a tiny size: staff, customers, history through the ledger, invariants hold."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from teller_tui.common.errors import Conflict


def _build(tmp_path: Path, name: str, **kw):  # type: ignore[no-untyped-def]
    from teller_tui.demo.build import build_demo
    from teller_tui.common.settings import load_settings

    settings = load_settings(home=tmp_path / name, database_url=f"sqlite:///{tmp_path / name / 'teller.db'}")
    kw.setdefault("now", datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    return settings, build_demo(settings, customers=kw.pop("customers", 50), seed=kw.pop("seed", 7),
                                progress=False, **kw)


def _dump(settings) -> list[tuple]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from teller_tui.db.engine import make_database

    db = make_database(settings.effective_database_url)
    with db.read() as s:
        rows = s.execute(text("SELECT full_name, name_latin, phone, id_number, w.number, w.tier FROM customer c "
                              "JOIN wallet w ON w.customer_id = c.id ORDER BY c.id")).all()
    db.dispose()
    return [tuple(r) for r in rows]


def test_demo_tiny_builds_consistent_books(tmp_path: Path) -> None:
    from sqlalchemy import func, select, text

    from teller_tui.audit.trail import verify
    from teller_tui.audit.trail import AuditTrail
    from teller_tui.common.clock import FakeClock
    from teller_tui.desk.customers import CustomerService
    from teller_tui.wallets.classes import TierTable
    from teller_tui.db.engine import make_database
    from teller_tui.demo.staff import DEMO_STAFF
    from teller_tui.wallets.identity import validate_prc_id
    from teller_tui.ledger import trial_balance
    from teller_tui.models import Customer, JournalEntry, Staff

    settings, summary = _build(tmp_path, "a", active=30)
    assert summary.customers == 50 and summary.entries > 30
    db = make_database(settings.effective_database_url)
    try:
        with db.read() as s:
            assert all(v == 0 for v in trial_balance(s).values())
            assert verify(s).ok
            assert {r.username for r in s.execute(select(Staff)).scalars()} >= {st.username for st in DEMO_STAFF}
            assert s.execute(select(func.count()).select_from(Customer)).scalar_one() == 50
            kinds = set(s.execute(select(JournalEntry.kind)).scalars())
            assert {"cash_in", "cash_out"} <= kinds
            neg = s.execute(text("SELECT count(*) FROM ledger_account WHERE kind = 'wallet' "
                                 "AND debits_posted > credits_posted")).scalar_one()
            assert neg == 0
            for c in s.execute(select(Customer).where(Customer.id_number.is_not(None))).scalars():
                validate_prc_id(c.id_number, today=datetime(2026, 11, 23).date())
                assert len(c.phone) == 11 and c.phone.startswith("1")
        first = _dump(settings)[0]
        clock = FakeClock()
        page = CustomerService(db, clock, settings, audit=AuditTrail(clock), tiers=TierTable.load()).search(first[2])
        assert page.results and page.results[0].phone == first[2]
    finally:
        db.dispose()


def test_demo_refuses_non_empty_database_unless_forced(tmp_path: Path) -> None:
    from teller_tui.demo.build import build_demo

    settings, _ = _build(tmp_path, "b", customers=5, active=5)
    with pytest.raises(Conflict, match="--force"):
        build_demo(settings, customers=5, progress=False)
    summary = build_demo(settings, customers=3, seed=1, force=True, progress=False, active=3,
                         now=datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    assert summary.customers == 3 and len(_dump(settings)) == 3


def test_demo_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    s1, _ = _build(tmp_path, "c", customers=20, active=5, seed=3)
    s2, _ = _build(tmp_path, "d", customers=20, active=5, seed=3)
    s3, _ = _build(tmp_path, "e", customers=20, active=5, seed=4)
    assert _dump(s1) == _dump(s2) != _dump(s3)


def test_demo_command_no_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from teller_tui.cli import main

    monkeypatch.setenv("TELLER_HOME", str(tmp_path / "cli"))
    monkeypatch.delenv("TELLER_DATABASE_URL", raising=False)
    assert main(["demo", "--customers", "10", "--no-run"]) == 0
    out = capsys.readouterr().out
    assert "teller1" in out and "teller-demo-pass" in out
    assert main(["demo", "--customers", "10", "--no-run"]) == 1
    assert "--force" in capsys.readouterr().err


def test_demo_customers_can_use_the_kiosk(tmp_path: Path) -> None:
    """The first customers get the documented demo PIN, so the kiosk and the customer display can
    be tried on the demo branch; everyone else has none."""
    from sqlalchemy import select

    from teller_tui.demo.build import DEMO_PIN, KIOSK_CUSTOMERS
    from teller_tui.models import Customer
    from teller_tui.services import make_services

    settings, summary = _build(tmp_path, "pins", customers=6)
    assert len(summary.kiosk_phones) == KIOSK_CUSTOMERS
    services = make_services(settings)
    try:
        with services.db.read() as s:
            customers = s.execute(select(Customer).order_by(Customer.id)).scalars().all()
        with_pin = [c for c in customers if c.pin_hash]
        assert [c.phone for c in with_pin] == list(summary.kiosk_phones)
        from teller_tui.auth.passwords import verify_pin

        assert verify_pin(with_pin[0].pin_hash or "", DEMO_PIN)
        assert not verify_pin(with_pin[0].pin_hash or "", "111111")
    finally:
        services.db.dispose()
