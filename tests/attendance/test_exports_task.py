"""The export task (``attendance.generate_export``): status transitions, progress, failure, the owner's
notification over the real channel layer, a real Celery worker, and the cleanup of expired exports."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections
from django.utils import timezone

from accounts import tokens
from accounts.models import Notification
from attendance import exports
from attendance.choices import ExportFormat, ExportStatus
from attendance.export_tasks import ProgressReporter, generate_export
from attendance.models import ExportJob
from config import retention
from config.asgi import application
from tests.attendance.test_exports_render import stored_csv
from tests.conftest import client_for
from tests.factories import AttendanceLogFactory, CameraFactory, ExportJobFactory, UserFactory

TIMEOUT = 5


@pytest.fixture
def owner(db):
    return UserFactory(role_id="ROLE-ADMIN")


@pytest.fixture
def three_logs(db):
    gate = CameraFactory(id="CAM-EXP-1", name="Export Gate")
    return [AttendanceLogFactory(employee_id=f"EMP-{n}", day=date(2025, 11, 5), camera=gate) for n in (1, 2, 3)]


# --- Transitions -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_queued_job_is_completed_with_its_rows_file_and_url(owner, three_logs):
    job = ExportJobFactory(user=owner)

    result = generate_export(str(job.pk))

    job.refresh_from_db()
    assert result == {"jobId": str(job.pk), "status": "completed", "rowCount": 3}
    assert (job.status, job.progress, job.row_count, job.error_message) == ("completed", 100, 3, "")
    assert job.s3_key == f"exports/attendance/{job.pk}.csv" and default_storage.exists(job.s3_key)
    assert job.download_url.startswith(f"/files/{job.s3_key}?")


@pytest.mark.django_db
def test_a_completed_job_expires_seven_days_after_it_completed(owner, three_logs):
    job = ExportJobFactory(user=owner)

    generate_export(str(job.pk))

    job.refresh_from_db()
    assert job.expires_at - job.completed_at == timedelta(days=7)


@pytest.mark.django_db
def test_a_new_job_expires_even_if_it_never_runs(admin_client):
    admin_client.post("/api/v1/attendance/export", {"format": "csv"}, format="json")

    job = ExportJob.objects.get()
    assert job.expires_at - job.created_at < timedelta(days=7, seconds=5)
    assert job.expires_at - job.created_at > timedelta(days=7, seconds=-5)


@pytest.mark.django_db
def test_a_job_that_is_not_queued_is_left_alone(owner, three_logs):
    job = ExportJobFactory(user=owner, status=ExportStatus.PROCESSING, progress=40)

    result = generate_export(str(job.pk))

    job.refresh_from_db()
    assert result["status"] == "processing"
    assert (job.status, job.progress, job.s3_key) == ("processing", 40, "")


@pytest.mark.django_db
def test_a_completed_job_is_not_rendered_again(owner, three_logs):
    job = ExportJobFactory(user=owner)
    generate_export(str(job.pk))
    job.refresh_from_db()
    default_storage.delete(job.s3_key)

    assert generate_export(str(job.pk))["status"] == "completed"
    assert not default_storage.exists(job.s3_key)


@pytest.mark.django_db
def test_a_missing_job_is_reported_as_missing():
    assert generate_export("00000000-0000-0000-0000-000000000000")["status"] == "missing"


@pytest.mark.django_db
def test_progress_is_written_as_rows_are_rendered(owner):
    job = ExportJobFactory(user=owner, status=ExportStatus.PROCESSING)
    report = ProgressReporter(job)
    seen = []

    for done in (1, 2, 3, 4):
        report(done, 4)
        job.refresh_from_db()
        seen.append(job.progress)

    assert seen == [23, 47, 71, 95]  # rendering fills up to 95; completing sets 100


@pytest.mark.django_db
def test_a_csv_job_updates_progress_per_chunk(owner, three_logs):
    job = ExportJobFactory(user=owner, status=ExportStatus.PROCESSING)
    recorded: list[int] = []
    reporter = ProgressReporter(job)

    def spy(done: int, total: int) -> None:
        reporter(done, total)
        recorded.append(ExportJob.objects.get(pk=job.pk).progress)

    exports.write_export(job, progress=spy, chunk_size=1)

    assert recorded == [31, 63, 95]


# --- Failure -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_job_whose_filters_do_not_hold_fails_with_the_reason(owner):
    job = ExportJobFactory(user=owner, filters={"dateFrom": "not-a-day"})

    result = generate_export(str(job.pk))

    job.refresh_from_db()
    assert result["status"] == job.status == "failed"
    assert job.error_message.startswith("Invalid filters: dateFrom")
    assert (job.s3_key, job.download_url, job.completed_at) == ("", "", None)


@pytest.mark.django_db
def test_a_pdf_that_grew_past_the_row_limit_fails(owner, three_logs, settings):
    settings.EXPORT_PDF_MAX_ROWS = 2
    job = ExportJobFactory(user=owner, format=ExportFormat.PDF)

    generate_export(str(job.pk))

    job.refresh_from_db()
    assert job.status == "failed"
    assert "at most 2 rows" in job.error_message
    assert not default_storage.exists(f"exports/attendance/{job.pk}.pdf")


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_job_without_internals(owner, three_logs):
    job = ExportJobFactory(user=owner, type="payroll")  # a type no export knows

    generate_export(str(job.pk))

    job.refresh_from_db()
    assert (job.status, job.error_message) == ("failed", "The export could not be generated (KeyError).")


@pytest.mark.django_db
def test_a_failure_notifies_the_owner(owner):
    job = ExportJobFactory(user=owner, filters={"dateTo": "soon"})

    generate_export(str(job.pk))

    notification = Notification.objects.get(user=owner)
    assert (notification.title, notification.level) == ("Export failed", "warning")
    assert "dateTo" in notification.message


@pytest.mark.django_db
def test_a_completion_notifies_the_owner_with_the_download_link(owner, three_logs):
    job = ExportJobFactory(user=owner)

    generate_export(str(job.pk))

    job.refresh_from_db()
    notification = Notification.objects.get(user=owner)
    assert (notification.title, notification.level, notification.link) == ("Export ready", "info", job.download_url)
    assert "3 rows" in notification.message


@pytest.mark.django_db
def test_a_job_without_an_owner_notifies_nobody(three_logs):
    generate_export(str(ExportJobFactory().pk))

    assert not Notification.objects.exists()


# --- Over the real channel layer and a real worker -----------------------------------------------------------


@pytest.fixture
async def _close_thread_connections():
    """The task runs in asgiref's worker thread; close that thread's connection so the database can go."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_completion_is_pushed_to_the_owner_over_the_websocket(_close_thread_connections):
    owner = await sync_to_async(UserFactory)(role_id="ROLE-ADMIN")
    await sync_to_async(AttendanceLogFactory)(employee_id="EMP-WS", day=date(2025, 11, 5))
    job = await sync_to_async(ExportJobFactory)(user=owner)
    access = (await sync_to_async(tokens.issue_tokens)(owner)).access
    socket = WebsocketCommunicator(application, f"/ws?token={access}")
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    try:
        assert (await socket.receive_json_from(TIMEOUT))["type"] == "connected"
        await socket.send_json_to({"action": "subscribe", "channel": "notifications"})
        assert (await socket.receive_json_from(TIMEOUT))["type"] == "subscribed"

        await sync_to_async(generate_export)(str(job.pk))

        message = await socket.receive_json_from(TIMEOUT)
    finally:
        await socket.disconnect(timeout=1)
    await sync_to_async(job.refresh_from_db)()
    assert (message["type"], message["channel"]) == ("notification", "notifications")
    assert message["notification"]["title"] == "Export ready"
    assert message["notification"]["link"] == job.download_url
    assert message["notification"]["userId"] == str(owner.pk)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_completes_an_export(celery_worker_process, settings):
    gate = CameraFactory(id="CAM-EXP-1", name="Export Gate")
    logs = [AttendanceLogFactory(employee_id=f"EMP-W{n}", day=date(2025, 11, 5), camera=gate) for n in (1, 2)]
    AttendanceLogFactory(employee_id="EMP-OTHER", day=date(2025, 11, 6), camera=gate)
    client = client_for(UserFactory(role_id="ROLE-ADMIN"))

    job_id = client.post("/api/v1/attendance/export", {"format": "csv", "dateTo": "2025-11-05"}, format="json").json()[
        "data"
    ]["jobId"]
    deadline = time.monotonic() + 60
    while ExportJob.objects.get(pk=job_id).status in ("queued", "processing") and time.monotonic() < deadline:
        time.sleep(0.2)
    job = ExportJob.objects.get(pk=job_id)

    # The worker writes under its own media root (tests/conftest.py); read the file from there.
    worker_media = Path(settings.BASE_DIR) / "var" / "test-media"
    default_storage.location = default_storage.base_location = str(worker_media)
    try:
        assert (job.status, job.row_count) == ("completed", 2)
        data = client.get(f"/api/v1/attendance/export/{job_id}").json()["data"]
        response = client.get(data["downloadUrl"])
        assert response.status_code == 200
        assert [row["id"] for row in stored_csv(job)] == [log.id for log in logs]
    finally:
        if job.s3_key:
            default_storage.delete(job.s3_key)


# --- Cleanup of expired exports (config.retention rule "exports") -------------------------------------------


@pytest.mark.django_db
def test_the_cleanup_deletes_exactly_the_expired_exports_and_their_files():
    now = timezone.now()

    def stored_job(expires_at):
        job = ExportJobFactory(status=ExportStatus.COMPLETED, expires_at=expires_at)
        job.s3_key = default_storage.save(exports.storage_key(job), ContentFile(b"id\n"))
        job.save(update_fields=["s3_key"])
        return job

    expired = stored_job(now - timedelta(seconds=1))
    at_the_boundary = stored_job(now)  # expires this very moment: not yet passed
    current = stored_job(now + timedelta(seconds=1))

    report = retention.run_cleanup(now=now)

    assert report["exports"] == 1
    assert set(ExportJob.objects.values_list("pk", flat=True)) == {at_the_boundary.pk, current.pk}
    assert not default_storage.exists(expired.s3_key)
    assert default_storage.exists(at_the_boundary.s3_key) and default_storage.exists(current.s3_key)


@pytest.mark.django_db
def test_the_cleanup_deletes_expired_jobs_that_never_produced_a_file():
    now = timezone.now()
    ExportJobFactory(status=ExportStatus.FAILED, expires_at=now - timedelta(days=1))

    assert retention.run_cleanup(now=now)["exports"] == 1
    assert not ExportJob.objects.exists()
