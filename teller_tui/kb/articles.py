"""Help articles as shipped in ``data/kb/<id>.<locale>.md``: Markdown with a small front matter.

The front matter is five ``key: value`` lines between ``---`` markers (``id``, ``title``,
``tags``, ``screens``, ``refusals``; lists as ``[a, b, c]`` on one line, see data/kb/README.md),
and an optional sixth, ``audience: customer``, for articles written for the customer (the kiosk's
help shows only those; without it an article is for staff).
It is parsed here by hand: the format is deliberately tiny, and a YAML library would accept far
more than we want to support.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from teller_tui.common.errors import ValidationError
from teller_tui.common.paths import data_dir

__all__ = ["AUDIENCES", "ArticleText", "SCREENS", "load_refusal_map", "load_shipped", "parse_article", "shipped_dir", "valid_id"]

SCREENS = frozenset({"signin", "home", "lookup", "customer", "cash", "onboarding", "drawer", "approvals", "kiosk",
                     "dashboard", "lifecycle"})
AUDIENCES = ("staff", "customer")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FILE = re.compile(r"^(?P<id>[a-z0-9-]+)\.(?P<locale>zh_CN|en)\.md$")


@dataclass(frozen=True, slots=True)
class ArticleText:
    """One article in one language, as written (shipped file or a local revision)."""

    article_id: str
    locale: str
    title: str
    tags: tuple[str, ...]
    screens: tuple[str, ...]
    refusals: tuple[str, ...]
    body: str
    audience: str = "staff"  # "staff" or "customer" (AUDIENCES)

    @property
    def content_hash(self) -> str:
        parts = [self.article_id, self.locale, self.title, "\x1e".join(self.tags),
                 "\x1e".join(self.screens), "\x1e".join(self.refusals), self.body]
        if self.audience != "staff":  # staff articles keep the hashes they had before audiences existed
            parts.append(self.audience)
        canonical = "\x1f".join(parts)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def valid_id(article_id: str) -> bool:
    """An article id: lower-case letters and digits joined by hyphens (``lost-phone``)."""
    return bool(_ID.match(article_id)) and len(article_id) <= 64


def _bad(origin: str, problem: str) -> ValidationError:
    return ValidationError(f"{origin}: {problem}", code="kb_format")


def _list(origin: str, value: str) -> tuple[str, ...]:
    value = value.strip()
    if not (value.startswith("[") and value.endswith("]")):
        raise _bad(origin, f"expected a list like [a, b], got {value!r}")
    inner = value[1:-1].strip()
    return tuple(item.strip() for item in inner.split(",") if item.strip()) if inner else ()


def parse_article(text: str, *, origin: str, locale: str) -> ArticleText:
    """Parse one article file; :class:`ValidationError` (code ``kb_format``) names what is wrong."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise _bad(origin, "must start with a front matter block (---)")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise _bad(origin, "the front matter block is not closed (---)") from None
    fields: dict[str, str] = {}
    for line in lines[1:end]:
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise _bad(origin, f"front matter line without a colon: {line!r}")
        fields[key.strip()] = value.strip()
    missing = [k for k in ("id", "title", "tags", "screens", "refusals") if k not in fields]
    if missing:
        raise _bad(origin, f"front matter lacks {', '.join(missing)}")
    article_id = fields["id"]
    if not _ID.match(article_id):
        raise _bad(origin, f"id {article_id!r} must be lower-case words joined by hyphens")
    screens = _list(origin, fields["screens"])
    unknown = sorted(set(screens) - SCREENS)
    if unknown:
        raise _bad(origin, f"unknown screens {unknown}")
    body = "\n".join(lines[end + 1:]).strip()
    if not body or not fields["title"]:
        raise _bad(origin, "title and body must not be empty")
    audience = fields.get("audience", "staff")
    if audience not in AUDIENCES:
        raise _bad(origin, f"audience must be one of {', '.join(AUDIENCES)}, got {audience!r}")
    return ArticleText(article_id, locale, fields["title"], _list(origin, fields["tags"]), screens,
                       _list(origin, fields["refusals"]), body, audience)


def shipped_dir() -> Path:
    return data_dir() / "kb"


def load_shipped(directory: Path | None = None) -> list[ArticleText]:
    """Every shipped article, sorted by id and locale; both languages of a topic must agree."""
    folder = directory or shipped_dir()
    out: list[ArticleText] = []
    for path in sorted(folder.glob("*.md")):
        m = _FILE.match(path.name)
        if m is None:
            continue  # README.md and anything else that is not an article
        article = parse_article(path.read_text(encoding="utf-8"), origin=path.name, locale=m["locale"])
        if article.article_id != m["id"]:
            raise _bad(path.name, f"id {article.article_id!r} differs from the file name")
        out.append(article)
    by_id: dict[str, list[ArticleText]] = {}
    for a in out:
        by_id.setdefault(a.article_id, []).append(a)
    for article_id, versions in by_id.items():
        if {v.locale for v in versions} != {"zh_CN", "en"}:
            raise _bad(article_id, "needs both zh_CN and en files")
        if len({(v.screens, v.refusals, v.audience) for v in versions}) != 1:
            raise _bad(article_id, "screens, refusals and audience must be the same in both languages")
    return out


def load_refusal_map(directory: Path | None = None) -> dict[str, str]:
    """``data/kb/refusals.toml``: refusal code -> the article a refusal opens first (empty without the file)."""
    path = (directory or shipped_dir()) / "refusals.toml"
    if not path.exists():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("first", {})
    except tomllib.TOMLDecodeError as exc:
        raise _bad(path.name, str(exc)) from None
    if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise _bad(path.name, "[first] must map refusal codes to article ids")
    return dict(table)
