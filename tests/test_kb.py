"""The knowledge base: shipped articles parse; search ranks the right article first for everyday
Chinese (two-character words included) and English queries; supervisors revise articles, a second
person reviews them, and an upgrade never overwrites a local revision."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from teller_tui.audit.trail import Actor
from teller_tui.common.errors import NotFound, PermissionDenied, ValidationError
from teller_tui.kb.articles import load_shipped, parse_article
from teller_tui.kb.search import KbIndex, tokens
from teller_tui.models.kb import KbStatus

ZH_QUERIES = [
    ("密码锁定", "kiosk-pin-locked"),
    ("登录锁定", "staff-signin-locked"),
    ("冻结", "freeze-unfreeze"),
    ("解冻", "freeze-unfreeze"),
    ("限额", "class-limits"),
    ("挂失", "lost-phone"),
    ("手机被盗", "lost-phone"),
    ("付款失败", "payment-failed"),
    ("没收到确认", "no-confirmation"),
    ("交易记录不全", "history-incomplete"),
    ("诈骗", "phishing-takeover"),
    ("冲正", "reverse-transaction"),
    ("短款", "drawer-over-short"),
    ("老年人", "elderly-customers"),
    ("积分", "first-use-reward"),
    ("绑定银行卡", "linkable-banks"),
    ("提现", "linked-topup-withdraw"),
    ("证件过期", "id-expired"),
    ("销户", "close-wallet"),
    ("大额现金", "large-cash"),
    ("数据库无法连接", "system-down"),
    ("柜员登录", "staff-signin-locked"),
]

EN_QUERIES = [
    ("PIN locked", "kiosk-pin-locked"),
    ("freeze", "freeze-unfreeze"),
    ("unfreezing a wallet", "freeze-unfreeze"),
    ("limits", "class-limits"),
    ("stolen phone", "lost-phone"),
    ("payment failed", "payment-failed"),
    ("no confirmation", "no-confirmation"),
    ("history missing", "history-incomplete"),
    ("phishing", "phishing-takeover"),
    ("reverse a transaction", "reverse-transaction"),
    ("drawer short", "drawer-over-short"),
    ("elderly customer", "elderly-customers"),
    ("reward points", "first-use-reward"),
    ("which banks", "linkable-banks"),
    ("withdrawal to bank account", "linked-topup-withdraw"),
    ("expired ID", "id-expired"),
    ("close wallet", "close-wallet"),
    ("large cash", "large-cash"),
    ("system down", "system-down"),
    ("staff sign-in locked out", "staff-signin-locked"),
    ("which class to open", "which-class-to-open"),
    ("amount not accepted", "amount-entry"),
]


@pytest.fixture(scope="module")
def shipped() -> list[Any]:
    return load_shipped()


@pytest.mark.parametrize(("query", "expected"), ZH_QUERIES)
def test_chinese_queries_rank_the_right_article_first(shipped: list[Any], query: str, expected: str) -> None:
    hits = KbIndex(a for a in shipped if a.locale == "zh_CN" and a.audience == "staff").search(query)
    assert hits and hits[0].article.article_id == expected, [(h.article.article_id, h.score) for h in hits[:3]]
    assert hits[0].passage


@pytest.mark.parametrize(("query", "expected"), EN_QUERIES)
def test_english_queries_rank_the_right_article_first(shipped: list[Any], query: str, expected: str) -> None:
    hits = KbIndex(a for a in shipped if a.locale == "en" and a.audience == "staff").search(query)
    assert hits and hits[0].article.article_id == expected, [(h.article.article_id, h.score) for h in hits[:3]]


def test_two_character_words_and_stems_are_terms() -> None:
    assert "锁定" in tokens("密码锁定了") and "1:锁" in tokens("锁")
    assert tokens("Locked accounts") == tokens("lock account")
    assert KbIndex([]).search("anything") == []


def test_shipped_articles_are_complete(shipped: list[Any]) -> None:
    ids = {a.article_id for a in shipped}
    assert len(ids) >= 15
    assert {(a.article_id, a.locale) for a in shipped} == {(i, loc) for i in ids for loc in ("zh_CN", "en")}


def test_parse_refuses_a_broken_front_matter() -> None:
    with pytest.raises(ValidationError) as err:
        parse_article("no front matter", origin="x.md", locale="en")
    assert err.value.code == "kb_format"
    with pytest.raises(ValidationError):
        parse_article("---\nid: Bad Id\ntitle: t\ntags: []\nscreens: []\nrefusals: []\n---\nbody", origin="x",
                      locale="en")


@pytest.fixture
def kb(db: Any, clock: Any, tmp_path: Path) -> Any:
    from teller_tui.auth.secretbox import SecretBox
    from teller_tui.common.settings import load_settings
    from teller_tui.services import make_services

    services = make_services(load_settings(home=tmp_path / "home", locale="en"), clock=clock, database=db,
                             box=SecretBox.ephemeral())
    return services.kb


SUP1 = Actor(None, "super1", "T01", "supervisor", "B001")
SUP2 = Actor(None, "super2", "T02", "supervisor", "B001")
TELLER = Actor(None, "teller1", "T03", "teller", "B001")
KIOSK = Actor(None, "kiosk-K01", "K01", "kiosk", "B001")


def test_sync_search_refusal_and_screen_links(kb: Any) -> None:
    report = kb.sync_shipped(SUP1)
    assert report.added >= 30 and report.conflicts == 0
    assert kb.sync_shipped(SUP1).added == 0  # idempotent
    # 锁定 alone is ambiguous (a customer's PIN or a teller's sign-in): both locked articles lead.
    assert {h.article.article_id for h in kb.search(TELLER, "锁定", "zh_CN")[:2]} == {"kiosk-pin-locked",
                                                                                     "staff-signin-locked"}
    # The kiosk reads only the articles written for customers (never the teller's procedures).
    assert kb.search(KIOSK, "locked", "en")[0].article.article_id == "customer-pin-locked"
    assert kb.search(KIOSK, "锁定", "zh_CN")[0].article.article_id == "customer-pin-locked"
    assert all(h.article.audience == "customer" for h in kb.search(KIOSK, "limit frozen locked PIN", "en"))
    assert all(h.article.audience == "staff" for h in kb.search(TELLER, "limit frozen locked PIN", "en"))
    assert {a.article_id for a in kb.for_screen(KIOSK, "kiosk", "en")} == {
        "customer-pin-locked", "customer-stay-safe", "customer-transfer-refused", "customer-using-kiosk",
        "customer-wallet-frozen"}
    assert kb.for_refusal(KIOSK, "kiosk_daily", "zh_CN").article_id == "customer-transfer-refused"
    with pytest.raises(NotFound):
        kb.article(KIOSK, "kiosk-pin-locked", "en")  # a teller's article is not the kiosk's to show
    assert kb.for_refusal(TELLER, "tier_daily", "en") is not None
    assert kb.for_refusal(TELLER, "kiosk_pin_locked", "zh_CN").article_id == "kiosk-pin-locked"
    assert kb.for_refusal(TELLER, "no_such_code", "en") is None
    # Where the refusal was shown decides between articles listing the code: a cash form's funds refusal
    # is "payment failed", not the reversal article (which lists the code with fewer others).
    assert kb.for_refusal(TELLER, "insufficient_funds", "en").article_id == "payment-failed"  # refusals.toml
    assert kb.for_refusal(TELLER, "wallet_closed", "zh_CN").article_id == "close-wallet"
    # Not named there: offered on the screen first, then the fewest codes.
    assert kb.for_refusal(TELLER, "approval_expired", "en").article_id == "lost-phone"
    assert kb.for_refusal(TELLER, "approval_expired", "en", screen="cash").article_id == "no-confirmation"
    codes = kb.refusal_codes(TELLER, "zh_CN")
    assert {"tier_daily", "kiosk_pin_locked", "insufficient_funds"} <= codes and "no_such_code" not in codes
    assert any(a.article_id == "payment-failed" for a in kb.for_screen(TELLER, "cash", "en"))
    with pytest.raises(PermissionDenied):
        kb.sync_shipped(TELLER)


def test_revision_needs_a_second_person_and_survives_an_upgrade(kb: Any) -> None:
    kb.sync_shipped(SUP1)
    original = kb.article(TELLER, "lost-phone", "en")
    with pytest.raises(PermissionDenied):
        kb.propose(TELLER, replace(original, body="x"))
    revised = replace(original, body=original.body + "\n\nBranch rule: call the duty manager at once.")
    pending = kb.propose(SUP1, revised)
    assert pending.status == KbStatus.PENDING
    assert "duty manager" not in kb.article(TELLER, "lost-phone", "en").body  # not shown before review
    with pytest.raises(PermissionDenied) as err:
        kb.review(SUP1, pending.revision_id, approve=True)
    assert err.value.code == "same_person"
    kb.review(SUP2, pending.revision_id, approve=True)
    assert "duty manager" in kb.article(TELLER, "lost-phone", "en").body
    assert kb.search(TELLER, "duty manager", "en")[0].article.article_id == "lost-phone"
    # A new shipped version of the same article does not overwrite the local revision: a conflict.
    shipped = [replace(a, body=a.body + "\n\nUpdated by the vendor.") if (a.article_id, a.locale) ==
               ("lost-phone", "en") else a for a in load_shipped()]
    report = kb.sync_shipped(SUP1, shipped)
    assert report.conflicts == 1 and report.updated == 0
    assert "duty manager" in kb.article(TELLER, "lost-phone", "en").body
    assert [r.article.article_id for r in kb.revisions(SUP1, status=KbStatus.CONFLICT)] == ["lost-phone"]
    assert kb.sync_shipped(SUP1, shipped).conflicts == 0  # flagged once
    history = kb.history(TELLER, "lost-phone", "en")
    assert [h.status for h in history] == ["superseded", "published", "conflict"]


@pytest.mark.slow
def test_cli_search_in_both_languages(tmp_path: Path) -> None:
    env = {**os.environ, "TELLER_HOME": str(tmp_path / "home"), "TELLER_LOCALE": "en"}
    teller = [sys.executable, "-m", "screens.cli"]
    up = subprocess.run([*teller, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stderr
    assert "Knowledge base:" in up.stdout
    zh = subprocess.run([*teller, "kb", "search", "锁定"], env=env, capture_output=True, text=True, timeout=120)
    en = subprocess.run([*teller, "kb", "search", "locked"], env=env, capture_output=True, text=True, timeout=120)
    assert zh.returncode == 0 and "[kiosk-pin-locked]" in "".join(zh.stdout.splitlines()[:3]), zh.stdout + zh.stderr
    assert en.returncode == 0 and "[kiosk-pin-locked]" in en.stdout.splitlines()[0], en.stdout + en.stderr
    none = subprocess.run([*teller, "kb", "search", "zzqx"], env=env, capture_output=True, text=True, timeout=120)
    assert none.returncode == 1 and "No article" in none.stdout


def test_refusal_map_names_articles_that_list_the_code(shipped: list[Any]) -> None:
    from teller_tui.kb.articles import load_refusal_map

    first = load_refusal_map()
    assert first["insufficient_funds"] == "payment-failed" and len(first) >= 10
    by_id = {a.article_id: a for a in shipped if a.locale == "en"}
    for code, article_id in first.items():
        assert article_id in by_id and code in by_id[article_id].refusals, (code, article_id)


CUSTOMER_QUERIES = [
    ("en", "PIN locked", "customer-pin-locked"),
    ("en", "forgot PIN", "customer-pin-locked"),
    ("en", "transfer refused", "customer-transfer-refused"),
    ("en", "daily limit", "customer-transfer-refused"),
    ("en", "frozen", "customer-wallet-frozen"),
    ("en", "scam call", "customer-stay-safe"),
    ("en", "timed out", "customer-using-kiosk"),
    ("zh_CN", "锁定", "customer-pin-locked"),
    ("zh_CN", "忘记密码", "customer-pin-locked"),
    ("zh_CN", "限额", "customer-transfer-refused"),
    ("zh_CN", "余额不足", "customer-transfer-refused"),
    ("zh_CN", "冻结", "customer-wallet-frozen"),
    ("zh_CN", "诈骗", "customer-stay-safe"),
    ("zh_CN", "怎么用", "customer-using-kiosk"),
]


@pytest.mark.parametrize(("locale", "query", "expected"), CUSTOMER_QUERIES)
def test_customer_queries_rank_the_right_article_first(shipped: list[Any], locale: str, query: str,
                                                        expected: str) -> None:
    hits = KbIndex(a for a in shipped if a.locale == locale and a.audience == "customer").search(query)
    assert hits and hits[0].article.article_id == expected, [(h.article.article_id, h.score) for h in hits[:3]]


def test_customer_articles_are_marked_and_only_for_the_kiosk(shipped: list[Any]) -> None:
    customer = [a for a in shipped if a.audience == "customer"]
    assert len({a.article_id for a in customer}) >= 5
    assert all(a.screens == ("kiosk",) for a in customer)
    staff_on_kiosk = [a for a in shipped if a.audience == "staff" and "kiosk" in a.screens]
    assert staff_on_kiosk  # tellers still find the kiosk's procedures under "kiosk"; the kiosk never shows them
    with pytest.raises(ValidationError):
        parse_article("---\nid: x\ntitle: t\ntags: []\nscreens: []\nrefusals: []\naudience: public\n---\nb",
                      origin="x", locale="en")


def _core_refusal_codes() -> set[str]:
    """Every refusal code the core can raise: ``code="…"`` arguments and the exception classes' defaults."""
    import re

    root = Path(__file__).resolve().parent.parent / "teller_tui"
    codes: set[str] = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'code="([a-z_0-9]+)"', text))
        codes |= set(re.findall(r'^\s+code(?:: str)? = "([a-z_0-9]+)"', text, re.M))
    return codes


def test_every_refusal_code_the_core_raises_has_an_article_or_a_stated_reason(shipped: list[Any]) -> None:
    import tomllib

    from teller_tui.kb.articles import shipped_dir

    codes = _core_refusal_codes()
    assert {"insufficient_funds", "tier_daily", "kiosk_pin_locked", "wallet_blocked"} <= codes and len(codes) > 250
    explained = {c for a in shipped for c in a.refusals}
    table = tomllib.loads((shipped_dir() / "refusals.toml").read_text(encoding="utf-8"))["without_article"]
    exempt = [c for group in table.values() for c in group]
    assert len(exempt) == len(set(exempt)), "a code listed twice in [without_article]"
    assert not codes - explained - set(exempt), sorted(codes - explained - set(exempt))
    assert not set(exempt) - codes, f"unknown codes in [without_article]: {sorted(set(exempt) - codes)}"
    assert not set(exempt) & explained, f"codes with an article need no excuse: {sorted(set(exempt) & explained)}"
    assert not explained - codes, f"articles explain codes the core never raises: {sorted(explained - codes)}"
    # The codes a customer at the counter meets most have a staff article, not an excuse.
    counter = {"insufficient_funds", "tier_daily", "tier_per_txn", "wallet_frozen", "wallet_blocked", "id_expired",
               "kiosk_pin_locked", "staff_locked", "amount_syntax", "pin_sequence", "risk_blocked", "db_unavailable"}
    staff_explained = {c for a in shipped if a.audience == "staff" for c in a.refusals}
    assert counter <= staff_explained, sorted(counter - staff_explained)


def test_conflict_resolution_keep_take_or_merge_with_a_second_person(kb: Any) -> None:
    kb.sync_shipped(SUP1)
    shipped = load_shipped()

    def vendor(article_id: str, note: str) -> list[Any]:
        return [replace(a, body=a.body + note) if (a.article_id, a.locale) == (article_id, "en") else a
                for a in shipped]

    for article_id in ("lost-phone", "system-down", "close-wallet"):
        base = kb.article(TELLER, article_id, "en")
        kb.review(SUP2, kb.propose(SUP1, replace(base, body=base.body + "\n\nLocal rule.")).revision_id, approve=True)
    updates = [a for a in shipped]
    for article_id in ("lost-phone", "system-down", "close-wallet"):
        updates = [replace(a, body=a.body + "\n\nVendor fix.") if (a.article_id, a.locale) == (article_id, "en")
                   else a for a in updates]
    assert kb.sync_shipped(SUP1, updates).conflicts == 3
    conflicts = {r.article.article_id: r for r in kb.revisions(SUP1, status=KbStatus.CONFLICT)}
    with pytest.raises(PermissionDenied):
        kb.resolve_conflict(TELLER, conflicts["lost-phone"].revision_id, "local")
    # Keep local: pending until a second person publishes; then the conflict is closed for good.
    keep = kb.resolve_conflict(SUP1, conflicts["lost-phone"].revision_id, "local")
    assert keep.status == KbStatus.PENDING and "Local rule." in keep.article.body
    with pytest.raises(PermissionDenied):
        kb.review(SUP1, keep.revision_id, approve=True)
    kb.review(SUP2, keep.revision_id, approve=True)
    body = kb.article(TELLER, "lost-phone", "en").body
    assert "Local rule." in body and "Vendor fix." not in body
    # Take shipped: the vendor's text, and later shipped updates apply by themselves again.
    take = kb.resolve_conflict(SUP1, conflicts["system-down"].revision_id, "shipped")
    assert "Vendor fix." in take.article.body and "Local rule." not in take.article.body
    kb.review(SUP2, take.revision_id, approve=True)
    assert "Vendor fix." in kb.article(TELLER, "system-down", "en").body
    # Merge by editing: the supervisor's own text.
    with pytest.raises(ValidationError):
        kb.resolve_conflict(SUP1, conflicts["close-wallet"].revision_id, "merged")
    current = kb.article(TELLER, "close-wallet", "en")
    merged = kb.resolve_conflict(SUP1, conflicts["close-wallet"].revision_id, "merged",
                                 replace(current, body=current.body + "\n\nVendor fix, merged."))
    kb.review(SUP2, merged.revision_id, approve=True)
    assert "Vendor fix, merged." in kb.article(TELLER, "close-wallet", "en").body
    assert not kb.revisions(SUP1, status=KbStatus.CONFLICT)
    # The same shipped files again: nothing new to resolve; a further vendor change of the taken article applies.
    again = kb.sync_shipped(SUP1, updates)
    assert again.conflicts == 0 and again.updated == 0
    later = [replace(a, body=a.body + "\n\nSecond fix.") if (a.article_id, a.locale) == ("system-down", "en")
             else a for a in updates]
    assert kb.sync_shipped(SUP1, later).updated == 1
    assert "Second fix." in kb.article(TELLER, "system-down", "en").body
    with pytest.raises(NotFound):
        kb.resolve_conflict(SUP1, conflicts["lost-phone"].revision_id, "local")  # already resolved


def test_a_new_article_is_proposed_and_published_by_a_second_person(kb: Any) -> None:
    from teller_tui.kb.articles import ArticleText

    kb.sync_shipped(SUP1)
    new = ArticleText("branch-parking", "zh_CN", "网点停车", ("停车", "车位"), ("home",), (), "客户可在网点后院停车。")
    with pytest.raises(ValidationError):
        kb.propose(SUP1, replace(new, article_id="Branch Parking"))
    with pytest.raises(ValidationError):
        kb.propose(SUP1, replace(new, screens=("nowhere",)))
    pending = kb.propose(SUP1, new)
    assert pending.version == 1 and pending.status == KbStatus.PENDING
    assert "branch-parking" not in {h.article.article_id for h in kb.search(TELLER, "停车", "zh_CN")}
    kb.review(SUP2, pending.revision_id, approve=True)
    assert kb.search(TELLER, "停车", "zh_CN")[0].article.article_id == "branch-parking"
    assert "branch-parking" in {a.article_id for a in kb.for_screen(TELLER, "home", "zh_CN")}
