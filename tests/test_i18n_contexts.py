"""Words that read differently in Chinese by where they stand carry a gettext context
(``NP_`` at the definition, ``p_`` at the edge) and the extractor keeps the context."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from teller_tui.common.i18n import NP_, _, p_, set_locale


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    set_locale("zh_CN")
    yield
    set_locale("en")


def test_case_words_differ_from_the_same_english_beside_a_date() -> None:
    from screens.cases import event_title
    from teller_tui.cases.flow import status_title

    assert event_title("opened") == "已开立" and _("Opened") == "开立时间"  # a case's thread vs a date's label
    assert status_title("closed") == "已关闭" and p_("drawer", "Closed") == "关箱时间"
    assert event_title("made_up") == "made_up"  # unknown kinds as stored
    set_locale("en")
    assert event_title("opened") == "Opened" and status_title("closed") == "Closed"


def test_np_marks_without_translating_and_the_extractor_keeps_the_context() -> None:
    from teller_tui.common import i18n_tools

    assert NP_("case status", "Closed") == "Closed"
    assert p_("case status", "Closed") == "已关闭"
    catalog = i18n_tools.extract()
    assert catalog.get("Closed", context="case status") is not None
    assert catalog.get("Opened", context="case event") is not None
    assert catalog.get("Opened") is not None  # the plain one stays for dates (the welcome sheet)
    assert catalog.get("Closed", context="drawer") is not None


def test_drawer_times_have_their_own_words() -> None:
    assert p_("drawer", "Opened") == "开箱时间" and p_("drawer", "Closed") == "关箱时间"
