"""A kiosk's own identity row, written the way the database role allows.

On PostgreSQL the application role may not INSERT into ``staff`` (it cannot create people), so a
kiosk's row (role ``kiosk``, no password: nobody signs in as it) is recorded by the owner's
``teller_register_kiosk`` function (SECURITY DEFINER, fixed search_path, :mod:`teller_tui.db.guards`).
SQLite has no roles: the row is inserted directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

from teller_tui.auth.roles import KIOSK_ROLE
from teller_tui.models import Staff

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["register_kiosk_row"]


def register_kiosk_row(s: Session, username: str, display_name: str, branch_code: str, at: datetime) -> Staff:
    """Create the kiosk's staff row (inside the caller's transaction) and return it."""
    if s.connection().dialect.name == "postgresql":
        staff_id = s.execute(text("SELECT teller_register_kiosk(:u, :d, :b, :t)"),
                             {"u": username, "d": display_name, "b": branch_code, "t": at}).scalar_one()
        row = s.get(Staff, int(staff_id))
        assert row is not None
        return row
    row = Staff(username=username, display_name=display_name, role=KIOSK_ROLE, branch_code=branch_code,
                password_hash="", must_change_password=False, created_at=at)
    s.add(row)
    s.flush()
    return row
