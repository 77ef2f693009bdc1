"""Render user-supplied text literally: never as markup, never as terminal control codes.

Customer names, memos, notes, bank names and anything else that came from a person or the
database are *data*. Everything that reaches a widget goes through one of these helpers:

* :func:`clean` is the core's one sanitizer (:func:`teller_tui.common.text.clean_text`):
  whole escape sequences, control characters, bidi overrides and other format characters
  go, so ``"\\x1b[31mred"`` shows as ``"red"`` and colours nothing. Newlines/tabs become
  spaces unless ``multiline=True`` keeps newlines.
* :func:`literal` / :func:`content` wrap cleaned text in a Rich :class:`~rich.text.Text` or a
  Textual :class:`~textual.content.Content` *object*, which widgets display as is, so
  ``"[@click=app.quit]x[/]"`` is shown as exactly those characters and is inert.
* :func:`join` builds a line from labelled parts where only the labels are ours.

``DataTable`` treats ``str`` cells as markup; pass :func:`literal` results as cells.
``App.notify`` treats its message as markup unless ``markup=False``; use :func:`notify_plain`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.content import Content

from teller_tui.common.text import clean_text

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["clean", "content", "join", "literal", "notify_plain"]


def clean(value: Any, *, multiline: bool = False, limit: int | None = None) -> str:
    """Text safe to show: :func:`teller_tui.common.text.clean_text` (THE sanitizer), ``None`` -> ``""``.

    Escape sequences go as a whole (``"\\x1b[31mred"`` shows as ``"red"``), control, format
    and bidi characters go, whitespace runs collapse to one space. ``multiline`` keeps ``\\n``
    (receipts, notes, reports). ``limit`` cuts the result to at most that many characters,
    ending with ``…`` when it was cut.
    """
    if value is None:
        return ""
    result = clean_text(value if isinstance(value, str) else str(value), multiline=multiline)
    if limit is not None and len(result) > limit:
        result = result[: max(0, limit - 1)] + "…"
    return result


def literal(value: Any, style: str = "", *, multiline: bool = False, justify: str | None = None) -> Text:
    """A Rich ``Text`` showing ``value`` exactly (after :func:`clean`); safe as a DataTable cell."""
    return Text(clean(value, multiline=multiline), style=style, justify=justify, end="")  # type: ignore[arg-type]


def content(value: Any, *, multiline: bool = False) -> Content:
    """A Textual ``Content`` showing ``value`` exactly (after :func:`clean`); for Static/Label."""
    return Content(clean(value, multiline=multiline))


def join(*parts: tuple[str, Any] | str, sep: str = "  ") -> Content:
    """One line of ``label: value`` pairs; labels are ours (already translated), values are data.

    Strings are used literally too, so a translation containing ``[`` cannot inject markup.
    """
    pieces: list[Content] = []
    for part in parts:
        if isinstance(part, tuple):
            label, value = part
            pieces.append(Content.assemble((clean(label) + " ", "bold"), clean(value)))
        else:
            pieces.append(Content(clean(part)))
    return Content(sep).join(pieces)


def notify_plain(app: App[Any], message: str, *, title: str = "", severity: str = "information",
                 timeout: float | None = None) -> None:
    """``app.notify`` without markup processing, after :func:`clean` (messages quote user data)."""
    app.notify(clean(message, multiline=True), title=clean(title), severity=severity,  # type: ignore[arg-type]
               timeout=timeout, markup=False)
