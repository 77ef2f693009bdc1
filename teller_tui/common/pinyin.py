"""Pinyin of Chinese names, for search and screening (pypinyin, loaded on first use).

* :func:`name_pinyin` — the latin spelling a new customer gets when the teller leaves it empty:
  surname and given name apart, lower case, no tones, "ü" as "v" (``欧阳明远`` -> ``ouyang mingyuan``),
  the same shape as the demo's customers, so the lookup finds both by ``ouyang`` or ``ouyangmingyuan``.
* :func:`compact_pinyin` — the letters only (``zhangwei``), for watch-list name matching.

pypinyin's dictionaries take ~300 ms to load: it is imported on the first call, never at the start
of a terminal (the watch list and onboarding call these from worker threads).
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

__all__ = ["compact_pinyin", "has_cjk", "name_pinyin"]

#: Two-character surnames (checked before the one-character reading).
COMPOUND_SURNAMES = frozenset({"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
                               "宇文", "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "轩辕", "申屠"})
#: Surnames read differently from the character's everyday reading.
SURNAME_READINGS = {"曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou", "查": "zha",
                    "盖": "ge", "乐": "yue", "黑": "he", "缪": "miao", "翟": "zhai", "万": "wan", "尉迟": "yuchi",
                    "长孙": "zhangsun", "覃": "qin", "种": "chong", "繁": "po", "秘": "bi", "召": "shao"}


def has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


@cache
def _pypinyin() -> ModuleType:
    # Imported on first use on purpose (see the module docstring).
    import pypinyin

    return pypinyin


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if "a" <= ch <= "z")


def _read(chars: str) -> str:
    p = _pypinyin()
    return _letters("".join(p.lazy_pinyin(chars, style=p.Style.NORMAL, v_to_u=False, errors="ignore")))


@cache
def compact_pinyin(text: str) -> str:
    """Letters only: the pinyin of Chinese characters, latin letters kept (``张伟`` -> ``zhangwei``)."""
    if not has_cjk(text):
        return _letters(text)
    return _read(text)


def name_pinyin(full_name: str) -> str:
    """``王芳`` -> ``wang fang``; ``欧阳明远`` -> ``ouyang mingyuan``; ``曾伟`` -> ``zeng wei``; "" when the
    name has no Chinese characters (a latin name is its own spelling)."""
    name = "".join(full_name.split())
    if not has_cjk(name):
        return ""
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
    given = name[len(surname):]
    first = SURNAME_READINGS.get(surname) or _read(surname)
    return " ".join(part for part in (first, _read(given) if given else "") if part)
