"""Role permissions on the API, and the rule that every API view declares what it needs (fail closed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import PermissionDenied
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import HasRequiredPermission
from accounts.permissions_catalogue import PERMISSIONS, grants
from config.api.base import AUTHENTICATED, PUBLIC, ContractMixin
from config.api.schema_views import OpenApiJsonView
from tests.accounts.conftest import error_code

# The OpenAPI document and Swagger UI are public by design (002's GET /api/v1/docs takes no
# credentials); drf-spectacular guards them with its own SERVE_PERMISSIONS, not with ours.
PUBLIC_THIRD_PARTY_VIEWS = {SpectacularAPIView, SpectacularSwaggerView, OpenApiJsonView}


def test_viewer_cannot_list_users(viewer_client, db):
    response = viewer_client.get("/api/v1/users")

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def test_operator_cannot_list_users(operator_client, db):
    response = operator_client.get("/api/v1/users")

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def test_operator_cannot_create_users(operator_client, db):
    response = operator_client.post(
        "/api/v1/users", {"name": "Sneaky", "email": "sneaky@example.com", "roleId": "ROLE-ADMIN"}, format="json"
    )

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"
    assert not User.objects.filter(email="sneaky@example.com").exists()


def test_viewer_cannot_delete_users(viewer_client, operator_user):
    response = viewer_client.delete(f"/api/v1/users/{operator_user.pk}")

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def test_viewer_cannot_read_the_audit_trail(viewer_client, db):
    response = viewer_client.get("/api/v1/audit")

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def test_no_token_returns_401_with_a_challenge(api_client, db):
    response = api_client.get("/api/v1/users")

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_garbage_token_returns_401(api_client, db):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = api_client.get("/api/v1/users")

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"
    assert "WWW-Authenticate" in response


def test_refusal_carries_the_request_id(viewer_client, db):
    response = viewer_client.get("/api/v1/users", HTTP_X_REQUEST_ID="trace-123")

    assert response.json()["requestId"] == "trace-123"
    assert response["X-Request-ID"] == "trace-123"


def test_admin_may_list_users(admin_client):
    assert admin_client.get("/api/v1/users").status_code == 200


def test_admin_may_read_the_audit_trail(admin_client):
    assert admin_client.get("/api/v1/audit").status_code == 200


def test_suspended_role_holder_loses_every_permission(admin_user):
    admin_user.status = "suspended"

    assert not admin_user.has_permission("users:read")


def test_wildcard_resource_permission_grants_its_actions():
    assert grants(["users:*"], "users:write")
    assert not grants(["users:*"], "audit:read")
    assert grants(["*"], "audit:read")
    assert not grants(["users:read"], "users:write")


# --- every API view declares its permissions -------------------------------------------------------


def _drf_views(patterns=None, prefix: str = ""):
    """(route, view function) of every URL pattern under config.urls whose view is a DRF view."""
    for pattern in get_resolver("config.urls").url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _drf_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            cls = getattr(pattern.callback, "cls", None)
            if cls is not None and issubclass(cls, APIView):
                yield route, pattern.callback


def _handled(callback) -> list[tuple[str, str | None]]:
    """(HTTP method, viewset action or None) of every request the view answers, OPTIONS aside."""
    actions = getattr(callback, "actions", None)
    if actions:
        return [(method.upper(), action) for method, action in actions.items() if method != "options"]
    cls = callback.cls
    methods = [m for m in cls.http_method_names if m != "options" and hasattr(cls, m)]
    if "get" in methods:
        methods.append("head")
    return [(method.upper(), None) for method in dict.fromkeys(methods)]


DRF_VIEWS = list(_drf_views())
DECLARING_VIEWS = [(route, cb) for route, cb in DRF_VIEWS if cb.cls not in PUBLIC_THIRD_PARTY_VIEWS]


def test_the_walk_finds_the_accounts_views():
    routes = {route for route, _ in DRF_VIEWS}

    assert {"api/v1/auth/login", "api/v1/auth/me", "auth/token", "healthz/detailed"} <= routes
    assert any(route.startswith("api/v1/^users") for route in routes)


@pytest.mark.parametrize(("route", "callback"), DECLARING_VIEWS, ids=[route for route, _ in DECLARING_VIEWS])
def test_every_api_view_is_guarded_by_the_permission_class(route, callback):
    assert HasRequiredPermission in callback.cls.permission_classes, f"{callback.cls.__name__} bypasses it"


@pytest.mark.parametrize(("route", "callback"), DECLARING_VIEWS, ids=[route for route, _ in DECLARING_VIEWS])
def test_every_api_view_declares_a_permission_for_each_method(route, callback):
    cls = callback.cls
    assert getattr(cls, "required_permissions", None) is not None, f"{cls.__name__} declares no permissions"
    for method, action in _handled(callback):
        view = cls(**getattr(callback, "initkwargs", {}))
        view.action = action
        required = view.required_permission(SimpleNamespace(method=method))
        assert required is not None, f"{cls.__name__} {method} {action or ''} declares no permission"
        assert required in {PUBLIC, AUTHENTICATED} or required in PERMISSIONS, f"unknown permission {required!r}"


def test_a_view_that_declares_nothing_is_refused(rf):
    class Undeclared(ContractMixin, APIView):
        pass

    with pytest.raises(PermissionDenied):
        HasRequiredPermission().has_permission(rf.get("/"), Undeclared())


def test_a_method_missing_from_the_declaration_is_refused(rf):
    class ReadOnlyDeclared(ContractMixin, APIView):
        required_permissions = {"GET": PUBLIC}

    assert HasRequiredPermission().has_permission(rf.get("/"), ReadOnlyDeclared())
    with pytest.raises(PermissionDenied):
        HasRequiredPermission().has_permission(rf.delete("/"), ReadOnlyDeclared())


def test_head_needs_what_get_needs(rf, viewer_user):
    class MethodDeclared(ContractMixin, APIView):
        required_permissions = {"GET": "users:read", "POST": "users:write"}

    view = MethodDeclared()

    assert view.required_permission(rf.head("/")) == "users:read"
    request = rf.head("/")
    request.user = viewer_user
    with pytest.raises(PermissionDenied):
        HasRequiredPermission().has_permission(request, view)


def test_write_permission_grants_reading_the_same_resource():
    assert grants(["faces:write"], "faces:read")
    assert not grants(["faces:write"], "detections:read")
