"""What a customer asked of what we send and print them: the language, large print.

``customer_prefs(s, customer_id, default_locale) -> Prefs`` reads the customer's recorded needs
(``customer_needs``, written by :class:`teller_tui.cases.crm.CrmService`) inside the caller's
transaction. The language maps onto one we print and send in (``zh_CN`` or ``en``): Chinese for
``zh*``, ``yue`` and ``cmn``, English for ``en*``; any other language (or none) keeps the bank's
default. Large print is asked for by "low vision" and offered by "elderly": both get it.
Used by notifications (:mod:`teller_tui.notify.outbox`), receipts (:mod:`teller_tui.desk.entry_receipts`)
and the welcome sheet (:mod:`teller_tui.wallets.onboarding.welcome`).

Read once per transaction: a posting asks twice (its notification and its receipt), so what was
read (or that nothing is recorded) is remembered for the rest of the transaction; a caller that
read the needs in a wider select hands them over with :func:`remember_needs`. The one writer
(:class:`teller_tui.cases.crm.CrmService`) calls :func:`forget_needs` after changing them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from teller_tui.models.cases import CustomerNeeds

__all__ = ["LARGE_PRINT_MARKS", "Prefs", "customer_prefs", "forget_needs", "is_large_print", "locale_for",
           "remember_needs"]

_MEMO = "teller_tui.notify.preferences.needs"

#: The line a large-print copy (receipt, welcome sheet) carries under its title; the printer then
#: doubles the character size (:func:`teller_tui.common.printing.escpos.render_escpos` ``large=``).
LARGE_PRINT_MARKS = {"en": "[ LARGE PRINT ]", "zh_CN": "[ 大字版 ]"}


def is_large_print(text: str) -> bool:
    """Whether ``text`` is a large-print layout (its mark is among the first lines): print it double size."""
    marks = set(LARGE_PRINT_MARKS.values())
    return any(line.strip() in marks for line in text.splitlines()[:8])


@dataclass(frozen=True, slots=True)
class Prefs:
    locale: str  # "zh_CN" or "en" (or the default given)
    large_print: bool


def locale_for(language: str, default: str) -> str:
    """The locale we print and send in for a recorded ``language`` (``default`` when we have none)."""
    lang = language.strip().lower().replace("-", "_")
    if lang.startswith("zh") or lang in ("yue", "cmn"):
        return "zh_CN"
    if lang.startswith("en"):
        return "en"
    return default


def _memo(s: Session) -> dict[int, tuple[str, bool] | None]:
    txn = s.get_transaction()
    memo = s.info.get(_MEMO)
    if memo is None or memo[0] is not txn:
        memo = s.info[_MEMO] = (txn, {})
    found: dict[int, tuple[str, bool] | None] = memo[1]
    return found


def remember_needs(s: Session, customer_id: int, language: str | None, low_vision: bool | None,
                   elderly: bool | None) -> None:
    """Remember the customer's needs as just read in this transaction (``language`` None: none recorded)."""
    _memo(s)[customer_id] = None if language is None else (language, bool(low_vision or elderly))


def forget_needs(s: Session) -> None:
    """Forget the remembered needs (they were changed in this transaction)."""
    s.info.pop(_MEMO, None)


def customer_prefs(s: Session, customer_id: int | None, default_locale: str) -> Prefs:
    if customer_id is None:
        return Prefs(default_locale, False)
    memo = _memo(s)
    if customer_id not in memo:
        row = s.get(CustomerNeeds, customer_id)
        if row is None:
            remember_needs(s, customer_id, None, None, None)
        else:
            remember_needs(s, customer_id, row.preferred_language or "", row.low_vision, row.elderly)
    found = memo[customer_id]
    if found is None:
        return Prefs(default_locale, False)
    return Prefs(locale_for(found[0], default_locale), found[1])
