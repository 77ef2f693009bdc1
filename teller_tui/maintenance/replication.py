"""PostgreSQL standbys: build one, watch the quorum, promote the right one.

Topology (README "A standby that takes over"): three database hosts, every one named (its
``application_name``, which is also its replication slot), and on every one the same setting::

    synchronous_standby_names = 'ANY 1 (db1, db2, db3)'

Whichever host is primary, the other two are its standbys and a COMMIT returns only once at least
one of them has the transaction on disk (``synchronous_commit = on``: remote flush). Losing one
standby stops nothing (the other still answers the quorum); losing both makes COMMITs wait —
postings hang rather than be acknowledged without a copy (``teller db replication --check`` says
so first, for the host's alerting). After a failover the dead host's name stays in the list, so a
rebuilt host rejoins the quorum without changing the setting.

Why the most advanced standby is promoted: with ``ANY 1`` an acknowledged COMMIT is on *at least
one* standby, not necessarily a given one. :func:`promote` reads every candidate's last received
WAL position and promotes the furthest (it holds every acknowledged transaction), then points the
others at it (``primary_conninfo`` + reload; they follow the new timeline by themselves, and the
new primary gets their replication slots).

:func:`promote` refuses while any listed server still takes writes: two primaries would each
acknowledge postings the other never sees. Stop (fence) the old primary first.
"""

from __future__ import annotations

import glob
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from teller_tui.common.errors import Conflict, ValidationError
from teller_tui.common.masks import mask_url

__all__ = ["NodeState", "PromoteResult", "ReplicationStatus", "StandbyLink", "basebackup_argv", "find_pg_tool",
           "libpq_url", "node_state", "promote", "replication_status"]

_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
CONNECT_TIMEOUT = 3


def libpq_url(url: str) -> str:
    """A URL libpq understands (``postgresql+psycopg://`` → ``postgresql://``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgres"):
        raise ValidationError(f"Not a PostgreSQL URL: {mask_url(url)}", code="pg_url")
    return "postgresql://" + rest


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                           application_name="teller-replication")


def _lsn(value: Any) -> int | None:
    if value is None:
        return None
    high, _sep, low = str(value).partition("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass(frozen=True, slots=True)
class NodeState:
    url: str  #: masked, fit to print
    reachable: bool
    in_recovery: bool | None = None
    receive_lsn: int | None = None
    replay_lsn: int | None = None
    error: str = ""

    @property
    def position(self) -> int:
        """How far this server's WAL goes (received, else replayed, else its own insert position)."""
        return max(self.receive_lsn or 0, self.replay_lsn or 0)

    @property
    def takes_writes(self) -> bool:
        return self.reachable and self.in_recovery is False


def node_state(url: str) -> NodeState:
    """Is the server up, a standby or a primary, and how far its WAL goes."""
    try:
        with _connect(url) as conn:
            row = conn.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text, "
                "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn()::text END").fetchone()
    except psycopg.Error as exc:
        return NodeState(mask_url(url), False, error=str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    assert row is not None
    return NodeState(mask_url(url), True, bool(row[0]), _lsn(row[1]), _lsn(row[2]) or _lsn(row[3]))


@dataclass(frozen=True, slots=True)
class PromoteResult:
    promoted: str  #: masked URL of the new primary
    position: int
    seconds: float
    repointed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  #: standbys that could not be reached or re-pointed (rebuild them)
    states: tuple[NodeState, ...] = field(default=())


def promote(standbys: Sequence[str], *, fence: Sequence[str] = (), wait_seconds: int = 60) -> PromoteResult:
    """Promote the most advanced reachable standby of ``standbys`` and point the others at it.

    ``fence``: the old primary's URL(s); the promotion is refused while any of them (or any
    "standby") answers as a primary. Each URL is a superuser's (or a role granted ``pg_promote``
    and ``ALTER SYSTEM ON PARAMETER primary_conninfo``), single host, ``postgres`` database."""
    if not standbys:
        raise ValidationError("Name at least one standby to promote.", code="pg_standby")
    t0 = time.monotonic()
    states = [node_state(u) for u in standbys]
    for url, st in ((u, node_state(u)) for u in fence):
        if st.reachable:
            raise Conflict(f"{mask_url(url)} still answers: stop it before promoting a standby (two primaries "
                           "would each take postings the other never sees).", code="pg_not_fenced")
    primaries = [s.url for s in states if s.takes_writes]
    if primaries:
        raise Conflict(f"{', '.join(primaries)} already takes writes: nothing to promote (or fence it first).",
                       code="pg_not_fenced")
    candidates = [(u, s) for u, s in zip(standbys, states, strict=True) if s.reachable and s.in_recovery]
    if not candidates:
        raise Conflict("No standby could be reached: " + "; ".join(f"{s.url}: {s.error}" for s in states),
                       code="pg_no_standby")
    url, best = max(candidates, key=lambda c: c[1].position)  # max() keeps the first of equals
    with _connect(url) as conn:
        row = conn.execute("SELECT pg_promote(true, %s)", (wait_seconds,)).fetchone()
        if not row or not row[0]:
            raise Conflict(f"{best.url} did not finish promoting within {wait_seconds} s.", code="pg_promote")
    repointed: list[str] = []
    skipped = [s.url for s in states if not s.reachable]
    for other, st in candidates:
        if other != url:
            try:  # the promotion is done: a standby that cannot be re-pointed is reported, not fatal
                repoint(other, url)
                repointed.append(st.url)
            except psycopg.Error:
                skipped.append(st.url)
    return PromoteResult(best.url, best.position, time.monotonic() - t0, tuple(repointed), tuple(skipped),
                         tuple(states))


def repoint(standby: str, primary: str) -> None:
    """Point a standby at a new primary: same application_name and slot, the primary's host and
    port; the new primary gets the slot if it lacks it. Reloads the standby (no restart)."""
    target = conninfo_to_dict(libpq_url(primary))
    with _connect(standby) as conn:
        current = conninfo_to_dict(str(conn.execute("SHOW primary_conninfo").fetchone()[0]))  # type: ignore[index]
        slot = str(conn.execute("SHOW primary_slot_name").fetchone()[0] or "")  # type: ignore[index]
        if slot:  # the slot first: a standby that connects before it exists is refused and retries later
            with _connect(primary) as pconn:
                pconn.execute("SELECT pg_create_physical_replication_slot(%s, true) WHERE NOT EXISTS "
                              "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)", (slot, slot))
        current.update({k: target[k] for k in ("host", "port", "hostaddr") if target.get(k)})
        conn.execute(sql.SQL("ALTER SYSTEM SET primary_conninfo = {}").format(sql.Literal(make_conninfo("", **current))))
        conn.execute("SELECT pg_reload_conf()")


@dataclass(frozen=True, slots=True)
class StandbyLink:
    name: str
    state: str
    sync_state: str
    replay_lag_ms: float | None


@dataclass(frozen=True, slots=True)
class ReplicationStatus:
    url: str
    server: str  #: host:port of the server that answered (the primary, with a multi-host URL)
    synchronous_standby_names: str
    synchronous_commit: str
    standbys: tuple[StandbyLink, ...]
    #: Replication slots no standby is using, and the WAL (MiB) each keeps on the primary's disk.
    idle_slots: tuple[tuple[str, float], ...] = ()

    @property
    def quorum(self) -> int:
        """How many standbys must confirm each COMMIT (0: asynchronous)."""
        names = self.synchronous_standby_names.strip()
        if not names:
            return 0
        m = re.match(r"^\s*(?:ANY|FIRST)?\s*(\d+)\s*\(", names, re.IGNORECASE)
        return int(m.group(1)) if m else 1

    @property
    def confirming(self) -> int:
        return sum(1 for s in self.standbys if s.state == "streaming" and s.sync_state in ("sync", "quorum"))

    def problems(self, want_standbys: int = 2, max_idle_slot_mib: float = 1024) -> list[str]:
        """What the host's alerting should hear: empty when postings are protected as designed."""
        out: list[str] = []
        if self.quorum == 0 or self.synchronous_commit in ("off", "local"):
            out.append("commits are asynchronous: an acknowledged posting can be lost with the primary")
        if self.confirming < self.quorum:
            out.append(f"only {self.confirming} synchronous standby(s) streaming, {self.quorum} needed: "
                       "postings are waiting")
        elif self.confirming < want_standbys:
            out.append(f"{self.confirming} of {want_standbys} standbys streaming: one more loss stops postings; "
                       "rebuild the lost one (`teller db standby`)")
        for name, mib in self.idle_slots:
            if mib >= max_idle_slot_mib:
                out.append(f"replication slot {name} is unused and keeps {mib:,.0f} MiB of WAL on the primary: "
                           f"rebuild standby {name} or drop the slot (SELECT pg_drop_replication_slot('{name}'))")
        return out


def replication_status(primary: str) -> ReplicationStatus:
    with _connect(primary) as conn:
        if conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,):
            raise Conflict(f"{mask_url(primary)} is a standby; ask the primary.", code="pg_standby")
        where = conn.execute("SELECT coalesce(host(inet_server_addr()), 'local socket') || ':' || "
                             "current_setting('port')").fetchone()
        names = str(conn.execute("SHOW synchronous_standby_names").fetchone()[0])  # type: ignore[index]
        commit = str(conn.execute("SHOW synchronous_commit").fetchone()[0])  # type: ignore[index]
        rows = conn.execute("SELECT application_name, state, sync_state, "
                            "extract(epoch FROM replay_lag) * 1000 FROM pg_stat_replication "
                            "ORDER BY application_name").fetchall()
        slots = conn.execute("SELECT slot_name, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0) "
                             "/ 1048576.0 FROM pg_replication_slots WHERE NOT active ORDER BY slot_name").fetchall()
    links = tuple(StandbyLink(str(r[0]), str(r[1]), str(r[2]), None if r[3] is None else float(r[3])) for r in rows)
    return ReplicationStatus(mask_url(primary), str(where[0]) if where else "?", names, commit, links,
                             tuple((str(n), float(m)) for n, m in slots))


def find_pg_tool(name: str, bindir: Path | None = None) -> Path:
    """``pg_basebackup`` (etc.) from ``bindir``, PATH, or Debian's /usr/lib/postgresql/N/bin (newest)."""
    if bindir is not None:
        cands = [bindir / name]
    else:
        found = shutil.which(name)
        cands = [Path(found)] if found else []
        cands += [Path(p) / name for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for cand in cands:
        if cand.is_file():
            return cand
    raise ValidationError(f"{name} not found: install PostgreSQL's client tools or pass --bindir", code="pg_tool")


def basebackup_argv(primary: str, data_dir: Path, *, name: str, tool: Path) -> list[str]:
    """``pg_basebackup`` that clones ``primary`` into an empty ``data_dir`` as a standby named ``name``:
    ``-R`` writes standby.signal and primary_conninfo (with ``application_name=name``, the name
    ``synchronous_standby_names`` lists), ``-C -S name`` creates its replication slot on the primary
    (WAL is kept until the standby has it), ``-X stream`` copies the WAL written meanwhile."""
    if not _NAME_RE.match(name):
        raise ValidationError("A standby name is lower-case letters, digits and _ (it is also its slot name).",
                              code="pg_standby_name")
    params = conninfo_to_dict(libpq_url(primary))
    params.pop("dbname", None)
    params["application_name"] = name
    return [str(tool), "-D", str(data_dir), "-d", make_conninfo("", **params), "-R", "-C", "-S", name,
            "-X", "stream", "--checkpoint=fast", "--no-password"]
