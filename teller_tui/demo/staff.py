"""The demo staff: documented sign-ins of every role, created through the auth service.

``DEMO_STAFF`` is what the README documents (user, role, password, authenticator secret).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from teller_tui.audit.trail import Actor, AuditTrail
from teller_tui.auth.roles import Role
from teller_tui.auth.secretbox import SecretBox
from teller_tui.auth.service import AuthService
from teller_tui.common.clock import Clock
from teller_tui.common.settings import Settings
from teller_tui.db.engine import Database


@dataclass(frozen=True, slots=True)
class DemoStaff:
    username: str
    display_name: str
    role: Role
    password: str
    totp_secret: str  # base32, 160 bits


#: The documented demo sign-ins (README). Secrets are fixed so an authenticator can be set up once.
DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("admin1", "管理员 Admin", Role.ADMIN, "admin-demo-pass", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXA"),
    DemoStaff("super1", "主管 李敏", Role.SUPERVISOR, "super-demo-pass", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXS"),
    DemoStaff("teller1", "柜员 王芳", Role.TELLER, "teller-demo-pass", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
    DemoStaff("teller2", "柜员 张伟", Role.TELLER, "teller2-demo-pass", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"),
    DemoStaff("kiosk1", "自助终端", Role.KIOSK, "kiosk-demo-pass", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXK"),
)


def system_actor(settings: Settings) -> Actor:
    """The actor of what the demo builder does itself (not a person)."""
    return Actor(None, "system:demo", settings.terminal_id, Role.SYSTEM, settings.branch_code)


def make_staff(database: Database, settings: Settings, clock: Clock) -> dict[str, Actor]:
    """Staff through the auth service (needs the key file under TELLER_HOME for TOTP secrets)."""
    auth = AuthService(database, clock, settings, AuditTrail(clock), secretbox=SecretBox.from_home_lazily(settings))
    actor = system_actor(settings)
    out = {}
    for st in DEMO_STAFF:
        view, _otp = auth.create_staff(actor, st.username, st.display_name, st.role, password=st.password,
                                       totp_secret=st.totp_secret, branch_code=settings.branch_code)
        out[st.username] = Actor(view.id, st.username, settings.terminal_id, st.role, settings.branch_code)
    return out


def iter_staff_table() -> Iterator[tuple[str, str, str, str]]:
    for st in DEMO_STAFF:
        yield st.username, st.role, st.password, st.totp_secret
