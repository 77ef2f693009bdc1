"""Run core tests on both backends.

``backend_db`` is parametrized over ``sqlite`` and ``postgresql`` (test ids ``[sqlite]`` /
``[postgresql]``) and yields a migrated :class:`~teller_tui.db.engine.Database`.
The PostgreSQL case uses ``pg_app_url`` (a fresh clone of the migrated template), so it
follows the availability policy of tests/pgserver.py: with ``CI=true`` (or
``TELLER_TEST_PG=required``) a missing server is an error, never a silent skip.

Use it from a test module::

    from backends import backend_db, BACKENDS  # noqa: F401

    def test_x(backend_db): ...

or override the ``db`` fixture of tests/conftest.py for a whole module, so fixtures built
on ``db`` (e.g. desk_fixtures.desk) run on both backends::

    @pytest.fixture
    def db(backend_db): return backend_db
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=BACKENDS)
def backend_db(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A migrated Database on SQLite (temp file from the template) or PostgreSQL (fresh clone)."""
    from teller_tui.db.engine import make_database

    if request.param == "sqlite":
        url = f"sqlite:///{request.getfixturevalue('db_path')}"
    else:
        url = request.getfixturevalue("pg_app_url")
    database = make_database(url)
    yield database
    database.dispose()


def make_backend_database(request: pytest.FixtureRequest, backend: str, **kwargs: Any) -> Any:
    """A second, independently migrated database on ``backend`` inside one test (for parity tests)."""
    import shutil

    from teller_tui.db.engine import make_database

    if backend == "sqlite":
        template = request.getfixturevalue("template_db")
        tmp = request.getfixturevalue("tmp_path") / f"parity-{backend}.db"
        shutil.copyfile(template, tmp)
        return make_database(f"sqlite:///{tmp}", **kwargs)
    return make_database(request.getfixturevalue("pg_app_url"), **kwargs)
