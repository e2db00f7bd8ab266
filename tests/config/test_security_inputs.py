"""Input the fuzzing run turned into 500s, each answered now with a 400 in the family's format."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def assert_001_error(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False and body["error"]["code"]
    assert response["X-Request-ID"] == body["requestId"]
    return body["error"]


def test_a_form_urlencoded_001_write_is_parsed_not_a_crash(admin_client):
    response = admin_client.generic(
        "POST", "/api/v1/cameras", "name=Gate&streamType=RTSP", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 201, response.content
    assert response.json()["data"]["name"] == "Gate"


def test_a_form_urlencoded_preferences_write_answers_in_the_001_format(admin_client):
    response = admin_client.generic(
        "PUT", "/api/v1/settings/preferences", "theme=%00", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code < 500
    assert response["X-Request-ID"]


def test_a_huge_page_number_is_refused(admin_client):
    error = assert_001_error(admin_client.get("/api/v1/alerts", {"page": "833247631507581440"}))

    assert error["details"]["field"] == "page"


def test_a_page_that_is_no_number_is_refused(admin_client):
    assert_001_error(admin_client.get("/api/v1/cameras", {"page": "abc"}))


def test_an_unreadable_yes_no_filter_is_refused_not_ignored(admin_client):
    error = assert_001_error(admin_client.get("/api/v1/alerts", {"muted": "xyz"}))

    assert error["details"]["field"] == "muted"


@pytest.mark.parametrize("value", ["true", "false", "1", "0"])
def test_readable_yes_no_filters_are_accepted(admin_client, value):
    assert admin_client.get("/api/v1/alerts", {"muted": value}).status_code == 200


def test_a_time_zone_offset_postgresql_refuses_is_a_400(admin_client):
    response = admin_client.get("/api/v1/audit", {"dateFrom": "2025-01-01T00:00:00+16:28"})

    assert_001_error(response)


def test_a_nul_byte_in_a_path_parameter_is_a_400(admin_client):
    assert_001_error(admin_client.get("/api/v1/cameras/CAM%0001"))


def test_a_nul_byte_in_a_json_body_is_a_400(admin_client):
    response = admin_client.post("/api/v1/cameras", {"name": "Ga\x00te", "streamType": "RTSP"}, format="json")

    assert_001_error(response)


def test_multipart_without_a_boundary_answers_in_the_family_format(admin_client):
    response = admin_client.generic("POST", "/api/v1/cameras", b"--x\r\nabc", content_type="multipart/form-data")

    assert assert_001_error(response)["code"] == "VAL_001"


def test_multipart_without_a_boundary_on_004_answers_in_004_format(db):
    from tests.conftest import key_client

    client = key_client("face-service")
    response = client.generic(
        "POST", "/face-service/api/v1/embeddings/generate", b"--x\r\nabc", content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert response.json()["status"] == 400 and response.json()["code"]
    assert response["X-Request-ID"]
