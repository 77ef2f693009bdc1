"""What is wrong with a catalog: untranslated or fuzzy entries, placeholders unlike the msgid's, plural
forms, and catalogs beside the one the app loads.

Part of the catalog maintenance tool (:mod:`teller_tui.common.i18n_tools`, which re-exports these);
``tests/test_i18n.py`` runs the same checks in CI.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.common import i18n

if TYPE_CHECKING:  # pragma: no cover
    from babel.messages.catalog import Catalog, Message  # lazy: no babel at import (test_i18n)

__all__ = ["catalog_keys", "catalog_problems", "message_problems", "placeholders", "stray_catalogs"]

# -- checks -----------------------------------------------------------------------------------
_PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def placeholders(text: str) -> set[str]:
    """Names of ``{field}`` and ``%(name)s`` / ``%s`` placeholders in ``text``."""
    found: set[str] = set()
    try:
        for _literal, field, _spec, _conv in string.Formatter().parse(text):
            if field is not None:
                found.add("{" + re.split(r"[.\[]", field, maxsplit=1)[0] + "}")
    except ValueError:
        found.add("{<unbalanced braces>}")
    for match in _PERCENT.finditer(text):
        if match.group(0) != "%%":
            found.add(f"%({match.group(1)})" if match.group(1) else "%")
    return found


def message_problems(message: Message, num_plurals: int, *, require_translation: bool) -> list[str]:
    """What is wrong with one entry (empty list if nothing)."""
    problems: list[str] = []
    label = message.id if isinstance(message.id, str) else message.id[0]
    label = repr(label if message.context is None else f"{message.context}|{label}")
    if message.fuzzy:
        problems.append(f"{label}: fuzzy (review the translation, then remove the flag)")
    strings: Sequence[str] = (message.string,) if isinstance(message.string, str) else tuple(message.string or ())
    if not any(strings):
        if require_translation:
            problems.append(f"{label}: not translated")
        return problems
    if isinstance(message.id, str):
        expected = placeholders(message.id)
        for s in strings:
            if s and placeholders(s) != expected:
                problems.append(f"{label}: placeholders {sorted(placeholders(s))} != {sorted(expected)}")
        return problems
    singular, plural = message.id[0], message.id[1]
    allowed = placeholders(singular) | placeholders(plural)
    if len(strings) != num_plurals:
        problems.append(f"{label}: {len(strings)} plural forms, the language has {num_plurals}")
    if any(not s for s in strings):
        problems.append(f"{label}: a plural form is empty")
    for s in strings:
        if s and not placeholders(s) <= allowed:
            problems.append(f"{label}: unknown placeholders {sorted(placeholders(s) - allowed)}")
    if strings and strings[-1] and placeholders(strings[-1]) != placeholders(plural):
        problems.append(f"{label}: the last plural form must use {sorted(placeholders(plural))}")
    return problems


def catalog_problems(catalog: Catalog, *, require_translation: bool) -> list[str]:
    problems: list[str] = []
    for message in catalog:
        if message.id:
            problems.extend(message_problems(message, catalog.num_plurals, require_translation=require_translation))
    return problems


def catalog_keys(catalog: Catalog) -> set[Any]:
    return {(m.id if isinstance(m.id, str) else tuple(m.id), m.context) for m in catalog if m.id}


def stray_catalogs(locale: str) -> list[Path]:
    """``.po``/``.mo`` files beside the catalog that the app never loads (one catalog per language)."""
    folder = i18n.catalog_path(locale, ".po").parent
    if not folder.is_dir():
        return []
    keep = {i18n.catalog_path(locale, ".po").name, i18n.catalog_path(locale).name}
    return sorted(p for p in folder.iterdir() if p.suffix in (".po", ".mo") and p.name not in keep)
