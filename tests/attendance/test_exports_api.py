"""Export endpoints: POST /attendance/export, /audit/export, /history/person/{employeeId}/export and the
one status endpoint GET /attendance/export/{jobId} (001 envelope)."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from attendance.choices import ExportFormat, ExportStatus, ExportType
from attendance.export_tasks import generate_export
from attendance.models import ExportJob
from tests.attendance.test_exports_render import pdf_text
from tests.conftest import client_for, role_client
from tests.factories import AttendanceLogFactory, CameraFactory, ExportJobFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/attendance/export"


@pytest.fixture
def exporter_client(db):
    """A user who reads and writes attendance (which includes exporting) and nothing else."""
    return role_client("ROLE-EXPORTER", ["attendance:read", "attendance:write"])


def status_url(job) -> str:
    return f"{EXPORT}/{job.pk if isinstance(job, ExportJob) else job}"


def error_of(response) -> dict:
    body = response.json()
    assert body["success"] is False
    return body["error"]


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


# --- POST /attendance/export -------------------------------------------------------------------------------


def test_export_answers_202_with_a_queued_job(admin_client):
    response = admin_client.post(EXPORT, {"format": "csv"}, format="json")

    assert response.status_code == 202
    job = ExportJob.objects.get()
    assert response.json() == {"success": True, "data": {"jobId": str(job.pk), "status": "queued"}}


def test_export_stores_the_job_with_its_owner_type_format_and_filters(admin_client, admin_user):
    admin_client.post(
        EXPORT,
        {
            "format": "pdf",
            "cameraId": "CAM-01",
            "dateFrom": "2025-11-01",
            "dateTo": "2025-11-30",
            "odooStatus": "failed",
        },
        format="json",
    )

    job = ExportJob.objects.get()
    assert (job.user, job.type, job.format, job.status) == (admin_user, "attendance", "pdf", "queued")
    assert job.filters == {
        "cameraId": "CAM-01",
        "dateFrom": "2025-11-01",
        "dateTo": "2025-11-30",
        "odooStatus": "failed",
    }


def test_export_takes_filters_nested_under_filters_too(admin_client):
    admin_client.post(EXPORT, {"format": "csv", "filters": {"status": "late", "search": "Sophia"}}, format="json")

    assert ExportJob.objects.get().filters == {"status": "late", "search": "Sophia"}


def test_export_queues_the_task_once_the_job_is_committed(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(EXPORT, {"format": "csv"}, format="json")

    assert len(callbacks) == 1


def test_an_unknown_format_is_a_validation_error(admin_client):
    response = admin_client.post(EXPORT, {"format": "xlsx"}, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]["field"]) == ("VALIDATION_ERROR", "format")


def test_a_missing_format_is_a_validation_error(admin_client):
    response = admin_client.post(EXPORT, {"cameraId": "CAM-01"}, format="json")

    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "format"


def test_an_invalid_date_is_a_validation_error(admin_client):
    response = admin_client.post(EXPORT, {"format": "csv", "dateFrom": "last tuesday"}, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]["field"]) == ("VALIDATION_ERROR", "dateFrom")


def test_an_invalid_status_is_a_validation_error(admin_client):
    response = admin_client.post(EXPORT, {"format": "csv", "odooStatus": "lost"}, format="json")

    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "odooStatus"


def test_a_date_range_that_ends_before_it_starts_is_a_validation_error(admin_client):
    response = admin_client.post(
        EXPORT, {"format": "csv", "dateFrom": "2025-11-05", "dateTo": "2025-11-01"}, format="json"
    )

    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "dateTo"


def test_an_unknown_filter_is_a_validation_error(admin_client):
    response = admin_client.post(EXPORT, {"format": "csv", "colour": "blue"}, format="json")

    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "colour"


def test_a_refused_export_stores_no_job(admin_client):
    admin_client.post(EXPORT, {"format": "csv", "dateFrom": "never"}, format="json")

    assert not ExportJob.objects.exists()


def test_a_pdf_longer_than_the_row_limit_is_refused(admin_client, settings):
    settings.EXPORT_PDF_MAX_ROWS = 2
    gate = CameraFactory(id="CAM-EXP-1", name="Export Gate")
    for day in (3, 4, 5):
        AttendanceLogFactory(employee_id="EMP-1", day=date(2025, 11, day), camera=gate)

    response = admin_client.post(EXPORT, {"format": "pdf"}, format="json")

    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "format"
    assert not ExportJob.objects.exists()


def test_a_csv_has_no_row_limit(admin_client, settings):
    settings.EXPORT_PDF_MAX_ROWS = 2
    gate = CameraFactory(id="CAM-EXP-1", name="Export Gate")
    for day in (3, 4, 5):
        AttendanceLogFactory(employee_id="EMP-1", day=date(2025, 11, day), camera=gate)

    assert admin_client.post(EXPORT, {"format": "csv"}, format="json").status_code == 202


def test_export_without_credentials_is_refused(api_client):
    response = api_client.post(EXPORT, {"format": "csv"}, format="json")

    assert response.status_code == 401
    assert error_of(response)["code"] == "AUTH_001"


def test_export_needs_attendance_write(viewer_client, operator_client):
    for client in (viewer_client, operator_client):  # both only read attendance
        response = client.post(EXPORT, {"format": "csv"}, format="json")
        assert response.status_code == 403
        assert error_of(response)["code"] == "AUTH_003"
    assert not ExportJob.objects.exists()


def test_export_is_allowed_with_attendance_write(exporter_client):
    assert exporter_client.post(EXPORT, {"format": "csv"}, format="json").status_code == 202


def test_export_is_recorded_in_the_audit_log(admin_client):
    from accounts.models import AuditLog

    admin_client.post(EXPORT, {"format": "csv"}, format="json")

    assert AuditLog.objects.filter(resource_type="export").exists()


# --- POST /audit/export and /history/person/{employeeId}/export -------------------------------------------


def test_audit_export_takes_the_audit_filters(admin_client):
    response = admin_client.post(
        "/api/v1/audit/export",
        {"format": "csv", "severity": "critical", "from": "2025-11-01T00:00:00Z", "resourceType": "camera"},
        format="json",
    )

    assert response.status_code == 202
    job = ExportJob.objects.get()
    assert (job.type, job.filters) == (
        "audit",
        {"severity": "critical", "date_from": "2025-11-01T00:00:00Z", "resource_type": "camera"},
    )


def test_audit_export_refuses_an_invalid_severity(admin_client):
    response = admin_client.post("/api/v1/audit/export", {"format": "csv", "severity": "loud"}, format="json")

    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "severity"


def test_audit_export_needs_audit_read(exporter_client):
    response = exporter_client.post("/api/v1/audit/export", {"format": "csv"}, format="json")

    assert response.status_code == 403


def test_history_export_takes_the_person_from_the_path(admin_client):
    response = admin_client.post(
        "/api/v1/history/person/EMP-00412/export", {"format": "pdf", "dateFrom": "2025-11-01"}, format="json"
    )

    assert response.status_code == 202
    job = ExportJob.objects.get()
    assert (job.type, job.format, job.filters) == (
        "history",
        "pdf",
        {"employeeId": "EMP-00412", "dateFrom": "2025-11-01"},
    )


def test_history_export_refuses_another_person_in_the_body(admin_client):
    response = admin_client.post(
        "/api/v1/history/person/EMP-1/export", {"format": "csv", "employeeId": "EMP-2"}, format="json"
    )

    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "employeeId"


def test_history_export_needs_attendance_write(viewer_client):
    assert (
        viewer_client.post("/api/v1/history/person/EMP-1/export", {"format": "csv"}, format="json").status_code == 403
    )


# --- GET /attendance/export/{jobId} ------------------------------------------------------------------------


def test_status_of_a_queued_job(admin_client, admin_user):
    job = ExportJobFactory(user=admin_user, filters={"status": "late"})

    response = admin_client.get(status_url(job))

    assert response.status_code == 200
    data = response.json()["data"]
    assert data == {
        "jobId": str(job.pk),
        "id": str(job.pk),
        "type": "attendance",
        "format": "csv",
        "status": "queued",
        "progress": 0,
        "rowCount": 0,
        "downloadUrl": None,
        "errorMessage": None,
        "error": None,
        "createdAt": data["createdAt"],
        "completedAt": None,
        "expiresAt": None,
    }
    assert data["createdAt"].startswith(str(job.created_at.year))


@pytest.mark.parametrize("jobs", [3, 6])
def test_status_costs_the_same_queries_however_many_jobs_there_are(
    exporter_client, operator_user, jobs, django_assert_num_queries
):
    ExportJobFactory.create_batch(jobs, user=operator_user)
    job_id = exporter_client.post(EXPORT, {"format": "csv"}, format="json").json()["data"]["jobId"]
    generate_export(job_id)

    with django_assert_num_queries(2):  # the caller, then its job
        data = exporter_client.get(status_url(job_id)).json()["data"]

    assert data["status"] == "completed" and data["downloadUrl"]


def test_status_of_a_completed_job_links_a_download_of_its_file(exporter_client):
    gate = CameraFactory(id="CAM-EXP-1", name="Export Gate")
    logs = [AttendanceLogFactory(employee_id=f"EMP-{n}", day=date(2025, 11, 5), camera=gate) for n in (1, 2)]
    job_id = exporter_client.post(EXPORT, {"format": "csv"}, format="json").json()["data"]["jobId"]
    generate_export(job_id)

    data = exporter_client.get(status_url(job_id)).json()["data"]

    assert (data["status"], data["progress"], data["rowCount"]) == ("completed", 100, 2)
    assert data["completedAt"] and data["expiresAt"]
    content = download(exporter_client, data["downloadUrl"]).decode("utf-8-sig")
    assert {line.split(",")[0] for line in content.splitlines()[1:]} == {log.id for log in logs}


def test_the_download_needs_no_credentials_but_a_valid_signature(exporter_client, api_client):
    job_id = exporter_client.post(EXPORT, {"format": "csv"}, format="json").json()["data"]["jobId"]
    generate_export(job_id)
    url = exporter_client.get(status_url(job_id)).json()["data"]["downloadUrl"]

    assert api_client.get(url).status_code == 200
    assert api_client.get(url.replace("signature=", "signature=0")).status_code == 403


def test_a_completed_pdf_downloads_as_a_readable_report(admin_client):
    AttendanceLogFactory(
        employee_id="EMP-PDF-1", day=date(2025, 11, 5), camera=CameraFactory(id="CAM-EXP-1", name="Export Gate")
    )
    job_id = admin_client.post(EXPORT, {"format": "pdf"}, format="json").json()["data"]["jobId"]
    generate_export(job_id)

    url = admin_client.get(status_url(job_id)).json()["data"]["downloadUrl"]

    assert "EMP-PDF-1" in pdf_text(download(admin_client, url))


def test_each_status_read_signs_a_fresh_url_that_never_outlives_the_job(admin_client, admin_user):
    job_id = admin_client.post(EXPORT, {"format": "csv"}, format="json").json()["data"]["jobId"]
    generate_export(job_id)
    job = ExportJob.objects.get(pk=job_id)
    job.expires_at = timezone.now() + timedelta(hours=1)
    job.save(update_fields=["expires_at"])

    url = admin_client.get(status_url(job_id)).json()["data"]["downloadUrl"]

    assert url != job.download_url
    assert int(parse_qs(urlsplit(url).query)["expires"][0]) <= job.expires_at.timestamp()


def test_an_expired_job_has_no_download_url(admin_client, admin_user):
    job = ExportJobFactory(
        user=admin_user,
        status=ExportStatus.COMPLETED,
        s3_key="exports/attendance/gone.csv",
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    assert admin_client.get(status_url(job)).json()["data"]["downloadUrl"] is None


def test_a_failed_job_says_why(admin_client, admin_user):
    job = ExportJobFactory(user=admin_user, status=ExportStatus.FAILED, error_message="Invalid filters: dateFrom: bad")

    data = admin_client.get(status_url(job)).json()["data"]

    assert (data["status"], data["errorMessage"], data["downloadUrl"]) == (
        "failed",
        "Invalid filters: dateFrom: bad",
        None,
    )


def test_audit_and_history_jobs_are_read_at_the_same_status_endpoint(admin_client):
    audit_id = admin_client.post("/api/v1/audit/export", {"format": "csv"}, format="json").json()["data"]["jobId"]
    history_id = admin_client.post("/api/v1/history/person/EMP-1/export", {"format": "csv"}, format="json").json()[
        "data"
    ]["jobId"]

    assert admin_client.get(status_url(audit_id)).json()["data"]["type"] == ExportType.AUDIT
    assert admin_client.get(status_url(history_id)).json()["data"]["type"] == ExportType.HISTORY


def test_a_job_of_another_user_is_not_found(viewer_client, operator_user):
    job = ExportJobFactory(user=operator_user)

    response = viewer_client.get(status_url(job))

    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


def test_an_admin_reads_any_users_job(admin_client, operator_user):
    job = ExportJobFactory(user=operator_user)

    assert admin_client.get(status_url(job)).status_code == 200


def test_the_owner_reads_their_job_without_export_permission(operator_user):
    job = ExportJobFactory(user=operator_user, format=ExportFormat.PDF)

    assert client_for(operator_user).get(status_url(job)).status_code == 200


def test_an_unknown_job_is_not_found(admin_client):
    assert admin_client.get(status_url("00000000-0000-0000-0000-000000000000")).status_code == 404


def test_a_malformed_job_id_is_not_found(admin_client):
    response = admin_client.get(status_url("not-a-uuid"))

    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


def test_status_without_credentials_is_refused(api_client, admin_user):
    assert api_client.get(status_url(ExportJobFactory(user=admin_user))).status_code == 401


def test_a_job_without_an_owner_is_only_read_by_admins(admin_client):
    job = ExportJobFactory()
    other = client_for(UserFactory(role_id="ROLE-OPERATOR"))

    assert (admin_client.get(status_url(job)).status_code, other.get(status_url(job)).status_code) == (200, 404)
