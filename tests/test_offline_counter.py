"""The offline counter (issue 26): cash-ins taken while the central database cannot be reached, kept in
the terminal's own durable queue, uploaded by each item's own idempotency key once it answers.

The central database here is a real SQLite file made unreachable (its path replaced by a directory,
so every connection fails) and then put back; tests/test_offline_pg.py does the same with a real
PostgreSQL server stopped and started.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import Conflict, LimitExceeded, PermissionDenied, StorageError
from teller_tui.common.money import Money
from teller_tui.ledger.business_day import open_business_date
from teller_tui.models import AuditRecord, JournalEntry
from teller_tui.offline.service import OfflineService
from teller_tui.offline.store import OfflineStore
from teller_tui.offline.types import ItemStatus


@contextmanager
def database_away(db: Any) -> Iterator[None]:
    """The central SQLite database cannot be reached: its file is gone and nothing can open it."""
    db_path = Path(db.path)
    if db_path.is_dir():  # already away
        yield
        return
    db.dispose()
    moved = db_path.with_name(db_path.name + ".away")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(db_path) + suffix)
        if src.exists():
            src.rename(Path(str(moved) + suffix))
    db_path.mkdir()  # "unable to open database file" for every connection
    try:
        yield
    finally:
        db_path.rmdir()
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(moved) + suffix)
            if src.exists():
                src.rename(Path(str(db_path) + suffix))
        db.dispose()


@contextmanager
def unreachable(desk: Desk, db_path: Path) -> Iterator[None]:  # noqa: F811
    assert Path(desk.db.path) == db_path
    with database_away(desk.db):
        yield


def offline_call(db: Any, fn: Any) -> Any:
    """``fn`` called while the central database is away (offline taking probes it and refuses otherwise)."""
    def call(*args: Any, **kwargs: Any) -> Any:
        with database_away(db):
            return fn(*args, **kwargs)
    return call


def wallet_number(desk: Desk, wallet_id: int) -> str:  # noqa: F811
    return desk.services.wallets.get_wallet(wallet_id).number


def entries_by_key(desk: Desk, key: str) -> list[Any]:  # noqa: F811
    with desk.db.read() as s:
        return list(s.execute(select(JournalEntry.id, JournalEntry.business_date, JournalEntry.memo)
                              .where(JournalEntry.idempotency_key == key)).all())


def audit_count(desk: Desk, action: str) -> int:  # noqa: F811
    with desk.db.read() as s:
        return int(s.execute(select(func.count()).select_from(AuditRecord)
                             .where(AuditRecord.action == action)).scalar_one())


def balance(desk: Desk, wallet_id: int) -> int:  # noqa: F811
    account = desk.services.wallets.get_wallet(wallet_id).account_id
    with desk.db.read() as s:
        b = desk.ledger.balance(s, account)
        return int(b.credits_posted - b.debits_posted)


def signed_in(desk: Desk, *actors: Any) -> None:  # noqa: F811
    """Each actor signed in at their terminal (the central audit trail's record the upload checks)."""
    with desk.db.write() as s:
        for actor in actors:
            desk.audit.append(s, actor, "sign_in", subject=f"staff:{actor.username}", detail={"totp": True})


@pytest.fixture
def world(desk: Desk) -> tuple[Desk, int, int]:  # noqa: F811
    signed_in(desk, desk.teller, desk.teller2, desk.supervisor)
    w1 = desk.wallet(desk.customer())
    w2 = desk.wallet(desk.customer(name="李娜", latin="li na"))
    for w in (w1, w2):
        desk.services.offline.remember(desk.teller, w)  # seen on screen while the database answered
    return desk, w1, w2


def test_cash_ins_taken_while_unreachable_upload_once_it_is_back(world: Any, db_path: Path) -> None:
    desk, w1, w2 = world
    off, teller = desk.services.offline, desk.teller
    before = (balance(desk, w1), balance(desk, w2))
    n1, n2 = wallet_number(desk, w1), wallet_number(desk, w2)
    with unreachable(desk, db_path):
        with pytest.raises(StorageError):  # really unreachable
            desk.services.wallets.get_wallet(w1)
        r1 = offline_call(desk.db, off.take_cash_in)(teller, n1, Money.of("300"), memo="rent")
        r2 = offline_call(desk.db, off.take_cash_in)(teller, " ".join([n2[:4], n2[4:]]), Money.of("400.50"))  # spaces as typed
        assert r1.item.reference.startswith("OFFLINE-") and r1.item.key != r2.item.key
        assert "PENDING CONFIRMATION" in r1.text and r1.item.reference in r1.text
        summary = off.summary(teller)
        assert (summary.queued, summary.exceptions) == (2, 0)
        assert summary.amounts["CNY"] == Money.of("700.50")
        assert off.unposted_cash(teller) == [Money.of("700.50")]
        with pytest.raises(StorageError):  # the upload's guard needs the database
            off.upload(teller)
    store = OfflineStore.for_terminal(desk.settings.home, teller.terminal_id)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    report = off.upload(teller)
    assert [i.reference for i in report.posted] == [r1.item.reference, r2.item.reference]
    assert not report.exceptions and report.left == 0
    assert (balance(desk, w1), balance(desk, w2)) == (before[0] + 30000, before[1] + 40050)
    rows = entries_by_key(desk, r1.item.key)
    assert len(rows) == 1 and rows[0].memo.startswith(r1.item.reference) and "rent" in rows[0].memo
    assert audit_count(desk, "offline_upload") == 2
    assert off.upload(teller).posted == []  # nothing left; nothing posted again
    assert len(entries_by_key(desk, r1.item.key)) == 1
    assert off.summary(teller).empty and off.unposted_cash(teller) == []
    assert {i.status for i in off.items(teller)} == {ItemStatus.POSTED}


def test_upload_while_the_database_is_away_keeps_the_queue(world: Any, db_path: Path) -> None:
    desk, w1, _w2 = world
    off = desk.services.offline
    taken = offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of("50"))
    uploader_items = OfflineStore.for_terminal(desk.settings.home, "T01")
    with unreachable(desk, db_path):
        unguarded = type(off).upload.__wrapped__  # type: ignore[attr-defined] - the guard reads the staff row
        report = unguarded(off, desk.teller)
    assert report.left == 1 and not report.posted
    assert uploader_items.get(taken.item.key).status == ItemStatus.QUEUED  # type: ignore[union-attr]
    assert off.upload(desk.teller).posted[0].key == taken.item.key


def test_caps_per_wallet_teller_and_outage(world: Any) -> None:
    desk, w1, w2 = world
    settings = desk.settings.model_copy(update={"offline_cap_per_wallet": 60_000, "offline_cap_per_teller": 80_000,
                                                "offline_cap_per_outage": 100_000})
    off = OfflineService(desk.db, desk.clock, settings, desk.ledger, desk.audit, cash=desk.cash)
    for w in (w1, w2):
        off.remember(desk.teller2, w)
    n1, n2 = wallet_number(desk, w1), wallet_number(desk, w2)
    offline_call(desk.db, off.take_cash_in)(desk.teller, n1, Money.of("400"))
    with pytest.raises(LimitExceeded, match="per wallet") as exc:
        offline_call(desk.db, off.take_cash_in)(desk.teller, n1, Money.of("200.01"))
    assert exc.value.code == "offline_cap"
    offline_call(desk.db, off.take_cash_in)(desk.teller, n1, Money.of("200"))  # exactly the cap
    offline_call(desk.db, off.take_cash_in)(desk.teller, n2, Money.of("200"))
    with pytest.raises(LimitExceeded, match="Your offline cap"):
        offline_call(desk.db, off.take_cash_in)(desk.teller, n2, Money.of("0.01"))
    offline_call(desk.db, off.take_cash_in)(desk.teller2, n2, Money.of("200"))
    with pytest.raises(LimitExceeded, match="terminal's offline cap"):
        offline_call(desk.db, off.take_cash_in)(desk.teller2, n2, Money.of("0.01"))
    assert off.summary(desk.teller).amounts["CNY"] == Money.of("1000")
    # Once posted, the cash is in the books: the next outage has its caps again.
    assert len(off.upload(desk.teller).posted) == 4
    offline_call(desk.db, off.take_cash_in)(desk.teller, n1, Money.of("500"))


def test_only_cash_in_into_a_known_wallet_by_a_teller_with_an_open_drawer(world: Any) -> None:
    desk, w1, _w2 = world
    off = desk.services.offline
    stranger = desk.wallet(desk.customer(name="张伟", latin="zhang wei"))
    with pytest.raises(Conflict) as exc:  # never seen at this terminal
        offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, stranger), Money.of("10"))
    assert exc.value.code == "offline_unknown_wallet"
    nobody = desk.staff("teller9")  # no drawer: the terminal never saw one open for them
    with pytest.raises(Conflict) as exc:
        offline_call(desk.db, off.take_cash_in)(nobody, wallet_number(desk, w1), Money.of("10"))
    assert exc.value.code == "offline_no_drawer"
    desk.clock.advance(hours=desk.settings.offline_wallet_cache_hours + 1)  # seen too long ago
    with pytest.raises(Conflict):
        offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of("10"))
    assert not hasattr(off, "take_cash_out")  # cash-in only


def test_a_wallet_frozen_meanwhile_lands_on_the_exception_list(world: Any) -> None:
    desk, w1, w2 = world
    off, teller, sup = desk.services.offline, desk.teller, desk.supervisor
    a = offline_call(desk.db, off.take_cash_in)(teller, wallet_number(desk, w1), Money.of("120"))
    b = offline_call(desk.db, off.take_cash_in)(teller, wallet_number(desk, w2), Money.of("80"))
    desk.services.wallets.freeze(teller, w1, "phone reported stolen")  # while the terminal was cut off
    before = balance(desk, w1)
    report = off.upload(teller)
    assert [i.key for i in report.posted] == [b.item.key]
    assert [(i.key, i.reason_code) for i in report.exceptions] == [(a.item.key, "offline_wallet_frozen")]
    assert balance(desk, w1) == before and entries_by_key(desk, a.item.key) == []
    assert audit_count(desk, "offline_exception") == 1
    # Still the drawer's cash: the banner and the drawer count show it until a supervisor decides.
    assert off.summary(teller).exceptions == 1 and off.unposted_cash(teller) == [Money.of("120")]
    assert off.upload(teller).posted == []  # an exception is not retried by itself
    with pytest.raises(PermissionDenied):
        off.exceptions(teller)
    with pytest.raises(PermissionDenied):
        off.refund(teller, a.item.key, "handed back")
    assert [i.key for i in off.exceptions(sup)] == [a.item.key]
    done = off.refund(sup, a.item.key, "handed back to the customer")
    assert done.status == ItemStatus.REFUNDED and done.resolved_by == sup.username
    assert audit_count(desk, "offline_refund") == 1 and entries_by_key(desk, a.item.key) == []
    assert off.unposted_cash(teller) == [] and off.exceptions(sup) == []


def test_a_supervisor_may_post_an_exception_after_all(world: Any) -> None:
    desk, w1, _w2 = world
    off = desk.services.offline
    a = offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of("60"))
    desk.services.wallets.freeze(desk.teller, w1, "checking a complaint")
    assert off.upload(desk.teller).exceptions
    before = balance(desk, w1)
    done = off.post_exception(desk.supervisor, a.item.key, "customer known; freeze is for payments out")
    assert done.status == ItemStatus.POSTED and done.entry_reference
    assert balance(desk, w1) == before + 6000 and len(entries_by_key(desk, a.item.key)) == 1
    assert audit_count(desk, "offline_exception_post") == 1


def test_a_hard_refusal_of_the_books_is_an_exception_too(world: Any) -> None:
    desk, w1, _w2 = world
    off = desk.services.offline
    a = offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of("70"))
    customer = desk.services.wallets.get_wallet(w1).customer_id
    desk.services.lost_phones.report(desk.teller, customer, w1, "phone lost on the bus")  # blocked meanwhile
    report = off.upload(desk.teller)
    assert [i.key for i in report.exceptions] == [a.item.key] and report.exceptions[0].reason
    with pytest.raises(Conflict):  # the books still refuse: refund is the way
        off.post_exception(desk.supervisor, a.item.key, "try again")
    assert off.exceptions(desk.supervisor)[0].key == a.item.key


def test_taken_before_midnight_uploaded_after_keeps_its_business_day(world: Any) -> None:
    desk, w1, _w2 = world
    off = desk.services.offline
    desk.clock._now = datetime(2026, 11, 23, 15, 50, tzinfo=UTC)  # 23:50 in Shanghai
    off.remember(desk.teller, w1)
    with desk.db.read() as s:
        day = open_business_date(s, "B001")
    a = offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of("10"))
    desk.clock.advance(minutes=20)  # 00:10 the next calendar day; the branch's day is still open
    assert off.upload(desk.teller).posted
    assert entries_by_key(desk, a.item.key)[0].business_date == day == a.item.business_date


def test_a_day_closed_meanwhile_is_not_posted_into_the_next(world: Any) -> None:
    desk, w1, _w2 = world
    off = desk.services.offline
    a = offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of("10"))
    desk.next_business_day()  # the branch closed the day while this terminal was cut off
    report = off.upload(desk.teller)
    assert [i.reason_code for i in report.exceptions] == ["offline_day_changed"]
    assert entries_by_key(desk, a.item.key) == []


def test_an_upload_interrupted_after_posting_never_posts_twice(world: Any) -> None:
    desk, w1, w2 = world
    off = desk.services.offline
    a = offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of("11"))
    b = offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w2), Money.of("22"))

    class Killed(BaseException):
        pass

    def die(stage: str, item: Any) -> None:
        if item.key == a.item.key:
            raise Killed  # the terminal dies between the posting and the queue's update

    off.fault_hook = die
    with pytest.raises(Killed):
        off.upload(desk.teller)
    assert OfflineStore.for_terminal(desk.settings.home, "T01").get(a.item.key).status == ItemStatus.QUEUED  # type: ignore[union-attr]
    assert len(entries_by_key(desk, a.item.key)) == 1
    off.fault_hook = None
    report = off.upload(desk.teller)  # sent again: found by its key
    assert {i.key for i in report.posted} == {a.item.key, b.item.key}
    assert len(entries_by_key(desk, a.item.key)) == 1 and len(entries_by_key(desk, b.item.key)) == 1
    assert audit_count(desk, "offline_upload") == 2 and audit_count(desk, "cash_in") >= 2


SCRIPT = textwrap.dedent("""
    import os, sys
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.audit.trail import Actor
    from teller_tui.common.settings import load_settings
    from teller_tui.db.engine import make_database
    from teller_tui.services import make_services
    home, url, staff_id, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    services = make_services(load_settings(home=home, locale="en"), database=make_database(url),
                             box=SecretBox.ephemeral())
    posted = []
    def hook(stage, item):
        posted.append(item.key)
        if len(posted) == kill_after:
            os.kill(os.getpid(), 9)  # SIGKILL: the entry committed, the queue not yet told
    services.offline.fault_hook = hook
    report = services.offline.upload(Actor(staff_id, "teller1", "T01", "teller", "B001"))
    print(len(report.posted))
""")


def test_an_uploader_killed_mid_way_never_posts_twice(world: Any, db_path: Path) -> None:
    desk, w1, w2 = world
    off = desk.services.offline
    desk.clock._now = datetime.now(UTC) - timedelta(minutes=5)  # the subprocess posts on the real clock
    signed_in(desk, desk.teller)  # on the moved clock: the upload finds the teller's session here
    for w in (w1, w2):
        off.remember(desk.teller, w)
    items = [offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w), Money.of(str(10 + n)))
             for n, w in enumerate((w1, w2, w1))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                       os.environ.get("PYTHONPATH", "")])}
    args = [sys.executable, "-c", SCRIPT, str(desk.settings.home), f"sqlite:///{db_path}",
            str(desk.teller.staff_id)]
    killed = subprocess.run([*args, "2"], env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    posted = [len(entries_by_key(desk, i.item.key)) for i in items]
    assert posted == [1, 1, 0]
    statuses = [OfflineStore.for_terminal(desk.settings.home, "T01").get(i.item.key).status  # type: ignore[union-attr]
                for i in items]
    assert statuses == [ItemStatus.POSTED, ItemStatus.QUEUED, ItemStatus.QUEUED]
    again = subprocess.run([*args, "0"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip()) == 2
    assert [len(entries_by_key(desk, i.item.key)) for i in items] == [1, 1, 1]
    assert {i.status for i in off.items(desk.teller)} == {ItemStatus.POSTED}


def test_a_cash_in_whose_outcome_is_unknown_is_not_taken_again_offline(world: Any) -> None:
    """Sent just before the outage, its answer never came: taking the same cash offline could post it twice."""
    desk, w1, w2 = world
    number = wallet_number(desk, w1)
    desk.services.inflight.record(desk.teller, "cash_in", "desk-unknown", wallet=number, amount=Money.of("300"))
    with pytest.raises(Conflict) as exc:
        offline_call(desk.db, desk.services.offline.take_cash_in)(desk.teller, number, Money.of("300"))
    assert exc.value.code == "offline_in_flight"
    offline_call(desk.db, desk.services.offline.take_cash_in)(desk.teller, wallet_number(desk, w2), Money.of("300"))  # another wallet: fine
    desk.services.inflight.resolve(desk.teller, "desk-unknown")  # the answer came: "not posted"
    offline_call(desk.db, desk.services.offline.take_cash_in)(desk.teller, number, Money.of("300"))
