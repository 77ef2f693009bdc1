"""PostgreSQL: compliance records guarded by triggers; the kiosk registration function

Revision ID: 0050_db_guards
Revises: 0005_approvals, 0006_drawers

approval_request and ledger_hold only move forward (teller_tui/db/guards.py); the application
role, which may not INSERT into staff, records a kiosk's identity through
teller_register_kiosk() (SECURITY DEFINER, fixed search_path). Nothing on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from teller_tui.db.ddl import execute_all
from teller_tui.db.guards import drop_guard_statements, guard_statements

revision: str = "0050_db_guards"
down_revision: str | Sequence[str] | None = ("0005_approvals", "0006_drawers")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        execute_all(op, guard_statements())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        execute_all(op, drop_guard_statements())
