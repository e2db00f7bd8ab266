"""The dashboard shell's own pages: home, system health, sign-in (with the API's lockout), the audit trail, the user's
preferences and the developer console."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts import developer, preferences, services
from accounts.api.filters import AuditLogFilterSet
from accounts.dashboard import paging_query, permission_required
from accounts.forms import PreferencesForm
from accounts.models import ApiKey, AuditLog, User, UserSession
from config import home as home_panels
from config.api.contracts import ApiError
from config.clients import client_ip
from config.health import check_platform
from config.system import banners, metrics
from config.system import services as system_services
from config.system.choices import BADGE_COLOURS as SYSTEM_BADGES

_CALL_VERBS = {"POST": "Created", "PUT": "Updated", "PATCH": "Updated", "DELETE": "Deleted"}


def describe_entry(entry: AuditLog) -> str:
    """An audit entry in words: an API call's entry says what it did to what (and whether it was refused)
    rather than its raw ``PUT /api/... -> 400``; other entries keep their own message."""
    context = entry.context or {}
    status, method = context.get("status"), context.get("method")
    if not isinstance(status, int) or method not in _CALL_VERBS:
        return entry.message
    what = " ".join(part for part in (entry.resource_type.replace("_", " "), str(entry.resource_id or "")) if part)
    text = f"{_CALL_VERBS[method]} {what}".strip()
    return text if status < 400 else f"{text}: refused ({status})"


@login_required
def home(request):
    health = check_platform()
    now = timezone.now()
    recent = list(AuditLog.objects.order_by("-timestamp")[:10])
    for entry in recent:
        entry.description = describe_entry(entry)
    context = {
        "panels": home_panels.panels_for(request),
        "health": health,
        "users_total": User.objects.count(),
        "users_active": User.objects.filter(status="active").count(),
        "api_keys_active": ApiKey.objects.usable().count(),
        "sessions_open": UserSession.objects.filter(revoked_at__isnull=True, expires_at__gt=now).count(),
        "recent_audit": recent,
        "can_read_audit": request.user.has_permission("audit:read"),
    }
    return render(request, "home.html", context)


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        email = request.POST.get("username", "")
        try:
            services.check_sign_in_allowed(client_ip(request) or "unknown", email)
        except ApiError as error:
            messages.error(request, f"{error.text()} ({error.headers.get('Retry-After', '?')} s)")
            return self.get(request, *args, **kwargs)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        services.record_failed_sign_in(self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        services.record_sign_in(form.get_user(), "dashboard")
        return response


@permission_required("audit:read")
def audit_page(request):
    filterset = AuditLogFilterSet(request.GET or None, queryset=AuditLog.objects.order_by("-timestamp"))
    valid = not filterset.is_bound or filterset.is_valid()
    queryset = filterset.qs if filterset.is_bound and valid else AuditLog.objects.order_by("-timestamp")
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    invalid = "" if valid else "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
    context = {"page": page, "filters": request.GET, "paging_query": paging_query(request), "invalid": invalid}
    return render(request, "accounts/audit.html", context)


@login_required
def preferences_page(request):
    if not isinstance(request.user, User):
        raise PermissionDenied
    current = preferences.preferences_of(request.user)
    form = PreferencesForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        preferences.update_preferences(request.user, form.cleaned_data)
        messages.success(request, "Preferences saved.")
        return redirect("accounts:preferences")
    return render(request, "accounts/preferences.html", {"form": form, "updated_at": current["updated_at"]})


@permission_required("developer:use")  # the same permission the console's API checks
def developer_page(request):
    endpoints = [endpoint.as_dict() for endpoint in developer.catalogue()]
    context = {
        "endpoints": endpoints,
        "invoke_url": reverse("developer-endpoint-invoke", kwargs={"id": "ENDPOINT_ID"}),
    }
    return render(request, "accounts/developer.html", context)


# --- System health -----------------------------------------------------------------------------------


def _natural_label(metric: dict[str, Any]) -> list[Any]:
    """Category order as the service gives it, then labels with their numbers compared as numbers."""
    parts = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", metric["label"])]
    return [metrics.METRIC_CATEGORIES.index(metric["category"]), *parts]


@permission_required("system:read")
def system_page(request: HttpRequest) -> HttpResponse:
    groups: dict[str, list[dict[str, Any]]] = {}
    for metric in sorted(metrics.latest_metrics(), key=_natural_label):
        groups.setdefault(metric["category"], []).append(metric)
    services_rows = [
        {"service": row, "badge": SYSTEM_BADGES.get(row.status, "")} for row in system_services.services_status()
    ]
    context = {
        "metric_groups": groups,
        "services": services_rows,
        "banners": banners.active_banners(),
        "service_badges": SYSTEM_BADGES,
        "refresh_seconds": 10,
        "metrics_url": reverse("system-health-metrics"),
        "services_url": reverse("system-health-services"),
    }
    return render(request, "accounts/system.html", context)
