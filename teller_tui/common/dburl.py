"""Database URLs as people write them, turned into the form SQLAlchemy parses.

A terminal that must follow a PostgreSQL failover lists every server and asks for the one that
takes writes, as libpq does::

    postgresql://teller_app@db1:5432,db2:5432,db3:5432/teller?target_session_attrs=read-write

SQLAlchemy's URL parser takes one host in the authority, so several hosts are moved into its
multi-host query form (``?host=db1:5432&host=db2:5432…``), which the psycopg dialect hands to
libpq as ``host=db1,db2 port=5432,5432``. libpq then tries the hosts in order and keeps the first
that accepts writes; a standby (read-only) or a dead server is skipped.

``postgresql://`` and ``postgres://`` select the psycopg (3) driver, the one the project uses.
"""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["normalize_database_url"]


def normalize_database_url(url: str, *, target_session_attrs: str = "read-write") -> str:
    """The driver prefix made explicit and a multi-host authority moved into the query string, with
    ``target_session_attrs`` added when the URL does not choose (a terminal must land on the server that
    takes writes; the read URL of the reports passes ``prefer-standby``). Any other URL is unchanged."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not url.startswith("postgresql"):
        return url
    scheme, _sep, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    userinfo, at, hostlist = authority.rpartition("@")
    if "," not in hostlist:
        return url
    hosts = [h.strip() for h in hostlist.split(",") if h.strip()]
    path, qmark, query = tail.partition("?")
    extra = "&".join("host=" + quote(h, safe="") for h in hosts)
    if "target_session_attrs=" not in query:
        extra += "&target_session_attrs=" + target_session_attrs
    query = f"{extra}&{query}" if query else extra
    return f"{scheme}://{userinfo}{at}/{path if slash else ''}?{query}"

