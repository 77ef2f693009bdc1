"""Domain errors: each has a stable code and a message fit to show a teller.

The UI shows ``str(error)``; logs and audit records keep ``error.code``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class ValidationError(DomainError):
    """User input that cannot be accepted as it is."""

    code = "invalid"


class NotFound(DomainError):
    code = "not_found"


class PermissionDenied(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    """The request conflicts with the current state (e.g. idempotency key reused)."""

    code = "conflict"


class LimitExceeded(DomainError):
    """A hard limit refused the operation; nobody can lift it."""

    code = "limit"


class ApprovalRequired(DomainError):
    """A limit a supervisor may lift: the caller should start an approval flow.

    ``reasons`` lists human-readable reasons; ``rule`` names the policy rule(s).
    """

    code = "needs_approval"

    def __init__(self, message: str, *, reasons: list[str] | None = None, rules: list[str] | None = None,
                 **details: Any) -> None:
        super().__init__(message, **details)
        self.reasons = reasons or [message]
        self.rules = rules or []


class AuthenticationFailed(DomainError):
    """Sign-in failed. The message never says which factor was wrong."""

    code = "auth_failed"


class StorageError(DomainError):
    """The database cannot be used as configured (pragmas, filesystem, schema)."""

    code = "storage"


class SchemaOutOfDate(StorageError):
    code = "schema_out_of_date"


class DatabaseUnavailable(StorageError):
    code = "db_unavailable"


class ConsentRequired(DomainError):
    """The customer has not consented yet: their PIN on the paired customer display, or the teller's
    recorded ID re-check. ``details["spec"]`` is the exact request (a
    :class:`~teller_tui.consent.spec.ConsentSpec`); retry with ``consent_id=`` once it is granted."""

    code = "needs_consent"
