"""Top-up from the customer's linked bank card or account (兑换) and withdrawal to it (兑回).

The cash form's flow (:class:`screens.cash.CashForm`): amount, Enter, a preview with the class
limits checked, the confirmation dialog naming the linked account, the posting recorded in the
in-flight journal first, then the receipt (printable with p / F8). Where the approval policy says
(a withdrawal of 20,000.00 or more as shipped) the confirmation shows why, and posting goes through
the app's approval dialog (a supervisor at the counter, or the queue) before it is retried. On the customer screen:
**t** top up from the linked account, **w** withdraw to it (also in the palette).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from teller_tui.common.i18n import N_, _
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import Preview, TxnResult

from .cash import CashForm
from .confirm import Fact
from .widgets.safe import clean

__all__ = ["LinkedTopUpForm", "LinkedWithdrawForm"]


class _LinkedForm(CashForm):
    DIRECTION = N_("From")

    def linked_label(self) -> str:
        for link in self.customer.linked_accounts:
            if link.wallet_id in (None, self.wallet.wallet_id):
                return f"{clean(link.bank_name)} {clean(link.masked)}".strip()
        return ""

    def compose_extra(self) -> ComposeResult:
        label = self.linked_label() or _("none: link a card or account first (l on the customer screen)")
        yield Static(Content(f"{_(self.DIRECTION)}: {label}"), id="linked-account")

    def confirm_facts(self, preview: Preview) -> list[Fact]:
        facts = super().confirm_facts(preview)
        account = f"{preview.counterparty_name} {preview.counterparty_wallet}".strip()
        facts.insert(2, (_(self.DIRECTION), account))
        return facts


class LinkedTopUpForm(_LinkedForm):
    KIND = "linked_top_up"
    TITLE = N_("Top up from linked account")
    DIRECTION = N_("From")

    def call_preview(self, amount: Money) -> Preview:
        return self.services.linked_desk.preview_top_up(self.actor, self.wallet.wallet_id, amount)

    def call_post(self, amount: Money, memo: str, key: str) -> TxnResult:
        return self.services.linked_desk.top_up(self.actor, self.wallet.wallet_id, amount, memo,
                                                idempotency_key=key, approval_id=self.approval_id)


class LinkedWithdrawForm(_LinkedForm):
    KIND = "linked_withdraw"
    TITLE = N_("Withdraw to linked account")
    DIRECTION = N_("To")

    def call_preview(self, amount: Money) -> Preview:
        return self.services.linked_desk.preview_withdraw(self.actor, self.wallet.wallet_id, amount)

    def call_post(self, amount: Money, memo: str, key: str) -> TxnResult:
        return self.services.linked_desk.withdraw(self.actor, self.wallet.wallet_id, amount, memo,
                                                  idempotency_key=key, approval_id=self.approval_id)
