"""``teller demo``: build a realistic demo branch into the configured database.

What it builds (deterministic for a seed, dated relative to the day it runs):

* staff of every role with the documented passwords and authenticator secrets in
  :data:`DEMO_STAFF` (created through the auth service);
* the branch vault and one drawer per teller, funded through the ledger (equity -> vault -> drawer);
* ``customers`` customers with Chinese names (+ pinyin), valid mobile numbers and valid PRC ID
  numbers, each with a wallet (classes 1-4); the first :data:`ACTIVE_CUSTOMERS` have points
  accounts and four weeks of history (cash in / cash out / transfers) posted THROUGH THE LEDGER;
  the rest are inserted in bulk (executemany) with empty wallets, for search at scale.

Usage::

    summary = build_demo(settings, customers=1000, seed=7, force=False, progress=True)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from teller_tui.common.errors import Conflict, StorageError

if TYPE_CHECKING:
    from teller_tui.common.settings import Settings

ACTIVE_CUSTOMERS = 2000  # customers with ledger history (the rest are bulk-inserted)
HISTORY_DAYS = 28
BULK_BATCH = 20_000


@dataclass(frozen=True, slots=True)
class DemoStaff:
    username: str
    display_name: str
    role: str
    password: str
    totp_secret: str  # base32, 160 bits


#: The documented demo sign-ins (README). Secrets are fixed so an authenticator can be set up once.
DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("admin1", "管理员 Admin", "admin", "admin-demo-pass", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXA"),
    DemoStaff("super1", "主管 李敏", "supervisor", "super-demo-pass", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXS"),
    DemoStaff("teller1", "柜员 王芳", "teller", "teller-demo-pass", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
    DemoStaff("teller2", "柜员 张伟", "teller", "teller2-demo-pass", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"),
    DemoStaff("kiosk1", "自助终端", "kiosk", "kiosk-demo-pass", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXK"),
)

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


@dataclass
class DemoSummary:
    database: str
    customers: int
    active_customers: int
    entries: int
    seconds: float


class _DemoClock:
    def __init__(self, now: datetime) -> None:
        self.now_value = now

    def now(self) -> datetime:
        return self.now_value


def _pinyin_table(chars: str) -> dict[str, str]:
    from pypinyin import lazy_pinyin

    return {ch: lazy_pinyin(ch)[0] for ch in set(chars)}


def _nonempty(database: Any) -> bool:
    from sqlalchemy import text

    with database.read() as s:
        for table in ("staff", "customer", "journal_entry"):
            if s.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:
                return True
    return False


def _open_fresh(settings: Settings, force: bool) -> Any:
    from teller_tui.db import schema
    from teller_tui.services import open_database

    database = open_database(settings, check_schema=False)
    schema.upgrade(database)
    if _nonempty(database):
        if not force:
            database.dispose()
            raise Conflict(f"The database {database.url.render_as_string(hide_password=True)} already holds data; "
                           "`teller demo --force` replaces it (everything in it is lost).", code="demo_not_empty")
        if database.dialect != "sqlite" or database.path is None:
            database.dispose()
            raise StorageError("--force can only replace a SQLite file; point TELLER_DATABASE_URL at an empty "
                               "PostgreSQL database instead.", code="demo_force_pg")
        path = database.path
        database.dispose()
        for suffix in ("", "-wal", "-shm"):
            p = path.with_name(path.name + suffix)
            if p.exists():
                p.unlink()
        database = open_database(settings, check_schema=False)
        schema.upgrade(database)
    return database


class _People:
    """Deterministic person generator (names, pinyin, phones, PRC IDs)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.py = _pinyin_table(_SURNAMES + "".join(_COMPOUND) + _GIVEN)
        self.phones: set[str] = set()
        self.ids: set[str] = set()
        weights = [max(1.0, 60.0 / (i + 1)) for i in range(len(_SURNAMES))]
        self.surnames = list(_SURNAMES) + list(_COMPOUND)
        self.weights = weights + [0.3] * len(_COMPOUND)
        self.cum = []
        total = 0.0
        for w in self.weights:
            total += w
            self.cum.append(total)

    def person(self) -> dict[str, Any]:
        from bisect import bisect

        from teller_tui.wallets.identity import make_prc_id

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


def _tier_for(rng: random.Random) -> int:
    r = rng.random()
    return 1 if r < 0.25 else 2 if r < 0.55 else 3 if r < 0.9 else 4


def build_demo(settings: Settings, *, customers: int = 1000, seed: int = 1, force: bool = False,
               progress: bool = True, active: int = ACTIVE_CUSTOMERS, now: datetime | None = None) -> DemoSummary:
    import time as _time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    started = _time.monotonic()
    if customers < 0:
        raise ValueError("customers must be >= 0")
    database = _open_fresh(settings, force)
    rng = random.Random(seed)
    real_now = (now or datetime.now(UTC)).astimezone(UTC)
    clock = _DemoClock(real_now - timedelta(days=HISTORY_DAYS + 1))
    active = min(active, customers)
    cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*cols, disable=not progress, transient=False) as bar:
            staff = _make_staff(database, settings, clock)
            branch = settings.branch_code
            t_cust = bar.add_task("customers", total=customers)
            ids = _bulk_people(database, settings, clock, rng, customers, active, staff,
                               lambda n: bar.advance(t_cust, n))
            t_hist = bar.add_task("history", total=max(1, len(ids)))
            entries = _history(database, settings, clock, rng, ids, staff, branch, real_now,
                               lambda n: bar.advance(t_hist, n))
            _finish(database, settings, clock, staff, customers, seed)
            _open_drawers(database, settings)
        if database.dialect == "sqlite":
            from sqlalchemy import text

            with database.write_engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA optimize")
                conn.execute(text("ANALYZE"))
        url = database.url.render_as_string(hide_password=True)
    finally:
        database.dispose()
    return DemoSummary(url, customers, active, entries, _time.monotonic() - started)


def _system_actor(settings: Settings) -> Any:
    from teller_tui.audit.trail import Actor

    return Actor(None, "system:demo", settings.terminal_id, "system", settings.branch_code)


def _make_staff(database: Any, settings: Settings, clock: Any) -> dict[str, Any]:
    """Staff through the auth service (needs the key file under TELLER_HOME for TOTP secrets)."""
    from teller_tui.audit.trail import Actor, AuditTrail
    from teller_tui.auth.service import AuthService

    from teller_tui.auth.secretbox import SecretBox

    auth = AuthService(database, clock, settings, AuditTrail(clock), secretbox=SecretBox.from_home_lazily(settings))
    actor = _system_actor(settings)
    out = {}
    for st in DEMO_STAFF:
        view, _otp = auth.create_staff(actor, st.username, st.display_name, st.role, password=st.password,
                                       totp_secret=st.totp_secret, branch_code=settings.branch_code)
        out[st.username] = Actor(view.id, st.username, settings.terminal_id, st.role, settings.branch_code)
    return out


def _bulk_people(database: Any, settings: Settings, clock: Any, rng: random.Random, n: int, active: int,
                 staff: dict[str, Any], advance: Callable[[int], None]) -> list[tuple[int, int, int, int, str]]:
    """Customers, wallets and wallet ledger accounts by executemany. Returns the active wallets
    as (customer_id, wallet_id, account_id, tier, number)."""
    from teller_tui.wallets.identity import make_wallet_number
    from teller_tui.ledger.accounts import points_code, wallet_code
    from teller_tui.models.types import UTCDateTime

    people = _People(rng)
    branch = settings.branch_code
    created = UTCDateTime().process_bind_param(clock.now(), database.write_engine.dialect)
    teller_id = staff["teller1"].staff_id
    active_wallets: list[tuple[int, int, int, int, str]] = []
    with database.write() as s:
        from sqlalchemy import text

        base_c = int(s.execute(text("SELECT coalesce(max(id), 0) FROM customer")).scalar_one())
        base_w = int(s.execute(text("SELECT coalesce(max(id), 0) FROM wallet")).scalar_one())
        base_a = int(s.execute(text("SELECT coalesce(max(id), 0) FROM ledger_account")).scalar_one())
    next_a = base_a
    done = 0
    saved = _suspend_search_indexes(database) if n > 5000 else None
    while done < n:
        size = min(BULK_BATCH, n - done)
        cust_rows, acct_rows, wallet_rows = [], [], []
        for i in range(done, done + size):
            cid, wid = base_c + i + 1, base_w + i + 1
            p = people.person()
            tier = _tier_for(rng) if i >= active else rng.choice((1, 1, 2, 2, 3, 4))
            kyc = {1: "in_person", 2: "real_name_bank", 3: "real_name", 4: "mobile"}[tier]
            cust_rows.append({
                "id": cid, "customer_no": f"C{cid:09d}", "full_name": p["full_name"], "name_latin": p["name_latin"],
                "phone": p["phone"], "id_type": None if tier == 4 else "prc_id",
                "id_number": None if tier == 4 else p["id_number"],
                "id_expiry": date(2030 + rng.randrange(15), 1 + rng.randrange(12), 1 + rng.randrange(28))
                if tier != 4 else None,
                "birth_date": None if tier == 4 else p["birth_date"], "sex": p["sex"], "nationality": "CHN",
                "address": "", "occupation": p["occupation"], "risk_level": "low", "kyc_level": kyc,
                "pin_failed_attempts": 0, "pin_locked": False, "branch_code": branch, "created_at": created,
                "created_by": teller_id})
            number = make_wallet_number(wid)
            next_a += 1
            acct_id = next_a
            acct_rows.append({"id": acct_id, "code": wallet_code(number), "name": f"Wallet {number}",
                              "kind": "wallet", "currency": "CNY", "branch_code": branch, "dr": True, "cr": False,
                              "opened_at": created})
            pts_id = None
            if i < active:
                next_a += 1
                pts_id = next_a
                acct_rows.append({"id": pts_id, "code": points_code(number), "name": f"Points {number}",
                                  "kind": "points", "currency": "PTS", "branch_code": branch, "dr": True,
                                  "cr": False, "opened_at": created})
                active_wallets.append((cid, wid, acct_id, tier, number))
            wallet_rows.append({"id": wid, "number": number, "customer_id": cid, "tier": tier, "account_id": acct_id,
                                "points_account_id": pts_id, "opened_at": created, "opened_by": teller_id})
        _insert_many(database, cust_rows, acct_rows, wallet_rows)
        done += size
        advance(size)
    if saved is not None:
        _restore_search_indexes(database, saved, base_c)
    return active_wallets


_BULK_TABLES = ("customer", "wallet", "ledger_account")


def _suspend_search_indexes(database: Any) -> list[tuple[str, str, str]] | None:
    """SQLite bulk load: drop the secondary indexes and search triggers of the bulk tables
    (their DDL is kept and replayed verbatim afterwards); building an index once, sorted, is
    many times faster than maintaining it row by row with random keys. Unique constraints stay."""
    if database.dialect != "sqlite":
        return None
    from sqlalchemy import text

    with database.write() as s:
        rows = [(t, name, sql) for t, name, sql in s.execute(text(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL "
            "AND tbl_name IN ('customer', 'wallet', 'ledger_account') AND sql NOT LIKE 'CREATE UNIQUE%'")).all()]
        for kind, name, _sql in rows:
            s.execute(text(f'DROP {kind.upper()} "{name}"'))
    return rows


def _restore_search_indexes(database: Any, saved: list[tuple[str, str, str]], base_customer_id: int) -> None:
    from sqlalchemy import text

    m = _desk_migration()
    with database.write() as s:
        raw = s.connection().connection.dbapi_connection
        raw.execute("PRAGMA cache_size=-262144")
        for kind, _name, sql in saved:
            if kind == "index":
                s.execute(text(sql))
        s.execute(text(f"INSERT INTO customer_fts(rowid, id_number, full_name, latin) SELECT {m._fts_values('c')} "
                       "FROM customer AS c WHERE c.id > :b"), {"b": base_customer_id})
        s.execute(text("INSERT OR IGNORE INTO customer_name_gram(gram, customer_id) "
                       + m._gram_select("c", "customer AS c, ").replace(" WHERE ", " WHERE c.id > :b AND ", 1)),
                  {"b": base_customer_id})
        for kind, _name, sql in saved:
            if kind == "trigger":
                s.execute(text(sql))
        raw.execute("PRAGMA cache_size=-2000")


def _desk_migration() -> Any:
    """The 0003_desk migration module (its FTS/gram SQL is the single definition)."""
    import importlib.util

    from teller_tui.db.schema import MIGRATIONS_DIR

    spec = importlib.util.spec_from_file_location("_teller_desk_migration", MIGRATIONS_DIR / "versions" / "0003_desk.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_CUSTOMER_SQL = (
    "INSERT INTO customer (id, customer_no, full_name, name_latin, phone, id_type, id_number, id_expiry, birth_date, "
    "sex, nationality, address, occupation, risk_level, kyc_level, pin_failed_attempts, pin_locked, branch_code, "
    "created_at, created_by) VALUES (:id, :customer_no, :full_name, :name_latin, :phone, :id_type, :id_number, "
    ":id_expiry, :birth_date, :sex, :nationality, :address, :occupation, :risk_level, :kyc_level, "
    ":pin_failed_attempts, :pin_locked, :branch_code, :created_at, :created_by)")
_ACCOUNT_SQL = (
    "INSERT INTO ledger_account (id, code, name, kind, currency, branch_code, debits_must_not_exceed_credits, "
    "credits_must_not_exceed_debits, status, debits_posted, credits_posted, debits_pending, credits_pending, "
    "opened_at) VALUES (:id, :code, :name, :kind, :currency, :branch_code, :dr, :cr, 'active', 0, 0, 0, 0, "
    ":opened_at)")
_WALLET_SQL = (
    "INSERT INTO wallet (id, number, customer_id, tier, status, currency, account_id, points_account_id, opened_at, "
    "opened_by, explanations_json) VALUES (:id, :number, :customer_id, :tier, 'active', 'CNY', :account_id, "
    ":points_account_id, :opened_at, :opened_by, '{}')")


def _insert_many(database: Any, cust: list[dict[str, Any]], accts: list[dict[str, Any]],
                 wallets: list[dict[str, Any]]) -> None:
    from sqlalchemy import text

    with database.write() as s:
        if database.dialect == "sqlite":
            raw = s.connection().connection.dbapi_connection
            cur = raw.cursor()
            cur.execute("PRAGMA cache_size=-131072")
            for sql, rows in ((_CUSTOMER_SQL, cust), (_ACCOUNT_SQL, accts), (_WALLET_SQL, wallets)):
                cur.executemany(sql, [_sqlite_row(r) for r in rows])
            cur.close()
        else:
            from teller_tui.db.ddl import resync_id_sequences_statements

            # psycopg 3 runs executemany in pipeline mode (one round trip per batch, not per row).
            for sql, rows in ((_CUSTOMER_SQL, cust), (_ACCOUNT_SQL, accts), (_WALLET_SQL, wallets)):
                s.execute(text(sql), rows)
            # Explicit ids: move the id sequences on, or the next ordinary INSERT collides (pg helper).
            for sql in resync_id_sequences_statements(database.dialect, ("customer", "ledger_account", "wallet")):
                s.execute(text(sql))


def _sqlite_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if isinstance(v, datetime):
            v = v.isoformat(sep=" ")
        elif isinstance(v, date):
            v = v.isoformat()
        elif isinstance(v, bool):
            v = int(v)
        out[k] = v
    return out


# -- history through the ledger ----------------------------------------------------------------
def _history(database: Any, settings: Settings, clock: _DemoClock, rng: random.Random,
             wallets: list[tuple[int, int, int, int, str]], staff: dict[str, Any], branch: str, real_now: datetime,
             advance: Callable[[int], None]) -> int:
    from teller_tui.ledger import EntryRequest, Ledger, credit, debit
    from teller_tui.ledger.accounts import AccountKind, drawer_code, equity_code, vault_code
    from teller_tui.common.money import Money
    from teller_tui.wallets.classes import default_table

    ledger = Ledger(clock)
    tellers = [staff["teller1"], staff["teller2"], staff["super1"]]
    count = 0
    with database.write() as s:
        eq = ledger.open_account(s, code=equity_code(branch), name="Opening equity", kind=AccountKind.EQUITY,
                                 branch_code=branch)
        vault = ledger.open_account(s, code=vault_code(branch), name="Branch vault", kind=AccountKind.VAULT,
                                    branch_code=branch)
        ledger.post(s, EntryRequest("demo-vault-open", "vault_open", (debit(vault, Money.of("20000000")),
                                                                       credit(eq, Money.of("20000000"))),
                                    None, settings.terminal_id, branch, memo="Demo: vault cash brought in"))
        drawers = {}
        for t in tellers:
            d = ledger.open_account(s, code=drawer_code(branch, t.username), name=f"Drawer {t.username}",
                                    kind=AccountKind.DRAWER, branch_code=branch)
            drawers[t.username] = d
            ledger.post(s, EntryRequest(f"demo-drawer-{t.username}", "drawer_issue",
                                        (debit(d, Money.of("2000000")), credit(vault, Money.of("2000000"))),
                                        t.staff_id, settings.terminal_id, branch, memo="Demo: drawer float"))
            count += 1
    if not wallets:
        return count + 1
    table = default_table()
    start_day = (real_now - timedelta(days=HISTORY_DAYS)).date()
    caps = {n: table.tier(n, on=start_day) for n in (1, 2, 3, 4)}
    # Events: (when, kind, wallet index, other index, amount minor)
    events: list[tuple[datetime, int, str, int, int]] = []
    for idx, (_cid, _wid, _acct, tier, _num) in enumerate(wallets):
        n_events = rng.randrange(1, 6)
        for k in range(n_events):
            day = rng.randrange(HISTORY_DAYS) if k else rng.randrange(3)
            when = datetime.combine(start_day + timedelta(days=day), time(1 + rng.randrange(8), rng.randrange(60)),
                                    tzinfo=UTC)
            kind = "cash_in" if k == 0 else rng.choices(("cash_in", "cash_out", "transfer"), (4, 3, 2))[0]
            events.append((when, k, kind, idx, rng.randrange(len(wallets))))
    events.sort()
    balances = [0] * len(wallets)
    out_day: dict[tuple[int, date], int] = {}
    batch = 500
    pos = 0
    seen_idx: set[int] = set()
    while pos < len(events):
        chunk = events[pos:pos + batch]
        pos += batch
        with database.write() as s:
            for when, k, kind, idx, other in chunk:
                cid, _wid, acct, tier, number = wallets[idx]
                t = caps[tier]
                teller = tellers[(idx + k) % 2]
                drawer = drawers[teller.username]
                clock.now_value = when
                day = when.date()
                room_out = min(t.per_txn.minor, t.daily.minor - out_day.get((idx, day), 0), balances[idx])
                if kind == "cash_in":
                    room = t.balance_cap.minor - balances[idx]
                    amt = min(room, rng.choice((100, 200, 500, 1000, 2000, 5000)) * 100)
                    if amt <= 0:
                        continue
                    legs = (debit(drawer, Money(amt)), credit(acct, Money(amt)))
                    balances[idx] += amt
                elif kind == "cash_out":
                    amt = min(room_out, rng.choice((50, 100, 200, 300, 500)) * 100)
                    if amt <= 0:
                        continue
                    legs = (debit(acct, Money(amt)), credit(drawer, Money(amt)))
                    balances[idx] -= amt
                    out_day[(idx, day)] = out_day.get((idx, day), 0) + amt
                else:
                    if other == idx:
                        continue
                    ot = caps[wallets[other][3]]
                    amt = min(room_out, ot.balance_cap.minor - balances[other],
                              rng.choice((20, 50, 88, 100, 200, 520)) * 100)
                    if amt <= 0:
                        continue
                    legs = (debit(acct, Money(amt)), credit(wallets[other][2], Money(amt)))
                    balances[idx] -= amt
                    balances[other] += amt
                    out_day[(idx, day)] = out_day.get((idx, day), 0) + amt
                memo = {"cash_in": "现金存入", "cash_out": "现金支取", "transfer": "转账"}[kind]
                ledger.post(s, EntryRequest(f"demo-{number}-{k}-{when:%Y%m%d%H%M}", kind, legs, teller.staff_id,
                                            settings.terminal_id, branch, memo=memo, customer_id=cid,
                                            meta={"wallet": number, "demo": True}))
                count += 1
                if idx not in seen_idx:
                    seen_idx.add(idx)
                    advance(1)
    advance(len(wallets) - len(seen_idx))
    return count


def _finish(database: Any, settings: Settings, clock: Any, staff: dict[str, Any], customers: int, seed: int) -> None:
    from teller_tui.audit.trail import AuditTrail

    with database.write() as s:
        AuditTrail(clock).append(s, _system_actor(settings), "demo_build", subject=settings.branch_code,
                                 detail={"customers": customers, "seed": seed})


def _open_drawers(database: Any, settings: Settings) -> None:
    """Open today's business day and a drawer with a float for each teller (teller_tui.branch.drawers)."""
    try:
        from teller_tui.branch.setup import open_demo_drawer
    except ImportError:  # the drawer feature is not in this build: cash uses the drawer accounts
        return
    from teller_tui.services import make_services

    services = make_services(settings, database=database, check_schema=False)
    for st in DEMO_STAFF:
        if st.role in ("teller", "supervisor"):
            open_demo_drawer(services, st.username)


def iter_staff_table() -> Iterator[tuple[str, str, str, str]]:
    for st in DEMO_STAFF:
        yield st.username, st.role, st.password, st.totp_secret
