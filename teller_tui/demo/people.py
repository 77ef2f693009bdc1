"""Deterministic demo people: Chinese names with pinyin, valid mobile numbers and PRC ID numbers."""

from __future__ import annotations

import random
from bisect import bisect
from datetime import date, timedelta
from typing import Any

from pypinyin import lazy_pinyin

from teller_tui.wallets.identity import make_prc_id

# Surnames roughly by frequency, a few compound ones; given-name characters.
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
             "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方")
_GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁"
          "龙林欣怡梓涵子轩雨婷晨博文海波建国志新春梅晓东红霞佳琪思远嘉怡一鸣天佑")
_REGIONS = ("110101", "110105", "310101", "310115", "440103", "440305", "330102", "320102", "510104",
            "420102", "370102", "610102", "500103", "120101", "210102", "430102", "350102", "410102")
_MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                    "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185",
                    "186", "187", "188", "189", "198", "199")
_OCCUPATIONS = ("教师", "工程师", "个体经营", "职员", "医生", "学生", "退休", "司机", "厨师", "会计")


def _pinyin_table(chars: str) -> dict[str, str]:
    return {ch: lazy_pinyin(ch)[0] for ch in set(chars)}


class People:
    """Deterministic person generator (names, pinyin, phones, PRC IDs)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.py = _pinyin_table(_SURNAMES + "".join(_COMPOUND) + _GIVEN)
        self.phones: set[str] = set()
        self.ids: set[str] = set()
        weights = [max(1.0, 60.0 / (i + 1)) for i in range(len(_SURNAMES))]
        self.surnames = list(_SURNAMES) + list(_COMPOUND)
        self.weights = weights + [0.3] * len(_COMPOUND)
        self.cum: list[float] = []
        total = 0.0
        for w in self.weights:
            total += w
            self.cum.append(total)

    def person(self) -> dict[str, Any]:
        rng = self.rng
        surname = self.surnames[min(bisect(self.cum, rng.random() * self.cum[-1]), len(self.surnames) - 1)]
        given = "".join(rng.choice(_GIVEN) for _ in range(1 if rng.random() < 0.35 else 2))
        latin = "".join(self.py[c] for c in surname) + " " + "".join(self.py[c] for c in given)
        while True:
            phone = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                break
        sex = "M" if rng.random() < 0.5 else "F"
        while True:
            birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
            idn = make_prc_id(rng.choice(_REGIONS), birth, rng.randrange(500), sex)
            if idn not in self.ids:
                self.ids.add(idn)
                break
        return {"full_name": surname + given, "name_latin": latin, "phone": phone, "id_number": idn,
                "birth_date": birth, "sex": sex, "occupation": rng.choice(_OCCUPATIONS)}


def tier_for(rng: random.Random) -> int:
    r = rng.random()
    return 1 if r < 0.25 else 2 if r < 0.55 else 3 if r < 0.9 else 4
