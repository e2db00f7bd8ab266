"""The client contract families and how each one spells an error.

Every request belongs to one family, by its view (``contract`` attribute) or, outside DRF, by its
path. Errors are raised once as :class:`ApiError` with a *kind*; each family turns the kind into its
own status code, error code and body, as its spec shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from config.logging import current_correlation_id


class Contract(StrEnum):
    SPA = "001"  # the SPA: /api/v1, envelope {success, data, meta}
    COUNTING = "000"  # counting endpoints only 000 defines, plain snake_case JSON
    GATEWAY = "002"  # /api/v1/health, rate-limit status, usage stats
    EDGE = "003"  # ANPR engine root paths: /events, /config, /auth/token, /healthz
    FACE_SERVICE = "004"  # /face-service/api/v1, {status, message, data}
    HTML = "html"  # dashboard and admin


_GATEWAY_PATHS = re.compile(r"^/api/v1/(health|rate-limit/status|stats/usage|docs)/?$")
_COUNTING_PATHS = re.compile(
    r"^/api/v1/(cameras/[^/]+/counts|cameras/[^/]+/counting|counts/realtime|counts/analytics|counts/counters)/?$"
    r"|^/api/v2/"
)
_EDGE_PATHS = re.compile(r"^/(events|config|healthz)(/|$)|^/auth/token/?$")


def contract_for_path(path: str) -> Contract:
    if path.startswith("/face-service/"):
        return Contract.FACE_SERVICE
    if _GATEWAY_PATHS.match(path):
        return Contract.GATEWAY
    if _COUNTING_PATHS.match(path):
        return Contract.COUNTING
    if path.startswith("/api/"):
        return Contract.SPA
    if _EDGE_PATHS.match(path):
        return Contract.EDGE
    return Contract.HTML


class Kind(StrEnum):
    MALFORMED = "malformed"
    VALIDATION = "validation"
    UNAUTHENTICATED = "unauthenticated"
    TOKEN_EXPIRED = "token_expired"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA = "unsupported_media"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    QUOTA_EXCEEDED = "quota_exceeded"
    LOCKED = "locked"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


DEFAULT_STATUS = {
    Kind.MALFORMED: 400,
    Kind.VALIDATION: 400,
    Kind.UNAUTHENTICATED: 401,
    Kind.TOKEN_EXPIRED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.METHOD_NOT_ALLOWED: 405,
    Kind.UNSUPPORTED_MEDIA: 415,
    Kind.CONFLICT: 409,
    Kind.RATE_LIMITED: 429,
    Kind.QUOTA_EXCEEDED: 403,
    Kind.LOCKED: 429,
    Kind.TIMEOUT: 408,
    Kind.UNAVAILABLE: 503,
    Kind.INTERNAL: 500,
}

DEFAULT_MESSAGE = {
    Kind.MALFORMED: "Invalid request format",
    Kind.VALIDATION: "Invalid input",
    Kind.UNAUTHENTICATED: "Not authenticated",
    Kind.TOKEN_EXPIRED: "Authentication token has expired",
    Kind.FORBIDDEN: "Insufficient permissions for this operation",
    Kind.NOT_FOUND: "Resource not found",
    Kind.METHOD_NOT_ALLOWED: "Method not allowed",
    Kind.UNSUPPORTED_MEDIA: "Unsupported media type",
    Kind.CONFLICT: "Conflict",
    Kind.RATE_LIMITED: "Rate limit exceeded",
    Kind.QUOTA_EXCEEDED: "API quota exceeded",
    Kind.LOCKED: "Too many failed attempts; try again later",
    Kind.TIMEOUT: "Request timeout",
    Kind.UNAVAILABLE: "Service temporarily unavailable",
    Kind.INTERNAL: "Internal server error",
}

# The error code each family uses for a kind. 001 takes 002's gateway catalogue (AUTH_*, RATE_*,
# SVC_*) because 002 applies across the platform, and keeps VALIDATION_ERROR as 001 shows it.
CODES: dict[Contract, dict[Kind, str]] = {
    Contract.SPA: {
        Kind.MALFORMED: "VAL_001",
        Kind.VALIDATION: "VALIDATION_ERROR",
        Kind.UNAUTHENTICATED: "AUTH_001",
        Kind.TOKEN_EXPIRED: "AUTH_002",
        Kind.FORBIDDEN: "AUTH_003",
        Kind.NOT_FOUND: "NOT_FOUND",
        Kind.METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
        Kind.UNSUPPORTED_MEDIA: "UNSUPPORTED_MEDIA_TYPE",
        Kind.CONFLICT: "CONFLICT",
        Kind.RATE_LIMITED: "RATE_001",
        Kind.QUOTA_EXCEEDED: "RATE_002",
        Kind.LOCKED: "ACCOUNT_LOCKED",
        Kind.TIMEOUT: "SVC_003",
        Kind.UNAVAILABLE: "SVC_001",
        Kind.INTERNAL: "SVC_002",
    },
    Contract.GATEWAY: {
        Kind.MALFORMED: "VAL_001",
        Kind.VALIDATION: "VAL_003",
        Kind.UNAUTHENTICATED: "AUTH_001",
        Kind.TOKEN_EXPIRED: "AUTH_002",
        Kind.FORBIDDEN: "AUTH_003",
        Kind.NOT_FOUND: "NOT_FOUND",
        Kind.METHOD_NOT_ALLOWED: "VAL_001",
        Kind.UNSUPPORTED_MEDIA: "VAL_001",
        Kind.CONFLICT: "CONFLICT",
        Kind.RATE_LIMITED: "RATE_001",
        Kind.QUOTA_EXCEEDED: "RATE_002",
        Kind.LOCKED: "RATE_001",
        Kind.TIMEOUT: "SVC_003",
        Kind.UNAVAILABLE: "SVC_001",
        Kind.INTERNAL: "SVC_002",
    },
    Contract.EDGE: {
        Kind.MALFORMED: "INVALID_REQUEST",
        Kind.VALIDATION: "VALIDATION_ERROR",
        Kind.UNAUTHENTICATED: "AUTHENTICATION_FAILED",
        Kind.TOKEN_EXPIRED: "AUTHENTICATION_FAILED",
        Kind.FORBIDDEN: "FORBIDDEN",
        Kind.NOT_FOUND: "RESOURCE_NOT_FOUND",
        Kind.METHOD_NOT_ALLOWED: "INVALID_REQUEST",
        Kind.UNSUPPORTED_MEDIA: "INVALID_REQUEST",
        Kind.CONFLICT: "DUPLICATE_RESOURCE",
        Kind.RATE_LIMITED: "RATE_LIMIT_EXCEEDED",
        Kind.QUOTA_EXCEEDED: "RATE_LIMIT_EXCEEDED",
        Kind.LOCKED: "RATE_LIMIT_EXCEEDED",
        Kind.TIMEOUT: "SERVICE_UNAVAILABLE",
        Kind.UNAVAILABLE: "SERVICE_UNAVAILABLE",
        Kind.INTERNAL: "INTERNAL_ERROR",
    },
    Contract.FACE_SERVICE: {
        Kind.MALFORMED: "INVALID_REQUEST",
        Kind.VALIDATION: "VALIDATION_ERROR",
        Kind.UNAUTHENTICATED: "INVALID_API_KEY",
        Kind.TOKEN_EXPIRED: "INVALID_API_KEY",
        Kind.FORBIDDEN: "INVALID_API_KEY",
        Kind.NOT_FOUND: "NOT_FOUND",
        Kind.METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
        Kind.UNSUPPORTED_MEDIA: "INVALID_REQUEST",
        Kind.CONFLICT: "CONFLICT",
        Kind.RATE_LIMITED: "RATE_LIMIT_EXCEEDED",
        Kind.QUOTA_EXCEEDED: "QUOTA_EXCEEDED",
        Kind.LOCKED: "RATE_LIMIT_EXCEEDED",
        Kind.TIMEOUT: "TIMEOUT",
        Kind.UNAVAILABLE: "SERVICE_UNAVAILABLE",
        Kind.INTERNAL: "INTERNAL_ERROR",
    },
    Contract.COUNTING: {
        Kind.MALFORMED: "VALIDATION_ERROR",
        Kind.VALIDATION: "VALIDATION_ERROR",
        Kind.UNAUTHENTICATED: "AUTHENTICATION_REQUIRED",
        Kind.TOKEN_EXPIRED: "TOKEN_EXPIRED",
        Kind.FORBIDDEN: "PERMISSION_DENIED",
        Kind.NOT_FOUND: "NOT_FOUND",
        Kind.METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
        Kind.UNSUPPORTED_MEDIA: "VALIDATION_ERROR",
        Kind.CONFLICT: "CONFLICT",
        Kind.RATE_LIMITED: "RATE_LIMIT_EXCEEDED",
        Kind.QUOTA_EXCEEDED: "QUOTA_EXCEEDED",
        Kind.LOCKED: "RATE_LIMIT_EXCEEDED",
        Kind.TIMEOUT: "TIMEOUT",
        Kind.UNAVAILABLE: "SERVICE_UNAVAILABLE",
        Kind.INTERNAL: "INTERNAL_SERVER_ERROR",
    },
}
CODES[Contract.HTML] = CODES[Contract.SPA]

# Where a family's spec answers a kind with another status than DEFAULT_STATUS: 000's FastAPI handlers
# answer request validation errors (a bad query parameter, a malformed or invalid body) with 422.
CONTRACT_STATUS: dict[Contract, dict[Kind, int]] = {
    Contract.COUNTING: {Kind.MALFORMED: 422, Kind.VALIDATION: 422},
    # 004 has one refusal of a caller, 401 INVALID_API_KEY: a key without the face-service scope gets it too.
    Contract.FACE_SERVICE: {Kind.FORBIDDEN: 401},
}

# 000 names an error *type* beside the code (FastAPI handler of its spec).
COUNTING_TYPES = {
    Kind.MALFORMED: "VALIDATION_EXCEPTION",
    Kind.VALIDATION: "VALIDATION_EXCEPTION",
    Kind.UNAUTHENTICATED: "AUTHENTICATION_ERROR",
    Kind.TOKEN_EXPIRED: "AUTHENTICATION_ERROR",
    Kind.FORBIDDEN: "AUTHORIZATION_ERROR",
    Kind.NOT_FOUND: "NOT_FOUND",
    Kind.RATE_LIMITED: "RATE_LIMIT",
    Kind.QUOTA_EXCEEDED: "RATE_LIMIT",
    Kind.INTERNAL: "GENERAL_EXCEPTION",
}


@dataclass
class FieldError:
    field: str
    message: str
    location: str = "body"  # where the value was sent: body or query (000 reports it in ``loc``)
    code: str = ""  # DRF's code of the refusal ("required", "invalid", ...), where known


@dataclass
class ApiError(Exception):
    """An error a client sees. ``code`` overrides the family's code for ``kind`` (spec-specific codes)."""

    kind: Kind
    message: str | None = None
    code: str | None = None
    status: int | None = None
    details: Any = None
    field_errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message or DEFAULT_MESSAGE[self.kind])

    @property
    def http_status(self) -> int:
        return self.status or DEFAULT_STATUS[self.kind]

    def status_for(self, contract: Contract) -> int:
        """The status this error has in ``contract``'s family (an explicit ``status`` always wins)."""
        return self.status or CONTRACT_STATUS.get(contract, {}).get(self.kind) or DEFAULT_STATUS[self.kind]

    def code_for(self, contract: Contract) -> str:
        if self.code:
            return self.code
        if contract == Contract.GATEWAY and self.missing_field:
            return "VAL_002"  # 002's MISSING_REQUIRED_FIELD
        return CODES[contract][self.kind]

    @property
    def missing_field(self) -> str | None:
        """The field a validation error is about when every refusal says it is missing (002's VAL_002)."""
        if self.kind != Kind.VALIDATION or not self.field_errors:
            return None
        if all(item.code == "required" for item in self.field_errors):
            return self.field_errors[0].field
        return None

    def text(self) -> str:
        return self.message or DEFAULT_MESSAGE[self.kind]

    def __reduce__(self):
        # An exception pickles as ``cls(*args)``, which a dataclass exception cannot take (its one arg is the
        # message): carry the fields, so an error raised in another process (an inference worker) arrives whole.
        return _restore_api_error, (type(self), self.args, dict(self.__dict__))


def _restore_api_error(cls: type[ApiError], args: tuple, state: dict[str, Any]) -> ApiError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


def utc_iso(moment: datetime | None) -> str | None:
    """``moment`` in UTC as ISO 8601 ending in ``Z``, as every contract writes times (None stays None)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def now_iso() -> str:
    return utc_iso(datetime.now(UTC))


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def error_body(contract: Contract, error: ApiError, request_id: str, path: str) -> dict[str, Any]:
    """The body of an error response in the family's own format."""
    code = error.code_for(contract)
    message = error.text()
    if contract in (Contract.SPA, Contract.HTML):
        details = error.details
        if error.field_errors:
            first = error.field_errors[0]
            fields: dict[str, list[str]] = {}
            for item in error.field_errors:
                fields.setdefault(_camel_path(item.field), []).append(item.message)
            details = {"field": _camel_path(first.field), "issue": first.message, "fields": fields}
        body = {
            "success": False,
            "error": {"code": code, "message": message, "details": details},
            "requestId": request_id,
        }
        return body
    if contract == Contract.EDGE:
        body = {"detail": message, "error_code": code, "timestamp": now_iso(), "request_id": request_id}
        if error.field_errors:
            body["errors"] = [{"field": item.field, "message": item.message} for item in error.field_errors]
        if error.details is not None:
            body["details"] = error.details
        body.update(error.extra)
        return body
    if contract == Contract.FACE_SERVICE:
        if error.field_errors and not error.message:
            message = error.field_errors[0].message
        if error.kind in (Kind.UNAUTHENTICATED, Kind.TOKEN_EXPIRED) and not error.message:
            message = "Invalid or missing API key"  # 004's one authentication error
        body = {"status": error.status_for(contract), "message": message, "code": code}
        if error.field_errors:
            body["errors"] = [{"field": _camel_path(i.field), "message": i.message} for i in error.field_errors]
        return body
    if contract == Contract.COUNTING:
        inner = {
            "code": code,
            "type": COUNTING_TYPES.get(error.kind, "HTTP_EXCEPTION"),
            "message": message,
            "status_code": error.status_for(contract),
            "path": path,
            "timestamp": now_iso(),
            "request_id": request_id,
        }
        if error.field_errors:
            inner["details"] = [
                {"loc": [item.location, *item.field.split(".")], "msg": item.message, "type": "value_error"}
                for item in error.field_errors
            ]
        elif error.details is not None:
            inner["details"] = error.details
        return {"error": inner}
    # GATEWAY (002)
    message = error_body_message(contract, error)
    inner = {"code": code, "message": message, "timestamp": now_iso(), "requestId": request_id}
    correlation = current_correlation_id.get()
    if correlation:
        inner["correlationId"] = correlation
    if error.field_errors:
        inner["details"] = {item.field: item.message for item in error.field_errors}
    elif error.details is not None:
        inner["details"] = error.details
    return {"error": inner}


def error_headers(contract: Contract, error: ApiError) -> dict[str, str]:
    """002's error headers, on the errors of every family (X-Request-ID and X-Correlation-ID are set on
    every response by the request id middleware)."""
    headers = dict(error.headers)
    headers["X-Error-Code"] = error.code_for(contract)
    headers["X-Error-Message"] = header_text(error_body_message(contract, error))
    return headers


def error_body_message(contract: Contract, error: ApiError) -> str:
    if contract == Contract.GATEWAY and error.code_for(contract) == "VAL_002" and not error.message:
        return f"Missing required field: {error.missing_field}"
    return error.text()


def header_text(text: str, limit: int = 200) -> str:
    """``text`` fit for a header value: one line of printable ASCII (others become '?'), at most ``limit``."""
    flat = " ".join(text.split())
    safe = "".join(ch if " " <= ch <= "~" else "?" for ch in flat)
    return safe if len(safe) <= limit else safe[: limit - 3] + "..."


def _camel_path(path: str) -> str:
    return ".".join(camel(part) for part in path.split("."))
