"""The one catalogue of domain errors.

Each error has a *kind* (gRPC-like category) and a stable snake_case *code*. Transports map
these to their own statuses and shapes; there is no HTTP status here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    INVALID_ARGUMENT = "invalid_argument"
    FAILED_PRECONDITION = "failed_precondition"
    NOT_FOUND = "not_found"
    ALREADY_EXISTS = "already_exists"
    PERMISSION_DENIED = "permission_denied"
    UNAUTHENTICATED = "unauthenticated"
    RESOURCE_EXHAUSTED = "resource_exhausted"
    ABORTED = "aborted"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


class DomainError(Exception):
    """Base of every domain error; subclasses fix `kind`, `code` and a default message."""

    kind: Kind = Kind.INTERNAL
    code: str = "internal"
    message: str = "Unexpected error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class InvalidArgument(DomainError):
    """A value breaks a domain rule (not the password policy); names the offending field."""

    kind, code, message = Kind.INVALID_ARGUMENT, "invalid_request", "Invalid request"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.field_message = message


class PasswordPolicyViolation(DomainError):
    kind, code = Kind.INVALID_ARGUMENT, "password_policy"
    message = "Password does not match the password policy"

    def __init__(self, violations: list[str]) -> None:
        super().__init__(f"{self.message}: {', '.join(violations)}")
        self.violations = violations


class CurrentPasswordRequired(DomainError):
    kind, code, message = (
        Kind.INVALID_ARGUMENT,
        "current_password_required",
        "The current password is required",
    )


class InvalidCurrentPassword(DomainError):
    kind, code, message = (
        Kind.INVALID_ARGUMENT,
        "invalid_current_password",
        "The current password is wrong",
    )


class InvalidCredentials(DomainError):
    """Unknown login name or wrong password: deliberately the same error."""

    kind, code, message = (
        Kind.UNAUTHENTICATED,
        "invalid_credentials",
        "Invalid login name or password",
    )


class AccountLocked(DomainError):
    kind, code, message = (
        Kind.FAILED_PRECONDITION,
        "account_locked",
        "The account is locked after too many failed attempts",
    )

    def __init__(self, locked_until: datetime | None = None) -> None:
        super().__init__()
        self.locked_until = locked_until


class AuthenticationRequired(DomainError):
    kind, code, message = Kind.UNAUTHENTICATED, "authentication_required", "Authentication required"


class SessionInvalid(DomainError):
    """The bearer token is unknown, expired, ended or revoked."""

    kind, code, message = (
        Kind.UNAUTHENTICATED,
        "session_invalid",
        "The session is invalid, expired or revoked",
    )


class Forbidden(DomainError):
    kind, code, message = Kind.PERMISSION_DENIED, "forbidden", "Insufficient privileges"


class UserNotFound(DomainError):
    kind, code, message = Kind.NOT_FOUND, "user_not_found", "User not found"


class OrgNotFound(DomainError):
    kind, code, message = Kind.NOT_FOUND, "org_not_found", "Organization not found"


class AliasTaken(DomainError):
    kind, code, message = Kind.ALREADY_EXISTS, "alias_taken", "The organization alias is taken"


class UsernameTaken(DomainError):
    kind, code, message = (
        Kind.ALREADY_EXISTS,
        "username_taken",
        "The username is taken in this organization",
    )


class AlreadyInitialized(DomainError):
    kind, code, message = (
        Kind.FAILED_PRECONDITION,
        "already_initialized",
        "The instance is already initialized",
    )


class ResetNotPending(DomainError):
    """No reset is pending (never requested, used, replaced, burned, or unknown user)."""

    kind, code, message = (
        Kind.FAILED_PRECONDITION,
        "reset_not_pending",
        "No password reset is pending",
    )


class ResetCodeInvalid(DomainError):
    kind, code, message = (
        Kind.INVALID_ARGUMENT,
        "reset_code_invalid",
        "The verification code is invalid",
    )


class ResetCodeExpired(DomainError):
    kind, code, message = (
        Kind.FAILED_PRECONDITION,
        "reset_code_expired",
        "The verification code has expired",
    )


class ResetTokenInvalid(DomainError):
    """Bad signature or format, already used, replaced, or for another tenant."""

    kind, code, message = Kind.INVALID_ARGUMENT, "reset_token_invalid", "The reset token is invalid"


class ResetTokenExpired(DomainError):
    kind, code, message = (
        Kind.FAILED_PRECONDITION,
        "reset_token_expired",
        "The reset token has expired",
    )


class ResetTokenUserGone(DomainError):
    kind, code, message = (
        Kind.NOT_FOUND,
        "reset_token_user_gone",
        "The token's user no longer exists",
    )


class RateLimited(DomainError):
    kind, code, message = Kind.RESOURCE_EXHAUSTED, "rate_limited", "Too many requests"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds


class Overloaded(DomainError):
    """Password hashing is saturated: waiting for a slot would take longer than the bound, so
    the request is refused at once instead of queueing for seconds."""

    kind, code, message = Kind.UNAVAILABLE, "overloaded", "The server is busy; retry shortly"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds


class ConcurrentUpdate(DomainError):
    """Optimistic-concurrency retries ran out: the caller may simply try again."""

    kind, code, message = Kind.ABORTED, "concurrent_update", "Concurrent update, please retry"


class LedgerEntryNotFound(DomainError):
    """No stored event has been integrated at that position (a snapshot, a gap, or beyond)."""

    kind, code, message = Kind.NOT_FOUND, "ledger_entry_not_found", "No ledger entry there"


class LedgerInconsistent(DomainError):
    """The tree no longer matches a checkpoint the log signed: it will not sign a fork."""

    kind, code, message = (
        Kind.UNAVAILABLE,
        "ledger_inconsistent",
        "The ledger disagrees with a checkpoint it signed; run `credledger ledger verify`",
    )


def all_domain_errors() -> list[type[DomainError]]:
    """Every concrete error class, for completeness tests of the transports."""
    found: list[type[DomainError]] = []
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            pending.append(sub)
    return found
