"""The audit trail: who did what to which resource, from where, and how it ended."""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass

from rest_framework.request import Request

from accounts.choices import Severity
from accounts.models import AuditLog
from config.clients import client_ip
from config.logging import current_request_id

logger = logging.getLogger("argus.audit")

ACTION_VERBS = {
    "create": "create",
    "update": "update",
    "partial_update": "update",
    "destroy": "delete",
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}


@dataclass(frozen=True)
class RequestOrigin:
    ip: str | None
    user_agent: str


# Set per request by AuditContextMiddleware so that code without the request (admin log signals,
# services) still records where a change came from.
current_origin: contextvars.ContextVar[RequestOrigin | None] = contextvars.ContextVar("current_origin", default=None)


def origin_of(request) -> RequestOrigin:
    return RequestOrigin(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:1000])


def record(
    *,
    actor: str,
    action: str,
    message: str,
    actor_role: str = "",
    resource_type: str = "",
    resource_id: str = "",
    severity: str = Severity.INFO,
    context: dict | None = None,
    origin: RequestOrigin | None = None,
) -> AuditLog:
    """Write one audit entry. Origin defaults to the request being served."""
    origin = origin or current_origin.get() or RequestOrigin(None, "")
    return AuditLog.objects.create(
        actor=actor[:255],
        actor_role=actor_role[:50],
        action=action[:100],
        resource_type=resource_type[:50],
        resource_id=str(resource_id)[:100],
        message=message,
        context=context or {},
        severity=severity,
        ip_address=origin.ip,
        user_agent=origin.user_agent,
        request_id=current_request_id.get() if current_request_id.get() != "-" else "",
    )


def actor_of(request) -> tuple[str, str]:
    """Who made ``request``: ``(email, role id)``, or ``("anonymous", "")``.

    An API request's user is the one its authentication found, if it ran: it is never run again from here (a
    refused token would be refused once more). A dashboard request's user is the session's, from Django's
    authentication middleware.
    """
    user = getattr(request, "_user", None)
    if user is None and not isinstance(request, Request):
        user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous", ""
    return getattr(user, "email", str(user)), getattr(user, "role_id", "") or ""


def record_read(
    request, *, action: str, employee_id: str, message: str, resource_type: str, resource_id: str = "", **context
) -> None:
    """Audit a read of biometric data or of a person's history (face images, embeddings, detections of one
    person): who looked, at whom (``context.employee_id``, what the audit's ``person`` filter finds), from
    where. A failure to write is logged and never refuses the read."""
    try:
        actor, role = actor_of(request)
        record(
            actor=actor,
            actor_role=role,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            message=message,
            context={"employee_id": employee_id, "path": request.path, **context},
            origin=origin_of(request),
        )
    except Exception:
        logger.exception("could not write the read audit entry for %s", request.path)


# Which restart outcomes deserve which severity in the trail: a refusal is a warning, a failure critical.
_RESTART_SEVERITY = {"restarted": Severity.INFO, "failed": Severity.CRITICAL}


def audit_service_restart(sender, *, user, service_id, outcome, message, context, **kwargs) -> None:
    """Receiver of ``config.system.services.service_restart_attempted``: every restart attempt is audited."""
    record(
        actor=getattr(user, "email", None) or str(user),
        actor_role=getattr(user, "role_id", "") or "",
        action="system_service.restart",
        resource_type="system_service",
        resource_id=service_id,
        message=message,
        severity=_RESTART_SEVERITY.get(outcome, Severity.WARNING),
        context={"outcome": outcome, **context},
    )


def audit_mutating_call(sender, *, request, view, response, **kwargs) -> None:
    """Receiver of ``config.api.base.mutating_call_answered``."""
    record_api_call(request, view, response)


def record_api_call(request, view, response) -> None:
    """The automatic entry for a mutating API call, successful or refused."""
    try:
        status = response.status_code
        resource_type = view.audit_resource or getattr(view, "basename", None) or type(view).__name__
        verb = ACTION_VERBS.get(getattr(view, "action", None) or "", ACTION_VERBS.get(request.method, "call"))
        resource_id = ""
        kwargs = getattr(view, "kwargs", {}) or {}
        for key in ("pk", "id", "employee_id", "event_id"):
            if key in kwargs:
                resource_id = kwargs[key]
                break
        data = getattr(response, "data", None)
        if not resource_id and status == 201 and isinstance(data, dict):
            resource_id = data.get("id") or ""  # a create names its new resource only in the answer
        actor, role = actor_of(request)
        severity = Severity.INFO if status < 400 else Severity.WARNING if status < 500 else Severity.CRITICAL
        record(
            actor=actor,
            actor_role=role,
            action=f"{resource_type}.{getattr(view, 'audit_action', None) or getattr(view, 'action', None) or verb}",
            resource_type=resource_type,
            resource_id=resource_id,
            message=f"{request.method} {request.path} -> {status}",
            severity=severity,
            context={"method": request.method, "path": request.path, "status": status},
            origin=origin_of(request),
        )
    except Exception:  # an audit failure must not turn a done change into an error for the client
        logger.exception("could not write the audit entry for %s %s", request.method, request.path)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_origin.set(origin_of(request))
        try:
            return self.get_response(request)
        finally:
            current_origin.reset(token)
