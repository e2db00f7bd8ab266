"""Request id on every request and response; API errors outside DRF in the family's format."""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.utils.module_loading import import_string

from config import clients
from config.api.contracts import ApiError, Contract, Kind, contract_for_path
from config.api.exceptions import DEPENDENCY_DOWN, json_error_response, to_api_error
from config.logging import current_correlation_id, current_request_id

logger = logging.getLogger("argus.api")
request_logger = logging.getLogger("argus.request")

_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestIdMiddleware:
    """Echo a sane client ``X-Request-ID`` or mint one; expose it to logs and the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _CLIENT_REQUEST_ID.match(supplied) else str(uuid.uuid4())
        started = time.perf_counter()
        request.request_id = request_id
        # 002: a client's X-Correlation-ID is echoed (and named in gateway error bodies); else the request id.
        correlation = request.headers.get("X-Correlation-ID", "")
        correlation = correlation if _CLIENT_REQUEST_ID.match(correlation) else ""
        token = current_request_id.set(request_id)
        correlation_token = current_correlation_id.set(correlation)
        try:
            response = self.get_response(request)
            if request_logger.isEnabledFor(logging.INFO):
                log_request(request, response, started)  # while the request id is current
        finally:
            current_request_id.reset(token)
            current_correlation_id.reset(correlation_token)
        response["X-Request-ID"] = request_id
        response["X-Correlation-ID"] = correlation or request_id
        state = getattr(request, "argus_ratelimit", None)
        if state is not None:
            for key, value in state.headers().items():
                response.setdefault(key, value)
        return response


def log_request(request, response, started: float) -> None:
    """002's request log: one structured line per request (its fields in ``extra``, kept by the JSON formatter;
    the request id is on every record already)."""
    user = getattr(request, "user", None)
    who = str(user) if user is not None and getattr(user, "is_authenticated", False) else None
    fields = {
        "client_ip": clients.client_ip(request),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "user_agent": request.headers.get("User-Agent", "")[:300],
        "client": who,  # a person's e-mail, or apikey:<name>
    }
    request_logger.info(
        "%s %s %s %.1fms", fields["method"], fields["path"], fields["status"], fields["duration_ms"], extra=fields
    )


class ApiErrorMiddleware:
    """Unmatched API paths and crashes answer in the path's family format, never as an HTML page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        contract = contract_for_path(request.path)
        if contract == Contract.HTML or response.get("Content-Type", "").startswith("application/json"):
            return response
        if response.status_code == 404:
            return json_error_response(request.path, ApiError(Kind.NOT_FOUND))
        if response.status_code == 405:
            return json_error_response(request.path, ApiError(Kind.METHOD_NOT_ALLOWED))
        if response.status_code == 500:
            return json_error_response(request.path, ApiError(Kind.INTERNAL))
        return response

    def process_exception(self, request, exception):
        if contract_for_path(request.path) == Contract.HTML:
            return None
        error = to_api_error(exception) if isinstance(exception, DEPENDENCY_DOWN) else None
        if error is not None:
            logger.warning("dependency down in %s %s: %s", request.method, request.path, exception)
            return json_error_response(request.path, error)
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return json_error_response(request.path, ApiError(Kind.INTERNAL))


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI wrapper: no request body past ``MAX_REQUEST_BODY_BYTES`` is read, whatever the route (uploads
    included) and whether or not it announces its length. The answer is 413 in the path's family format.

    Django reads a whole body (spooling to disk) before any view or middleware sees the request, so the
    bound has to sit in front of it.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.MAX_REQUEST_BODY_BYTES
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length and (not length.isdigit() or int(length) > limit):
            return await self._refuse(scope, send, limit)
        received = 0

        async def bounded_receive():
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, bounded_receive, send)
        except _BodyTooLarge:
            await self._refuse(scope, send, limit)

    @staticmethod
    async def _refuse(scope, send, limit: int) -> None:
        request_id = str(uuid.uuid4())
        token = current_request_id.set(request_id)
        try:
            message = f"Request body larger than the limit of {limit} bytes"
            response = json_error_response(
                scope.get("path", ""), ApiError(Kind.MALFORMED, message, status=413, code="PAYLOAD_TOO_LARGE")
            )
        finally:
            current_request_id.reset(token)
        headers = [(b"content-type", b"application/json"), (b"x-request-id", request_id.encode())]
        headers += [
            (name.lower().encode(), value.encode())
            for name, value in response.items()
            if name.lower() != "content-type"
        ]
        headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": response.content})


class DashboardOnlyMiddleware:
    """The dashboard's own middleware (``settings.DASHBOARD_MIDDLEWARE``: sessions, the signed-in user, their
    preferences, messages), run for dashboard and admin paths only.

    API calls carry their credentials in headers, never a session cookie: for them this middleware did nothing
    but cost time. Any ``process_view`` hook among them runs here, in order, for the same paths.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        handler = get_response
        self.view_hooks = []
        for path in reversed(settings.DASHBOARD_MIDDLEWARE):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self.view_hooks.insert(0, instance.process_view)
            handler = instance
        self.dashboard = handler

    def __call__(self, request):
        if contract_for_path(request.path) == Contract.HTML:
            return self.dashboard(request)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if contract_for_path(request.path) != Contract.HTML:
            return None
        for hook in self.view_hooks:
            response = hook(request, view_func, view_args, view_kwargs)
            if response is not None:
                return response
        return None
