"""One mask per kind of identifier, for screens, receipts, reports and logs.

A masked value tells a teller or customer "this is the right one" without giving it away.
Each function takes the value as stored (or as typed), cleans it with
:func:`teller_tui.common.text.clean_text`, and never raises: an odd value is masked whole.

* **Names** (:func:`mask_name`): Chinese names keep the first and last character and star the
  rest (``张*明``, ``欧**娜``; the middle dot stays: ``阿***·**提``; two characters: ``张*``).
  Other names keep the first letter of each word and star the other letters (``J*** S****``,
  ``M***-J*** O'****``: hyphens and apostrophes stay).
* **Mobile numbers** (:func:`mask_phone`): first 3 and last 4 (``138****5678``); an E.164
  number keeps ``+`` and 3 more (``+852****4567``); fewer than 8 characters: only the last 2.
* **Identity documents** (:func:`mask_document_number`): a PRC resident ID (18 characters)
  keeps its 6-digit region code and last 4 (``110101********123X``); any other document keeps
  its first character and last 2 (``E******78``); 4 characters or fewer are starred whole.
* **Bank cards** (:func:`mask_card`): first 4 and last 4 with a fixed ``**** ****`` between,
  so the length is not revealed (``6222 **** **** 1234``).
* **Wallet numbers** (:func:`mask_wallet`): first 4 and last 4 (``8600****0015``); a number of
  8 characters or fewer is not a wallet number and is shown as is.
* **Database URLs** (:func:`mask_url`): every password in it becomes ``***``, whether in the
  user part (``postgresql://app:***@db/teller``), in the query string (``?password=***``,
  ``sslpassword``) or in a libpq ``key=value`` string. The one helper for printing a URL.
"""

from __future__ import annotations

import re
import unicodedata

from teller_tui.common.text import clean_text, is_cjk

__all__ = ["hidden_document_part", "mask_card", "mask_document_number", "mask_name", "mask_phone", "mask_url",
           "mask_wallet"]

_MIDDLE_DOT = "·"
_URL_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#]*):[^@/?#]*@")
_URL_SECRET = re.compile(r"(?i)(\b(?:password|passwd|pwd|sslpassword)\s*=\s*)('[^']*'|[^&;#\s]*)")
_PRC_ID = re.compile(r"[0-9]{17}[0-9X]")
#: The stored value of ``DocumentType.PRC_ID`` (teller_tui.wallets.identity).
PRC_ID_TYPE = "prc_id"


def mask_name(name: str | None) -> str:
    """``张三明`` -> ``张*明``, ``张三`` -> ``张*``, ``John Smith`` -> ``J*** S****``."""
    s = clean_text(name)
    if not s:
        return ""
    if any(is_cjk(ch) for ch in s):
        chars = list(s.replace(" ", ""))
        if len(chars) <= 2:
            return chars[0] + "*" * (len(chars) - 1)
        middle = [_MIDDLE_DOT if ch == _MIDDLE_DOT else "*" for ch in chars[1:-1]]
        return chars[0] + "".join(middle) + chars[-1]
    out: list[str] = []
    start = True  # at the start of a word (after a space or hyphen)
    for ch in s:
        if ch in " -":
            out.append(ch)
            start = True
        elif start:
            out.append(ch)
            start = False
        else:
            out.append("*" if unicodedata.category(ch)[0] in "LM" else ch)
    return "".join(out)


def mask_phone(phone: str | None) -> str:
    """``13812345678`` -> ``138****5678``; ``+85291234567`` -> ``+852****4567``."""
    s = "".join(clean_text(phone).split())
    if len(s) < 8:
        return "*" * max(len(s) - 2, 0) + s[-2:]
    keep = 4 if s.startswith("+") else 3
    return s[:keep] + "*" * (len(s) - keep - 4) + s[-4:]


def mask_document_number(number: str | None, doc_type: str | None = None) -> str:
    """PRC ID: region code and last 4 (``110101********123X``); others: first 1 and last 2.

    ``doc_type`` is a ``DocumentType`` value; without one, an 18-character value that has the
    form of a PRC ID number is masked as one.
    """
    s = clean_text(number)
    if not s:
        return ""
    prc = _PRC_ID.fullmatch(s) is not None if doc_type is None else doc_type == PRC_ID_TYPE
    if prc and len(s) == 18:
        return s[:6] + "*" * 8 + s[-4:]
    if len(s) <= 4:
        return "*" * len(s)
    return s[0] + "*" * (len(s) - 3) + s[-2:]


def hidden_document_part(number: str | None, doc_type: str | None = None) -> str:
    """What :func:`mask_document_number` stars, upper-cased: a PRC ID's 8 birth-date digits
    (``11010119900307123X`` -> ``19900307``); another document's middle (``E12345678`` -> ``123456``);
    4 characters or fewer: all of them. The ID check for a customer's credentials asks for these, so
    nothing a teller's screen shows satisfies it."""
    s = clean_text(number).upper()
    if not s:
        return ""
    prc = _PRC_ID.fullmatch(s) is not None if doc_type is None else doc_type == PRC_ID_TYPE
    if prc and len(s) == 18:
        return s[6:14]
    if len(s) <= 4:
        return s
    return s[1:-2]


def mask_card(number: str | None) -> str:
    """``6222021234567891234`` -> ``6222 **** **** 1234`` (the length is not revealed)."""
    s = "".join(clean_text(number).split())
    if len(s) < 8:
        return "*" * len(s)
    return f"{s[:4]} **** **** {s[-4:]}"


def mask_wallet(number: str | None) -> str:
    """``8600000000000015`` -> ``8600****0015``."""
    s = clean_text(number)
    if len(s) <= 8:
        return s
    return f"{s[:4]}****{s[-4:]}"


def mask_url(url: str | None) -> str:
    """``postgresql://app:s3cret@db/t?sslmode=require&password=x`` ->
    ``postgresql://app:***@db/t?sslmode=require&password=***`` (and ``password=***`` in a libpq string)."""
    s = clean_text(url)
    s = _URL_USERINFO.sub(r"\1:***@", s)
    return _URL_SECRET.sub(r"\1***", s)
