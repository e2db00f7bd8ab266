"""003 ``/config/exporters``: shapes, secrets encrypted at rest and masked in every answer, validation."""

from __future__ import annotations

import copy

import pytest
from django.db import connection

from integrations.models import Exporter, OutboxMessage
from tests.integrations.conftest import TOKEN, rest_exporter

pytestmark = pytest.mark.django_db

MQTT_PASSWORD = "mqtt-pw-8d1f0c"
HEADER_SECRET = "Bearer hdr-2b7e9a"
SPEC_REST = {
    "name": "Backend REST Exporter",
    "type": "rest",
    "url": "http://127.0.0.1:9/events/ingest",  # never contacted by these tests
    "enabled": True,
    "headers": {"Content-Type": "application/json"},
    "auth": {"type": "bearer", "token": TOKEN},
    "retry_config": {
        "enabled": True,
        "max_attempts": 5,
        "backoff_strategy": "exponential",
        "initial_delay_ms": 1000,
        "max_delay_ms": 60000,
    },
    "metadata": {"description": "Primary backend REST endpoint"},
}
SPEC_MQTT = {
    "name": "MQTT Exporter",
    "type": "mqtt",
    "url": "mqtt://127.0.0.1:1883",
    "enabled": True,
    "config": {"topic": "anpr/events", "qos": 1, "username": "mqtt_user", "password": MQTT_PASSWORD},
    "retry_config": {"enabled": True, "max_attempts": 3, "backoff_strategy": "linear"},
    "metadata": {"description": "MQTT broker integration"},
}
REST_KEYS = {"id", "name", "type", "url", "enabled", "headers", "auth", "retry_config", "metadata", "created_at",
             "updated_at"}  # fmt: skip
MQTT_KEYS = {"id", "name", "type", "url", "enabled", "config", "retry_config", "metadata", "created_at", "updated_at"}


def spec(base: dict, **changes) -> dict:
    body = copy.deepcopy(base)
    body.update(changes)
    return body


def assert_refused(response, *fields: str) -> None:
    """400 in 003's validation shape naming exactly ``fields``, and nothing stored."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == "Validation error"
    assert body["error_code"] == "VALIDATION_ERROR"
    assert body["request_id"]
    assert sorted(error["field"] for error in body["errors"]) == sorted(fields)


def raw_columns(exporter_id: str) -> str:
    """Every stored text of an exporter as the database has it, bypassing the model."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT headers::text, auth::text, config::text, secrets FROM integrations_exporter WHERE id = %s",
            [exporter_id],
        )
        return " ".join(str(value) for value in cursor.fetchone())


def secrets_column(exporter_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM integrations_exporter WHERE id = %s", [exporter_id])
        return cursor.fetchone()[0]


# --- create / shapes ---------------------------------------------------------------------------------


def test_create_rest_exporter_answers_201_in_003_shape(admin_client):
    response = admin_client.post("/config/exporters", SPEC_REST, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == REST_KEYS
    assert body["id"] == "exporter-001"
    assert (body["name"], body["type"], body["url"], body["enabled"]) == (
        "Backend REST Exporter", "rest", "http://127.0.0.1:9/events/ingest", True,
    )  # fmt: skip
    assert body["headers"] == {"Content-Type": "application/json"}
    assert body["retry_config"] == SPEC_REST["retry_config"]
    assert body["metadata"] == {"description": "Primary backend REST endpoint"}
    assert body["created_at"].endswith("Z")


def test_create_mqtt_exporter_answers_201_in_003_shape(admin_client):
    response = admin_client.post("/config/exporters", SPEC_MQTT, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == MQTT_KEYS
    assert body["config"] == {"topic": "anpr/events", "qos": 1, "username": "mqtt_user", "password": "***"}


def test_create_fills_the_missing_retry_delays_with_the_defaults(admin_client):
    body = admin_client.post("/config/exporters", SPEC_MQTT, format="json").json()
    assert body["retry_config"] == {
        "enabled": True,
        "max_attempts": 3,
        "backoff_strategy": "linear",
        "initial_delay_ms": 1000,
        "max_delay_ms": 60000,
    }


def test_create_without_retry_config_takes_002s_policy(admin_client):
    body = {key: value for key, value in SPEC_REST.items() if key != "retry_config"}
    created = admin_client.post("/config/exporters", body, format="json").json()
    assert created["retry_config"]["max_attempts"] == 4
    assert created["retry_config"]["backoff_strategy"] == "exponential"


def test_create_mqtt_without_qos_defaults_to_at_least_once(admin_client):
    body = spec(SPEC_MQTT, config={"topic": "anpr/events"})
    assert admin_client.post("/config/exporters", body, format="json").json()["config"]["qos"] == 1


def test_exporter_ids_count_up_in_003_style(admin_client):
    first = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    second = admin_client.post("/config/exporters", SPEC_MQTT, format="json").json()["id"]
    assert (first, second) == ("exporter-001", "exporter-002")


def test_create_accepts_the_read_only_fields_of_an_answer_and_ignores_them(admin_client):
    body = spec(SPEC_REST, id="exporter-777", created_at="2020-01-01T00:00:00Z")
    created = admin_client.post("/config/exporters", body, format="json").json()
    assert created["id"] == "exporter-001"


# --- secrets -----------------------------------------------------------------------------------------


def test_bearer_token_is_masked_in_the_answer(admin_client):
    response = admin_client.post("/config/exporters", SPEC_REST, format="json")
    assert response.json()["auth"] == {"type": "bearer", "token": "***"}
    assert TOKEN not in response.content.decode()


def test_bearer_token_is_encrypted_at_rest(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    assert TOKEN not in raw_columns(exporter_id)
    assert secrets_column(exporter_id).startswith("enc:v1:")


def test_bearer_token_is_kept_for_deliveries(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    assert Exporter.objects.get(pk=exporter_id).plain("auth") == {"type": "bearer", "token": TOKEN}


def test_mqtt_password_is_encrypted_at_rest(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_MQTT, format="json").json()["id"]
    assert MQTT_PASSWORD not in raw_columns(exporter_id)
    assert Exporter.objects.get(pk=exporter_id).plain("config")["password"] == MQTT_PASSWORD


def test_secret_looking_headers_are_masked_and_others_shown(admin_client):
    headers = {"Authorization": HEADER_SECRET, "X-Session-Token": "s3ss10n", "X-Trace": "abc"}
    response = admin_client.post("/config/exporters", spec(SPEC_REST, headers=headers), format="json")
    assert response.json()["headers"] == {"Authorization": "***", "X-Session-Token": "***", "X-Trace": "abc"}
    assert HEADER_SECRET not in response.content.decode()


def test_secret_headers_are_encrypted_at_rest(admin_client):
    body = spec(SPEC_REST, headers={"Authorization": HEADER_SECRET})
    exporter_id = admin_client.post("/config/exporters", body, format="json").json()["id"]
    assert HEADER_SECRET not in raw_columns(exporter_id)
    assert Exporter.objects.get(pk=exporter_id).plain("headers") == {"Authorization": HEADER_SECRET}


def test_basic_auth_password_is_masked_and_username_shown(admin_client):
    auth = {"type": "basic", "username": "exporter", "password": "b4sic-pw"}
    body = admin_client.post("/config/exporters", spec(SPEC_REST, auth=auth), format="json").json()
    assert body["auth"] == {"type": "basic", "username": "exporter", "password": "***"}


def test_api_key_auth_is_masked_with_its_default_header(admin_client):
    auth = {"type": "api_key", "key": "k3y-value"}
    body = admin_client.post("/config/exporters", spec(SPEC_REST, auth=auth), format="json").json()
    assert body["auth"] == {"type": "api_key", "key": "***", "header_name": "X-API-Key"}


def test_secrets_are_masked_in_the_list(admin_client):
    admin_client.post("/config/exporters", SPEC_REST, format="json")
    admin_client.post("/config/exporters", SPEC_MQTT, format="json")
    content = admin_client.get("/config/exporters").content.decode()
    assert TOKEN not in content
    assert MQTT_PASSWORD not in content


def test_secrets_are_masked_in_the_detail(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    response = admin_client.get(f"/config/exporters/{exporter_id}")
    assert response.json()["auth"]["token"] == "***"
    assert TOKEN not in response.content.decode()


def test_masked_token_written_back_keeps_the_secret(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    body = {"name": "Renamed", "auth": {"type": "bearer", "token": "***"}}
    response = admin_client.put(f"/config/exporters/{exporter_id}", body, format="json")
    assert response.status_code == 200, response.content
    assert Exporter.objects.get(pk=exporter_id).plain("auth")["token"] == TOKEN


def test_masked_mqtt_password_written_back_keeps_the_secret(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_MQTT, format="json").json()["id"]
    config = {"topic": "anpr/other", "qos": 2, "username": "mqtt_user", "password": "***"}
    admin_client.put(f"/config/exporters/{exporter_id}", {"config": config}, format="json")
    exporter = Exporter.objects.get(pk=exporter_id)
    assert exporter.plain("config") == {**config, "password": MQTT_PASSWORD}


def test_masked_header_written_back_keeps_the_secret(admin_client):
    body = spec(SPEC_REST, headers={"Authorization": HEADER_SECRET})
    exporter_id = admin_client.post("/config/exporters", body, format="json").json()["id"]
    headers = {"authorization": "***", "X-Trace": "abc"}  # header names are case-insensitive
    admin_client.put(f"/config/exporters/{exporter_id}", {"headers": headers}, format="json")
    assert Exporter.objects.get(pk=exporter_id).plain("headers") == {"authorization": HEADER_SECRET, "X-Trace": "abc"}


def test_an_exporter_read_and_written_back_whole_keeps_every_secret(admin_client):
    created = admin_client.post("/config/exporters", spec(SPEC_REST, headers={"X-Api-Key": "hk"}), format="json")
    exporter_id = created.json()["id"]
    read = admin_client.get(f"/config/exporters/{exporter_id}").json()
    response = admin_client.put(f"/config/exporters/{exporter_id}", read, format="json")
    assert response.status_code == 200, response.content
    exporter = Exporter.objects.get(pk=exporter_id)
    assert exporter.plain("auth")["token"] == TOKEN
    assert exporter.plain("headers")["X-Api-Key"] == "hk"


def test_a_new_token_replaces_the_stored_one(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    body = {"auth": {"type": "bearer", "token": "rotated-token"}}
    admin_client.put(f"/config/exporters/{exporter_id}", body, format="json")
    assert Exporter.objects.get(pk=exporter_id).plain("auth")["token"] == "rotated-token"


def test_null_auth_removes_the_credentials(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    body = admin_client.put(f"/config/exporters/{exporter_id}", {"auth": None}, format="json").json()
    assert body["auth"] is None
    assert Exporter.objects.get(pk=exporter_id).secrets == ""


# --- update / get / delete / list ------------------------------------------------------------------


def test_update_as_in_the_spec_changes_only_the_named_fields(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    body = {"enabled": False, "retry_config": {"max_attempts": 3}}
    response = admin_client.put(f"/config/exporters/{exporter_id}", body, format="json")
    assert response.status_code == 200, response.content
    updated = response.json()
    assert updated["enabled"] is False
    assert updated["retry_config"] == {**SPEC_REST["retry_config"], "max_attempts": 3}
    assert updated["name"] == SPEC_REST["name"]


def test_patch_updates_like_put(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    response = admin_client.patch(f"/config/exporters/{exporter_id}", {"name": "Patched"}, format="json")
    assert response.json()["name"] == "Patched"


def test_update_to_mqtt_drops_the_rest_credentials(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    body = {"type": "mqtt", "url": "mqtt://127.0.0.1:1883", "config": {"topic": "anpr/events"}}
    updated = admin_client.put(f"/config/exporters/{exporter_id}", body, format="json").json()
    assert set(updated) == MQTT_KEYS
    assert Exporter.objects.get(pk=exporter_id).plain("auth") == {}


def test_get_exporter_answers_its_003_shape(admin_client):
    created = admin_client.post("/config/exporters", SPEC_REST, format="json").json()
    assert admin_client.get(f"/config/exporters/{created['id']}").json() == created


def test_get_unknown_exporter_answers_404(admin_client):
    response = admin_client.get("/config/exporters/exporter-404")
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_NOT_FOUND"


def test_update_unknown_exporter_answers_404(admin_client):
    assert admin_client.put("/config/exporters/exporter-404", {"name": "x"}, format="json").status_code == 404


def test_delete_answers_204_and_removes_the_exporter_with_its_outbox(admin_client):
    exporter = rest_exporter("http://127.0.0.1:9/")
    OutboxMessage.objects.create(exporter=exporter, key="evt-1", payload={})
    response = admin_client.delete(f"/config/exporters/{exporter.pk}")
    assert response.status_code == 204
    assert not Exporter.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_list_answers_items_total_skip_limit(admin_client):
    admin_client.post("/config/exporters", SPEC_REST, format="json")
    admin_client.post("/config/exporters", SPEC_MQTT, format="json")
    body = admin_client.get("/config/exporters").json()
    assert (body["total"], body["skip"], body["limit"]) == (2, 0, 100)
    assert [item["id"] for item in body["items"]] == ["exporter-001", "exporter-002"]
    assert set(body["items"][1]) == MQTT_KEYS


def test_list_filters_by_enabled(admin_client):
    admin_client.post("/config/exporters", SPEC_REST, format="json")
    admin_client.post("/config/exporters", spec(SPEC_MQTT, enabled=False), format="json")
    body = admin_client.get("/config/exporters?enabled=false").json()
    assert [item["id"] for item in body["items"]] == ["exporter-002"]


def test_list_pages_with_skip_and_limit(admin_client):
    for _ in range(3):
        admin_client.post("/config/exporters", SPEC_REST, format="json")
    body = admin_client.get("/config/exporters?skip=1&limit=1").json()
    assert [item["id"] for item in body["items"]] == ["exporter-002"]
    assert body["total"] == 3


def test_list_with_an_enabled_that_is_not_a_boolean_is_refused(admin_client):
    assert_refused(admin_client.get("/config/exporters?enabled=yes"), "enabled")


def test_list_queries_do_not_grow_with_the_exporters(admin_client, django_assert_max_num_queries):
    for _ in range(10):
        rest_exporter("http://127.0.0.1:9/")
    with django_assert_max_num_queries(4):
        assert admin_client.get("/config/exporters").json()["total"] == 10


# --- permissions -----------------------------------------------------------------------------------


def test_anonymous_client_is_refused(api_client):
    response = api_client.get("/config/exporters")
    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTHENTICATION_FAILED"


def test_user_without_anpr_read_cannot_list_exporters(viewer_client):
    assert viewer_client.get("/config/exporters").status_code == 403


def test_user_without_anpr_write_cannot_create_exporters(viewer_client):
    assert viewer_client.post("/config/exporters", SPEC_REST, format="json").status_code == 403
    assert not Exporter.objects.exists()


def test_user_without_anpr_write_cannot_delete_exporters(viewer_client):
    exporter = rest_exporter("http://127.0.0.1:9/")
    assert viewer_client.delete(f"/config/exporters/{exporter.pk}").status_code == 403
    assert Exporter.objects.exists()


# --- validation refusals ---------------------------------------------------------------------------


def test_create_without_name_is_refused(admin_client):
    body = {key: value for key, value in SPEC_REST.items() if key != "name"}
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "name")
    assert not Exporter.objects.exists()


def test_create_with_a_name_too_long_is_refused(admin_client):
    assert_refused(admin_client.post("/config/exporters", spec(SPEC_REST, name="x" * 256), format="json"), "name")


def test_create_with_an_unknown_type_is_refused(admin_client):
    assert_refused(admin_client.post("/config/exporters", spec(SPEC_REST, type="kafka"), format="json"), "type")


def test_rest_exporter_with_an_mqtt_url_is_refused(admin_client):
    body = spec(SPEC_REST, url="mqtt://127.0.0.1:1883")
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "url")
    assert not Exporter.objects.exists()


def test_rest_exporter_with_an_ftp_url_is_refused(admin_client):
    body = spec(SPEC_REST, url="ftp://127.0.0.1/events")
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "url")


def test_url_with_credentials_in_it_is_refused(admin_client):
    body = spec(SPEC_REST, url="http://user:secret@127.0.0.1:9/events")
    response = admin_client.post("/config/exporters", body, format="json")
    assert_refused(response, "url")
    assert "secret" not in response.content.decode()


def test_mqtt_exporter_with_an_http_url_is_refused(admin_client):
    body = spec(SPEC_MQTT, url="http://127.0.0.1:1883")
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "url")


def test_mqtt_exporter_without_a_port_is_refused(admin_client):
    body = spec(SPEC_MQTT, url="mqtt://127.0.0.1")
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "url")


def test_mqtt_exporter_with_a_topic_in_the_url_is_refused(admin_client):
    body = spec(SPEC_MQTT, url="mqtt://127.0.0.1:1883/anpr/events")
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "url")


def test_mqtt_exporter_without_a_topic_is_refused(admin_client):
    body = spec(SPEC_MQTT, config={"qos": 1})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "config.topic")


def test_mqtt_exporter_without_config_is_refused(admin_client):
    body = {key: value for key, value in SPEC_MQTT.items() if key != "config"}
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "config.topic")


def test_mqtt_topic_with_a_multi_level_wildcard_is_refused(admin_client):
    body = spec(SPEC_MQTT, config={"topic": "anpr/#"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "config.topic")


def test_mqtt_topic_with_a_single_level_wildcard_is_refused(admin_client):
    body = spec(SPEC_MQTT, config={"topic": "anpr/+/events"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "config.topic")


def test_mqtt_qos_above_two_is_refused(admin_client):
    body = spec(SPEC_MQTT, config={"topic": "anpr/events", "qos": 3})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "config.qos")


def test_mqtt_config_with_an_unknown_key_is_refused(admin_client):
    body = spec(SPEC_MQTT, config={"topic": "anpr/events", "qso": 1})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "config.qso")


def test_mqtt_password_without_username_is_refused(admin_client):
    body = spec(SPEC_MQTT, config={"topic": "anpr/events", "password": "x"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "config.password")


def test_auth_on_an_mqtt_exporter_is_refused(admin_client):
    body = spec(SPEC_MQTT, auth={"type": "bearer", "token": "t"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "auth")


def test_config_on_a_rest_exporter_is_refused(admin_client):
    body = spec(SPEC_REST, config={"topic": "anpr/events"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "config")


def test_zero_max_attempts_is_refused(admin_client):
    body = spec(SPEC_REST, retry_config={"max_attempts": 0})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "retry_config.max_attempts")


def test_negative_initial_delay_is_refused(admin_client):
    body = spec(SPEC_REST, retry_config={"initial_delay_ms": -5})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "retry_config.initial_delay_ms")


def test_initial_delay_above_the_maximum_is_refused(admin_client):
    body = spec(SPEC_REST, retry_config={"initial_delay_ms": 5000, "max_delay_ms": 1000})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "retry_config.initial_delay_ms")


def test_unknown_backoff_strategy_is_refused(admin_client):
    body = spec(SPEC_REST, retry_config={"backoff_strategy": "random"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "retry_config.backoff_strategy")


def test_unknown_retry_config_key_is_refused(admin_client):
    body = spec(SPEC_REST, retry_config={"max_retries": 3})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "retry_config.max_retries")


def test_unknown_top_level_field_is_refused(admin_client):
    body = spec(SPEC_REST, timeout_ms=500)
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "timeout_ms")


def test_unknown_auth_type_is_refused(admin_client):
    body = spec(SPEC_REST, auth={"type": "oauth2", "token": "t"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "auth.type")


def test_bearer_auth_without_token_is_refused(admin_client):
    body = spec(SPEC_REST, auth={"type": "bearer"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "auth.token")


def test_basic_auth_without_password_is_refused(admin_client):
    body = spec(SPEC_REST, auth={"type": "basic", "username": "u"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "auth.password")


def test_auth_with_a_field_of_another_type_is_refused(admin_client):
    body = spec(SPEC_REST, auth={"type": "bearer", "token": "t", "password": "p"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "auth.password")


def test_the_mask_as_a_new_secret_is_refused(admin_client):
    body = spec(SPEC_REST, auth={"type": "bearer", "token": "***"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "auth.token")


def test_the_mask_for_a_secret_of_another_auth_type_is_refused(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    body = {"auth": {"type": "api_key", "key": "***"}}
    assert_refused(admin_client.put(f"/config/exporters/{exporter_id}", body, format="json"), "auth.key")
    assert Exporter.objects.get(pk=exporter_id).plain("auth")["type"] == "bearer"


def test_invalid_header_name_is_refused(admin_client):
    body = spec(SPEC_REST, headers={"Bad Header": "x"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "headers.Bad Header")


def test_header_the_http_client_sets_is_refused(admin_client):
    body = spec(SPEC_REST, headers={"Content-Length": "10"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "headers.Content-Length")


def test_header_value_with_a_line_break_is_refused(admin_client):
    body = spec(SPEC_REST, headers={"X-Trace": "a\r\nX-Evil: 1"})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "headers.X-Trace")


def test_enabled_that_is_not_a_boolean_is_refused(admin_client):
    assert_refused(admin_client.post("/config/exporters", spec(SPEC_REST, enabled="yes"), format="json"), "enabled")


def test_refused_update_changes_nothing(admin_client):
    exporter_id = admin_client.post("/config/exporters", SPEC_REST, format="json").json()["id"]
    body = {"name": "Changed", "url": "ftp://127.0.0.1/"}
    assert_refused(admin_client.put(f"/config/exporters/{exporter_id}", body, format="json"), "url")
    assert Exporter.objects.get(pk=exporter_id).name == SPEC_REST["name"]


def test_every_problem_is_reported_at_once(admin_client):
    body = spec(SPEC_MQTT, url="mqtt://127.0.0.1", config={"topic": "a/#", "qos": 5})
    assert_refused(admin_client.post("/config/exporters", body, format="json"), "url", "config.topic", "config.qos")


def test_body_that_is_not_json_is_refused(admin_client):
    response = admin_client.post("/config/exporters", {"name": "x"})  # multipart form
    assert response.status_code == 415
