"""Stored messages (common/messages.py): a row written by another terminal, an older or newer
version, or by hand is rendered safely: a known msgid in the reader's language, anything else as
the text that was stored. Rendering never raises and never asks for a huge field width."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from teller_tui.common.i18n import N_, locale_override
from teller_tui.common.messages import Msg, message, render_stored
from teller_tui.common.money import Money

KNOWN = N_("{amount} is above your limit of {limit} for one cash withdrawal.")


def test_a_stored_message_never_raises_when_rendered() -> None:
    """Security review (wave 4) finding 10: Msg.render's fallback re-formatted the msgid and let
    KeyError/AttributeError out: one stored row broke the supervisor's whole approval queue read."""
    for stored in ({"msgid": "{amount} over {limit}", "params": {"amount": 1}},
                   {"msgid": "{amount.real.nope}", "params": {"amount": 1}}):
        msg = Msg.from_json(stored)
        assert msg is not None
        msg.render()


def test_unknown_or_unsafe_msgids_show_the_stored_text() -> None:
    huge = {"msgid": "{x:>2000000000}", "params": {"x": "a"}}
    assert render_stored("as stored", huge) == "as stored"
    assert render_stored("as stored", {"msgid": "{x.__class__}", "params": {"x": 1}}) == "as stored"
    assert render_stored("as stored", {"msgid": "{x[0]}", "params": {"x": "ab"}}) == "as stored"
    assert render_stored("as stored", {"msgid": "Not a message of the app {x}", "params": {"x": 1}}) == "as stored"
    # a known msgid whose argument is missing (a newer terminal's row): the stored text
    assert render_stored("as stored", {"msgid": KNOWN, "params": {"amount": 1}}) == "as stored"
    # nested deeper than Python recurses: the stored text
    deep: dict[str, Any] = {"msgid": KNOWN, "params": {}}
    for _ in range(5000):
        deep = {"msgid": KNOWN, "params": {"amount": {"msg": deep}}}
    assert render_stored("as stored", deep) == "as stored"


def test_a_known_message_is_still_rendered_in_the_reader_language() -> None:
    why = message(KNOWN, amount=Money.of("6000"), limit=Money.of("5000"))
    stored = json.loads(json.dumps(why.msg.to_json()))
    assert render_stored("x", stored) == "CN¥6,000.00 is above your limit of CN¥5,000.00 for one cash withdrawal."
    with locale_override("zh_CN"):
        zh = render_stored("x", stored)
    assert zh != "x" and "6,000.00" in zh and "above" not in zh


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=4),
                     max_leaves=12)
_fieldish = st.from_regex(r"\{[a-z0-9_.\[\]!:<>^=+ ,#%-]{0,14}\}", fullmatch=True)
_msgid = st.one_of(st.text(max_size=60), st.lists(st.one_of(st.text(max_size=8), _fieldish), max_size=5).map("".join),
                   st.sampled_from([KNOWN, N_("paid in"), N_("Unlock the account of {user}")]))


def _size(value: Any) -> int:
    return len(json.dumps(value, default=str))


@settings(max_examples=300, deadline=None)
@given(msgid=_msgid, params=st.dictionaries(st.sampled_from(["amount", "limit", "user", "x", "0", ""]), _json,
                                            max_size=4),
       text=st.text(max_size=40))
def test_any_stored_message_renders_without_raising_and_bounded(msgid: str, params: dict[str, Any],
                                                                 text: str) -> None:
    stored = {"msgid": msgid, "params": params}
    for locale in ("en", "zh_CN"):
        with locale_override(locale):
            out = render_stored(text, stored)
        assert isinstance(out, str)
        # at most the stored text, or the catalogue's template plus its arguments and bounded padding
        assert len(out) <= len(text) + 400 + 4 * _size(stored)
