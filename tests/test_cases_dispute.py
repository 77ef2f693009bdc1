"""A dispute resolved in the customer's favour: the correction posts through the ledger only with a
supervisor's approval bound to the case and the amount, is linked to the case, and posts once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.common.errors import ApprovalRequired, Conflict, LimitExceeded
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key as key
from teller_tui.ledger.verify import verify_ledger
from teller_tui.models import JournalEntry, Wallet
from teller_tui.models.cases import CaseStatus, CaseType


def _balance(desk: Desk, wid: int) -> Money:
    with desk.db.read() as s:
        return desk.ledger.balance(s, s.get(Wallet, wid).account_id).posted


def _entries(desk: Desk, kind: str) -> list[JournalEntry]:
    with desk.db.read() as s:
        return list(s.execute(select(JournalEntry).where(JournalEntry.kind == kind)).scalars())


def test_correction_posts_only_with_approval(desk: Desk) -> None:  # noqa: F811
    disputes, cases = desk.services.disputes, desk.services.cases
    cid = desk.customer()
    wid = desk.wallet(cid)
    desk.cash.cash_in(desk.teller, wid, Money.of("1000"), idempotency_key=key())
    paid = desk.cash.cash_out(desk.teller, wid, Money.of("500"), idempotency_key=key())
    case = cases.open_case(desk.teller, cid, CaseType.TRANSACTION_DISPUTE, "paid out 400, not 500",
                           wallet_id=wid, entry_references=[paid.reference])
    before = _balance(desk, wid)
    k = key()

    # No approval: refused with the spec to approve; nothing posted, the case unchanged.
    with pytest.raises(ApprovalRequired) as err:
        disputes.resolve_with_correction(desk.supervisor, case.number, Money.of("100"), "counted short",
                                         idempotency_key=k)
    spec = err.value.details["spec"]
    assert err.value.rules == ["dispute_correction"] and spec.subject == f"case:{case.number}"
    assert spec == disputes.correction_spec(desk.supervisor, case.number, Money.of("100"), "counted short")
    assert _balance(desk, wid) == before and _entries(desk, "dispute_correction") == []
    assert cases.get(desk.teller, case.number).case.status == CaseStatus.OPEN

    # More than the disputed entry moved: refused before any approval is asked for.
    with pytest.raises(LimitExceeded):
        disputes.resolve_with_correction(desk.supervisor, case.number, Money.of("501"), "x", idempotency_key=key())

    approval_id = desk.approve(desk.supervisor, spec)  # super2 approves super1's correction
    # The approval is bound to the amount: it cannot carry a larger correction.
    with pytest.raises(Conflict) as mismatch:
        disputes.resolve_with_correction(desk.supervisor, case.number, Money.of("200"), "counted short",
                                         idempotency_key=key(), approval_id=approval_id)
    assert mismatch.value.code == "approval_mismatch"

    detail = disputes.resolve_with_correction(desk.supervisor, case.number, Money.of("100"), "counted short",
                                              idempotency_key=k, approval_id=approval_id)
    assert _balance(desk, wid) == before + Money.of("100")
    assert detail.case.status == CaseStatus.RESOLVED and detail.case.in_customer_favour is True
    (entry,) = _entries(desk, "dispute_correction")
    assert detail.case.correction_reference == entry.reference and entry.memo == case.number
    assert entry.reference in detail.entry_references and detail.events[-1].kind == "correction"
    assert desk.services.explain.explain(desk.teller, entry.reference).cause.startswith("A correction after a dispute")

    # A retry returns the same result; a second correction is refused; the ledger still verifies.
    again = disputes.resolve_with_correction(desk.supervisor, case.number, Money.of("100"), "counted short",
                                             idempotency_key=k, approval_id=approval_id)
    assert again.case.correction_reference == entry.reference and len(_entries(desk, "dispute_correction")) == 1
    cases.reopen(desk.teller, case.number, "customer says 50 more")
    with pytest.raises(Conflict) as twice:
        disputes.resolve_with_correction(desk.supervisor, case.number, Money.of("50"), "more", idempotency_key=key())
    assert twice.value.code == "case_corrected"
    with desk.db.read() as s:
        assert verify_ledger(s).ok


def test_only_a_dispute_with_a_wallet_is_corrected(desk: Desk) -> None:  # noqa: F811
    cid = desk.customer()
    wid = desk.wallet(cid)
    complaint = desk.services.cases.open_case(desk.teller, cid, CaseType.COMPLAINT, "rude", wallet_id=wid)
    with pytest.raises(Conflict) as err:
        desk.services.disputes.resolve_with_correction(desk.teller, complaint.number, Money.of("1"), "sorry",
                                                       idempotency_key=key())
    assert err.value.code == "case_not_dispute"
    no_wallet = desk.services.cases.open_case(desk.teller, cid, CaseType.TRANSACTION_DISPUTE, "which wallet?")
    with pytest.raises(Exception) as missing:
        desk.services.disputes.resolve_with_correction(desk.teller, no_wallet.number, Money.of("1"), "x",
                                                       idempotency_key=key())
    assert getattr(missing.value, "code", "") == "case_no_wallet"
