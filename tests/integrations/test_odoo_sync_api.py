"""``POST /odoo/sync`` (202, a Celery task), ``GET /odoo/logs``, ``GET /odoo/status`` and the Beat job."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django_celery_beat.models import PeriodicTask

from attendance.models import AttendanceLog
from integrations.models import OdooSyncLog
from integrations.odoo import sync as odoo_sync
from integrations.tasks import scheduled_odoo_sync
from tests.factories import AttendanceLogFactory
from tests.integrations.odoo_peer import OdooPeer, configure

START = datetime(2025, 11, 3, 9, tzinfo=UTC)


@pytest.fixture
def peer():
    odoo = OdooPeer()
    odoo.add_employee("Sophia Martinez", barcode="EMP-00412")
    yield odoo
    odoo.stop()


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sync_answers_202_and_a_worker_sends_the_logs(admin_client, peer, celery_worker_process):
    configure(peer)
    logs = [
        AttendanceLogFactory(
            employee_id="EMP-00412", check_in=START + timedelta(days=n), check_out=START + timedelta(days=n, hours=8)
        )
        for n in range(3)
    ]

    response = admin_client.post("/api/v1/odoo/sync", {}, format="json")

    assert response.status_code == 202
    data = response.json()["data"]
    assert data["status"] == "queued"
    synced = AttendanceLog.objects.filter(pk__in=[log.pk for log in logs], odoo_status="synced")
    assert wait_for(lambda: synced.count() == 3)
    assert len(peer.model_calls("hr.attendance", "create")) == 3
    assert OdooSyncLog.objects.filter(run_id=data["jobId"], result="success").count() == 3


@pytest.mark.django_db
def test_sync_of_given_records_is_queued_with_them(admin_client, peer, django_capture_on_commit_callbacks):
    configure(peer)
    log = AttendanceLogFactory(employee_id="EMP-00412", check_in=START, check_out=START + timedelta(hours=8))

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post("/api/v1/odoo/sync", {"recordIds": [log.pk]}, format="json")

    assert response.status_code == 202
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_sync_refuses_unknown_records(admin_client, peer, django_capture_on_commit_callbacks):
    configure(peer)

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post("/api/v1/odoo/sync", {"recordIds": ["ATT-NOPE"]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "recordIds"
    assert callbacks == []


@pytest.mark.django_db
def test_sync_refuses_retry_failed_with_record_ids(admin_client, peer):
    configure(peer)
    log = AttendanceLogFactory(employee_id="EMP-00412", check_in=START, check_out=None)

    response = admin_client.post("/api/v1/odoo/sync", {"recordIds": [log.pk], "retryFailed": True}, format="json")

    assert response.status_code == 400


@pytest.mark.django_db
def test_sync_needs_a_configuration(admin_client):
    response = admin_client.post("/api/v1/odoo/sync", {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "ODOO_NOT_CONFIGURED"


@pytest.mark.django_db
def test_sync_needs_odoo_write(operator_client, peer):
    configure(peer)

    assert operator_client.post("/api/v1/odoo/sync", {}, format="json").status_code == 403


@pytest.mark.django_db
def test_logs_list_every_attempt_newest_first(admin_client, peer, django_assert_max_num_queries):
    configure(peer)
    AttendanceLogFactory(employee_id="EMP-00412", check_in=START, check_out=START + timedelta(hours=8))
    AttendanceLogFactory(employee_id="EMP-404", check_in=START, check_out=START + timedelta(hours=8))
    odoo_sync.sync_attendance()

    with django_assert_max_num_queries(8):
        response = admin_client.get("/api/v1/odoo/logs")

    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["total"] == 2
    entry = body["data"][0]
    assert set(entry) == {"id", "timestamp", "employeeId", "result", "message", "action", "attendanceLogId",
                          "odooAttendanceId", "runId"}  # fmt: skip
    assert [e["employeeId"] for e in body["data"]] == ["EMP-404", "EMP-00412"]


@pytest.mark.django_db
def test_logs_filter_by_result_and_employee(admin_client, peer):
    configure(peer)
    AttendanceLogFactory(employee_id="EMP-00412", check_in=START, check_out=START + timedelta(hours=8))
    AttendanceLogFactory(employee_id="EMP-404", check_in=START, check_out=START + timedelta(hours=8))
    odoo_sync.sync_attendance()

    failures = admin_client.get("/api/v1/odoo/logs", {"result": "failure"}).json()["data"]
    sophia = admin_client.get("/api/v1/odoo/logs", {"employeeId": "EMP-00412"}).json()["data"]

    assert [(e["employeeId"], e["result"]) for e in failures] == [("EMP-404", "failure")]
    assert [(e["employeeId"], e["result"]) for e in sophia] == [("EMP-00412", "success")]


@pytest.mark.django_db
def test_logs_refuse_an_unknown_result(admin_client):
    response = admin_client.get("/api/v1/odoo/logs", {"result": "maybe"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.django_db
def test_status_reports_the_summary(admin_client, peer):
    configure(peer)
    AttendanceLogFactory(employee_id="EMP-00412", check_in=START, check_out=START + timedelta(hours=8))
    odoo_sync.sync_attendance()

    data = admin_client.get("/api/v1/odoo/status").json()["data"]

    assert (data["status"], data["syncedCount"], data["pendingCount"], data["circuit"]) == (
        "connected",
        1,
        0,
        "closed",
    )


@pytest.mark.django_db
def test_status_needs_odoo_read(viewer_client):
    assert viewer_client.get("/api/v1/odoo/status").status_code == 403


@pytest.mark.django_db
def test_auto_sync_runs_every_30_minutes():
    task = PeriodicTask.objects.get(name="Odoo auto-sync")

    assert task.task == "integrations.scheduled_odoo_sync"
    assert task.crontab.minute == "*/30"


@pytest.mark.django_db
def test_the_scheduled_sync_does_nothing_while_auto_sync_is_off(peer):
    configure(peer, auto_sync=False)

    assert scheduled_odoo_sync() == {"skipped": "auto-sync is off"}
