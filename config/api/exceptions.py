"""One exception handler for every DRF view: DRF's exceptions become ApiErrors in the view's family."""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken

from config.api.contracts import ApiError, Contract, FieldError, Kind, contract_for_path, error_body, error_headers
from config.logging import current_request_id

logger = logging.getLogger("argus.api")

# A dependency that is down, not a bug: answered 503 in the family's format, and recovered from by itself.
DEPENDENCY_DOWN = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)


def flatten_errors(detail: Any, prefix: str = "") -> list[FieldError]:
    """DRF's nested error detail as a flat list of (dotted field, message)."""
    if isinstance(detail, dict):
        errors: list[FieldError] = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", drf.ValidationError.default_code) else str(key)
            errors.extend(flatten_errors(value, f"{prefix}.{name}".strip(".") if name else prefix))
        return errors
    if isinstance(detail, list):
        errors = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                errors.extend(flatten_errors(value, f"{prefix}.{index}".strip(".")))
            else:
                errors.extend(flatten_errors(value, prefix))
        return errors
    return [FieldError(field=prefix or "non_field_errors", message=str(detail), code=getattr(detail, "code", "") or "")]


def to_api_error(exc: Exception) -> ApiError | None:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, drf.ParseError):
        return ApiError(Kind.MALFORMED, f"Invalid request format: {exc.detail}")
    if isinstance(exc, drf.ValidationError):
        return ApiError(Kind.VALIDATION, field_errors=flatten_errors(exc.detail))
    if isinstance(exc, InvalidToken):
        expired = any("expired" in str(m.get("message", "")).lower() for m in exc.detail.get("messages", []))
        return ApiError(Kind.TOKEN_EXPIRED if expired else Kind.UNAUTHENTICATED, "Invalid authentication token")
    if isinstance(exc, drf.NotAuthenticated):
        return ApiError(Kind.UNAUTHENTICATED)
    if isinstance(exc, drf.AuthenticationFailed):
        # simplejwt puts {"detail": ..., "code": ...} in the detail: the sentence is what a client reads.
        detail = exc.detail.get("detail", "") if isinstance(exc.detail, dict) else exc.detail
        return ApiError(Kind.UNAUTHENTICATED, str(detail) or None)
    if isinstance(exc, (drf.PermissionDenied, DjangoPermissionDenied)):
        return ApiError(Kind.FORBIDDEN)
    if isinstance(exc, (drf.NotFound, Http404)):
        return ApiError(Kind.NOT_FOUND)
    if isinstance(exc, drf.MethodNotAllowed):
        return ApiError(Kind.METHOD_NOT_ALLOWED, str(exc.detail))
    if isinstance(exc, drf.UnsupportedMediaType):
        return ApiError(Kind.UNSUPPORTED_MEDIA, str(exc.detail))
    if isinstance(exc, drf.NotAcceptable):
        return ApiError(Kind.MALFORMED, str(exc.detail), status=406)
    if isinstance(exc, drf.Throttled):
        wait = int(exc.wait or 1)
        return ApiError(Kind.RATE_LIMITED, headers={"Retry-After": str(wait)})
    if isinstance(exc, drf.APIException):
        return ApiError(Kind.INTERNAL, str(exc.detail), status=exc.status_code)
    if isinstance(exc, DEPENDENCY_DOWN):
        # PostgreSQL or Redis unreachable: the request was fine and may be sent again shortly.
        return ApiError(
            Kind.UNAVAILABLE,
            "A service the platform depends on is unavailable; try again shortly",
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, DataError) or (isinstance(exc, ValueError) and "NUL (0x00)" in str(exc)):
        # A value the database cannot hold (a number past bigint, a time zone offset past ±15:59, a NUL
        # byte in text) came from the request: the request is wrong, not the server.
        return ApiError(Kind.VALIDATION, "A value in the request is out of range or contains characters not allowed")
    return None


def contract_of(view: Any, path: str) -> Contract:
    return getattr(view, "contract", None) or contract_for_path(path)


def render_error(contract: Contract, error: ApiError, path: str) -> tuple[dict, int, dict[str, str]]:
    body = error_body(contract, error, current_request_id.get(), path)
    return body, error.status_for(contract), error_headers(contract, error)


def handle_exception(exc: Exception, context: dict) -> Response | None:
    """DRF EXCEPTION_HANDLER: every API error in its family's format; unknown errors are logged, not shown."""
    request = context.get("request")
    view = context.get("view")
    path = request.path if request is not None else ""
    error = to_api_error(exc)
    if error is None:
        logger.exception("unhandled error in %s %s", getattr(request, "method", "?"), path)
        error = ApiError(Kind.INTERNAL)
    body, status, headers = render_error(contract_of(view, path), error, path)
    response = Response(body, status=status, headers=headers)
    response.argus_error = True
    if status == 401 and contract_of(view, path) != Contract.FACE_SERVICE:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def json_error_response(path: str, error: ApiError) -> JsonResponse:
    """The same error format outside DRF (middleware, URL resolver 404s, crashes)."""
    contract = contract_for_path(path)
    body, status, headers = render_error(contract, error, path)
    response = JsonResponse(body, status=status)
    for key, value in headers.items():
        response[key] = value
    return response
