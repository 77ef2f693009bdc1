"""Helpers shared by the auth tests: services on the test database, staff with known secrets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from teller_tui.auth import passwords
from teller_tui.common.clock import FakeClock

#: RFC 6238 appendix B seed ("12345678901234567890") in base32: 160 bits.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
ADMIN_PW = "correct horse staple ribbon"
TELLER_PW = "蓝色的天空 and a long phrase"
SUP_PW = "supervisor passphrase 42"
SECRETS = {"admin": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "wang": RFC_SECRET,
           "li": "KRSXG5CTMVRXEZLUKN2XAZLSONSWG4TF"}


@pytest.fixture(autouse=True)
def cheap_hashing() -> Iterator[None]:
    with passwords.test_parameters():
        yield


def code_for(secret: str, clock: FakeClock, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now().timestamp() + 30 * offset_steps)


def make_settings(home: Path, db_path: Path, **kw: Any) -> Any:
    from teller_tui.common.settings import load_settings

    return load_settings(home=home, database_url=f"sqlite:///{db_path}", **kw)


def make_test_services(home: Path, db_path: Path, clock: FakeClock, database: Any = None, *, box: Any = None,
                       **kw: Any) -> Any:
    """``make_services`` on the test database; ``box`` (e.g. ``SecretBox.ephemeral()``) instead of the
    home's key file; other keywords are settings."""
    from teller_tui.services import make_services

    return make_services(make_settings(home, db_path, **kw), clock=clock, database=database, box=box)


@pytest.fixture
def services(tmp_path: Path, db_path: Path, db: Any, clock: FakeClock) -> Any:
    """The app's services on the test database and clock, in English, no staff yet (:func:`seed_staff`).
    A test module takes it with ``from auth_fixtures import services  # noqa: F401``."""
    return make_test_services(tmp_path / "home", db_path, clock, database=db, locale="en")


def seed_staff(services: Any) -> dict[str, Any]:
    """admin (admin), wang (teller), li (supervisor); all with active TOTP and known passwords."""
    from teller_tui.auth.service import system_actor

    actor = system_actor(services.settings)
    auth = services.auth
    out = {}
    for name, role, pw in (("admin", "admin", ADMIN_PW), ("wang", "teller", TELLER_PW), ("li", "supervisor", SUP_PW)):
        view, otp = auth.create_staff(actor, name, name.title(), role, password=pw, totp_secret=SECRETS[name])
        assert otp is None
        out[name] = view
    return out
