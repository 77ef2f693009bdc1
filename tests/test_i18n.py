"""Translations: locale selection, lookup, threads, shipped catalogs, the maintenance tools."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from teller_tui.common import i18n

from teller_tui.common import i18n_tools
from teller_tui.common.errors import ValidationError
from teller_tui.common.i18n import N_, _, get_locale, locale_override, n_, p_, set_locale

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _reset_locale():
    set_locale("en")
    yield
    set_locale("en")
    i18n.clear_cache()


# -- locale selection -----------------------------------------------------------------------
def test_nothing_happens_at_import_and_default_is_en():
    code = (
        "import sys, teller_tui.common.i18n as i, teller_tui.common.formatting, teller_tui.common.i18n_tools\n"
        "assert i.get_locale() == 'en', i.get_locale()\n"
        "assert not i._cache, 'a catalog was loaded at import time'\n"
        "assert not [m for m in sys.modules if m.startswith('babel')], 'babel imported at import time'\n"
        "assert 'textual' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("zh_CN", "zh_CN"), ("zh-CN", "zh_CN"), ("zh", "zh_CN"), ("ZH-cn", "zh_CN"), ("zh_Hans_CN", "zh_CN"),
     ("zh_CN.UTF-8", "zh_CN"), ("en", "en"), ("en_US", "en"), ("en-GB", "en"), (" en ", "en")],
)
def test_set_locale_normalises(given, expected):
    assert set_locale(given) == expected
    assert get_locale() == expected


@pytest.mark.parametrize("bad", ["fr", "", "zh_TW", "english", None, 3])
def test_unknown_locale_is_refused_and_changes_nothing(bad):
    set_locale("zh_CN")
    with pytest.raises(ValidationError) as info:
        set_locale(bad)
    assert info.value.code == "locale"
    assert "zh_CN, en" in str(info.value)
    assert get_locale() == "zh_CN"


def test_switching_locale_changes_translation():
    assert _("{amount} CR") == "{amount} CR"
    set_locale("zh_CN")
    assert _("{amount} CR") == "{amount} 贷"
    assert _("Amount is too large") == "金额过大"
    set_locale("en")
    assert _("{amount} CR") == "{amount} CR"


def test_untranslated_message_falls_back_to_msgid():
    set_locale("zh_CN")
    assert _("No such message in any catalog") == "No such message in any catalog"
    assert p_("verb", "No such message") == "No such message"


def test_plurals():
    assert n_("{points} pt", "{points} pts", 1) == "{points} pt"
    assert n_("{points} pt", "{points} pts", 2) == "{points} pts"
    assert n_("{points} pt", "{points} pts", 0) == "{points} pts"
    set_locale("zh")
    assert {n_("{points} pt", "{points} pts", n) for n in (0, 1, 2, 1000)} == {"{points} 积分"}
    assert n_("unknown apple", "unknown apples", 2) == "unknown apples"


def test_n_marker_is_identity_and_translates_later():
    label = N_("Amount is too large")
    assert label == "Amount is too large"
    set_locale("zh_CN")
    assert N_("Amount is too large") == "Amount is too large"
    assert _(label) == "金额过大"


def test_override_is_scoped_and_restored():
    set_locale("zh_CN")
    with locale_override("en-US") as name:
        assert name == "en"
        assert get_locale() == "en"
        assert _("{amount} DR") == "{amount} DR"
        with locale_override("zh"):
            assert _("{amount} DR") == "{amount} 借"
        assert get_locale() == "en"
    assert get_locale() == "zh_CN"
    with pytest.raises(RuntimeError), locale_override("en"):
        raise RuntimeError("boom")
    assert get_locale() == "zh_CN"
    with pytest.raises(ValidationError), locale_override("xx"):
        pass  # pragma: no cover - the override itself refuses
    assert get_locale() == "zh_CN"


def test_set_locale_inside_override_changes_the_process_default():
    with locale_override("en"):
        set_locale("zh_CN")
        assert get_locale() == "en"  # the override still wins here
    assert get_locale() == "zh_CN"


def _in_thread(fn):
    box: list[object] = []
    t = threading.Thread(target=lambda: box.append(fn()))
    t.start()
    t.join()
    return box[0]


def test_worker_thread_sees_process_locale_not_main_thread_override():
    set_locale("zh_CN")
    assert _in_thread(lambda: _("{amount} CR")) == "{amount} 贷"
    with locale_override("en"):
        assert _in_thread(get_locale) == "zh_CN"
    set_locale("en")
    assert _in_thread(lambda: _("{amount} CR")) == "{amount} CR"


def test_override_in_a_thread_does_not_leak():
    def worker():
        with locale_override("zh_CN"):
            return _("{amount} CR"), get_locale()

    assert _in_thread(worker) == ("{amount} 贷", "zh_CN")
    assert get_locale() == "en"


def test_override_in_an_asyncio_task_stays_in_that_task():
    async def render(lang):
        with locale_override(lang):
            await asyncio.sleep(0)
            return _("{amount} DR")

    async def both():
        return await asyncio.gather(render("zh_CN"), render("en"), render("zh"))

    assert asyncio.run(both()) == ["{amount} 借", "{amount} DR", "{amount} 借"]
    assert get_locale() == "en"


# -- loading --------------------------------------------------------------------------------
def test_catalogs_are_cached_and_loaded_lazily():
    i18n.clear_cache()
    assert not i18n._cache
    first = i18n.translations("zh_CN")
    assert i18n.translations("zh-CN") is first
    assert set(i18n._cache) == {"zh_CN"}
    i18n.clear_cache()
    assert i18n.translations("zh_CN") is not first


def _copy_locale(tmp_path: Path, monkeypatch, *, keep_mo: bool) -> Path:
    target = tmp_path / "locale"
    shutil.copytree(i18n.locale_dir(), target)
    if not keep_mo:
        for mo in target.rglob("*.mo"):
            mo.unlink()
    monkeypatch.setattr(i18n, "locale_dir", lambda: target)
    i18n.clear_cache()
    return target


def test_loads_the_po_when_no_mo_was_compiled(tmp_path, monkeypatch):
    _copy_locale(tmp_path, monkeypatch, keep_mo=False)
    set_locale("zh_CN")
    assert _("{amount} CR") == "{amount} 贷"
    assert n_("{points} pt", "{points} pts", 5) == "{points} 积分"


def test_prefers_the_mo(tmp_path, monkeypatch):
    target = _copy_locale(tmp_path, monkeypatch, keep_mo=True)
    (target / "zh_CN" / "LC_MESSAGES" / "teller.po").write_text("this is not a po file", encoding="utf-8")
    set_locale("zh_CN")
    assert _("{amount} CR") == "{amount} 贷"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_one_pass_reader_reads_what_the_standard_reader_reads(locale):
    import gettext
    import io

    data = i18n.catalog_path(locale).read_bytes()
    standard, fast = gettext.GNUTranslations(io.BytesIO(data)), i18n.Catalog(io.BytesIO(data))
    assert fast._catalog == standard._catalog and len(fast._catalog) >= 5
    assert any(isinstance(key, tuple) for key in fast._catalog)  # plural entries, as (msgid, n)
    assert fast.info() == standard.info() and fast.charset() == standard.charset() == "utf-8"
    assert [fast.plural(n) for n in range(4)] == [standard.plural(n) for n in range(4)]
    assert isinstance(i18n.translations(locale), i18n.Catalog)


def test_the_one_pass_reader_leaves_other_files_to_the_standard_reader():
    import gettext
    import io
    import struct

    data = i18n.catalog_path("zh_CN").read_bytes()
    magic, version, count, ids_at, strs_at = struct.unpack_from("<5I", data)
    header_len, header_at = struct.unpack_from("<2I", data, strs_at)
    header = data[header_at:header_at + header_len].replace(b"charset=utf-8", b"charset=GB18030")
    assert header != data[header_at:header_at + header_len]  # the negative control: another charset
    body = "你好".encode("gb18030")
    latin = (struct.pack("<5I", magic, version, 2, 20, 36) + struct.pack("<4I", 0, 52, 5, 53)
             + struct.pack("<4I", len(header), 59, len(body), 60 + len(header))
             + b"\0" + b"hello" + b"\0" + header + b"\0" + body + b"\0")
    assert i18n.Catalog(io.BytesIO(latin)).gettext("hello") == "你好"  # decoded as GB18030, by the standard reader
    assert gettext.GNUTranslations(io.BytesIO(latin)).gettext("hello") == "你好"
    with pytest.raises(OSError):
        i18n.Catalog(io.BytesIO(data[:-40]))  # offsets past the end: the standard reader's "file is corrupt"


def test_missing_catalog_means_untranslated(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "locale_dir", lambda: tmp_path / "nothing")
    i18n.clear_cache()
    set_locale("zh_CN")
    assert _("{amount} CR") == "{amount} CR"


def test_catalogs_load_concurrently_once():
    i18n.clear_cache()
    set_locale("zh_CN")
    barrier = threading.Barrier(8)
    seen: list[object] = []

    def worker():
        barrier.wait()
        seen.append(i18n.translations())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(x) for x in seen}) == 1


# -- the shipped catalogs -------------------------------------------------------------------
def _po(locale: str):
    return i18n_tools.read_catalog(i18n.catalog_path(locale, ".po"), locale)


def _keys(catalog):
    return i18n_tools._keys(catalog)


@pytest.mark.parametrize("locale", i18n.SUPPORTED_LOCALES)
def test_mo_is_compiled_from_the_current_po(locale):
    mo = i18n.catalog_path(locale)
    assert mo.exists(), f"run `python -m teller_tui.common.i18n_tools compile` ({mo} missing)"
    assert i18n_tools.mo_matches(_po(locale), mo.read_bytes()), (
        f"{mo} is stale: run `python -m teller_tui.common.i18n_tools compile`"
    )


@pytest.mark.parametrize("locale", i18n.SUPPORTED_LOCALES)
def test_po_has_exactly_the_template_messages(locale):
    pot = i18n_tools.read_catalog(i18n_tools.pot_path())
    assert _keys(_po(locale)) == _keys(pot), "run `python -m teller_tui.common.i18n_tools extract`"


def test_template_is_in_step_with_the_source():
    pot = i18n_tools.read_catalog(i18n_tools.pot_path())
    source = i18n_tools.extract()
    missing = sorted(str(k) for k in _keys(source) - _keys(pot))
    removed = sorted(str(k) for k in _keys(pot) - _keys(source))
    assert not missing and not removed, (
        f"run `python -m teller_tui.common.i18n_tools extract` (new: {missing[:10]}, gone: {removed[:10]})"
    )


def test_zh_cn_catalog_is_complete_with_matching_placeholders():
    catalog = _po("zh_CN")
    assert catalog.num_plurals == 1
    assert len(_keys(catalog)) > 0
    problems = i18n_tools.catalog_problems(catalog, require_translation=True)
    assert not problems, "zh_CN catalog:\n" + "\n".join(problems)


def test_en_catalog_has_no_fuzzy_or_broken_entries():
    """English may leave msgstr empty (the msgid is English); anything filled must be sound."""
    catalog = _po("en")
    assert catalog.num_plurals == 2
    problems = i18n_tools.catalog_problems(catalog, require_translation=False)
    assert not problems, "en catalog:\n" + "\n".join(problems)


def test_zh_cn_translations_are_chinese():
    """A msgstr copied from the msgid is untranslated in disguise."""
    catalog = _po("zh_CN")
    for message in catalog:
        if not message.id:
            continue
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for s in strings:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in s), f"{message.id!r} -> {s!r}"


# -- placeholder checks ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", set()),
        ("{a} and {b!r} and {c:>10} {a}", {"{a}", "{b}", "{c}"}),
        ("{obj.attr} {items[0]}", {"{obj}", "{items}"}),
        ("{{literal}} braces", set()),
        ("%(name)s has %d items, 100%%", {"%(name)", "%"}),
        ("{oops", {"{<unbalanced braces>}"}),
    ],
)
def test_placeholders(text, expected):
    assert i18n_tools.placeholders(text) == expected


def _message(msgid, msgstr, **kw):
    from babel.messages.catalog import Message

    return Message(msgid, msgstr, **kw)


def test_message_problems():
    check = i18n_tools.message_problems
    assert check(_message("Hi {name}", "你好 {name}"), 1, require_translation=True) == []
    assert check(_message("Hi {name}", ""), 1, require_translation=False) == []
    assert "not translated" in check(_message("Hi {name}", ""), 1, require_translation=True)[0]
    assert "placeholders" in check(_message("Hi {name}", "你好 {nom}"), 1, require_translation=True)[0]
    assert "placeholders" in check(_message("Hi {name}", "你好"), 1, require_translation=True)[0]
    assert "fuzzy" in check(_message("Hi", "你好", flags=["fuzzy"]), 1, require_translation=True)[0]
    plural = ("{n} item", "{n} items")
    assert check(_message(plural, ("{n} 项",)), 1, require_translation=True) == []
    assert check(_message(plural, ("one item", "{n} items")), 2, require_translation=True) == []
    assert check(_message(plural, ("项",)), 1, require_translation=True)  # count lost
    assert check(_message(plural, ("{n} 项", "{n} 项")), 1, require_translation=True)  # wrong form count
    assert check(_message(plural, ("{n} 项", "")), 2, require_translation=True)  # a form empty
    assert check(_message(plural, ("{m} 项",)), 1, require_translation=True)  # unknown field


# -- the maintenance workflow ---------------------------------------------------------------
SOURCE_V1 = '''
from teller_tui.common.i18n import _, n_, N_, p_

TITLE = N_("Cash in")


def f(n):
    # TRANSLATORS: shown on the receipt footer
    a = _("Thank you, {name}")
    b = n_("{count} note", "{count} notes", n)
    c = p_("verb", "Post")
    return a, b, c
'''


@pytest.fixture
def fake_repo(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "teller_tui").mkdir(parents=True)
    (root / "screens").mkdir()
    (root / "teller_tui" / "mod.py").write_text(SOURCE_V1, encoding="utf-8")
    (root / "screens" / "s.py").write_text('from teller_tui.common.i18n import _\nX = _("Close")\n', encoding="utf-8")
    locale = root / "data" / "locale"
    monkeypatch.setattr(i18n_tools, "repo_root", lambda: root)
    monkeypatch.setattr(i18n, "locale_dir", lambda: locale)
    i18n.clear_cache()
    return root


def _run(*argv) -> int:
    return i18n_tools.main(list(argv))


def test_workflow_extract_translate_compile(fake_repo, capsys):
    locale = fake_repo / "data" / "locale"
    assert _run("extract", "--check") == 1
    assert not locale.exists(), "--check must write nothing"

    assert _run("extract") == 0
    pot = (locale / "teller.pot").read_text(encoding="utf-8")
    for expected in ('msgid "Cash in"', 'msgid "Thank you, {name}"', 'msgid_plural "{count} notes"',
                     'msgctxt "verb"', "#. shown on the receipt footer", "#: screens/s.py", 'msgid "Close"'):
        assert expected in pot
    assert "mod.py:" not in pot, "no line numbers (they churn)"
    assert (locale / "zh_CN" / "LC_MESSAGES" / "teller.po").exists()
    assert (locale / "en" / "LC_MESSAGES" / "teller.po").exists()

    capsys.readouterr()
    assert _run("extract", "--check") == 1
    assert "not translated" in capsys.readouterr().out

    capsys.readouterr()
    assert _run("todo") == 0
    todo = json.loads(capsys.readouterr().out)
    assert set(todo) == {"Cash in", "Thank you, {name}", "{count} note", "verb\x04Post", "Close"}
    assert todo["{count} note"] == {"msgid_plural": "{count} notes", "forms": [""]}

    todo.update({"Cash in": "现金存入", "Thank you, {name}": "谢谢，{name}", "verb\x04Post": "记账",
                 "Close": "关闭", "{count} note": {"msgid_plural": "{count} notes", "forms": ["{count} 张"]}})
    answers = fake_repo / "todo.json"
    answers.write_text(json.dumps(todo, ensure_ascii=False), encoding="utf-8")
    assert _run("apply", str(answers)) == 0
    assert _run("extract", "--check") == 1  # .mo files not compiled yet
    assert _run("compile") == 0
    capsys.readouterr()
    assert _run("extract", "--check") == 0, capsys.readouterr().out

    set_locale("zh_CN")
    assert _("Thank you, {name}").format(name="王") == "谢谢，王"
    assert n_("{count} note", "{count} notes", 3).format(count=3) == "3 张"
    assert p_("verb", "Post") == "记账"
    assert _(N_("Cash in")) == "现金存入"
    set_locale("en")
    assert n_("{count} note", "{count} notes", 1) == "{count} note"
    assert p_("verb", "Post") == "Post"


def test_extract_keeps_translations_and_memory(fake_repo):
    locale = fake_repo / "data" / "locale"
    po = locale / "zh_CN" / "LC_MESSAGES" / "teller.po"
    _run("extract")
    i18n_tools.apply_translations({"Cash in": "现金存入", "Close": "关闭", "Later string": "以后的字符串"},
                                  remember=True)
    before = po.read_bytes()
    assert _run("extract") == 0
    assert po.read_bytes() == before, "re-running extract on unchanged source rewrites nothing"

    # A module removes one string, changes another slightly, and starts wrapping a remembered one.
    src = fake_repo / "teller_tui" / "mod.py"
    src.write_text(SOURCE_V1.replace('N_("Cash in")', 'N_("Cash in!")').replace(
        'c = p_("verb", "Post")', 'c = _("Later string")'), encoding="utf-8")
    (fake_repo / "screens" / "s.py").write_text("X = 1\n", encoding="utf-8")
    assert _run("extract") == 0
    catalog = i18n_tools.read_catalog(po, "zh_CN")
    assert catalog.get("Later string").string == "以后的字符串"
    assert not catalog.get("Later string").fuzzy
    changed = catalog.get("Cash in!")
    assert changed.fuzzy and changed.string == "现金存入"  # a suggestion to review
    assert catalog.get("Close") is None and "Close" in catalog.obsolete

    # The removed string comes back: its translation is reused exactly.
    (fake_repo / "screens" / "s.py").write_text('X = _("Close")\n', encoding="utf-8")
    assert _run("extract") == 0
    catalog = i18n_tools.read_catalog(po, "zh_CN")
    assert catalog.get("Close").string == "关闭" and not catalog.get("Close").fuzzy

    # Reviewing through apply clears the fuzzy flag.
    i18n_tools.apply_translations({"Cash in!": "现金存入！"})
    assert not i18n_tools.read_catalog(po, "zh_CN").get("Cash in!").fuzzy


def test_apply_reports_unknown_keys(fake_repo, capsys):
    _run("extract")
    answers = fake_repo / "a.json"
    answers.write_text(json.dumps({"Not in the source": "无"}), encoding="utf-8")
    assert _run("apply", str(answers)) == 1
    assert "Not in the source" in capsys.readouterr().err
    assert _run("apply", "--remember", str(answers)) == 0


def test_compile_without_po_fails(fake_repo):
    assert _run("compile") == 1


def test_write_if_changed_ignores_dates(tmp_path):
    path = tmp_path / "x.po"
    body = b'msgid ""\nmsgstr ""\n"POT-Creation-Date: 2026-01-01 00:00+0000\\n"\n"X: y\\n"\n'
    assert i18n_tools.write_if_changed(path, body)
    assert not i18n_tools.write_if_changed(path, body.replace(b"2026-01-01", b"2027-02-02"))
    assert i18n_tools.write_if_changed(path, body.replace(b"X: y", b"X: z"))


def test_stale_mo_is_detected(tmp_path, monkeypatch):
    target = _copy_locale(tmp_path, monkeypatch, keep_mo=True)
    po = target / "zh_CN" / "LC_MESSAGES" / "teller.po"
    catalog = i18n_tools.read_catalog(po, "zh_CN")
    catalog.get("{amount} CR").string = "{amount} 贷方"
    po.write_bytes(i18n_tools.render_po(catalog))
    assert not i18n_tools.mo_matches(catalog, (target / "zh_CN" / "LC_MESSAGES" / "teller.mo").read_bytes())
    assert not i18n_tools.mo_matches(catalog, b"garbage")
    assert i18n_tools.cmd_compile() == 0
    assert i18n_tools.mo_matches(catalog, (target / "zh_CN" / "LC_MESSAGES" / "teller.mo").read_bytes())
    set_locale("zh_CN")
    assert _("{amount} CR") == "{amount} 贷方"


def test_module_runs_as_a_script():
    result = subprocess.run([sys.executable, "-m", "teller_tui.common.i18n_tools", "--help"], cwd=REPO,
                            capture_output=True, text=True, check=True)
    assert "extract" in result.stdout and "compile" in result.stdout


# -- translation memory: merging area catalogs ------------------------------------------------
def _area_po(path: Path, entries: dict, *, fuzzy: tuple[str, ...] = ()) -> Path:
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale="zh_CN")
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr, flags=["fuzzy"] if msgid in fuzzy else [])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(i18n_tools.render_po(catalog))
    return path


def test_merge_fills_only_empty_or_fuzzy_entries_then_deletes_area_catalogs(fake_repo, capsys):
    locale = fake_repo / "data" / "locale"
    folder = locale / "zh_CN" / "LC_MESSAGES"
    po = folder / "teller.po"
    _run("extract")
    i18n_tools.apply_translations({"Close": "关闭"})  # a reviewed translation
    catalog = i18n_tools.read_catalog(po, "zh_CN")
    catalog.get("Cash in").string = "旧的建议"
    catalog.get("Cash in").flags.add("fuzzy")
    po.write_bytes(i18n_tools.render_po(catalog))

    desk = _area_po(folder / "desk.po", {
        "Cash in": "现金存入",                        # replaces a fuzzy suggestion
        "Close": "关闭窗口",                          # a reviewed translation is kept: conflict
        "Thank you, {name}": "谢谢，{nom}",           # placeholders differ: rejected
        "Later string": "以后的字符串",               # not in the source (yet)
    })
    auth = _area_po(folder / "auth.po", {"Thank you, {name}": "谢谢，{name}", "Cash in": "存现金"})
    outside = _area_po(fake_repo / "elsewhere" / "kiosk.po", {"Close": "关闭"})
    memory = fake_repo / "tm.json"
    memory.write_text(json.dumps({
        "verb\x04Post": "记账",
        "{count} note": {"msgid_plural": "{count} notes", "forms": ["{count} 张"]},
    }, ensure_ascii=False), encoding="utf-8")
    _area_po(folder / "fuzzy.po", {"Close": "关"}, fuzzy=("Close",))

    report = i18n_tools.merge_memory([desk, auth, memory, outside, folder / "fuzzy.po", po],
                                     remember=True, delete=True)
    catalog = i18n_tools.read_catalog(po, "zh_CN")
    assert catalog.get("Cash in").string == "现金存入" and not catalog.get("Cash in").fuzzy  # first file wins
    assert catalog.get("Close").string == "关闭"
    assert catalog.get("Thank you, {name}").string == "谢谢，{name}"
    assert catalog.get("Post", "verb").string == "记账"
    assert catalog.get("{count} note").string == ("{count} 张",)
    assert catalog.obsolete["Later string"].string == "以后的字符串"  # memory for when the code wraps it
    assert report.applied == 4 and report.kept == 1
    assert any("Later string" in u for u in report.unmatched)
    assert any("{nom}" in r for r in report.rejected) and any("fuzzy" in r for r in report.rejected)
    assert any("关闭窗口" in c for c in report.conflicts) and any("存现金" in c for c in report.conflicts)

    # Area catalogs inside data/locale are gone; the catalog itself and files elsewhere stay.
    assert sorted(p.name for p in folder.iterdir()) == ["teller.po"]
    assert outside.exists() and memory.exists()
    assert {p.name for p in report.deleted} == {"desk.po", "auth.po", "fuzzy.po"}

    # The string the code did not wrap yet is picked up as soon as it does.
    src = fake_repo / "teller_tui" / "mod.py"
    src.write_text(SOURCE_V1 + '\nLATER = _("Later string")\n', encoding="utf-8")
    _run("extract")
    assert i18n_tools.read_catalog(po, "zh_CN").get("Later string").string == "以后的字符串"

    # Merging the same memory again changes nothing.
    before = po.read_bytes()
    assert _run("merge", str(memory), str(outside)) == 0
    assert po.read_bytes() == before


def test_check_fails_while_an_area_catalog_lingers(fake_repo, capsys):
    folder = fake_repo / "data" / "locale" / "zh_CN" / "LC_MESSAGES"
    _run("extract")
    translations = {"Cash in": "现金存入", "Thank you, {name}": "谢谢，{name}", "verb\x04Post": "记账",
                    "Close": "关闭", "{count} note": {"msgid_plural": "{count} notes", "forms": ["{count} 张"]}}
    i18n_tools.apply_translations(translations)
    _run("compile")
    capsys.readouterr()
    assert _run("extract", "--check") == 0, capsys.readouterr().out
    area = _area_po(folder / "drawers.po", {"Close": "关闭"})
    assert _run("extract", "--check") == 1
    assert "drawers.po is not loaded by the app" in capsys.readouterr().out
    assert _run("merge", "--delete", str(area)) == 0
    assert not area.exists()
    assert _run("extract", "--check") == 0


def test_memory_round_trips_through_merge(fake_repo, capsys):
    _run("extract")
    i18n_tools.apply_translations({"Cash in": "现金存入", "verb\x04Post": "记账",
                                   "{count} note": {"msgid_plural": "{count} notes", "forms": ["{count} 张"]}})
    capsys.readouterr()
    assert _run("memory") == 0
    memory = json.loads(capsys.readouterr().out)
    assert memory == {"Cash in": "现金存入", "verb\x04Post": "记账",
                      "{count} note": {"msgid_plural": "{count} notes", "forms": ["{count} 张"]}}
    # A fresh catalog (e.g. rebuilt from scratch) gets every translation back from the memory file.
    shutil.rmtree(fake_repo / "data" / "locale")
    _run("extract")
    saved = fake_repo / "tm.json"
    saved.write_text(json.dumps(memory, ensure_ascii=False), encoding="utf-8")
    assert i18n_tools.merge_memory([saved]).applied == 3
    assert i18n_tools.todo_entries() == {"Thank you, {name}": "", "Close": ""}


def test_merge_refuses_missing_files(fake_repo, capsys):
    _run("extract")
    assert _run("merge", str(fake_repo / "nope.po")) == 1
    assert "no such file" in capsys.readouterr().err
