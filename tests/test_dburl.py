"""Multi-host PostgreSQL URLs (issue 26): the libpq form people write becomes SQLAlchemy's
multi-host form, which the psycopg dialect passes to libpq as ``host=a,b port=p,q``."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from teller_tui.common.dburl import normalize_database_url
from teller_tui.common.masks import mask_url
from teller_tui.common.settings import load_settings


def test_several_hosts_move_into_the_query_and_reach_libpq() -> None:
    raw = "postgresql://teller_app:p%40ss@db1:5432,db2:5433,db3/teller?target_session_attrs=read-write&sslmode=require"
    url = make_url(normalize_database_url(raw))
    assert url.drivername == "postgresql+psycopg" and url.database == "teller" and url.password == "p@ss"
    assert url.query["host"] == ("db1:5432", "db2:5433", "db3")
    assert url.query["target_session_attrs"] == "read-write" and url.query["sslmode"] == "require"
    args = create_engine(url).dialect.create_connect_args(url)[1]
    assert args["host"].split(",") == ["db1", "db2", "db3"] and args["target_session_attrs"] == "read-write"
    assert "p@ss" not in mask_url(normalize_database_url(raw))


def test_single_host_and_other_urls_are_unchanged_but_for_the_driver() -> None:
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("postgresql+psycopg://u@h:1/db?sslmode=require") == \
        "postgresql+psycopg://u@h:1/db?sslmode=require"
    assert normalize_database_url("sqlite:////srv/teller/teller.db") == "sqlite:////srv/teller/teller.db"
    # Several hosts and no choice made: a terminal lands on the one that takes writes.
    assert normalize_database_url("postgresql://u@a,b/db") == \
        "postgresql+psycopg://u@/db?host=a&host=b&target_session_attrs=read-write"


def test_settings_hand_out_the_normalized_url_and_the_read_url_falls_back(tmp_path: object) -> None:
    s = load_settings(home=tmp_path, database_url="postgresql://u@a:1,b:2/db")
    assert s.effective_database_url == "postgresql+psycopg://u@/db?host=a%3A1&host=b%3A2&target_session_attrs=read-write"
    assert s.effective_read_database_url == s.effective_database_url  # unset: the reports read the primary
    s = load_settings(home=tmp_path, database_url="postgresql://u@a/db", read_database_url="postgresql://r@c/db")
    assert s.effective_read_database_url == "postgresql+psycopg://r@c/db"
    # Every node listed: the reports read a standby while one is up, else the primary.
    s = load_settings(home=tmp_path, database_url="postgresql://u@a/db", read_database_url="postgresql://r@a,b,c/db")
    assert s.effective_read_database_url.endswith("&target_session_attrs=prefer-standby")


def test_a_connect_timeout_in_the_url_wins_over_the_engine_default() -> None:
    """Each listed host that does not answer costs connect_timeout: the URL may shorten it."""
    import pytest
    from sqlalchemy import event

    from teller_tui.db.engine import make_database

    seen: list[dict[str, object]] = []

    class Stop(Exception):
        pass

    for url, want in (("postgresql://u@a:1,b:2/db?connect_timeout=2", 2), ("postgresql://u@a:1,b:2/db", 5)):
        db = make_database(url)

        def capture(dialect: object, rec: object, cargs: object, cparams: dict[str, object]) -> None:
            seen.append(dict(cparams))
            raise Stop

        event.listen(db.write_engine, "do_connect", capture)
        with pytest.raises(Stop):
            db.write_engine.connect()
        assert seen[-1]["connect_timeout"] == want and seen[-1]["host"] == "a,b"
        assert seen[-1]["target_session_attrs"] == "read-write"
        db.dispose()


def test_training_never_reads_the_live_standby(tmp_path: object) -> None:
    from pathlib import Path

    live = load_settings(home=tmp_path, database_url="postgresql://u@a/live", read_database_url="postgresql://u@b/live")
    training = live.as_training(Path(str(tmp_path)) / "training", "postgresql://u@a/training")
    assert training.effective_read_database_url == training.effective_database_url == "postgresql+psycopg://u@a/training"
