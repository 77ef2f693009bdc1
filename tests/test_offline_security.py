"""Security review (wave 4): findings in the offline counter (each test failed before its fix)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import DomainError
from teller_tui.common.money import Money
from teller_tui.offline.store import OfflineStore
from teller_tui.offline.types import ItemStatus
from test_offline_counter import balance, entries_by_key, offline_call, signed_in, wallet_number


@pytest.fixture
def world(desk: Desk) -> tuple[Desk, int, int]:  # noqa: F811
    signed_in(desk, desk.teller, desk.supervisor)  # teller2 never signed in at T01
    w1 = desk.wallet(desk.customer())
    w2 = desk.wallet(desk.customer(name="李娜", latin="li na"))
    for actor in (desk.teller, desk.supervisor):
        for w in (w1, w2):
            desk.services.offline.remember(actor, w)
    return desk, w1, w2


def test_a_supervisor_cannot_refund_their_own_offline_exception(world: Any) -> None:
    """F1: the supervisor who TOOK the cash offline resolves its exception by 'refund' (nothing posted,
    the item leaves their drawer's expected cash). Four eyes: the taker must not resolve their own item."""
    desk, w1, _w2 = world
    off, sup = desk.services.offline, desk.supervisor
    taken = offline_call(desk.db, off.take_cash_in)(sup, wallet_number(desk, w1), Money.of("300"))
    desk.services.wallets.freeze(sup, w1, "checking")  # anything that sends it to the exception list
    assert off.upload(sup).exceptions
    assert off.unposted_cash(sup) == [Money.of("300")]
    with pytest.raises(DomainError):
        off.refund(sup, taken.item.key, "handed back to the customer")  # HEAD: accepted


def _edit(store: OfflineStore, sql: str, *args: Any) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute(sql, args)


def test_an_edited_queue_file_does_not_post_as_someone_else_or_elsewhere(world: Any) -> None:
    """F2: the queue file is the only record of who took what. Edited (the teller's own OS account owns
    it, 0600), the upload posts whatever it says: another teller as taker (their drawer is credited
    with cash they never took, the audit says they took it), a wallet never seen at this terminal, any
    amount above the caps. Nothing binds an item to what was checked when it was taken."""
    desk, w1, _w2 = world
    off = desk.services.offline
    stranger = desk.wallet(desk.customer(name="张伟", latin="zhang wei"))  # never seen at this terminal
    taken = offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of("10"))
    store = OfflineStore.for_terminal(desk.settings.home, desk.teller.terminal_id)
    _edit(store, "UPDATE items SET staff_id = ?, username = ?, wallet_id = ?, amount_minor = ? WHERE key = ?",
          desk.teller2.staff_id, desk.teller2.username, stranger, 4_999_900, taken.item.key)
    before = balance(desk, stranger)
    report = off.upload(desk.teller)  # run by teller1
    posted = [i for i in report.posted if i.key == taken.item.key]
    # HEAD: posted as teller2 into the stranger's wallet, 49,999.00 instead of 10.00
    assert not posted and balance(desk, stranger) == before and entries_by_key(desk, taken.item.key) == []


def test_a_refund_and_a_post_of_one_exception_cannot_both_happen(world: Any) -> None:
    """F3: refund() ignores set_status()'s answer and audits before it; post_exception() too. A refund whose
    ledger check ran before a concurrent post committed still writes 'offline_refund' and flips the row, and
    the post's own flip to POSTED then silently fails: the customer gets the cash back AND the wallet is
    credited. Shown here without threads: the second resolution of an already-refunded item."""
    desk, w1, _w2 = world
    off, sup = desk.services.offline, desk.supervisor
    taken = offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of("50"))
    desk.services.wallets.freeze(desk.teller, w1, "checking")
    off.upload(desk.teller)
    store = OfflineStore.for_terminal(desk.settings.home, desk.teller.terminal_id)

    def refund_meanwhile(stage: str, item: Any) -> None:  # another supervisor's refund lands right after the post
        store.set_status(item.key, ItemStatus.REFUNDED, desk.clock.now(), expect=(ItemStatus.EXCEPTION,),
                         resolved_by="super2")

    off.fault_hook = refund_meanwhile
    try:
        done = off.post_exception(sup, taken.item.key, "customer known")
    except DomainError:
        done = None
    final = store.get(taken.item.key)
    assert final is not None
    # HEAD: the entry is posted, the row says REFUNDED, and post_exception returned as if all was well
    assert not (entries_by_key(desk, taken.item.key) and final.status == ItemStatus.REFUNDED and done is not None)


def test_the_caps_hold_across_terminals(world: Any) -> None:
    """F4: every cap (per wallet, per teller, per outage) is counted in ONE terminal's file, and the upload
    re-checks none of them. The same teller signed in at two terminals (or the customer walking to the next
    window) takes the per-wallet cap twice; N terminals, N times."""
    from dataclasses import replace

    desk, w1, _w2 = world
    off = desk.services.offline
    at_t02 = replace(desk.teller, terminal_id="T02")
    signed_in(desk, at_t02)
    off.remember(at_t02, w1)
    n1 = wallet_number(desk, w1)
    cap = Money(desk.settings.offline_cap_per_wallet, "CNY")
    before = balance(desk, w1)
    offline_call(desk.db, off.take_cash_in)(desk.teller, n1, cap)
    try:
        offline_call(desk.db, off.take_cash_in)(at_t02, n1, cap)  # HEAD: accepted (T02's own file is empty)
    except DomainError:
        pass
    off.upload(desk.teller)
    off.upload(at_t02)
    assert balance(desk, w1) - before <= cap.minor  # HEAD: twice the per-wallet cap posted


def test_offline_taking_is_refused_while_the_database_answers(world: Any) -> None:
    """The UI's outage flag is not the only gate: the core probes the database itself."""
    desk, w1, _w2 = world
    with pytest.raises(DomainError) as exc:
        desk.services.offline.take_cash_in(desk.teller, wallet_number(desk, w1), Money.of("10"))
    assert exc.value.code == "offline_db_answers"
    assert desk.services.offline.items(desk.teller) == []


def test_the_drawer_context_ages(world: Any) -> None:
    """The open drawer as last seen counts for offline_wallet_cache_hours and that calendar day only."""
    from datetime import UTC, date, datetime, timedelta

    from teller_tui.offline.taking import check_context
    from teller_tui.offline.types import OfflineContext

    desk, w1, _w2 = world
    off, n1 = desk.services.offline, wallet_number(desk, w1)
    seen = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    context = OfflineContext(1, date(2026, 3, 2), True, seen)
    assert check_context(context, seen + timedelta(hours=3), 8) == context
    for now in (seen + timedelta(hours=8, minutes=1), datetime(2026, 3, 3, 0, 30, tzinfo=UTC)):
        with pytest.raises(DomainError) as exc:
            check_context(context, now, 48 if now.day == 3 else 8)
        assert exc.value.code == "offline_context_stale"
    desk.clock.advance(timedelta(hours=desk.settings.offline_wallet_cache_hours, minutes=1))
    with pytest.raises(DomainError) as exc:
        offline_call(desk.db, off.take_cash_in)(desk.teller, n1, Money.of("10"))
    assert exc.value.code in ("offline_context_stale", "offline_unknown_wallet")


def test_taken_outside_the_outage_goes_to_the_exception_list_and_the_uploader_is_audited(world: Any) -> None:
    import json
    from datetime import timedelta

    from sqlalchemy import select

    from teller_tui.models import AuditRecord

    desk, w1, _w2 = world
    off = desk.services.offline
    a = offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of("10"))
    b = offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of("20"))
    assert (a.item.seq, b.item.seq) == (1, 2) and "no. 1" in a.text
    store = OfflineStore.for_terminal(desk.settings.home, desk.teller.terminal_id)
    before_contact = (a.item.outage_since - timedelta(minutes=5)).isoformat()  # type: ignore[operator]
    _edit(store, "UPDATE items SET taken_at = ? WHERE key = ?", before_contact, b.item.key)
    report = off.upload(desk.supervisor)  # a supervisor runs the upload of teller1's items
    assert [i.key for i in report.posted] == [a.item.key]
    [refused] = report.exceptions
    assert refused.key == b.item.key and refused.reason_code == "offline_outside_outage"
    assert entries_by_key(desk, b.item.key) == []
    with desk.db.read() as s:
        [raw] = s.execute(select(AuditRecord.detail_json).where(AuditRecord.action == "offline_upload")).one()
    detail = json.loads(raw)
    assert detail["taken_by"] == desk.teller.username and detail["uploaded_by"] == desk.supervisor.username


def test_an_item_deleted_from_the_queue_shows_as_a_gap(world: Any) -> None:
    desk, w1, _w2 = world
    off = desk.services.offline
    taken = [offline_call(desk.db, off.take_cash_in)(desk.teller, wallet_number(desk, w1), Money.of(str(10 + n)))
             for n in range(3)]
    store = OfflineStore.for_terminal(desk.settings.home, desk.teller.terminal_id)
    _edit(store, "DELETE FROM items WHERE key = ?", taken[1].item.key)
    report = off.upload(desk.teller)
    assert len(report.posted) == 2
    assert off.sequence_gaps(desk.supervisor) == [2]
