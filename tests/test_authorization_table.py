"""The authorization table is complete and is what the core enforces (issue 15).

Every public method of every service (the fields of ``Services``) is in
``teller_tui.auth.permissions.PERMISSIONS``; every method called on an actor's behalf is called
here as every identity the product has (teller, supervisor, admin, kiosk, the host's command
line, a trainee, a disabled teller). A call the gate lets through for an identity the table
does not list fails the test, and so does a refusal of one it lists.
"""

from __future__ import annotations

from datetime import date

import dataclasses
import inspect
import typing
from typing import Any

import pytest
from sqlalchemy import func, select, update

from desk_fixtures import Desk, desk  # noqa: F401
from teller_tui.approvals.spec import ApprovalSpec
from teller_tui.audit.trail import Actor
from teller_tui.cases.crm import Needs
from teller_tui.consent.spec import ConsentSpec
from teller_tui.desk.inflight import Submission
from teller_tui.kiosk.inflight import KioskOutcome
from teller_tui.kiosk.pinpad import PadLink
from teller_tui.kb.articles import ArticleText
from teller_tui.auth.live import STAFF_REFUSAL_CODES
from teller_tui.auth.permissions import INFRASTRUCTURE, PERMISSIONS, Access
from teller_tui.desk.journal_search import JournalQuery
from teller_tui.auth.roles import Role
from teller_tui.auth.service import system_actor
from teller_tui.branch.views import Tender
from teller_tui.common.errors import PermissionDenied
from teller_tui.common.money import Money
from teller_tui.desk.cash_types import new_idempotency_key
from teller_tui.models import AuditRecord, CustomerNote, OnboardingDraft, Staff, Wallet
from teller_tui.services import Services

HINTS = typing.get_type_hints(Services)
SERVICE_FIELDS = [f.name for f in dataclasses.fields(Services) if f.name not in INFRASTRUCTURE]


def public_methods(cls: type) -> list[str]:
    return sorted(n for n, v in inspect.getmembers(cls) if not n.startswith("_") and inspect.isfunction(v))


def params(cls: type, name: str) -> list[inspect.Parameter]:
    """The parameters after ``self`` (all of them for a static method)."""
    found = list(inspect.signature(inspect.unwrap(getattr(cls, name))).parameters.values())
    return found if isinstance(inspect.getattr_static(cls, name), staticmethod) else found[1:]


# -- the table is complete and its kinds are honest -------------------------------------------------------
def test_every_public_method_of_every_service_is_in_the_table() -> None:
    missing, stale = [], []
    for field in SERVICE_FIELDS:
        methods = public_methods(HINTS[field])
        table = PERMISSIONS.get(field, {})
        missing += [f"{field}.{m}" for m in methods if m not in table]
        stale += [f"{field}.{m}" for m in table if m not in methods]
    assert not missing, f"public methods missing from auth/permissions.py: {missing}"
    assert not stale, f"table entries naming no method: {stale}"
    assert set(PERMISSIONS) == set(SERVICE_FIELDS)


def test_infrastructure_fields_are_building_blocks() -> None:
    """The ledger and audit trail only work inside a caller's transaction (first argument a Session)."""
    for field in ("ledger", "audit"):
        for m in public_methods(HINTS[field]):
            first = params(HINTS[field], m)
            names = [p.name for p in first]
            assert names and names[0] == "session", f"{field}.{m} does not take the caller's session"


def test_table_kinds_match_the_signatures() -> None:
    for field in SERVICE_FIELDS:
        cls = HINTS[field]
        for name, rule in PERMISSIONS[field].items():
            ps = params(cls, name)
            names = [p.name for p in ps]
            fn = getattr(cls, name)
            if rule.access is Access.ACTOR:
                assert names[:1] == ["actor"], f"{field}.{name}: the actor comes first"
                assert hasattr(fn, "__wrapped__"), f"{field}.{name} is not @guarded"
                assert rule.roles, f"{field}.{name}: nobody may call it"
                assert Role.TRAINEE not in rule.roles  # a trainee does nothing in live mode
            elif rule.access is Access.IN_TRANSACTION:
                assert names[:1] == ["session"], f"{field}.{name} does not take the caller's session"
            elif rule.access in (Access.READ, Access.PURE):
                # A method that takes an actor must check it: it cannot hide among the reads.
                assert "actor" not in names, f"{field}.{name} takes an actor but is not checked"


# -- every identity calls every method ----------------------------------------------------------------------
@dataclasses.dataclass
class World:
    desk: Desk
    identities: dict[str, Actor]
    customer_id: int
    wallet_id: int
    wallet2_id: int
    draft_id: int


@pytest.fixture
def world(desk: Desk) -> World:  # noqa: F811
    s = desk.services
    admin = desk.staff("admin1", role="admin")
    disabled = desk.staff("gone1", role="teller")
    with desk.db.write() as w:
        w.execute(update(Staff).where(Staff.id == disabled.staff_id).values(disabled=True))
    kiosk = s.kiosk.ensure_identity("K01")
    trainee = Actor(None, "trainee1", "T01", Role.TRAINEE, "B001")
    cid = desk.customer()
    wid = desk.wallet(cid)
    wid2 = desk.wallet(desk.customer(name="李娜", latin="li na"))
    draft = s.onboarding.save_draft(desk.teller, {}, "identity")
    identities = {"teller": desk.teller, "supervisor": desk.supervisor, "admin": admin, "kiosk": kiosk,
                  "system": system_actor(desk.settings), "trainee": trainee, "disabled": disabled}
    return World(desk, identities, cid, wid, wid2, draft.draft_id)


def argument(world: World, actor: Actor, p: inspect.Parameter) -> Any:
    values: dict[str, Any] = {
        "action": "sign_out", "amount": Money.of("1"), "approve": False, "code": "000000", "counts": {},
        "current_password": "x", "customer_id": world.customer_id, "data": {}, "direction": "from_vault",
        "display_name": "Nobody", "draft_id": world.draft_id, "entry_id": 1, "from_wallet_id": world.wallet_id, "giver": "nobody", "receiver": "nobody",
        "holder_name": "Nobody", "identifier": "13900000000", "kind": "bank_card", "linked_id": 1,
        "new_password": "x", "new_pin": "135790", "new_tier": 2, "number": "6222020200112233445",
        "password": "x", "payee": "nobody", "pin": "135790", "reason": "authorization test", "request_id": 1,
        "case_type": "question", "summary": "authorization test", "case": 1, "reference": "R-none",
        "refusal_id": 1, "status": "in_progress", "resolution": "authorization test", "subject_id": 1,
        "reached": False, "note_id": 1, "needs": Needs(), "activity": "authorization test",
        "alert_id": 1, "narrative": "authorization test", "fmt": "json",
        "channel": "email", "address": "auth@example.cn", "consent": True,
        "date_from": date(2026, 11, 1), "date_to": date(2026, 11, 30), "first": date(2026, 11, 1),
        "last": date(2026, 11, 30),
        "phone": "13900000000", "occupation": "test",
        "expiry": date(2036, 1, 1),
        "criteria": JournalQuery(date(2026, 12, 1), date(2026, 12, 3)),
        "key": "k-auth", "wallet": "8800 0000 0001", "wallet_number": "8800 0000 0001", "note": "authorization test",
        "submission": Submission("k-auth", "cash_in", "nobody", "w", "¥1.00",
                                                             "2026-12-03T00:00:00+00:00"),
        "outcome": KioskOutcome(Submission("k-auth", "kiosk_transfer", "nobody", "w", "¥1.00",
                                           "2026-12-03T00:00:00+00:00"), posted=False),
        "query": "锁定", "locale": "zh_CN", "scenario_id": "stolen-phone", "run_id": 1,
        "article_id": "lost-phone", "screen": "cash",
        "revision_id": 1, "conflict_id": 1, "take": "local", "merged": None,
        "revised": ArticleText("lost-phone", "en", "t", (), (), (), "b"),
        "role": "teller", "session": None, "step": "identity", "supervisor": None, "text": "a note",
        "tier": 2, "to_wallet_id": world.wallet2_id, "username": "nobody", "wallet_id": world.wallet_id,
        "t": Tender("cash_in", Money.of("1"), {}, Money.of("1"), Money.of("0"), {}),
        "document_seen": True, "last4": "0000",
        "id_digits": "00000000", "pin_required": True, "again": "135790", "terminal_id": "T01",
        "link": PadLink("T01", "not-a-token"), "old_pin": "135790", "new_pin": "975318",
        "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        "what": ConsentSpec("cash_out", world.customer_id, world.wallet_id, amount=Money.of("1")),
        "spec": ApprovalSpec(kind="cash_out", requester_id=actor.staff_id, branch_code="B001",
                             amount=Money.of("1")),
    }
    if p.name == "idempotency_key":
        return new_idempotency_key()
    return values[p.name]


def call(world: World, field: str, name: str, actor: Actor) -> str:
    """'refused' when the gate refused (role or stale session), else 'passed' (whatever happened next)."""
    service = getattr(world.desk.services, field)
    kwargs = {p.name: argument(world, actor, p) for p in params(type(service), name)[1:]
              if p.default is inspect.Parameter.empty and p.kind is p.KEYWORD_ONLY}
    args = [argument(world, actor, p) for p in params(type(service), name)[1:]
            if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    try:
        getattr(service, name)(actor, *args, **kwargs)
    except PermissionDenied as exc:
        if exc.code == "role" or exc.code in STAFF_REFUSAL_CODES:
            return "refused"
        return "passed"
    except Exception:  # noqa: BLE001 - anything past the gate counts as let through
        return "passed"
    return "passed"


def test_every_method_as_every_identity(world: World) -> None:
    wrong = []
    for field in SERVICE_FIELDS:
        for name, rule in PERMISSIONS[field].items():
            if rule.access is not Access.ACTOR:
                continue
            for who, actor in world.identities.items():
                live = who != "disabled" or not rule.live_check  # a disabled person's sign-out is recorded
                expected = "passed" if actor.role in rule.roles and live else "refused"
                got = call(world, field, name, actor)
                if got != expected:
                    wrong.append(f"{field}.{name} as {who}: {got}, table says {expected}")
    assert not wrong, "\n".join(wrong)


def test_the_enumeration_would_see_a_missing_guard(world: World) -> None:
    """Negative control: without its guard, wallets.freeze lets the kiosk through (the hole of issue 15)."""
    unguarded = inspect.unwrap(type(world.desk.services.wallets).freeze)
    service = world.desk.services.wallets
    unguarded(service, world.identities["kiosk"], world.wallet_id, "kiosk freezing")
    assert service.get_wallet(world.wallet_id).status == "frozen"
    assert call(world, "wallets", "freeze", world.identities["kiosk"]) == "refused"


# -- the holes issue 15 found, closed, with nothing written -------------------------------------------------
def _audit_count(desk: Desk) -> int:
    with desk.db.read() as s:
        return int(s.execute(select(func.count()).select_from(AuditRecord)).scalar_one())


def test_kiosk_identity_cannot_use_teller_services(world: World) -> None:
    d, s = world.desk, world.desk.services
    kiosk = world.identities["kiosk"]
    before = _audit_count(d)
    with pytest.raises(PermissionDenied, match="kiosk"):
        s.wallets.freeze(kiosk, world.wallet_id, "kiosk freezing")
    with pytest.raises(PermissionDenied):
        s.wallets.open_wallet_now(kiosk, world.customer_id, 2)
    with pytest.raises(PermissionDenied):
        s.onboarding.list_drafts(kiosk)
    with pytest.raises(PermissionDenied):
        s.onboarding.load_draft(kiosk, world.draft_id)
    with pytest.raises(PermissionDenied):
        s.onboarding.discard_draft(kiosk, world.draft_id)
    with pytest.raises(PermissionDenied):
        s.customers.add_note(kiosk, world.customer_id, "kiosk note")
    assert _audit_count(d) == before
    with d.db.read() as r:
        assert r.get(Wallet, world.wallet_id).status == "active"
        assert r.get(OnboardingDraft, world.draft_id) is not None
        assert r.execute(select(func.count()).select_from(CustomerNote)).scalar_one() == 0
        assert r.execute(select(func.count()).select_from(Wallet)
                         .where(Wallet.customer_id == world.customer_id)).scalar_one() == 1


def test_supervisor_cannot_skip_the_unfreeze_approval(world: World) -> None:
    s = world.desk.services
    s.wallets.freeze(world.desk.teller, world.wallet_id, "phone stolen")
    with pytest.raises(PermissionDenied):
        s.wallets.unfreeze(world.desk.supervisor, world.wallet_id, "looks fine")
    assert s.wallets.get_wallet(world.wallet_id).status == "frozen"
    from teller_tui.common.errors import ApprovalRequired

    with pytest.raises(ApprovalRequired):
        s.lifecycle.unfreeze(world.desk.supervisor, world.wallet_id, "looks fine")
    assert s.wallets.get_wallet(world.wallet_id).status == "frozen"


def test_a_trainee_does_nothing_in_live_mode(world: World) -> None:
    trainee = world.identities["trainee"]
    with pytest.raises(PermissionDenied, match="trainee"):
        world.desk.services.cash.preview_cash_in(trainee, world.wallet_id, Money.of("1"))
