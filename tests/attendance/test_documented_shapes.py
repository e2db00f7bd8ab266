"""The export endpoints' answers built as dicts are what the OpenAPI document says."""

from __future__ import annotations

import pytest

from tests.documented import assert_documented

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/attendance/export", "/api/v1/audit/export"])
def test_a_started_export_is_documented(admin_client, path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():  # the job is not run: its acceptance is the answer
        response = admin_client.post(path, {"format": "csv"}, format="json")

    assert_documented(response, path)


def test_a_started_history_export_is_documented(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = admin_client.post("/api/v1/history/person/EMP-1/export", {"format": "csv"}, format="json")

    assert_documented(response, "/api/v1/history/person/{employee_id}/export")


def test_an_export_job_is_documented(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        job_id = admin_client.post("/api/v1/attendance/export", {"format": "csv"}, format="json").json()["data"][
            "jobId"
        ]

    assert_documented(admin_client.get(f"/api/v1/attendance/export/{job_id}"), "/api/v1/attendance/export/{job_id}")
