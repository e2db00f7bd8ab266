"""001 speaks camelCase in an envelope: keys are renamed both ways, free-form documents are left alone,
and lists are paged with ``page``/``pageSize`` and described in ``meta``."""

from __future__ import annotations

import io
import json

import pytest
from rest_framework.response import Response

from config.api.contracts import camel
from config.api.spa import CamelCaseJSONParser, EnvelopeRenderer, Page, snake, transform_keys
from tests.factories import AuditLogFactory, UserFactory

# --- Renaming ------------------------------------------------------------------------------------


def test_camel_renames_snake_case_names():
    assert camel("last_active_at") == "lastActiveAt"
    assert camel("id") == "id"


def test_snake_renames_camel_case_names():
    assert snake("lastActiveAt") == "last_active_at"
    assert snake("pageSize") == "page_size"
    assert snake("id") == "id"


def test_transform_keys_renames_nested_dicts_and_lists():
    value = {"user_id": 1, "role_info": {"role_id": "R"}, "recent_items": [{"item_name": "a"}, {"item_name": "b"}]}
    assert transform_keys(value, camel) == {
        "userId": 1,
        "roleInfo": {"roleId": "R"},
        "recentItems": [{"itemName": "a"}, {"itemName": "b"}],
    }


def test_transform_keys_leaves_values_alone():
    assert transform_keys({"display_name": "first_name last_name"}, camel) == {"displayName": "first_name last_name"}


# Spelled out, not read from FREE_FORM_KEYS, so that dropping one from the set fails here.
FREE_FORM = ["payload", "metadata", "preferences", "context", "headers", "body", "filters", "details"]


@pytest.mark.parametrize("key", FREE_FORM)
def test_transform_keys_leaves_free_form_documents_unrenamed(key):
    document = {"client_key": {"nested_key": [{"deep_key": 1}]}}
    assert transform_keys({key: document}, camel) == {key: document}


def test_transform_keys_still_renames_siblings_of_a_free_form_key():
    out = transform_keys({"event_type": "x", "metadata": {"camera_ref": "C"}}, camel)
    assert out == {"eventType": "x", "metadata": {"camera_ref": "C"}}


def test_transform_keys_keeps_non_string_keys():
    assert transform_keys({1: {"a_b": 2}}, camel) == {1: {"aB": 2}}


# --- Renderer ------------------------------------------------------------------------------------


def _render(data, status: int = 200, *, error: bool = False) -> bytes:
    response = Response(data, status=status)
    if error:
        response.argus_error = True
    return EnvelopeRenderer().render(data, renderer_context={"response": response})


def test_renderer_wraps_data_in_a_success_envelope_with_camel_case_keys():
    body = json.loads(_render({"user_id": 7, "metadata": {"raw_key": 1}}))
    assert body == {"success": True, "data": {"userId": 7, "metadata": {"raw_key": 1}}}


def test_renderer_puts_a_page_meta_beside_the_data():
    meta = {"page": 1, "pageSize": 20, "total": 1, "totalPages": 1}
    body = json.loads(_render(Page([{"created_at": "t"}], meta)))
    assert body == {"success": True, "data": [{"createdAt": "t"}], "meta": meta}


def test_renderer_leaves_an_error_body_unwrapped():
    error = {"success": False, "error": {"code": "X", "message": "m", "details": {"some_field": 1}}, "requestId": "r"}
    body = json.loads(_render(error, 400, error=True))
    assert body == error


def test_renderer_sends_no_body_for_204():
    assert _render(None, 204) == b""


# --- Parser --------------------------------------------------------------------------------------


def test_parser_renames_camel_case_keys_to_snake_case():
    raw = json.dumps({"refreshToken": "t", "newUser": {"roleId": "R"}}).encode()
    parsed = CamelCaseJSONParser().parse(io.BytesIO(raw), "application/json", {})
    assert parsed == {"refresh_token": "t", "new_user": {"role_id": "R"}}


def test_parser_leaves_free_form_documents_unrenamed():
    raw = json.dumps({"eventType": "x", "payload": {"clientKey": {"innerKey": 1}}}).encode()
    parsed = CamelCaseJSONParser().parse(io.BytesIO(raw), "application/json", {})
    assert parsed == {"event_type": "x", "payload": {"clientKey": {"innerKey": 1}}}


# --- On real endpoints -------------------------------------------------------------------------


@pytest.mark.django_db
def test_spa_response_keys_are_camel_case(admin_client, admin_user):
    response = admin_client.get(f"/api/v1/users/{admin_user.pk}")
    assert response.status_code == 200
    data = response.json()["data"]
    assert {"roleId", "lastActive", "createdAt", "updatedAt"} <= set(data)
    assert not any("_" in key for key in data)


@pytest.mark.django_db
def test_spa_response_leaves_a_free_form_context_unrenamed(admin_client):
    AuditLogFactory(actor="x@example.com", action="demo.thing", message="m", context={"old_value": 1})
    response = admin_client.get("/api/v1/audit", {"action": "demo.thing"})
    assert response.status_code == 200
    entry = response.json()["data"][0]
    assert entry["context"] == {"old_value": 1}
    assert "actorRole" in entry and "resourceType" in entry


@pytest.mark.django_db
def test_spa_request_accepts_camel_case_keys(api_client):
    response = api_client.post("/api/v1/auth/refresh", data={"refreshToken": "garbage"}, format="json")
    # Parsed as refresh_token: the token is refused, not reported missing.
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid refresh token"


# --- Pagination ------------------------------------------------------------------------------------


@pytest.fixture
def five_users(admin_user):
    UserFactory.create_batch(4)


@pytest.mark.django_db
def test_list_meta_describes_the_requested_page(admin_client, five_users):
    response = admin_client.get("/api/v1/users", {"page": 2, "pageSize": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"page": 2, "pageSize": 2, "total": 5, "totalPages": 3}
    assert len(body["data"]) == 2


@pytest.mark.django_db
def test_list_pages_do_not_overlap(admin_client, five_users):
    seen = []
    for page in (1, 2, 3):
        seen += [u["id"] for u in admin_client.get("/api/v1/users", {"page": page, "pageSize": 2}).json()["data"]]
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.django_db
def test_list_defaults_to_page_1_of_20(admin_client, five_users):
    body = admin_client.get("/api/v1/users").json()
    assert body["meta"] == {"page": 1, "pageSize": 20, "total": 5, "totalPages": 1}
    assert len(body["data"]) == 5


@pytest.mark.django_db
def test_list_page_past_the_end_is_empty_with_the_true_total(admin_client, five_users):
    body = admin_client.get("/api/v1/users", {"page": 9, "pageSize": 2}).json()
    assert body["data"] == []
    assert body["meta"] == {"page": 9, "pageSize": 2, "total": 5, "totalPages": 3}


@pytest.mark.django_db
def test_list_accepts_the_largest_page_size(admin_client, five_users):
    response = admin_client.get("/api/v1/users", {"pageSize": 200})
    assert response.status_code == 200
    assert response.json()["meta"]["pageSize"] == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("page", "0"),
        ("page", "-1"),
        ("page", "x"),
        ("page", "1.5"),
        ("pageSize", "0"),
        ("pageSize", "-1"),
        ("pageSize", "x"),
        ("pageSize", "201"),
        ("pageSize", "500"),
    ],
)
def test_list_refuses_an_invalid_page_parameter(admin_client, param, value):
    response = admin_client.get("/api/v1/users", {param: value})
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"]["field"] == param
    assert param in body["error"]["message"]
