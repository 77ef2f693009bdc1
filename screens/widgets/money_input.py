"""An amount field: an ``Input`` whose validator is the core's :func:`~teller_tui.common.money.parse_money`.

The widget never does arithmetic and never sees a float: it asks the core to parse the text
and exposes the resulting :class:`~teller_tui.common.money.Money` (or ``None`` while the text is not
a valid amount). The validator's failure message is the core's own (translated) message.
"""

from __future__ import annotations

from textual.validation import ValidationResult, Validator
from textual.widgets import Input

from teller_tui.common.errors import ValidationError
from teller_tui.common.money import MAX_MINOR, Money, parse_money

__all__ = ["MoneyInput", "MoneyValidator"]


class MoneyValidator(Validator):
    """Valid when ``parse_money(value, currency, ...)`` accepts the text."""

    def __init__(self, currency: str = "CNY", *, allow_zero: bool = False, max_minor: int = MAX_MINOR) -> None:
        super().__init__()
        self.currency = currency
        self.allow_zero = allow_zero
        self.max_minor = max_minor

    def parse(self, value: str) -> Money:
        """The amount, or :class:`~teller_tui.common.errors.ValidationError` with a teller-fit message."""
        return parse_money(value, self.currency, allow_negative=False, allow_zero=self.allow_zero,
                           max_minor=self.max_minor)

    def validate(self, value: str) -> ValidationResult:
        try:
            self.parse(value)
        except ValidationError as exc:
            return self.failure(str(exc), value)
        return self.success()


class MoneyInput(Input):
    """Amount entry (digits, one decimal point, ``,`` separators, optional ``¥``; a minus sign
    is shown as refused, never dropped)."""

    DEFAULT_CSS = """
    MoneyInput {
        width: 24;
    }
    MoneyInput.-invalid {
        border: tall $error 60%;
    }
    """

    def __init__(self, currency: str = "CNY", *, value: str = "", placeholder: str = "0.00",
                 id: str | None = None, classes: str | None = None) -> None:
        self.money_validator = MoneyValidator(currency)
        super().__init__(value=value, placeholder=placeholder, id=id, classes=classes,
                         # A minus sign is let through so the validator can refuse it with a
                         # message: filtered out here, "-50" silently became 50.
                         restrict=r"[0-9０-９.．,，¥￥ \-－−]*", max_length=24,
                         validators=[self.money_validator], valid_empty=False,
                         validate_on=["changed", "submitted", "blur"])

    @property
    def money(self) -> Money | None:
        """The amount typed so far, or ``None`` when the text is not (yet) a valid amount."""
        try:
            return self.money_validator.parse(self.value)
        except ValidationError:
            return None

    def error_message(self) -> str:
        """Why the current text is not an amount ("" when it is one)."""
        try:
            self.money_validator.parse(self.value)
        except ValidationError as exc:
            return str(exc)
        return ""
