"""Translations for the whole app (gettext; catalogs in ``data/locale``).

Usage in any module, core or UI::

    from teller_tui.common.i18n import _, n_, N_, p_

    raise ValidationError(_("Enter an amount"), code="amount_empty")
    label = n_("{count} transaction", "{count} transactions", count).format(count=count)
    TITLES = {"cash_in": N_("Cash in")}        # marked here, translated when shown: _(TITLES[k])

Placeholders are ``str.format`` fields with names (``{count}``), formatted *after*
translation, so a translator can move them. Never build a message with an f-string inside
``_()``: the extractor cannot see it and the catalog lookup would miss.

The active locale
-----------------
There is one process-wide locale (``set_locale``), which every thread sees, including the
UI's worker threads. A context-local override (``with locale_override("en"): ...``) renders
one thing in another language (a receipt for a foreign customer) without touching the
rest of the app; it applies to the current thread / asyncio task only. Before any call the
locale is ``"en"`` (the msgids themselves); the app sets it from ``Settings.locale`` at
startup. Nothing happens at import time: catalogs load lazily on first use and are cached.

Catalogs are compiled ``.mo`` files beside their ``.po`` sources; see
:mod:`teller_tui.common.i18n_tools` for the maintenance workflow (extract, translate, compile).
A UTF-8 ``.mo`` is read in one pass (:class:`Catalog`: the sign-in's first frame waits for the
Chinese catalog, and the standard library's reader takes three times as long); any other is read
by the standard library's.
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
import io
import operator
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from teller_tui.common.errors import ValidationError
from teller_tui.common.paths import data_dir

__all__ = [
    "DOMAIN",
    "SUPPORTED_LOCALES",
    "N_",
    "NP_",
    "_",
    "catalog_path",
    "clear_cache",
    "get_locale",
    "gettext",
    "in_catalog",
    "locale_override",
    "n_",
    "ngettext",
    "normalize_locale",
    "p_",
    "set_locale",
    "translations",
]

#: gettext domain: ``data/locale/<lang>/LC_MESSAGES/teller.mo``.
DOMAIN = "teller"
#: Locales the app ships, in the form ``get_locale()`` returns.
SUPPORTED_LOCALES: tuple[str, ...] = ("zh_CN", "en")
#: The language the msgids are written in; needs no catalog.
SOURCE_LOCALE = "en"

_ALIASES: dict[str, str] = {
    "zh": "zh_CN",
    "zh_cn": "zh_CN",
    "zh_hans": "zh_CN",
    "zh_hans_cn": "zh_CN",
    "en": "en",
    "en_us": "en",
    "en_gb": "en",
}

_process_locale: str = SOURCE_LOCALE
_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("teller_locale_override", default=None)

_cache: dict[str, _gettext.NullTranslations] = {}
_cache_lock = threading.Lock()


# -- locale selection -----------------------------------------------------------------------
def normalize_locale(name: str) -> str:
    """Map ``"zh-CN"``, ``"zh"``, ``"zh_Hans_CN"``, ``"en_US"``... to ``"zh_CN"`` or ``"en"``.

    Raises :class:`~teller_tui.common.errors.ValidationError` for anything else.
    """
    if isinstance(name, str):
        key = name.strip().replace("-", "_").split(".", 1)[0].lower()  # drop ".UTF-8"
        if key in _ALIASES:
            return _ALIASES[key]
    raise ValidationError(
        _("Unsupported language {name}; choose one of: {choices}").format(
            name=repr(name)[:40], choices=", ".join(SUPPORTED_LOCALES)
        ),
        code="locale",
    )


def set_locale(name: str) -> str:
    """Set the process-wide locale (seen by every thread); return the normalised name."""
    global _process_locale
    locale = normalize_locale(name)
    _process_locale = locale
    return locale


def get_locale() -> str:
    """The locale in effect here: the context override if any, else the process locale."""
    return _override.get() or _process_locale


@contextmanager
def locale_override(name: str) -> Iterator[str]:
    """Translate into ``name`` inside the block, in this thread / task only."""
    token = _override.set(normalize_locale(name))
    try:
        yield _override.get() or _process_locale
    finally:
        _override.reset(token)


# -- catalogs -------------------------------------------------------------------------------
def locale_dir() -> Path:
    """``data/locale`` (or its installed equivalent)."""
    return data_dir() / "locale"


def catalog_path(locale: str, suffix: str = ".mo") -> Path:
    """Path of the compiled (``.mo``) or source (``.po``) catalog of ``locale``."""
    return locale_dir() / normalize_locale(locale) / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


class Catalog(_gettext.GNUTranslations):
    """``gettext.GNUTranslations`` reading a little-endian UTF-8 ``.mo`` (what ``i18n_tools compile``
    writes) with two table reads and one dict comprehension, through ``_parse``, the hook the standard
    library documents for other readers. The result is the same catalog, header (``""``), plural
    entries (``(msgid, n)``) and plural rule as the standard reader's; any other file (big-endian,
    another charset, offsets past the end) goes to the standard reader."""

    def _parse(self, fp: Any) -> None:
        buf: bytes = fp.read()
        if not self._read_utf8(buf):
            super()._parse(io.BytesIO(buf))

    def _read_utf8(self, buf: bytes) -> bool:
        if len(buf) < 20:
            return False
        magic, version, count, ids_at, strs_at = struct.unpack_from("<5I", buf)
        if magic != self.LE_MAGIC or version >> 16 not in self.VERSIONS:
            return False
        try:
            ids = struct.unpack_from(f"<{2 * count}I", buf, ids_at)
            strs = struct.unpack_from(f"<{2 * count}I", buf, strs_at)
        except struct.error:
            return False
        if count and max(max(map(operator.add, ids[0::2], ids[1::2])),
                         max(map(operator.add, strs[0::2], strs[1::2]))) >= len(buf):
            return False  # the standard reader's "file is corrupt"
        if not count or ids[0] != 0:
            return False  # no metadata (empty msgid, sorted first): no charset
        # The metadata alone, read by the standard reader: its header, charset and plural rule.
        entry = buf[strs[1]:strs[1] + strs[0]]
        meta = _gettext.GNUTranslations(io.BytesIO(struct.pack("<9I", magic, version, 1, 20, 28, 0, 36, len(entry), 37)
                                                   + b"\0" + entry + b"\0"))
        if (meta.charset() or "").lower().replace("-", "") != "utf8":
            return False
        try:
            catalog: dict[Any, str] = {
                buf[i_at:i_at + i_len].decode(): buf[s_at:s_at + s_len].decode()
                for i_len, i_at, s_len, s_at in zip(ids[0::2], ids[1::2], strs[0::2], strs[1::2])}
        except UnicodeDecodeError:
            return False
        for key in [k for k in catalog if "\x00" in k]:  # plural entries: "one\x00many" -> (one, n)
            forms = catalog.pop(key).split("\x00")
            msgid = key.split("\x00", 1)[0]
            for n, form in enumerate(forms):
                catalog[(msgid, n)] = form
        self._catalog = catalog
        self._info = meta.info()
        self._charset = meta.charset()
        self.plural = meta.plural  # type: ignore[attr-defined]  # set by GNUTranslations._parse
        return True


def _load(locale: str) -> _gettext.NullTranslations:
    mo = catalog_path(locale)
    if mo.exists():
        with mo.open("rb") as fh:
            return Catalog(fh)
    po = catalog_path(locale, ".po")
    if po.exists():  # a checkout where nobody ran `i18n_tools compile` yet
        import io

        from babel.messages.mofile import write_mo  # lazy: no babel at import (test_i18n)
        from babel.messages.pofile import read_po  # lazy: no babel at import (test_i18n)

        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        return _gettext.GNUTranslations(buf)
    return _gettext.NullTranslations()


def translations(locale: str | None = None) -> _gettext.NullTranslations:
    """The (cached) translations object of ``locale`` (default: the active one)."""
    locale = get_locale() if locale is None else normalize_locale(locale)
    found = _cache.get(locale)
    if found is None:
        with _cache_lock:
            found = _cache.get(locale)
            if found is None:
                found = _cache[locale] = _load(locale)
    return found


def clear_cache() -> None:
    """Forget loaded catalogs (after ``i18n_tools compile``, or in tests)."""
    with _cache_lock:
        _cache.clear()


# -- the translation functions --------------------------------------------------------------
def _(message: str) -> str:
    """Translate ``message`` into the active locale (the msgid itself when untranslated)."""
    return translations().gettext(message)


def n_(singular: str, plural: str, n: int) -> str:
    """Plural-aware translation; format the result yourself: ``.format(count=n)``."""
    return translations().ngettext(singular, plural, n)


def p_(context: str, message: str) -> str:
    """Translate a short string that needs a context to disambiguate (``p_("verb", "Post")``)."""
    return translations().pgettext(context, message)


def in_catalog(message: str) -> bool:
    """Whether ``message`` is one of the app's msgids (the zh_CN catalog holds every one of them:
    tests/test_i18n.py). For texts that come back from storage: only a known msgid is rendered."""
    catalog = getattr(translations("zh_CN"), "_catalog", None)
    return isinstance(catalog, dict) and message in catalog


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (module-level constants)."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark ``message`` in ``context`` for extraction without translating it now; translate it at
    the edge with ``p_(context, message)``. For a word that reads differently in Chinese by
    where it stands ("Opened" is 开立时间 beside a date, 已开立 in a case's thread)."""
    return message


gettext = _
ngettext = n_
