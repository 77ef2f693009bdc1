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
acknowledge postings the other never sees. Stop (fence) the old primary first. The old primary
(``fence``) counts as down only when nothing answers at its address: the connection is refused
(or, TCP, times out or finds no host). ANY answer — even a FATAL "too many clients", a password
or pg_hba refusal — means a server is running there and may still take postings from terminals.
Without ``fence`` the caller must state the old primary is stopped (``old_primary_stopped``).

It also refuses while a listed standby cannot be read: under ``ANY 1`` it may be the only one
holding the last acknowledged postings, and promoting another would lose them. The operator may
accept that (``accept_possible_loss``); the result then names what was not read.
"""

from __future__ import annotations

import errno
import glob
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from teller_tui.common.errors import Conflict, ValidationError
from teller_tui.common.masks import mask_url

__all__ = ["NodeState", "PromoteResult", "ReplicationStatus", "StandbyLink", "basebackup_argv", "basebackup_password",
           "fence_state", "find_pg_tool", "libpq_url", "node_state", "password_env", "promote", "replication_status"]

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


#: connect() errors that mean nothing listens at the address (no server process there).
_NOTHING_LISTENS = frozenset({errno.ECONNREFUSED, errno.ENOENT, errno.EHOSTUNREACH})


def _endpoints(url: str) -> list[tuple[str, int]]:
    """Every (host or socket directory or hostaddr, port) libpq would try for ``url``."""
    params = conninfo_to_dict(libpq_url(url))
    hosts = [h.strip() for h in str(params.get("hostaddr") or params.get("host") or "").split(",")]
    if not any(hosts):
        raise ValidationError(f"{mask_url(url)}: name the old primary's host (the check probes its address).",
                              code="pg_url")
    ports = [p.strip() for p in str(params.get("port") or "").split(",")]
    if len(ports) == 1:
        ports = ports * len(hosts)
    if len(ports) != len(hosts):
        raise ValidationError(f"{mask_url(url)}: as many ports as hosts, or one.", code="pg_url")
    try:
        return [(h, int(p or 5432)) for h, p in zip(hosts, ports, strict=True)]
    except ValueError as exc:
        raise ValidationError(f"{mask_url(url)}: the port is not a number.", code="pg_url") from exc


def _probe(host: str, port: int) -> tuple[bool, str]:
    """(nothing listens, what was seen) for one address: a refused connection, a missing socket or a
    timeout is "down"; an accepted connection, or anything we cannot explain, is not."""
    if host.startswith("/"):
        targets: list[tuple[int, Any]] = [(socket.AF_UNIX, os.path.join(host, f".s.PGSQL.{port}"))]
    else:
        try:
            targets = [(fam, addr) for fam, _t, _p, _c, addr in
                       socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        except OSError as exc:
            return False, f"{host}: cannot tell whether it is down ({exc})"
    for family, addr in targets:
        where = addr if family == socket.AF_UNIX else f"{host} ({addr[0]}) port {port}"
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(CONNECT_TIMEOUT)
            try:
                sock.connect(addr)
            except TimeoutError:
                if family == socket.AF_UNIX:  # a full backlog: the server is there
                    return False, f"{where}: accepts connections (busy)"
                continue
            except OSError as exc:
                if exc.errno in _NOTHING_LISTENS:
                    continue
                return False, f"{where}: cannot tell whether it is down ({exc})"
            return False, f"{where}: a server accepts connections there"
    return True, f"{host}:{port}: nothing answers (connection refused or timed out)"


def fence_state(url: str) -> tuple[bool, str]:
    """Is the old primary at ``url`` down, and what was seen. Down only when no address libpq would try
    answers: a server that answers at all (FATAL too many clients, password or pg_hba refused) is up and
    may still take postings from terminals it lets in."""
    seen: list[str] = []
    for host, port in _endpoints(url):
        down, what = _probe(host, port)
        if not down:
            return False, what
        seen.append(what)
    return True, "; ".join(seen)


@dataclass(frozen=True, slots=True)
class PromoteResult:
    promoted: str  #: masked URL of the new primary
    position: int
    seconds: float
    repointed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  #: standbys that could not be reached or re-pointed (rebuild them)
    states: tuple[NodeState, ...] = field(default=())
    fenced: tuple[str, ...] = ()  #: each old primary checked down: "URL: what was seen"
    stated_stopped: bool = False  #: the operator stated the old primary is stopped (not checked)
    unread: tuple[str, ...] = ()  #: standbys not read, promoted anyway (accept_possible_loss): "URL: error"


def promote(standbys: Sequence[str], *, fence: Sequence[str] = (), old_primary_stopped: bool = False,
            accept_possible_loss: bool = False, wait_seconds: int = 60) -> PromoteResult:
    """Promote the most advanced standby of ``standbys`` and point the others at it.

    ``fence``: the old primary's URL(s); refused while anything answers at any of them (see
    :func:`fence_state`) or any "standby" answers as a primary. Without ``fence``, refused unless
    ``old_primary_stopped`` (the operator's statement, recorded in the result). Refused while a
    listed standby cannot be read (it may hold the last acknowledged postings) unless
    ``accept_possible_loss``. Each URL is a superuser's (or a role granted ``pg_promote`` and
    ``ALTER SYSTEM ON PARAMETER primary_conninfo``), single host, ``postgres`` database."""
    if not standbys:
        raise ValidationError("Name at least one standby to promote.", code="pg_standby")
    if not fence and not old_primary_stopped:
        raise ValidationError("Name the old primary (--fence URL) so the promotion can check it is down, or state "
                              "that it is stopped (--old-primary-is-stopped).", code="pg_fence_required")
    t0 = time.monotonic()
    fenced: list[str] = []
    for url in fence:  # first: nothing else is asked while the old primary may be alive
        down, seen = fence_state(url)
        if not down:
            raise Conflict(f"{mask_url(url)} is not down ({seen}): stop it before promoting a standby (two "
                           "primaries would each take postings the other never sees).", code="pg_not_fenced")
        fenced.append(f"{mask_url(url)}: {seen}")
    states = [node_state(u) for u in standbys]
    primaries = [s.url for s in states if s.takes_writes]
    if primaries:
        raise Conflict(f"{', '.join(primaries)} already takes writes: nothing to promote (or fence it first).",
                       code="pg_not_fenced")
    unread = [f"{s.url}: {s.error or 'no answer'}" for s in states if not s.reachable]
    if unread and not accept_possible_loss:
        raise Conflict("Not promoting: " + "; ".join(unread) + ". With ANY 1 the last acknowledged postings may be "
                       "on that standby only; bring it back and run again (or --accept-possible-loss to promote "
                       "without it and lose them).", code="pg_standby_unreachable")
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
                         tuple(states), tuple(fenced), old_primary_stopped and not fence, tuple(unread))


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
    params.pop("password", None)  # never in argv (ps shows it to every local user): see password_env
    params["application_name"] = name
    return [str(tool), "-D", str(data_dir), "-d", make_conninfo("", **params), "-R", "-C", "-S", name,
            "-X", "stream", "--checkpoint=fast", "--no-password"]


def basebackup_password(primary: str) -> str | None:
    """The password the URL carries (``user:pw@`` or ``?password=``), which :func:`basebackup_argv` leaves out."""
    value = conninfo_to_dict(libpq_url(primary)).get("password")
    return None if value is None else str(value)


@contextmanager
def password_env(password: str | None, env: Mapping[str, str], *,
                 owner: tuple[int, int] | None = None) -> Iterator[dict[str, str]]:
    """``env`` for a libpq child, with ``PGPASSFILE`` naming a 0600 file (in a 0700 temporary directory,
    removed afterwards) that holds ``password``: neither argv nor the environment carries it. ``None``:
    ``env`` unchanged (~/.pgpass). ``owner``: (uid, gid) the child runs as."""
    out = dict(env)
    if password is None:
        yield out
        return
    if "\n" in password or "\r" in password:
        raise ValidationError("A password with a line break cannot go in a password file.", code="pg_url")
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    with tempfile.TemporaryDirectory(prefix="teller-pgpass-") as tmp:
        path = os.path.join(tmp, "pgpass")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"*:*:*:*:{escaped}\n")
        if owner is not None:
            os.chown(tmp, *owner)
            os.chown(path, *owner)
        out["PGPASSFILE"] = path
        yield out
