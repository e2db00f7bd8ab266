"""Service liveness from real checks, GET /api/v1/system/health/services and POST .../restart."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import AuditLog
from config.models import SystemService
from config.system import services as system

SERVICES_URL = "/api/v1/system/health/services"


def restart_url(service_id: str) -> str:
    return f"/api/v1/system/services/{service_id}/restart"


def error_code(response) -> str:
    return response.json()["error"]["code"]


def checked(service_id: str) -> SystemService:
    (row,) = system.check_services(only=[service_id])
    return row


@pytest.fixture
def no_platform_worker(settings):
    """A task queue no worker consumes: what the platform sees when its workers are down.

    Other test sessions' workers may share the broker; they answer pings but never serve this queue.
    """
    settings.CELERY_TASK_DEFAULT_QUEUE = f"argus-test-nobody-{uuid.uuid4().hex}"


@pytest.fixture
def heartbeat_task(db) -> PeriodicTask:
    return PeriodicTask.objects.get(task=system.HEARTBEAT_TASK)


def worker_node() -> str:
    return f"{settings.REDIS_PREFIX}@localhost"  # as the celery_worker_process fixture names it


# --- Checks ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_database_is_running_with_its_server_version():
    row = checked("database")

    assert row.status == "running"
    assert row.version.startswith("PostgreSQL ")
    assert row.uptime
    assert row.last_checked is not None


@pytest.mark.django_db
def test_redis_is_running_with_its_server_version():
    row = checked("redis")

    assert row.status == "running"
    assert row.version.startswith("Redis ")
    assert row.uptime


@pytest.mark.django_db
def test_storage_is_running():
    row = checked("storage")

    assert row.status == "running"
    assert "Answered in" in row.detail


def test_a_components_facts_read_as_words_not_keys():
    from config.health import ComponentHealth

    component = ComponentHealth(True, 3.5, details={"bucket": "filesystem", "accessible": True, "keys_count": 12})

    assert system._component_detail(component) == "Answered in 3.5 ms; bucket filesystem, 12 keys"


@pytest.mark.django_db
def test_web_reports_this_process():
    row = checked("web")

    assert row.status == "running"
    assert f"pid {os.getpid()}" in row.detail
    assert row.version == f"Argus {settings.ARGUS_VERSION}"


@pytest.mark.django_db
def test_worker_is_stopped_when_no_worker_consumes_the_queue(no_platform_worker):
    row = checked("worker")

    assert row.status == "stopped"
    assert settings.CELERY_TASK_DEFAULT_QUEUE in row.detail


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_is_running_with_a_live_worker(celery_worker_process):
    row = checked("worker")

    assert row.status == "running"
    assert worker_node() in row.detail
    assert row.version.startswith("Celery ")
    assert row.uptime


def test_beat_is_stopped_when_the_heartbeat_task_never_ran(heartbeat_task):
    assert heartbeat_task.last_run_at is None

    row = checked("beat")

    assert row.status == "stopped"
    assert "never" in row.detail


def test_beat_is_running_when_the_heartbeat_task_ran_recently(heartbeat_task):
    heartbeat_task.last_run_at = timezone.now() - timedelta(seconds=30)
    heartbeat_task.save(update_fields=["last_run_at"])

    row = checked("beat")

    assert row.status == "running"
    assert heartbeat_task.name in row.detail


def test_beat_is_stopped_when_the_heartbeat_task_is_long_overdue(heartbeat_task):
    heartbeat_task.last_run_at = timezone.now() - timedelta(hours=2)
    heartbeat_task.save(update_fields=["last_run_at"])

    row = checked("beat")

    assert row.status == "stopped"


def test_beat_is_degraded_when_the_heartbeat_schedule_is_disabled(heartbeat_task):
    heartbeat_task.enabled = False
    heartbeat_task.save(update_fields=["enabled"])

    row = checked("beat")

    assert row.status == "degraded"
    assert "disabled" in row.detail


@pytest.mark.django_db
def test_every_check_is_stored(no_platform_worker):
    system.check_services()

    assert set(SystemService.objects.values_list("id", flat=True)) == set(system.SERVICES)
    assert not SystemService.objects.filter(last_checked__isnull=True).exists()


# --- GET /system/health/services ------------------------------------------------------------------


@pytest.mark.django_db
def test_services_endpoint_lists_every_service_with_its_shape(viewer_client, no_platform_worker):
    response = viewer_client.get(SERVICES_URL)

    assert response.status_code == 200
    items = response.json()["data"]
    assert [item["id"] for item in items] == list(system.SERVICES)
    expected = {"id", "name", "status", "version", "uptime", "lastRestart", "lastChecked", "detail"}
    assert all(set(item) == expected for item in items)
    statuses = {item["id"]: item["status"] for item in items}
    assert statuses["database"] == "running"
    assert statuses["redis"] == "running"
    assert statuses["worker"] == "stopped"


@pytest.mark.django_db
def test_services_endpoint_answers_fresh_stored_results_without_rechecking(viewer_client, no_platform_worker):
    system.check_services()
    SystemService.objects.filter(id="database").update(detail="stored result")

    items = viewer_client.get(SERVICES_URL).json()["data"]

    assert {item["id"]: item["detail"] for item in items}["database"] == "stored result"


@pytest.mark.django_db
def test_services_endpoint_rechecks_on_refresh(viewer_client, no_platform_worker):
    system.check_services()
    SystemService.objects.filter(id="database").update(detail="stored result")

    items = viewer_client.get(SERVICES_URL, {"refresh": "1"}).json()["data"]

    assert {item["id"]: item["detail"] for item in items}["database"] != "stored result"


@pytest.mark.django_db
def test_operator_without_system_read_cannot_list_services(operator_client):
    response = operator_client.get(SERVICES_URL)

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


# --- POST /system/services/{id}/restart -----------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_restarting_the_worker_recycles_its_pool(admin_client, celery_worker_process):
    response = admin_client.post(restart_url("worker"))

    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["id"] == "worker"
    assert data["status"] == "restarting"
    assert {"node": worker_node(), "ok": True, "message": "reload started"} in data["workers"]
    assert SystemService.objects.get(id="worker").last_restart is not None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_restarting_the_worker_is_audited(admin_client, admin_user, celery_worker_process):
    admin_client.post(restart_url("worker"))

    entry = AuditLog.objects.get(action="system_service.restart", resource_id="worker")
    assert entry.actor == admin_user.email
    assert entry.severity == "info"
    assert entry.context["outcome"] == "restarted"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_answers_pings_after_its_restart(admin_client, celery_worker_process):
    admin_client.post(restart_url("worker"))

    assert checked("worker").status == "running"


@pytest.mark.django_db
def test_restarting_the_worker_without_a_live_worker_is_refused(admin_client, no_platform_worker):
    response = admin_client.post(restart_url("worker"))

    assert response.status_code == 503
    assert error_code(response) == "WORKER_UNAVAILABLE"


@pytest.mark.django_db
def test_restarting_the_database_is_refused(admin_client):
    response = admin_client.post(restart_url("database"))

    assert response.status_code == 409
    assert error_code(response) == "RESTART_NOT_SUPPORTED"
    assert "external" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_restarting_the_web_process_is_refused(admin_client):
    response = admin_client.post(restart_url("web"))

    assert response.status_code == 409
    assert error_code(response) == "RESTART_NOT_SUPPORTED"
    assert "cannot restart itself" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_a_refused_restart_is_audited_with_its_reason(admin_client):
    admin_client.post(restart_url("redis"))

    entry = AuditLog.objects.get(action="system_service.restart", resource_id="redis")
    assert entry.severity == "warning"
    assert entry.context["outcome"] == "not_supported"
    assert "external" in entry.message


@pytest.mark.django_db
def test_restarting_an_unknown_service_is_not_found(admin_client):
    response = admin_client.post(restart_url("toaster"))

    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


@pytest.mark.django_db
def test_viewer_cannot_restart_a_service(viewer_client):
    response = viewer_client.post(restart_url("worker"))

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"
