"""Reading, writing and compiling the message catalogs (``data/locale``): the ``.pot`` template, each
locale's ``.po`` brought in step with it, and the compiled ``.mo`` the app loads.

Part of the catalog maintenance tool (:mod:`teller_tui.common.i18n_tools`, which re-exports these);
the app never imports it. Babel is imported inside the functions: importing this module loads nothing.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.common import i18n
from teller_tui.common.i18n import DOMAIN

if TYPE_CHECKING:  # pragma: no cover
    from babel.messages.catalog import Catalog, Message  # lazy: no babel at import (test_i18n)

__all__ = ["COPYRIGHT", "PROJECT", "REQUIRED_LOCALE", "mo_entries", "mo_matches", "pot_path", "read_catalog",
           "render_mo", "render_po", "translations_of", "updated_catalog", "write_if_changed"]

#: Locale whose catalog must be complete.
REQUIRED_LOCALE = "zh_CN"
PROJECT = "teller-tui"
COPYRIGHT = "the teller-tui authors"


def pot_path() -> Path:
    return i18n.locale_dir() / f"{DOMAIN}.pot"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    from babel.messages.pofile import read_po  # lazy: no babel at import (test_i18n)

    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def render_po(catalog: Catalog) -> bytes:
    from babel.messages.pofile import write_po  # lazy: no babel at import (test_i18n)

    buf = io.BytesIO()
    write_po(buf, catalog, width=100, sort_output=True, include_lineno=False, include_previous=True)
    return buf.getvalue()


def render_mo(catalog: Catalog) -> bytes:
    from babel.messages.mofile import write_mo  # lazy: no babel at import (test_i18n)

    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


_DATE_LINE = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"\n', re.MULTILINE)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` unless the file already says the same, dates aside. True if written."""
    if path.exists() and _DATE_LINE.sub(b"", path.read_bytes()) == _DATE_LINE.sub(b"", data):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def updated_catalog(template: Catalog, locale: str, existing: Catalog | None) -> Catalog:
    """``existing`` brought in step with ``template``; obsolete entries are translation memory."""
    from babel.messages.catalog import Catalog  # lazy: no babel at import (test_i18n)

    if existing is None:
        catalog = Catalog(locale=locale, project=PROJECT, fuzzy=False, copyright_holder=COPYRIGHT, charset="utf-8")
    else:
        catalog = existing
        # Let translations of strings that went away and came back match exactly again.
        for message in list(catalog.obsolete.values()):
            if catalog.get(message.id, message.context) is None:
                catalog[message.id] = message
        catalog.obsolete.clear()
    catalog.update(template, update_header_comment=True)
    catalog.fuzzy = False  # the header, not the entries
    for message in catalog:
        if message.id and message.fuzzy and not translations_of(message):
            # An empty suggestion is no suggestion: the entry is simply untranslated (and an
            # ``en`` entry left empty falls back to its msgid, which is what we want).
            message.flags.discard("fuzzy")
            message.previous_id = []
    return catalog


def translations_of(message: Message) -> tuple[str, ...]:
    """The non-empty msgstr(s) of ``message``."""
    strings = (message.string,) if isinstance(message.string, str) else tuple(message.string or ())
    return tuple(s for s in strings if s)


def mo_entries(data: bytes) -> dict[Any, Any]:
    """``{(msgid, context): msgstr}`` of a compiled catalog, header excluded."""
    from babel.messages.mofile import read_mo  # lazy: no babel at import (test_i18n)

    catalog = read_mo(io.BytesIO(data))
    return {
        (m.id if isinstance(m.id, str) else tuple(m.id), m.context):
            (m.string if isinstance(m.string, str) else tuple(m.string or ()))
        for m in catalog if m.id
    }


def mo_matches(catalog: Catalog, data: bytes) -> bool:
    """Does compiled ``data`` hold exactly what ``catalog`` would compile to?"""
    try:
        return mo_entries(data) == mo_entries(render_mo(catalog))
    except Exception:  # a corrupt .mo is a stale .mo
        return False
