"""Customer lookup: every key type, ranking, paging, short CJK names, literal markup; profile; history."""

from __future__ import annotations

import pytest

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.desk.search import classify
from teller_tui.common.errors import NotFound, ValidationError
from teller_tui.common.money import Money


def _ids(page) -> list[int]:  # type: ignore[no-untyped-def]
    return [h.customer_id for h in page.results]


def test_classify() -> None:
    assert classify("13812345678") == "phone"
    assert classify("11010119900101123X") == "id"
    assert classify("123X") == "id"
    assert classify("8600000000000015") == "wallet"
    assert classify("138") == "digits"
    assert classify("13") == "too_short"
    assert classify("王") == "name"
    assert classify("zhang wei") == "latin"
    assert classify("") == "empty"


def test_phone_exact_and_prefix(desk: Desk) -> None:
    a = desk.customer("张伟", latin="zhang wei", phone="13812345678")
    b = desk.customer("李娜", latin="li na", phone="13812349999")
    desk.customer("赵敏", latin="zhao min", phone="15900000000")
    page = desk.customers.search("13812345678")
    assert page.query_kind == "phone"
    assert _ids(page)[0] == a and page.results[0].exact and page.results[0].match_kind == "phone"
    assert page.results[0].phone_masked != "13812345678"
    page = desk.customers.search("1381234")
    assert set(_ids(page)) == {a, b} and not any(h.exact for h in page.results)
    assert desk.customers.search("138 1234 5678").results[0].customer_id == a  # spaces typed


def test_id_exact_and_fragment(desk: Desk) -> None:
    a = desk.customer("王芳", id_number="11010119900307123X")
    b = desk.customer("王芳", id_number="310101198512120021")
    page = desk.customers.search("11010119900307123x")
    assert page.query_kind == "id" and _ids(page)[0] == a and page.results[0].exact
    assert page.results[0].id_number_masked.startswith("1101") and "0307" not in page.results[0].id_number_masked
    assert _ids(desk.customers.search("0307123X")) == [a]
    assert _ids(desk.customers.search("19851212")) == [b]
    assert _ids(desk.customers.search("999999")) == []


def test_id_fragment_by_position_then_anywhere(desk: Desk) -> None:
    """The start, the birth date and the end of an ID number are found by their own indexes (the
    query plans name them); a fragment from the middle still comes from the trigram search."""
    from sqlalchemy import text

    from teller_tui.desk.search import _SqliteSearch

    a = desk.customer("王芳", id_number="11010119900307123X")
    b = desk.customer("李娜", id_number="310101198512120021")
    assert _ids(desk.customers.search("1990")) == [a]  # birth year (also a phone prefix: none)
    assert _ids(desk.customers.search("199003")) == [a]
    assert _ids(desk.customers.search("0021")) == [b]  # the end
    assert _ids(desk.customers.search("3101011985")) == [b]  # the start
    assert _ids(desk.customers.search("0101198")) == [b]  # the middle: trigram search
    assert _ids(desk.customers.search("123x")) == [a]
    with desk.db.read() as s:
        plans = []
        search = _SqliteSearch(s)
        for sql_of in (search.id_birth, search.id_tail):
            captured: list[str] = []
            search._ids = lambda sql, **params: captured.append(sql) or []  # type: ignore[method-assign]
            sql_of("19900307", 21)
            plan = s.execute(text("EXPLAIN QUERY PLAN " + captured[0]),
                             {"lo": "1", "hi": "2", "k": 4, "f": "1990", "tail": "123X", "n": 21}).all()
            plans.append(" ".join(str(row[-1]) for row in plan))
    assert "ix_customer_id_birth" in plans[0], plans[0]
    assert "ix_customer_id_tail" in plans[1], plans[1]


def test_two_character_name_prefix_and_infix(desk: Desk) -> None:
    wf = desk.customer("王芳", latin="wang fang")
    wfm = desk.customer("王芳明", latin="wang fangming")
    ljg = desk.customer("李建国", latin="li jianguo")
    oy = desk.customer("欧阳建国", latin="ouyang jianguo")
    page = desk.customers.search("王芳")
    assert _ids(page) == [wf, wfm]
    assert [h.rank for h in page.results] == [0, 1] and page.results[0].exact
    assert set(_ids(desk.customers.search("建国"))) == {ljg, oy}  # 2-char infix through the gram table
    assert _ids(desk.customers.search("芳明")) == [wfm]
    assert _ids(desk.customers.search("王")) == [wf, wfm]  # one character: surname prefix
    assert _ids(desk.customers.search("阳建国")) == [oy]  # 3 chars: trigram substring


def test_name_index_follows_updates_and_deletes(desk: Desk) -> None:
    from sqlalchemy import text

    cid = desk.customer("李建国")
    with desk.db.write() as s:
        s.execute(text("UPDATE customer SET full_name = '李卫东' WHERE id = :i"), {"i": cid})
    assert _ids(desk.customers.search("建国")) == []
    assert _ids(desk.customers.search("卫东")) == [cid]
    with desk.db.write() as s:
        s.execute(text("DELETE FROM customer WHERE id = :i"), {"i": cid})
    assert _ids(desk.customers.search("卫东")) == []
    assert _ids(desk.customers.search("li wei")) == []


def test_latin_exact_prefix_substring_ranked(desk: Desk) -> None:
    sub = desk.customer("陈张伟", latin="chen zhangwei")
    pre = desk.customer("张伟明", latin="zhang weiming")
    exact = desk.customer("张伟", latin="zhang wei")
    page = desk.customers.search("Zhang Wei")
    assert _ids(page) == [exact, pre, sub]
    assert [h.rank for h in page.results] == [0, 1, 2]
    assert set(_ids(desk.customers.search("zhangwei"))) == {exact, pre, sub}


def test_wallet_number_exact_and_prefix(desk: Desk) -> None:
    cid = desk.customer("周杰", latin="zhou jie")
    wid = desk.wallet(cid, 2)
    number = desk.wallets.get_wallet(wid).number
    page = desk.customers.search(number)
    assert page.query_kind == "wallet" and _ids(page) == [cid] and page.results[0].match_kind == "wallet"
    assert page.results[0].wallet_numbers == (number,)
    assert cid in _ids(desk.customers.search(number[:12]))


def test_paging(desk: Desk) -> None:
    ids = [desk.customer("王" + ch, latin="wang") for ch in "一二三四五六七"]
    first = desk.customers.search("王", limit=3)
    second = desk.customers.search("王", limit=3, offset=3)
    third = desk.customers.search("王", limit=3, offset=6)
    assert first.has_more and second.has_more and not third.has_more
    got = _ids(first) + _ids(second) + _ids(third)
    assert sorted(got) == sorted(ids) and len(set(got)) == 7


def test_markup_names_are_data(desk: Desk) -> None:
    name = "[bold]王[/bold]"
    cid = desk.customer(name, latin="[red]x%_'\"")
    page = desk.customers.search("[bold]王")
    assert _ids(page) == [cid] and page.results[0].full_name == name
    assert _ids(desk.customers.search("王[/bold]")) == [cid]
    assert desk.customers.search("%").results == []
    assert desk.customers.get_customer(cid).full_name == name


def test_short_and_empty_queries(desk: Desk) -> None:
    assert desk.customers.search("").query_kind == "empty"
    assert desk.customers.search("1\x00").query_kind == "too_short"


def test_profile_with_wallets_limits_notes(desk: Desk) -> None:
    cid = desk.customer("王芳", id_number="11010119900307123X")
    wid = desk.wallet(cid, 1)
    desk.cash.cash_in(desk.teller, wid, Money.of("500"), idempotency_key=new_idempotency_key())
    desk.cash.cash_out(desk.teller, wid, Money.of("120"), idempotency_key=new_idempotency_key())
    desk.customers.add_note(desk.teller, cid, "prefers\x1b[31m evening\n visits")
    view = desk.customers.get_customer(cid)
    w = view.wallets[0]
    assert w.balance == Money.of("380") and w.available == Money.of("380")
    assert w.limits is not None and w.limits.used_today == Money.of("120")
    assert w.limits.per_txn is not None
    assert view.notes[0].text == "prefers evening visits" and view.notes[0].author == "teller1"
    assert view.id_number_masked != "11010119900307123X"
    with pytest.raises(ValidationError):
        desk.customers.add_note(desk.teller, cid, " \n ")
    with pytest.raises(NotFound):
        desk.customers.get_customer(999999)


def test_wallet_history_running_balance_pages(desk: Desk) -> None:
    cid = desk.customer("李娜")
    wid = desk.wallet(cid, 1)
    other = desk.wallet(desk.customer("赵敏"), 1)
    amounts = []
    for i in range(7):
        if i % 3 == 2:
            desk.cash.cash_out(desk.teller, wid, Money.of("10"), idempotency_key=new_idempotency_key())
            amounts.append(-1000)
        elif i % 3 == 1:
            desk.cash.transfer(desk.teller, wid, other, Money.of("5"), idempotency_key=new_idempotency_key())
            amounts.append(-500)
        else:
            desk.cash.cash_in(desk.teller, wid, Money.of("100"), idempotency_key=new_idempotency_key())
            amounts.append(10000)
    rows = []
    page = desk.customers.wallet_history(wid, limit=3)
    while True:
        rows.extend(page.rows)
        if page.next_before_seq is None:
            break
        page = desk.customers.wallet_history(wid, limit=3, before_seq=page.next_before_seq)
    assert [r.amount.minor for r in rows] == list(reversed(amounts))
    running = 0
    expected = []
    for a in amounts:
        running += a
        expected.append(running)
    assert [r.running_balance.minor for r in rows] == list(reversed(expected))
    assert rows[0].running_balance == desk.customers.get_customer(cid).wallets[0].balance


def test_phone_last_digits_with_names_and_plain_sql(desk: Desk) -> None:
    a = desk.customer("张伟", latin="zhang wei", phone="13812348000")
    b = desk.customer("李娜", latin="li na", phone="15900008000")
    c = desk.customer("赵敏", latin="zhao min", phone="13712378000")
    desk.customer("王芳", phone="13800008001")
    page = desk.customers.search("8000")
    assert page.query_kind == "digits"
    tail = [h for h in page.results if h.match_kind == "phone_tail"]
    assert {h.customer_id for h in tail} == {a, b, c}
    assert {h.full_name for h in tail} == {"张伟", "李娜", "赵敏"}  # the name tells them apart
    assert all(h.phone_masked.endswith("8000") for h in tail)
    # More digits narrow it: the last 5, 6 digits.
    assert {h.customer_id for h in desk.customers.search("48000").results if h.match_kind == "phone_tail"} == {a}
    assert {h.customer_id for h in desk.customers.search("78000").results if h.match_kind == "phone_tail"} == {c}
    # The same answer as plain SQL over every customer.
    from sqlalchemy import text
    with desk.db.read() as s:
        want = {int(r[0]) for r in s.execute(text("SELECT id FROM customer WHERE phone LIKE '%8000'"))}
        plan = " ".join(str(r[-1]) for r in s.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM customer WHERE substr(phone, -4) = '8000'")))
    assert {h.customer_id for h in tail} == want
    assert "ix_customer_phone_tail" in plan  # the index, not a scan of every customer


def test_rarest_trigrams_give_the_same_answers(desk: Desk) -> None:
    """With trigram frequencies sampled (a speed-up: FTS5 is asked for the rarest trigrams of an
    ID or pinyin fragment), every answer is the one the full trigram query and plain SQL give."""
    import random

    from sqlalchemy import text

    from teller_tui.desk.search import search_customers
    from teller_tui.desk.search_grams import GramSampler

    rng = random.Random(4)
    syllables = ["zhang", "wang", "li", "liu", "gui", "ling", "fang", "jian", "xia", "ying", "hong"]
    for _ in range(60):
        idn = f"{rng.choice(['110101', '310101', '440305'])}19{rng.randint(50, 99)}" \
              f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}{rng.choice('0123456789X')}"
        latin = " ".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))
        desk.customer("王芳", latin=latin, id_number=idn)
    sampler = GramSampler(min_sample=1)
    with desk.db.read() as s:
        ids = [r[0] for r in s.execute(text("SELECT id_number FROM customer WHERE id_number IS NOT NULL"))]
        latins = [r[0].replace(" ", "") for r in s.execute(text("SELECT name_latin FROM customer"))]
    queries = [i[3:11] for i in ids[:8]] + [i[9:16] for i in ids[8:14]] + ["0101195", "1019", "999999"]
    queries += [lat[2:9] for lat in latins[:8]] + ["guiling", "angli", "nggui", "zzzzzz"]
    for q in queries:
        fast = search_customers(desk.db, q, grams=sampler)
        full = search_customers(desk.db, q)
        assert [(h.customer_id, h.match_kind, h.rank) for h in fast.results] == \
               [(h.customer_id, h.match_kind, h.rank) for h in full.results], q
        assert fast.has_more == full.has_more
        with desk.db.read() as s:
            column = "upper(id_number)" if q[0].isdigit() else "replace(name_latin, ' ', '')"
            want = {int(r[0]) for r in s.execute(text(f"SELECT id FROM customer WHERE instr({column}, :q) > 0"),
                                                 {"q": q.upper() if q[0].isdigit() else q})}
        assert {h.customer_id for h in fast.results} >= want or fast.has_more, q
    with desk.db.read() as s:
        sample = sampler.sample(s)
    assert sample is not None and sample.size == 60


def test_rarest_trigrams_are_picked_apart() -> None:
    from collections import Counter

    from teller_tui.desk.search_grams import GramSample

    counts = Counter({"fan": 179, "ang": 1596, "ngl": 177, "gli": 85, "lin": 208, "ing": 805, "ngg": 66,
                      "ggu": 50, "gui": 84})
    sample = GramSample(4000, {"latin": counts})
    # The rarest first; then the rarest sharing no letter with it ("ngg"/"gui" overlap "ggu").
    assert sample.pick("latin", "fanglinggui") == ["ggu", "gli", "fan"]
    assert sample.pick("latin", "ang") == ["ang"]
    dense = GramSample(100, {"id_number": Counter({"101": 60, "198": 40, "981": 1, "810": 50, "010": 30})})
    # Beyond two, a trigram in more than a tenth of the rows is not worth reading.
    assert dense.pick("id_number", "1981010") == ["981", "010"]
    assert GramSample(100, {}).pick("id_number", "19810") == ["198", "981", "810"]  # no counts: every one
