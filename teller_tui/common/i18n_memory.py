"""Translations in and out of the zh_CN catalog: the ``todo`` list for a translator, ``apply`` of a
filled-in list, and translation memory (``merge`` of other ``.po``/JSON files, ``memory`` to export).

Part of the catalog maintenance tool (:mod:`teller_tui.common.i18n_tools`, which re-exports these and
documents the workflow).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.common import i18n
from teller_tui.common.i18n_catalog import (REQUIRED_LOCALE, read_catalog, render_po, translations_of,
                                            write_if_changed)
from teller_tui.common.i18n_checks import message_problems

if TYPE_CHECKING:  # pragma: no cover
    from babel.messages.catalog import Catalog, Message  # lazy: no babel at import (test_i18n)

__all__ = ["MergeReport", "apply_translations", "memory_entries", "merge_memory", "read_memory", "todo_entries"]

def todo_entries(locale: str = REQUIRED_LOCALE) -> dict[str, Any]:
    """Entries needing a translator, as JSON-ready ``{key: current translation}``.

    A key is the msgid; with a context it is ``"context\\x04msgid"``; a plural is keyed by its
    singular and its value is a list of forms (``{"msgid_plural": ..., "forms": [...]}``).
    """
    catalog = read_catalog(i18n.catalog_path(locale, ".po"), locale)
    todo: dict[str, Any] = {}
    for message in catalog:
        if not message.id:
            continue
        if not message_problems(message, catalog.num_plurals, require_translation=True):
            continue
        key = _todo_key(message)
        if isinstance(message.id, str):
            todo[key] = message.string or ""
        else:
            forms = list(message.string or ()) if not isinstance(message.string, str) else [message.string]
            forms = (forms + [""] * catalog.num_plurals)[: catalog.num_plurals]
            todo[key] = {"msgid_plural": message.id[1], "forms": forms}
    return todo


def _todo_key(message: Message) -> str:
    singular = message.id if isinstance(message.id, str) else message.id[0]
    return singular if message.context is None else f"{message.context}\x04{singular}"


def apply_translations(
    entries: dict[str, Any], locale: str = REQUIRED_LOCALE, *, remember: bool = False
) -> tuple[int, list[str]]:
    """Write ``entries`` (``todo`` format) into the ``.po``; clears ``fuzzy``.

    Keys that are not (yet) in the catalog are returned as unknown, or with ``remember=True``
    stored as obsolete entries: translation memory that ``extract`` uses as soon as the code
    wraps that exact string. Returns ``(applied, unknown)``.
    """
    from babel.messages.catalog import Message  # lazy: no babel at import (test_i18n)

    path = i18n.catalog_path(locale, ".po")
    catalog = read_catalog(path, locale)
    by_key = {_todo_key(m): m for m in catalog if m.id}
    applied, unknown = 0, []
    for key, value in entries.items():
        message = by_key.get(key)
        if message is None and remember:
            context, _sep, msgid = key.rpartition("\x04")
            if isinstance(value, dict):
                memo = Message((msgid, value["msgid_plural"]), tuple(value["forms"]), context=context or None)
            else:
                memo = Message(msgid, value, context=context or None)
            catalog.obsolete[catalog._key_for(memo.id, memo.context)] = memo
            applied += 1
            continue
        if message is None:
            unknown.append(key)
            continue
        if isinstance(message.id, str):
            text = value if isinstance(value, str) else ""
            if not text:
                continue
            message.string = text
        else:
            forms = value.get("forms") if isinstance(value, dict) else value
            forms = [forms] if isinstance(forms, str) else list(forms or [])
            if not forms or not all(forms):
                continue
            message.string = tuple(forms)
        message.flags.discard("fuzzy")
        message.previous_id = []
        applied += 1
    write_if_changed(path, render_po(catalog))
    return applied, unknown


# -- translation memory -----------------------------------------------------------------------
def read_memory(path: Path, locale: str = REQUIRED_LOCALE) -> list[tuple[Any, Any, str | None, bool]]:
    """Entries of a memory file as ``(msgid, msgstr, context, fuzzy)``.

    ``.po``/``.pot``: every entry, obsolete ones included (they are memory too). ``.json``:
    ``{msgid: msgstr}`` or the ``todo`` format (``"context\x04msgid"`` keys, plural values
    ``{"msgid_plural": ..., "forms": [...]}``).
    """
    if path.suffix in (".po", ".pot"):
        catalog = read_catalog(path, locale)
        messages = [m for m in catalog if m.id] + list(catalog.obsolete.values())
        return [(m.id if isinstance(m.id, str) else tuple(m.id),
                 m.string if isinstance(m.string, str) else tuple(m.string or ()),
                 m.context, m.fuzzy) for m in messages]
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object {{msgid: msgstr}}")
    entries: list[tuple[Any, Any, str | None, bool]] = []
    for key, value in data.items():
        context, _sep, msgid = key.rpartition("\x04")
        if isinstance(value, dict):
            entries.append(((msgid, value.get("msgid_plural", "")), tuple(value.get("forms") or ()),
                            context or None, False))
        elif isinstance(value, str):
            entries.append((msgid, value, context or None, False))
    return entries


@dataclass
class MergeReport:
    """What ``merge_memory`` did; every list holds readable one-line descriptions."""

    applied: int = 0
    #: entries that already had a reviewed translation (left as they were)
    kept: int = 0
    #: memory whose msgid the code does not wrap (stored as obsolete memory with ``remember``)
    unmatched: list[str] = field(default_factory=list)
    #: memory that was fuzzy, empty, or had placeholders unlike its msgid (not used)
    rejected: list[str] = field(default_factory=list)
    #: a msgid translated differently by two files, or differently from the catalog
    conflicts: list[str] = field(default_factory=list)
    #: source files removed (``delete=True``)
    deleted: list[Path] = field(default_factory=list)


def merge_memory(
    sources: Sequence[Path], locale: str = REQUIRED_LOCALE, *, remember: bool = False, delete: bool = False
) -> MergeReport:
    """Merge translation memory (area ``.po`` files, JSON) into ``locale``'s catalog.

    Matching is exact (msgid, plural msgid and context). An entry of the catalog is filled
    only when it is empty or fuzzy; a reviewed translation is never overwritten (a different
    one in the memory is reported as a conflict). The first usable translation wins, in the
    order of ``sources``. Memory that is fuzzy or whose placeholders differ from its msgid is
    rejected. With ``remember``, memory for msgids not in the catalog is kept as obsolete
    entries (``extract`` reuses it when the code starts wrapping the string). With ``delete``,
    each source ``.po`` inside the locale directory (never the catalog itself) is removed,
    with its ``.mo``, after the catalog was written.
    """
    from babel.messages.catalog import Message  # lazy: no babel at import (test_i18n)

    path = i18n.catalog_path(locale, ".po")
    catalog = read_catalog(path, locale)
    report = MergeReport()
    chosen: dict[Any, tuple[Any, Any, str | None, str]] = {}  # key -> (id, string, context, origin)
    for source in sources:
        source = Path(source)
        if source.resolve() == path.resolve():
            continue
        for msgid, string, context, fuzzy in read_memory(source, locale):
            label = f"{source.name}: {msgid if isinstance(msgid, str) else msgid[0]!r}"
            probe = Message(msgid, string, context=context)
            strings = translations_of(probe)
            if fuzzy or not strings:
                report.rejected.append(f"{label}: {'fuzzy' if fuzzy else 'empty'}")
                continue
            problems = message_problems(probe, catalog.num_plurals if not isinstance(msgid, str) else 1,
                                        require_translation=True)
            if problems:
                report.rejected.append(f"{label}: {'; '.join(p.split(': ', 1)[1] for p in problems)}")
                continue
            key = (msgid, context)
            if key in chosen:
                if chosen[key][1] != string:
                    report.conflicts.append(f"{label}: {string!r} ignored, {chosen[key][3]} says {chosen[key][1]!r}")
                continue
            chosen[key] = (msgid, string, context, source.name)

    for key, (msgid, string, context, origin) in chosen.items():
        message = catalog.get(msgid if isinstance(msgid, str) else msgid[0], context)
        label = f"{origin}: {msgid if isinstance(msgid, str) else msgid[0]!r}"
        if message is None or (isinstance(msgid, tuple) and (isinstance(message.id, str)
                                                            or tuple(message.id) != msgid)):
            report.unmatched.append(label)
            if remember:
                memo = Message(msgid, string, context=context)
                memo_key = catalog._key_for(memo.id, memo.context)
                if memo_key not in catalog.obsolete or not translations_of(catalog.obsolete[memo_key]):
                    catalog.obsolete[memo_key] = memo
            continue
        if translations_of(message) and not message.fuzzy:
            report.kept += 1
            if message.string != string:
                report.conflicts.append(f"{label}: {string!r} ignored, the catalog says {message.string!r}")
            continue
        message.string = string
        message.flags.discard("fuzzy")
        message.previous_id = []
        report.applied += 1
    write_if_changed(path, render_po(catalog))

    if delete:
        base = i18n.locale_dir().resolve()
        for source in sources:
            source = Path(source)
            resolved = source.resolve()
            if source.suffix != ".po" or resolved == path.resolve() or base not in resolved.parents:
                continue
            for stale in (source, source.with_suffix(".mo")):
                if stale.exists():
                    stale.unlink()
                    report.deleted.append(stale)
    return report


def memory_entries(locale: str = REQUIRED_LOCALE) -> dict[str, Any]:
    """Every reviewed translation of ``locale`` (obsolete ones too), in ``todo``/``merge`` JSON form."""
    catalog = read_catalog(i18n.catalog_path(locale, ".po"), locale)
    memory: dict[str, Any] = {}
    for message in [*catalog, *catalog.obsolete.values()]:
        if not message.id or message.fuzzy or not translations_of(message):
            continue
        key = _todo_key(message)
        if isinstance(message.id, str):
            memory.setdefault(key, message.string)
        else:
            memory.setdefault(key, {"msgid_plural": message.id[1], "forms": list(message.string)})
    return dict(sorted(memory.items()))
