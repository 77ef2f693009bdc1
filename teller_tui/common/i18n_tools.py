"""Catalog maintenance: extract, translate, compile.

Run from the repository root after adding or changing user-facing strings::

    python -m teller_tui.common.i18n_tools extract          # 1. source -> data/locale/teller.pot -> both .po
    python -m teller_tui.common.i18n_tools todo > todo.json # 2. zh_CN strings that need a translation
    #    fill in the JSON values (or edit data/locale/zh_CN/LC_MESSAGES/teller.po directly)
    python -m teller_tui.common.i18n_tools apply todo.json  # 3. write the translations into zh_CN .po
                                                     #    (--remember: also keep ones for strings
                                                     #    not wrapped yet, as translation memory)
    python -m teller_tui.common.i18n_tools compile          # 4. .po -> .mo (the app loads the .mo)
    .venv/bin/pytest tests/test_i18n.py -q           # 5. completeness, placeholders, .mo freshness

Translations written elsewhere (a feature's own ``auth.po``, a JSON file from a translator)
are *translation memory*: merge them into the one catalog, then delete the stray ``.po``
files, because the app loads only ``teller.po`` (``extract --check`` fails while one lingers)::

    python -m teller_tui.common.i18n_tools merge --remember --delete data/locale/zh_CN/LC_MESSAGES/*.po tm.json
    python -m teller_tui.common.i18n_tools memory > tm.json   # every zh_CN translation, as JSON memory

``merge`` fills zh_CN entries that are empty or fuzzy with the memory's translation of the
exact same msgid (and context); it never overwrites a reviewed (non-fuzzy) translation, and
skips memory that is fuzzy or whose placeholders differ from the msgid. Files are read in
the order given; the first good translation of a msgid wins and disagreements are reported.
``--remember`` keeps memory for msgids the code does not wrap yet (as obsolete entries,
reused by ``extract``); ``--delete`` removes the merged ``.po`` files (and their ``.mo``)
that lie inside ``data/locale``, except the catalog itself. ``memory`` prints the reviewed
zh_CN translations as JSON ``{msgid: msgstr}`` (``todo`` format), a file that ``merge`` (fill
the gaps) or ``apply --remember`` (overwrite) reads back.

``extract --check`` writes nothing and exits 1 when the catalogs are not in step with the
source (new or removed strings) or any zh_CN entry is untranslated, fuzzy or has placeholders
that differ from its msgid. ``tests/test_i18n.py`` runs the same checks in CI.

What is extracted: calls of ``_``, ``n_`` (singular, plural), ``N_`` and ``p_`` (context,
message) in ``teller_tui/`` and ``screens/``. A comment starting ``# TRANSLATORS:`` on the
line(s) just before the call is copied into the catalog for the translator.

Policy:

* ``zh_CN`` must translate every message (the test enforces it).
* ``en`` keeps empty msgstrs: English falls back to the msgid, which *is* the English text.
  Fill an ``en`` msgstr only to reword a string without touching code.
* Strings that disappear from the source stay at the end of each ``.po`` as obsolete
  (``#~``) entries: a translation memory. When a string comes back (or a module that was
  pre-translated starts wrapping it in ``_()``) its translation is reused as is.
* A string that changed slightly comes back ``#, fuzzy`` with the old translation as a
  suggestion: review it, then delete the ``fuzzy`` flag (``todo`` lists fuzzy entries too,
  and ``apply`` clears the flag).
* Files are sorted by msgid and carry file names without line numbers, so editing code does
  not churn the catalogs; nothing is rewritten when only dates would change.

Why one module of this size: a developer tool (the app never imports it) with one job,
catalog maintenance, whose sub-commands share the catalog reading, checking and writing
helpers above them; ``tests/test_i18n.py`` runs the same checks in CI.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import string
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.common import i18n
from teller_tui.common.i18n import DOMAIN, SUPPORTED_LOCALES

if TYPE_CHECKING:  # pragma: no cover
    from babel.messages.catalog import Catalog, Message  # lazy: no babel at import (test_i18n)

#: Locale whose catalog must be complete.
REQUIRED_LOCALE = "zh_CN"
#: Source directories scanned by ``extract`` (relative to the repository root).
SOURCE_DIRS: tuple[str, ...] = ("teller_tui", "screens")
KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "n_": (1, 2),
    "ngettext": (1, 2),
    "N_": None,
    "p_": ((1, "c"), 2),
    "NP_": ((1, "c"), 2),
}
COMMENT_TAGS = ("TRANSLATORS:",)
PROJECT = "teller-tui"
COPYRIGHT = "the teller-tui authors"


def repo_root() -> Path:
    """The checkout this module lives in (``teller_tui/..``)."""
    return Path(__file__).resolve().parents[2]


def pot_path() -> Path:
    return i18n.locale_dir() / f"{DOMAIN}.pot"


# -- reading and writing ----------------------------------------------------------------------
def extract(root: Path | None = None, dirs: Sequence[str] = SOURCE_DIRS) -> Catalog:
    """Scan the source and return the template catalog (nothing is written)."""
    from babel.messages.catalog import Catalog  # lazy: no babel at import (test_i18n)
    from babel.messages.extract import extract_from_dir  # lazy: no babel at import (test_i18n)

    root = root or repo_root()
    template = Catalog(project=PROJECT, fuzzy=False, copyright_holder=COPYRIGHT, charset="utf-8")
    for name in dirs:
        base = root / name
        if not base.is_dir():
            continue
        found = extract_from_dir(
            base,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=COMMENT_TAGS,
            strip_comment_tags=True,
            directory_filter=lambda d: "__pycache__" not in d and "/." not in d,
        )
        for filename, lineno, message, comments, context in found:
            template.add(message, None, [(f"{name}/{filename}".replace("\\", "/"), lineno)],
                         auto_comments=comments, context=context)
    return template


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
        if message.id and message.fuzzy and not _strings(message):
            # An empty suggestion is no suggestion: the entry is simply untranslated (and an
            # ``en`` entry left empty falls back to its msgid, which is what we want).
            message.flags.discard("fuzzy")
            message.previous_id = []
    return catalog


def _strings(message: Message) -> tuple[str, ...]:
    """The non-empty msgstr(s) of ``message``."""
    strings = (message.string,) if isinstance(message.string, str) else tuple(message.string or ())
    return tuple(s for s in strings if s)


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


def _keys(catalog: Catalog) -> set[Any]:
    return {(m.id if isinstance(m.id, str) else tuple(m.id), m.context) for m in catalog if m.id}


def check(root: Path | None = None) -> list[str]:
    """Everything ``extract --check`` reports; empty when the catalogs are good."""
    problems: list[str] = []
    template = extract(root)
    wanted = _keys(template)
    pot = pot_path()
    if not pot.exists() or _keys(read_catalog(pot)) != wanted:
        problems.append(f"{pot.name} is not in step with the source: run `python -m teller_tui.common.i18n_tools extract`")
    for locale in SUPPORTED_LOCALES:
        path = i18n.catalog_path(locale, ".po")
        existing = read_catalog(path, locale) if path.exists() else None
        if existing is None or _keys(existing) != wanted:
            problems.append(f"{locale}: .po is not in step with the source: run extract")
        catalog = updated_catalog(template, locale, existing)
        for p in catalog_problems(catalog, require_translation=locale == REQUIRED_LOCALE):
            problems.append(f"{locale}: {p}")
        mo = i18n.catalog_path(locale)
        if existing is not None and (not mo.exists() or not mo_matches(existing, mo.read_bytes())):
            problems.append(f"{locale}: .mo is stale: run `python -m teller_tui.common.i18n_tools compile`")
        for stray in stray_catalogs(locale):
            fix = (f"`python -m teller_tui.common.i18n_tools merge --remember --delete {stray}`" if stray.suffix == ".po"
                   else "delete it")
            problems.append(f"{locale}: {stray.name} is not loaded by the app (one catalog per language): {fix}")
    return problems


def stray_catalogs(locale: str) -> list[Path]:
    """``.po``/``.mo`` files beside the catalog that the app never loads (one catalog per language)."""
    folder = i18n.catalog_path(locale, ".po").parent
    if not folder.is_dir():
        return []
    keep = {i18n.catalog_path(locale, ".po").name, i18n.catalog_path(locale).name}
    return sorted(p for p in folder.iterdir() if p.suffix in (".po", ".mo") and p.name not in keep)


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


# -- commands ---------------------------------------------------------------------------------
def cmd_extract(check_only: bool = False, out: Any = None) -> int:
    out = out or sys.stdout
    if check_only:
        problems = check()
        for p in problems:
            print(p, file=out)
        return 1 if problems else 0
    template = extract()
    written = [pot_path()] if write_if_changed(pot_path(), render_po(template)) else []
    for locale in SUPPORTED_LOCALES:
        path = i18n.catalog_path(locale, ".po")
        existing = read_catalog(path, locale) if path.exists() else None
        catalog = updated_catalog(template, locale, existing)
        if write_if_changed(path, render_po(catalog)):
            written.append(path)
        missing = catalog_problems(catalog, require_translation=locale == REQUIRED_LOCALE)
        if missing:
            print(f"{locale}: {len(missing)} entries need attention (see `todo`)", file=out)
    print(f"{len(list(template)) - 1} messages; wrote {len(written)} file(s)", file=out)
    for path in written:
        print(f"  {path}", file=out)
    return 0


def cmd_compile(out: Any = None) -> int:
    out = out or sys.stdout
    for locale in SUPPORTED_LOCALES:
        po = i18n.catalog_path(locale, ".po")
        if not po.exists():
            print(f"{locale}: no .po; run extract first", file=out)
            return 1
        catalog = read_catalog(po, locale)
        mo = i18n.catalog_path(locale)
        if not mo.exists() or not mo_matches(catalog, mo.read_bytes()):
            mo.write_bytes(render_mo(catalog))
            print(f"  {mo}", file=out)
    i18n.clear_cache()
    return 0


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
            strings = _strings(probe)
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
                if memo_key not in catalog.obsolete or not _strings(catalog.obsolete[memo_key]):
                    catalog.obsolete[memo_key] = memo
            continue
        if _strings(message) and not message.fuzzy:
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
        if not message.id or message.fuzzy or not _strings(message):
            continue
        key = _todo_key(message)
        if isinstance(message.id, str):
            memory.setdefault(key, message.string)
        else:
            memory.setdefault(key, {"msgid_plural": message.id[1], "forms": list(message.string)})
    return dict(sorted(memory.items()))


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m teller_tui.common.i18n_tools", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="scan the source; update teller.pot and every .po")
    ex.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything is missing or stale")
    sub.add_parser("compile", help="compile every .po into its .mo")
    td = sub.add_parser("todo", help="print the zh_CN entries that need a translation, as JSON")
    td.add_argument("--locale", default=REQUIRED_LOCALE)
    ap = sub.add_parser("apply", help="write translations from a `todo` JSON file into the .po")
    ap.add_argument("file", type=Path)
    ap.add_argument("--locale", default=REQUIRED_LOCALE)
    ap.add_argument("--remember", action="store_true",
                    help="keep translations of strings the code does not wrap yet, as translation memory")
    mg = sub.add_parser("merge", help="fill empty/fuzzy entries from translation memory (.po or JSON files)")
    mg.add_argument("files", type=Path, nargs="+")
    mg.add_argument("--locale", default=REQUIRED_LOCALE)
    mg.add_argument("--remember", action="store_true",
                    help="keep memory for strings the code does not wrap yet, as obsolete entries")
    mg.add_argument("--delete", action="store_true",
                    help="then delete the merged .po files (and .mo) found inside data/locale")
    mg.add_argument("-v", "--verbose", action="store_true", help="list unmatched and rejected entries")
    me = sub.add_parser("memory", help="print every reviewed translation as JSON {msgid: msgstr}")
    me.add_argument("--locale", default=REQUIRED_LOCALE)
    args = parser.parse_args(list(argv) if argv is not None else None)

    if args.command == "extract":
        return cmd_extract(check_only=args.check)
    if args.command == "compile":
        return cmd_compile()
    if args.command == "todo":
        json.dump(todo_entries(args.locale), sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    if args.command == "apply":
        entries = json.loads(args.file.read_text(encoding="utf-8"))
        applied, unknown = apply_translations(entries, args.locale, remember=args.remember)
        print(f"applied {applied} translation(s)")
        for key in unknown:
            print(f"  not in the catalog: {key!r}", file=sys.stderr)
        print("now run: python -m teller_tui.common.i18n_tools compile")
        return 1 if unknown else 0
    if args.command == "merge":
        missing = [str(f) for f in args.files if not f.is_file()]
        if missing:
            print(f"no such file: {', '.join(missing)}", file=sys.stderr)
            return 1
        report = merge_memory(args.files, args.locale, remember=args.remember, delete=args.delete)
        print(f"applied {report.applied}, kept {report.kept} reviewed, "
              f"{len(report.unmatched)} not in the source{' (remembered)' if args.remember else ''}, "
              f"{len(report.rejected)} rejected, {len(report.conflicts)} conflicting")
        for line in report.conflicts:
            print(f"  conflict: {line}", file=sys.stderr)
        for line in report.rejected:
            print(f"  rejected: {line}", file=sys.stderr)
        if args.verbose:
            for line in report.unmatched:
                print(f"  not in the source: {line}")
        for deleted in report.deleted:
            print(f"  deleted {deleted}")
        print("now run: python -m teller_tui.common.i18n_tools compile")
        return 0
    if args.command == "memory":
        json.dump(memory_entries(args.locale), sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    return 2  # pragma: no cover - argparse refuses unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
