"""Ranked search over the articles, for Chinese (no spaces) and English, the same on every database.

Chinese text is cut into overlapping character pairs (bigrams), so the everyday two-character
queries (锁定, 冻结, 限额) match exactly, and single characters are indexed too for one-character
queries. English words are lower-cased and stemmed (Snowball), so "locked", "locking" and "lock"
meet, with a short stop-word list. Scores are BM25 over a weighted document (title and tags count
three times the body), plus a bonus when the whole query appears in the title or a tag.

The knowledge base is small (tens to a few hundred articles per language), so the index lives in
memory, built from the published revisions; that makes ranking identical on SQLite and
PostgreSQL by construction, where FTS5 and ``tsvector`` would rank differently.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import snowballstemmer

from teller_tui.kb.articles import ArticleText

__all__ = ["KbHit", "KbIndex", "tokens"]

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[A-Za-z0-9]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
_STEMMER = snowballstemmer.stemmer("english")
_STOP = frozenset("a an and are as at be by can do does for from has have how i if in is it its my no not of "
                  "on or our so that the their there this to was what when where which who why will with you "
                  "your".split())
_K1, _B = 1.2, 0.75
_TITLE_WEIGHT, _TAG_WEIGHT = 3, 3
_SENTENCE = re.compile(r"(?<=[。！？!?.;；])\s*|\n+")
_MARKUP = re.compile(r"[#*`>|]+|^\s*\d+\.\s*|^\s*-\s*", re.M)


def tokens(text: str) -> list[str]:
    """Index terms of ``text``: CJK bigrams and single characters (``1:`` prefixed), stemmed words."""
    out: list[str] = []
    for run in _RUN.finditer(unicodedata.normalize("NFKC", text)):
        s = run.group()
        if _IS_CJK.match(s):
            out.extend(f"1:{ch}" for ch in s)
            out.extend(s[i:i + 2] for i in range(len(s) - 1))
        else:
            word = s.lower()
            if word not in _STOP:
                out.append(_STEMMER.stemWord(word))
    return out


_UNIGRAM_WEIGHT = 0.3  # single characters of a longer Chinese query: a weak hint (丢了 ~ 丢失)
_ZH_FUNCTION_CHARS = frozenset("的了是在我你他她它们吗呢吧啊和与或也都就又还把被给让从对向为个这那有没不要会能")


def _query_terms(query: str) -> dict[str, float]:
    """What a query looks for, with weights: bigrams of CJK runs of two or more characters (and,
    weakly, their single characters), the character itself for a one-character run, stemmed words
    for the rest."""
    terms: dict[str, float] = {}
    for run in _RUN.finditer(unicodedata.normalize("NFKC", query)):
        s = run.group()
        if _IS_CJK.match(s):
            if len(s) == 1:
                terms[f"1:{s}"] = 1.0
                continue
            for i in range(len(s) - 1):
                terms[s[i:i + 2]] = 1.0
            for ch in s:
                if ch not in _ZH_FUNCTION_CHARS:
                    terms.setdefault(f"1:{ch}", _UNIGRAM_WEIGHT)
        elif s.lower() not in _STOP:
            terms[_STEMMER.stemWord(s.lower())] = 1.0
    return terms


@dataclass(frozen=True, slots=True)
class KbHit:
    article: ArticleText
    score: float
    passage: str  # the body's sentence that matches the query best, plain text


@dataclass(frozen=True, slots=True)
class _Doc:
    article: ArticleText
    tf: Counter[str]
    length: float
    sentences: tuple[str, ...]
    title_tags: str  # normalised title and tags, for the whole-query bonus


def _plain(sentence: str) -> str:
    return " ".join(_MARKUP.sub(" ", sentence).split())


class KbIndex:
    """An immutable BM25 index over one locale's published articles."""

    def __init__(self, articles: Iterable[ArticleText]) -> None:
        docs: list[_Doc] = []
        for a in articles:
            tf: Counter[str] = Counter()
            for term in tokens(a.title):
                tf[term] += _TITLE_WEIGHT
            for term in tokens(" ".join(a.tags)):
                tf[term] += _TAG_WEIGHT
            tf.update(tokens(a.body))
            sentences = tuple(s for s in (_plain(x) for x in _SENTENCE.split(a.body)) if s)
            docs.append(_Doc(a, tf, float(sum(tf.values())), sentences,
                             unicodedata.normalize("NFKC", " ".join((a.title, *a.tags))).lower()))
        self._docs = tuple(docs)
        self._avg = (sum(d.length for d in docs) / len(docs)) if docs else 1.0
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.tf.keys())
        n = len(docs)
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    def __len__(self) -> int:
        return len(self._docs)

    def search(self, query: str, *, limit: int = 10) -> list[KbHit]:
        terms = _query_terms(query)
        if not terms:
            return []
        whole = unicodedata.normalize("NFKC", query).strip().lower()
        hits: list[KbHit] = []
        for d in self._docs:
            score = 0.0
            for t, weight in terms.items():
                f = d.tf.get(t, 0)
                if f:
                    score += weight * self._idf[t] * f * (_K1 + 1) / (f + _K1 * (1 - _B + _B * d.length / self._avg))
            if score <= 0:
                continue
            if whole and whole in d.title_tags:
                score *= 1.5
            hits.append(KbHit(d.article, round(score, 4), _best_sentence(d.sentences, list(terms))))
        hits.sort(key=lambda h: (-h.score, h.article.article_id))
        return hits[:limit]


def _best_sentence(sentences: Sequence[str], terms: Sequence[str]) -> str:
    wanted = set(terms)
    best, best_score = "", 0
    for s in sentences:
        score = len(wanted & set(tokens(s)))
        if score > best_score:
            best, best_score = s, score
    text = best or (sentences[0] if sentences else "")
    return text if len(text) <= 160 else text[:159] + "…"
