"""Messages kept as their message id and arguments, rendered in the reader's language.

A text written by one person and read by another (an approval's "why", stored by the teller's
terminal and read in the supervisor's queue) must be stored as what it says, not as the words
of whoever wrote it::

    why = message(N_("{amount} is above your limit of {limit} for one cash withdrawal."),
                  amount=Money.of("6000"), limit=Money.of("5000"))
    str(why)                 # the text in the writer's language, as before (it is a ``str``)
    stored = why.msg.to_json()                       # {"msgid": ..., "params": {...}}
    Msg.from_json(stored).render()                   # later, in the reader's language

Arguments are plain text and numbers (kept as they are), :class:`~teller_tui.common.money.Money`
(formatted for the reader) or another :class:`Msg` (a translated word such as "paid in").
:class:`Translated` is a ``str`` that remembers its :class:`Msg`, so code that passes texts
along (tuples of reasons) keeps working and the storing edge can keep the message.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from teller_tui.common.formatting import format_money
from teller_tui.common.i18n import _, in_catalog
from teller_tui.common.money import Money

__all__ = ["Msg", "Translated", "message", "render_stored", "rendered_now"]

Param: TypeAlias = "str | int | Money | Msg"

#: msgids this process made messages from (``message(N_(...))``); with the catalog, the only ones rendered.
_KNOWN: set[str] = set()
#: The widest field a message may ask for (``{name:>12}``); a stored ``{x:>2000000000}`` is not rendered.
_MAX_WIDTH = 64
_DIGITS = re.compile(r"\d+")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Msg:
    """A message id (marked with ``N_``) and its arguments."""

    msgid: str
    params: dict[str, Param] = field(default_factory=dict)

    def render(self, fallback: str | None = None) -> str:
        """The message in the current locale. A message that cannot be rendered safely (a msgid the
        app does not know, a placeholder without its argument, a field like ``{x.y}``, ``{x[0]}`` or
        ``{x:>999999}``) is ``fallback`` (the text as stored), else the msgid as it is. Never raises."""
        plain = self.msgid if fallback is None else fallback
        try:
            if not (self.msgid in _KNOWN or in_catalog(self.msgid)):
                return plain
            template = _(self.msgid)
            if not (_safe_template(template) and _safe_template(self.msgid)):
                return plain
            args = {k: _render_param(v) for k, v in self.params.items()}
            try:
                return template.format(**args)
            except (KeyError, IndexError, ValueError):  # a translation that lost its placeholders
                return self.msgid.format(**args)
        except Exception:  # noqa: BLE001 - a stored row must never break the page that reads it
            return plain

    def to_json(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": {k: _encode(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: Any) -> Msg | None:
        """The message stored by :meth:`to_json`; None for anything else (an older row's plain text)."""
        if not isinstance(data, dict) or not isinstance(data.get("msgid"), str):
            return None
        raw = data.get("params")
        params = {str(k): _decode(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        return cls(data["msgid"], params)


class Translated(str):
    """A text in the writer's language that remembers the :class:`Msg` it was made from."""

    msg: Msg

    def __new__(cls, msg: Msg) -> Translated:
        text = super().__new__(cls, msg.render())
        text.msg = msg
        return text


def message(msgid: str, **params: Param) -> Translated:
    """``msgid`` (marked with ``N_``) rendered now, remembering its arguments for other readers."""
    _KNOWN.add(msgid)
    return Translated(Msg(msgid, dict(params)))


def rendered_now(text: str) -> str:
    """``text`` in the current language when it remembers its message (:class:`Translated`), else as it is:
    a dialog that shows a text made earlier (perhaps in another language) shows the reader's."""
    if isinstance(text, Translated):
        return text.msg.render(str.__str__(text))
    return text


def render_stored(text: str, stored: Any) -> str:
    """A stored text in the reader's language: ``stored`` is :meth:`Msg.to_json`'s form when the
    writer kept it, else the text as written."""
    try:
        msg = Msg.from_json(stored)
        return msg.render(text) if msg is not None else text
    except Exception:  # noqa: BLE001 - e.g. a nesting deeper than the recursion limit
        return text


def _safe_template(template: str) -> bool:
    """Only named fields, no attribute or index (``{x.y}``, ``{x[0]}``), no nested field in a format
    spec, no width or precision above :data:`_MAX_WIDTH`."""
    for _literal, name, spec, _conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not _FIELD.fullmatch(name) or "{" in (spec or ""):
            return False
        if any(len(d) > 3 or int(d) > _MAX_WIDTH for d in _DIGITS.findall(spec or "")):
            return False
    return True


def _render_param(value: Param) -> str | int:
    if isinstance(value, Money):
        return format_money(value)
    if isinstance(value, Msg):
        return value.render()
    return value if isinstance(value, str | int) else str(value)


def _encode(value: Param) -> Any:
    if isinstance(value, Money):
        return {"money": value.minor, "currency": value.currency}
    if isinstance(value, Msg):
        return {"msg": value.to_json()}
    return value


def _decode(value: Any) -> Param:
    if isinstance(value, dict):
        if "money" in value and "currency" in value:
            return Money(int(value["money"]), str(value["currency"]))
        nested = Msg.from_json(value.get("msg"))
        return nested if nested is not None else str(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return str(value)
    return value
