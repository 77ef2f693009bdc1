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

A developer tool (the app never imports it), by job: this module is the command line, extraction
and the whole check; :mod:`~teller_tui.common.i18n_catalog` reads, writes and compiles catalogs,
:mod:`~teller_tui.common.i18n_checks` finds what is wrong with one, :mod:`~teller_tui.common.i18n_memory`
is ``todo``/``apply`` and translation memory. Their functions are re-exported here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teller_tui.common import i18n
from teller_tui.common.i18n import SUPPORTED_LOCALES
from teller_tui.common.i18n_catalog import (COPYRIGHT, PROJECT, REQUIRED_LOCALE, mo_entries, mo_matches, pot_path,
                                            read_catalog, render_mo, render_po, updated_catalog, write_if_changed)
from teller_tui.common.i18n_checks import (catalog_keys, catalog_problems, message_problems, placeholders,
                                           stray_catalogs)
from teller_tui.common.i18n_memory import (MergeReport, apply_translations, memory_entries, merge_memory,
                                           read_memory, todo_entries)

if TYPE_CHECKING:  # pragma: no cover
    from babel.messages.catalog import Catalog  # lazy: no babel at import (test_i18n)

__all__ = [
    "COMMENT_TAGS", "COPYRIGHT", "KEYWORDS", "PROJECT", "REQUIRED_LOCALE", "SOURCE_DIRS", "MergeReport",
    "apply_translations", "catalog_keys", "catalog_problems", "check", "cmd_compile", "cmd_extract", "extract",
    "main", "memory_entries", "merge_memory", "message_problems", "mo_entries", "mo_matches", "placeholders",
    "pot_path", "read_catalog", "read_memory", "render_mo", "render_po", "repo_root", "stray_catalogs",
    "todo_entries", "updated_catalog", "write_if_changed",
]

_keys = catalog_keys  # the name tests/test_i18n.py uses

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


def repo_root() -> Path:
    """The checkout this module lives in (``teller_tui/..``)."""
    return Path(__file__).resolve().parents[2]


# -- extraction and the whole check -------------------------------------------------------------
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


def check(root: Path | None = None) -> list[str]:
    """Everything ``extract --check`` reports; empty when the catalogs are good."""
    problems: list[str] = []
    template = extract(root)
    wanted = catalog_keys(template)
    pot = pot_path()
    if not pot.exists() or catalog_keys(read_catalog(pot)) != wanted:
        problems.append(f"{pot.name} is not in step with the source: run `python -m teller_tui.common.i18n_tools extract`")
    for locale in SUPPORTED_LOCALES:
        path = i18n.catalog_path(locale, ".po")
        existing = read_catalog(path, locale) if path.exists() else None
        if existing is None or catalog_keys(existing) != wanted:
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
