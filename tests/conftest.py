"""Shared fixtures: a migrated database per test (copied from a template), a fake clock."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pgserver import (  # noqa: F401  (pytest fixtures; tests/pgserver.py)
    mark_postgres_items,
    pg_database,
    pg_replica_set,
    pg_server,
    pg_server_factory,
    pg_url,
)
from teller_tui.common.clock import FakeClock

os.environ.setdefault("TELLER_HOME", "/nonexistent-teller-home-for-tests")
# The app refuses a database file that group or others can read (teller_tui.db.engine.
# secure_sqlite_file). Tests copy database files with shutil, which creates them with the
# umask's mode, so the session works under a private umask, as a branch host should;
# tests/test_file_modes.py sets 022 and 002 itself to show that the app does not rely on it.
os.umask(0o077)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """argon2id at production cost takes ~100 ms a hash; tests use cheap parameters.

    tests/test_auth_primitives.py checks the production defaults explicitly."""
    from teller_tui.auth import passwords

    passwords.use_test_parameters()
    yield
    passwords.use_default_parameters()


@pytest.fixture(autouse=True)
def _counter_consent_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests of posting rules post without the customer's consent step (issue 16), which is on by
    default; tests of consent itself turn it back on (``counter_consent=True``)."""
    monkeypatch.setenv("TELLER_COUNTER_CONSENT", "0")


@pytest.fixture(autouse=True)
def _reset_locale() -> Iterator[None]:
    """One test's language never leaks into the next."""
    from teller_tui.common import i18n

    i18n.set_locale("en")
    yield
    i18n.set_locale("en")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per test session (and per xdist worker)."""
    from teller_tui.db import schema
    from teller_tui.db.engine import make_database

    path = tmp_path_factory.mktemp("template") / "template.db"
    db = make_database(f"sqlite:///{path}")
    schema.upgrade(db)
    db.dispose()  # the last connection to close checkpoints the WAL into the main file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def db_path(template_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "teller.db"
    shutil.copyfile(template_db, path)
    return path


@pytest.fixture
def db(db_path: Path) -> Iterator[object]:
    from teller_tui.db.engine import make_database

    database = make_database(f"sqlite:///{db_path}")
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_postgres_items(items)  # any test using a pg_* fixture gets the `postgres` mark


@pytest.fixture(scope="session")
def pg_app_template(pg_server):  # type: ignore[no-untyped-def]
    """The application schema, migrated once per worker into a template database."""

    def setup(url: str) -> None:
        from teller_tui.db import schema
        from teller_tui.db.engine import make_database

        database = make_database(url)
        try:
            schema.upgrade(database)
        finally:
            database.dispose()  # a template must have no open connections

    return pg_server.prepare_template("teller_app", setup)


@pytest.fixture
def pg_app_url(pg_server, pg_app_template) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, migrated PostgreSQL database for one test (cloned from the template in ~30 ms)."""
    name = pg_server.fresh_database(template="teller_app")
    yield pg_server.url(name)
    pg_server.drop_database(name)
