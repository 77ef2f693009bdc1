"""Invariant 12 of ``teller ledger verify``: entry numbers and dates, per branch.

Branches post in parallel (:mod:`teller_tui.ledger.chain`): each branch numbers its entries
``branch_seq`` 1, 2, 3… with no gap, in storage order and in ``seq`` order, and no entry is dated
(business date or posting time) before its branch's predecessor; the branch's head row keeps the
last entry's time and date. The bank-wide ``seq`` is unique everywhere (a constraint); on SQLite,
where one writer at a time takes it from the ``ledger_head`` counter, it has no gap either, and the
counter matches the last entry. A cross-branch entry (its legs move accounts of several branches)
is numbered and chained in the branch that posted it; the accounts of the other branch see it
through their postings, which the totals check (invariant 3) sums on both sides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from teller_tui.ledger.verify_base import Checker

__all__ = ["check_sequence"]


def check_sequence(c: Checker) -> None:
    # Per branch (branches post in parallel): branch_seq runs 1, 2, 3… with no gap, in storage
    # order and in seq order, and no entry is dated before its branch's predecessor.
    c.check("12", "a branch's first entry is not number 1", """
        SELECT branch_code, MIN(branch_seq) AS first FROM journal_entry GROUP BY branch_code
        HAVING MIN(branch_seq) <> 1 ORDER BY branch_code""",
            lambda r: f"branch {r.branch_code}: the first entry is number {r.first}")
    c.check("12", "a branch's entry numbers have gaps or disagree with storage order", """
        SELECT e.id, e.seq, e.branch_seq, e.branch_code, e.reference, p.id AS pid, p.seq AS pseq FROM journal_entry e
        LEFT JOIN journal_entry p ON p.branch_code = e.branch_code AND p.branch_seq = e.branch_seq - 1
        WHERE e.branch_seq > 1 AND (p.id IS NULL OR p.id > e.id OR p.seq >= e.seq)
        ORDER BY e.seq""",
            lambda r: f"entry {r.id} {r.reference}: " + (
                f"branch {r.branch_code} has no entry number {r.branch_seq - 1} (deleted?)" if r.pid is None
                else f"branch {r.branch_code} number {r.branch_seq} is stored or numbered before number "
                     f"{r.branch_seq - 1}"))
    c.check("12", "entries dated before their predecessor", """
        SELECT e.id, e.reference, e.business_date, e.posted_at, p.business_date AS pdate, p.posted_at AS pat
        FROM journal_entry e JOIN journal_entry p ON p.branch_code = e.branch_code AND p.branch_seq = e.branch_seq - 1
        WHERE p.business_date > e.business_date OR p.posted_at > e.posted_at
        ORDER BY e.seq""",
            lambda r: f"entry {r.id} {r.reference}: dated {r.business_date} / {r.posted_at}, before its "
                      f"predecessor ({r.pdate} / {r.pat})")
    c.check("12", "a branch's head does not match its last entry's time and date", """
        SELECT h.branch_code, h.last_at, h.last_date, e.posted_at, e.business_date
        FROM ledger_chain_head h JOIN journal_entry e ON e.branch_code = h.branch_code AND e.seq = h.last_seq
        WHERE h.last_at IS NULL OR h.last_at <> e.posted_at OR h.last_date IS NULL OR h.last_date <> e.business_date
        ORDER BY h.branch_code""",
            lambda r: f"branch {r.branch_code}: head says {r.last_date} / {r.last_at}, its last entry "
                      f"{r.business_date} / {r.posted_at}")
    if c.dialect != "sqlite":
        return  # PostgreSQL numbers seq from a sequence: unique, with gaps
    # SQLite: one writer at a time takes seq from the ledger_head counter, so seq has no gap either.
    c.check("12", "the first entry is not seq 1", """
        SELECT id, seq, reference FROM journal_entry WHERE seq = (SELECT MIN(seq) FROM journal_entry) AND seq <> 1""",
            lambda r: f"entry {r.id} {r.reference}: the first seq is {r.seq}")
    c.check("12", "entry sequence numbers have gaps or disagree with storage order", """
        SELECT e.id, e.seq, e.reference, p.id AS pid FROM journal_entry e
        LEFT JOIN journal_entry p ON p.seq = e.seq - 1
        WHERE e.seq > (SELECT MIN(seq) FROM journal_entry) AND (p.id IS NULL OR p.id > e.id)
        ORDER BY e.seq""",
            lambda r: f"entry {r.id} {r.reference}: " + (f"no entry has seq {r.seq - 1} (deleted?)" if r.pid is None
                                                      else f"seq {r.seq} is stored before seq {r.seq - 1}"))
    c.check("12", "the ledger head does not match the last entry", """
        SELECT h.last_seq, e.seq FROM ledger_head h
        LEFT JOIN journal_entry e ON e.seq = (SELECT MAX(seq) FROM journal_entry)
        WHERE h.id = 1 AND COALESCE(e.seq, 0) <> h.last_seq""",
            lambda r: f"head says seq {r.last_seq}, last entry is seq {r.seq}")
