"""Request id on every request and response; API errors outside DRF in the family's format."""

from __future__ import annotations

import logging
import re
import uuid

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.utils.module_loading import import_string

from config.api.contracts import ApiError, Contract, Kind, contract_for_path
from config.api.exceptions import json_error_response
from config.logging import current_request_id

logger = logging.getLogger("argus.api")

_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestIdMiddleware:
    """Echo a sane client ``X-Request-ID`` or mint one; expose it to logs and the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _CLIENT_REQUEST_ID.match(supplied) else str(uuid.uuid4())
        request.request_id = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        state = getattr(request, "argus_ratelimit", None)
        if state is not None:
            for key, value in state.headers().items():
                response.setdefault(key, value)
        return response


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
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return json_error_response(request.path, ApiError(Kind.INTERNAL))


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
