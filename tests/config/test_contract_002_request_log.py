"""002's request logging: one structured line per request with client IP, method, path, status, duration,
user agent, request id and who called; the JSON formatter keeps those ``extra`` fields."""

from __future__ import annotations

import json
import logging

import pytest

from config.logging import JsonFormatter

pytestmark = pytest.mark.django_db


def request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "argus.request"]


def test_each_request_logs_one_line_with_002s_fields(admin_client, admin_user, caplog):
    caplog.set_level(logging.INFO, logger="argus.request")

    response = admin_client.get("/api/v1/cameras", HTTP_USER_AGENT="spa/1.0")

    [record] = request_lines(caplog)
    assert (record.method, record.path, record.status) == ("GET", "/api/v1/cameras", 200)
    assert record.client_ip == "127.0.0.1"
    assert record.user_agent == "spa/1.0"
    assert record.duration_ms >= 0
    assert record.request_id == response["X-Request-ID"]
    assert record.client == str(admin_user)


def test_a_key_and_an_error_are_logged_too(api_client, api_key, caplog):
    caplog.set_level(logging.INFO, logger="argus.request")

    api_client.get("/api/v2/cameras", HTTP_X_API_KEY=api_key.raw)  # a key without cameras:read: 403

    [record] = request_lines(caplog)
    assert record.status == 403
    assert record.client.startswith("apikey:")


def test_an_anonymous_request_names_no_client(api_client, caplog):
    caplog.set_level(logging.INFO, logger="argus.request")

    api_client.get("/health/live")

    [record] = request_lines(caplog)
    assert record.client is None


def test_the_json_formatter_keeps_extra_fields():
    record = logging.LogRecord("argus.request", logging.INFO, __file__, 1, "GET / 200", (), None)
    record.request_id = "req-1"
    record.status = 200
    record.client_ip = "10.0.0.5"

    entry = json.loads(JsonFormatter().format(record))

    assert (entry["status"], entry["client_ip"], entry["request_id"]) == (200, "10.0.0.5", "req-1")
    assert entry["message"] == "GET / 200"
