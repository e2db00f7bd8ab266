"""The developer console (001 §10): the endpoint catalogue, and invoking an endpoint in-process as the caller."""

from __future__ import annotations

import hashlib
import re
import socket

import pytest

from accounts import developer
from accounts.models import AuditLog, Role, User
from tests.accounts.conftest import error_code
from tests.conftest import client_for
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/developer/endpoints"


def invoke_url(endpoint_id: str) -> str:
    return f"{ENDPOINTS}/{endpoint_id}/invoke"


def id_of(method: str, path: str) -> str:
    return developer.endpoint_id(method, path)


@pytest.fixture
def developer_role(db) -> Role:
    """Read-only access plus the console: what a viewer who may use the console holds."""
    return RoleFactory(
        id="ROLE-DEV-VIEWER", name="Developer (read-only)", permissions=["cameras:read", "system:read", "developer:use"]
    )


@pytest.fixture
def developer_user(developer_role) -> User:
    return UserFactory(role_id=developer_role.id, email="dev@example.com", name="Dee Developer")


@pytest.fixture
def developer_client(developer_user):
    return client_for(developer_user)


@pytest.fixture
def no_outbound_connections(monkeypatch):
    """Any attempt to open a network connection during the test fails it."""
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"outbound connection attempted: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


# --- Catalogue -------------------------------------------------------------------------------------------


def test_catalogue_lists_the_platforms_endpoints(admin_client):
    response = admin_client.get(ENDPOINTS)

    assert response.status_code == 200
    listed = {(item["method"], item["path"]) for item in response.json()["data"]}
    assert {
        ("GET", "/api/v1/auth/me"),
        ("POST", "/api/v1/users"),
        ("GET", "/api/v1/users/{id}"),
        ("GET", "/api/v1/settings/preferences"),
        ("POST", "/auth/token"),
        ("GET", "/healthz"),
    } <= listed


def test_catalogue_costs_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # the caller; nothing per endpoint
        response = admin_client.get(ENDPOINTS)

    assert len(response.json()["data"]) > 40  # read from the URL patterns, not from a table


def test_catalogue_entries_have_the_specs_fields(admin_client):
    entry = next(e for e in admin_client.get(ENDPOINTS).json()["data"] if e["path"] == "/api/v1/auth/me")

    assert entry["id"] == id_of("GET", "/api/v1/auth/me")
    assert entry["label"] == "The signed-in user and their permissions"
    assert entry["description"]
    assert entry["method"] == "GET"
    assert entry["pathParams"] == []


def test_catalogue_names_the_path_parameters(admin_client):
    entry = next(
        e
        for e in admin_client.get(ENDPOINTS).json()["data"]
        if (e["method"], e["path"]) == ("GET", "/api/v1/users/{id}")
    )

    assert entry["pathParams"] == ["id"]


def test_catalogue_labels_operations_without_a_summary():
    endpoint = developer.find(id_of("GET", "/api/v1/users"))

    assert endpoint.label == "Users list"
    assert endpoint.description == "GET /api/v1/users"


def test_catalogue_ids_are_unique():
    ids = [endpoint.id for endpoint in developer.catalogue()]

    assert len(ids) == len(set(ids))


def test_catalogue_ids_are_dev_and_eight_hex_digits():
    assert all(re.fullmatch(r"DEV-[0-9A-F]{8}", endpoint.id) for endpoint in developer.catalogue())


def test_an_endpoints_id_is_stable_across_processes():
    # The id is a function of method and path alone: this value holds on every machine and every restart.
    expected = "DEV-" + hashlib.sha256(b"GET /api/v1/auth/me").hexdigest()[:8].upper()

    assert id_of("GET", "/api/v1/auth/me") == expected


def test_rebuilding_the_catalogue_keeps_every_id():
    before = {(e.method, e.path): e.id for e in developer.catalogue()}
    developer.catalogue.cache_clear()

    after = {(e.method, e.path): e.id for e in developer.catalogue()}

    assert after == before


def test_catalogue_is_sorted_by_path():
    paths = [endpoint.path for endpoint in developer.catalogue()]

    assert paths == sorted(paths)


def test_catalogue_needs_the_developer_permission(viewer_client):
    response = viewer_client.get(ENDPOINTS)

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def test_catalogue_needs_a_signed_in_caller(api_client):
    assert api_client.get(ENDPOINTS).status_code == 401


# --- Invoke ------------------------------------------------------------------------------------------------


def test_invoking_auth_me_returns_the_caller(developer_client, developer_user):
    response = developer_client.post(invoke_url(id_of("GET", "/api/v1/auth/me")), {}, format="json")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == 200
    assert data["body"]["success"] is True
    assert data["body"]["data"]["user"]["email"] == developer_user.email
    assert data["bodyEncoding"] == "json"
    assert data["truncated"] is False


def test_invoke_returns_the_inner_responses_headers(developer_client):
    data = developer_client.post(invoke_url(id_of("GET", "/api/v1/auth/me")), format="json").json()["data"]

    headers = {key.lower(): value for key, value in data["headers"].items()}
    assert headers["content-type"].startswith("application/json")
    assert "x-request-id" in headers


def test_invoke_keeps_the_inner_bodys_keys_as_they_are(developer_client):
    data = developer_client.post(invoke_url(id_of("GET", "/api/v1/auth/me")), format="json").json()["data"]

    # The inner answer is the 001 envelope exactly as a direct call gets it, not renamed a second time.
    assert "roleId" in data["body"]["data"]["user"]


def test_invoking_with_path_parameters_fills_the_template(admin_client, admin_user):
    body = {"pathParams": {"id": str(admin_user.pk)}}

    data = admin_client.post(invoke_url(id_of("GET", "/api/v1/users/{id}")), body, format="json").json()["data"]

    assert data["status"] == 200
    assert data["body"]["data"]["email"] == admin_user.email


def test_invoking_passes_the_query_parameters_as_named(admin_client):
    body = {"query": {"pageSize": 1}}

    data = admin_client.post(invoke_url(id_of("GET", "/api/v1/users")), body, format="json").json()["data"]

    assert data["status"] == 200
    assert data["body"]["meta"]["pageSize"] == 1


def test_invoking_a_post_sends_the_payload(admin_client):
    payload = {"name": "Nina New", "email": "nina@example.com", "roleId": "ROLE-VIEWER", "password": "Str0ng-pass!"}

    data = admin_client.post(invoke_url(id_of("POST", "/api/v1/users")), {"payload": payload}, format="json").json()[
        "data"
    ]

    assert data["status"] == 201
    assert User.objects.filter(email="nina@example.com").exists()


def test_the_callers_permissions_apply_inside(developer_client):
    payload = {"name": "Mallory", "email": "mallory@example.com", "roleId": "ROLE-ADMIN"}

    response = developer_client.post(invoke_url(id_of("POST", "/api/v1/users")), {"payload": payload}, format="json")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == 403
    assert data["body"]["error"]["code"] == "AUTH_003"
    assert not User.objects.filter(email="mallory@example.com").exists()


def test_an_inner_change_is_audited_as_the_caller(admin_client):
    payload = {"name": "Nina New", "email": "nina@example.com", "roleId": "ROLE-VIEWER", "password": "Str0ng-pass!"}

    admin_client.post(invoke_url(id_of("POST", "/api/v1/users")), {"payload": payload}, format="json")

    inner = AuditLog.objects.get(action="user.create")
    assert inner.actor == "admin@example.com"
    assert "Argus developer console" in inner.user_agent


def test_the_invocation_itself_is_audited(developer_client):
    endpoint_id = id_of("GET", "/api/v1/auth/me")

    developer_client.post(invoke_url(endpoint_id), format="json")

    entry = AuditLog.objects.get(action="developer-endpoint.invoke")
    assert (entry.actor, entry.resource_id) == ("dev@example.com", endpoint_id)


def test_invoke_makes_no_network_connection(developer_client, no_outbound_connections):
    data = developer_client.post(invoke_url(id_of("GET", "/api/v1/auth/me")), format="json").json()["data"]

    assert data["status"] == 200
    assert no_outbound_connections == []


def test_an_api_key_caller_invokes_with_its_own_key(api_client):
    from tests.factories import ApiKeyFactory

    key = ApiKeyFactory(scopes=["developer:use", "cameras:read"])
    response = api_client.post(invoke_url(id_of("GET", "/api/v1/users")), {}, format="json", HTTP_X_API_KEY=key.raw)

    assert response.status_code == 200
    assert response.json()["data"]["status"] == 403  # the key holds no users:read


def test_invoking_an_endpoint_of_another_family_works(admin_client):
    data = admin_client.post(invoke_url(id_of("GET", "/healthz")), format="json").json()["data"]

    assert data["status"] == 200
    assert data["body"]["status"]


def test_a_text_answer_comes_back_as_text():
    assert developer._body(b"hello", "text/plain; charset=utf-8", False) == ("hello", "text")


def test_a_binary_answer_comes_back_as_base64():
    assert developer._body(b"\x89PNG", "image/png", False) == ("iVBORw==", "base64")


def test_an_empty_answer_has_no_body():
    assert developer._body(b"", "application/json", False) == (None, "none")


# --- Refusals ------------------------------------------------------------------------------------------------


def test_invoking_an_unknown_id_is_not_found(admin_client):
    response = admin_client.post(invoke_url("DEV-00000000"), format="json")

    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


def test_a_missing_path_parameter_is_refused(admin_client):
    response = admin_client.post(invoke_url(id_of("GET", "/api/v1/users/{id}")), {"pathParams": {}}, format="json")

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert "pathParams.id" in response.json()["error"]["details"]["fields"]


def test_a_path_parameter_the_template_lacks_is_refused(admin_client, admin_user):
    body = {"pathParams": {"id": str(admin_user.pk), "other": "x"}}

    response = admin_client.post(invoke_url(id_of("GET", "/api/v1/users/{id}")), body, format="json")

    assert response.status_code == 400


def test_a_path_parameter_with_a_slash_is_refused(admin_client):
    body = {"pathParams": {"id": "../../admin"}}

    response = admin_client.post(invoke_url(id_of("GET", "/api/v1/users/{id}")), body, format="json")

    assert response.status_code == 400


def test_an_absolute_url_as_a_path_parameter_is_refused(admin_client):
    body = {"pathParams": {"id": "http://example.com/steal"}}

    response = admin_client.post(invoke_url(id_of("GET", "/api/v1/users/{id}")), body, format="json")

    assert response.status_code == 400


def test_a_url_in_the_body_is_refused(admin_client):
    body = {"url": "http://example.com/", "payload": {}}

    response = admin_client.post(invoke_url(id_of("POST", "/api/v1/users")), body, format="json")

    assert response.status_code == 400
    assert "url" in response.json()["error"]["details"]["fields"]


def test_a_path_outside_the_catalogue_in_the_body_is_refused(admin_client):
    response = admin_client.post(invoke_url(id_of("GET", "/api/v1/auth/me")), {"path": "/admin/"}, format="json")

    assert response.status_code == 400


def test_the_service_refuses_absolute_and_protocol_relative_paths():
    for target in ("http://example.com/api/v1/auth/me", "//example.com/api/v1/auth/me", "api/v1/auth/me"):
        with pytest.raises(Exception) as caught:
            developer.ensure_local_path(target)
        assert getattr(caught.value, "kind", None) == "validation", target


def test_the_invoke_endpoint_refuses_to_invoke_itself(admin_client):
    own = id_of("POST", "/api/v1/developer/endpoints/{id}/invoke")
    body = {"pathParams": {"id": id_of("GET", "/api/v1/auth/me")}}

    response = admin_client.post(invoke_url(own), body, format="json")

    assert response.status_code == 400
    assert error_code(response) == "INVOKE_NOT_ALLOWED"


def test_a_payload_for_a_get_is_refused(admin_client):
    response = admin_client.post(invoke_url(id_of("GET", "/api/v1/auth/me")), {"payload": {"a": 1}}, format="json")

    assert response.status_code == 400


def test_credentials_in_the_query_are_refused(admin_client):
    body = {"query": {"api_key": "bec_" + "0" * 32}}

    response = admin_client.post(invoke_url(id_of("GET", "/api/v1/users")), body, format="json")

    assert response.status_code == 400


def test_a_body_that_is_not_an_object_is_refused(admin_client):
    response = admin_client.post(invoke_url(id_of("GET", "/api/v1/auth/me")), [1, 2], format="json")

    assert response.status_code == 400


def test_invoke_needs_the_developer_permission(viewer_client):
    response = viewer_client.post(invoke_url(id_of("GET", "/api/v1/auth/me")), format="json")

    assert response.status_code == 403


def test_invoke_needs_a_signed_in_caller(api_client):
    assert api_client.post(invoke_url(id_of("GET", "/api/v1/auth/me")), format="json").status_code == 401


# --- Dashboard page -----------------------------------------------------------------------------------------


def test_developer_page_lists_the_endpoints(client, admin_user):
    client.force_login(admin_user)

    response = client.get("/accounts/developer/")

    assert response.status_code == 200
    assert id_of("GET", "/api/v1/auth/me").encode() in response.content
    assert b"argus/developer.js" in response.content


def test_developer_page_is_in_the_navigation(client, admin_user):
    client.force_login(admin_user)

    assert b'href="/accounts/developer/"' in client.get("/").content


def test_developer_page_needs_the_developer_permission(client, viewer_user):
    client.force_login(viewer_user)

    assert client.get("/accounts/developer/").status_code == 403


# Serialized rollback, as the suite's other transactional tests: the seeded roles must survive the flush.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_invoke_works_when_served_over_asgi(developer_role):
    from asgiref.sync import sync_to_async
    from django.db import connections
    from django.test import AsyncClient

    from accounts.tokens import issue_tokens

    user = await sync_to_async(UserFactory)(role_id=developer_role.id, email="asgi@example.com")
    pair = await sync_to_async(issue_tokens)(user)
    try:
        response = await AsyncClient().post(
            invoke_url(id_of("GET", "/api/v1/auth/me")),
            {},
            content_type="application/json",
            headers={"Authorization": f"Bearer {pair.access}"},
        )
    finally:
        # The view ran in asgiref's worker thread: close its connection, or the test database cannot be dropped.
        await sync_to_async(connections.close_all)()

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert (data["status"], data["body"]["data"]["user"]["email"]) == (200, "asgi@example.com")
